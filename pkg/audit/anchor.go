package audit

// Anchoring, after AWS CloudTrail's log file integrity validation: a hash
// chain kept in a table is only as good as the table, and a writer of the
// table can rewrite one event and re-chain every event after it, head
// included, so that Check finds nothing. So every hour (and when a request
// closes) the chains that moved are written into a digest, an object in a
// bucket under S3 Object Lock in compliance mode, which no Veil role can
// delete or overwrite before it is 24 months old. A digest holds, for each
// chain, its head and the hash of every event up to it, and the hash of the
// digest before it, so that digests chain as CloudTrail's do. CheckAnchors
// then names the first event of a trail that is not the one anchored.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// DigestPrefix is where digests are kept in the anchor bucket.
const DigestPrefix = "digests/"

// Digest is one anchoring.
type Digest struct {
	Version int `json:"version"`
	// Seq numbers the digests from 1; Previous is the SHA-256 (hex) of the
	// bytes of digest Seq-1, PreviousKey its key (both empty for the
	// first).
	Seq         int64     `json:"seq"`
	PeriodStart time.Time `json:"periodStart"`
	PeriodEnd   time.Time `json:"periodEnd"`
	Chains      []Anchor  `json:"chains"`
	Previous    string    `json:"previousDigestHash"`
	PreviousKey string    `json:"previousDigestKey"`
}

// Anchor is one chain as a digest holds it: its head (the last sequence
// number and the hash there) and the hash of every event from 1 to it.
type Anchor struct {
	RequestID string   `json:"requestId"`
	Seq       int64    `json:"seq"`
	Hash      string   `json:"hash"`
	Events    []string `json:"events"`
}

// Bucket is where digests go; an implementation writes, it never deletes.
type Bucket interface {
	// PutDigest stores body under key.
	PutDigest(ctx context.Context, key string, body []byte) error
}

// Anchorer writes digests of the Store's chains into a Bucket.
type Anchorer struct {
	Store  *Store
	Bucket Bucket
}

// ErrAnchorRace is returned by Anchor when other anchorings kept taking
// the digest sequence number it had read.
var ErrAnchorRace = errors.New("audit anchor: other anchorings raced this one")

// AnchorMoved writes a digest of every chain that moved in the previous
// or the current hour (an append that began just before the hour turned
// is anchored by the next run too), and returns it. It writes a digest
// even when none moved, as CloudTrail does, so that a missing hour shows.
func (a *Anchorer) AnchorMoved(ctx context.Context) (Digest, error) {
	now := a.Store.now()
	var ids []string
	seen := map[string]bool{}
	for _, hour := range []time.Time{now.Add(-time.Hour), now} {
		moved, err := a.Store.moved(ctx, hour)
		if err != nil {
			return Digest{}, err
		}
		for _, id := range moved {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return a.Anchor(ctx, now.Add(-time.Hour).Truncate(time.Hour), ids)
}

// Anchor writes a digest of the chains of requestIDs (those without a
// trail are left out) covering the period from start to now, chained to
// the last digest, and returns it. It returns ErrAnchorRace when other
// anchorings kept winning, and the store's and the bucket's errors.
func (a *Anchorer) Anchor(ctx context.Context, start time.Time, requestIDs []string) (Digest, error) {
	sort.Strings(requestIDs)
	chains := make([]Anchor, 0, len(requestIDs))
	for _, id := range requestIDs {
		events, err := a.Store.Events(ctx, id)
		if err != nil {
			return Digest{}, err
		}
		if len(events) == 0 {
			continue
		}
		c := Anchor{RequestID: id, Events: make([]string, len(events))}
		for i, e := range events {
			c.Events[i] = e.Hash
		}
		last := events[len(events)-1]
		c.Seq, c.Hash = last.Seq, last.Hash
		chains = append(chains, c)
	}
	for range maxRaces {
		prev, err := a.Store.lastAnchor(ctx)
		if err != nil {
			return Digest{}, err
		}
		d := Digest{Version: 1, Seq: prev.Seq + 1, PeriodStart: start.UTC(), PeriodEnd: a.Store.now(), Chains: chains,
			Previous: prev.Hash, PreviousKey: prev.Key}
		body, err := json.MarshalIndent(d, "", " ")
		if err != nil {
			return Digest{}, err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])
		key := DigestKey(d.Seq, hash)
		// Written before the pointer moves: a crash between leaves a digest
		// no later one follows, which CheckAnchors accepts (its heads are
		// as true as any), never a pointer to a digest that is not there.
		if err := a.Bucket.PutDigest(ctx, key, body); err != nil {
			return Digest{}, fmt.Errorf("audit anchor %s: %w", key, err)
		}
		ok, err := a.Store.moveAnchor(ctx, prev, anchorPointer{Seq: d.Seq, Hash: hash, Key: key})
		if err != nil {
			return Digest{}, err
		}
		if ok {
			return d, nil
		}
	}
	return Digest{}, ErrAnchorRace
}

// DigestKey is the key of digest seq whose bytes hash to hash.
func DigestKey(seq int64, hash string) string {
	return fmt.Sprintf("%s%012d-%s.json", DigestPrefix, seq, hash[:16])
}

// StoredDigest is one version of a digest object, as read back.
type StoredDigest struct {
	Key       string
	VersionID string
	Body      []byte
}

// Anchored is what the digests say: every chain's anchored event hashes,
// and what is wrong with the digests themselves.
type Anchored struct {
	Digests int
	// Problems name each digest that is unreadable or that does not
	// follow a digest in the bucket.
	Problems []string
	events   map[string][]anchoredEvent
}

type anchoredEvent struct {
	seq    int64
	hash   string
	digest string
}

// ReadAnchors reads every version of every digest: a digest's chains are
// believed whatever its place, and its place is checked (it follows a
// digest of the sequence number before it by that digest's hash; the
// first follows none).
func ReadAnchors(stored []StoredDigest) Anchored {
	a := Anchored{Digests: len(stored), Problems: []string{}, events: map[string][]anchoredEvent{}}
	type parsed struct {
		name string
		d    Digest
	}
	var ds []parsed
	hashes := map[string]int64{} // digest hash → its seq
	for _, s := range stored {
		name := s.Key
		if s.VersionID != "" {
			name += "@" + s.VersionID
		}
		var d Digest
		if err := json.Unmarshal(s.Body, &d); err != nil {
			a.Problems = append(a.Problems, fmt.Sprintf("digest %s is not a digest: %v", name, err))
			continue
		}
		sum := sha256.Sum256(s.Body)
		hashes[hex.EncodeToString(sum[:])] = d.Seq
		ds = append(ds, parsed{name, d})
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].d.Seq < ds[j].d.Seq })
	for _, p := range ds {
		switch seq, ok := hashes[p.d.Previous]; {
		case p.d.Seq == 1 && p.d.Previous == "":
		case p.d.Previous == "":
			a.Problems = append(a.Problems, fmt.Sprintf("digest %s (%d) follows no digest", p.name, p.d.Seq))
		case !ok:
			a.Problems = append(a.Problems, fmt.Sprintf("digest %s (%d) follows digest %s, which is not in the bucket", p.name, p.d.Seq, p.d.PreviousKey))
		case seq != p.d.Seq-1:
			a.Problems = append(a.Problems, fmt.Sprintf("digest %s (%d) follows digest %d", p.name, p.d.Seq, seq))
		}
		for _, c := range p.d.Chains {
			for i, h := range c.Events {
				a.events[c.RequestID] = append(a.events[c.RequestID], anchoredEvent{seq: int64(i + 1), hash: h, digest: p.name})
			}
			if n := int64(len(c.Events)); n != c.Seq || (n > 0 && c.Events[n-1] != c.Hash) {
				a.Problems = append(a.Problems, fmt.Sprintf("digest %s: the head of request %s is not its last event", p.name, c.RequestID))
			}
		}
	}
	return a
}

// Requests returns the IDs of the requests anchored, sorted.
func (a Anchored) Requests() []string {
	ids := make([]string, 0, len(a.events))
	for id := range a.events {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Check adds to f the first event of its trail (events, in sequence order)
// that disagrees with an anchor: missing, or with another hash than the
// one a digest anchored. A trail rewritten and re-chained passes Check,
// whose hashes it recomputed, but not this.
func (a Anchored) Check(f *Finding, events []Event) {
	anchored := a.events[f.RequestID]
	if len(anchored) == 0 {
		return
	}
	bySeq := make(map[int64]string, len(events))
	for _, e := range events {
		bySeq[e.Seq] = e.Hash
	}
	sort.SliceStable(anchored, func(i, j int) bool { return anchored[i].seq < anchored[j].seq })
	for _, x := range anchored {
		h, ok := bySeq[x.seq]
		switch {
		case !ok:
			f.Problems = append(f.Problems, fmt.Sprintf("event %d, anchored in digest %s, is missing", x.seq, x.digest))
		case h != x.hash:
			f.Problems = append(f.Problems, fmt.Sprintf("event %d disagrees with its anchor in digest %s: rewritten after it was anchored", x.seq, x.digest))
		default:
			continue
		}
		return
	}
}
