package workbook

// Errors: what a workbook can fail with, none of them quoting a cell. A lead
// list is personal data and errors end up in logs, so text that a parser
// copies out of the file (encoding/xml's syntax errors do) is cut before it
// reaches an error here.

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
)

// Errors that Open, Sheet, Next and ReadRows report, wrapped: test with
// errors.Is. A sheet-level error comes inside a *SheetError naming the sheet
// and row.
var (
	// ErrNotWorkbook means the object is not an Office Open XML workbook:
	// not a zip at all, or a zip without a workbook part (a .docx, a plain
	// archive, a binary .xlsb workbook).
	ErrNotWorkbook = errors.New("not an .xlsx workbook")
	// ErrEncrypted means the object is an OLE2 compound file (what Excel
	// writes for a password-protected .xlsx, and the legacy .xls format) or
	// a zip whose entries are encrypted. Neither can be read without a
	// password or a legacy parser.
	ErrEncrypted = errors.New("encrypted workbook or legacy .xls")
	// ErrCorrupt means the zip container or the workbook's XML is damaged:
	// a bad central directory, a checksum mismatch, a truncated entry, an
	// unsupported compression method, or XML that does not parse.
	ErrCorrupt = errors.New("corrupt workbook")
	// ErrTooLarge means the workbook exceeds one of the limits in Options.
	ErrTooLarge = errors.New("workbook exceeds size limit")
	// ErrSheetNotFound means the workbook has no readable worksheet of
	// that name (a chart sheet, or a sheet listed without its part, also
	// reads as not found).
	ErrSheetNotFound = errors.New("sheet not found")
	// ErrEmptySheet means the sheet has no non-blank row at all.
	ErrEmptySheet = errors.New("empty sheet")
	// ErrClosed is returned by a Workbook's methods after Close.
	ErrClosed = errors.New("workbook: closed")
)

// SheetError reports a problem with one sheet. Row is the 1-based
// spreadsheet row it is tied to, 0 when it is about the sheet as a whole.
// Err is ErrSheetNotFound, ErrEmptySheet, leads.ErrNoHeader, or an error
// wrapping ErrCorrupt.
type SheetError struct {
	Sheet string
	Row   int
	Err   error
}

// Error names the sheet, the row and the reason, never a cell's value.
func (e *SheetError) Error() string {
	if e.Row > 0 {
		return fmt.Sprintf("workbook: sheet %q row %d: %v", e.Sheet, e.Row, e.Err)
	}
	return fmt.Sprintf("workbook: sheet %q: %v", e.Sheet, e.Err)
}

// Unwrap returns the reason.
func (e *SheetError) Unwrap() error { return e.Err }

// corrupt wraps err, a parser's error, as ErrCorrupt with text that cannot
// quote the workbook.
func corrupt(err error) error {
	return fmt.Errorf("%w: %w", ErrCorrupt, redacted{err})
}

// redacted keeps err in the chain (errors.Is and errors.As still see it)
// but prints only what cannot have come from the file's text.
type redacted struct{ err error }

func (r redacted) Error() string {
	// encoding/xml's messages quote element names, entity names and the
	// like from the input, and the input may be a worksheet or the shared
	// string table. The line number is enough to find the problem.
	var se *xml.SyntaxError
	if errors.As(r.err, &se) {
		return "XML syntax error on line " + strconv.Itoa(se.Line)
	}
	var ne *strconv.NumError
	if errors.As(r.err, &ne) {
		return "invalid number: " + ne.Err.Error()
	}
	// archive/zip, compress/flate and excelize's own errors describe
	// structure (offsets, limits, row numbers), not content.
	return r.err.Error()
}

func (r redacted) Unwrap() error { return r.err }
