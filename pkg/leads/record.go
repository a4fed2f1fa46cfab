package leads

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// ParseRecord parses one record back from its raw bytes, as read with a
// ranged GET of a Record's Offset and Length. opts must be the Options the
// list was read with (Reader.Options), so that the delimiter, quoting and
// limits agree; header gives Ragged. Line in its errors counts from the
// first line of raw. It fails with a *ParseError wrapping
// ErrNotOneRecord, ErrInvalidUTF8, ErrBinary, ErrFieldTooLarge or a csv
// quote error.
func ParseRecord(raw []byte, header []string, opts Options) (Record, error) {
	opts = opts.withDefaults()
	if opts.Delimiter == 0 {
		opts.Delimiter = ','
	}
	if !validDelimiter(opts.Delimiter) {
		return Record{}, fmt.Errorf("leads: invalid delimiter %q", opts.Delimiter)
	}
	if len(raw) > opts.MaxRecordBytes {
		return Record{}, &ParseError{Line: 1, Record: -1, Err: ErrRecordTooLarge}
	}
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.Comma = opts.Delimiter
	cr.LazyQuotes = opts.LazyQuotes
	cr.FieldsPerRecord = -1
	fields, err := cr.Read()
	if err == io.EOF {
		return Record{}, &ParseError{Line: 1, Record: -1, Err: ErrNotOneRecord}
	}
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		return Record{}, &ParseError{Line: perr.Line, Record: -1, Field: len(fields) + 1, Err: perr.Err}
	}
	if err != nil {
		return Record{}, fmt.Errorf("leads: parse record: %w", err)
	}
	if cr.InputOffset() != int64(len(raw)) {
		return Record{}, &ParseError{Line: 1, Record: -1, Err: ErrNotOneRecord}
	}
	line, _ := cr.FieldPos(0)
	if perr := check(raw, fields, line, opts); perr != nil {
		perr.Record = -1
		return Record{}, perr
	}
	return Record{
		Line:   line,
		Length: int64(len(raw)),
		Fields: fields,
		Raw:    raw,
		Ragged: len(fields) != len(header),
	}, nil
}
