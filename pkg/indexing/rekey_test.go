package indexing_test

// Re-keying: a list indexed under one HMAC key, reread under a new one
// (`veil backfill -force` after `veil rotate-key -begin`), is found by a
// search under the keyring at every moment, and ends with entries under
// the new key only.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/search"
)

// pauseAfterFirstPut stops the indexer after its first PutEntries call
// until released: a re-key caught with some of its entries written.
type pauseAfterFirstPut struct {
	indexing.Index
	once    sync.Once
	paused  chan struct{}
	release chan struct{}
}

func (p *pauseAfterFirstPut) PutEntries(ctx context.Context, es []indexing.Entry) error {
	if err := p.Index.PutEntries(ctx, es); err != nil {
		return err
	}
	p.once.Do(func() {
		close(p.paused)
		<-p.release
	})
	return nil
}

func newKey(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return []byte(hex.EncodeToString(b))
}

// keyIDs counts the entries of rows by key ID.
func keyIDs(rows []row) map[string]int {
	out := map[string]int{}
	for _, r := range rows {
		out[r.KeyID]++
	}
	return out
}

func TestRekeyAnswersThroughoutAndLeavesOnlyTheNewKey(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	key := "campaigns/rekey/list.csv"
	phones := []string{"4155550110", "4155550111", "4155550112", "4155550113"}
	body := "Name,Phone\n"
	for i, p := range phones {
		body += fmt.Sprintf("Person %d,%s\n", i, p)
	}
	version := e.put(t, key, []byte(body))
	e.sync(t)
	idA, keyB := indexkey.ID(e.secret), newKey(t)
	idB := indexkey.ID(keyB)
	if m := e.wantIndexed(t, key, version); m.KeyID != idA {
		t.Fatalf("manifest KeyID = %q, want %q", m.KeyID, idA)
	}
	if got := keyIDs(e.entries(t, key)); len(got) != 1 || got[idA] != len(phones) {
		t.Fatalf("entries by key ID = %v, want %d under %s", got, len(phones), idA)
	}

	// Rotation begun: B active, A kept. Searches look under both.
	finder := &search.Service{Index: e.store, Objects: e.objects, Secrets: [][]byte{keyB, e.secret}}
	findAll := func(when string) {
		t.Helper()
		for i, p := range phones {
			res, err := finder.Search(ctx, []search.Identifier{{Field: "phone", Kind: identifiers.Phone, Value: p}})
			if err != nil {
				t.Fatalf("%s: search %s: %v", when, p, err)
			}
			if len(res.Records) != 1 || res.Records[0].Fields["Name"] != fmt.Sprintf("Person %d", i) || len(res.Stale) != 0 {
				t.Fatalf("%s: search %s = %+v, stale %+v; want Person %d's row, nothing stale", when, p, res.Records, res.Stale, i)
			}
		}
	}
	findAll("before the re-key")

	idx := &pauseAfterFirstPut{Index: e.store, paused: make(chan struct{}), release: make(chan struct{})}
	svcB := e.service(idx)
	svcB.Secret, svcB.KeyID, svcB.BatchSize = keyB, idB, 1
	done := make(chan error, 1)
	go func() {
		done <- svcB.Apply(ctx, indexing.ObjectChange{Bucket: e.bucket, Key: key, Reconcile: true, Force: true})
	}()
	<-idx.paused
	if got := keyIDs(e.entries(t, key)); got[idB] != 1 || got[idA] != len(phones) {
		t.Fatalf("entries by key ID during the re-key = %v, want 1 under %s and %d under %s", got, idB, len(phones), idA)
	}
	findAll("during the re-key")
	close(idx.release)
	if err := <-done; err != nil {
		t.Fatalf("Apply under the new key: %v", err)
	}

	m := e.wantIndexed(t, key, version)
	if m.KeyID != idB || m.Entries != int64(len(phones)) {
		t.Fatalf("manifest = KeyID %q, %d entries; want %q, %d", m.KeyID, m.Entries, idB, len(phones))
	}
	if got := keyIDs(e.entries(t, key)); len(got) != 1 || got[idB] != len(phones) {
		t.Fatalf("entries by key ID after the re-key = %v, want %d under %s only", got, len(phones), idB)
	}
	findAll("after the re-key")
	// Only the new key finds it now.
	onlyA := &search.Service{Index: e.store, Objects: e.objects, Secret: e.secret}
	if res, err := onlyA.Search(ctx, []search.Identifier{{Field: "phone", Kind: identifiers.Phone, Value: phones[0]}}); err != nil || len(res.Records) != 0 {
		t.Fatalf("search under the old key alone = %+v, %v; want nothing", res.Records, err)
	}
}

// TestForceUnderTheSameKeyStillRereadsFromScratch: a forced reread under
// the key the list is indexed under (a column map change) deletes the
// version's entries first, as before keys had IDs.
func TestForceUnderTheSameKeyStillRereadsFromScratch(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	key := "campaigns/samekey/list.csv"
	version := e.put(t, key, []byte("Name,Phone,Account\nAna,4155550120,AC-1001\n"))
	e.sync(t)
	before := len(e.entries(t, key))
	if err := e.store.PutColumnMap(ctx, "samekey", indexing.ColumnMap{Columns: map[string]string{"Account": "city"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Apply(ctx, indexing.ObjectChange{Bucket: e.bucket, Key: key, Reconcile: true, Force: true}); err != nil {
		t.Fatal(err)
	}
	m := e.wantIndexed(t, key, version)
	rows := e.entries(t, key)
	if int64(len(rows)) != m.Entries || len(rows) >= before {
		t.Fatalf("entries after the reread = %d (manifest %d), before %d; want fewer, as counted", len(rows), m.Entries, before)
	}
	if got := keyIDs(rows); got[indexkey.ID(e.secret)] != len(rows) {
		t.Fatalf("entries by key ID = %v, want all under %s", got, indexkey.ID(e.secret))
	}
}
