package leads

import (
	"errors"
	"fmt"
	"strconv"
)

// Errors that a Reader or ParseRecord reports, always inside a *ParseError
// except for ErrEmpty. Test with errors.Is. None of them carries a field's
// value: a lead list is personal data, and errors end up in logs.
var (
	// ErrEmpty means the input holds no record at all (no bytes, only a
	// byte-order mark, or only blank lines).
	ErrEmpty = errors.New("leads: empty input")
	// ErrNoHeader means no record near the top of the list reads as a
	// header (some name with a letter, none that looks like a consumer's
	// data: an email address or a run of seven or more digits) and none
	// reads as a consumer's data either (which makes the list headerless,
	// see DetectHeader); FindHeader also returns it for a headerless list.
	ErrNoHeader = errors.New("no header")
	// ErrHeaderOnly means the input has a header but no data record. It is
	// not a parse error; a Reader returns it only when Options.RequireRows
	// is set.
	ErrHeaderOnly = errors.New("header but no data records")
	// ErrInvalidUTF8 means a field is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrBinary means the input holds NUL bytes, so it is not a text file.
	ErrBinary = errors.New("binary content (NUL byte)")
	// ErrEncoding means the input starts with a UTF-16 or UTF-32
	// byte-order mark; only UTF-8 is read.
	ErrEncoding = errors.New("unsupported text encoding (UTF-16/UTF-32 byte-order mark)")
	// ErrFieldTooLarge means a field is longer than Options.MaxFieldBytes.
	ErrFieldTooLarge = errors.New("field too large")
	// ErrRecordTooLarge means a record is longer than Options.MaxRecordBytes.
	ErrRecordTooLarge = errors.New("record too large")
	// ErrNotOneRecord means ParseRecord was given bytes that do not hold
	// exactly one record.
	ErrNotOneRecord = errors.New("bytes do not hold exactly one record")
)

// ParseError reports a problem at a place in a lead list. Line is the
// 1-based physical line (0 when the problem is not tied to one), Record the
// record number (0 for the header, 1 for the first data record, -1 when
// unknown), Field the 1-based field (0 when unknown or the whole record).
// Err is one of the package's sentinel errors or one of encoding/csv's
// (csv.ErrQuote, csv.ErrBareQuote).
type ParseError struct {
	Line   int
	Record int64
	Field  int
	Err    error
}

// Error describes the place and the reason, never the data.
func (e *ParseError) Error() string {
	b := make([]byte, 0, 64)
	b = append(b, "leads: "...)
	if e.Line > 0 {
		b = append(b, "line "...)
		b = strconv.AppendInt(b, int64(e.Line), 10)
	}
	if e.Record >= 0 && e.Line > 0 {
		if e.Record == 0 {
			b = append(b, " (header)"...)
		} else {
			b = fmt.Appendf(b, " (record %d)", e.Record)
		}
	}
	if e.Field > 0 {
		b = fmt.Appendf(b, ", field %d", e.Field)
	}
	if e.Line > 0 || e.Field > 0 {
		b = append(b, ": "...)
	}
	b = append(b, e.Err.Error()...)
	return string(b)
}

// Unwrap returns the sentinel error naming the reason.
func (e *ParseError) Unwrap() error { return e.Err }
