// Package leads reads campaign lead lists: CSV files of any common dialect
// and encoding, as spreadsheets, dialers and CRMs export them, streamed in
// one pass in constant memory, each record with its exact byte range in the
// original bytes so that it can be read back alone with a ranged GET.
//
// Parsing is encoding/csv's; decoding is golang.org/x/text's. This package
// adds the dialect (delimiter, encoding, byte-order mark, a preamble above
// the header), byte ranges, lenient recovery of malformed rows, input
// checks (NUL bytes, size limits) and errors that name the line and field,
// never the data.
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
	// the encoding and the delimiter are sniffed from.
	bufferSize = 64 << 10
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// Options tunes a Reader. The zero value detects the encoding and the
// delimiter and applies the default limits.
type Options struct {
	// Delimiter is the field separator; 0 sniffs it from the first lines
	// (comma, semicolon, tab or pipe).
	Delimiter rune
	// Encoding names the list's text encoding (any label htmlindex knows:
	// "ISO-8859-1", "Shift_JIS", …); "" detects it: a byte-order mark
	// decides (UTF-8, UTF-16 LE or BE), else UTF-16 when every other byte
	// is NUL, else UTF-8 when the first 64 KiB are valid UTF-8, else
	// Windows-1252. In a UTF-8 list, a field that is not valid UTF-8 is read
	// as Windows-1252. Reader.Options returns the encoding found.
	Encoding string
	// LazyQuotes accepts quotes inside unquoted fields and unescaped quotes
	// inside quoted fields for every record, as encoding/csv's LazyQuotes
	// does. Without it, only a record that fails strict parsing is read
	// leniently (see Record.Lenient).
	LazyQuotes bool
	// MaxFieldBytes is the longest field accepted; 0 means
	// DefaultMaxFieldBytes.
	MaxFieldBytes int
	// MaxRecordBytes is the longest record accepted, and so the most the
	// reader ever buffers; 0 means twice MaxFieldBytes. A field longer than
	// it is reported as ErrFieldTooLarge as soon as the limit is reached,
	// without reading the rest of the field.
	MaxRecordBytes int
	// CRLineEnds says lines end with a lone CR, as old Mac Excel wrote
	// them; it is detected (no LF in the first 64 KiB, and a CR) and
	// reported by Reader.Options, so that ParseRecord reads a record back
	// the same way. Every CR is then read as a line feed.
	CRLineEnds bool
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
	// Offset and Length are the record's byte range in the original bytes
	// of the file, from its first byte through its line terminator (if it
	// has one), byte-order mark and blank lines excluded: exactly the bytes
	// ParseRecord needs.
	Offset int64
	Length int64
	// Fields are the record's values in file order, as UTF-8. A ragged
	// record keeps exactly the fields it has: field i is always under
	// header i.
	Fields []string
	// Raw is the record's text as UTF-8: the bytes of its range, decoded.
	Raw []byte
	// Ragged says the record has more or fewer fields than the header.
	Ragged bool
	// Lenient says the record failed strict CSV parsing and was read
	// leniently: a quote that opens no well-formed quoted field is a
	// character, and a record cannot run past its first line.
	Lenient bool
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
	opts Options
	c    codec
	tx   *transcoder // nil when the text is the source bytes (UTF-8)
	win  *window
	csv  *csv.Reader
	// shift is the stream offset of encoding/csv's offset 0.
	shift      int64
	header     []string
	headerLine int
	pending    []queued // data records read while finding the header

	prevEnd int64 // stream offset just past the last record
	line    int   // physical line at prevEnd, 1-based
	number  int64 // records returned so far, header excluded
	err     error // sticky error
}

type queued struct {
	rec Record
	err error
}

// NewReader reads the encoding, the dialect and the header of a lead list
// from r and returns a Reader positioned at the first data record. The
// header is the first record within HeaderSearchLines lines that reads as
// one (see DetectHeader); lines above it are skipped. A headerless list
// (its first rows are a consumer's data) gets a header of ColumnNames, as
// wide as its widest record within those lines, and its first record is
// record 1: HeaderLine is then 0. It fails with ErrEmpty
// when r holds no record, and with a *ParseError wrapping ErrEncoding,
// ErrBinary, ErrNoHeader, ErrFieldTooLarge or ErrRecordTooLarge when no
// usable header is found; an unknown Options.Encoding wraps
// ErrUnknownEncoding; read errors of r are returned wrapped.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	opts = opts.withDefaults()
	sample := make([]byte, bufferSize)
	n, err := io.ReadFull(r, sample)
	sample = sample[:n]
	atEOF := err != nil
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("leads: read: %w", err)
	}
	name, skip := detect(sample, atEOF)
	if opts.Encoding != "" {
		detected := name
		if name, err = LookupEncoding(opts.Encoding); err != nil {
			return nil, err
		}
		if name != detected {
			skip = 0 // no mark, or the mark of another encoding than the one pinned
		}
	}
	c, err := codecFor(name)
	if err != nil {
		return nil, err
	}
	opts.Encoding = c.name
	// text is the sample decoded, whole code units only: what the
	// line ends, NUL bytes and the delimiter are read from.
	text, _ := c.decodeBytes(sample[skip : len(sample)&^(c.unit-1)])
	if !opts.CRLineEnds {
		opts.CRLineEnds = bytes.IndexByte(text, '\n') < 0 && bytes.IndexByte(text, '\r') >= 0
	}
	if opts.CRLineEnds {
		// A CR is a code unit of its own in every encoding read here, so
		// reading it as LF changes no offset.
		c.crToLF(sample[skip:])
		codec{unit: 1}.crToLF(text) // already UTF-8 (for UTF-8, the same bytes again: a no-op)
		r = &crReader{r: r, c: c}
	}
	if i := bytes.IndexByte(text, 0); i >= 0 {
		return nil, &ParseError{Line: 1 + bytes.Count(text[:i], []byte{'\n'}), Record: -1, Err: ErrBinary}
	}
	src := io.MultiReader(bytes.NewReader(sample[skip:]), r)
	rd := &Reader{opts: opts, c: c, line: 1}
	if c.enc == nil {
		rd.win = &window{src: src, base: int64(skip), keep: int64(skip)}
	} else {
		rd.tx = newTranscoder(src, c, int64(skip))
		rd.win = &window{src: rd.tx}
	}
	if opts.Delimiter == 0 {
		opts.Delimiter = Sniff(text, atEOF)
		rd.opts.Delimiter = opts.Delimiter
	}
	if !validDelimiter(opts.Delimiter) {
		return nil, fmt.Errorf("leads: invalid delimiter %q", opts.Delimiter)
	}
	rd.win.limit = int64(opts.MaxRecordBytes)
	rd.restart(rd.win.base, 1)
	if err := rd.findHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

// restart points a new encoding/csv reader at stream offset at, the start
// of physical line line. The window's bytes from at on are read again:
// after a malformed record, parsing resumes on the line after its first.
func (r *Reader) restart(at int64, line int) {
	src := r.win.src
	if at < r.win.end() {
		again := append([]byte(nil), r.win.bytes(at, r.win.end())...)
		src = io.MultiReader(bytes.NewReader(again), r.win.src)
	}
	r.win = &window{src: src, base: at, keep: at, limit: r.win.limit}
	cr := csv.NewReader(bufio.NewReaderSize(r.win, bufferSize))
	cr.Comma = r.opts.Delimiter
	cr.LazyQuotes = r.opts.LazyQuotes
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	r.csv, r.shift, r.prevEnd, r.line = cr, at, at, line
}

// findHeader reads the records of the first HeaderSearchLines lines, takes
// the header among them and queues the data records after it (all of
// them, for a headerless list).
func (r *Reader) findHeader() error {
	var recs []queued
	for len(recs) == 0 || r.line <= HeaderSearchLines {
		rec, err := r.next()
		if err == io.EOF {
			break
		}
		var perr *ParseError
		if err != nil && !errors.As(err, &perr) || r.err != nil {
			if r.err != nil && r.err != io.EOF {
				return r.err
			}
			return err
		}
		rec.Fields = append([]string(nil), rec.Fields...)
		rec.Raw = append([]byte(nil), rec.Raw...)
		recs = append(recs, queued{rec, err})
	}
	if len(recs) == 0 {
		return ErrEmpty
	}
	names := make([][]string, len(recs))
	for i, q := range recs {
		if q.err == nil {
			names[i] = q.rec.Fields
		}
	}
	h, err := DetectHeader(names)
	if err != nil {
		first := recs[0]
		if first.err != nil {
			return first.err
		}
		return &ParseError{Line: first.rec.Line, Record: 0, Err: ErrNoHeader}
	}
	var skip int64
	if h == Headerless {
		// Every record is a consumer's, the first included; none is
		// dropped as a preamble. The header names the widest record seen.
		width := 0
		for _, n := range names {
			width = max(width, len(n))
		}
		r.header = ColumnNames(width)
	} else {
		r.header = recs[h].rec.Fields
		r.headerLine = recs[h].rec.Line
		skip = int64(h + 1)
		recs = recs[h+1:]
	}
	for _, q := range recs {
		q.rec.Number -= skip
		q.rec.Ragged = len(q.rec.Fields) != len(r.header)
		if pe := (*ParseError)(nil); errors.As(q.err, &pe) {
			pe.Record = q.rec.Number
		}
		r.pending = append(r.pending, q)
	}
	r.number -= skip
	return nil
}

// validDelimiter reports whether d can separate fields: an ASCII character
// that is not a quote, a line break or a letter or digit.
func validDelimiter(d rune) bool {
	return d > 0 && d < utf8.RuneSelf && d != '"' && d != '\r' && d != '\n' &&
		!('0' <= d && d <= '9') && !('a' <= d && d <= 'z') && !('A' <= d && d <= 'Z')
}

// Header returns the list's header fields (ColumnNames for a headerless
// list). The slice must not be modified.
func (r *Reader) Header() []string { return r.header }

// HeaderLine returns the 1-based physical line the header is on, or 0 for
// a headerless list, whose Header is then ColumnNames.
func (r *Reader) HeaderLine() int { return r.headerLine }

// Options returns the options in effect, the detected encoding, the
// sniffed delimiter and default limits filled in: what ParseRecord needs to
// read a record back.
func (r *Reader) Options() Options { return r.opts }

// Count returns how many data records Next has returned so far, erroneous
// ones included.
func (r *Reader) Count() int64 { return r.number }

// Next returns the next data record. At the end of the list it returns
// io.EOF (or a *ParseError wrapping ErrHeaderOnly, with
// Options.RequireRows and no data record). A record that fails strict
// parsing is read leniently and returned without error (Record.Lenient).
// A *ParseError about one record that cannot be read at all (ErrBinary,
// ErrFieldTooLarge, ErrRecordTooLarge) comes with that record's Number,
// Line, Offset and Length and leaves the Reader usable: the next call reads
// on from the line after the record's first. Read errors of the source
// (wrapped) and undecodable text (ErrEncoding) end the stream: every later
// call returns the same error.
func (r *Reader) Next() (Record, error) {
	if len(r.pending) > 0 {
		q := r.pending[0]
		r.pending = r.pending[1:]
		return q.rec, q.err
	}
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
	if err != nil && errors.Is(err, errOverLimit) {
		return r.overLimit()
	}
	strict := true
	if err != nil {
		// Declared here, not above: a target errors.As is given lives on
		// the heap, and most records have no error.
		if perr := (*csv.ParseError)(nil); !errors.As(err, &perr) {
			if pe := (*ParseError)(nil); errors.As(err, &pe) {
				r.err = pe
			} else {
				r.err = fmt.Errorf("leads: read: %w", err)
			}
			return Record{}, r.err
		}
		strict = false
	}
	end := r.shift + r.csv.InputOffset()
	start, line := r.skipBlank(r.prevEnd, end)
	if !strict {
		return r.recover(start, end, line)
	}
	return r.emit(start, end, line, r.win.bytes(start, end), fields, false)
}

// emit returns the record at stream range [start, end) starting on line,
// after the checks every record passes.
func (r *Reader) emit(start, end int64, line int, raw []byte, fields []string, lenient bool) (Record, error) {
	rec := Record{
		Number:  r.number + 1,
		Line:    line,
		Fields:  fields,
		Raw:     raw,
		Ragged:  r.header != nil && len(fields) != len(r.header),
		Lenient: lenient,
	}
	r.number++
	feeds := bytes.Count(raw, []byte{'\n'})
	rec.Offset, rec.Length = r.sourceRange(start, end, line, feeds)
	r.prevEnd = end
	r.line = line + feeds
	r.win.release(end)
	if r.tx != nil {
		r.tx.release(line)
	}
	if err := check(raw, fields, line, &r.opts); err != nil {
		err.Record = rec.Number
		return rec, err
	}
	return rec, nil
}

// sourceRange maps the stream range [start, end) of a record on lines
// line … line+feeds to its range in the original bytes: from the start of
// its first line to the start of the line after its last line feed, or to
// the end of the input for a last record without one.
func (r *Reader) sourceRange(start, end int64, line, feeds int) (int64, int64) {
	if r.tx == nil {
		return start, end - start
	}
	from, _ := r.tx.lineStart(line)
	to := r.tx.total
	if end > start && r.win.bytes(end-1, end)[0] == '\n' {
		to, _ = r.tx.lineStart(line + feeds)
	}
	return from, to - from
}

// recover reads the record at [start, end), which failed strict parsing,
// leniently. A one-line record is read as ParseRecord would read it back.
// A record spanning lines (a quote left open swallowed the lines after it)
// is cut to its first line, and parsing resumes on the next.
func (r *Reader) recover(start, end int64, line int) (Record, error) {
	raw := r.win.bytes(start, end)
	if nl := bytes.IndexByte(raw, '\n'); nl >= 0 && nl+1 < len(raw) {
		end = start + int64(nl) + 1
		raw = raw[:nl+1]
		defer r.restart(end, line+1)
	}
	fields, lenient, err := parseOne(raw, r.opts)
	if err != nil {
		fields, lenient = lenientSplit(raw, r.opts.Delimiter), true
	}
	return r.emit(start, end, line, raw, fields, lenient)
}

// overLimit handles a record that outgrew MaxRecordBytes before
// encoding/csv could end it: its first line is read leniently when it fits
// the limits (an unclosed quote ran on), else the line is unreadable;
// parsing resumes on the next line either way.
func (r *Reader) overLimit() (Record, error) {
	start, line := r.skipBlank(r.prevEnd, r.win.end())
	b := r.win.bytes(start, r.win.end())
	nl := bytes.IndexByte(b, '\n')
	if nl >= 0 {
		end := start + int64(nl) + 1
		raw := b[:nl+1]
		defer r.restart(end, line+1)
		if len(raw) <= r.opts.MaxRecordBytes {
			fields, lenient, err := parseOne(raw, r.opts)
			if err != nil {
				fields, lenient = lenientSplit(raw, r.opts.Delimiter), true
			}
			return r.emit(start, end, line, raw, fields, lenient)
		}
	}
	// One line longer than the limit: report it and skip to its end.
	perr := r.explainOverLimit(start, line)
	rec := Record{Number: r.number + 1, Line: line}
	r.number++
	rec.Offset, _ = r.sourceRange(start, start, line, 0)
	if nl < 0 {
		if err := r.skipLine(); err != nil {
			r.err = err
			return rec, perr
		}
	} else {
		r.restart(start+int64(nl)+1, line+1)
	}
	return rec, perr
}

// skipLine discards the stream up to and including the next line feed,
// in constant memory, and restarts parsing after it.
func (r *Reader) skipLine() error {
	src := r.win.src
	pos := r.win.end()
	buf := make([]byte, bufferSize)
	for {
		n, err := src.Read(buf)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			rest := append([]byte(nil), buf[i+1:n]...)
			r.win = &window{src: io.MultiReader(bytes.NewReader(rest), src), base: pos + int64(i) + 1, limit: r.win.limit}
			r.win.keep = r.win.base
			r.restart(r.win.base, r.line+1)
			return nil
		}
		pos += int64(n)
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			return fmt.Errorf("leads: read: %w", err)
		}
	}
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

// check validates a parsed record's bytes: no NUL, valid UTF-8 (a field of
// a UTF-8 list that is not is decoded as Windows-1252), no field or record
// over its limit. The common case costs two fast scans of raw.
func check(raw []byte, fields []string, line int, opts *Options) *ParseError {
	maxField := opts.MaxFieldBytes
	if bytes.IndexByte(raw, 0) >= 0 {
		return &ParseError{Line: line, Field: fieldWith(fields, func(f string) bool { return strings.IndexByte(f, 0) >= 0 }), Err: ErrBinary}
	}
	if !utf8.Valid(raw) {
		for i, f := range fields {
			if !utf8.ValidString(f) {
				fields[i] = fromWindows1252(f)
			}
		}
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

// explainOverLimit finds, in the pending bytes from start, the field that
// outgrew MaxFieldBytes, or else blames the record.
func (r *Reader) explainOverLimit(start int64, line int) *ParseError {
	b := r.win.bytes(start, r.win.end())
	field, size := 1, 0
	for _, c := range b {
		if c == '\n' {
			break
		}
		if rune(c) == r.opts.Delimiter {
			field, size = field+1, 0
			continue
		}
		size++
		if size > r.opts.MaxFieldBytes {
			return &ParseError{Line: line, Record: r.number + 1, Field: field, Err: ErrFieldTooLarge}
		}
	}
	return &ParseError{Line: line, Record: r.number + 1, Err: ErrRecordTooLarge}
}

// lenientSplit reads one line that strict CSV parsing refused. A field is
// quoted only when it starts with a quote; inside it "" is a quote and a
// quote followed by the delimiter or the line's end closes it, any other
// quote being a character. A quoted field still open at the line's end is
// read again as unquoted, its opening quote a character: so an unclosed
// quote costs one field, not the rest of the line.
func lenientSplit(line []byte, delim rune) []string {
	s := string(bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'}))
	d := byte(delim)
	var fields []string
	for i := 0; ; {
		if i < len(s) && s[i] == '"' {
			if v, next, ok := quotedField(s, i+1, d); ok {
				fields = append(fields, v)
				if next >= len(s) {
					return fields
				}
				i = next + 1
				continue
			}
		}
		j := strings.IndexByte(s[i:], d)
		if j < 0 {
			return append(fields, s[i:])
		}
		fields = append(fields, s[i:i+j])
		i += j + 1
	}
}

// quotedField reads a quoted field whose content starts at s[i]; it returns
// the value, the index just past the closing quote, and false when the
// line ends first.
func quotedField(s string, i int, d byte) (string, int, bool) {
	var b strings.Builder
	for i < len(s) {
		c := s[i]
		if c != '"' {
			b.WriteByte(c)
			i++
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '"':
			b.WriteByte('"')
			i += 2
		case i+1 == len(s) || s[i+1] == d:
			return b.String(), i + 1, true
		default:
			b.WriteByte('"')
			i++
		}
	}
	return "", 0, false
}
