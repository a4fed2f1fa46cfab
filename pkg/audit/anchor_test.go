package audit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

// memBucket keeps every digest written, as versions of their keys.
type memBucket struct {
	mu     sync.Mutex
	stored []audit.StoredDigest
}

func (b *memBucket) PutDigest(_ context.Context, key string, body []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stored = append(b.stored, audit.StoredDigest{Key: key, Body: append([]byte(nil), body...)})
	return nil
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestAnchor: the anchoring writes the chains that moved, each with the
// hash of every event, and chains each digest to the one before by the
// hash of its bytes; a trail rewritten and re-chained passes Check and is
// caught by the anchors, at the first event rewritten.
func TestAnchor(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	ctx := context.Background()
	store := &audit.Store{API: dynamodb.NewFromConfig(s.AWS), Table: s.Names["RequestsTable"]}
	hashes := map[string][]string{}
	for _, id := range []string{"r-1", "r-2"} {
		for _, action := range []string{"received", "verified", "decided"} {
			e, err := store.Append(ctx, audit.Event{RequestID: id, Actor: "system", Action: action})
			if err != nil {
				t.Fatal(err)
			}
			hashes[id] = append(hashes[id], e.Hash)
		}
	}
	bucket := &memBucket{}
	anchorer := &audit.Anchorer{Store: store, Bucket: bucket}
	d1, err := anchorer.AnchorMoved(ctx)
	if err != nil {
		t.Fatalf("AnchorMoved error = %v", err)
	}
	var got []string
	for _, c := range d1.Chains {
		got = append(got, c.RequestID)
		if c.Seq != 3 || c.Hash != hashes[c.RequestID][2] || strings.Join(c.Events, ",") != strings.Join(hashes[c.RequestID], ",") {
			t.Fatalf("anchor of %s = %+v, want seq 3 and the hashes %v", c.RequestID, c, hashes[c.RequestID])
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "r-1,r-2" || d1.Seq != 1 || d1.Previous != "" {
		t.Fatalf("first digest = seq %d previous %q chains %v, want seq 1, no previous, r-1 and r-2", d1.Seq, d1.Previous, got)
	}
	if _, err := store.Append(ctx, audit.Event{RequestID: "r-1", Actor: "system", Action: "closed"}); err != nil {
		t.Fatal(err)
	}
	d2, err := anchorer.Anchor(ctx, d1.PeriodEnd, []string{"r-1"})
	if err != nil {
		t.Fatalf("Anchor error = %v", err)
	}
	if d2.Seq != 2 || d2.Previous != sha(bucket.stored[0].Body) || d2.PreviousKey != bucket.stored[0].Key {
		t.Fatalf("second digest = seq %d previous %q (%s), want seq 2 after the first's bytes %q", d2.Seq, d2.Previous, d2.PreviousKey, sha(bucket.stored[0].Body))
	}
	var onDisk audit.Digest
	if err := json.Unmarshal(bucket.stored[1].Body, &onDisk); err != nil || onDisk.Chains[0].Seq != 4 {
		t.Fatalf("stored digest = %+v, %v; want r-1 at 4", onDisk, err)
	}

	anchored := audit.ReadAnchors(bucket.stored)
	if len(anchored.Problems) != 0 || anchored.Digests != 2 {
		t.Fatalf("ReadAnchors = %d digests, problems %v; want 2, none", anchored.Digests, anchored.Problems)
	}
	events, err := store.Events(ctx, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	f := audit.Check("r-1", events, &audit.Head{Seq: 4, Hash: events[3].Hash})
	anchored.Check(&f, events)
	if !f.OK() {
		t.Fatalf("a whole anchored trail: %v", f.Problems)
	}

	// Event 2 rewritten and every event after it re-chained: Check passes,
	// the anchors name event 2, and only it.
	rewritten := append([]audit.Event{}, events...)
	for i := 1; i < len(rewritten); i++ {
		if i == 1 {
			rewritten[i].Action = "rejected"
		}
		rewritten[i].Seal(&rewritten[i-1])
	}
	f = audit.Check("r-1", rewritten, &audit.Head{Seq: 4, Hash: rewritten[3].Hash})
	if !f.OK() {
		t.Fatalf("a re-chained trail fails Check (%v): the test's rewrite is not one Check misses", f.Problems)
	}
	anchored.Check(&f, rewritten)
	if len(f.Problems) != 1 || !strings.HasPrefix(f.Problems[0], "event 2 disagrees with its anchor in digest digests/000000000001-") {
		t.Fatalf("anchors on a rewritten trail: %q, want event 2 named, from digest 1", f.Problems)
	}
	// The newest events removed and the head moved back: named too.
	f = audit.Check("r-1", events[:2], &audit.Head{Seq: 2, Hash: events[1].Hash})
	anchored.Check(&f, events[:2])
	if len(f.Problems) != 1 || !strings.HasPrefix(f.Problems[0], "event 3, anchored in digest") {
		t.Fatalf("anchors on a cut trail: %q, want event 3 missing", f.Problems)
	}
}

// TestReadAnchorsChain: a digest that follows no digest in the bucket, or
// follows the wrong one, or is not a digest, is named.
func TestReadAnchorsChain(t *testing.T) {
	body := func(d audit.Digest) []byte { b, _ := json.Marshal(d); return b }
	first := body(audit.Digest{Version: 1, Seq: 1})
	second := body(audit.Digest{Version: 1, Seq: 2, Previous: sha(first)})
	for _, tc := range []struct {
		name   string
		stored [][]byte
		want   string
	}{
		{"whole", [][]byte{first, second}, ""},
		{"the first removed", [][]byte{second}, "which is not in the bucket"},
		{"a second first", [][]byte{first, second, body(audit.Digest{Version: 1, Seq: 2})}, "follows no digest"},
		{"follows a later one", [][]byte{first, second, body(audit.Digest{Version: 1, Seq: 3, Previous: sha(first)})}, "(3) follows digest 1"},
		{"not JSON", [][]byte{first, []byte("{")}, "is not a digest"},
		{"head not last event", [][]byte{body(audit.Digest{Version: 1, Seq: 1, Chains: []audit.Anchor{{RequestID: "r", Seq: 2, Hash: "b", Events: []string{"a"}}}})}, "is not its last event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stored []audit.StoredDigest
			for i, b := range tc.stored {
				stored = append(stored, audit.StoredDigest{Key: audit.DigestKey(int64(i+1), sha(b)), Body: b})
			}
			a := audit.ReadAnchors(stored)
			got := strings.Join(a.Problems, "; ")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("problems = %q, want %q", got, tc.want)
			}
		})
	}
}
