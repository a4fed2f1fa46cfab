package indexing_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// pausingIndex stops the indexer in its second PutEntries call until
// released: a replacement caught with some of its entries written.
type pausingIndex struct {
	indexing.Index
	mu      sync.Mutex
	calls   int
	paused  chan struct{}
	release chan struct{}
}

func (p *pausingIndex) PutEntries(ctx context.Context, es []indexing.Entry) error {
	p.mu.Lock()
	p.calls++
	n := p.calls
	p.mu.Unlock()
	if err := p.Index.PutEntries(ctx, es); err != nil {
		return err
	}
	if n == 2 {
		close(p.paused)
		<-p.release
	}
	return nil
}

// TestReplacementInFlightAnswersFromThePreviousVersion: while a new version
// of a list is being indexed, a search finds the consumer in the version
// indexed before, deletes none of its entries, and names the list pending;
// once the new version is indexed, it answers from that one.
func TestReplacementInFlightAnswersFromThePreviousVersion(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	key := "campaigns/inflight/list.csv"
	v1 := e.put(t, key, []byte("Name,Phone\nAna Old,4155550100\nBen,4155550101\n"))
	e.sync(t)
	v2 := e.put(t, key, []byte("Phone,Name,City\n4155550102,Cy,Reno\n4155550103,Di,Rome\n4155550100,Ana New,Oslo\n"))
	c := e.one(t)

	idx := &pausingIndex{Index: e.store, paused: make(chan struct{}), release: make(chan struct{})}
	svc := e.service(idx)
	svc.BatchSize = 1
	done := make(chan error, 1)
	go func() { done <- svc.Apply(ctx, c) }()
	<-idx.paused

	finder := &search.Service{Index: e.store, Objects: e.objects, Secret: e.secret}
	ana := []search.Identifier{{Field: "phone", Kind: identifiers.Phone, Value: "415-555-0100"}}
	res, err := finder.Search(ctx, ana)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 || res.Records[0].VersionID != v1 || res.Records[0].Fields["Name"] != "Ana Old" || len(res.Stale) != 0 {
		t.Fatalf("search during the replacement = %+v, stale %+v; want Ana's row of %s and nothing stale", res.Records, res.Stale, v1)
	}
	if len(res.Coverage.Pending) != 1 || res.Coverage.Pending[0].Key != key {
		t.Fatalf("coverage.pending = %+v, want %s", res.Coverage.Pending, key)
	}
	// The rows of the version being indexed are not answered yet.
	cy, err := finder.Search(ctx, []search.Identifier{{Field: "phone", Kind: identifiers.Phone, Value: "415-555-0102"}})
	if err != nil || len(cy.Records) != 0 || len(cy.Stale) != 0 {
		t.Fatalf("search for a row of the version in flight = %+v, %v; want nothing, nothing stale", cy, err)
	}

	close(idx.release)
	if err := <-done; err != nil {
		t.Fatalf("Apply = %v", err)
	}
	e.wantIndexed(t, key, v2)
	res, err = finder.Search(ctx, ana)
	if err != nil || len(res.Records) != 1 || res.Records[0].VersionID != v2 || res.Records[0].Fields["Name"] != "Ana New" ||
		len(res.Coverage.Pending) != 0 {
		t.Fatalf("search after the replacement = %+v, %v; want Ana's row of %s", res, err, v2)
	}
	if m := e.manifest(t, key); m.Previous != nil {
		t.Fatalf("indexed manifest keeps Previous %+v, want none", m.Previous)
	}
}

// TestFolderMarkersAreIgnored: the zero-byte "campaigns/x/" keys the S3
// console creates reach IndexFunction through the queue like any object;
// they are no list, so they leave no manifest and no dead letter, created
// or removed.
func TestFolderMarkersAreIgnored(t *testing.T) {
	e := newEnv(t, false)
	marker := "campaigns/console-folder/"
	e.put(t, marker, nil)
	e.remove(t, marker)
	e.put(t, "campaigns/console-folder/list.csv", list(80))
	stacktest.WaitIdle(t, e.stack)
	if dead := e.stack.DeadLetters("IndexQueue"); len(dead) != 0 {
		t.Fatalf("dead letters = %q, want none", dead)
	}
	if _, err := e.store.Manifest(context.Background(), e.bucket, marker); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("manifest of the folder marker: %v, want none", err)
	}
	if m := e.manifest(t, "campaigns/console-folder/list.csv"); m.Status != indexing.StatusIndexed {
		t.Fatalf("list beside the marker is %s, want indexed", m.Status)
	}
}

// gatedIndex stops its service at one call until released: after the
// n-th Manifest read (stopAfterManifest) or the n-th PutEntries
// (stopAfterPut), whichever is set.
type gatedIndex struct {
	indexing.Index
	stopAfterManifest, stopAfterPut int
	mu                              sync.Mutex
	manifests, puts                 int
	stopped, release                chan struct{}
}

func newGate(idx indexing.Index, afterManifest, afterPut int) *gatedIndex {
	return &gatedIndex{Index: idx, stopAfterManifest: afterManifest, stopAfterPut: afterPut,
		stopped: make(chan struct{}), release: make(chan struct{})}
}

func (g *gatedIndex) Manifest(ctx context.Context, bucket, key string) (indexing.Manifest, error) {
	m, err := g.Index.Manifest(ctx, bucket, key)
	g.mu.Lock()
	g.manifests++
	n := g.manifests
	g.mu.Unlock()
	if n == g.stopAfterManifest {
		close(g.stopped)
		<-g.release
	}
	return m, err
}

func (g *gatedIndex) PutEntries(ctx context.Context, es []indexing.Entry) error {
	err := g.Index.PutEntries(ctx, es)
	g.mu.Lock()
	g.puts++
	n := g.puts
	g.mu.Unlock()
	if n == g.stopAfterPut {
		close(g.stopped)
		<-g.release
	}
	return err
}

// TestConcurrentChangesKeepEveryEntry: change A (version 1) has checked
// that it still owns the key and is about to delete the key's other
// entries when change B (version 2, a newer upload) claims the key and
// writes its first batch. A must not delete B's entries: once B is
// indexed, the table holds every entry its manifest counts, and a search
// finds row 1's phone.
func TestConcurrentChangesKeepEveryEntry(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	key := "campaigns/race/list.csv"
	e.put(t, key, []byte("Name,Phone\nAna,4155550110\nBen,4155550111\n"))
	a := e.one(t)

	// A stops right after its second manifest read, the ownership check
	// right before it deletes (of the first page of entries).
	gateA := newGate(e.store, 2, 0)
	svcA := e.service(gateA)
	doneA := make(chan error, 1)
	go func() { doneA <- svcA.Apply(ctx, a) }()
	<-gateA.stopped

	v2 := e.put(t, key, []byte("Phone,Name\n4155550120,Cy\n4155550121,Di\n4155550122,Ed\n4155550123,Flo\n4155550124,Gus\n4155550125,Hal\n"))
	b := e.one(t)
	gateB := newGate(e.store, 0, 1)
	svcB := e.service(gateB)
	svcB.BatchSize = 2
	doneB := make(chan error, 1)
	go func() { doneB <- svcB.Apply(ctx, b) }()
	<-gateB.stopped // B claimed the key and wrote its first batch

	close(gateA.release)
	if err := <-doneA; err != nil {
		t.Fatalf("Apply(A) = %v", err)
	}
	close(gateB.release)
	if err := <-doneB; err != nil {
		t.Fatalf("Apply(B) = %v", err)
	}
	m := e.wantIndexed(t, key, v2) // entries in the table = the manifest's count, all of v2
	if m.Entries != 6 {
		t.Fatalf("manifest counts %d entries, want 6", m.Entries)
	}
	finder := &search.Service{Index: e.store, Objects: e.objects, Secret: e.secret}
	res, err := finder.Search(ctx, []search.Identifier{{Field: "phone", Kind: identifiers.Phone, Value: "(415) 555-0120"}})
	if err != nil || len(res.Records) != 1 || res.Records[0].Fields["Name"] != "Cy" {
		t.Fatalf("search for row 1's phone = %+v, %v; want Cy's row", res.Records, err)
	}
}

// secondPageGate stops the service in DeleteEntries before its third page
// of entries, until released: two pages (2,000 entries, of both versions)
// have been decided by then.
type secondPageGate struct {
	indexing.Index
	mu               sync.Mutex
	pages            int
	stopped, release chan struct{}
}

func (g *secondPageGate) DeleteEntries(ctx context.Context, bucket, key string, keep indexing.KeepFunc) (int, error) {
	return g.Index.DeleteEntries(ctx, bucket, key, func(ctx context.Context) (func(string, string) bool, error) {
		g.mu.Lock()
		g.pages++
		n := g.pages
		g.mu.Unlock()
		if n == 3 {
			close(g.stopped)
			<-g.release
		}
		return keep(ctx)
	})
}

// TestOldEntriesGoOnlyOnceTheNewVersionAnswers: when a replacement is
// indexed, the old version's entries are deleted page by page. Midway,
// every consumer of both versions is still found: the new version answers
// as soon as it is whole, before the old one's entries start to go.
func TestOldEntriesGoOnlyOnceTheNewVersionAnswers(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	key := "campaigns/swap/list.csv"
	var v1, v2 strings.Builder
	v1.WriteString("Name,Phone,Email\n")
	v2.WriteString("Email,Name,Phone\n")
	const people = 700 // 1,400 entries a version: more than one page of deletes
	for i := range people {
		fmt.Fprintf(&v1, "P%d,(415) 55%d-%04d,p%d@example.com\n", i, 5+i/10000, i%10000, i)
		fmt.Fprintf(&v2, "p%d@example.com,P%d,(415) 55%d-%04d\n", i, i, 5+i/10000, i%10000)
	}
	e.put(t, key, []byte(v1.String()))
	e.sync(t)
	second := e.put(t, key, []byte(v2.String()))
	c := e.one(t)
	gate := &secondPageGate{Index: e.store, stopped: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- e.service(gate).Apply(ctx, c) }()
	<-gate.stopped

	finder := &search.Service{Index: e.store, Objects: e.objects, Secret: e.secret}
	for i := 0; i < people; i += 10 {
		res, err := finder.Search(ctx, []search.Identifier{{Field: "email", Kind: identifiers.Email, Value: fmt.Sprintf("p%d@example.com", i)}})
		if err != nil || len(res.Records) != 1 || res.Records[0].Fields["Name"] != fmt.Sprintf("P%d", i) {
			close(gate.release)
			<-done
			t.Fatalf("search for P%d while the old entries are deleted = %+v, %v; want their row", i, res.Records, err)
		}
	}
	close(gate.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	e.wantIndexed(t, key, second)
}
