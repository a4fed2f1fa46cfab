package indexing

// Chunked indexing: a text list too large for one invocation is indexed in
// record-aligned byte ranges on a Step Functions Distributed Map. Apply
// claims the version as it always does (status indexing, Previous kept and
// answering) and hands it to a Chunker; the state machine then calls Plan
// (classify, cut into chunks), Chunk once per chunk (in parallel), and
// FinishChunked (drop other versions' entries, mark indexed) or FailChunked.
// Every step first checks that the claim is still the job's, so a later
// change of the key stops an old job at its next step, and each writes the
// very entries the whole-list path writes (same rows, absolute offsets), so
// a step run twice, or a list handed over half-way, rewrites them
// identically.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/veil"
	"github.com/veil-privacy/veil/pkg/workbook"
)

// ChunkJob names one claimed version being indexed in chunks. It holds
// references only, never data of the list.
type ChunkJob struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"versionId"`
	Sequencer string `json:"sequencer"`
}

// Name returns a name unique to the job and stable across retries: the
// execution name of its state machine run (at most 80 characters of
// [0-9a-z-]), so that a redelivered change does not start it twice.
func (j ChunkJob) Name() string { return "index-" + j.hash() }

func (j ChunkJob) hash() string {
	h := sha256.Sum256([]byte(j.Bucket + "\x00" + j.Key + "\x00" + j.VersionID + "\x00" + PadSequencer(j.Sequencer)))
	return hex.EncodeToString(h[:20])
}

// Chunk is one record-aligned byte range [Start, End) of a list: Start is
// where record FirstRecord starts, on physical line FirstLine; End is where
// the next chunk's first record starts, or the end of the object.
type Chunk struct {
	Start       int64 `json:"start"`
	End         int64 `json:"end"`
	FirstRecord int64 `json:"firstRecord"`
	FirstLine   int   `json:"firstLine"`
}

// Plan is where Plan left the chunk list: a JSON array of Chunk in the work
// bucket, read by the Distributed Map's ItemReader.
type Plan struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Count  int    `json:"count"`
}

// ChunkResult is what one chunk added to the index: counts only.
type ChunkResult struct {
	Rows            int64 `json:"rows"`
	Entries         int64 `json:"entries"`
	Invalid         int64 `json:"invalid"`
	UnreadableRows  int64 `json:"unreadableRows"`
	UnreadableLines []int `json:"unreadableLines,omitempty"`
	// Minors is MinorsUnder16 of the chunk's rows (-1: no date of birth).
	Minors int64 `json:"minors"`
	// Failed is why the chunk cannot be indexed (an InputError's reason).
	Failed string `json:"failed,omitempty"`
	// Superseded says a later change owns the key: nothing was written.
	Superseded bool `json:"superseded,omitempty"`
	// KeyID is the ID of the key the chunk's entries were written under:
	// during a key rotation, chunks run by instances that loaded the
	// secret at different times may differ.
	KeyID string `json:"keyId,omitempty"`
}

// Chunker starts the chunked indexing of one claimed version (production:
// a Step Functions execution named ChunkJob.Name). Starting a job already
// started succeeds without starting it again.
type Chunker interface {
	StartChunked(ctx context.Context, job ChunkJob) error
}

// WorkStore keeps the chunk plans (production: the index work bucket).
type WorkStore interface {
	PutObject(ctx context.Context, bucket, key string, body []byte, contentType string) error
}

// rangeReader is what Objects implementations that read byte ranges offer
// (objectstore.Store); others are read from the start.
type rangeReader interface {
	ReadRange(ctx context.Context, bucket, key, version string, start, end int64) ([]byte, error)
}

// chunks reports whether Apply hands m to the Chunker instead of reading it.
func (s *Service) chunks(ctx context.Context, m *Manifest) (bool, error) {
	if s.ChunkBytes <= 0 || s.Chunker == nil || m.Size <= s.ChunkBytes {
		return false, nil
	}
	// Only a text list can be cut into records; a workbook is read whole.
	obj, err := s.Objects.Open(ctx, m.Bucket, m.Key, m.VersionID)
	if errors.Is(err, veil.ErrNotFound) {
		return false, errClaimRace // deleted since Current named it: start over
	}
	if err != nil {
		return false, err
	}
	defer obj.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(obj, head)
	return workbook.Sniff(head[:n]) == workbook.NotWorkbook, nil
}

// handOver records on m, claimed, that it is indexed in chunks and starts
// the job. The manifest stays indexing, answered from Previous meanwhile.
func (s *Service) handOver(ctx context.Context, m Manifest) error {
	m.Chunked, m.UpdatedAt = true, s.now()
	m.Rows, m.Entries, m.Invalid, m.UnreadableRows, m.UnreadableLines, m.MinorsUnder16 = 0, 0, 0, 0, nil, -1
	ok, err := s.Index.Finish(ctx, m)
	if err != nil {
		return err
	}
	if !ok {
		// A later change took the key; entries written before a deadline
		// hand-over are this version's to drop.
		return s.yield(ctx, m.Bucket, m.Key, m.VersionID)
	}
	return s.startChunked(ctx, m)
}

func (s *Service) startChunked(ctx context.Context, m Manifest) error {
	job := ChunkJob{Bucket: m.Bucket, Key: m.Key, VersionID: m.VersionID, Sequencer: m.Sequencer}
	if err := s.Chunker.StartChunked(ctx, job); err != nil {
		return fmt.Errorf("start chunked indexing of s3://%s/%s@%s: %w", m.Bucket, m.Key, m.VersionID, err)
	}
	s.log().InfoContext(ctx, "object handed to chunked indexing", "bucket", m.Bucket, "key", m.Key,
		"versionId", m.VersionID, "size", m.Size, "execution", job.Name())
	return nil
}

// deadlineError stops the in-process loop when the invocation nears its
// deadline.
type deadlineError struct{ rows int64 }

func (e *deadlineError) Error() string { return fmt.Sprintf("timed out after %d rows", e.rows) }

// outOfTime is Apply's answer to a deadline: hand the whole list over to
// the Chunker (entries written so far are rewritten identically), or,
// without one (or for a workbook), an InputError naming how far it got.
func (s *Service) outOfTime(ctx context.Context, m Manifest, de *deadlineError) (handedOver bool, err error) {
	if s.Chunker != nil && m.Format == FormatCSV {
		return true, s.handOver(ctx, m)
	}
	return false, &InputError{Bucket: m.Bucket, Key: m.Key, VersionID: m.VersionID, Reason: de.Error()}
}

// timed stops src with a *deadlineError once ctx's deadline, less the
// margin, is reached. Without a deadline it returns src.
func (s *Service) timed(ctx context.Context, src rowSource, m *Manifest) rowSource {
	deadline, ok := ctx.Deadline()
	if !ok {
		return src
	}
	margin := s.DeadlineMargin
	if margin <= 0 {
		margin = min(time.Until(deadline)/10, 30*time.Second)
	}
	return &timedRows{rowSource: src, stop: deadline.Add(-margin), m: m}
}

type timedRows struct {
	rowSource
	stop time.Time
	m    *Manifest
	n    int
}

func (t *timedRows) Next() (row, error) {
	// A clock read per 64 rows costs nothing next to parsing them.
	if t.n++; t.n%64 == 1 && !time.Now().Before(t.stop) {
		return row{}, &deadlineError{rows: t.m.Rows}
	}
	return t.rowSource.Next()
}

// owned returns the job's manifest and whether the job's claim still holds
// it (same sequencer and version, still indexing).
func (s *Service) owned(ctx context.Context, job ChunkJob) (Manifest, bool, error) {
	m, err := s.Index.Manifest(ctx, job.Bucket, job.Key)
	if err != nil {
		return Manifest{}, false, fmt.Errorf("chunked s3://%s/%s: %w", job.Bucket, job.Key, err)
	}
	ok := m.Sequencer == PadSequencer(job.Sequencer) && m.VersionID == job.VersionID && m.Status == StatusIndexing
	return m, ok, nil
}

// Plan is the first step of a chunked job: it reads the list once, as
// Apply would (the campaign's column map, the same reader options),
// classifies its columns from the first rows, records on the manifest what
// every chunk needs to read its range (encoding, delimiter, line ends,
// header, columns), cuts the list into record-aligned chunks of about
// ChunkBytes and writes their list to the work bucket. A superseded job
// gets an empty plan. A list that cannot be indexed is recorded failed (as
// Apply records it) and returned as an *InputError; other errors are worth
// a retry.
func (s *Service) Plan(ctx context.Context, job ChunkJob) (Plan, error) {
	plan := Plan{Bucket: s.WorkBucket, Key: "chunks/" + job.hash() + ".json"}
	m, ok, err := s.owned(ctx, job)
	if err != nil {
		return Plan{}, err
	}
	var chunks []Chunk
	if ok {
		chunks, err = s.plan(ctx, &m)
		var ie *InputError
		if errors.As(err, &ie) {
			if ferr := s.FailChunked(ctx, job, ie.Reason); ferr != nil {
				return Plan{}, ferr
			}
			return Plan{}, ie
		}
		if err != nil {
			return Plan{}, err
		}
	}
	if chunks == nil {
		chunks = []Chunk{}
	}
	body, _ := json.Marshal(chunks)
	if err := s.Work.PutObject(ctx, plan.Bucket, plan.Key, body, "application/json"); err != nil {
		return Plan{}, fmt.Errorf("plan of s3://%s/%s@%s: %w", job.Bucket, job.Key, job.VersionID, err)
	}
	if ok {
		m.UpdatedAt = s.now()
		if _, err := s.Index.Finish(ctx, m); err != nil {
			return Plan{}, err
		}
	}
	plan.Count = len(chunks)
	return plan, nil
}

func (s *Service) plan(ctx context.Context, m *Manifest) ([]Chunk, error) {
	obj, err := s.Objects.Open(ctx, m.Bucket, m.Key, m.VersionID)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	body := &countingReader{r: obj}
	bad := func(reason string) error {
		return &InputError{Bucket: m.Bucket, Key: m.Key, VersionID: m.VersionID, Reason: reason}
	}
	cm, err := s.columnMap(ctx, m.Campaign)
	if err != nil {
		return nil, err
	}
	src := bufio.NewReaderSize(body, 4096)
	if head, _ := src.Peek(8); workbook.Sniff(head) != workbook.NotWorkbook {
		return nil, bad("a workbook is not indexed in chunks")
	}
	// The same reader and options as index, so that what Chunk reads back
	// is what the whole-list path reads.
	rd, err := leads.NewReader(src, leads.Options{RequireRows: true, Encoding: cm.encoding})
	if err != nil {
		return nil, s.readError(err, bad)
	}
	m.Format, m.Encoding, m.HeaderLine = FormatCSV, rd.Options().Encoding, rd.HeaderLine()
	m.Delimiter, m.CRLineEnds = string(rd.Options().Delimiter), rd.Options().CRLineEnds
	m.Header = append([]string(nil), rd.Header()...)
	var sample [][]string
	chunks, err := chunkBoundaries(textRows{rd}, s.ChunkBytes, func(r row) {
		if len(sample) < sampleRows {
			sample = append(sample, append([]string(nil), r.fields...))
		}
	})
	var ie *InputError
	if errors.As(err, &ie) {
		return nil, bad(ie.Reason)
	}
	if err != nil {
		return nil, err
	}
	// Classified as entryWriter.rows classifies (classify).
	schema, err := s.classify(m.Header, sample, cm.overrides)
	if err != nil {
		return nil, bad("classification: " + err.Error())
	}
	if len(schema.Identifiers()) == 0 {
		return nil, bad("not a lead list: no identifier column (phone, email, customer ID or account number)")
	}
	if _, err := pinned(columnsOf(schema)); err != nil {
		return nil, bad(err.Error())
	}
	m.Columns = columnsOf(schema)
	if _, err := io.Copy(io.Discard, body); err != nil {
		return nil, fmt.Errorf("read s3://%s/%s@%s: %w", m.Bucket, m.Key, m.VersionID, err)
	}
	m.Size = body.n
	if n := len(chunks); n > 0 {
		chunks[n-1].End = body.n
	}
	return chunks, nil
}

// chunkBoundaries reads every record of src and cuts them into chunks of
// about size bytes: a chunk starts at the first record (readable or not),
// and a new one at the first readable record at or past size bytes from
// the last start. The last chunk's End is left for the caller (the end of
// the object). seen gets every readable row.
func chunkBoundaries(src rowSource, size int64, seen func(row)) ([]Chunk, error) {
	var chunks []Chunk
	var next int64
	for {
		r, err := src.Next()
		if err == io.EOF {
			return chunks, nil
		}
		var pe *leads.ParseError
		if err != nil && !errors.As(err, &pe) {
			return nil, err
		}
		// A chunk starts at a record that read as a record; an unreadable
		// one only opens the first chunk, so that no chunk loses it.
		if len(chunks) == 0 || err == nil && r.offset >= next {
			if n := len(chunks); n > 0 {
				chunks[n-1].End = r.offset
			}
			chunks = append(chunks, Chunk{Start: r.offset, FirstRecord: r.number, FirstLine: r.line})
			next = r.offset + size
		}
		if err == nil {
			seen(r)
		}
	}
}

// pinned returns the campaign overrides that make a chunk's classification
// the plan's: every column's kind by its header. Chunks run the same row
// loop as the whole list (entryWriter.rows), which classifies from the rows
// it reads; pinning every header gives it the plan's kinds whatever rows
// the chunk starts with. It fails when two columns share a header but not
// a kind, which no override can say.
func pinned(cols []Column) (map[string]identifiers.Kind, error) {
	out := make(map[string]identifiers.Kind, len(cols))
	for _, c := range cols {
		k, err := identifiers.ParseKind(c.Kind)
		if err != nil {
			return nil, err
		}
		if prev, ok := out[c.Header]; ok && prev != k {
			return nil, fmt.Errorf("too large to index in one pass, and two columns named %q hold different kinds", c.Header)
		}
		out[c.Header] = k
	}
	return out, nil
}

// Chunk indexes one chunk of a planned job: a ranged read of its bytes,
// parsed with the options and header Plan recorded, its entries written by
// the whole-list row loop with the plan's column kinds. A superseded job
// writes nothing; a chunk that cannot be indexed is reported in
// ChunkResult.Failed. It returns errors worth a retry.
func (s *Service) Chunk(ctx context.Context, job ChunkJob, c Chunk) (ChunkResult, error) {
	m, ok, err := s.owned(ctx, job)
	if err != nil {
		return ChunkResult{}, err
	}
	if !ok {
		return ChunkResult{Superseded: true}, nil
	}
	if c.End <= c.Start || c.FirstRecord < 1 {
		return ChunkResult{}, fmt.Errorf("chunk [%d, %d) of s3://%s/%s: not a planned chunk", c.Start, c.End, job.Bucket, job.Key)
	}
	overrides, err := pinned(m.Columns)
	if err != nil {
		return ChunkResult{Failed: err.Error()}, nil
	}
	delim, _ := utf8.DecodeRuneInString(m.Delimiter)
	body, err := s.readRange(ctx, job, c)
	if err != nil {
		return ChunkResult{}, err
	}
	rd, err := leads.NewReaderAt(bytes.NewReader(body), leads.Position{Offset: c.Start, Number: c.FirstRecord, Line: c.FirstLine},
		m.Header, m.HeaderLine, leads.Options{Encoding: m.Encoding, Delimiter: delim, CRLineEnds: m.CRLineEnds})
	if err != nil {
		return ChunkResult{}, fmt.Errorf("chunk of s3://%s/%s: %w", job.Bucket, job.Key, err)
	}
	part := Manifest{Bucket: m.Bucket, Key: m.Key, VersionID: m.VersionID, Campaign: m.Campaign}
	w := &entryWriter{s: s, m: &part}
	bad := func(reason string) error {
		return &InputError{Bucket: m.Bucket, Key: m.Key, VersionID: m.VersionID, Reason: reason}
	}
	_, minors, err := w.rows(ctx, "", textRows{rd}, overrides, bad)
	if err == nil {
		err = w.flush(ctx)
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return ChunkResult{Failed: ie.Reason}, nil
	}
	if err != nil {
		return ChunkResult{}, err
	}
	return ChunkResult{Rows: part.Rows, Entries: part.Entries, Invalid: part.Invalid, UnreadableRows: part.UnreadableRows,
		UnreadableLines: part.UnreadableLines, Minors: minors, KeyID: s.KeyID}, nil
}

func (s *Service) readRange(ctx context.Context, job ChunkJob, c Chunk) ([]byte, error) {
	if rr, ok := s.Objects.(rangeReader); ok {
		return rr.ReadRange(ctx, job.Bucket, job.Key, job.VersionID, c.Start, c.End)
	}
	obj, err := s.Objects.Open(ctx, job.Bucket, job.Key, job.VersionID)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	if _, err := io.CopyN(io.Discard, obj, c.Start); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(obj, c.End-c.Start))
}

// FinishChunked is the last step of a chunked job: with every chunk's
// result, it drops the entries of other versions (the claim checked for
// every page) and records the version indexed with the sums. A chunk that
// failed fails the version (FailChunked); a superseded job yields. It
// returns errors worth a retry.
func (s *Service) FinishChunked(ctx context.Context, job ChunkJob, results []ChunkResult) error {
	m, ok, err := s.owned(ctx, job)
	if err != nil {
		return err
	}
	if !ok {
		return s.yieldJob(ctx, job, m)
	}
	m.Rows, m.Entries, m.Invalid, m.UnreadableRows, m.UnreadableLines, m.MinorsUnder16 = 0, 0, 0, 0, nil, -1
	for _, r := range results {
		switch {
		case r.Failed != "":
			return s.FailChunked(ctx, job, r.Failed)
		case r.Superseded:
			return s.yieldJob(ctx, job, m)
		}
		m.Rows += r.Rows
		m.Entries += r.Entries
		m.Invalid += r.Invalid
		m.UnreadableRows += r.UnreadableRows
		for _, l := range r.UnreadableLines {
			if len(m.UnreadableLines) < MaxUnreadableLines {
				m.UnreadableLines = append(m.UnreadableLines, l)
			}
		}
		if r.Minors >= 0 {
			m.MinorsUnder16 = max(m.MinorsUnder16, 0) + r.Minors
		}
	}
	version := job.VersionID
	// Entries of the version under a key no chunk wrote are stale (a
	// re-key's old ones); one key for every chunk is the manifest's, none
	// when they differ, so that the list is re-keyed again.
	written := map[string]bool{}
	for _, r := range results {
		written[r.KeyID] = true
	}
	m.KeyID = ""
	if len(written) == 1 {
		for k := range written {
			m.KeyID = k
		}
	}
	keepCurrent := func(v, k string) bool { return v == version && (written[k] || len(written) == 0) }
	retained, err := s.retain(ctx, job.Bucket, job.Key, version, append(retainedOf(m.Previous, s.now()), m.Noncurrent...))
	if err != nil {
		return err
	}
	keepCurrent = keepingRetained(retained, keepCurrent)
	m.Status, m.IndexedAt, m.UpdatedAt, m.Previous, m.Noncurrent = StatusIndexed, s.now(), s.now(), nil, retained
	if ok, err := s.Index.Finish(ctx, m); err != nil || !ok {
		if err != nil {
			return err
		}
		return s.yield(ctx, job.Bucket, job.Key, version)
	}
	if err := s.dropOthers(ctx, job.Bucket, job.Key, m.Sequencer, keepCurrent); err != nil {
		return err
	}
	s.log().InfoContext(ctx, "object indexed in chunks", "bucket", m.Bucket, "key", m.Key, "versionId", version,
		"chunks", len(results), "rows", m.Rows, "entries", m.Entries, "invalid", m.Invalid, "unreadableRows", m.UnreadableRows)
	return nil
}

// FailChunked records a chunked job's version failed with reason, as Apply
// records a list it cannot index: the version's entries go, the last
// indexed version (Previous) goes on answering. A superseded or already
// finished job changes nothing but its own entries. It returns errors worth
// a retry.
func (s *Service) FailChunked(ctx context.Context, job ChunkJob, reason string) error {
	m, ok, err := s.owned(ctx, job)
	if err != nil {
		return err
	}
	if !ok {
		return s.yieldJob(ctx, job, m)
	}
	keepPrevious := keepingRetained(m.Noncurrent, func(v, _ string) bool { return m.Previous != nil && v == m.Previous.VersionID })
	if _, err := s.Index.DeleteEntries(ctx, job.Bucket, job.Key, s.owner(job.Bucket, job.Key, m.Sequencer, keepPrevious)); err != nil {
		return s.yieldIfSuperseded(ctx, err, job.Bucket, job.Key, job.VersionID)
	}
	m.Status, m.Error, m.UpdatedAt = StatusFailed, reason, s.now()
	m.Rows, m.Entries, m.Invalid = 0, 0, 0
	ok, err = s.Index.Finish(ctx, m)
	if err != nil {
		return err
	}
	if !ok {
		return s.yield(ctx, job.Bucket, job.Key, job.VersionID)
	}
	s.log().InfoContext(ctx, "chunked indexing failed", "bucket", m.Bucket, "key", m.Key, "versionId", job.VersionID, "reason", reason)
	return nil
}

// yieldJob drops the job's entries when a later change owns the key; a
// job whose own claim ended (indexed or failed) leaves them be.
func (s *Service) yieldJob(ctx context.Context, job ChunkJob, m Manifest) error {
	if m.Sequencer == PadSequencer(job.Sequencer) {
		return nil
	}
	return s.yield(ctx, job.Bucket, job.Key, job.VersionID)
}
