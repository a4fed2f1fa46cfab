package indexing_test

// The property the index promises: whatever order S3's notifications
// arrive in, however often, however many are applied at once (each store
// call paused at random), the index ends up equal to what the final bucket
// holds, as leads and identifiers read it directly.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/leads"
)

const (
	propertySeeds = 32
	propertyOps   = 16
)

func TestIndexMatchesBucket(t *testing.T) {
	e := newEnv(t, true)
	for seed := uint64(1); seed <= propertySeeds; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			p := &property{e: e, r: rand.New(rand.NewPCG(seed, 0x5eed)), versions: map[string][]string{}, markers: map[string]bool{}}
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
			p.applyAll(t, final)
			p.wait(t)
			if !t.Failed() {
				p.compare(t, keys)
			}
			if t.Failed() {
				t.Logf("operations: %s", strings.Join(log, "; "))
			}
		})
	}
}

// jitterIndex pauses at random before every call of the index, so that
// concurrent applies interleave differently on every run and seed. The
// pauses order nothing: every outcome is waited for by its caller.
type jitterIndex struct {
	indexing.Index
	mu sync.Mutex
	r  *rand.Rand
}

func (j *jitterIndex) jitter(ctx context.Context) {
	j.mu.Lock()
	d := time.Duration(j.r.IntN(1500)) * time.Microsecond
	skip := j.r.IntN(3) == 0
	j.mu.Unlock()
	if skip {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (j *jitterIndex) Manifest(ctx context.Context, bucket, key string) (indexing.Manifest, error) {
	j.jitter(ctx)
	return j.Index.Manifest(ctx, bucket, key)
}

func (j *jitterIndex) Claim(ctx context.Context, m indexing.Manifest, over string) (bool, error) {
	j.jitter(ctx)
	return j.Index.Claim(ctx, m, over)
}

func (j *jitterIndex) Finish(ctx context.Context, m indexing.Manifest) (bool, error) {
	j.jitter(ctx)
	return j.Index.Finish(ctx, m)
}

func (j *jitterIndex) PutEntries(ctx context.Context, es []indexing.Entry) error {
	j.jitter(ctx)
	return j.Index.PutEntries(ctx, es)
}

func (j *jitterIndex) DeleteEntries(ctx context.Context, bucket, key string, keep indexing.KeepFunc) (int, error) {
	j.jitter(ctx)
	return j.Index.DeleteEntries(ctx, bucket, key, func(ctx context.Context) (func(string, string) bool, error) {
		j.jitter(ctx) // between reading a page and deciding on it
		rule, err := keep(ctx)
		j.jitter(ctx) // between deciding and deleting
		return rule, err
	})
}

// applyAll starts applying cs at once, each on its own goroutine, in a
// random order, while the bucket goes on changing; wait waits for every
// apply started so far. A list that cannot be indexed may fail with an
// InputError, nothing may fail otherwise.
func (p *property) applyAll(t *testing.T, cs []indexing.ObjectChange) {
	t.Helper()
	cs = append([]indexing.ObjectChange(nil), cs...)
	p.r.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	if p.last == nil {
		p.last = map[string]string{}
	}
	svc := p.e.service(&jitterIndex{Index: p.e.store, r: rand.New(rand.NewPCG(p.r.Uint64(), 1))})
	svc.BatchSize = 1 + p.r.IntN(3) // several batches per list: a wide window
	for _, c := range cs {
		if s, ok := p.last[c.Key]; !ok || indexing.Later(c.Sequencer, s) {
			p.last[c.Key] = c.Sequencer
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			err := svc.Apply(context.Background(), c)
			var ie *indexing.InputError
			if err != nil && !errors.As(err, &ie) {
				p.mu.Lock()
				p.errs = append(p.errs, fmt.Errorf("Apply(%s %s@%s seq %s) = %w", c.EventName, c.Key, c.VersionID, c.Sequencer, err))
				p.mu.Unlock()
			}
		}()
	}
	p.applied = append(p.applied, cs...)
}

// wait waits for every apply started and fails on their errors.
func (p *property) wait(t *testing.T) {
	t.Helper()
	p.wg.Wait()
	for _, err := range p.errs {
		t.Error(err)
	}
}

// property is one seed's run.
type property struct {
	e        *env
	r        *rand.Rand
	versions map[string][]string // key → versions S3 still has (delete markers included)
	markers  map[string]bool     // versions that are delete markers
	pending  []indexing.ObjectChange
	applied  []indexing.ObjectChange
	last     map[string]string // key → latest sequencer seen
	wg       sync.WaitGroup    // applies in flight
	mu       sync.Mutex
	errs     []error
}

// step does one random operation on key and returns what it did.
func (p *property) step(t *testing.T, key string) string {
	t.Helper()
	switch n := p.r.IntN(10); {
	case n <= 3 || n <= 7 && len(p.versions[key]) == 0:
		body := p.list()
		v := p.e.put(t, key, body)
		p.versions[key] = append(p.versions[key], v)
		if p.r.IntN(3) == 0 {
			// Indexed before the next change: the version becomes a
			// noncurrent one the index keeps once it is replaced.
			p.pending = append(p.pending, p.e.held(t)...)
			p.applyAll(t, p.pending)
			p.pending = nil
			p.wait(t)
			return fmt.Sprintf("put %s@%s (%d bytes), applied", key, v, len(body))
		}
		return fmt.Sprintf("put %s@%s (%d bytes)", key, v, len(body))
	case n <= 5:
		v := p.e.remove(t, key)
		if v != "" {
			p.versions[key] = append(p.versions[key], v)
			p.markers[v] = true
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
		p.applyAll(t, now)
		return fmt.Sprintf("apply %d changes", k)
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

// oracleEntry is an entry as the oracle predicts it.
type oracleEntry struct {
	PK, VersionID       string
	Row, Offset, Length int64
}

// expected is one version of a list as leads and identifiers read it,
// without the indexer: what its manifest and entries must be.
type expected struct {
	failed   bool
	manifest indexing.Manifest // the fields the version decides
	entries  map[oracleEntry]bool
}

// read reads version of key from S3 and predicts its index.
func (p *property) read(t *testing.T, key, version string) expected {
	t.Helper()
	ctx := context.Background()
	out, err := p.e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.e.bucket), Key: aws.String(key), VersionId: aws.String(version)})
	if err != nil {
		t.Fatalf("get %s@%s: %v", key, version, err)
	}
	body, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	m := indexing.Manifest{VersionID: version, Format: indexing.FormatCSV, Size: int64(len(body)),
		ETag: strings.Trim(aws.ToString(out.ETag), `"`), MinorsUnder16: -1}
	rd, err := leads.NewReader(bytes.NewReader(body), leads.Options{RequireRows: true})
	if err != nil {
		return expected{failed: true, manifest: m}
	}
	type rec struct {
		fields              []string
		row, offset, length int64
	}
	var recs []rec
	var sample [][]string
	for {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *leads.ParseError
			if errors.As(err, &pe) {
				m.UnreadableRows++
				continue
			}
			return expected{failed: true, manifest: m}
		}
		f := append([]string(nil), r.Fields...)
		recs = append(recs, rec{f, r.Number, r.Offset, r.Length})
		sample = append(sample, f)
	}
	schema, err := identifiers.Classify(rd.Header(), sample, identifiers.ClassifyOptions{})
	if err != nil || len(schema.Identifiers()) == 0 {
		return expected{failed: true, manifest: m}
	}
	ix, err := identifiers.NewIndexer(p.e.secret, schema, "")
	if err != nil {
		t.Fatal(err)
	}
	entries := map[oracleEntry]bool{}
	for _, r := range recs {
		for _, e := range ix.Append(nil, r.fields) {
			entries[oracleEntry{"ID#" + e.Key(), version, r.row, r.offset, r.length}] = true
		}
	}
	for _, st := range ix.Stats() {
		m.Invalid += st.Invalid
	}
	m.Encoding, m.HeaderLine, m.Header = rd.Options().Encoding, rd.HeaderLine(), rd.Header()
	m.Delimiter, m.CRLineEnds = string(rd.Options().Delimiter), rd.Options().CRLineEnds
	for _, c := range schema.Columns {
		m.Columns = append(m.Columns, indexing.Column{Header: c.Header, Kind: c.Kind.String(), By: c.By.String()})
	}
	m.Rows, m.Entries = int64(len(recs)), int64(len(entries))
	return expected{manifest: m, entries: entries}
}

// compare checks the index against the final bucket, key by key: the
// current version's manifest field by field and its entries one by one;
// a version that cannot be indexed answers from the last indexed version,
// which must still be in S3 and whose entries must be exactly its own.
func (p *property) compare(t *testing.T, keys []string) {
	t.Helper()
	ctx := context.Background()
	rows, _ := p.e.scan(t, p.e.table)
	for _, key := range keys {
		m, err := p.e.store.Manifest(ctx, p.e.bucket, key)
		// The noncurrent versions the manifest keeps: each still in S3,
		// with exactly its own entries; the rest are compared below.
		noncurrent := map[string]map[oracleEntry]bool{}
		for _, r := range m.Noncurrent {
			noncurrent[r.VersionID] = map[oracleEntry]bool{}
		}
		got := map[oracleEntry]bool{}
		for _, r := range rows[key] {
			e := oracleEntry{r.PK, r.VersionID, r.Row, r.Offset, r.Length}
			if kept, ok := noncurrent[r.VersionID]; ok {
				kept[e] = true
				continue
			}
			got[e] = true
		}
		for _, r := range m.Noncurrent {
			if !p.exists(key, r.VersionID) {
				t.Errorf("%s: keeps noncurrent %s, which S3 no longer has", key, r.VersionID)
				continue
			}
			want := p.read(t, key, r.VersionID)
			if want.failed || !reflect.DeepEqual(noncurrent[r.VersionID], want.entries) || r.Entries != int64(len(want.entries)) {
				t.Errorf("%s: noncurrent %s has %d entries (counted %d), the version holds %d", key, r.VersionID, len(noncurrent[r.VersionID]), r.Entries, len(want.entries))
			}
			if r.VersionID == m.VersionID || m.Previous != nil && r.VersionID == m.Previous.VersionID {
				t.Errorf("%s: %s is both noncurrent and the version answering", key, r.VersionID)
			}
		}
		if _, notified := p.last[key]; !notified {
			if err == nil || len(got) != 0 {
				t.Errorf("%s: never notified, yet a manifest (%v) and %d entries", key, err, len(got))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		head, err := p.e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(p.e.bucket), Key: aws.String(key)})
		if err != nil || aws.ToBool(head.DeleteMarker) {
			if m.Status != indexing.StatusRemoved || len(got) != 0 || m.Previous != nil {
				t.Errorf("%s: no current version in S3, index has %s@%s with %d entries, previous %+v", key, m.Status, m.VersionID, len(got), m.Previous)
			}
			continue
		}
		version := aws.ToString(head.VersionId)
		want := p.read(t, key, version)
		if m.Sequencer != indexing.PadSequencer(p.last[key]) {
			t.Errorf("%s: sequencer %s, the last change was %s", key, m.Sequencer, p.last[key])
		}
		if want.failed {
			if m.Status != indexing.StatusFailed || m.VersionID != version || m.Error == "" || m.ETag != want.manifest.ETag {
				t.Errorf("%s: manifest %s@%s %q etag %q, want failed@%s etag %q", key, m.Status, m.VersionID, m.Error, m.ETag, version, want.manifest.ETag)
			}
			if m.Previous == nil {
				if len(got) != 0 {
					t.Errorf("%s: failed without a previous version, yet %d entries", key, len(got))
				}
				continue
			}
			if !p.exists(key, m.Previous.VersionID) {
				t.Errorf("%s: answers from %s, which S3 no longer has", key, m.Previous.VersionID)
				continue
			}
			prev := p.read(t, key, m.Previous.VersionID)
			pw := prev.manifest
			if prev.failed || !reflect.DeepEqual(got, prev.entries) || m.Previous.Entries != pw.Entries ||
				!reflect.DeepEqual(m.Previous.Header, pw.Header) || m.Previous.Delimiter != pw.Delimiter ||
				m.Previous.Encoding != pw.Encoding || m.Previous.HeaderLine != pw.HeaderLine {
				t.Errorf("%s: answering from %+v with %d entries, want %d entries (header %q delimiter %q)", key, m.Previous, len(got), len(prev.entries), pw.Header, pw.Delimiter)
			}
			continue
		}
		w := want.manifest
		if m.Status != indexing.StatusIndexed || m.VersionID != version || m.Error != "" || m.Previous != nil {
			t.Errorf("%s: manifest %s@%s %q previous %+v, want indexed@%s", key, m.Status, m.VersionID, m.Error, m.Previous, version)
		}
		if m.Format != w.Format || m.Encoding != w.Encoding || m.HeaderLine != w.HeaderLine || !reflect.DeepEqual(m.Header, w.Header) ||
			m.Delimiter != w.Delimiter || m.CRLineEnds != w.CRLineEnds || !reflect.DeepEqual(m.Columns, w.Columns) ||
			m.Rows != w.Rows || m.Entries != w.Entries || m.Invalid != w.Invalid || m.UnreadableRows != w.UnreadableRows ||
			m.MinorsUnder16 != w.MinorsUnder16 || m.Size != w.Size || m.ETag != w.ETag {
			t.Errorf("%s: manifest\n got %+v\nwant %+v", key, m, w)
		}
		if !reflect.DeepEqual(got, want.entries) {
			t.Errorf("%s: %d entries (versions %v), the list holds %d", key, len(got), versions(rows[key]), len(want.entries))
		}
	}
}

// exists reports whether S3 still has version of key (not a delete marker).
func (p *property) exists(key, version string) bool {
	for _, v := range p.versions[key] {
		if v == version && !p.markers[version] {
			return true
		}
	}
	return false
}
