package workbook

// Reading one sheet: the header below any preamble, then the rows, each with
// the row number Excel shows.

import (
	"errors"
	"io"
	"strings"

	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/xuri/excelize/v2"
)

// Row is one non-blank row of a sheet.
type Row struct {
	// Number is the 1-based spreadsheet row number, as Excel shows it.
	Number int
	// Fields are the row's formatted cell values by column, from column
	// A: field i is under header i. A row keeps what it has, so it may be
	// shorter or longer than the header; trailing empty cells are dropped.
	Fields []string
}

// SheetReader streams the rows of one sheet below its header. It is not
// safe for concurrent use.
type SheetReader struct {
	c         *cursor
	header    []string
	headerRow int
	pending   []Row // rows after the header within the header search window
}

// Sheet opens the named sheet (names match case-insensitively, as in
// Excel) and reads its header: the row that leads.FindHeader picks among
// the first leads.HeaderSearchLines non-blank rows, so that title rows, an
// export date or blank rows above it are passed over. Any sheet with a
// header is returned, whatever its columns are: telling lead lists from
// other tables is the caller's business.
//
// It fails with a *SheetError wrapping ErrSheetNotFound, ErrEmptySheet (no
// non-blank row), leads.ErrNoHeader (no row in the window reads as a
// header), ErrCorrupt (a malformed row or shared-string table before any
// header), or the error opening the sheet's spill file; ErrClosed after
// Close.
func (w *Workbook) Sheet(name string) (*SheetReader, error) {
	c, err := w.cursor(name)
	if err != nil {
		return nil, err
	}
	// A row that fails to parse ends the window early; the rows above it
	// are still a sheet, and the error comes after them, from Next.
	window := make([]Row, 0, leads.HeaderSearchLines)
	var readErr error
	for len(window) < leads.HeaderSearchLines {
		row, err := c.next(0)
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
		window = append(window, row)
	}
	fields := make([][]string, len(window))
	for i, r := range window {
		fields[i] = r.Fields
	}
	i, err := leads.FindHeader(fields)
	switch {
	case err != nil && readErr != nil:
		c.close()
		return nil, readErr
	case len(window) == 0:
		c.close()
		return nil, &SheetError{Sheet: name, Err: ErrEmptySheet}
	case err != nil:
		c.close()
		return nil, &SheetError{Sheet: name, Err: err}
	}
	return &SheetReader{
		c:         c,
		header:    window[i].Fields,
		headerRow: window[i].Number,
		pending:   window[i+1:],
	}, nil
}

// HeaderRow returns the 1-based spreadsheet row number of the header. It
// cannot fail: Sheet only returns a reader once the header is found.
func (s *SheetReader) HeaderRow() int { return s.headerRow }

// Header returns the header's fields, by column from column A, as they are
// (not trimmed; an unnamed column is ""). The slice must not be modified.
// It cannot fail.
func (s *SheetReader) Header() []string { return s.header }

// Next returns the next non-blank row below the header, in sheet order. At
// the end of the sheet it returns io.EOF. A malformed worksheet ends the
// stream with a *SheetError wrapping ErrCorrupt; every later call returns
// the same error.
func (s *SheetReader) Next() (Row, error) {
	if len(s.pending) > 0 {
		row := s.pending[0]
		s.pending = s.pending[1:]
		return row, nil
	}
	return s.c.next(0)
}

// Close releases the sheet's stream. It returns the error closing
// excelize's spill file, if the sheet was spilled; calling it again returns
// nil.
func (s *SheetReader) Close() error {
	s.pending = nil
	return s.c.close()
}

// cursor walks the rows of a sheet through excelize's iterator, numbering
// them. The iterator's Next advances one spreadsheet row at a time, also
// across rows the XML leaves out (for row 2 followed by row 7 it reports
// rows 3 to 6, and Columns returns nothing for them): counting calls to
// Next gives the row number, even for rows written without an "r"
// attribute, where excelize counts too.
//
// The iterator ends a worksheet at XML it cannot parse as if it were the
// end, without an error. Open's checksum pass rules out damage in transit,
// so what is left is a writer's bug, which no reader can recover from.
type cursor struct {
	sheet  string
	rows   *excelize.Rows
	number int   // row number of the iterator's current row
	err    error // sticky: io.EOF or what ended the stream
	// overflow says the row after number is past Excel's last, so that
	// no row up to any limit is left.
	overflow bool
}

func (w *Workbook) cursor(sheet string) (*cursor, error) {
	if w.f == nil {
		return nil, ErrClosed
	}
	rows, err := w.f.Rows(sheet)
	if err != nil {
		var notExist excelize.ErrSheetNotExist
		if errors.As(err, &notExist) || rows == nil {
			// rows is nil too for a name excelize refuses (too long,
			// forbidden characters), which it cannot have listed.
			return nil, &SheetError{Sheet: sheet, Err: ErrSheetNotFound}
		}
		// The sheet's spill file could not be opened.
		_ = rows.Close()
		return nil, &SheetError{Sheet: sheet, Err: err}
	}
	return &cursor{sheet: sheet, rows: rows}, nil
}

// next returns the next non-blank row, or io.EOF at the end of the sheet or,
// when limit > 0, once past row limit. A row is blank when every cell in it
// is empty or white space (a formula whose cached value is empty reads as
// an empty cell). After an error every call without a limit returns it
// again.
func (c *cursor) next(limit int) (Row, error) {
	for {
		// Stopping at the limit is not the end of the sheet: a later
		// call with a higher limit may go on.
		if limit > 0 && (c.number >= limit || c.overflow) {
			return Row{}, io.EOF
		}
		if c.err != nil {
			return Row{}, c.err
		}
		if !c.rows.Next() {
			// Next stops silently at the end of the XML; the only error
			// it keeps is a row number past Excel's last.
			c.err = io.EOF
			if err := c.rows.Error(); err != nil {
				c.err = &SheetError{Sheet: c.sheet, Err: corrupt(err)}
				c.overflow = errors.Is(err, excelize.ErrMaxRows)
			}
			continue
		}
		c.number++
		fields, err := c.rows.Columns()
		switch {
		case errors.Is(err, excelize.ErrMaxRows):
			// Columns reads a row up to the start of the next one, and
			// it is that one whose number is past the limit (excelize
			// does not say by how much): this row is whole, and the
			// error waits for the next call.
			c.err = &SheetError{Sheet: c.sheet, Err: corrupt(err)}
			c.overflow = true
		case err != nil:
			c.err = &SheetError{Sheet: c.sheet, Row: c.number, Err: corrupt(err)}
			return Row{}, c.err
		}
		if !blank(fields) {
			return Row{Number: c.number, Fields: fields}, nil
		}
	}
}

func (c *cursor) close() error {
	if c.rows == nil {
		return nil
	}
	rows := c.rows
	c.rows = nil
	if c.err == nil {
		c.err = io.EOF
	}
	// Rows.Close returns the iterator's sticky error when there is no
	// spill file to close; next has reported that error already.
	if err := rows.Close(); err != nil && !errors.Is(err, rows.Error()) {
		return err
	}
	return nil
}

func blank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
