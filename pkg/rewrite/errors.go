package rewrite

// Errors name the record and the column of an edit, never a value: a lead
// list is personal data, and errors end up in logs and execution history.

import (
	"errors"
	"strconv"
)

// Reasons an edit cannot be applied, always inside an *EditError. Test
// with errors.Is.
var (
	// ErrInvalidEdit means an edit contradicts itself or its key: it is
	// keyed by one record number and names another, deletes the record
	// and also sets cells, names a negative column or a record number
	// below 1, or sets a value that is not valid UTF-8 or holds a NUL.
	ErrInvalidEdit = errors.New("invalid edit")
	// ErrNoRecord means the list has no record of that number.
	ErrNoRecord = errors.New("no such record")
	// ErrNoColumn means the record has no field of that column index
	// (0-based; a ragged record keeps only the fields it has).
	ErrNoColumn = errors.New("no such column")
	// ErrUnreadable means the record could not be read (NUL bytes, a field
	// or record over the limits); the leads error is the cause.
	ErrUnreadable = errors.New("record cannot be read")
	// ErrMismatch means the record's cell boundaries, as found in its
	// original bytes, do not give the fields the lead-list reader read, or
	// the record does not read back alone as it read in the list. Nothing
	// is spliced into a record whose cells are not known for certain.
	ErrMismatch = errors.New("cell boundaries disagree with the list reader")
	// ErrReadBack means the edited record would not read back with the
	// new values in its cells and every other field unchanged (it would
	// outgrow the limits, or stop reading as one record).
	ErrReadBack = errors.New("edited record would not read back as edited")
)

// ErrUnsupportedEncoding means the list's encoding cannot be spliced cell
// by cell: a stateful encoding (ISO-2022-JP), or a multi-byte one whose
// characters can hold the delimiter's byte. Records can still be deleted.
// Text returns it wrapped, naming the encoding.
var ErrUnsupportedEncoding = errors.New("rewrite: encoding cannot be spliced")

// EditError reports an edit that could not be applied. Record is the
// record number the edit is keyed by, Column the 0-based column index, or
// -1 when the problem is the whole record's. Err is one of the package's
// sentinel errors; Cause, when set, is the underlying error (a
// *leads.ParseError for ErrUnreadable, ErrMismatch and ErrReadBack).
type EditError struct {
	Record int64
	Column int
	Err    error
	Cause  error
}

// Error names the record, the column and the reason, never a value.
func (e *EditError) Error() string {
	b := make([]byte, 0, 80)
	b = append(b, "rewrite: record "...)
	b = strconv.AppendInt(b, e.Record, 10)
	if e.Column >= 0 {
		b = append(b, ", column index "...)
		b = strconv.AppendInt(b, int64(e.Column), 10)
	}
	b = append(b, ": "...)
	b = append(b, e.Err.Error()...)
	if e.Cause != nil {
		b = append(b, " ("...)
		b = append(b, e.Cause.Error()...)
		b = append(b, ')')
	}
	return string(b)
}

// Unwrap returns the sentinel and the cause.
func (e *EditError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

func recordError(n int64, err error) *EditError {
	return &EditError{Record: n, Column: -1, Err: err}
}
