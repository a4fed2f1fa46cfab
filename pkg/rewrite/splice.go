package rewrite

// Splicing one record: find its cells in its original bytes, check that
// they are the cells leads read, put the new values in their place, and
// check that the result reads back as the record with those values and
// nothing else changed. Both checks go through leads itself, so a wrong
// boundary is an error, never a quietly wrong file.

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"

	"github.com/veil-privacy/veil/pkg/leads"
)

// splicer edits the records of one list.
type splicer struct {
	opts  leads.Options // the reader's: encoding, delimiter, line ends, limits
	c     codec
	delim byte
	// scratch, reused from record to record
	cooked, view []byte
	spans        []span
}

// newSplicer returns the splicer of a list read with opts (the reader's
// options, detection done). It fails with an error wrapping
// ErrUnsupportedEncoding.
func newSplicer(opts leads.Options) (*splicer, error) {
	c, err := newCodec(opts.Encoding, opts.Delimiter)
	if err != nil {
		return nil, err
	}
	return &splicer{opts: opts, c: c, delim: byte(opts.Delimiter)}, nil
}

// splice appends raw, the original bytes of rec, to dst with the cells of
// cells (column index to new value, valid UTF-8) replaced, and returns how
// many characters were masked because the encoding cannot hold them. It
// fails with an *EditError wrapping ErrNoColumn, ErrMismatch or
// ErrReadBack.
func (s *splicer) splice(dst, raw []byte, rec leads.Record, cells map[int]string) ([]byte, int64, error) {
	cols := make([]int, 0, len(cells))
	for col := range cells {
		if col >= len(rec.Fields) {
			return dst, 0, &EditError{Record: rec.Number, Column: col, Err: ErrNoColumn}
		}
		cols = append(cols, col)
	}
	slices.Sort(cols)
	spans, orig, err := s.cells(raw, rec)
	if err != nil {
		return dst, 0, err
	}
	want := slices.Clone(rec.Fields)
	start, prev, u := len(dst), 0, s.c.unit
	var masked int64
	for _, col := range cols {
		sp := spans[col]
		dst = append(dst, raw[prev:sp.start*u]...)
		var n int
		dst, want[col], n, err = s.cell(dst, cells[col], sp.quoted, len(spans) == 1)
		if err != nil {
			return dst, 0, &EditError{Record: rec.Number, Column: col, Err: ErrReadBack}
		}
		masked += int64(n)
		prev = sp.end * u
	}
	dst = append(dst, raw[prev:]...)
	got, err := leads.ParseRecord(dst[start:], nil, s.opts)
	if err != nil {
		return dst, 0, &EditError{Record: rec.Number, Column: -1, Err: ErrReadBack, Cause: err}
	}
	if got.Lenient && s.joinsNextLine(got.Raw) && !(rec.Lenient && s.joinsNextLine(orig)) {
		// Alone it reads as edited, but in the list it would take in the
		// lines after it, which the original record did not.
		return dst, 0, recordError(rec.Number, ErrReadBack)
	}
	if len(got.Fields) != len(want) {
		return dst, 0, recordError(rec.Number, ErrReadBack)
	}
	for i := range want {
		if got.Fields[i] != want[i] {
			return dst, 0, &EditError{Record: rec.Number, Column: i, Err: ErrReadBack}
		}
	}
	return dst, masked, nil
}

// cells returns the spans of the fields of raw, rec's original bytes, in
// code units, after checking that they hold exactly the fields leads read
// in the list (rec.Fields), and that raw reads back alone as it read
// there; and raw's text as leads decodes it. It fails with an *EditError
// wrapping ErrMismatch.
func (s *splicer) cells(raw []byte, rec leads.Record) ([]span, []byte, error) {
	mismatch := func(col int, cause error) error {
		return &EditError{Record: rec.Number, Column: col, Err: ErrMismatch, Cause: cause}
	}
	if len(raw)%s.c.unit != 0 {
		return nil, nil, mismatch(-1, nil) // a code unit cut off by the end of the file
	}
	cooked := raw
	if s.opts.CRLineEnds {
		s.cooked = append(s.cooked[:0], raw...)
		s.c.crToLF(s.cooked)
		cooked = s.cooked
	}
	s.view = s.c.view(s.view, cooked)
	ok := true
	if rec.Lenient {
		s.spans = splitLenient(s.view, s.delim, s.spans[:0])
	} else {
		s.spans, ok = splitStrict(s.view, s.delim, s.opts.LazyQuotes, s.spans[:0])
	}
	if !ok || len(s.spans) != len(rec.Fields) {
		return nil, nil, mismatch(-1, nil)
	}
	u := s.c.unit
	for i, sp := range s.spans {
		text, err := s.c.decode(cooked[sp.start*u : sp.end*u])
		if err != nil || unquote(text, sp) != rec.Fields[i] {
			return nil, nil, mismatch(i, nil)
		}
	}
	// What the edited record is checked against is what the list's reader
	// read; a record that reads otherwise alone (as a search reads it back
	// by its byte range) is not spliced.
	back, err := leads.ParseRecord(raw, nil, s.opts)
	if err != nil {
		return nil, nil, mismatch(-1, err)
	}
	if !slices.Equal(back.Fields, rec.Fields) {
		return nil, nil, mismatch(-1, nil)
	}
	return s.spans, back.Raw, nil
}

// joinsNextLine reports whether text, the decoded bytes of a record that
// encoding/csv refuses alone and that ends with a line feed, ends inside a
// quoted field as encoding/csv reads it. leads reads such a record, where
// it fails strict parsing, by its first line; but in a list, encoding/csv
// reads on into the lines after it, and were they to close the quote, the
// record would take them in. It tells by giving the record a next line
// that closes any quote: the record then reads as one with it.
func (s *splicer) joinsNextLine(text []byte) bool {
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return false // the end of the list: there is no next line
	}
	probe := make([]byte, 0, len(text)+2)
	probe = append(append(probe, text...), '"', '\n')
	cr := csv.NewReader(bytes.NewReader(probe))
	cr.Comma = s.opts.Delimiter
	cr.LazyQuotes = s.opts.LazyQuotes
	cr.FieldsPerRecord = -1
	_, err := cr.Read()
	return err == nil && cr.InputOffset() == int64(len(probe))
}

// cell appends the bytes of a cell holding v to dst, quoted when the
// original cell was (quoted), when v holds the delimiter, a quote, CR or
// LF, and when v is empty and the only field of its record (an empty line
// is no record). It returns the value the cell reads back as and how many
// characters were masked. In a list whose lines end with CR, the line
// breaks of v are written as CR: a LF would make the list read otherwise.
func (s *splicer) cell(dst []byte, v string, quoted, only bool) ([]byte, string, int, error) {
	if s.opts.CRLineEnds && strings.ContainsAny(v, "\r\n") {
		v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\r"), "\n", "\r")
	}
	v, n := s.c.mask(v)
	quote := quoted || strings.ContainsAny(v, "\"\r\n") || strings.IndexByte(v, s.delim) >= 0 || only && v == ""
	text := v
	if quote {
		text = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
	}
	dst, err := s.c.appendEncoded(dst, text)
	if s.opts.CRLineEnds {
		v = strings.ReplaceAll(v, "\r", "\n")
	} else {
		v = strings.ReplaceAll(v, "\r\n", "\n")
	}
	return dst, v, n, err
}
