package suppression

// Bulk import: a CSV of kind,value[,reason] (an opt-out list from a
// dialer, a regulator's do-not-call extract) hashed on the way in, one
// pass in constant memory. Rows that cannot be used are reported by line
// number and reason, never by value.

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocarina/gocsv"

	"github.com/veil-privacy/veil/pkg/veil"
)

// MaxProblems is how many invalid rows an ImportSummary lists; it counts
// them all.
const MaxProblems = 1000

// importBatch is how many entries an import hands Add at once.
const importBatch = 1000

// Adder is what an import writes to: Store.Add.
type Adder interface {
	Add(ctx context.Context, entries []Entry) (int, error)
}

var _ Adder = (*Store)(nil)

// Importer reads import files into the list.
type Importer struct {
	Hasher *Hasher
	Adder  Adder
	Action Action
	// Origin is recorded in every entry ("import:<file base name>").
	Origin string
	// Added is the entries' time; zero means when Import starts.
	Added time.Time
	// Progress, if set, is called every few thousand rows and at the end,
	// from the goroutine that called Import.
	Progress func(ImportProgress)
}

// ImportProgress is how far an import is.
type ImportProgress struct {
	Bytes   int64 // of the file read (the CSV reader reads ahead)
	Rows    int
	Invalid int
}

// Problem is an invalid row: its line (the line it starts on) and why,
// never its value.
type Problem struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ImportSummary is what an import did.
type ImportSummary struct {
	Rows int `json:"rows"` // data rows read
	// Valid rows became one entry per key.
	Valid   int `json:"valid"`
	Invalid int `json:"invalid"`
	// Entries is how many entries were written; New of them were not on
	// the list yet (a repeated row, or one already imported, is not new).
	Entries  int       `json:"entries"`
	New      int       `json:"new"`
	Problems []Problem `json:"problems"` // the first MaxProblems invalid rows
}

// row is a record as the import hands it to gocsv: the file's columns put
// in a fixed order, with the line and any problem reading it.
type row struct {
	Kind    string `csv:"kind"`
	Value   string `csv:"value"`
	Reason  string `csv:"reason"`
	Line    int    `csv:"_line"`
	Problem string `csv:"_problem"`
}

var rowHeader = []string{"kind", "value", "reason", "_line", "_problem"}

// ErrHeader means an import file without a usable first line.
var ErrHeader = errors.New("import: want a header naming columns kind and value (reason optional), or rows of kind,value[,reason]")

// Import reads a CSV from r and puts its rows on the list. The first line
// is a header naming columns kind, value and optionally reason (any order
// and case, other columns ignored), unless its first field is already a
// kind, when the columns are kind,value,reason. A row that does not parse
// is a Problem, not an error. Import fails with ErrHeader for an empty
// file or an unusable header, with r's errors, and with Adder's; the
// summary then counts what was done.
func (im *Importer) Import(ctx context.Context, r io.Reader) (ImportSummary, error) {
	sum := ImportSummary{Problems: []Problem{}}
	added := im.Added
	if added.IsZero() {
		added = time.Now().UTC()
	}
	counted := &countingReader{r: r}
	cr := csv.NewReader(counted)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	dec := &decoder{ctx: ctx, r: cr}
	var batch []Entry
	flush := func() {
		if len(batch) == 0 || dec.stopped() != nil {
			return
		}
		n, err := im.Adder.Add(ctx, batch)
		sum.Entries += len(batch)
		sum.New += n
		batch = batch[:0]
		if err != nil {
			dec.stop(err)
		}
	}
	report := func() {
		if im.Progress != nil {
			im.Progress(ImportProgress{Bytes: counted.n.Load(), Rows: sum.Rows, Invalid: sum.Invalid})
		}
	}
	invalid := func(line int, reason string) {
		sum.Invalid++
		if len(sum.Problems) < MaxProblems {
			sum.Problems = append(sum.Problems, Problem{Line: line, Reason: reason})
		}
	}
	err := gocsv.UnmarshalDecoderToCallback(dec, func(rw row) {
		sum.Rows++
		if sum.Rows%5000 == 0 {
			report()
		}
		if rw.Problem != "" {
			invalid(rw.Line, rw.Problem)
			return
		}
		kind, err := ParseKind(rw.Kind)
		if err == nil {
			var es []Entry
			if es, err = im.Hasher.Entries(kind, rw.Value, im.Action, im.Origin, strings.TrimSpace(rw.Reason), added); err == nil {
				sum.Valid++
				batch = append(batch, es...)
				if len(batch) >= importBatch {
					flush()
				}
				return
			}
		}
		var ve *veil.ValidationError
		if errors.As(err, &ve) {
			invalid(rw.Line, ve.Reason)
			return
		}
		invalid(rw.Line, "cannot be keyed")
	})
	flush()
	report()
	if serr := dec.stopped(); serr != nil {
		return sum, serr
	}
	return sum, err
}

// countingReader counts the bytes read through it, for progress read on
// another goroutine than gocsv's.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// decoder is the gocsv.SimpleDecoder of an import: it reads the file's
// header, hands gocsv rowHeader and every record in its order, with the
// line it starts on, and turns a malformed record into a row with a
// Problem (encoding/csv reads on after one) rather than an error that
// would end the import. gocsv reads it on a goroutine of its own; stop
// ends it from the callback's.
type decoder struct {
	ctx    context.Context
	r      *csv.Reader
	header bool
	cols   [3]int // of kind, value, reason in the file; -1 for none
	width  int
	queued []string // a first line that was data, not a header

	mu  sync.Mutex
	err error
}

func (d *decoder) stop(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) stopped() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// GetCSVRows is never called by the callback functions.
func (d *decoder) GetCSVRows() ([][]string, error) {
	return nil, errors.New("import: rows are read one at a time")
}

// GetCSVRow returns rowHeader first, then each record.
func (d *decoder) GetCSVRow() ([]string, error) {
	if err := d.stopped(); err != nil {
		return nil, err
	}
	if err := d.ctx.Err(); err != nil {
		return nil, err
	}
	if !d.header {
		if err := d.readHeader(); err != nil {
			return nil, err
		}
		d.header = true
		return rowHeader, nil
	}
	if d.queued != nil {
		out := d.queued
		d.queued = nil
		return out, nil
	}
	rec, err := d.r.Read()
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		return d.problem(pe.StartLine, "malformed CSV ("+pe.Err.Error()+")"), nil
	case err != nil:
		return nil, err
	}
	line, _ := d.r.FieldPos(0)
	return d.record(rec, line), nil
}

// readHeader reads the first line: a header, or (its first field a kind)
// the first row of a file without one.
func (d *decoder) readHeader() error {
	rec, err := d.r.Read()
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF), errors.As(err, &pe):
		return ErrHeader
	case err != nil:
		return err
	}
	line, _ := d.r.FieldPos(0)
	rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
	if _, err := ParseKind(rec[0]); err == nil {
		d.cols, d.width = [3]int{0, 1, 2}, 3
		d.queued = d.record(rec, line)
		return nil
	}
	d.cols, d.width = [3]int{-1, -1, -1}, len(rec)
	for i, name := range rec {
		for j, want := range rowHeader[:3] {
			if strings.EqualFold(strings.TrimSpace(name), want) && d.cols[j] < 0 {
				d.cols[j] = i
			}
		}
	}
	if d.cols[0] < 0 || d.cols[1] < 0 {
		return ErrHeader
	}
	return nil
}

// record puts rec's columns in rowHeader's order.
func (d *decoder) record(rec []string, line int) []string {
	for i := d.width; i < len(rec); i++ {
		if strings.TrimSpace(rec[i]) != "" {
			return d.problem(line, fmt.Sprintf("%d fields, the header has %d", len(rec), d.width))
		}
	}
	out := make([]string, len(rowHeader))
	for j, c := range d.cols {
		if c >= 0 && c < len(rec) {
			out[j] = rec[c]
		}
	}
	out[3] = strconv.Itoa(line)
	return out
}

// problem is a row holding only its line and what is wrong with it.
func (d *decoder) problem(line int, reason string) []string {
	out := make([]string, len(rowHeader))
	out[3], out[4] = strconv.Itoa(line), reason
	return out
}
