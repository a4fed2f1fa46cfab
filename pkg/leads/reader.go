// Package leads reads campaign lead lists: CSV files of any common dialect,
// streamed in one pass in constant memory, each record with its exact byte
// range in the file so that it can be read back alone with a ranged GET.
//
// Parsing is encoding/csv's; this package adds the dialect (delimiter,
// byte-order mark), byte ranges, input checks (UTF-8, NUL bytes, size
// limits) and errors that name the line and field, never the data.
package leads

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Default limits.
const (
	DefaultMaxFieldBytes = 1 << 20
	// bufferSize is encoding/csv's read buffer; it is also how much input
	// the delimiter is sniffed from.
	bufferSize = 64 << 10
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// Options tunes a Reader. The zero value sniffs the delimiter and applies
// the default limits.
type Options struct {
	// Delimiter is the field separator; 0 sniffs it from the first lines
	// (comma, semicolon, tab or pipe).
	Delimiter rune
	// LazyQuotes accepts quotes inside unquoted fields and unescaped quotes
	// inside quoted fields, as encoding/csv's LazyQuotes does.
	LazyQuotes bool
	// MaxFieldBytes is the longest field accepted; 0 means
	// DefaultMaxFieldBytes.
	MaxFieldBytes int
	// MaxRecordBytes is the longest record accepted, and so the most the
	// reader ever buffers; 0 means twice MaxFieldBytes. A field longer than
	// it is reported as ErrFieldTooLarge as soon as the limit is reached,
	// without reading the rest of the field.
	MaxRecordBytes int
	// RequireRows makes a list with a header and no data records an error
	// (ErrHeaderOnly) instead of an ordinary end (io.EOF).
	RequireRows bool
}

func (o Options) withDefaults() Options {
	if o.MaxFieldBytes <= 0 {
		o.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = 2 * o.MaxFieldBytes
	}
	return o
}

// Record is one data record of a lead list.
type Record struct {
	// Number is the record's place in the list: 1 for the first data
	// record after the header.
	Number int64
	// Line is the 1-based physical line the record starts on.
	Line int
	// Offset and Length are the record's byte range in the file, from its
	// first byte through its line terminator (if it has one), byte-order
	// mark and blank lines excluded: exactly the bytes ParseRecord needs.
	Offset int64
	Length int64
	// Fields are the record's values in file order. A ragged record keeps
	// exactly the fields it has: field i is always under header i.
	Fields []string
	// Raw is the record's bytes, Length of them.
	Raw []byte
	// Ragged says the record has more or fewer fields than the header.
	Ragged bool
}

// Range returns the record's byte range as an HTTP Range header value,
// "bytes=first-last", inclusive as HTTP wants it.
func (r Record) Range() string {
	return fmt.Sprintf("bytes=%d-%d", r.Offset, r.Offset+r.Length-1)
}

// Reader streams the records of one lead list. Fields and Raw of a returned
// Record are only valid until the next call to Next. A Reader is not safe
// for concurrent use.
type Reader struct {
	opts   Options
	win    *window
	csv    *csv.Reader
	shift  int64 // bytes before encoding/csv's offset 0 (a byte-order mark)
	header []string

	prevEnd int64 // input offset just past the last record
	line    int   // physical line at prevEnd, 1-based
	number  int64 // records returned so far, header excluded
	err     error // sticky error
}

// NewReader reads the dialect and the header of a lead list from r and
// returns a Reader positioned at the first data record. It fails with
// ErrEmpty when r holds no record, and with a *ParseError wrapping
// ErrEncoding, ErrBinary, ErrNoHeader, ErrInvalidUTF8, ErrFieldTooLarge,
// ErrRecordTooLarge or a csv quote error when the header is unusable; read
// errors of r are returned wrapped.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	opts = opts.withDefaults()
	// The limit applies once the sample is read: the sample may hold many
	// records.
	win := &window{src: r}
	br := bufio.NewReaderSize(win, bufferSize)
	sample, err := br.Peek(bufferSize)
	atEOF := err != nil
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("leads: read: %w", err)
	}
	switch {
	case bytes.HasPrefix(sample, []byte{0xFF, 0xFE}), bytes.HasPrefix(sample, []byte{0xFE, 0xFF}),
		bytes.HasPrefix(sample, []byte{0, 0, 0xFE, 0xFF}):
		return nil, &ParseError{Line: 1, Record: 0, Err: ErrEncoding}
	}
	if i := bytes.IndexByte(sample, 0); i >= 0 {
		return nil, &ParseError{Line: 1 + bytes.Count(sample[:i], []byte{'\n'}), Record: -1, Err: ErrBinary}
	}
	var shift int64
	if bytes.HasPrefix(sample, bom) {
		shift = int64(len(bom))
		sample = sample[len(bom):]
		if _, err := br.Discard(len(bom)); err != nil {
			return nil, fmt.Errorf("leads: read: %w", err)
		}
	}
	if opts.Delimiter == 0 {
		opts.Delimiter = Sniff(sample, atEOF)
	}
	if !validDelimiter(opts.Delimiter) {
		return nil, fmt.Errorf("leads: invalid delimiter %q", opts.Delimiter)
	}
	win.limit = int64(opts.MaxRecordBytes)
	cr := csv.NewReader(br)
	cr.Comma = opts.Delimiter
	cr.LazyQuotes = opts.LazyQuotes
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	// The header is record 0.
	rd := &Reader{opts: opts, win: win, csv: cr, shift: shift, prevEnd: shift, line: 1, number: -1}
	win.release(shift)

	header, err := rd.next()
	if err == io.EOF {
		return nil, ErrEmpty
	}
	if err != nil {
		return nil, err
	}
	if !plausibleHeader(header.Fields) {
		return nil, &ParseError{Line: header.Line, Record: 0, Err: ErrNoHeader}
	}
	rd.header = append([]string(nil), header.Fields...)
	rd.number = 0
	return rd, nil
}

// validDelimiter reports whether d can separate fields: an ASCII character
// that is not a quote, a line break or a letter or digit.
func validDelimiter(d rune) bool {
	return d > 0 && d < utf8.RuneSelf && d != '"' && d != '\r' && d != '\n' &&
		!('0' <= d && d <= '9') && !('a' <= d && d <= 'z') && !('A' <= d && d <= 'Z')
}

// plausibleHeader reports whether a first record can be a header: some
// name is not blank and no name looks like a consumer's data.
func plausibleHeader(names []string) bool {
	named := false
	for _, n := range names {
		if strings.TrimSpace(n) != "" {
			named = true
		}
		digits := 0
		for i := 0; i < len(n); i++ {
			if '0' <= n[i] && n[i] <= '9' {
				digits++
			}
		}
		if digits >= 7 {
			return false
		}
		if at := strings.IndexByte(n, '@'); at > 0 && strings.IndexByte(n[at:], '.') > 0 {
			return false
		}
	}
	return named
}

// Header returns the list's header fields. The slice must not be modified.
func (r *Reader) Header() []string { return r.header }

// Options returns the options in effect, the sniffed delimiter and default
// limits filled in: what ParseRecord needs to read a record back.
func (r *Reader) Options() Options { return r.opts }

// Count returns how many data records Next has returned so far, erroneous
// ones included.
func (r *Reader) Count() int64 { return r.number }

// Next returns the next data record. At the end of the list it returns
// io.EOF (or a *ParseError wrapping ErrHeaderOnly, with
// Options.RequireRows and no data record). A *ParseError about one record
// (ErrInvalidUTF8, ErrBinary, ErrFieldTooLarge within the record limit,
// csv.ErrBareQuote, csv.ErrQuote) comes with that record's Number, Offset
// and Length and leaves the Reader usable: the next call reads on. A
// ParseError wrapping ErrRecordTooLarge, ErrFieldTooLarge past the record
// limit, and read errors of the source (wrapped) end the stream: every
// later call returns the same error.
func (r *Reader) Next() (Record, error) {
	rec, err := r.next()
	if err == io.EOF && r.number == 0 && r.opts.RequireRows {
		return rec, &ParseError{Line: r.line, Record: -1, Err: ErrHeaderOnly}
	}
	return rec, err
}

func (r *Reader) next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	fields, err := r.csv.Read()
	if err == io.EOF {
		r.err = io.EOF
		return Record{}, io.EOF
	}
	if errors.Is(err, errOverLimit) {
		r.err = r.overLimit()
		return Record{}, r.err
	}
	var perr *csv.ParseError
	if err != nil && !errors.As(err, &perr) {
		r.err = fmt.Errorf("leads: read: %w", err)
		return Record{}, r.err
	}

	end := r.shift + r.csv.InputOffset()
	start, line := r.skipBlank(r.prevEnd, end)
	raw := r.win.bytes(start, end)
	rec := Record{
		Number: r.number + 1,
		Line:   line,
		Offset: start,
		Length: end - start,
		Fields: fields,
		Raw:    raw,
		Ragged: r.header != nil && len(fields) != len(r.header),
	}
	r.number++
	r.prevEnd = end
	r.line = line + bytes.Count(raw, []byte{'\n'})
	r.win.release(end)

	if perr != nil {
		return rec, &ParseError{Line: perr.Line, Record: rec.Number, Field: len(fields) + 1, Err: perr.Err}
	}
	if err := check(raw, fields, line, r.opts); err != nil {
		err.Record = rec.Number
		return rec, err
	}
	return rec, nil
}

// skipBlank returns the offset and line of the first byte after the blank
// lines that encoding/csv skips between from and to.
func (r *Reader) skipBlank(from, to int64) (int64, int) {
	line := r.line
	b := r.win.bytes(from, to)
	i := 0
	for i < len(b) {
		switch {
		case b[i] == '\n':
			i++
		case b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n':
			i += 2
		case b[i] == '\r' && i+1 == len(b):
			// A lone CR before EOF, dropped by encoding/csv.
			return from + int64(i), line
		default:
			return from + int64(i), line
		}
		line++
	}
	return from + int64(i), line
}

// check validates a parsed record's bytes: no NUL, valid UTF-8, no field
// or record over its limit. The common case costs two fast scans of raw.
func check(raw []byte, fields []string, line int, opts Options) *ParseError {
	maxField := opts.MaxFieldBytes
	if bytes.IndexByte(raw, 0) >= 0 {
		return &ParseError{Line: line, Field: fieldWith(fields, func(f string) bool { return strings.IndexByte(f, 0) >= 0 }), Err: ErrBinary}
	}
	if !utf8.Valid(raw) {
		return &ParseError{Line: line, Field: fieldWith(fields, func(f string) bool { return !utf8.ValidString(f) }), Err: ErrInvalidUTF8}
	}
	if len(raw) > min(maxField, opts.MaxRecordBytes) {
		if i := fieldWith(fields, func(f string) bool { return len(f) > maxField }); i > 0 {
			return &ParseError{Line: line, Field: i, Err: ErrFieldTooLarge}
		}
		if len(raw) > opts.MaxRecordBytes {
			return &ParseError{Line: line, Err: ErrRecordTooLarge}
		}
	}
	return nil
}

// fieldWith returns the 1-based index of the first field for which bad is
// true, or 0.
func fieldWith(fields []string, bad func(string) bool) int {
	for i, f := range fields {
		if bad(f) {
			return i + 1
		}
	}
	return 0
}

// overLimit explains errOverLimit: it finds, in the pending bytes, the field
// that outgrew MaxFieldBytes, or else blames the record.
func (r *Reader) overLimit() *ParseError {
	start, line := r.skipBlank(r.prevEnd, r.win.end())
	b := r.win.bytes(start, r.win.end())
	field, size, inQuote := 1, 0, false
	fieldLine := line
scan:
	for _, c := range b {
		switch {
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '\n':
			// The record ended here; what follows is read-ahead.
			break scan
		case !inQuote && rune(c) == r.opts.Delimiter:
			field, size, fieldLine = field+1, 0, line
			continue
		case c == '\n':
			line++
		}
		size++
		if size > r.opts.MaxFieldBytes {
			return &ParseError{Line: fieldLine, Record: r.number + 1, Field: field, Err: ErrFieldTooLarge}
		}
	}
	return &ParseError{Line: fieldLine, Record: r.number + 1, Err: ErrRecordTooLarge}
}
