package indexing

import (
	"context"
	"errors"
	"io"

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

// entryWriter batches one object's entries and counts its rows.
type entryWriter struct {
	s     *Service
	m     *Manifest
	batch []Entry
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
			if err == io.EOF {
				return r, false, nil
			}
			var pe *leads.ParseError
			var ie *InputError
			switch {
			case errors.As(err, &ie):
				return r, false, bad(ie.Reason)
			case errors.As(err, &pe):
				// One bad row is one bad row: counted, its line kept, the
				// list still indexed.
				w.m.UnreadableRows++
				if len(w.m.UnreadableLines) < MaxUnreadableLines {
					w.m.UnreadableLines = append(w.m.UnreadableLines, r.line)
				}
				continue
			case err != nil:
				return r, false, err
			}
			return r, true, nil
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
	schema, err := identifiers.Classify(src.Header(), values, identifiers.ClassifyOptions{Overrides: overrides, Region: w.s.Region})
	if err != nil {
		return nil, 0, bad("classification: " + err.Error())
	}
	if len(schema.Identifiers()) == 0 {
		return nil, 0, nil
	}
	ix, err := identifiers.NewIndexer(w.s.Secret, schema, w.s.Region)
	if err != nil {
		return nil, 0, err
	}
	minors := newMinorCounter(schema, w.s.now())
	var scratch []identifiers.Entry
	add := func(r row) error {
		w.m.Rows++
		minors.add(r.fields)
		scratch = ix.Append(scratch[:0], r.fields)
		for _, e := range scratch {
			w.batch = append(w.batch, Entry{Key: e.Key(), Kind: e.Kind.String(), Bucket: w.m.Bucket, ObjectKey: w.m.Key,
				VersionID: w.m.VersionID, Sheet: sheet, Row: r.number, Offset: r.offset, Length: r.length})
		}
		if len(w.batch) >= w.s.batchSize() {
			return w.flush(ctx)
		}
		return nil
	}
	for _, r := range sample {
		if err := add(r); err != nil {
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
		if err := add(r); err != nil {
			return nil, 0, err
		}
	}
	for _, st := range ix.Stats() {
		w.m.Invalid += st.Invalid
	}
	return &schema, minors.count(), nil
}

// flush writes the batched entries.
func (w *entryWriter) flush(ctx context.Context) error {
	if len(w.batch) == 0 {
		return nil
	}
	if err := w.s.Index.PutEntries(ctx, w.batch); err != nil {
		return err
	}
	w.m.Entries += int64(len(w.batch))
	w.batch = w.batch[:0]
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
