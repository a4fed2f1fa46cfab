package search_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/objectstore"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// countingObjects counts ranged GETs on the way to the real store.
type countingObjects struct {
	*objectstore.Store
	gets atomic.Int64
}

func (c *countingObjects) ReadRange(ctx context.Context, bucket, key, version string, start, end int64) ([]byte, error) {
	c.gets.Add(1)
	return c.Store.ReadRange(ctx, bucket, key, version, start, end)
}

type fixture struct {
	stack   *stack.Stack
	svc     *search.Service
	store   *indexstore.Store
	objects *countingObjects
	s3      *s3.Client
}

// newFixture starts a stack with the sample lists indexed.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	opts := stacktest.Options(t)
	opts.Samples = true
	s := stacktest.Start(t, opts)
	stacktest.WaitIdle(t, s)
	secret, err := indexkey.Load(context.Background(), secretsmanager.NewFromConfig(s.AWS), s.Names["IndexKeySecret"])
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{stack: s, store: indexstore.New(dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"]),
		objects: &countingObjects{Store: objectstore.New(s3.NewFromConfig(s.AWS))}, s3: s3.NewFromConfig(s.AWS)}
	f.svc = &search.Service{Index: f.store, Objects: f.objects, Secret: secret}
	return f
}

func (f *fixture) put(t *testing.T, key, body string) {
	t.Helper()
	if _, err := f.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(f.stack.Names["LeadsBucket"]),
		Key: aws.String(key), Body: bytes.NewReader([]byte(body))}); err != nil {
		t.Fatal(err)
	}
	stacktest.WaitIdle(t, f.stack)
}

type want struct {
	key     string
	row     int64
	matched []string
	field   string // one field to check: header=value
	value   string
}

// TestSearchSamples finds the sample consumers however their identifiers
// were written, across lists of different formats.
func TestSearchSamples(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		ids  []search.Identifier
		want []want
	}{
		{
			name: "phone written another way finds both lists",
			ids:  []search.Identifier{{Field: "phone[0]", Kind: identifiers.Phone, Value: "+1 (212) 555.0147"}},
			want: []want{
				{"campaigns/solar-2026/q1-export.csv", 1, []string{"phone"}, "full_name", "Dana Whitfield"},
				{"campaigns/spring-refi/leads-2026-03.csv", 1, []string{"phone"}, "Mobile No.", "(212) 555-0147"},
			},
		},
		{
			name: "phone and email merge into one record per row",
			ids: []search.Identifier{
				{Field: "phone[0]", Kind: identifiers.Phone, Value: "2125550147"},
				{Field: "email[0]", Kind: identifiers.Email, Value: "  DANA.whitfield@example.COM "},
			},
			want: []want{
				{"campaigns/solar-2026/q1-export.csv", 1, []string{"email", "phone"}, "campaign_notes", "called twice; prefers evenings"},
				{"campaigns/spring-refi/leads-2026-03.csv", 1, []string{"email", "phone"}, "E-mail", "dana.whitfield@example.com"},
			},
		},
		{
			name: "customer ID across a tab-separated list",
			ids:  []search.Identifier{{Field: "customerId[0]", Kind: identifiers.CustomerID, Value: "C-100232"}},
			want: []want{
				{"campaigns/solar-2026/callbacks.tsv", 1, []string{"customerId"}, "Address Line 1", "12 Pine St"},
				{"campaigns/spring-refi/leads-2026-03.csv", 2, []string{"customerId"}, "Last Name", "Okafor"},
			},
		},
		{
			name: "nobody",
			ids:  []search.Identifier{{Field: "email[0]", Kind: identifiers.Email, Value: "nobody@example.com"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.svc.Search(context.Background(), tc.ids)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Records) != len(tc.want) {
				t.Fatalf("found %d records, want %d: %+v", len(res.Records), len(tc.want), res.Records)
			}
			for i, w := range tc.want {
				r := res.Records[i]
				if r.Key != w.key || r.Row != w.row || !reflect.DeepEqual(r.MatchedOn, w.matched) || r.Fields[w.field] != w.value {
					t.Errorf("record %d = %s row %d matched %v %s=%q; want %s row %d matched %v %s=%q",
						i, r.Key, r.Row, r.MatchedOn, w.field, r.Fields[w.field], w.key, w.row, w.matched, w.field, w.value)
				}
				if r.Campaign == "" || r.VersionID == "" || r.Bucket != "veil-leads" {
					t.Errorf("record %d lacks campaign, version or bucket: %+v", i, r)
				}
			}
		})
	}
}

// TestSearchReadsQuotedNewlinesAndCoalesces: a row with a quoted newline is
// read back whole (encoding/csv reads a quoted CRLF as LF),
// and rows close together in one object cost one GET.
func TestSearchReadsQuotedNewlinesAndCoalesces(t *testing.T) {
	f := newFixture(t)
	body := "email,notes\r\n" +
		"zq@example.com,\"line one\r\nline two, with comma\"\r\n" +
		"other@example.com,x\r\n" +
		"zq@example.com,second\r\n"
	f.put(t, "campaigns/multi/list.csv", body)
	before := f.objects.gets.Load()
	res, err := f.svc.Search(context.Background(), []search.Identifier{{Field: "email[0]", Kind: identifiers.Email, Value: "ZQ@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 || res.Records[0].Fields["notes"] != "line one\nline two, with comma" || res.Records[1].Fields["notes"] != "second" {
		t.Fatalf("records = %+v, want rows 1 and 3 with their notes", res.Records)
	}
	if res.Records[0].Campaign != "multi" {
		t.Fatalf("campaign = %q, want multi", res.Records[0].Campaign)
	}
	if gets := f.objects.gets.Load() - before; gets != 1 {
		t.Fatalf("ranged GETs = %d, want 1 for two rows 30 bytes apart", gets)
	}
}

// TestSearchRepairsStaleEntries: an entry pointing at a version that is not
// current is reported once and removed from the index.
func TestSearchRepairsStaleEntries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	key := identifiers.Key(f.svc.Secret, identifiers.Email, "ghost@example.com")
	ghost := indexing.Entry{Key: key, Kind: "email", Bucket: "veil-leads", ObjectKey: "campaigns/spring-refi/leads-2026-03.csv",
		VersionID: "a-version-that-is-gone", Row: 7, Offset: 0, Length: 10}
	if err := f.store.PutEntries(ctx, []indexing.Entry{ghost}); err != nil {
		t.Fatal(err)
	}
	ids := []search.Identifier{{Field: "email[0]", Kind: identifiers.Email, Value: "ghost@example.com"}}
	res, err := f.svc.Search(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 0 || len(res.Stale) != 1 || res.Stale[0].VersionID != ghost.VersionID || res.Stale[0].Row != 7 {
		t.Fatalf("first search = %+v, want no record and one stale entry", res)
	}
	if res, _ = f.svc.Search(ctx, ids); len(res.Stale) != 0 {
		t.Fatalf("second search still reports %d stale entries, want the repair to have removed it", len(res.Stale))
	}
}

// TestSearchAfterReplace: a replaced list answers from its new version only.
func TestSearchAfterReplace(t *testing.T) {
	f := newFixture(t)
	f.put(t, "campaigns/r/list.csv", "phone,name\n2125550123,Old Name\n")
	f.put(t, "campaigns/r/list.csv", "name,phone\nNew Name,212-555-0123\nOther,2125550100\n")
	res, err := f.svc.Search(context.Background(), []search.Identifier{{Field: "phone[0]", Kind: identifiers.Phone, Value: "(212) 555-0123"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 || res.Records[0].Fields["name"] != "New Name" || len(res.Stale) != 0 {
		t.Fatalf("records = %+v stale %+v, want only the new version's row", res.Records, res.Stale)
	}
	// The old version is noncurrent: left out of the answer, named apart
	// (erasure purges it), never to a consumer.
	if len(res.Noncurrent) != 1 || res.Noncurrent[0].Key != "campaigns/r/list.csv" || res.Noncurrent[0].Rows != 1 ||
		res.Noncurrent[0].VersionID == res.Records[0].VersionID {
		t.Fatalf("noncurrent = %+v, want the old version's one row", res.Noncurrent)
	}
	if c := res.ForConsumer(); c.Noncurrent != nil {
		t.Fatalf("a consumer's answer names noncurrent versions %+v", c.Noncurrent)
	}
	// Searched again: the noncurrent entry was not taken for stale and
	// deleted.
	for range 2 {
		res, err = f.svc.Search(context.Background(), []search.Identifier{{Field: "name", Kind: identifiers.Phone, Value: "2125550123"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Noncurrent) != 1 || len(res.Stale) != 0 {
			t.Fatalf("noncurrent %+v stale %+v, want the old version kept", res.Noncurrent, res.Stale)
		}
	}
}

func TestSearchValidation(t *testing.T) {
	svc := &search.Service{Secret: []byte("0123456789abcdef0123456789abcdef")}
	tests := []struct {
		name  string
		ids   []search.Identifier
		field string
	}{
		{"none", nil, "identifiers"},
		{"bad phone", []search.Identifier{{Field: "phone[0]", Kind: identifiers.Phone, Value: "12"}}, "phone[0]"},
		{"empty email", []search.Identifier{{Field: "email[1]", Kind: identifiers.Email, Value: "  "}}, "email[1]"},
		{"not an identifier kind", []search.Identifier{{Field: "x", Kind: identifiers.City, Value: "Queens"}}, "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Search(context.Background(), tc.ids)
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("error = %v, want a ValidationError on %s", err, tc.field)
			}
			if bytes.Contains([]byte(err.Error()), []byte("Queens")) {
				t.Fatalf("error %q repeats the value", err)
			}
		})
	}
}

// TestSearchCoverage: every answer carries the index's coverage, found
// records or none; a list that cannot be indexed is named with its reason.
func TestSearchCoverage(t *testing.T) {
	f := newFixture(t)
	f.put(t, "campaigns/bad/blob.bin", "\x00\x01\x02\x03")
	tests := []struct {
		name    string
		value   string
		records int
	}{
		{"found", "dana.whitfield@example.com", 2},
		{"nobody", "nobody@example.com", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.svc.Search(context.Background(), []search.Identifier{{Field: "email[0]", Kind: identifiers.Email, Value: tc.value}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Records) != tc.records {
				t.Fatalf("found %d records, want %d", len(res.Records), tc.records)
			}
			c := res.Coverage
			if c.Objects != 3 || len(c.Pending) != 0 || len(c.Partial) != 0 || len(c.Unreadable) != 1 {
				t.Fatalf("coverage = %+v, want the 3 samples and one unreadable list", c)
			}
			if u := c.Unreadable[0]; u.Key != "campaigns/bad/blob.bin" || u.Bucket != "veil-leads" || u.VersionID == "" || u.Reason == "" {
				t.Fatalf("unreadable = %+v, want blob.bin with its version and reason", u)
			}
			body, _ := json.Marshal(res)
			if !bytes.Contains(body, []byte(`"pending":[],"partial":[]`)) {
				t.Fatalf("JSON %s, want empty pending and partial as []", body)
			}
		})
	}
}

// rendezvousIndex makes Coverage and the first Lookup each wait until the
// other has started: run one after the other, the search times out.
type rendezvousIndex struct {
	*indexstore.Store
	coverage, lookup chan struct{}
	once             sync.Once
	coverageErr      error
}

func (r *rendezvousIndex) meet(mine, other chan struct{}, name string) error {
	close(mine)
	select {
	case <-other:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s ran alone: coverage and lookups are not concurrent", name)
	}
}

func (r *rendezvousIndex) Coverage(ctx context.Context) (indexing.Coverage, error) {
	if err := r.meet(r.coverage, r.lookup, "coverage"); err != nil {
		return indexing.Coverage{}, err
	}
	if r.coverageErr != nil {
		return indexing.Coverage{}, r.coverageErr
	}
	return r.Store.Coverage(ctx)
}

func (r *rendezvousIndex) Lookup(ctx context.Context, hmacKey string, placeholder bool) ([]indexing.Entry, error) {
	var err error
	r.once.Do(func() { err = r.meet(r.lookup, r.coverage, "lookup") })
	if err != nil {
		return nil, err
	}
	return r.Store.Lookup(ctx, hmacKey, placeholder)
}

// TestSearchReadsCoverageWithLookups: the coverage is read at the same time
// as the identifiers, and a search whose coverage cannot be read fails
// rather than answer without it.
func TestSearchReadsCoverageWithLookups(t *testing.T) {
	f := newFixture(t)
	down := errors.New("dynamodb: throttled")
	tests := []struct {
		name    string
		err     error
		records int
	}{
		{"both read", nil, 2},
		{"coverage fails", down, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix := &rendezvousIndex{Store: f.store, coverage: make(chan struct{}), lookup: make(chan struct{}), coverageErr: tc.err}
			svc := &search.Service{Index: ix, Objects: f.objects, Secret: f.svc.Secret}
			res, err := svc.Search(context.Background(), []search.Identifier{{Field: "phone[0]", Kind: identifiers.Phone, Value: "2125550147"}})
			if !errors.Is(err, tc.err) {
				t.Fatalf("Search error = %v, want %v", err, tc.err)
			}
			if len(res.Records) != tc.records || (tc.err == nil && res.Coverage.Objects != 3) {
				t.Fatalf("result = %d records, coverage %+v; want %d records and, without error, 3 objects", len(res.Records), res.Coverage, tc.records)
			}
		})
	}
}

// TestSearchUnderEveryKey: during a key rotation a row may be indexed under
// the old key, the new one, or both (a re-key in flight). A search under
// the keyring finds it under either, once, matched on its identifier.
func TestSearchUnderEveryKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.put(t, "campaigns/k/list.csv", "phone,name\n2125550161,Both Keys\n2125550162,New Key Only\n")
	norm, err := identifiers.NewNormalizer("")
	if err != nil {
		t.Fatal(err)
	}
	keyA, keyB := f.svc.Secret, []byte("a new key of the index, 32 bytes or more")
	rekey := func(raw string, dropOld bool) {
		t.Helper()
		n, err := norm.Normalize(identifiers.Phone, raw)
		if err != nil {
			t.Fatal(err)
		}
		old, err := f.store.Lookup(ctx, identifiers.Key(keyA, identifiers.Phone, n), false)
		if err != nil || len(old) != 1 {
			t.Fatalf("Lookup under the old key = %+v, %v; want 1 entry", old, err)
		}
		e := old[0]
		e.Key, e.KeyID = identifiers.Key(keyB, identifiers.Phone, n), "b"
		if err := f.store.PutEntries(ctx, []indexing.Entry{e}); err != nil {
			t.Fatal(err)
		}
		if dropOld {
			if err := f.store.DeleteEntry(ctx, old[0]); err != nil {
				t.Fatal(err)
			}
		}
	}
	rekey("2125550161", false)
	rekey("2125550162", true)
	ring := &search.Service{Index: f.store, Objects: f.objects, Secrets: [][]byte{keyB, keyA}}
	tests := []struct {
		name  string
		svc   *search.Service
		phone string
		want  string // the name of the one row found, "" for none
	}{
		{"both keys: one record", ring, "212-555-0161", "Both Keys"},
		{"new key only", ring, "212-555-0162", "New Key Only"},
		{"old key alone misses the re-keyed row", f.svc, "212-555-0162", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.svc.Search(ctx, []search.Identifier{{Field: "phone[0]", Kind: identifiers.Phone, Value: tc.phone}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Records {
				got = append(got, r.Fields["name"])
				if !slices.Equal(r.MatchedOn, []string{"phone"}) || r.PlaceholderOnly {
					t.Fatalf("record = %+v, want matched on phone, not a placeholder", r)
				}
			}
			if want := []string{tc.want}; tc.want == "" && len(got) != 0 || tc.want != "" && !slices.Equal(got, want) || len(res.Stale) != 0 {
				t.Fatalf("records = %q, stale %+v; want %q, nothing stale", got, res.Stale, tc.want)
			}
		})
	}
}
