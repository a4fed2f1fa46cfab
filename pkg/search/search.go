// Package search finds every lead-list row that holds a consumer's
// identifiers, however they were written: each identifier is normalized and
// keyed as the index keyed it, its entries are looked up, and the rows are
// read back from S3 with ranged GETs (coalesced per object version, fetched
// concurrently). It costs what the consumer's rows cost, not what the bucket
// holds.
package search

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/veil"
	"github.com/veil-privacy/veil/pkg/workbook"
)

// Identifier is one identifier a consumer named, as written.
type Identifier struct {
	// Field names the identifier in errors ("phone[0]").
	Field string
	Kind  identifiers.Kind
	Value string
}

// Record is one row that holds at least one of the identifiers.
type Record struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"versionId"`
	// Sheet names the workbook sheet of the row; Row is then the
	// spreadsheet row number, else the record number of a text list.
	Sheet     string            `json:"sheet,omitempty"`
	Row       int64             `json:"row"`
	Campaign  string            `json:"campaign,omitempty"`
	Fields    map[string]string `json:"fields"`
	MatchedOn []string          `json:"matchedOn"`
	// Header is the row's list header, in its order, and Kinds the class
	// the index gave each of its columns ("phone", "first_name", …,
	// "business"), parallel to Header: what an export shows the fields in
	// and derives its categories of personal data from.
	Header []string `json:"header,omitempty"`
	Kinds  []string `json:"kinds,omitempty"`
	// Placeholders names the identifiers the row matched on that belong to
	// nobody: a documented placeholder value (N/A, test@test.com, …) or one
	// the rows found for it give more than Service.SharedNameLimit
	// different names. PlaceholderOnly says every identifier the row
	// matched on is one: staff see such rows flagged, and no answer to a
	// consumer (Result.ForConsumer) ever holds them.
	Placeholders    []string `json:"placeholders,omitempty"`
	PlaceholderOnly bool     `json:"placeholderOnly,omitempty"`
	// Values are the row's fields in the list's order, as many as the
	// record has: what an erasure edits, cell by cell (Fields holds one of
	// two columns with the same header). Not in the JSON answer.
	Values []string `json:"-"`

	keys []string // the query keys the row matched
	name string   // the row's name fields, folded into one
}

// Stale is an index entry whose row no longer exists in the object's
// current version; search reports it and deletes it from the index.
type Stale struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"versionId"`
	Row       int64  `json:"row"`
	Reason    string `json:"reason"`
}

// Noncurrent is an older version of an object, kept by S3 behind a newer
// version or a delete marker, that holds rows of the identifiers. Its rows
// are in no answer (they are not the list as it is); erasure purges the
// version.
type Noncurrent struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"versionId"`
	// Rows counts the version's rows the identifiers matched.
	Rows int64 `json:"rows"`
}

// Result is what a search found.
type Result struct {
	Records []Record `json:"records"`
	Stale   []Stale  `json:"stale,omitempty"`
	// Noncurrent lists the noncurrent versions (indexing.Manifest's
	// Noncurrent) holding rows of a non-placeholder identifier, sorted by
	// bucket, key and version.
	Noncurrent []Noncurrent `json:"noncurrent,omitempty"`
	// Coverage says what the search could not see: lists that failed to
	// index, lists being indexed, lists with unreadable rows. No records
	// means no records only when Coverage.Complete().
	Coverage indexing.Coverage `json:"coverage"`
}

// Index is the part of the index search reads and repairs.
type Index interface {
	// Lookup returns the entries of one identifier key; placeholder says
	// the value is a placeholder, whose entries are spread over several
	// partitions.
	Lookup(ctx context.Context, hmacKey string, placeholder bool) ([]indexing.Entry, error)
	// Manifests returns the manifests of objects ({bucket, key} pairs)
	// that have one, read together; an unknown object is left out.
	Manifests(ctx context.Context, objects [][2]string) ([]indexing.Manifest, error)
	DeleteEntry(ctx context.Context, e indexing.Entry) error
	// Coverage returns how complete the index is now (it may be a moment
	// behind: see indexstore.Store.Coverage).
	Coverage(ctx context.Context) (indexing.Coverage, error)
}

// Objects reads object versions: byte ranges of text lists, and whole
// workbooks (a row of a zip cannot be read alone).
type Objects interface {
	// ReadRange returns bytes [start, end); a missing version is an error
	// wrapping veil.ErrNotFound.
	ReadRange(ctx context.Context, bucket, key, version string, start, end int64) ([]byte, error)
	// Open streams one version; a missing version is an error wrapping
	// veil.ErrNotFound.
	Open(ctx context.Context, bucket, key, version string) (io.ReadCloser, error)
}

// Service searches.
type Service struct {
	Index   Index
	Objects Objects
	// Secrets are every HMAC key of the index's keyring, the active one
	// first (indexkey.Keyring.Secrets): during a key rotation a list is
	// indexed under the old key or the new one, and a search looks every
	// identifier up under each. Secret alone is used when Secrets is
	// empty.
	Secrets [][]byte
	Secret  []byte
	Region  string
	// Concurrency bounds concurrent lookups and ranged GETs (default 8).
	Concurrency int
	// MaxGap is the largest gap between two rows of one object that one
	// ranged GET reads across rather than making two (default 64 KiB).
	MaxGap int64
	// MaxSpan bounds the bytes one ranged GET reads (default 1 MiB).
	MaxSpan int64
	// SharedNameLimit is how many different names the rows of one
	// identifier may carry before it is taken for a placeholder (0:
	// identifiers.DefaultSharedNameLimit).
	SharedNameLimit int
}

// KindNames are the names of the identifier kinds in the API, as query
// parameters and in matchedOn.
var KindNames = map[identifiers.Kind]string{
	identifiers.Phone:         "phone",
	identifiers.Email:         "email",
	identifiers.CustomerID:    "customerId",
	identifiers.AccountNumber: "accountNumber",
}

// ParseKind returns the kind an API name stands for.
func ParseKind(name string) (identifiers.Kind, bool) {
	for k, n := range KindNames {
		if n == name {
			return k, true
		}
	}
	return 0, false
}

type rowID struct {
	bucket, key, version, sheet string
	row                         int64
}

type hit struct {
	entry   indexing.Entry
	kinds   map[string]bool
	keys    map[string]bool  // the query keys that found the row
	entries []indexing.Entry // every entry pointing at the row, for repair
}

// Search returns every current row holding one of ids, deduplicated, with
// the kinds it matched on, sorted by bucket, key, sheet and row, and the
// index's coverage, read while the search runs (its arrays are empty, never
// nil). It returns a *veil.ValidationError naming the identifier that
// is missing or malformed, and the index's error when the lookups or the
// coverage fail: an answer without its coverage is never given.
func (s *Service) Search(ctx context.Context, ids []Identifier) (Result, error) {
	keys, err := s.keys(ids)
	if err != nil {
		return Result{}, err
	}
	// The coverage is read while the whole search runs: it costs a search
	// no time where the index answers queries concurrently (DynamoDB), and
	// overlaps the S3 reads where it does not.
	var cov indexing.Coverage
	cg, cctx := errgroup.WithContext(ctx)
	cg.Go(func() (err error) {
		cov, err = s.Index.Coverage(cctx)
		return err
	})
	found, err := s.lookup(cctx, keys)
	if err != nil {
		return Result{}, firstCause(err, cg.Wait())
	}
	byObject := map[[2]string][]*hit{}
	for _, h := range found {
		k := [2]string{h.entry.Bucket, h.entry.ObjectKey}
		byObject[k] = append(byObject[k], h)
	}
	objects := make([][2]string, 0, len(byObject))
	for obj := range byObject {
		objects = append(objects, obj)
	}
	manifests := map[[2]string]indexing.Manifest{}
	if len(objects) > 0 {
		ms, err := s.Index.Manifests(cctx, objects)
		if err != nil {
			return Result{}, firstCause(err, cg.Wait())
		}
		for _, m := range ms {
			manifests[[2]string{m.Bucket, m.Key}] = m
		}
	}
	var mu sync.Mutex
	res := Result{Records: []Record{}}
	var noncurrent []*hit
	g, gctx := s.group(cctx)
	for obj, hits := range byObject {
		g.Go(func() error {
			recs, stale, old, err := s.readObject(gctx, manifests[obj], hits)
			mu.Lock()
			defer mu.Unlock()
			res.Records = append(res.Records, recs...)
			res.Stale = append(res.Stale, stale...)
			noncurrent = append(noncurrent, old...)
			return err
		})
	}
	if err := firstCause(g.Wait(), cg.Wait()); err != nil {
		return Result{}, err
	}
	flagPlaceholders(res.Records, keys, s.SharedNameLimit)
	res.Noncurrent = noncurrentVersions(noncurrent, keys)
	res.Coverage = nonNil(cov)
	sort.Slice(res.Records, func(i, j int) bool {
		a, b := res.Records[i], res.Records[j]
		if a.Bucket != b.Bucket {
			return a.Bucket < b.Bucket
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.Sheet != b.Sheet {
			return a.Sheet < b.Sheet
		}
		return a.Row < b.Row
	})
	return res, nil
}

// firstCause returns the error that stopped a search: the coverage's
// when the search's own was only the cancellation it caused.
func firstCause(searchErr, coverageErr error) error {
	if coverageErr != nil && (searchErr == nil || errors.Is(searchErr, context.Canceled)) {
		return coverageErr
	}
	return searchErr
}

// nonNil returns c with empty rather than nil arrays, so that JSON shows [].
func nonNil(c indexing.Coverage) indexing.Coverage {
	if c.Unreadable == nil {
		c.Unreadable = []indexing.Unreadable{}
	}
	if c.Pending == nil {
		c.Pending = []indexing.Pending{}
	}
	if c.Partial == nil {
		c.Partial = []indexing.Partial{}
	}
	return c
}

type keyed struct {
	// key names the identifier: its key under the first secret. lookups
	// are its keys under every secret, key first.
	key     string
	lookups []string
	kind    string
	// placeholder says the value is a documented placeholder
	// (identifiers.Placeholder).
	placeholder bool
}

// keys normalizes and keys each identifier; duplicates collapse.
func (s *Service) keys(ids []Identifier) ([]keyed, error) {
	if len(ids) == 0 {
		return nil, veil.Invalid("identifiers", "at least one of phone, email, customerId or accountNumber is required")
	}
	norm, err := identifiers.NewNormalizer(s.Region)
	if err != nil {
		return nil, err
	}
	secrets := s.Secrets
	if len(secrets) == 0 {
		secrets = [][]byte{s.Secret}
	}
	seen := map[string]bool{}
	var out []keyed
	for _, id := range ids {
		name, ok := KindNames[id.Kind]
		if !ok {
			return nil, veil.Invalid(id.Field, "not an identifier kind")
		}
		n, err := norm.Normalize(id.Kind, id.Value)
		if err != nil {
			reason := "not a valid " + name
			if errors.Is(err, identifiers.ErrEmpty) {
				reason = "empty"
			}
			return nil, veil.Invalid(id.Field, "%s", reason)
		}
		lookups := make([]string, len(secrets))
		for i, secret := range secrets {
			lookups[i] = identifiers.Key(secret, id.Kind, n)
		}
		if k := lookups[0]; !seen[k] {
			seen[k] = true
			out = append(out, keyed{key: k, lookups: lookups, kind: name, placeholder: identifiers.Placeholder(id.Kind, n)})
		}
	}
	return out, nil
}

// lookup fetches every key's entries, under every secret, concurrently and
// merges them by row: a row indexed under two keys during a re-key is one
// row, found by one identifier.
func (s *Service) lookup(ctx context.Context, keys []keyed) (map[rowID]*hit, error) {
	var mu sync.Mutex
	found := map[rowID]*hit{}
	g, gctx := s.group(ctx)
	for _, k := range keys {
		for _, lookup := range k.lookups {
			g.Go(func() error {
				return s.lookupOne(gctx, k, lookup, &mu, found)
			})
		}
	}
	return found, g.Wait()
}

// lookupOne looks up one key of the identifier k and merges its entries
// into found under mu.
func (s *Service) lookupOne(ctx context.Context, k keyed, lookup string, mu *sync.Mutex, found map[rowID]*hit) error {
	entries, err := s.Index.Lookup(ctx, lookup, k.placeholder)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	for _, e := range entries {
		addHit(found, e, k.kind, k.key)
	}
	return nil
}

// addHit records e in found, as a row matched on kind through key, and
// returns the row's hit.
func addHit(found map[rowID]*hit, e indexing.Entry, kind, key string) *hit {
	id := rowID{e.Bucket, e.ObjectKey, e.VersionID, e.Sheet, e.Row}
	h, ok := found[id]
	if !ok {
		h = &hit{entry: e, kinds: map[string]bool{}, keys: map[string]bool{}}
		found[id] = h
	}
	if kind != "" {
		h.kinds[kind] = true
	}
	h.keys[key] = true
	h.entries = append(h.entries, e)
	return h
}

// noncurrentVersions returns the versions of hits, rows counted, leaving
// out rows matched on placeholder identifiers alone.
func noncurrentVersions(hits []*hit, keys []keyed) []Noncurrent {
	placeholder := map[string]bool{}
	for _, k := range keys {
		placeholder[k.key] = k.placeholder
	}
	rows := map[Noncurrent]int64{}
	for _, h := range hits {
		for k := range h.keys {
			if !placeholder[k] {
				rows[Noncurrent{Bucket: h.entry.Bucket, Key: h.entry.ObjectKey, VersionID: h.entry.VersionID}]++
				break
			}
		}
	}
	var out []Noncurrent
	for v, n := range rows {
		v.Rows = n
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Bucket != b.Bucket {
			return a.Bucket < b.Bucket
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.VersionID < b.VersionID
	})
	return out
}

// readObject reads the rows of one object, given its manifest (the zero
// Manifest for an object the index does not know). Entries of the
// manifest's noncurrent versions are returned apart, unread. Entries of
// any other version but the manifest's current one, and rows whose version
// is gone, are stale: they are reported and deleted from the index.
func (s *Service) readObject(ctx context.Context, m indexing.Manifest, hits []*hit) ([]Record, []Stale, []*hit, error) {
	bucket, key := hits[0].entry.Bucket, hits[0].entry.ObjectKey
	// While a newer version is being indexed, or after it failed, the last
	// indexed version answers; the newer one's entries are not complete
	// yet and are left alone.
	answering, ok := m.Answering()
	var current, noncurrent []*hit
	var stale []Stale
	for _, h := range hits {
		switch {
		case ok && h.entry.VersionID == answering.VersionID:
			current = append(current, h)
		case m.Retains(h.entry.VersionID):
			noncurrent = append(noncurrent, h)
		case m.Status == indexing.StatusIndexing:
			// The indexer at work deletes what is not its own.
		case !ok:
			stale = append(stale, s.repair(ctx, h, "object is "+orUnknown(m.Status)))
		default:
			stale = append(stale, s.repair(ctx, h, "version is no longer current"))
		}
	}
	m = answering
	if len(current) > 0 && m.Format == indexing.FormatWorkbook {
		recs, gone, err := s.readWorkbook(ctx, m, current)
		return recs, append(stale, gone...), noncurrent, err
	}
	if len(current) == 0 || len(m.Header) == 0 {
		// Still being indexed for the first time: its header is not recorded yet.
		return nil, stale, noncurrent, nil
	}
	// The row is read back as the index read it: same delimiter, same
	// encoding (its byte range is in the object's own bytes).
	opts := leads.Options{Encoding: m.Encoding, CRLineEnds: m.CRLineEnds}
	if m.Delimiter != "" {
		opts.Delimiter = []rune(m.Delimiter)[0]
	}
	sort.Slice(current, func(i, j int) bool { return current[i].entry.Offset < current[j].entry.Offset })
	var recs []Record
	for _, span := range s.coalesce(current) {
		first, last := span[0].entry, span[len(span)-1].entry
		start, end := first.Offset, last.Offset+last.Length
		for _, h := range span {
			end = max(end, h.entry.Offset+h.entry.Length)
		}
		buf, err := s.Objects.ReadRange(ctx, bucket, key, m.VersionID, start, end)
		if errors.Is(err, veil.ErrNotFound) {
			for _, h := range span {
				stale = append(stale, s.repair(ctx, h, "version is gone"))
			}
			continue
		}
		if err != nil {
			return nil, nil, nil, err
		}
		for _, h := range span {
			raw := buf[h.entry.Offset-start : h.entry.Offset-start+h.entry.Length]
			rec, err := leads.ParseRecord(raw, m.Header, opts)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("s3://%s/%s@%s row %d: %w", bucket, key, m.VersionID, h.entry.Row, err)
			}
			recs = append(recs, record(m, h, m.Header, m.Columns, rec.Fields))
		}
	}
	return recs, stale, noncurrent, nil
}

// record makes the answer for one row: its fields by header name, and the
// kinds it matched on.
func record(m indexing.Manifest, h *hit, header []string, cols []indexing.Column, values []string) Record {
	fields := make(map[string]string, len(header))
	for i, name := range header {
		if i < len(values) {
			fields[name] = values[i]
		}
	}
	values = slices.Clone(values)
	matched := make([]string, 0, len(h.kinds))
	for k := range h.kinds {
		matched = append(matched, k)
	}
	sort.Strings(matched)
	keys := make([]string, 0, len(h.keys))
	for k := range h.keys {
		keys = append(keys, k)
	}
	// The row's name: its name columns' values, in header order.
	var name []string
	for _, c := range cols {
		switch c.Kind {
		case identifiers.FirstName.String(), identifiers.LastName.String(), identifiers.FullName.String():
			if v := fields[c.Header]; v != "" {
				name = append(name, v)
			}
		}
	}
	kinds := make([]string, len(header))
	for i, name := range header {
		kinds[i] = identifiers.Business.String()
		for _, c := range cols {
			if c.Header == name {
				kinds[i] = c.Kind
				break
			}
		}
	}
	return Record{Bucket: m.Bucket, Key: m.Key, VersionID: m.VersionID, Sheet: h.entry.Sheet, Row: h.entry.Row,
		Campaign: m.Campaign, Fields: fields, MatchedOn: matched, Header: header, Kinds: kinds, Values: values,
		keys: keys, name: strings.Join(name, " ")}
}

// flagPlaceholders marks the records' identifiers that belong to nobody:
// a documented placeholder value, or one whose rows carry more than
// limit different names (identifiers.SharedByMany).
func flagPlaceholders(recs []Record, keys []keyed, limit int) {
	byKey := make(map[string][]int, len(keys))
	for i, r := range recs {
		for _, k := range r.keys {
			byKey[k] = append(byKey[k], i)
		}
	}
	nobody := map[string]string{} // key → its kind, for the placeholders
	for _, k := range keys {
		rows := byKey[k.key]
		names := make([]string, len(rows))
		for i, r := range rows {
			names[i] = recs[r].name
		}
		if k.placeholder || identifiers.SharedByMany(names, limit) {
			nobody[k.key] = k.kind
		}
	}
	for i := range recs {
		r := &recs[i]
		only := len(r.keys) > 0
		for _, k := range r.keys {
			kind, ok := nobody[k]
			if !ok {
				only = false
				continue
			}
			if !slices.Contains(r.Placeholders, kind) {
				r.Placeholders = append(r.Placeholders, kind)
			}
		}
		sort.Strings(r.Placeholders)
		r.PlaceholderOnly = only
	}
}

// ForConsumer returns the result as a consumer may see it: without the
// rows matched only on identifiers that belong to nobody (whoever controls
// test@test.com must not receive every row agents typed it into), and
// without the noncurrent versions, which are staff's to purge.
func (r Result) ForConsumer() Result {
	out := r
	out.Noncurrent = nil
	out.Records = make([]Record, 0, len(r.Records))
	for _, rec := range r.Records {
		if !rec.PlaceholderOnly {
			out.Records = append(out.Records, rec)
		}
	}
	return out
}

// readWorkbook reads the rows of one workbook version: the whole object,
// once, each sheet's rows streamed up to the last one wanted. A row or
// sheet that is no longer there is stale.
func (s *Service) readWorkbook(ctx context.Context, m indexing.Manifest, hits []*hit) ([]Record, []Stale, error) {
	obj, err := s.Objects.Open(ctx, m.Bucket, m.Key, m.VersionID)
	if errors.Is(err, veil.ErrNotFound) {
		var stale []Stale
		for _, h := range hits {
			stale = append(stale, s.repair(ctx, h, "version is gone"))
		}
		return nil, stale, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer obj.Close()
	wb, err := workbook.Open(obj, workbook.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("s3://%s/%s@%s: %w", m.Bucket, m.Key, m.VersionID, err)
	}
	defer wb.Close()
	bySheet := map[string][]*hit{}
	for _, h := range hits {
		bySheet[h.entry.Sheet] = append(bySheet[h.entry.Sheet], h)
	}
	var recs []Record
	var stale []Stale
	for _, sheet := range m.Sheets {
		hs := bySheet[sheet.Name]
		if len(hs) == 0 {
			continue
		}
		delete(bySheet, sheet.Name)
		rows := make([]int, len(hs))
		for i, h := range hs {
			rows[i] = int(h.entry.Row)
		}
		got, err := wb.ReadRows(sheet.Name, rows)
		if err != nil {
			return nil, nil, fmt.Errorf("s3://%s/%s@%s sheet %q: %w", m.Bucket, m.Key, m.VersionID, sheet.Name, err)
		}
		for _, h := range hs {
			values, ok := got[int(h.entry.Row)]
			if !ok {
				stale = append(stale, s.repair(ctx, h, "row is gone"))
				continue
			}
			recs = append(recs, record(m, h, sheet.Header, sheet.Columns, values))
		}
	}
	for _, hs := range bySheet {
		for _, h := range hs {
			stale = append(stale, s.repair(ctx, h, "sheet is not in the index"))
		}
	}
	return recs, stale, nil
}

func orUnknown(status string) string {
	if status == "" {
		return "not in the index"
	}
	return status
}

// repair deletes a stale row's entries; a failed delete is left for the next
// search or reindex to retry, as the answer is right either way.
func (s *Service) repair(ctx context.Context, h *hit, reason string) Stale {
	for _, e := range h.entries {
		_ = s.Index.DeleteEntry(ctx, e)
	}
	return Stale{Bucket: h.entry.Bucket, Key: h.entry.ObjectKey, VersionID: h.entry.VersionID, Row: h.entry.Row, Reason: reason}
}

// coalesce groups rows sorted by offset into spans one ranged GET reads.
func (s *Service) coalesce(hits []*hit) [][]*hit {
	maxGap, maxSpan := s.MaxGap, s.MaxSpan
	if maxGap <= 0 {
		maxGap = 64 << 10
	}
	if maxSpan <= 0 {
		maxSpan = 1 << 20
	}
	var spans [][]*hit
	for _, h := range hits {
		if n := len(spans); n > 0 {
			span := spans[n-1]
			start := span[0].entry.Offset
			last := span[len(span)-1].entry
			if h.entry.Offset-(last.Offset+last.Length) <= maxGap && h.entry.Offset+h.entry.Length-start <= maxSpan {
				spans[n-1] = append(span, h)
				continue
			}
		}
		spans = append(spans, []*hit{h})
	}
	return spans
}

// group returns an errgroup running at most Concurrency jobs at once.
func (s *Service) group(ctx context.Context) (*errgroup.Group, context.Context) {
	g, ctx := errgroup.WithContext(ctx)
	n := s.Concurrency
	if n <= 0 {
		n = 8
	}
	g.SetLimit(n)
	return g, ctx
}

// ReadRows reads back the rows entries point at in m's answering version,
// as a search answers them (Header, Kinds, Values; MatchedOn the entries'
// kinds), for a caller that found the entries itself, by key (the
// suppression scrub of a list). Entries of another version are left out.
func (s *Service) ReadRows(ctx context.Context, m indexing.Manifest, entries []indexing.Entry) ([]Record, error) {
	byRow := map[rowID]*hit{}
	var hits []*hit
	for _, e := range entries {
		name := ""
		if k, err := identifiers.ParseKind(e.Kind); err == nil {
			name = KindNames[k]
		}
		if h := addHit(byRow, e, name, e.Key); len(h.entries) == 1 {
			hits = append(hits, h)
		}
	}
	if len(hits) == 0 {
		return nil, nil
	}
	a, ok := m.Answering()
	if !ok {
		return nil, nil
	}
	current := hits[:0]
	for _, h := range hits {
		if h.entry.VersionID == a.VersionID {
			current = append(current, h)
		}
	}
	if len(current) == 0 {
		return nil, nil
	}
	m.Noncurrent = nil // nothing read here is repaired away
	recs, _, _, err := s.readObject(ctx, m, current)
	return recs, err
}

// Name returns the row's name fields joined in header order ("" when the
// list has no name column or the row leaves it empty).
func (r Record) Name() string { return r.name }

// Ref returns a short reference to the row (its object version and
// position, hashed): what a review names a row by without quoting it.
func (r Record) Ref() string {
	sum := sha256.Sum256([]byte(r.Bucket + "\x00" + r.Key + "\x00" + r.VersionID + "\x00" + r.Sheet + "\x00" + strconv.FormatInt(r.Row, 10)))
	return hex.EncodeToString(sum[:8])
}

// WithName returns r with its name fields set to name: for tests and
// fakes, which cannot set the unexported name a search reads from a row.
func (r Record) WithName(name string) Record {
	r.name = name
	return r
}

// HashPrefixes returns "kind:prefix" for each of ids, the prefix of its
// key under the active secret (identifiers.HashPrefix): enough to follow
// an identifier through an audit record without holding its key or
// value. It fails as Search does for an identifier that is malformed.
func (s *Service) HashPrefixes(ids []Identifier) ([]string, error) {
	keys, err := s.keys(ids)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.kind + ":" + identifiers.HashPrefix(k.key)
	}
	return out, nil
}
