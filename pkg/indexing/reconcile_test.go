package indexing_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/veil-privacy/veil/pkg/indexing"
)

// TestReconcile: a backfill change (Reconcile) catches up with the bucket
// whatever the index recorded, and never outranks a real S3 event.
func TestReconcile(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	key := "campaigns/rec/list.csv"
	reconcile := indexing.ObjectChange{Bucket: e.bucket, Key: key, Reconcile: true, EventName: "Backfill"}

	// Never seen: indexed.
	v1 := e.put(t, key, []byte("phone\n2125550101\n"))
	_ = e.held(t) // the event is lost
	if err := e.svc.Apply(ctx, reconcile); err != nil {
		t.Fatal(err)
	}
	m := e.wantIndexed(t, key, v1)
	if m.Sequencer != indexing.PadSequencer("0") {
		t.Fatalf("sequencer after a first backfill = %q, want the lowest", m.Sequencer)
	}

	// Indexed by a real event, then replaced with its event lost: the
	// backfill moves the index to the current version and keeps the real
	// event's sequencer.
	v2 := e.put(t, key, []byte("phone\n2125550102\n"))
	real := e.one(t)
	if err := e.svc.Apply(ctx, real); err != nil {
		t.Fatal(err)
	}
	v3 := e.put(t, key, []byte("email\nrec@example.com\n"))
	lost := e.one(t)
	if err := e.svc.Apply(ctx, reconcile); err != nil {
		t.Fatal(err)
	}
	m = e.wantIndexed(t, key, v3)
	if m.Sequencer != indexing.PadSequencer(real.Sequencer) {
		t.Fatalf("sequencer after backfill = %q, want the last real event's %q", m.Sequencer, indexing.PadSequencer(real.Sequencer))
	}
	// v2's event was applied before the backfill, so v2 was indexed and
	// is kept as noncurrent; v1 stays noncurrent as well.
	if got, want := versions(e.entries(t, key)), versions([]row{{VersionID: v1}, {VersionID: v2}, {VersionID: v3}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("entry versions = %v, want %v: current %s, noncurrent %s and %s", got, want, v3, v1, v2)
	}
	// The lost event arriving late is still later than the backfill: applied.
	if err := e.svc.Apply(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if m = e.manifest(t, key); m.Sequencer != indexing.PadSequencer(lost.Sequencer) {
		t.Fatalf("late real event not recorded: sequencer %q, want %q", m.Sequencer, indexing.PadSequencer(lost.Sequencer))
	}

	// Already indexed at the current version: nothing is reread unless Force.
	before := e.manifest(t, key).IndexedAt
	if err := e.svc.Apply(ctx, reconcile); err != nil {
		t.Fatal(err)
	}
	if got := e.manifest(t, key); !got.IndexedAt.Equal(before) || got.Status != indexing.StatusIndexed {
		t.Fatalf("a backfill reread an indexed version: %+v", got)
	}
	if err := e.store.PutColumnMap(ctx, "rec", indexing.ColumnMap{Columns: map[string]string{"email": "customer_id"}}); err != nil {
		t.Fatal(err)
	}
	forced := reconcile
	forced.Force = true
	if err := e.svc.Apply(ctx, forced); err != nil {
		t.Fatal(err)
	}
	m = e.wantIndexed(t, key, v3)
	if len(m.Columns) != 1 || m.Columns[0].Kind != "customer_id" {
		t.Fatalf("columns after a forced backfill = %+v, want the column map's customer_id", m.Columns)
	}

	// A list that cannot be indexed fails again at once; removed keys are cleared.
	bad := "campaigns/rec/bad.csv"
	e.put(t, bad, []byte("name\nAna\n"))
	_ = e.held(t)
	rb := indexing.ObjectChange{Bucket: e.bucket, Key: bad, Reconcile: true}
	for i := 0; i < 2; i++ {
		var ie *indexing.InputError
		if err := e.svc.Apply(ctx, rb); !errors.As(err, &ie) {
			t.Fatalf("backfill %d of a list without identifiers = %v, want InputError", i, err)
		}
	}
	e.remove(t, key)
	_ = e.held(t)
	if err := e.svc.Apply(ctx, reconcile); err != nil {
		t.Fatal(err)
	}
	// Removed: the versions under the delete marker are noncurrent, their
	// entries kept and nothing else.
	if m = e.manifest(t, key); m.Status != indexing.StatusRemoved || len(m.Noncurrent) == 0 {
		t.Fatalf("after backfill of a removed key: %s keeping %v, want removed keeping its versions", m.Status, noncurrentIDs(m))
	}
	e.wantKept(t, key, m)
}
