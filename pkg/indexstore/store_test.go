package indexstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/veil"
)

func newStore(t *testing.T) *indexstore.Store {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options(t))
	return indexstore.New(dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"])
}

// TestClaimAndFinish: a claim is a compare-and-swap over the manifest it
// was computed from (none, or the one with sequencer over); a finish wins
// only while its claim stands.
func TestClaimAndFinish(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	m := indexing.Manifest{Bucket: "b", Key: "k", VersionID: "1", Status: indexing.StatusIndexing}
	steps := []struct {
		op, seq, over string
		want          bool
	}{
		{"claim", "0A", "", true}, {"claim", "0A", "", false}, {"claim", "0B", "09", false}, {"claim", "0A", "0A", true},
		{"finish", "09", "", false}, {"finish", "0A", "", true}, {"claim", "00B", "0A", true}, {"finish", "0A", "", false},
		{"claim", "FFFF", "0B", true}, {"claim", "1000C", "0B", false},
	}
	for i, st := range steps {
		m.Sequencer = st.seq
		var got bool
		var err error
		if st.op == "claim" {
			got, err = store.Claim(ctx, m, st.over)
		} else {
			got, err = store.Finish(ctx, m)
		}
		if err != nil || got != st.want {
			t.Fatalf("step %d: %s(seq %s over %q) = %v, %v; want %v", i, st.op, st.seq, st.over, got, err, st.want)
		}
	}
	got, err := store.Manifest(ctx, "b", "k")
	if err != nil || got.Sequencer != indexing.PadSequencer("FFFF") {
		t.Fatalf("manifest sequencer = %q, %v; want padded FFFF", got.Sequencer, err)
	}
	if _, err := store.Manifest(ctx, "b", "never-seen"); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("Manifest(never-seen) error = %v, want ErrNotFound", err)
	}
}

// TestEntries writes more entries than one BatchWriteItem takes, finds them
// by identifier, and deletes one object version's entries through the
// ByObject index.
func TestEntries(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	var entries []indexing.Entry
	for v := 1; v <= 2; v++ {
		for row := int64(1); row <= 60; row++ {
			entries = append(entries, indexing.Entry{Key: fmt.Sprintf("%064x", row%7), Kind: "phone", Bucket: "veil-leads",
				ObjectKey: "campaigns/a/list.csv", VersionID: fmt.Sprintf("v%d", v), Row: row, Offset: row * 10, Length: 10})
		}
	}
	entries = append(entries, indexing.Entry{Key: fmt.Sprintf("%064x", 1), Kind: "email", Bucket: "veil-leads",
		ObjectKey: "campaigns/b/other.csv", VersionID: "x", Row: 3, Offset: 30, Length: 12})
	if err := store.PutEntries(ctx, entries); err != nil {
		t.Fatal(err)
	}
	if err := store.PutEntries(ctx, entries[:30]); err != nil { // again: idempotent
		t.Fatal(err)
	}
	hits, err := store.Lookup(ctx, fmt.Sprintf("%064x", 1), false)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2*9 + 1; len(hits) != want { // rows 1, 8, …, 57 in each version, plus other.csv
		t.Fatalf("Lookup = %d hits, want %d", len(hits), want)
	}
	n, err := store.DeleteEntries(ctx, "veil-leads", "campaigns/a/list.csv",
		func(context.Context) (func(string, string) bool, error) {
			return func(v, _ string) bool { return v == "v2" }, nil
		})
	if err != nil || n != 60 {
		t.Fatalf("DeleteEntries = %d, %v; want 60", n, err)
	}
	hits, _ = store.Lookup(ctx, fmt.Sprintf("%064x", 1), false)
	for _, h := range hits {
		if h.VersionID == "v1" {
			t.Fatalf("entry of deleted version left: %+v", h)
		}
	}
	if len(hits) != 10 {
		t.Fatalf("after delete: %d hits, want 10", len(hits))
	}
	if err := store.DeleteEntry(ctx, hits[0]); err != nil {
		t.Fatal(err)
	}
	if hits, _ = store.Lookup(ctx, fmt.Sprintf("%064x", 1), false); len(hits) != 9 {
		t.Fatalf("after DeleteEntry: %d hits, want 9", len(hits))
	}
}

func TestColumnMap(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	got, err := store.ColumnMap(ctx, "none")
	if err != nil || len(got.Columns) != 0 || got.Columns == nil || got.Encoding != "" {
		t.Fatalf("ColumnMap(none) = %+v, %v; want empty", got, err)
	}
	want := indexing.ColumnMap{Columns: map[string]string{"Ref": "account_number", "Line 2": "phone"}, Encoding: "shift_jis"}
	if err := store.PutColumnMap(ctx, "spring", want); err != nil {
		t.Fatal(err)
	}
	got, err = store.ColumnMap(ctx, "spring")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ColumnMap = %+v, %v; want %+v", got, err, want)
	}
	// Replacing the map replaces the encoding too.
	if err := store.PutColumnMap(ctx, "spring", indexing.ColumnMap{Encoding: "windows-1252"}); err != nil {
		t.Fatal(err)
	}
	got, err = store.ColumnMap(ctx, "spring")
	if err != nil || len(got.Columns) != 0 || got.Encoding != "windows-1252" {
		t.Fatalf("ColumnMap after replace = %+v, %v; want only the encoding", got, err)
	}
}

func TestLater(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"0A", "09", true}, {"09", "0A", false}, {"A", "00000A", false}, {"100", "FF", true}, {"0055AED6DCD90281E5", "0055AED6DCD90281E4", true},
	}
	for _, tc := range tests {
		if got := indexing.Later(tc.a, tc.b); got != tc.want {
			t.Errorf("Later(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
