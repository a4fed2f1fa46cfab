package indexing

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/veil"
	"github.com/veil-privacy/veil/pkg/workbook"
)

// Manifest statuses. An object is searchable only while "indexed"; a
// manifest "indexing" is a claim in progress and never looks complete.
const (
	StatusIndexing = "indexing"
	StatusIndexed  = "indexed"
	StatusRemoved  = "removed"
	StatusFailed   = "failed"
)

// Column is a column of a list as the index classified it.
type Column struct {
	Header string `json:"header" dynamodbav:"header"`
	Kind   string `json:"kind" dynamodbav:"kind"`
	By     string `json:"by" dynamodbav:"by"`
}

// Manifest is what the index knows about one object (the key's current
// version). It holds no personal data: headers, counts and classes only.
type Manifest struct {
	Bucket    string
	Key       string
	VersionID string
	Sequencer string // padded, see PadSequencer
	Status    string
	Campaign  string
	// Format is FormatCSV or FormatWorkbook.
	Format string
	// Encoding is the text encoding the list was decoded with (an
	// htmlindex name: "utf-8", "utf-16le", "utf-16be", "windows-1252", …);
	// empty for workbooks.
	Encoding string
	// HeaderLine is the 1-based physical line of the header (lines above
	// it are a preamble: a title, an export date, blank lines).
	HeaderLine int
	Header     []string
	Delimiter  string
	// CRLineEnds says the list's lines end with a lone CR (old Mac Excel).
	CRLineEnds bool
	Columns    []Column
	// Sheets describes each sheet of a workbook; empty for text lists.
	Sheets  []Sheet
	Rows    int64
	Entries int64
	// UnreadableRows counts rows that could not be read at all; they are
	// not indexed, the rest of the list is. UnreadableLines are the first
	// MaxUnreadableLines of their line numbers (for a workbook, row numbers
	// of its sheets, in sheet order).
	UnreadableRows  int64
	UnreadableLines []int
	// Invalid counts identifier values that could not be normalized.
	Invalid int64
	// MinorsUnder16 counts rows whose date of birth makes the consumer
	// younger than 16 on IndexedAt (-1 when the list has no such column).
	MinorsUnder16 int64
	Error         string
	// Size and ETag are VersionID's, as S3 describes the version (the
	// size is that of the bytes read when it was indexed).
	Size      int64
	ETag      string
	IndexedAt time.Time
	UpdatedAt time.Time
	// Previous is the key's last indexed version while a newer one is
	// being indexed, or after the newer one failed: its entries stay, and
	// searches answer from it until a newer version is indexed (or the
	// key is removed). Nil otherwise.
	Previous *Readable
	// Chunked says the version is (or was) indexed in chunks by a
	// Chunker's job rather than by the change that claimed it.
	Chunked bool
	// KeyID is the ID of the HMAC key (indexkey.ID) the version is being
	// or was indexed under: "" for a manifest written before keys had IDs,
	// or for a chunked version whose chunks were indexed under different
	// keys (during a key rotation). `veil rotate-key` reads it to tell
	// which lists still need re-keying.
	KeyID string
	// Noncurrent lists the older versions S3 still keeps whose entries
	// the index keeps too (see noncurrent.go), newest first: erasure finds
	// and purges them, ordinary searches leave them out.
	Noncurrent []Retained
}

// Readable is what reading an indexed version's rows back needs.
type Readable struct {
	VersionID  string   `dynamodbav:"versionId"`
	Format     string   `dynamodbav:"format,omitempty"`
	Encoding   string   `dynamodbav:"encoding,omitempty"`
	HeaderLine int      `dynamodbav:"headerLine,omitempty"`
	Header     []string `dynamodbav:"header,omitempty"`
	Delimiter  string   `dynamodbav:"delimiter,omitempty"`
	CRLineEnds bool     `dynamodbav:"crLineEnds,omitempty"`
	Sheets     []Sheet  `dynamodbav:"sheets,omitempty"`
	// Columns are the version's column classes (a text list's; a
	// workbook's are in Sheets).
	Columns []Column `dynamodbav:"columns,omitempty"`
	// Entries counts the version's entries in the index.
	Entries int64 `dynamodbav:"entries,omitempty"`
	// KeyID is the manifest's KeyID when the version was indexed.
	KeyID string `dynamodbav:"keyId,omitempty"`
}

// Answering returns the manifest as searches read it: the indexed version
// itself, or, while a newer version is being indexed or after it failed,
// the last indexed version (its Readable fields in place of the
// manifest's). ok is false when no version of the object can answer.
func (m Manifest) Answering() (Manifest, bool) {
	switch {
	case m.Status == StatusIndexed:
		return m, true
	case (m.Status == StatusIndexing || m.Status == StatusFailed) && m.Previous != nil:
		p := m.Previous
		m.VersionID, m.Format, m.Encoding, m.HeaderLine = p.VersionID, p.Format, p.Encoding, p.HeaderLine
		m.Header, m.Delimiter, m.CRLineEnds, m.Sheets = p.Header, p.Delimiter, p.CRLineEnds, p.Sheets
		m.Entries, m.KeyID = p.Entries, p.KeyID
		if p.Columns != nil {
			m.Columns = p.Columns
		}
		return m, true
	}
	return Manifest{}, false
}

// lastIndexed returns what the manifest prev says the key's last indexed
// version is (nil when none). It may be version itself, being read again:
// its entries are rewritten as they were, so they may answer meanwhile.
func lastIndexed(prev Manifest) *Readable {
	r := prev.Previous
	if prev.Status == StatusIndexed {
		r = &Readable{VersionID: prev.VersionID, Format: prev.Format, Encoding: prev.Encoding, HeaderLine: prev.HeaderLine,
			Header: prev.Header, Delimiter: prev.Delimiter, CRLineEnds: prev.CRLineEnds, Sheets: prev.Sheets, Entries: prev.Entries,
			KeyID: prev.KeyID, Columns: prev.Columns}
	}
	return r
}

// Formats of a lead list.
const (
	FormatCSV      = "csv"
	FormatWorkbook = "xlsx"
)

// MaxUnreadableLines bounds Manifest.UnreadableLines.
const MaxUnreadableLines = 100

// Sheet is one sheet of a workbook as the index read it.
type Sheet struct {
	Name string `json:"name" dynamodbav:"name"`
	// HeaderRow is the 1-based spreadsheet row of the sheet's header.
	HeaderRow int      `json:"headerRow" dynamodbav:"headerRow"`
	Header    []string `json:"header" dynamodbav:"header"`
	Columns   []Column `json:"columns" dynamodbav:"columns"`
	Rows      int64    `json:"rows" dynamodbav:"rows"`
	// Skipped says why the sheet holds no lead rows ("" when it does):
	// an empty sheet, or one without an identifier column.
	Skipped string `json:"skipped,omitempty" dynamodbav:"skipped,omitempty"`
}

// ColumnMap is what an admin pins for a campaign's lists, over what the
// index would guess: column kinds by header, and the text encoding.
type ColumnMap struct {
	// Columns maps header names to kind names (identifiers.Kind.String).
	Columns map[string]string
	// Encoding is an encoding label golang.org/x/text/encoding/htmlindex
	// knows ("" detects it).
	Encoding string
}

// Entry is one index entry: an identifier's key and the row that holds it.
type Entry struct {
	Key       string // hex HMAC of kind and normalized value
	Kind      string
	Bucket    string
	ObjectKey string
	VersionID string
	// Sheet names the workbook sheet of the row ("" for a text list).
	Sheet string
	// Row is the record's number: 1 for the first data record after the
	// header of a text list; the spreadsheet row number in a workbook.
	Row    int64
	Offset int64 // byte offset of the record in the object (text lists)
	Length int64 // byte length of the record (text lists)
	// Placeholder marks a value that identifies nobody (N/A, 0000000000,
	// test@test.com; see identifiers.Placeholder): findable by staff, its
	// entries spread over several partitions, never a consumer's answer.
	Placeholder bool
	// KeyID is the ID of the HMAC key Key was computed under ("" for an
	// entry written before keys had IDs).
	KeyID string
}

// Index is the index's storage.
type Index interface {
	// Manifest returns the manifest of bucket/key or an error wrapping
	// veil.ErrNotFound.
	Manifest(ctx context.Context, bucket, key string) (Manifest, error)
	// Claim writes m over the manifest whose sequencer is over ("": over
	// none), as one compare-and-swap; it reports whether it did. A claim
	// computed from a manifest read before another change's claim fails,
	// so that what it keeps (Previous) is never out of date.
	Claim(ctx context.Context, m Manifest, over string) (bool, error)
	// Finish writes m if the stored manifest still has m's sequencer; it
	// reports whether it did.
	Finish(ctx context.Context, m Manifest) (bool, error)
	// PutEntries writes entries; writing one twice is harmless.
	PutEntries(ctx context.Context, entries []Entry) error
	// DeleteEntries deletes the entries of bucket/key page by page, in
	// constant memory, and returns how many it deleted. After reading each
	// page, and before deleting any of it, it calls keep for the rule of
	// that page: the entries whose version and key ID the rule accepts
	// stay. When
	// keep returns an error (ErrSuperseded: a later change owns the key
	// now) it stops and returns that error.
	DeleteEntries(ctx context.Context, bucket, key string, keep KeepFunc) (int, error)
	// ColumnMap returns a campaign's column map; none is an empty
	// ColumnMap, not an error.
	ColumnMap(ctx context.Context, campaign string) (ColumnMap, error)
}

// KeepFunc returns which entries, by version and key ID (Entry.KeyID), a
// page of deletes keeps. It is
// called once per page of entries, after the page is read: an entry in the
// page was written after its version's claim, so a manifest read by keep
// shows that claim (or a later one), and a deleter that checks ownership
// here never deletes the entries of a change that claimed the key after it.
type KeepFunc func(ctx context.Context) (keep func(versionID, keyID string) bool, err error)

// ErrSuperseded stops a deleter whose claim a later change took over.
var ErrSuperseded = errors.New("a later change owns the key")

// Version is one version of an object as S3 describes it.
type Version struct {
	ID   string
	ETag string
	Size int64
}

// Objects reads the leads bucket.
type Objects interface {
	// Current returns the current version of bucket/key; exists is false
	// when there is none (never created, deleted, or a delete marker).
	Current(ctx context.Context, bucket, key string) (v Version, exists bool, err error)
	// Open streams one version of an object.
	Open(ctx context.Context, bucket, key, versionID string) (io.ReadCloser, error)
	// Versions returns the IDs of every version S3 keeps of exactly
	// bucket/key, delete markers left out.
	Versions(ctx context.Context, bucket, key string) ([]string, error)
}

// Service keeps the index equal to the leads bucket's current objects.
type Service struct {
	Index   Index
	Objects Objects
	// Secret is the active HMAC key; KeyID is its ID (indexkey.ID), which
	// every entry and manifest written records.
	Secret []byte
	KeyID  string
	Region string // default region of phone numbers ("" = US)
	// BatchSize is how many entries are written at a time (default 500).
	BatchSize int
	// ChunkBytes is the size past which a text list is handed to Chunker
	// and indexed in chunks of about this many bytes (0: never).
	ChunkBytes int64
	Chunker    Chunker
	// Work and WorkBucket keep the chunk plans (see chunk.go).
	Work       WorkStore
	WorkBucket string
	// DeadlineMargin is how long before ctx's deadline a list being read
	// in one pass is handed to Chunker (or failed, without one); 0 is 10%
	// of the time left when reading starts, at most 30 s.
	DeadlineMargin time.Duration
	Now            func() time.Time
	Logger         *slog.Logger
}

// InputError is a lead list Veil cannot index: its content is at fault,
// not the service, so retrying does not help. Its type name is the
// errorType the workflow and the dead-letter alarm see.
type InputError struct {
	Bucket, Key, VersionID string
	Reason                 string
}

// Error names the object and the reason (never a value of the list).
func (e *InputError) Error() string {
	return fmt.Sprintf("lead list s3://%s/%s@%s cannot be indexed: %s", e.Bucket, e.Key, e.VersionID, e.Reason)
}

// sampleRows is how many records classification looks at.
const sampleRows = 100

// Apply brings the index of c's key up to date with the bucket. It is
// idempotent and independent of order: a change not later than the one
// already applied is skipped, and the work itself reconciles with the key's
// current version in S3, whatever the change said. It returns an
// *InputError for a list that cannot be indexed (the manifest says why),
// other errors for failures worth a retry.
func (s *Service) Apply(ctx context.Context, c ObjectChange) error {
	if FolderMarker(c.Key) {
		s.log().DebugContext(ctx, "folder marker ignored", "bucket", c.Bucket, "key", c.Key)
		return nil
	}
	for range maxClaimRaces {
		if err := s.apply(ctx, c); !errors.Is(err, errClaimRace) {
			return err
		}
	}
	return fmt.Errorf("s3://%s/%s: %d other changes claimed the key while this one tried: %w", c.Bucket, c.Key, maxClaimRaces, errClaimRace)
}

// errClaimRace says the key changed under this change: another change
// claimed it between reading its manifest and claiming it, or the version
// being read was deleted. Apply reads the manifest and S3 again.
var errClaimRace = errors.New("the key's manifest changed before it could be claimed")

// maxClaimRaces bounds how often Apply starts over after errClaimRace.
const maxClaimRaces = 20

// claim writes m over prev, or returns errClaimRace.
func (s *Service) claim(ctx context.Context, m Manifest, prev Manifest) error {
	ok, err := s.Index.Claim(ctx, m, prev.Sequencer)
	if err == nil && !ok {
		return errClaimRace
	}
	return err
}

func (s *Service) apply(ctx context.Context, c ObjectChange) error {
	seq := PadSequencer(c.Sequencer)
	prev, err := s.Index.Manifest(ctx, c.Bucket, c.Key)
	switch {
	case errors.Is(err, veil.ErrNotFound):
		prev = Manifest{}
	case err != nil:
		return err
	}
	if c.Reconcile {
		seq = max(prev.Sequencer, PadSequencer("0"))
	}
	if prev.Sequencer != "" && prev.Sequencer >= seq && !c.Reconcile {
		switch {
		case prev.Status == StatusFailed && prev.Sequencer == seq:
			// The same change again: fail the same way, without rereading,
			// so that the message reaches the dead-letter queue.
			return &InputError{Bucket: c.Bucket, Key: c.Key, VersionID: prev.VersionID, Reason: prev.Error}
		case prev.Status == StatusIndexed && prev.Sequencer == seq:
			// The same change again after it finished: the other versions'
			// entries, dropped after the finish, may not all be gone yet.
			s.log().DebugContext(ctx, "change already applied", "bucket", c.Bucket, "key", c.Key, "sequencer", c.Sequencer)
			version, keyID := prev.VersionID, prev.KeyID
			return s.dropOthers(ctx, c.Bucket, c.Key, seq, keepingRetained(prev.Noncurrent, func(v, k string) bool {
				return v == version && (keyID == "" || k == keyID)
			}))
		case prev.Status != StatusIndexing || prev.Sequencer > seq:
			s.log().DebugContext(ctx, "change already applied", "bucket", c.Bucket, "key", c.Key, "sequencer", c.Sequencer)
			return nil
		}
	}
	if prev.Chunked && prev.Status == StatusIndexing && prev.Sequencer == seq && !c.Force {
		// The change again, its chunked job started: starting it again
		// is a no-op, and a new claim would erase the job's plan.
		return s.startChunked(ctx, prev)
	}
	current, exists, err := s.Objects.Current(ctx, c.Bucket, c.Key)
	if err != nil {
		return err
	}
	version := current.ID
	// Size and ETag are the current version's as S3 says, whatever version
	// the change was about (a removed old one, say); the size is confirmed
	// by the bytes read.
	m := Manifest{Bucket: c.Bucket, Key: c.Key, VersionID: version, Sequencer: seq, Campaign: Campaign(c.Key),
		UpdatedAt: s.now(), MinorsUnder16: -1, Size: current.Size, ETag: current.ETag, KeyID: s.KeyID}
	if !exists {
		// Claimed as work in progress and finished once the entries are
		// gone: a crash in between leaves a claim that this change, sent
		// again, completes, never a "removed" manifest over live entries.
		// The versions under the delete marker are noncurrent: S3 keeps
		// them, and so does the index, out of ordinary answers.
		m.Status = StatusIndexing
		if m.Noncurrent, err = s.retain(ctx, c.Bucket, c.Key, "", append(retainedOf(lastIndexed(prev), s.now()), prev.Noncurrent...)); err != nil {
			return err
		}
		if err := s.claim(ctx, m, prev); err != nil {
			return err
		}
		if _, err := s.Index.DeleteEntries(ctx, c.Bucket, c.Key, s.owner(c.Bucket, c.Key, seq, keepingRetained(m.Noncurrent, keepNone))); err != nil {
			return superseded(err)
		}
		m.Status, m.UpdatedAt = StatusRemoved, s.now()
		_, err := s.Index.Finish(ctx, m)
		return err
	}
	// Once this version is written in full under the active key, its
	// entries under any other key (a re-key's old ones, or columns no
	// longer identifiers) are stale: every current one was just written.
	keepCurrent := func(v, k string) bool { return v == version && k == s.KeyID }
	if c.Reconcile && !c.Force && prev.Status == StatusFailed && prev.VersionID == version {
		return &InputError{Bucket: c.Bucket, Key: c.Key, VersionID: version, Reason: prev.Error}
	}
	if prev.Status == StatusIndexed && prev.VersionID == version && !c.Force {
		// Nothing new to read: record a later sequencer and the
		// noncurrent versions S3 still has (this change may be an old
		// version's deletion or expiry), drop strays.
		noncurrent, err := s.retain(ctx, c.Bucket, c.Key, version, prev.Noncurrent)
		if err != nil {
			return err
		}
		if prev.Sequencer != seq || !sameRetained(noncurrent, prev.Noncurrent) {
			next := prev
			next.Sequencer, next.UpdatedAt, next.Noncurrent = seq, s.now(), noncurrent
			if err := s.claim(ctx, next, prev); err != nil {
				return err
			}
		}
		// The version was not reread: its entries stay whatever their key.
		keepVersion := keepingRetained(noncurrent, func(v, _ string) bool { return v == version })
		_, err = s.Index.DeleteEntries(ctx, c.Bucket, c.Key, s.owner(c.Bucket, c.Key, seq, keepVersion))
		return superseded(err)
	}
	m.Status = StatusIndexing
	// Until this version is indexed, searches answer from the last one.
	m.Previous = lastIndexed(prev)
	// A re-key rereads the version under a new key: its entries under the
	// old key are other items (another partition), so they go on
	// answering, the version its own Previous, until the new ones are
	// all written.
	rekey := c.Force && prev.VersionID == version && prev.KeyID != s.KeyID
	switch {
	case m.Previous == nil:
	case c.Force && m.Previous.VersionID == version && !rekey:
		m.Previous = nil // reread below from scratch
	case c.Removed && m.Previous.VersionID == c.VersionID:
		m.Previous = nil // the last indexed version itself is gone from S3
	}
	// The last indexed version becomes noncurrent once this one is
	// indexed; listed from S3 now, with the others still kept.
	retained, err := s.retain(ctx, c.Bucket, c.Key, version, append(retainedOf(m.Previous, s.now()), prev.Noncurrent...))
	if err != nil {
		return err
	}
	m.Noncurrent = slices.DeleteFunc(slices.Clone(retained), func(r Retained) bool { return m.Previous != nil && r.VersionID == m.Previous.VersionID })
	if len(m.Noncurrent) == 0 {
		m.Noncurrent = nil
	}
	keepPrevious := keepingRetained(m.Noncurrent, func(v, _ string) bool { return m.Previous != nil && v == m.Previous.VersionID })
	if err := s.claim(ctx, m, prev); err != nil {
		return err
	}
	if c.Force && prev.VersionID == version {
		// Rereading the same version under another column map: entries of
		// columns no longer identifiers would not be overwritten. Entries
		// under another key stay until the reread is done (keepCurrent).
		keepOtherKeys := func(v, k string) bool { return keepPrevious(v, k) && !(rekey && v == version && k == s.KeyID) }
		if _, err := s.Index.DeleteEntries(ctx, c.Bucket, c.Key, s.owner(c.Bucket, c.Key, seq, keepOtherKeys)); err != nil {
			return s.yieldIfSuperseded(ctx, err, c.Bucket, c.Key, version)
		}
	}
	if chunked, err := s.chunks(ctx, &m); err != nil || chunked {
		if err == nil {
			err = s.handOver(ctx, m)
		}
		return err
	}
	if err := s.index(ctx, &m); err != nil {
		if de := (*deadlineError)(nil); errors.As(err, &de) {
			var handedOver bool
			if handedOver, err = s.outOfTime(ctx, m, de); handedOver {
				return err
			}
		}
		var ie *InputError
		switch {
		case errors.Is(err, veil.ErrNotFound):
			// The version was deleted since Current named it: start over
			// from the key's manifest (this claim) and its new current
			// version.
			return errClaimRace
		case !errors.As(err, &ie):
			return err
		}
		// The version that cannot be indexed leaves none of its entries;
		// the last indexed version, if any, goes on answering (the object
		// is named unreadable) until a version is indexed or the key goes.
		if _, derr := s.Index.DeleteEntries(ctx, c.Bucket, c.Key, s.owner(c.Bucket, c.Key, seq, keepPrevious)); derr != nil {
			if yerr := s.yieldIfSuperseded(ctx, derr, c.Bucket, c.Key, version); yerr != nil {
				return yerr
			}
			return err
		}
		m.Status, m.Error, m.UpdatedAt = StatusFailed, ie.Reason, s.now()
		ok, ferr := s.Index.Finish(ctx, m)
		if ferr != nil {
			return ferr
		}
		if !ok {
			if yerr := s.yield(ctx, c.Bucket, c.Key, version); yerr != nil {
				return yerr
			}
		}
		return err
	}
	// Indexed first, the other versions' entries dropped after: deleting
	// them first would empty the version searches answer from (Previous)
	// while the new one, whole already, is not yet the one answering.
	m.Status, m.IndexedAt, m.UpdatedAt, m.Previous, m.Noncurrent = StatusIndexed, s.now(), s.now(), nil, retained
	ok, err := s.Index.Finish(ctx, m)
	if err != nil {
		return err
	}
	if !ok {
		return s.yield(ctx, c.Bucket, c.Key, version)
	}
	if err := s.dropOthers(ctx, c.Bucket, c.Key, seq, keepingRetained(retained, keepCurrent)); err != nil {
		return err
	}
	s.log().InfoContext(ctx, "object indexed", "bucket", c.Bucket, "key", c.Key, "versionId", version,
		"format", m.Format, "encoding", m.Encoding, "rows", m.Rows, "entries", m.Entries, "invalid", m.Invalid,
		"unreadableRows", m.UnreadableRows, "minorsUnder16", m.MinorsUnder16)
	return nil
}

func keepNone(string, string) bool { return false }

// dropOthers deletes, once the version holding the claim seq is indexed,
// the entries keep rejects (other versions', strays). Searches already
// answer from the indexed version and skip the rest as stale meanwhile. A
// later change that took the key over does this itself when it is done.
func (s *Service) dropOthers(ctx context.Context, bucket, key, seq string, keep func(versionID, keyID string) bool) error {
	_, err := s.Index.DeleteEntries(ctx, bucket, key, s.owner(bucket, key, seq, keep))
	return superseded(err)
}

// owner is the KeepFunc of the change holding the claim seq: each page of
// deletes reads the manifest again, applies keep while seq is still the
// claim, and stops with ErrSuperseded once a later change holds it. A
// later change's entries are only written after its claim, so they are
// never in a page this rule deletes from.
func (s *Service) owner(bucket, key, seq string, keep func(versionID, keyID string) bool) KeepFunc {
	return func(ctx context.Context) (func(string, string) bool, error) {
		m, err := s.Index.Manifest(ctx, bucket, key)
		if err != nil {
			return nil, err
		}
		if m.Sequencer != seq {
			return nil, ErrSuperseded
		}
		return keep, nil
	}
}

// superseded drops ErrSuperseded: the later change that owns the key does
// what this one would have.
func superseded(err error) error {
	if errors.Is(err, ErrSuperseded) {
		return nil
	}
	return err
}

// yieldIfSuperseded yields when err says a later change owns the key, and
// returns err otherwise.
func (s *Service) yieldIfSuperseded(ctx context.Context, err error, bucket, key, version string) error {
	if errors.Is(err, ErrSuperseded) {
		return s.yield(ctx, bucket, key, version)
	}
	return err
}

// yield deletes the entries of version after a later change took the key
// over, unless the manifest (read again for every page) is about the same
// version or answers from it: its entries are the very same items, and
// deleting them would empty an indexed object.
func (s *Service) yield(ctx context.Context, bucket, key, version string) error {
	mine := func(v, _ string) bool { return v != version }
	_, err := s.Index.DeleteEntries(ctx, bucket, key, func(ctx context.Context) (func(string, string) bool, error) {
		owner, err := s.Index.Manifest(ctx, bucket, key)
		if err != nil {
			return nil, err
		}
		if owner.VersionID == version || owner.Previous != nil && owner.Previous.VersionID == version || owner.Retains(version) {
			return nil, ErrSuperseded
		}
		return mine, nil
	})
	return superseded(err)
}

// index reads one object version and writes its entries, filling m's
// format, encoding, header, columns and counts.
func (s *Service) index(ctx context.Context, m *Manifest) error {
	obj, err := s.Objects.Open(ctx, m.Bucket, m.Key, m.VersionID)
	if err != nil {
		return err
	}
	defer obj.Close()
	body := &countingReader{r: obj}
	bad := func(reason string) error {
		return &InputError{Bucket: m.Bucket, Key: m.Key, VersionID: m.VersionID, Reason: reason}
	}
	cm, err := s.columnMap(ctx, m.Campaign)
	if err != nil {
		return err
	}
	w := &entryWriter{s: s, m: m}
	src := bufio.NewReaderSize(body, 4096)
	head, _ := src.Peek(8)
	switch workbook.Sniff(head) {
	case workbook.OLE2:
		return bad("not readable: " + workbook.ErrEncrypted.Error())
	case workbook.Zip:
		if err := s.indexWorkbook(ctx, w, src, cm, bad); err != nil {
			return err
		}
		m.Size = body.n
		return nil
	}
	m.Format = FormatCSV
	rd, err := leads.NewReader(src, leads.Options{RequireRows: true, Encoding: cm.encoding})
	if err != nil {
		return s.readError(err, bad)
	}
	m.Encoding = rd.Options().Encoding
	m.HeaderLine = rd.HeaderLine()
	m.Delimiter = string(rd.Options().Delimiter)
	m.CRLineEnds = rd.Options().CRLineEnds
	schema, minors, err := w.rows(ctx, "", s.timed(ctx, textRows{rd}, m), cm.overrides, bad)
	if err != nil {
		return err
	}
	if schema == nil {
		return bad("not a lead list: no identifier column (phone, email, customer ID or account number)")
	}
	m.Header = append([]string(nil), rd.Header()...)
	m.Columns = columnsOf(*schema)
	m.MinorsUnder16 = minors
	if err := w.flush(ctx); err != nil {
		return err
	}
	m.Size = body.n
	return nil
}

// indexWorkbook indexes every sheet of a workbook as a list of its own.
// A sheet without a header or an identifier column is recorded as skipped,
// with the reason; a workbook none of whose sheets is a lead list, or that
// cannot be opened, is an InputError.
func (s *Service) indexWorkbook(ctx context.Context, w *entryWriter, r io.Reader, cm campaignMap, bad func(string) error) error {
	m := w.m
	m.Format = FormatWorkbook
	wb, err := workbook.Open(r, workbook.Options{})
	if err != nil {
		if errors.Is(err, workbook.ErrEncrypted) || errors.Is(err, workbook.ErrNotWorkbook) ||
			errors.Is(err, workbook.ErrCorrupt) || errors.Is(err, workbook.ErrTooLarge) {
			return bad("not readable: " + err.Error())
		}
		return err
	}
	defer wb.Close()
	minors, indexed := int64(-1), 0
	for _, name := range wb.Sheets() {
		sheet := Sheet{Name: name}
		sr, err := wb.Sheet(name)
		var se *workbook.SheetError
		switch {
		case errors.As(err, &se) && !errors.Is(err, workbook.ErrCorrupt):
			sheet.Skipped = se.Err.Error()
			m.Sheets = append(m.Sheets, sheet)
			continue
		case errors.Is(err, workbook.ErrCorrupt):
			return bad(err.Error())
		case err != nil:
			return err
		}
		before := m.Rows
		schema, n, err := w.rows(ctx, name, s.timed(ctx, sheetRows{sr}, m), cm.overrides, bad)
		sr.Close()
		if err != nil {
			return err
		}
		sheet.HeaderRow, sheet.Header, sheet.Rows = sr.HeaderRow(), append([]string(nil), sr.Header()...), m.Rows-before
		if schema == nil {
			sheet.Skipped = "no identifier column"
		} else {
			sheet.Columns = columnsOf(*schema)
			indexed++
			if n >= 0 {
				minors = max(minors, 0) + n
			}
		}
		m.Sheets = append(m.Sheets, sheet)
	}
	if indexed == 0 {
		return bad("not a lead list: no sheet has an identifier column (phone, email, customer ID or account number)")
	}
	m.MinorsUnder16 = minors
	return w.flush(ctx)
}

// readError turns what the reader says about the content into an
// InputError and passes other failures (the S3 stream breaking) on.
func (s *Service) readError(err error, bad func(string) error) error {
	var pe *leads.ParseError
	if errors.As(err, &pe) || errors.Is(err, leads.ErrEmpty) {
		return bad(err.Error())
	}
	return err
}

// campaignMap is a campaign's column map, parsed.
type campaignMap struct {
	overrides map[string]identifiers.Kind
	encoding  string
}

// columnMap reads and checks a campaign's column map. A map naming an
// unknown kind or encoding fails the list: indexing it under a guess the
// admin overrode would be wrong.
func (s *Service) columnMap(ctx context.Context, campaign string) (campaignMap, error) {
	if campaign == "" {
		return campaignMap{}, nil
	}
	cm, err := s.Index.ColumnMap(ctx, campaign)
	if err != nil {
		return campaignMap{}, err
	}
	out := campaignMap{overrides: make(map[string]identifiers.Kind, len(cm.Columns)), encoding: cm.Encoding}
	for header, name := range cm.Columns {
		k, err := identifiers.ParseKind(name)
		if err != nil {
			return campaignMap{}, fmt.Errorf("column map of campaign %s, column %q: %w", campaign, header, err)
		}
		out.overrides[header] = k
	}
	if cm.Encoding != "" {
		if _, err := leads.LookupEncoding(cm.Encoding); err != nil {
			return campaignMap{}, fmt.Errorf("column map of campaign %s: %w", campaign, err)
		}
	}
	return out, nil
}

func (s *Service) batchSize() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return 500
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Campaign returns the campaign of an object key laid out as
// campaigns/<id>/…, or "".
func Campaign(key string) string {
	rest, ok := strings.CutPrefix(key, "campaigns/")
	if !ok {
		return ""
	}
	id, _, found := strings.Cut(rest, "/")
	if !found {
		return ""
	}
	return id
}
