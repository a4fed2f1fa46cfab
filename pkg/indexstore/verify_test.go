package indexstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/veil"
)

// entriesOf returns n entries of one object version, rows from+1 to
// from+n.
func entriesOf(bucket, key, version string, from, n int) []indexing.Entry {
	out := make([]indexing.Entry, n)
	for i := range out {
		row := int64(from + i + 1)
		out[i] = indexing.Entry{Key: fmt.Sprintf("%064x", row), Kind: "phone", Bucket: bucket, ObjectKey: key, VersionID: version,
			Row: row, Offset: row * 10, Length: 10}
	}
	return out
}

func (p pagedStore) entries(t *testing.T, es []indexing.Entry) {
	t.Helper()
	if err := p.PutEntries(context.Background(), es); err != nil {
		t.Fatal(err)
	}
}

// TestCountEntries counts an object's entries by version across pages of
// two, and none of another object's.
func TestCountEntries(t *testing.T) {
	store := newPagedStore(t)
	ctx := context.Background()
	store.entries(t, entriesOf("veil-leads", "campaigns/a/list.csv", "v2", 0, 7))
	store.entries(t, entriesOf("veil-leads", "campaigns/a/list.csv", "v1", 0, 3))
	store.entries(t, entriesOf("veil-leads", "campaigns/a/list.csv", "", 0, 2)) // an unversioned bucket's
	store.entries(t, entriesOf("veil-leads", "campaigns/a/list.csv.bak", "v2", 0, 5))
	store.entries(t, entriesOf("other-bucket", "campaigns/a/list.csv", "v2", 0, 4))
	tests := []struct {
		bucket, key string
		want        map[string]int64
	}{
		{"veil-leads", "campaigns/a/list.csv", map[string]int64{"v2": 7, "v1": 3, "": 2}},
		{"veil-leads", "campaigns/a/list.csv.bak", map[string]int64{"v2": 5}},
		{"other-bucket", "campaigns/a/list.csv", map[string]int64{"v2": 4}},
		{"veil-leads", "campaigns/a/none.csv", map[string]int64{}},
	}
	for _, tc := range tests {
		got, err := store.CountEntries(ctx, tc.bucket, tc.key)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("CountEntries(%s, %s) = %v, %v; want %v", tc.bucket, tc.key, got, err, tc.want)
		}
	}
}

// TestVerify writes objects in every state, some with the entries their
// manifest counts and some not, and checks what Verify finds under a
// bucket and prefix (across pages of two).
func TestVerify(t *testing.T) {
	store := newPagedStore(t)
	ctx := context.Background()
	const b = "veil-leads"
	withEntries := func(m indexing.Manifest, n int64) indexing.Manifest {
		m.Entries = n
		return m
	}
	withPrevious := func(m indexing.Manifest, version string, n int64) indexing.Manifest {
		m.Previous = &indexing.Readable{VersionID: version, Format: indexing.FormatCSV, HeaderLine: 1, Entries: n}
		return m
	}
	unversioned := withEntries(indexed("campaigns/a/unversioned.csv", "31", 0), 2)
	unversioned.VersionID = ""
	elsewhere := withEntries(indexed("campaigns/a/lost.csv", "40", 0), 3)
	elsewhere.Bucket = "other-bucket"
	for _, w := range []struct {
		m       indexing.Manifest
		entries [][]indexing.Entry
	}{
		{withEntries(indexed("campaigns/a/ok.csv", "10", 0), 3), [][]indexing.Entry{entriesOf(b, "campaigns/a/ok.csv", "v10", 0, 3)}},
		{withEntries(indexed("campaigns/a/lost.csv", "11", 0), 3), [][]indexing.Entry{entriesOf(b, "campaigns/a/lost.csv", "v11", 0, 1)}},
		{withEntries(indexed("campaigns/a/stray.csv", "12", 0), 2), [][]indexing.Entry{
			entriesOf(b, "campaigns/a/stray.csv", "v12", 0, 2), entriesOf(b, "campaigns/a/stray.csv", "v1", 0, 1)}},
		{withEntries(indexed("campaigns/a/partial.csv", "13", 4), 2), [][]indexing.Entry{entriesOf(b, "campaigns/a/partial.csv", "v13", 0, 2)}},
		{pending("campaigns/a/busy.csv", "14"), [][]indexing.Entry{entriesOf(b, "campaigns/a/busy.csv", "v14", 0, 1)}},
		{failed("campaigns/b/bad.bin", "20", "binary"), nil},
		{failed("campaigns/b/left.bin", "21", "binary"), [][]indexing.Entry{entriesOf(b, "campaigns/b/left.bin", "v21", 0, 2)}},
		{withPrevious(failed("campaigns/b/fallback.csv", "22", "empty"), "v5", 2), [][]indexing.Entry{entriesOf(b, "campaigns/b/fallback.csv", "v5", 0, 2)}},
		{withPrevious(failed("campaigns/b/fallbad.csv", "23", "empty"), "v5", 2), [][]indexing.Entry{
			entriesOf(b, "campaigns/b/fallbad.csv", "v5", 0, 2), entriesOf(b, "campaigns/b/fallbad.csv", "v23", 0, 1)}},
		{withPrevious(pending("campaigns/b/reading.csv", "24"), "v5", 2), [][]indexing.Entry{entriesOf(b, "campaigns/b/reading.csv", "v5", 0, 1)}},
		{removed("campaigns/c/gone.csv", "30"), nil},
		{removed("campaigns/c/left.csv", "32"), [][]indexing.Entry{entriesOf(b, "campaigns/c/left.csv", "v3", 0, 1)}},
		{unversioned, [][]indexing.Entry{entriesOf(b, unversioned.Key, "", 0, 2)}},
		{withEntries(indexed("other/a/lost.csv", "33", 0), 3), nil},
		{elsewhere, nil},
	} {
		store.put(t, w.m)
		for _, es := range w.entries {
			store.entries(t, es)
		}
	}
	ok := func(key, status, version string, n int64) indexstore.Finding {
		f := indexstore.Finding{Bucket: b, Key: key, Status: status, Answers: true, Answering: version, Want: n,
			Got: map[string]int64{}, Verdict: indexstore.VerdictOK}
		if n > 0 {
			f.Got[version] = n
		}
		return f
	}
	want := map[string]indexstore.Finding{
		"campaigns/a/ok.csv": ok("campaigns/a/ok.csv", "indexed", "v10", 3),
		"campaigns/a/lost.csv": {Bucket: b, Key: "campaigns/a/lost.csv", Status: "indexed", Answers: true, Answering: "v11", Want: 3,
			Got: map[string]int64{"v11": 1}, Verdict: indexstore.VerdictDiffers},
		"campaigns/a/stray.csv": {Bucket: b, Key: "campaigns/a/stray.csv", Status: "indexed", Answers: true, Answering: "v12", Want: 2,
			Got: map[string]int64{"v12": 2, "v1": 1}, Verdict: indexstore.VerdictDiffers},
		"campaigns/a/partial.csv": ok("campaigns/a/partial.csv", "indexed", "v13", 2),
		"campaigns/a/busy.csv":    {Bucket: b, Key: "campaigns/a/busy.csv", Status: "indexing", Verdict: indexstore.VerdictInProgress},
		"campaigns/b/bad.bin":     {Bucket: b, Key: "campaigns/b/bad.bin", Status: "failed", Got: map[string]int64{}, Verdict: indexstore.VerdictOK},
		"campaigns/b/left.bin": {Bucket: b, Key: "campaigns/b/left.bin", Status: "failed", Got: map[string]int64{"v21": 2},
			Verdict: indexstore.VerdictDiffers},
		"campaigns/b/fallback.csv": ok("campaigns/b/fallback.csv", "failed", "v5", 2),
		"campaigns/b/fallbad.csv": {Bucket: b, Key: "campaigns/b/fallbad.csv", Status: "failed", Answers: true, Answering: "v5", Want: 2,
			Got: map[string]int64{"v5": 2, "v23": 1}, Verdict: indexstore.VerdictDiffers},
		"campaigns/b/reading.csv": {Bucket: b, Key: "campaigns/b/reading.csv", Status: "indexing", Answers: true, Answering: "v5", Want: 2,
			Verdict: indexstore.VerdictInProgress},
		"campaigns/c/gone.csv": {Bucket: b, Key: "campaigns/c/gone.csv", Status: "removed", Got: map[string]int64{}, Verdict: indexstore.VerdictOK},
		"campaigns/c/left.csv": {Bucket: b, Key: "campaigns/c/left.csv", Status: "removed", Got: map[string]int64{"v3": 1},
			Verdict: indexstore.VerdictDiffers},
		"campaigns/a/unversioned.csv": ok("campaigns/a/unversioned.csv", "indexed", "", 2),
		"other/a/lost.csv": {Bucket: b, Key: "other/a/lost.csv", Status: "indexed", Answers: true, Answering: "v33", Want: 3,
			Got: map[string]int64{}, Verdict: indexstore.VerdictDiffers},
	}
	otherLost := indexstore.Finding{Bucket: "other-bucket", Key: "campaigns/a/lost.csv", Status: "indexed", Answers: true, Answering: "v40",
		Want: 3, Got: map[string]int64{}, Verdict: indexstore.VerdictDiffers}
	tests := []struct {
		name, bucket, prefix string
		want                 []string // keys of want, or "other-bucket" for otherLost
	}{
		{"prefix", b, "campaigns/", []string{"campaigns/a/ok.csv", "campaigns/a/lost.csv", "campaigns/a/stray.csv", "campaigns/a/partial.csv",
			"campaigns/a/busy.csv", "campaigns/b/bad.bin", "campaigns/b/left.bin", "campaigns/b/fallback.csv", "campaigns/b/fallbad.csv",
			"campaigns/b/reading.csv", "campaigns/c/gone.csv", "campaigns/c/left.csv", "campaigns/a/unversioned.csv"}},
		{"narrower prefix", b, "campaigns/c/", []string{"campaigns/c/gone.csv", "campaigns/c/left.csv"}},
		{"whole bucket", b, "", []string{"campaigns/a/ok.csv", "campaigns/a/lost.csv", "campaigns/a/stray.csv", "campaigns/a/partial.csv",
			"campaigns/a/busy.csv", "campaigns/b/bad.bin", "campaigns/b/left.bin", "campaigns/b/fallback.csv", "campaigns/b/fallbad.csv",
			"campaigns/b/reading.csv", "campaigns/c/gone.csv", "campaigns/c/left.csv", "campaigns/a/unversioned.csv", "other/a/lost.csv"}},
		{"every bucket", "", "campaigns/a/l", []string{"campaigns/a/lost.csv", "other-bucket"}},
		{"nothing there", b, "archive/", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantBy := map[string]indexstore.Finding{}
			for _, k := range tc.want {
				if k == "other-bucket" {
					wantBy[otherLost.Bucket+"/"+otherLost.Key] = otherLost
				} else {
					wantBy[b+"/"+k] = want[k]
				}
			}
			got := map[string]indexstore.Finding{}
			err := store.Verify(ctx, tc.bucket, tc.prefix, func(f indexstore.Finding) error {
				if _, dup := got[f.Bucket+"/"+f.Key]; dup {
					t.Errorf("Verify found %s/%s twice", f.Bucket, f.Key)
				}
				got[f.Bucket+"/"+f.Key] = f
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for k, w := range wantBy {
				if g, ok := got[k]; !ok || !reflect.DeepEqual(g, w) {
					t.Errorf("finding of %s = %+v, want %+v", k, g, w)
				}
			}
			for k := range got {
				if _, ok := wantBy[k]; !ok {
					t.Errorf("Verify(%q, %q) found %s, want it left out", tc.bucket, tc.prefix, k)
				}
			}
		})
	}

	t.Run("fn stops it", func(t *testing.T) {
		stop := errors.New("enough")
		calls := 0
		err := store.Verify(ctx, b, "", func(indexstore.Finding) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Fatalf("Verify = %v after %d calls, want %v after 1", err, calls, stop)
		}
	})

	t.Run("strays", func(t *testing.T) {
		for key, n := range map[string]int64{"campaigns/a/stray.csv": 1, "campaigns/a/lost.csv": 0, "campaigns/c/left.csv": 1, "campaigns/b/fallbad.csv": 1} {
			if got := want[key].Strays(); got != n {
				t.Errorf("Strays of %s = %d, want %d", key, got, n)
			}
		}
	})

	t.Run("one object", func(t *testing.T) {
		f, err := store.VerifyObject(ctx, b, "campaigns/a/stray.csv")
		if err != nil || !reflect.DeepEqual(f, want["campaigns/a/stray.csv"]) {
			t.Fatalf("VerifyObject(stray.csv) = %+v, %v; want %+v", f, err, want["campaigns/a/stray.csv"])
		}
		if _, err := store.VerifyObject(ctx, b, "campaigns/a/never.csv"); !errors.Is(err, veil.ErrNotFound) {
			t.Fatalf("VerifyObject(never.csv) error = %v, want ErrNotFound", err)
		}
	})
}

// countHookAPI calls after once, when the first count of an object's
// entries has been answered: a change lands between two reads.
type countHookAPI struct {
	*dynamodb.Client
	once  sync.Once
	after func()
}

func (c *countHookAPI) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.Client.Query(ctx, in, optFns...)
	if aws.ToString(in.IndexName) == indexstore.ByObject {
		c.once.Do(c.after)
	}
	return out, err
}

// TestVerifyObjectRereads: entries the first count missed (ByObject lagging,
// or a change applied between the manifest's read and the count) are not
// reported as a difference, because a difference is read twice; and a
// change that claims the object between the reads makes it in progress.
func TestVerifyObjectRereads(t *testing.T) {
	base := newPagedStore(t)
	ctx := context.Background()
	const b = "veil-leads"
	tests := []struct {
		name, key   string
		after       func(key string)
		wantVerdict string
	}{
		{"entries land", "campaigns/a/late.csv", func(key string) { base.entries(t, entriesOf(b, key, "v10", 1, 2)) }, indexstore.VerdictOK},
		{"a change claims it", "campaigns/a/claimed.csv", func(key string) { base.put(t, pending(key, "11")) }, indexstore.VerdictInProgress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := indexed(tc.key, "10", 0)
			m.Entries = 3
			base.put(t, m)
			base.entries(t, entriesOf(b, tc.key, "v10", 0, 1))
			api := &countHookAPI{Client: base.ddb, after: func() { tc.after(tc.key) }}
			f, err := indexstore.New(api, base.table).VerifyObject(ctx, b, tc.key)
			if err != nil || f.Verdict != tc.wantVerdict {
				t.Fatalf("VerifyObject = %+v, %v; want %s", f, err, tc.wantVerdict)
			}
		})
	}
}
