// Package erasure answers the right to delete and the right to correct: an
// edit of some cells of some rows, applied to every copy of them. A job
// finds a consumer's rows through the index (current versions, and the
// noncurrent versions S3 still keeps), edits each object holding them in
// one streamed pass that keeps every other byte (pkg/rewrite), writes the
// result conditionally on the version it read, deletes every version that
// still holds the plaintext, searches again to prove nothing is left, puts
// the erased identifiers on the suppression list, and writes a certificate.
//
// A job is safe to run again at any point: the rows are found afresh each
// time, an edited row no longer matches (or, for a correction, is already
// as the edit would leave it), and a write that lost a race with another
// upload is redone on the new version.
package erasure

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/veil-privacy/veil/pkg/certificate"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/masking"
	"github.com/veil-privacy/veil/pkg/objectstore"
	"github.com/veil-privacy/veil/pkg/rewrite"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Job statuses. A job is queued when started, running while a function
// works on it, and ends completed (verified, nothing left, every list
// read), completed_with_gaps (verified, but a list could not be read:
// the coverage names it) or failed (something is left, or an error).
const (
	StatusQueued = "queued"
	// StatusAwaitingConfirmation: a staff job outside a privacy request
	// waits for a second person (Confirm) before it is queued.
	StatusAwaitingConfirmation = "awaiting_confirmation"
	StatusRunning              = "running"
	StatusCompleted            = "completed"
	StatusCompletedWithGaps    = "completed_with_gaps"
	StatusFailed               = "failed"
)

// Operations.
const (
	Erasure    = certificate.OperationErasure
	Correction = certificate.OperationCorrection
)

// Request is what a job is started with. Its identifiers and correction
// are personal data: they are kept only in the job's input file (KMS
// encrypted in the exports bucket), deleted when the job ends.
type Request struct {
	// RequestID is the privacy request the job answers ("" for a staff
	// action outside one).
	RequestID string `json:"requestId,omitempty"`
	// Requester is who started it (a staff subject, or the workflow).
	Requester string `json:"requester,omitempty"`
	// Reason is why a staff member runs it outside a privacy request.
	Reason string `json:"reason,omitempty"`
	// Operation is Erasure or Correction.
	Operation string `json:"operation"`
	// Jurisdiction picks the masking strategy through the policy; Strategy,
	// when set, overrides it.
	Jurisdiction string `json:"jurisdiction,omitempty"`
	Strategy     string `json:"strategy,omitempty"`
	// Identifiers are the consumer's.
	Identifiers []search.Identifier `json:"identifiers"`
	// Correction is what a correction sets.
	Correction *masking.Correction `json:"correction,omitempty"`
	// Name is the requester's, for a privacy request: rows under another
	// name (a household's shared landline) are left alone unless Include
	// names them (search.Record.Ref, a supervisor's review). Empty: every
	// row the identifiers match.
	Name    string   `json:"name,omitempty"`
	Include []string `json:"include,omitempty"`
}

// Touches reports whether a job of r edits rec: never a row matched only
// on placeholder identifiers, which are nobody's, and, for a request with
// a name, a row under another name only when a review included it.
func (r Request) Touches(rec search.Record) bool {
	if rec.PlaceholderOnly {
		return false
	}
	if r.Name == "" || rec.Name() == "" || identifiers.FoldName(r.Name) == identifiers.FoldName(rec.Name()) {
		return true
	}
	return slices.Contains(r.Include, rec.Ref())
}

// Job is one erasure or correction as it is recorded: no personal data.
type Job struct {
	ID        string `json:"jobId"`
	RequestID string `json:"requestId,omitempty"`
	Requester string `json:"requester,omitempty"`
	// Confirmer is who confirmed a job that awaited confirmation.
	Confirmer    string                    `json:"confirmer,omitempty"`
	Operation    string                    `json:"operation"`
	Strategy     string                    `json:"strategy,omitempty"`
	Status       string                    `json:"status"`
	Identifiers  []certificate.Identifier  `json:"identifiers"`
	Objects      []certificate.Object      `json:"objects"`
	Totals       certificate.Totals        `json:"totals"`
	Verification *certificate.Verification `json:"verification,omitempty"`
	Coverage     *indexing.Coverage        `json:"coverage,omitempty"`
	// Suppressed counts the suppression entries the job added.
	Suppressed int `json:"suppressed"`
	// Error says why the job failed (names objects, never values).
	Error string `json:"error,omitempty"`
	// Runs counts how often a function started on the job.
	Runs      int       `json:"runs"`
	Created   time.Time `json:"created"`
	Started   time.Time `json:"started,omitzero"`
	Completed time.Time `json:"completed,omitzero"`
	// Certificate holds the keys of the certificate's files in the
	// exports bucket once the job ended.
	Certificate *Files `json:"certificate,omitempty"`
}

// Files are the keys of a certificate's files.
type Files struct {
	JSON string `json:"json"`
	PDF  string `json:"pdf"`
}

// Ended reports whether the job is done, one way or the other.
func (j Job) Ended() bool {
	return j.Status == StatusCompleted || j.Status == StatusCompletedWithGaps || j.Status == StatusFailed
}

// JobStore keeps jobs (Jobs on the Requests table).
type JobStore interface {
	// Create records a new job; one with the same ID wraps veil.ErrConflict.
	Create(ctx context.Context, j Job) error
	Get(ctx context.Context, id string) (Job, error)
	Put(ctx context.Context, j Job) error
	// Advance records j only while the stored job's status is from; a job
	// that moved on wraps veil.ErrConflict.
	Advance(ctx context.Context, j Job, from string) error
}

// FileStore is the exports bucket: the job's input and certificate.
type FileStore interface {
	Put(ctx context.Context, key, requestID, contentType string, body io.Reader, size int64) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
	URL(ctx context.Context, key, name string) (string, error)
}

// Bucket is the leads bucket as a job reads and writes it
// (objectstore.Store).
type Bucket interface {
	Current(ctx context.Context, bucket, key string) (indexing.Version, bool, error)
	Open(ctx context.Context, bucket, key, version string) (io.ReadCloser, error)
	ReadRange(ctx context.Context, bucket, key, version string, start, end int64) ([]byte, error)
	Versions(ctx context.Context, bucket, key string) ([]string, error)
	EachVersion(ctx context.Context, bucket, key string, fn func(objectstore.ObjectVersion) error) error
	PutIfMatch(ctx context.Context, bucket, key, etag string, body io.Reader, size int64, contentType string) (string, error)
	DeleteVersion(ctx context.Context, bucket, key, version string) error
}

// Index is what a job reads of the index beyond searching: manifests, and
// campaigns' column maps (to read a version the index has not yet).
type Index interface {
	search.Index
	ColumnMap(ctx context.Context, campaign string) (indexing.ColumnMap, error)
}

// Service runs jobs.
type Service struct {
	// Search finds rows, under every key of the keyring.
	Search *search.Service
	Index  Index
	Bucket Bucket
	Files  FileStore
	Jobs   JobStore
	// Suppression, with Hasher, receives the erased identifiers (nil: no
	// suppression list).
	Suppression *suppression.Store
	Hasher      *suppression.Hasher
	// Secret is the index's active key, KeyID its ID: hash prefixes in
	// certificates, and the key a version the index has not read yet is
	// read under.
	Secret []byte
	KeyID  string
	// MaskKey keys the hmac strategy's tokens: never the index's key.
	MaskKey []byte
	Region  string
	Policy  masking.Policy
	// TempDir holds a rewritten object before it is written (default
	// os.TempDir()).
	TempDir string
	Now     func() time.Time
	Logger  *slog.Logger
}

// InputKey is where a job's input file lives in the exports bucket.
func InputKey(id string) string { return "erasures/" + id + "/input.json" }

// CertificateKeys are where a job's certificate files live: apart from
// inputs and exports, kept 24 months as the audit trail is.
func CertificateKeys(id string) Files {
	return Files{JSON: "certificates/" + id + "/certificate.json", PDF: "certificates/" + id + "/certificate.pdf"}
}

// NewID returns a new job ID; JobID returns the ID of a request's job of
// one operation, so that the workflow's task, run again, finds its job.
func NewID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "job-" + hex.EncodeToString(b)
}

// JobID is the job of request id's operation.
func JobID(requestID, operation string) string { return "req-" + requestID + "-" + operation }

// ValidID reports whether id can be a job ID: it names S3 keys.
func ValidID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// editor edits one matched row (masking.Masker, masking.Corrector).
type editor interface {
	EditRow(header, kinds, fields []string) (masking.Edit, error)
}

// check validates r and returns the editor it makes and the strategy's
// name ("" for a correction).
func (s *Service) check(r Request) (editor, string, error) {
	if len(r.Identifiers) == 0 {
		return nil, "", veil.Invalid("identifiers", "at least one identifier is required")
	}
	switch r.Operation {
	case Erasure:
		strategy := s.Policy.Strategy(r.Jurisdiction)
		if r.Strategy != "" {
			st, err := masking.ParseStrategy(r.Strategy)
			if err != nil {
				return nil, "", veil.Invalid("strategy", "not a masking strategy")
			}
			strategy = st
		}
		m, err := masking.NewMasker(masking.Config{Strategy: strategy, Key: s.MaskKey, Region: s.Region})
		if err != nil {
			return nil, "", err
		}
		return m, strategy.String(), nil
	case Correction:
		if r.Correction == nil {
			return nil, "", veil.Invalid("set", "a correction needs the values to set")
		}
		c, err := masking.NewCorrector(*r.Correction, s.Region)
		if err != nil {
			return nil, "", err
		}
		return c, "", nil
	}
	return nil, "", veil.Invalid("operation", "must be erasure or correction")
}

// hashed returns the identifiers as a certificate shows them: kind and
// the first characters of their key, each once.
func (s *Service) hashed(ids []search.Identifier) ([]certificate.Identifier, error) {
	norm, err := identifiers.NewNormalizer(s.Region)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []certificate.Identifier
	for _, id := range ids {
		name, ok := search.KindNames[id.Kind]
		if !ok {
			return nil, veil.Invalid(id.Field, "not an identifier kind")
		}
		n, err := norm.Normalize(id.Kind, id.Value)
		if err != nil {
			return nil, veil.Invalid(id.Field, "not a valid %s", name)
		}
		k := identifiers.Key(s.Secret, id.Kind, n)[:HashPrefix]
		if !seen[name+k] {
			seen[name+k] = true
			out = append(out, certificate.Identifier{Kind: name, HashPrefix: k})
		}
	}
	return out, nil
}

// HashPrefix is how many hex characters of an identifier's key a job and
// its certificate show.
const HashPrefix = 12

// Preview is what a job would change: no personal data, counts only.
type Preview struct {
	Operation   string                   `json:"operation"`
	Strategy    string                   `json:"strategy,omitempty"`
	Identifiers []certificate.Identifier `json:"identifiers"`
	Objects     []PreviewObject          `json:"objects"`
	// Rows counts the current rows that would be edited; Versions the
	// versions that would be purged (the current ones read, and the
	// noncurrent ones holding the identifiers).
	Rows     int64             `json:"rows"`
	Versions int64             `json:"versions"`
	Coverage indexing.Coverage `json:"coverage"`
}

// PreviewObject is one object a job would change.
type PreviewObject struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// Version is the current version that would be rewritten ("" when
	// only older versions hold the identifiers), Rows its rows.
	Version string `json:"version,omitempty"`
	Rows    int64  `json:"rows"`
	// Noncurrent are the older versions that would be deleted.
	Noncurrent []string `json:"noncurrent"`
}

// Preview says what a job of r would change, changing nothing.
func (s *Service) Preview(ctx context.Context, r Request) (Preview, error) {
	_, strategy, err := s.check(r)
	if err != nil {
		return Preview{}, err
	}
	ids, err := s.hashed(r.Identifiers)
	if err != nil {
		return Preview{}, err
	}
	res, err := s.Search.Search(ctx, r.Identifiers)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Operation: r.Operation, Strategy: strategy, Identifiers: ids, Objects: []PreviewObject{}, Coverage: res.Coverage}
	for _, t := range targets(res, r) {
		o := PreviewObject{Bucket: t.bucket, Key: t.key, Noncurrent: append([]string{}, t.noncurrent...)}
		if len(t.records) > 0 {
			o.Version, o.Rows = t.version, int64(len(t.records))
			p.Versions++
		}
		p.Rows += o.Rows
		p.Versions += int64(len(o.Noncurrent))
		p.Objects = append(p.Objects, o)
	}
	return p, nil
}

// Start records a job of r, queued, with its input; Run does it. It fails
// with a *veil.ValidationError for a request that is not valid. A job ID
// already recorded wraps veil.ErrConflict (its job is returned).
func (s *Service) Start(ctx context.Context, id string, r Request) (Job, error) {
	return s.start(ctx, id, r, StatusQueued)
}

// Hold records a job of r as Start does, but awaiting confirmation: Run
// refuses it until Confirm queues it.
func (s *Service) Hold(ctx context.Context, id string, r Request) (Job, error) {
	return s.start(ctx, id, r, StatusAwaitingConfirmation)
}

// ErrSameRequester is Confirm's answer to the one who asked for the job.
var ErrSameRequester = fmt.Errorf("a job is confirmed by someone other than the one who asked for it: %w", veil.ErrForbidden)

// Confirm queues job id, awaiting confirmation, as confirmed by by. It
// returns an error wrapping veil.ErrNotFound for an unknown job,
// ErrSameRequester when by asked for it, and one wrapping
// veil.ErrConflict for a job not awaiting confirmation.
func (s *Service) Confirm(ctx context.Context, id, by string) (Job, error) {
	j, err := s.Jobs.Get(ctx, id)
	if err != nil {
		return j, err
	}
	switch {
	case j.Status != StatusAwaitingConfirmation:
		return j, fmt.Errorf("job %s is %s, not awaiting confirmation: %w", id, j.Status, veil.ErrConflict)
	case by == "" || by == j.Requester:
		return j, fmt.Errorf("job %s: %w", id, ErrSameRequester)
	}
	j.Status, j.Confirmer = StatusQueued, by
	// Conditional: two confirmations at once start the job once.
	return j, s.Jobs.Advance(ctx, j, StatusAwaitingConfirmation)
}

func (s *Service) start(ctx context.Context, id string, r Request, status string) (Job, error) {
	if !ValidID(id) {
		return Job{}, veil.Invalid("jobId", "not a valid job ID")
	}
	_, strategy, err := s.check(r)
	if err != nil {
		return Job{}, err
	}
	ids, err := s.hashed(r.Identifiers)
	if err != nil {
		return Job{}, err
	}
	if prev, err := s.Jobs.Get(ctx, id); err == nil {
		return prev, fmt.Errorf("job %s: %w", id, veil.ErrConflict)
	} else if !errors.Is(err, veil.ErrNotFound) {
		return Job{}, err
	}
	body, err := marshalInput(r)
	if err != nil {
		return Job{}, err
	}
	if err := s.Files.Put(ctx, InputKey(id), r.RequestID, "application/json", strings.NewReader(string(body)), int64(len(body))); err != nil {
		return Job{}, err
	}
	j := Job{ID: id, RequestID: r.RequestID, Requester: r.Requester, Operation: r.Operation, Strategy: strategy,
		Status: status, Identifiers: ids, Objects: []certificate.Object{}, Created: s.now()}
	if err := s.Jobs.Create(ctx, j); err != nil {
		if errors.Is(err, veil.ErrConflict) {
			prev, gerr := s.Jobs.Get(ctx, id)
			if gerr == nil {
				return prev, err
			}
		}
		return Job{}, err
	}
	return j, nil
}

// Run does job id, or finishes it after a crash: a job that ended is
// returned as it is. The error is for failures worth a retry (the job is
// then still running and may be run again); a job that found something
// left, or whose input is at fault, ends failed without an error.
func (s *Service) Run(ctx context.Context, id string) (Job, error) {
	j, err := s.Jobs.Get(ctx, id)
	if err != nil {
		return j, err
	}
	if j.Ended() {
		// A crash after the end was recorded may have left the input.
		return j, s.Files.Delete(ctx, InputKey(id))
	}
	if j.Status == StatusAwaitingConfirmation {
		return j, fmt.Errorf("job %s awaits confirmation: %w", id, veil.ErrConflict)
	}
	r, err := s.loadInput(ctx, id)
	if err != nil {
		return j, err
	}
	ed, _, err := s.check(r)
	if err != nil {
		return s.fail(ctx, j, err.Error())
	}
	j.Status, j.Runs = StatusRunning, j.Runs+1
	if j.Started.IsZero() {
		j.Started = s.now()
	}
	if err := s.Jobs.Put(ctx, j); err != nil {
		return j, err
	}
	res, err := s.Search.Search(ctx, r.Identifiers)
	if err != nil {
		return j, err
	}
	for _, t := range targets(res, r) {
		o, err := s.object(ctx, ed, r, t)
		if err != nil {
			var ee *rewrite.EditError
			if errors.As(err, &ee) || errors.Is(err, rewrite.ErrUnsupportedEncoding) || errors.Is(err, errHeaderMoved) || errors.Is(err, errUnreadable) {
				return s.fail(ctx, j, fmt.Sprintf("s3://%s/%s: %v", t.bucket, t.key, err))
			}
			return j, err
		}
		j.Objects = merge(j.Objects, o)
		j.Totals = totals(j.Objects)
		if err := s.Jobs.Put(ctx, j); err != nil {
			return j, err
		}
	}
	// Suppressed whatever the verification finds: the consumer asked
	// for it, and a later upload of them is scrubbed.
	if r.Operation == Erasure && s.Suppression != nil {
		n, err := s.suppress(ctx, r, j.ID, s.shared(r, res))
		if err != nil {
			return j, err
		}
		j.Suppressed += n
		if err := s.Jobs.Put(ctx, j); err != nil {
			return j, err
		}
	}
	v, cov, err := s.verify(ctx, ed, r, j)
	if err != nil {
		return j, err
	}
	j.Verification, j.Coverage = &v, &cov
	switch {
	case v.Status != "passed":
		j.Status = StatusFailed
		j.Error = fmt.Sprintf("%d unedited matches left in %s", v.Remaining, strings.Join(v.Objects, ", "))
	case !cov.Complete():
		j.Status = StatusCompletedWithGaps
	default:
		j.Status = StatusCompleted
	}
	return s.end(ctx, j)
}

// Abandon ends job id failed with reason, as its every attempt did (the
// asynchronous invocation's on-failure destination says so): a job that
// ended already is returned as it is, so a second notice changes nothing.
// It returns the store's errors (veil.ErrNotFound for an unknown job).
func (s *Service) Abandon(ctx context.Context, id, reason string) (Job, error) {
	j, err := s.Jobs.Get(ctx, id)
	if err != nil || j.Ended() {
		return j, err
	}
	return s.fail(ctx, j, reason)
}

// fail ends j failed with reason.
func (s *Service) fail(ctx context.Context, j Job, reason string) (Job, error) {
	j.Status, j.Error = StatusFailed, reason
	return s.end(ctx, j)
}

// end writes j's certificate, records j ended and deletes its input.
func (s *Service) end(ctx context.Context, j Job) (Job, error) {
	j.Completed = s.now()
	files := CertificateKeys(j.ID)
	c := j.certificate()
	for _, f := range []struct {
		key, contentType string
		write            func(io.Writer, certificate.Certificate) error
	}{{files.JSON, "application/json", certificate.WriteJSON}, {files.PDF, "application/pdf", certificate.WritePDF}} {
		var b strings.Builder
		if err := f.write(&b, c); err != nil {
			return j, err
		}
		if err := s.Files.Put(ctx, f.key, j.RequestID, f.contentType, strings.NewReader(b.String()), int64(b.Len())); err != nil {
			return j, err
		}
	}
	j.Certificate = &files
	if err := s.Jobs.Put(ctx, j); err != nil {
		return j, err
	}
	if err := s.Files.Delete(ctx, InputKey(j.ID)); err != nil {
		return j, err
	}
	s.log().InfoContext(ctx, "erasure job ended", "jobId", j.ID, "requestId", j.RequestID, "status", j.Status,
		"objects", j.Totals.ObjectsRewritten, "rows", j.Totals.RowsEdited, "versionsPurged", j.Totals.VersionsPurged)
	return j, nil
}

// certificate is j's certificate.
func (j Job) certificate() certificate.Certificate {
	c := certificate.Certificate{JobID: j.ID, RequestID: j.RequestID, Operation: j.Operation, Strategy: j.Strategy, Status: j.Status,
		Identifiers: j.Identifiers, Objects: j.Objects, Totals: j.Totals, StartedAt: j.Started, CompletedAt: j.Completed}
	if j.Verification != nil {
		c.Verification = *j.Verification
	} else {
		c.Verification = certificate.Verification{Status: "failed", CheckedAt: j.Completed}
	}
	if j.Coverage != nil {
		c.Coverage = *j.Coverage
	}
	return c
}

// target is one object a job changes: its current rows holding the
// identifiers (in version), and its noncurrent versions holding them.
type target struct {
	bucket, key string
	version     string
	records     []search.Record
	noncurrent  []string
	// manifest is how a scan read version (nil: the index's manifest).
	manifest *indexing.Manifest
}

// targets groups a search's answer by object, in key order: the rows r
// touches (Request.Touches).
func targets(res search.Result, r Request) []*target {
	by := map[[2]string]*target{}
	get := func(bucket, key string) *target {
		t, ok := by[[2]string{bucket, key}]
		if !ok {
			t = &target{bucket: bucket, key: key}
			by[[2]string{bucket, key}] = t
		}
		return t
	}
	for _, rec := range res.Records {
		if !r.Touches(rec) {
			continue
		}
		t := get(rec.Bucket, rec.Key)
		t.version = rec.VersionID
		t.records = append(t.records, rec)
	}
	for _, n := range res.Noncurrent {
		t := get(n.Bucket, n.Key)
		t.noncurrent = append(t.noncurrent, n.VersionID)
	}
	out := make([]*target, 0, len(by))
	for _, t := range by {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].bucket != out[j].bucket {
			return out[i].bucket < out[j].bucket
		}
		return out[i].key < out[j].key
	})
	return out
}

// maxRaces bounds how often one object's write is redone after another
// upload came first.
const maxRaces = 10

// errHeaderMoved says the rewrite found the header on another line than
// the index did: its record numbers would not be the index's.
var errHeaderMoved = errors.New("the list's header is not where the index found it")

// object edits one object: its current version's rows, written back as a
// new version conditionally on the version read (redone on the newer one
// after a race), then purges every version that held them.
func (s *Service) object(ctx context.Context, ed editor, r Request, t *target) (certificate.Object, error) {
	o := certificate.Object{Bucket: t.bucket, Key: t.key, VersionsPurged: []string{}}
	purge := slices.Clone(t.noncurrent)
	for race := 0; len(t.records) > 0; race++ {
		if race == maxRaces {
			return o, fmt.Errorf("s3://%s/%s changed %d times while it was rewritten", t.bucket, t.key, maxRaces)
		}
		cur, exists, err := s.Bucket.Current(ctx, t.bucket, t.key)
		if err != nil {
			return o, err
		}
		if !exists || cur.ID != t.version {
			// The index is behind the bucket (a newer upload, or the
			// job's own write before a crash): the version read holds the
			// plaintext, and the current one is read as it is.
			purge = append(purge, t.version)
			t.records, t.version = nil, ""
			if !exists {
				break
			}
			if t.records, t.manifest, err = s.scan(ctx, r.Identifiers, t.bucket, t.key); err != nil {
				return o, err
			}
			t.records = slices.DeleteFunc(t.records, func(rec search.Record) bool { return !r.Touches(rec) })
			if len(t.records) > 0 {
				t.version = t.records[0].VersionID
			}
			continue
		}
		written, res, err := s.rewrite(ctx, ed, t, cur)
		if errors.Is(err, objectstore.ErrChanged) {
			continue
		}
		if err != nil {
			return o, err
		}
		if written != "" {
			o.ReadVersion, o.NewVersion = t.version, written
			o.RowsEdited, o.RowsDeleted = res.Edited, res.Deleted
			purge = append(purge, t.version)
		}
		break
	}
	purged, err := s.purge(ctx, t.bucket, t.key, o.NewVersion, purge)
	o.VersionsPurged = purged
	return o, err
}

// rewrite applies the edits of t's rows to its version, cur, and writes
// the result if cur is still current. It returns "" when no cell changes
// (the rows are already as the edit leaves them).
func (s *Service) rewrite(ctx context.Context, ed editor, t *target, cur indexing.Version) (string, rewrite.Result, error) {
	ms, err := s.manifestOf(ctx, t)
	if err != nil {
		return "", rewrite.Result{}, err
	}
	text := map[int64]rewrite.Edit{}
	sheets := rewrite.SheetEdits{}
	for _, r := range t.records {
		e, err := ed.EditRow(r.Header, r.Kinds, r.Values)
		if err != nil {
			return "", rewrite.Result{}, fmt.Errorf("s3://%s/%s row %d: %w", t.bucket, t.key, r.Row, err)
		}
		if !e.Deleted && len(e.Changed) == 0 {
			continue
		}
		re := rewrite.Edit{Record: r.Row, Delete: e.Deleted}
		if !e.Deleted {
			re.Cells = make(map[int]string, len(e.Changed))
			for _, i := range e.Changed {
				re.Cells[i] = e.Fields[i]
			}
		}
		if r.Sheet != "" {
			if sheets[r.Sheet] == nil {
				sheets[r.Sheet] = map[int64]rewrite.Edit{}
			}
			sheets[r.Sheet][r.Row] = re
		} else {
			text[r.Row] = re
		}
	}
	if len(text) == 0 && len(sheets) == 0 {
		return "", rewrite.Result{}, nil
	}
	src, err := s.Bucket.Open(ctx, t.bucket, t.key, t.version)
	if err != nil {
		return "", rewrite.Result{}, err
	}
	defer src.Close()
	f, err := os.CreateTemp(s.TempDir, "veil-rewrite-*")
	if err != nil {
		return "", rewrite.Result{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var res rewrite.Result
	if ms.Format == indexing.FormatWorkbook {
		res, err = rewrite.Workbook(f, src, sheets)
	} else {
		opts := leads.Options{Encoding: ms.Encoding, CRLineEnds: ms.CRLineEnds}
		if ms.Delimiter != "" {
			opts.Delimiter = []rune(ms.Delimiter)[0]
		}
		res, err = rewrite.Text(f, src, opts, text)
		if err == nil && res.HeaderLine != ms.HeaderLine {
			err = fmt.Errorf("header on line %d, the index found it on line %d: %w", res.HeaderLine, ms.HeaderLine, errHeaderMoved)
		}
	}
	if err != nil {
		return "", rewrite.Result{}, fmt.Errorf("rewrite s3://%s/%s@%s: %w", t.bucket, t.key, t.version, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", rewrite.Result{}, err
	}
	written, err := s.Bucket.PutIfMatch(ctx, t.bucket, t.key, cur.ETag, f, res.BytesOut, contentType(t.key, ms.Format))
	if err != nil {
		return "", rewrite.Result{}, err
	}
	s.log().InfoContext(ctx, "object rewritten", "bucket", t.bucket, "key", t.key, "read", t.version, "written", written,
		"edited", res.Edited, "deleted", res.Deleted, "bytes", res.BytesOut)
	return written, res, nil
}

// contentType is what a rewritten list is stored as.
func contentType(key, format string) string {
	if format == indexing.FormatWorkbook {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	if strings.HasSuffix(strings.ToLower(key), ".tsv") {
		return "text/tab-separated-values"
	}
	return "text/csv"
}

// manifestOf returns how t's version is read: the manifest's when it
// answers from that version, else as a scan read it.
func (s *Service) manifestOf(ctx context.Context, t *target) (indexing.Manifest, error) {
	if t.manifest != nil {
		return *t.manifest, nil
	}
	ms, err := s.Index.Manifests(ctx, [][2]string{{t.bucket, t.key}})
	if err != nil {
		return indexing.Manifest{}, err
	}
	for _, m := range ms {
		if a, ok := m.Answering(); ok && a.VersionID == t.version {
			return a, nil
		}
	}
	return indexing.Manifest{}, fmt.Errorf("s3://%s/%s@%s: the index no longer answers from the version: %w", t.bucket, t.key, t.version, objectstore.ErrChanged)
}

// purge deletes the versions of bucket/key in versions (once each, gone
// ones skipped) and then the key's delete markers that hide nothing any
// more: every noncurrent one, and the current one when no version is left
// under it. keep is the version the job wrote, never deleted.
func (s *Service) purge(ctx context.Context, bucket, key, keep string, versions []string) ([]string, error) {
	purged := []string{}
	seen := map[string]bool{"": true, keep: true}
	for _, v := range versions {
		if seen[v] {
			continue
		}
		seen[v] = true
		if err := s.Bucket.DeleteVersion(ctx, bucket, key, v); err != nil {
			return purged, err
		}
		purged = append(purged, v)
	}
	if len(purged) == 0 {
		return purged, nil
	}
	var markers []objectstore.ObjectVersion
	left := 0
	if err := s.Bucket.EachVersion(ctx, bucket, key, func(v objectstore.ObjectVersion) error {
		if v.DeleteMarker {
			markers = append(markers, v)
		} else {
			left++
		}
		return nil
	}); err != nil {
		return purged, err
	}
	for _, m := range markers {
		if m.IsLatest && left > 0 {
			continue // it hides the versions left: the list stays removed
		}
		if err := s.Bucket.DeleteVersion(ctx, bucket, key, m.ID); err != nil {
			return purged, err
		}
		purged = append(purged, m.ID)
	}
	return purged, nil
}

// merge records o in objs: a rerun's result for an object adds to the
// first run's.
func merge(objs []certificate.Object, o certificate.Object) []certificate.Object {
	for i, p := range objs {
		if p.Bucket == o.Bucket && p.Key == o.Key {
			if o.NewVersion != "" {
				p.ReadVersion, p.NewVersion = o.ReadVersion, o.NewVersion
			}
			p.RowsEdited += o.RowsEdited
			p.RowsDeleted += o.RowsDeleted
			for _, v := range o.VersionsPurged {
				if !slices.Contains(p.VersionsPurged, v) {
					p.VersionsPurged = append(p.VersionsPurged, v)
				}
			}
			objs[i] = p
			return objs
		}
	}
	return append(objs, o)
}

// totals sums objs.
func totals(objs []certificate.Object) certificate.Totals {
	var t certificate.Totals
	for _, o := range objs {
		if o.NewVersion != "" {
			t.ObjectsRewritten++
		}
		t.RowsEdited += o.RowsEdited
		t.RowsDeleted += o.RowsDeleted
		t.VersionsPurged += int64(len(o.VersionsPurged))
	}
	return t
}

// suppress puts r's identifiers on the suppression list, action mask,
// origin the request (or the job). An identifier shared with rows the job
// left alone (shared[i], a household's landline) is flagged instead:
// masking it would scrub the other person's rows from every later upload.
func (s *Service) suppress(ctx context.Context, r Request, jobID string, shared map[int]bool) (int, error) {
	origin := "erasure:" + jobID
	if r.RequestID != "" {
		origin = "request:" + r.RequestID
	}
	var entries []suppression.Entry
	for i, id := range r.Identifiers {
		action, reason := suppression.Mask, ""
		if shared[i] {
			action, reason = suppression.Flag, "shared with rows under another name"
		}
		es, err := s.Hasher.Entries(id.Kind, id.Value, action, origin, reason, s.now())
		if err != nil {
			return 0, err
		}
		entries = append(entries, es...)
	}
	return s.Suppression.Add(ctx, entries)
}

// shared returns which of r's identifiers a row the job leaves alone
// (under another name, not included) holds, by the column the index
// classed as that identifier's kind.
func (s *Service) shared(r Request, res search.Result) map[int]bool {
	out := map[int]bool{}
	n, err := identifiers.NewNormalizer(s.Region)
	if err != nil {
		return out
	}
	want := make([]string, len(r.Identifiers)) // "" when it does not normalize
	for i, id := range r.Identifiers {
		want[i], _ = n.Normalize(id.Kind, id.Value)
	}
	for _, rec := range res.Records {
		if rec.PlaceholderOnly || r.Touches(rec) {
			continue
		}
		for c, v := range rec.Values[:min(len(rec.Values), len(rec.Kinds))] {
			for i, id := range r.Identifiers {
				if want[i] == "" || out[i] || rec.Kinds[c] != id.Kind.String() {
					continue
				}
				for _, part := range identifiers.SplitValues(id.Kind, v) {
					if got, err := n.Normalize(id.Kind, part); err == nil && got == want[i] {
						out[i] = true
					}
				}
			}
		}
	}
	return out
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
