package indexing_test

// The property the index promises: whatever order S3's notifications
// arrive in, however often, the index ends up equal to one built from the
// final bucket by applying one change per key.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
)

const (
	propertySeeds = 32
	propertyOps   = 16
)

func TestIndexMatchesRebuild(t *testing.T) {
	e := newEnv(t, true)
	const rebuildTable = "veil-index-rebuild"
	e.copyTable(t, rebuildTable)
	rebuilt := e.service(indexstore.New(e.ddb, rebuildTable))
	for seed := uint64(1); seed <= propertySeeds; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			p := &property{e: e, r: rand.New(rand.NewPCG(seed, 0x5eed)), versions: map[string][]string{}}
			keys := []string{
				fmt.Sprintf("campaigns/p%d/a.csv", seed),
				fmt.Sprintf("campaigns/p%d/list two.csv", seed), // a space: S3 form-encodes it
				fmt.Sprintf("campaigns/p%d/sub/c.csv", seed),
			}
			if p.r.IntN(2) == 0 {
				keys = append(keys, fmt.Sprintf("other/p%d/d.csv", seed))
			}
			var log []string
			for range propertyOps {
				key := keys[p.r.IntN(len(keys))]
				log = append(log, p.step(t, key))
			}
			p.pending = append(p.pending, e.held(t)...)
			// Everything not applied yet, and duplicates of anything.
			final := p.pending
			for _, c := range append(p.applied, p.pending...) {
				for range p.r.IntN(3) {
					final = append(final, c)
				}
			}
			p.applyAll(t, e.svc, final)
			if t.Failed() {
				t.Logf("operations: %s", strings.Join(log, "; "))
				return
			}

			// The rebuild: one change per key, against the final bucket.
			for _, key := range keys {
				seq, ok := p.last[key]
				if !ok {
					continue // never notified: no manifest in either
				}
				err := rebuilt.Apply(context.Background(), indexing.ObjectChange{Bucket: e.bucket, Key: key, Sequencer: seq})
				var ie *indexing.InputError
				if err != nil && !errors.As(err, &ie) {
					t.Fatalf("rebuild %s: %v", key, err)
				}
			}
			p.compare(t, keys, rebuildTable)
			if t.Failed() {
				t.Logf("operations: %s", strings.Join(log, "; "))
			}
		})
	}
}

// property is one seed's run.
type property struct {
	e        *env
	r        *rand.Rand
	versions map[string][]string // key → versions S3 still has (delete markers included)
	pending  []indexing.ObjectChange
	applied  []indexing.ObjectChange
	last     map[string]string // key → latest sequencer seen
}

// step does one random operation on key and returns what it did.
func (p *property) step(t *testing.T, key string) string {
	t.Helper()
	switch n := p.r.IntN(10); {
	case n <= 3 || n <= 7 && len(p.versions[key]) == 0:
		body := p.list()
		v := p.e.put(t, key, body)
		p.versions[key] = append(p.versions[key], v)
		return fmt.Sprintf("put %s@%s (%d bytes)", key, v, len(body))
	case n <= 5:
		v := p.e.remove(t, key)
		if v != "" {
			p.versions[key] = append(p.versions[key], v)
		}
		return fmt.Sprintf("rm %s (marker %s)", key, v)
	case n <= 7:
		// An old version (or delete marker), never the current one: gofakes3
		// v1.2.0 does not make the previous version current and panics on
		// the next HEAD of the key.
		vs := p.versions[key]
		if len(vs) < 2 {
			return p.step(t, key)
		}
		i := p.r.IntN(len(vs) - 1)
		v := vs[i]
		p.e.deleteVersion(t, key, v)
		p.versions[key] = append(vs[:i:i], vs[i+1:]...)
		return fmt.Sprintf("rm %s@%s", key, v)
	default:
		// Notifications arrive while the bucket still changes: apply
		// some of those sent so far.
		p.pending = append(p.pending, p.e.held(t)...)
		p.r.Shuffle(len(p.pending), func(i, j int) { p.pending[i], p.pending[j] = p.pending[j], p.pending[i] })
		k := p.r.IntN(len(p.pending) + 1)
		now := p.pending[:k:k]
		p.pending = append([]indexing.ObjectChange(nil), p.pending[k:]...)
		p.applyAll(t, p.e.svc, now)
		return fmt.Sprintf("apply %d changes", k)
	}
}

// applyAll applies cs in a random order; a list that cannot be indexed
// may fail with an InputError, nothing may fail otherwise.
func (p *property) applyAll(t *testing.T, svc *indexing.Service, cs []indexing.ObjectChange) {
	t.Helper()
	cs = append([]indexing.ObjectChange(nil), cs...)
	p.r.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	if p.last == nil {
		p.last = map[string]string{}
	}
	for _, c := range cs {
		if s, ok := p.last[c.Key]; !ok || indexing.Later(c.Sequencer, s) {
			p.last[c.Key] = c.Sequencer
		}
		err := svc.Apply(context.Background(), c)
		var ie *indexing.InputError
		if err != nil && !errors.As(err, &ie) {
			t.Fatalf("Apply(%s %s@%s seq %s) = %v", c.EventName, c.Key, c.VersionID, c.Sequencer, err)
		}
		p.applied = append(p.applied, c)
	}
}

// Identifier pools: a few values shared by every list, so that one
// identifier has entries in several objects and versions.
var (
	phoneFormats = []string{"%s%s%s", "(%s) %s-%s", "+1 %s-%s-%s", "%s.%s.%s", "1 %s %s %s"}
	emailUsers   = []string{"ana", "ben.ng", "cy+leads", "di", "ed_sun", "fay"}
	emailDomains = []string{"example.com", "Example.ORG", "mail.example.net"}
	phoneHeaders = []string{"Phone", "Mobile No.", "phone_number", "Cell", "Home Phone"}
	emailHeaders = []string{"Email", "E-mail Address", "email", "EMAIL"}
	delimiters   = []string{",", ";", "\t", "|"}
)

// list returns a random lead list; about one in ten cannot be indexed (no
// identifier column).
func (p *property) list() []byte {
	r := p.r
	d := delimiters[r.IntN(len(delimiters))]
	var b strings.Builder
	rows := 1 + r.IntN(6)
	if r.IntN(10) == 0 {
		b.WriteString("Name" + d + "City\n")
		for i := range rows {
			fmt.Fprintf(&b, "Person %d%sTown %d\n", i, d, r.IntN(9))
		}
		return []byte(b.String())
	}
	withID := r.IntN(2) == 0
	b.WriteString("Name" + d + phoneHeaders[r.IntN(len(phoneHeaders))] + d + emailHeaders[r.IntN(len(emailHeaders))])
	if withID {
		b.WriteString(d + "Customer ID")
	}
	b.WriteString("\n")
	for i := range rows {
		phone := ""
		if r.IntN(6) != 0 {
			line := fmt.Sprintf("%04d", 100+r.IntN(12))
			phone = fmt.Sprintf(phoneFormats[r.IntN(len(phoneFormats))], "212", "555", line)
		}
		email := emailUsers[r.IntN(len(emailUsers))] + "@" + emailDomains[r.IntN(len(emailDomains))]
		switch r.IntN(6) {
		case 0:
			email = strings.ToUpper(email)
		case 1:
			email = "not an email"
		case 2:
			email = ""
		}
		fmt.Fprintf(&b, "Person %d%s%s%s%s", i, d, phone, d, email)
		if withID {
			fmt.Fprintf(&b, "%sC-%d", d, r.IntN(5))
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// compare checks the index against the rebuild and against S3 itself.
func (p *property) compare(t *testing.T, keys []string, rebuildTable string) {
	t.Helper()
	gotEntries, gotManifests := p.e.scan(t, p.e.table)
	wantEntries, wantManifests := p.e.scan(t, rebuildTable)
	for _, key := range keys {
		got, want := entrySet(gotEntries[key]), entrySet(wantEntries[key])
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d entries (versions %v), rebuild has %d (versions %v)", key, len(got), versions(gotEntries[key]), len(want), versions(wantEntries[key]))
		}
		gm, gok := gotManifests[key]
		wm, wok := wantManifests[key]
		if gok != wok {
			t.Errorf("%s: manifest present = %v, rebuild %v", key, gok, wok)
			continue
		}
		if !gok {
			continue
		}
		if wm.Status != indexing.StatusRemoved && gm.VersionID != wm.VersionID || gm.Status != wm.Status ||
			gm.Rows != wm.Rows || gm.Entries != wm.Entries || gm.Error != wm.Error {
			t.Errorf("%s: manifest %s@%s rows %d entries %d %q, rebuild %s@%s rows %d entries %d %q", key,
				gm.Status, gm.VersionID, gm.Rows, gm.Entries, gm.Error, wm.Status, wm.VersionID, wm.Rows, wm.Entries, wm.Error)
		}
		// Both could be wrong the same way: S3 has the last word.
		v, exists, err := p.e.objects.Current(context.Background(), p.e.bucket, key)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !exists && gm.Status != indexing.StatusRemoved:
			t.Errorf("%s: manifest %s, but S3 has no current version", key, gm.Status)
		case exists && (gm.VersionID != v || gm.Status != indexing.StatusIndexed && gm.Status != indexing.StatusFailed):
			t.Errorf("%s: manifest %s@%s, S3's current version is %s", key, gm.Status, gm.VersionID, v)
		case exists && gm.Status == indexing.StatusIndexed && int64(len(gotEntries[key])) != gm.Entries:
			t.Errorf("%s: %d entries, manifest counts %d", key, len(gotEntries[key]), gm.Entries)
		case gm.Status != indexing.StatusIndexed && len(gotEntries[key]) != 0:
			t.Errorf("%s: %s, yet %d entries", key, gm.Status, len(gotEntries[key]))
		case exists && gm.Status == indexing.StatusIndexed:
			head, err := p.e.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(p.e.bucket), Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			if gm.Size != aws.ToInt64(head.ContentLength) {
				t.Errorf("%s: manifest size %d, S3 says %d", key, gm.Size, aws.ToInt64(head.ContentLength))
			}
		}
	}
}
