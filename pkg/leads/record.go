package leads

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// ParseRecord parses one record back from its raw bytes, as read with a
// ranged GET of a Record's Offset and Length: it decodes them as the list
// was decoded and parses them as the Reader did, leniently where strict
// parsing fails. opts must be the Options the list was read with
// (Reader.Options), so that the encoding, delimiter, quoting and limits
// agree; header gives Ragged. Line in its errors counts from the first line
// of raw. It fails with a *ParseError wrapping ErrNotOneRecord, ErrEncoding,
// ErrBinary, ErrFieldTooLarge or ErrRecordTooLarge, or an error wrapping
// ErrUnknownEncoding.
func ParseRecord(raw []byte, header []string, opts Options) (Record, error) {
	opts = opts.withDefaults()
	if opts.Delimiter == 0 {
		opts.Delimiter = ','
	}
	if !validDelimiter(opts.Delimiter) {
		return Record{}, fmt.Errorf("leads: invalid delimiter %q", opts.Delimiter)
	}
	c, err := codecFor(opts.Encoding)
	if err != nil {
		return Record{}, err
	}
	if opts.CRLineEnds {
		raw = append([]byte(nil), raw...)
		c.crToLF(raw)
	}
	text, err := c.decodeBytes(raw)
	if err != nil {
		return Record{}, &ParseError{Line: 1, Record: -1, Err: ErrEncoding}
	}
	if len(text) > opts.MaxRecordBytes {
		return Record{}, &ParseError{Line: 1, Record: -1, Err: ErrRecordTooLarge}
	}
	fields, lenient, err := parseOne(text, opts)
	if err != nil {
		return Record{}, err
	}
	line := 1
	if perr := check(text, fields, line, &opts); perr != nil {
		perr.Record = -1
		return Record{}, perr
	}
	return Record{
		Line:    line,
		Length:  int64(len(raw)),
		Fields:  fields,
		Raw:     text,
		Ragged:  len(fields) != len(header),
		Lenient: lenient,
	}, nil
}

// parseOne parses text, the decoded bytes of one record, as the Reader
// reads a record back: with encoding/csv when that gives exactly one record
// of all of text, else, for a single line, leniently (lenientSplit). It
// fails with a *ParseError wrapping ErrNotOneRecord.
func parseOne(text []byte, opts Options) ([]string, bool, error) {
	cr := csv.NewReader(bytes.NewReader(text))
	cr.Comma = opts.Delimiter
	cr.LazyQuotes = opts.LazyQuotes
	cr.FieldsPerRecord = -1
	fields, err := cr.Read()
	if err == io.EOF {
		return nil, false, &ParseError{Line: 1, Record: -1, Err: ErrNotOneRecord}
	}
	var perr *csv.ParseError
	switch {
	case err == nil && cr.InputOffset() == int64(len(text)):
		return fields, false, nil
	case err != nil && !errors.As(err, &perr):
		return nil, false, fmt.Errorf("leads: parse record: %w", err)
	}
	// The Reader reads a record that fails strict parsing leniently, cut
	// to its first line.
	if nl := bytes.IndexByte(text, '\n'); nl >= 0 && nl+1 < len(text) {
		return nil, false, &ParseError{Line: 1, Record: -1, Err: ErrNotOneRecord}
	}
	return lenientSplit(text, opts.Delimiter), true, nil
}
