package indexstore_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

// pagingAPI makes every Query and Scan return pages of two items, so that
// a caller reading only the first page is caught with a handful of items.
type pagingAPI struct{ *dynamodb.Client }

func (p pagingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.Limit = aws.Int32(2)
	return p.Client.Query(ctx, in, optFns...)
}

func (p pagingAPI) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	in.Limit = aws.Int32(2)
	return p.Client.Scan(ctx, in, optFns...)
}

type pagedStore struct {
	*indexstore.Store
	ddb   *dynamodb.Client
	table string
}

func newPagedStore(t *testing.T) pagedStore {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options(t))
	ddb := dynamodb.NewFromConfig(s.AWS)
	return pagedStore{Store: indexstore.New(pagingAPI{ddb}, s.Names["IndexTable"]), ddb: ddb, table: s.Names["IndexTable"]}
}

// put writes m as the indexer would: a claim, then a finish unless m is
// the claim itself.
func (p pagedStore) put(t *testing.T, m indexing.Manifest) {
	t.Helper()
	ctx := context.Background()
	claim := m
	claim.Status = indexing.StatusIndexing
	var over string
	if prev, err := p.Manifest(ctx, m.Bucket, m.Key); err == nil {
		over = prev.Sequencer
	}
	if ok, err := p.Claim(ctx, claim, over); err != nil || !ok {
		t.Fatalf("Claim(%s, seq %s) = %v, %v; want true", m.Key, m.Sequencer, ok, err)
	}
	if m.Status == indexing.StatusIndexing {
		return
	}
	if ok, err := p.Finish(ctx, m); err != nil || !ok {
		t.Fatalf("Finish(%s, seq %s) = %v, %v; want true", m.Key, m.Sequencer, ok, err)
	}
}

func indexed(key, seq string, unreadable int64) indexing.Manifest {
	return indexing.Manifest{Bucket: "veil-leads", Key: key, VersionID: "v" + seq, Sequencer: seq, Status: indexing.StatusIndexed,
		Format: indexing.FormatCSV, Encoding: "utf-8", HeaderLine: 1, Rows: 10, Entries: 20, UnreadableRows: unreadable,
		Columns: []indexing.Column{{Header: "Phone", Kind: "phone", By: "header"}}}
}

func failed(key, seq, reason string) indexing.Manifest {
	return indexing.Manifest{Bucket: "veil-leads", Key: key, VersionID: "v" + seq, Sequencer: seq, Status: indexing.StatusFailed, Error: reason}
}

func pending(key, seq string) indexing.Manifest {
	return indexing.Manifest{Bucket: "veil-leads", Key: key, VersionID: "v" + seq, Sequencer: seq, Status: indexing.StatusIndexing}
}

func removed(key, seq string) indexing.Manifest {
	return indexing.Manifest{Bucket: "veil-leads", Key: key, Sequencer: seq, Status: indexing.StatusRemoved}
}

// TestCoverage writes manifests in every state, then moves some between
// states as later changes of the same keys would, and checks what Coverage
// reports after each step.
func TestCoverage(t *testing.T) {
	store := newPagedStore(t)
	long := "campaigns/long/" + strings.Repeat("k", 1024-len("campaigns/long/")) // S3's longest key
	steps := []struct {
		name  string
		write []indexing.Manifest
		want  indexing.Coverage
	}{
		{
			name: "empty index",
			want: indexing.Coverage{Unreadable: []indexing.Unreadable{}, Pending: []indexing.Pending{}, Partial: []indexing.Partial{}},
		},
		{
			name: "every state",
			write: []indexing.Manifest{
				indexed("campaigns/a/one.csv", "10", 0), indexed("campaigns/a/two.csv", "11", 0), indexed(long, "12", 0),
				indexed("campaigns/b/partial.csv", "13", 3),
				failed("campaigns/b/bad.bin", "14", "binary"), failed("campaigns/a/empty.csv", "15", "empty"),
				pending("campaigns/c/busy.csv", "16"),
				indexed("campaigns/d/gone.csv", "17", 0), removed("campaigns/d/gone.csv", "18"),
			},
			want: indexing.Coverage{
				Objects: 4,
				Unreadable: []indexing.Unreadable{
					{Bucket: "veil-leads", Key: "campaigns/a/empty.csv", VersionID: "v15", Reason: "empty"},
					{Bucket: "veil-leads", Key: "campaigns/b/bad.bin", VersionID: "v14", Reason: "binary"},
				},
				Pending: []indexing.Pending{{Bucket: "veil-leads", Key: "campaigns/c/busy.csv"}},
				Partial: []indexing.Partial{{Bucket: "veil-leads", Key: "campaigns/b/partial.csv", UnreadableRows: 3}},
			},
		},
		{
			name: "failed list fixed, pending list indexed, partial list replaced whole, one list removed",
			write: []indexing.Manifest{
				indexed("campaigns/b/bad.bin", "20", 0), indexed("campaigns/c/busy.csv", "16", 0),
				indexed("campaigns/b/partial.csv", "21", 0), removed("campaigns/a/two.csv", "22"),
			},
			want: indexing.Coverage{
				Objects: 5,
				Unreadable: []indexing.Unreadable{
					{Bucket: "veil-leads", Key: "campaigns/a/empty.csv", VersionID: "v15", Reason: "empty"},
				},
				Pending: []indexing.Pending{},
				Partial: []indexing.Partial{},
			},
		},
		{
			name: "an indexed list replaced by one that cannot be read, a removed list back, a new claim",
			write: []indexing.Manifest{
				failed("campaigns/a/one.csv", "30", "no identifier column"), indexed("campaigns/d/gone.csv", "31", 2),
				pending("campaigns/a/empty.csv", "32"),
			},
			want: indexing.Coverage{
				Objects: 5, // one.csv is out, gone.csv back
				Unreadable: []indexing.Unreadable{
					{Bucket: "veil-leads", Key: "campaigns/a/one.csv", VersionID: "v30", Reason: "no identifier column"},
				},
				Pending: []indexing.Pending{{Bucket: "veil-leads", Key: "campaigns/a/empty.csv"}},
				Partial: []indexing.Partial{{Bucket: "veil-leads", Key: "campaigns/d/gone.csv", UnreadableRows: 2}},
			},
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			for _, m := range st.write {
				store.put(t, m)
			}
			// dynalite updates a GSI with the write; on AWS this read could
			// lag (see coverage.go), which no code here relies on.
			got, err := store.Coverage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, st.want) {
				t.Fatalf("Coverage =\n%+v\nwant\n%+v", got, st.want)
			}
		})
	}
}

// TestLists lists every current object's whole manifest, or the failed
// ones only.
func TestLists(t *testing.T) {
	store := newPagedStore(t)
	ctx := context.Background()
	for _, m := range []indexing.Manifest{
		indexed("campaigns/a/one.csv", "10", 0), indexed("campaigns/a/two.csv", "11", 4), failed("campaigns/b/bad.bin", "12", "binary"),
		pending("campaigns/c/busy.csv", "13"), indexed("campaigns/d/gone.csv", "14", 0), removed("campaigns/d/gone.csv", "15"),
		failed("campaigns/e/fixed.csv", "16", "empty"), indexed("campaigns/e/fixed.csv", "17", 0),
	} {
		store.put(t, m)
	}
	tests := []struct {
		onlyFailed bool
		want       []string // key:status
	}{
		{false, []string{"campaigns/a/one.csv:indexed", "campaigns/a/two.csv:indexed", "campaigns/b/bad.bin:failed",
			"campaigns/c/busy.csv:indexing", "campaigns/e/fixed.csv:indexed"}},
		{true, []string{"campaigns/b/bad.bin:failed"}},
	}
	for _, tc := range tests {
		got, err := store.Lists(ctx, tc.onlyFailed)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, m := range got {
			keys = append(keys, m.Key+":"+m.Status)
		}
		if !reflect.DeepEqual(keys, tc.want) {
			t.Fatalf("Lists(onlyFailed %v) = %v, want %v", tc.onlyFailed, keys, tc.want)
		}
		for _, m := range got {
			want, err := store.Manifest(ctx, m.Bucket, m.Key)
			if err != nil || !reflect.DeepEqual(m, want) {
				t.Fatalf("Lists gave %+v, want the whole manifest %+v (%v)", m, want, err)
			}
		}
	}
}

// TestStampCoverage: manifests written before ByCoverage (no coverage
// attribute) are missing from Coverage until stamped, once; removed ones
// stay out.
func TestStampCoverage(t *testing.T) {
	store := newPagedStore(t)
	ctx := context.Background()
	old := func(key, status string, unreadable int64) {
		item, err := attributevalue.MarshalMap(map[string]any{
			"PK": indexstore.ObjectPK("veil-leads", key), "SK": "MANIFEST", "bucket": "veil-leads", "key": key, "versionId": "v1",
			"sequencer": indexing.PadSequencer("1"), "status": status, "rows": 1, "entries": 1, "unreadableRows": unreadable,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(store.table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	old("campaigns/a/one.csv", indexing.StatusIndexed, 0)
	old("campaigns/a/two.csv", indexing.StatusIndexed, 0)
	old("campaigns/a/partial.csv", indexing.StatusIndexed, 5)
	old("campaigns/a/gone.csv", indexing.StatusRemoved, 0)
	store.put(t, indexed("campaigns/a/new.csv", "9", 0))
	if cov, err := store.Coverage(ctx); err != nil || cov.Objects != 1 {
		t.Fatalf("Coverage before stamping = %+v, %v; want only the new manifest", cov, err)
	}
	for i, want := range []int{3, 0} {
		n, err := store.StampCoverage(ctx)
		if err != nil || n != want {
			t.Fatalf("StampCoverage #%d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	cov, err := store.Coverage(ctx)
	if err != nil || cov.Objects != 4 || len(cov.Partial) != 1 || cov.Partial[0].UnreadableRows != 5 {
		t.Fatalf("Coverage after stamping = %+v, %v; want 4 objects, one partial with 5 unreadable rows", cov, err)
	}
}

// TestCoverageCountMaxAge: a store that may reuse its count reuses it, while
// every list that needs naming is still read fresh.
func TestCoverageCountMaxAge(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	ddb := dynamodb.NewFromConfig(s.AWS)
	ctx := context.Background()
	writer := indexstore.New(ddb, s.Names["IndexTable"])
	cached := indexstore.New(ddb, s.Names["IndexTable"])
	cached.CountMaxAge = time.Hour
	put := func(m indexing.Manifest) {
		t.Helper()
		if ok, err := writer.Claim(ctx, m, ""); err != nil || !ok {
			t.Fatalf("Claim(%s) = %v, %v", m.Key, ok, err)
		}
	}
	put(indexed("campaigns/a/one.csv", "10", 0))
	if cov, err := cached.Coverage(ctx); err != nil || cov.Objects != 1 {
		t.Fatalf("Coverage = %+v, %v; want 1 object", cov, err)
	}
	put(indexed("campaigns/a/two.csv", "11", 0))
	put(failed("campaigns/a/bad.bin", "12", "binary"))
	cov, err := cached.Coverage(ctx)
	if err != nil || cov.Objects != 1 || len(cov.Unreadable) != 1 {
		t.Fatalf("Coverage within CountMaxAge = %+v, %v; want the count of before and the failed list now", cov, err)
	}
	if cov, err := writer.Coverage(ctx); err != nil || cov.Objects != 2 {
		t.Fatalf("Coverage without CountMaxAge = %+v, %v; want 2 objects", cov, err)
	}
}

// TestManifests: manifests are read together; an unknown object is left
// out.
func TestManifests(t *testing.T) {
	store := newPagedStore(t)
	ctx := context.Background()
	var objects [][2]string
	for i := range 130 { // more than one BatchGetItem call
		m := indexed(fmt.Sprintf("campaigns/m/%03d.csv", i), fmt.Sprint(100+i), 0)
		if ok, err := store.Claim(ctx, m, ""); err != nil || !ok {
			t.Fatal(err)
		}
		objects = append(objects, [2]string{m.Bucket, m.Key})
	}
	objects = append(objects, [2]string{"veil-leads", "campaigns/m/unknown.csv"})
	got, err := store.Manifests(ctx, objects)
	if err != nil || len(got) != 130 {
		t.Fatalf("Manifests = %d, %v; want 130", len(got), err)
	}
	seen := map[string]bool{}
	for _, m := range got {
		if m.Status != indexing.StatusIndexed || m.Rows != 10 || seen[m.Key] {
			t.Fatalf("manifest %+v, want each indexed list once, whole", m)
		}
		seen[m.Key] = true
	}
}
