// Package access answers a consumer's right to know: it searches (or reads
// the records a search left in the exports bucket), writes the export's
// CSV, JSON and PDF volumes beside them, and hands out download links that
// expire, can be withdrawn and record every use. The staff API (POST
// /exports) and ExportFunction, the request workflow's task, run the same
// Service.
package access

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/veil-privacy/veil/pkg/export"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// StatusReady is an export whose files are all written.
const StatusReady = "ready"

// Export is one export: who asked, what it holds, and its files (names
// under its prefix, ExportPrefix).
type Export struct {
	ID           string            `json:"exportId"`
	Status       string            `json:"status"`
	Requester    string            `json:"requester"`
	Jurisdiction string            `json:"jurisdiction,omitempty"`
	Received     time.Time         `json:"received"`
	Answered     time.Time         `json:"answered"`
	Records      int               `json:"records"`
	Files        []string          `json:"files"`
	Coverage     indexing.Coverage `json:"coverage"`
	RevokedAt    time.Time         `json:"revokedAt,omitzero"`
	RevokedBy    string            `json:"revokedBy,omitempty"`
}

// Download is one use of a download link.
type Download struct {
	File string    `json:"file"`
	At   time.Time `json:"at"`
	// By is "link" for a download through a token.
	By string `json:"by"`
	// IPHash is a keyed hash prefix of the downloader's address.
	IPHash string `json:"ipHash,omitempty"`
}

// ExportPrefix is where export id's objects live in the exports bucket.
func ExportPrefix(id string) string { return "exports/" + id + "/" }

// RecordsFile is the search's records as JSON lines (one search.Record a
// line): what a search hands the workflow instead of the records, which
// can be far more than the 256 KB Step Functions passes between states.
const RecordsFile = "records.jsonl"

// The export's files.
const (
	CSVFile  = "records.csv"
	JSONFile = "records.json"
)

// PDFFile is the name of PDF volume n (from 1).
func PDFFile(n int) string { return fmt.Sprintf("report-%03d.pdf", n) }

// Input is what to export.
type Input struct {
	// ID is the export's ID (the privacy request's, for the workflow); a
	// new one is made when empty. Exporting an ID again returns the
	// export already written.
	ID           string
	Requester    string
	Jurisdiction string
	Received     time.Time
	// Identifiers are searched for, unless RecordsKey names the records
	// a search already wrote to the exports bucket (with their Coverage).
	Identifiers []search.Identifier
	RecordsKey  string
	Coverage    indexing.Coverage
}

// Searcher is the search an export runs (search.Service).
type Searcher interface {
	Search(ctx context.Context, ids []search.Identifier) (search.Result, error)
}

// Catalogs reads campaigns' disclosure catalogs (indexstore.Store).
type Catalogs interface {
	// Catalog returns campaign's catalog; ok is false when it has none.
	Catalog(ctx context.Context, campaign string) (c export.Catalog, ok bool, err error)
}

// Uploads says when an object version was uploaded (objectstore.Store).
type Uploads interface {
	LastModified(ctx context.Context, bucket, key, version string) (time.Time, error)
}

// FileStore is the exports bucket (Files).
type FileStore interface {
	Put(ctx context.Context, key, requestID, contentType string, body io.Reader, size int64) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	URL(ctx context.Context, key, name string) (string, error)
}

// ExportStore keeps exports and their downloads (Exports).
type ExportStore interface {
	Get(ctx context.Context, id string) (Export, error)
	Put(ctx context.Context, x Export) error
	Revoke(ctx context.Context, id, who string, at time.Time) error
	AddDownload(ctx context.Context, id string, d Download) error
	Downloads(ctx context.Context, id string) ([]Download, error)
}

// Service exports and serves downloads.
type Service struct {
	Search   Searcher
	Catalogs Catalogs
	Uploads  Uploads
	Files    FileStore
	Exports  ExportStore
	Signer   *Signer
	// PDFVolume is how many records one PDF volume holds (default
	// export.DefaultPDFVolume).
	PDFVolume int
	// TempDir holds an export's files while they are written (default
	// os.TempDir(): /tmp on Lambda).
	TempDir string
	Now     func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Export writes the export in and returns it. An ID already exported is
// returned as it was written, files untouched. It returns a
// *veil.ValidationError for an input with neither identifiers nor records.
func (s *Service) Export(ctx context.Context, in Input) (Export, error) {
	if in.ID == "" {
		in.ID = uuid.NewString()
	} else if err := validID(in.ID); err != nil {
		return Export{}, err
	}
	if x, err := s.Exports.Get(ctx, in.ID); err == nil {
		return x, nil
	} else if !errors.Is(err, veil.ErrNotFound) {
		return Export{}, err
	}
	if len(in.Identifiers) == 0 && in.RecordsKey == "" {
		return Export{}, veil.Invalid("identifiers", "at least one identifier, or the records of a search, is required")
	}
	dir, err := os.MkdirTemp(s.TempDir, "export-")
	if err != nil {
		return Export{}, err
	}
	defer os.RemoveAll(dir)
	recs := &recordFile{path: dir + "/" + RecordsFile}
	cov := in.Coverage
	if len(in.Identifiers) > 0 {
		res, err := s.Search.Search(ctx, in.Identifiers)
		if err != nil {
			return Export{}, err
		}
		// An export is the consumer's copy: never a row matched only on
		// an identifier that belongs to nobody.
		res = res.ForConsumer()
		cov = res.Coverage
		if err := recs.write(res.Records); err != nil {
			return Export{}, err
		}
		if err := s.putFile(ctx, in.ID, RecordsFile, "application/x-ndjson", recs.path); err != nil {
			return Export{}, err
		}
	} else if err := recs.fetch(ctx, s.Files, in.RecordsKey); err != nil {
		return Export{}, err
	}

	meta, uploaded, err := s.describe(ctx, in, cov, recs)
	if err != nil {
		return Export{}, err
	}
	records := recs.export(uploaded)
	x := Export{ID: in.ID, Status: StatusReady, Requester: in.Requester, Jurisdiction: in.Jurisdiction,
		Received: meta.Request.Received, Answered: meta.Request.Answered, Coverage: cov}
	var n int
	if n, err = s.writeFile(ctx, in.ID, dir, CSVFile, "text/csv; charset=utf-8", func(w io.Writer) (int, error) {
		return export.WriteCSV(w, meta, records)
	}); err != nil {
		return Export{}, err
	}
	if _, err = s.writeFile(ctx, in.ID, dir, JSONFile, "application/json", func(w io.Writer) (int, error) {
		return export.WriteJSON(w, meta, records)
	}); err != nil {
		return Export{}, err
	}
	x.Records = n
	x.Files = []string{CSVFile, JSONFile}
	volumes, err := export.WritePDF(meta, records, s.PDFVolume, func(v int) (io.WriteCloser, error) {
		name := PDFFile(v)
		f, err := os.Create(dir + "/" + name)
		if err != nil {
			return nil, err
		}
		return &uploadOnClose{File: f, done: func() error { return s.putFile(ctx, in.ID, name, "application/pdf", f.Name()) }}, nil
	})
	if err != nil {
		return Export{}, err
	}
	for v := 1; v <= volumes; v++ {
		x.Files = append(x.Files, PDFFile(v))
	}
	if err := s.Exports.Put(ctx, x); errors.Is(err, veil.ErrConflict) {
		// Another run of the same export finished first: its files are
		// these files.
		return s.Exports.Get(ctx, in.ID)
	} else if err != nil {
		return Export{}, err
	}
	return x, nil
}

// describe returns the export's meta: the request, the disclosure (the
// categories of the records' fields, the catalogs of their campaigns) and
// the coverage, and when each of the records' object versions was
// uploaded.
func (s *Service) describe(ctx context.Context, in Input, cov indexing.Coverage, recs *recordFile) (export.Meta, map[[3]string]time.Time, error) {
	var categories, campaigns []string
	uploaded := map[[3]string]time.Time{}
	err := recs.each(func(r search.Record) error {
		categories = export.Categories(categories, r.Header, r.Kinds, r.Fields)
		if !slices.Contains(campaigns, r.Campaign) {
			campaigns = append(campaigns, r.Campaign)
		}
		v := [3]string{r.Bucket, r.Key, r.VersionID}
		if _, ok := uploaded[v]; !ok && s.Uploads != nil {
			t, err := s.Uploads.LastModified(ctx, r.Bucket, r.Key, r.VersionID)
			if err != nil && !errors.Is(err, veil.ErrNotFound) {
				return err
			}
			uploaded[v] = t
		}
		return nil
	})
	if err != nil {
		return export.Meta{}, nil, err
	}
	d := export.Disclosure{Categories: categories}
	var retention []string
	if len(campaigns) == 0 {
		campaigns = []string{""}
	}
	slices.Sort(campaigns)
	for _, c := range campaigns {
		cat, err := s.catalog(ctx, c)
		if err != nil {
			return export.Meta{}, nil, err
		}
		d.Sources = union(d.Sources, cat.Sources)
		d.Purposes = union(d.Purposes, cat.Purposes)
		d.ThirdParties = union(d.ThirdParties, cat.ThirdParties)
		retention = union(retention, []string{cat.Retention})
	}
	d.Retention = strings.Join(retention, " ")
	received := in.Received.UTC()
	if received.IsZero() {
		received = s.now()
	}
	req := export.Request{ID: in.ID, Requester: in.Requester, Jurisdiction: in.Jurisdiction, Received: received, Answered: s.now()}
	return export.Meta{Request: req, Disclosure: d, Coverage: cov}, uploaded, nil
}

// catalog returns campaign's catalog, else the default campaign's, each
// part the campaign's leaves empty from export.DefaultCatalog.
func (s *Service) catalog(ctx context.Context, campaign string) (export.Catalog, error) {
	if s.Catalogs == nil {
		return export.DefaultCatalog, nil
	}
	for _, c := range []string{campaign, export.DefaultCampaign} {
		if c == "" {
			continue
		}
		cat, ok, err := s.Catalogs.Catalog(ctx, c)
		if err != nil {
			return export.Catalog{}, err
		}
		if ok {
			return cat.Complete(), nil
		}
	}
	return export.DefaultCatalog, nil
}

func union(have, more []string) []string {
	for _, m := range more {
		if !slices.Contains(have, m) {
			have = append(have, m)
		}
	}
	return have
}

// writeFile writes one file of the export with write, to disk first (so
// that its size is known and nothing is held), then to the bucket, and
// returns what write returned.
func (s *Service) writeFile(ctx context.Context, id, dir, name, contentType string, write func(io.Writer) (int, error)) (int, error) {
	f, err := os.Create(dir + "/" + name)
	if err != nil {
		return 0, err
	}
	n, err := write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("export %s: %s: %w", id, name, err)
	}
	return n, s.putFile(ctx, id, name, contentType, f.Name())
}

func (s *Service) putFile(ctx context.Context, id, name, contentType, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return s.Files.Put(ctx, ExportPrefix(id)+name, id, contentType, f, st.Size())
}

// uploadOnClose is a PDF volume on disk, sent to the bucket once closed.
type uploadOnClose struct {
	*os.File
	done func() error
}

func (u *uploadOnClose) Close() error {
	if err := u.File.Close(); err != nil {
		return err
	}
	return u.done()
}

// recordFile is the search's records as JSON lines on local disk.
type recordFile struct{ path string }

func (r *recordFile) write(recs []search.Record) error {
	f, err := os.Create(r.path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fetch copies the records at key in the exports bucket to disk.
func (r *recordFile) fetch(ctx context.Context, files FileStore, key string) error {
	body, err := files.Open(ctx, key)
	if err != nil {
		if errors.Is(err, veil.ErrNotFound) {
			return veil.Invalid("recordsKey", "no records at that key in the exports bucket")
		}
		return err
	}
	defer body.Close()
	f, err := os.Create(r.path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// maxRecordLine bounds one JSON line of the records: a row of a lead list
// is far smaller.
const maxRecordLine = 16 << 20

// each streams the records to fn.
func (r *recordFile) each(fn func(search.Record) error) error {
	f, err := os.Open(r.path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxRecordLine)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var rec search.Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return veil.Invalid("records", "line %d is not a search record: %v", line, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return sc.Err()
}

// export returns the records as the writers take them.
func (r *recordFile) export(uploaded map[[3]string]time.Time) export.Records {
	return func(fn func(export.Record) error) error {
		return r.each(func(rec search.Record) error {
			return fn(export.Record{Bucket: rec.Bucket, Key: rec.Key, VersionID: rec.VersionID, Sheet: rec.Sheet, Row: rec.Row,
				Campaign: rec.Campaign, Uploaded: uploaded[[3]string{rec.Bucket, rec.Key, rec.VersionID}],
				Header: rec.Header, Fields: rec.Fields, MatchedOn: rec.MatchedOn})
		})
	}
}

// validID accepts the IDs Veil makes (UUIDs, request IDs): letters,
// digits, '-' and '_', so that an ID is always one path segment.
func validID(id string) error {
	if len(id) > 128 {
		return veil.Invalid("exportId", "longer than 128 characters")
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return veil.Invalid("exportId", "only letters, digits, '-' and '_' are allowed")
		}
	}
	return nil
}

// Links are an export's download links: one token for all its files.
type Links struct {
	CSV        string    `json:"csv"`
	JSON       string    `json:"json"`
	PDF        string    `json:"pdf"`
	PDFVolumes []string  `json:"pdfVolumes,omitempty"`
	Expires    time.Time `json:"expires"`
}

// LinksFor returns fresh links to x's files under base (the API's URL,
// or "" for links relative to it).
func (s *Service) LinksFor(x Export, base string) (Links, error) {
	tok, exp, err := s.Signer.Token(x.ID)
	if err != nil {
		return Links{}, err
	}
	link := func(file string) string {
		return strings.TrimSuffix(base, "/") + "/exports/" + x.ID + "/" + file + "?token=" + tok
	}
	l := Links{CSV: link(CSVFile), JSON: link(JSONFile), Expires: exp}
	for _, f := range x.Files {
		if strings.HasSuffix(f, ".pdf") {
			l.PDFVolumes = append(l.PDFVolumes, link(f))
		}
	}
	if len(l.PDFVolumes) > 0 {
		l.PDF = l.PDFVolumes[0]
	}
	if len(l.PDFVolumes) < 2 {
		l.PDFVolumes = nil
	}
	return l, nil
}

// Download checks a link's token for file of export id, records the
// download and returns a presigned URL of the file valid for PresignLife.
// A tampered token, or one for another export, wraps veil.ErrForbidden;
// an expired link, a withdrawn export or one whose files are gone wraps
// veil.ErrGone, its text saying which in plain words; a file the export
// does not have wraps veil.ErrNotFound.
func (s *Service) Download(ctx context.Context, id, file, token, ip string) (string, error) {
	if err := s.Signer.Check(token, id); err != nil {
		return "", err
	}
	x, err := s.Exports.Get(ctx, id)
	if errors.Is(err, veil.ErrNotFound) {
		return "", &GoneError{Reason: "this export is no longer kept; ask for a new one"}
	}
	if err != nil {
		return "", err
	}
	if !x.RevokedAt.IsZero() {
		return "", &GoneError{Reason: "this download link was withdrawn on " + x.RevokedAt.UTC().Format("2 January 2006") + "; ask for a new one"}
	}
	if !slices.Contains(x.Files, file) {
		return "", fmt.Errorf("export %s has no file %q: %w", id, file, veil.ErrNotFound)
	}
	if err := s.Exports.AddDownload(ctx, id, Download{File: file, At: s.now(), By: "link", IPHash: s.Signer.IPHash(ip)}); err != nil {
		return "", err
	}
	return s.Files.URL(ctx, ExportPrefix(id)+file, file)
}

// GoneError says in plain words why a link no longer opens anything.
type GoneError struct{ Reason string }

func (e *GoneError) Error() string { return e.Reason }

// Unwrap makes it veil.ErrGone.
func (e *GoneError) Unwrap() error { return veil.ErrGone }

// Revoke withdraws every link of export id, for who.
func (s *Service) Revoke(ctx context.Context, id, who string) error {
	if err := validID(id); err != nil {
		return err
	}
	return s.Exports.Revoke(ctx, id, who, s.now())
}

// Status is an export with its download history.
type Status struct {
	Export
	Downloads []Download `json:"downloads"`
}

// Status returns export id and its downloads.
func (s *Service) Status(ctx context.Context, id string) (Status, error) {
	if err := validID(id); err != nil {
		return Status{}, err
	}
	x, err := s.Exports.Get(ctx, id)
	if err != nil {
		return Status{}, err
	}
	d, err := s.Exports.Downloads(ctx, id)
	if err != nil {
		return Status{}, err
	}
	return Status{Export: x, Downloads: d}, nil
}

// PutRecords writes a search's records under export id as RecordsFile (one
// search.Record a line) and returns its key: the pointer a search hands
// the workflow.
func PutRecords(ctx context.Context, files FileStore, id string, recs []search.Record) (string, error) {
	if err := validID(id); err != nil {
		return "", err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return "", err
		}
	}
	key := ExportPrefix(id) + RecordsFile
	return key, files.Put(ctx, key, id, "application/x-ndjson", bytes.NewReader(b.Bytes()), int64(b.Len()))
}

// FilterRecords rewrites the records at key (a RecordsFile under an
// export's prefix, as PutRecords wrote it) keeping only those keep
// accepts, each line as it was, and returns how many it kept. Filtering
// again with the same keep changes nothing. A key outside the exports'
// prefix, no records at key, or a line that is not a record is a
// *veil.ValidationError; other errors are the bucket's.
func FilterRecords(ctx context.Context, files FileStore, key string, keep func(search.Record) bool) (int, error) {
	id := strings.TrimSuffix(strings.TrimPrefix(key, "exports/"), "/"+RecordsFile)
	if id == "" || validID(id) != nil || key != ExportPrefix(id)+RecordsFile {
		return 0, veil.Invalid("recordsKey", "not a records file of an export")
	}
	body, err := files.Open(ctx, key)
	if err != nil {
		if errors.Is(err, veil.ErrNotFound) {
			return 0, veil.Invalid("recordsKey", "no records at that key in the exports bucket")
		}
		return 0, err
	}
	defer body.Close()
	var out bytes.Buffer
	kept, dropped := 0, 0
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), maxRecordLine)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var rec search.Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return 0, veil.Invalid("records", "line %d is not a search record: %v", line, err)
		}
		if !keep(rec) {
			dropped++
			continue
		}
		kept++
		out.Write(sc.Bytes())
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	if dropped == 0 {
		return kept, nil // nothing to rewrite: a second pass is free
	}
	return kept, files.Put(ctx, key, id, "application/x-ndjson", bytes.NewReader(out.Bytes()), int64(out.Len()))
}
