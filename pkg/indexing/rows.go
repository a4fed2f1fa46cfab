package indexing

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/workbook"
)

// sheetRows adapts a workbook sheet: a row is numbered as Excel shows it.
type sheetRows struct{ sr *workbook.SheetReader }

func (t sheetRows) Header() []string { return t.sr.Header() }

func (t sheetRows) Next() (row, error) {
	r, err := t.sr.Next()
	out := row{number: int64(r.Number), line: r.Number, fields: r.Fields}
	if errors.Is(err, workbook.ErrCorrupt) {
		return out, &InputError{Reason: err.Error()}
	}
	return out, err
}

// row is one record of a list or a sheet, wherever it came from.
type row struct {
	number int64 // Entry.Row
	line   int   // where a person finds it: physical line, or sheet row
	offset int64
	length int64
	fields []string
}

// rowSource streams the rows of one list or sheet. Next returns io.EOF at
// the end, a *leads.ParseError for one row that cannot be read (the next
// call reads on), an *InputError when the list turns out not to be one,
// and other errors for failures worth a retry.
type rowSource interface {
	Header() []string
	Next() (row, error)
}

// textRows adapts a leads.Reader.
type textRows struct{ rd *leads.Reader }

func (t textRows) Header() []string { return t.rd.Header() }

func (t textRows) Next() (row, error) {
	rec, err := t.rd.Next()
	r := row{number: rec.Number, line: rec.Line, offset: rec.Offset, length: rec.Length, fields: rec.Fields}
	if err == nil || err == io.EOF {
		return r, err
	}
	if errors.Is(err, leads.ErrEncoding) || errors.Is(err, leads.ErrHeaderOnly) {
		return r, &InputError{Reason: err.Error()}
	}
	return r, err
}

// entryWriter batches one object's entries and counts its rows. An
// entry's key is kept as its hash until the batch is written: flush
// hex-encodes the batch's keys into one string, one allocation per batch
// instead of one per entry (a store that keeps a key keeps that string).
type entryWriter struct {
	s      *Service
	m      *Manifest
	batch  []Entry
	hashes []identifiers.Hash // hashes[i] is batch[i]'s key
}

// rows classifies one list or sheet from its first rows, then writes the
// entries of all its rows. It returns a nil schema, having written
// nothing, when the list has no identifier column, and the count of minors
// (-1 without a date-of-birth column).
func (w *entryWriter) rows(ctx context.Context, sheet string, src rowSource, overrides map[string]identifiers.Kind,
	bad func(string) error) (*identifiers.Schema, int64, error) {
	next := func() (row, bool, error) {
		for {
			r, err := src.Next()
			if err == nil {
				return r, true, nil
			}
			if err == io.EOF {
				return r, false, nil
			}
			if ie := (*InputError)(nil); errors.As(err, &ie) {
				return r, false, bad(ie.Reason)
			}
			if pe := (*leads.ParseError)(nil); !errors.As(err, &pe) {
				return r, false, err
			}
			// One bad row is one bad row: counted, its line kept, the list
			// still indexed.
			w.m.UnreadableRows++
			if len(w.m.UnreadableLines) < MaxUnreadableLines {
				w.m.UnreadableLines = append(w.m.UnreadableLines, r.line)
			}
		}
	}
	var sample []row
	for len(sample) < sampleRows {
		r, ok, err := next()
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			break
		}
		r.fields = append([]string(nil), r.fields...)
		sample = append(sample, r)
	}
	values := make([][]string, len(sample))
	for i, r := range sample {
		values[i] = r.fields
	}
	schema, err := w.s.classify(src.Header(), values, overrides)
	if err != nil {
		return nil, 0, bad("classification: " + err.Error())
	}
	if fb := w.previousKinds(sheet, src.Header()); len(schema.Identifiers()) == 0 && fb != nil {
		// The same header as the last indexed version, whose identifier
		// columns no sampled value shows any more (every sampled row
		// erased): the columns are what they were.
		for h, k := range overrides {
			fb[h] = k
		}
		if schema, err = w.s.classify(src.Header(), values, fb); err != nil {
			return nil, 0, bad("classification: " + err.Error())
		}
	}
	if len(schema.Identifiers()) == 0 {
		return nil, 0, nil
	}
	ix, err := identifiers.NewIndexer(w.s.Secret, schema, w.s.Region)
	if err != nil {
		return nil, 0, err
	}
	minors := newMinorCounter(schema, w.s.now())
	size := w.s.batchSize()
	// Every entry of the object shares these fields.
	object := Entry{Bucket: w.m.Bucket, ObjectKey: w.m.Key, VersionID: w.m.VersionID, Sheet: sheet, KeyID: w.s.KeyID}
	var scratch []identifiers.Entry
	add := func(r *row) error {
		w.m.Rows++
		minors.add(r.fields)
		scratch = ix.Append(scratch[:0], r.fields)
		for i := range scratch {
			w.batch = append(w.batch, object)
			e := &w.batch[len(w.batch)-1]
			e.Kind, e.Row, e.Offset, e.Length = scratch[i].Kind.String(), r.number, r.offset, r.length
			e.Placeholder = scratch[i].Placeholder
			w.hashes = append(w.hashes, scratch[i].Hash)
		}
		if len(w.batch) >= size {
			return w.flush(ctx)
		}
		return nil
	}
	for i := range sample {
		if err := add(&sample[i]); err != nil {
			return nil, 0, err
		}
	}
	for {
		r, ok, err := next()
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			break
		}
		if err := add(&r); err != nil {
			return nil, 0, err
		}
	}
	for _, st := range ix.Stats() {
		w.m.Invalid += st.Invalid
	}
	return &schema, minors.count(), nil
}

// flush writes the batched entries, their keys filled in.
func (w *entryWriter) flush(ctx context.Context) error {
	if len(w.batch) == 0 {
		return nil
	}
	// One string holds the batch's keys; each entry's key is a slice of it.
	// They are written to it a few at a time, from a buffer on the stack.
	var keys strings.Builder
	keys.Grow(len(w.hashes) * identifiers.KeyLen)
	var some [8 * identifiers.KeyLen]byte
	for i := 0; i < len(w.hashes); i += len(some) / identifiers.KeyLen {
		b := some[:0]
		for j := i; j < min(i+len(some)/identifiers.KeyLen, len(w.hashes)); j++ {
			b = w.hashes[j].AppendKey(b)
		}
		keys.Write(b)
	}
	all := keys.String()
	for i := range w.batch {
		w.batch[i].Key = all[i*identifiers.KeyLen : (i+1)*identifiers.KeyLen]
	}
	if err := w.s.Index.PutEntries(ctx, w.batch); err != nil {
		return err
	}
	w.m.Entries += int64(len(w.batch))
	w.batch, w.hashes = w.batch[:0], w.hashes[:0]
	return nil
}

func columnsOf(schema identifiers.Schema) []Column {
	cols := make([]Column, 0, len(schema.Columns))
	for _, col := range schema.Columns {
		cols = append(cols, Column{Header: col.Header, Kind: col.Kind.String(), By: col.By.String()})
	}
	return cols
}

// countingReader counts the bytes read through it: the size of the version
// indexed, whatever the change said.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// classify is how every path classifies a list, in one pass or in chunks:
// from its header and first sampleRows readable rows, with the campaign's
// overrides and the service's phone region.
func (s *Service) classify(header []string, sample [][]string, overrides map[string]identifiers.Kind) (identifiers.Schema, error) {
	return identifiers.Classify(header, sample, identifiers.ClassifyOptions{Overrides: overrides, Region: s.Region})
}

// previousKinds returns the column kinds, by header, of the key's last
// indexed version (Previous) when its header (of sheet, for a workbook)
// is header: nil otherwise.
func (w *entryWriter) previousKinds(sheet string, header []string) map[string]identifiers.Kind {
	p := w.m.Previous
	if p == nil {
		return nil
	}
	prevHeader, cols := p.Header, p.Columns
	if sheet != "" {
		prevHeader, cols = nil, nil
		for _, sh := range p.Sheets {
			if sh.Name == sheet {
				prevHeader, cols = sh.Header, sh.Columns
			}
		}
	}
	if len(cols) == 0 || !slices.Equal(prevHeader, header) {
		return nil
	}
	out := make(map[string]identifiers.Kind, len(cols))
	for _, c := range cols {
		k, err := identifiers.ParseKind(c.Kind)
		if err != nil {
			return nil
		}
		out[c.Header] = k
	}
	return out
}
