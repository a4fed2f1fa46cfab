package rewrite

// Workbooks: the same erasure pass over an .xlsx lead list, through
// excelize. A workbook cannot be spliced byte by byte (its cells are XML in
// zipped parts, strings in a shared table), so it is opened, edited in
// place and written again. pkg/workbook reads it first, as the indexer
// did, to check that every edit names a row and a column the index can
// have named.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/workbook"
	"github.com/xuri/excelize/v2"
)

// SheetEdits are the edits of one workbook, by sheet name (as
// workbook.Workbook.Sheets returns it) then spreadsheet row number:
// Edit.Record is the 1-based row number Excel shows, and a column index
// is the 0-based position in the sheet's header as pkg/workbook reads it,
// which counts from column A (index 1 is column B, even when the header
// starts there).
type SheetEdits map[string]map[int64]Edit

// Workbook rewrites the workbook read from src into dst with excelize.
// Each edited cell gets its new value as a string cell, its style kept: a
// value that looks like a formula is stored as text, and an edited cell
// that held a formula loses it. A deleted row is removed and the rows below
// it move up; a sheet's edits are applied first and its deletions then,
// bottom-up, so every row number is the original workbook's. Every other
// cell, sheet, style, merged range and defined name is left as excelize
// keeps it (formulas that point below a deleted row are renumbered by
// excelize, as Excel does).
//
// The old text of an edited or deleted string cell is emptied from the
// shared-string table once no cell shows it (scrubStrings): excelize never
// drops an entry, and an unreferenced one is still in xl/sharedStrings.xml
// for anyone who unzips the file. Deleting the row of a shared formula's
// first cell, or editing
// that cell, also drops the formula (not its cached values) from every
// cell that shared it.
//
// A row can be edited when pkg/workbook reads it as a row below the
// sheet's header (a non-blank one); a column when it is within the header
// or the row's fields. Result.Records counts the rows edited or deleted,
// BytesIn and BytesOut the workbook's sizes; HeaderLine and Unencodable
// are 0.
//
// Workbook fails with an *EditError, before writing anything, naming the
// row and the column and never a value; its Cause names the sheet:
// ErrInvalidEdit as Text checks edits (also for two keys naming the same
// sheet, which Excel names case-insensitively), ErrNoRecord for a sheet the
// workbook lacks or that is not a lead list (Cause is then the
// *workbook.SheetError) and for a row that is not one of the sheet's rows,
// ErrNoColumn for a column past the header and the row, ErrUnreadable for
// a row past a malformed part of the sheet, and ErrReadBack for a cell
// that would not read back as the new value (one under a merged range
// other than its first cell, a value over Excel's 32,767 characters, a
// string number format that changes it). It fails with the errors of
// workbook.Open (wrapped: ErrTooLarge, ErrCorrupt, ErrEncrypted,
// ErrNotWorkbook), and with read errors of src and write errors of dst
// (wrapped). After an error, what was written to dst is incomplete and
// must be discarded.
func Workbook(dst io.Writer, src io.Reader, edits SheetEdits) (res Result, err error) {
	plans, err := planSheets(edits)
	if err != nil {
		return Result{}, err
	}
	// excelize.OpenReader holds the whole file anyway; holding it here
	// lets pkg/workbook check it first.
	raw, err := io.ReadAll(io.LimitReader(src, workbook.DefaultMaxBytes+1))
	res.BytesIn = int64(len(raw))
	if err != nil {
		return res, fmt.Errorf("rewrite: read: %w", err)
	}
	if len(raw) > workbook.DefaultMaxBytes {
		return res, fmt.Errorf("rewrite: workbook: %w: file over %d bytes", workbook.ErrTooLarge, workbook.DefaultMaxBytes)
	}
	if err := checkSheets(raw, plans); err != nil {
		return res, err
	}

	f, err := excelize.OpenReader(bytes.NewReader(raw), excelize.Options{
		UnzipSizeLimit:    workbook.DefaultMaxUnzippedBytes,
		UnzipXMLSizeLimit: workbook.DefaultPartMemoryBytes,
	})
	if err != nil {
		// workbook.Open read the same bytes with the same limits.
		return res, fmt.Errorf("rewrite: open: %w", err)
	}
	defer func() {
		// Close removes the parts excelize spilled to disk.
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("rewrite: close: %w", cerr)
		}
	}()
	// The text the edits remove: what the shared-string table must no
	// longer hold once no cell shows it.
	removed := map[string]bool{}
	for _, p := range plans {
		if err := p.collect(f, removed); err != nil {
			return res, err
		}
	}
	for _, p := range plans {
		if err := p.apply(f, &res); err != nil {
			return res, err
		}
	}
	if err := scrubStrings(f, removed); err != nil {
		return res, err
	}
	res.Records = res.Edited + res.Deleted
	out := &counter{w: dst}
	_, err = f.WriteTo(out)
	res.BytesOut = out.n
	if err != nil {
		return res, fmt.Errorf("rewrite: write: %w", err)
	}
	return res, nil
}

// sheetPlan is the checked edits of one sheet.
type sheetPlan struct {
	sheet string // as the edits name it
	order []int64
	edits map[int64]Edit
}

// planSheets checks every sheet's edits as Text does and returns the
// sheets that have any, in name order.
func planSheets(edits SheetEdits) ([]sheetPlan, error) {
	var plans []sheetPlan
	seen := make(map[string]bool, len(edits))
	for _, sheet := range slices.Sorted(maps.Keys(edits)) {
		order, _, err := plan(edits[sheet])
		var ee *EditError
		if errors.As(err, &ee) {
			ee.Cause = inSheet(sheet)
		}
		if err != nil {
			return nil, err
		}
		if len(order) == 0 {
			continue
		}
		key := strings.ToLower(sheet)
		if seen[key] {
			return nil, &EditError{Record: order[0], Column: -1, Err: ErrInvalidEdit, Cause: inSheet(sheet)}
		}
		seen[key] = true
		plans = append(plans, sheetPlan{sheet: sheet, order: order, edits: edits[sheet]})
	}
	return plans, nil
}

// checkSheets reads the edited sheets of the workbook raw with pkg/workbook,
// as the indexer read them, and fails with an *EditError unless every edit
// names one of a sheet's rows and columns within it.
func checkSheets(raw []byte, plans []sheetPlan) error {
	wb, err := workbook.Open(bytes.NewReader(raw), workbook.Options{})
	if err != nil {
		return fmt.Errorf("rewrite: %w", err)
	}
	defer wb.Close()
	for _, p := range plans {
		if err := p.check(wb); err != nil {
			return err
		}
	}
	return nil
}

func (p sheetPlan) check(wb *workbook.Workbook) error {
	sr, err := wb.Sheet(p.sheet)
	switch {
	case errors.Is(err, workbook.ErrSheetNotFound) || errors.Is(err, workbook.ErrEmptySheet) || errors.Is(err, leads.ErrNoHeader):
		// No such sheet, or one the indexer found no rows in.
		return &EditError{Record: p.order[0], Column: -1, Err: ErrNoRecord, Cause: err}
	case err != nil:
		return fmt.Errorf("rewrite: %w", err)
	}
	defer sr.Close()
	width := len(sr.Header())
	order := p.order
	for len(order) > 0 {
		row, err := sr.Next()
		if err == io.EOF || err == nil && int64(row.Number) > order[0] {
			return &EditError{Record: order[0], Column: -1, Err: ErrNoRecord, Cause: inSheet(p.sheet)}
		}
		if err != nil {
			return &EditError{Record: order[0], Column: -1, Err: ErrUnreadable, Cause: err}
		}
		if int64(row.Number) < order[0] {
			continue
		}
		for _, col := range slices.Sorted(maps.Keys(p.edits[order[0]].Cells)) {
			if col >= max(width, len(row.Fields)) {
				return &EditError{Record: order[0], Column: col, Err: ErrNoColumn, Cause: inSheet(p.sheet)}
			}
		}
		order = order[1:]
	}
	return nil
}

// collect adds to removed the values of the cells the sheet's edits
// change and of the rows they delete.
func (p sheetPlan) collect(f *excelize.File, removed map[string]bool) error {
	var rows [][]string // the sheet's, read for the first deleted row
	for _, n := range p.order {
		e := p.edits[n]
		if e.Delete {
			if rows == nil {
				var err error
				if rows, err = f.GetRows(p.sheet, excelize.Options{RawCellValue: true}); err != nil {
					return fmt.Errorf("rewrite: sheet %q: %w", p.sheet, err)
				}
			}
			if int(n) <= len(rows) {
				for _, v := range rows[n-1] {
					removed[v] = true
				}
			}
			continue
		}
		for col := range e.Cells {
			cell, err := excelize.CoordinatesToCellName(col+1, int(n))
			if err != nil {
				return &EditError{Record: n, Column: col, Err: ErrNoColumn, Cause: inSheet(p.sheet)}
			}
			v, err := f.GetCellValue(p.sheet, cell, excelize.Options{RawCellValue: true})
			if err != nil {
				return fmt.Errorf("rewrite: sheet %q row %d, column index %d: %w", p.sheet, n, col, err)
			}
			removed[v] = true
		}
	}
	return nil
}

// scrubStrings empties every entry of the workbook's shared-string table
// whose text is in removed and that no cell of any sheet shows any more:
// excelize never drops an entry, so an erased name would stay in
// xl/sharedStrings.xml, unreferenced, for anyone who unzips the file.
// Entries keep their places, so no cell's index changes.
func scrubStrings(f *excelize.File, removed map[string]bool) error {
	delete(removed, "")
	if len(removed) == 0 {
		return nil
	}
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			return fmt.Errorf("rewrite: sheet %q: %w", sheet, err)
		}
		for _, row := range rows {
			for _, v := range row {
				delete(removed, v)
			}
		}
	}
	if len(removed) == 0 || f.SharedStrings == nil {
		return nil
	}
	for i := range f.SharedStrings.SI {
		si := &f.SharedStrings.SI[i]
		if removed[si.String()] {
			// An empty string item; its phonetic reading (a Japanese
			// name's furigana) goes with it.
			si.T, si.R, si.RPh, si.PhoneticPr = nil, nil, nil, nil
		}
	}
	return nil
}

// apply edits the sheet's cells, then deletes its rows from the bottom up.
func (p sheetPlan) apply(f *excelize.File, res *Result) error {
	merged, err := f.GetMergeCells(p.sheet)
	if err != nil {
		return fmt.Errorf("rewrite: sheet %q: %w", p.sheet, err)
	}
	for _, n := range p.order {
		e := p.edits[n]
		if e.Delete || len(e.Cells) == 0 {
			continue
		}
		for _, col := range slices.Sorted(maps.Keys(e.Cells)) {
			if err := setCell(f, p.sheet, merged, n, col, e.Cells[col]); err != nil {
				return err
			}
		}
		res.Edited++
	}
	for _, n := range slices.Backward(p.order) {
		if !p.edits[n].Delete {
			continue
		}
		if err := f.RemoveRow(p.sheet, int(n)); err != nil {
			return fmt.Errorf("rewrite: sheet %q row %d: %w", p.sheet, n, err)
		}
		res.Deleted++
	}
	return nil
}

// setCell stores v as a string in the cell of row n and column index col
// (from column A), and fails with an *EditError wrapping ErrReadBack unless
// the cell then reads as v.
func setCell(f *excelize.File, sheet string, merged []excelize.MergeCell, n int64, col int, v string) error {
	cell, err := excelize.CoordinatesToCellName(col+1, int(n))
	if err != nil {
		return &EditError{Record: n, Column: col, Err: ErrNoColumn, Cause: inSheet(sheet)}
	}
	// excelize writes a cell under a merged range to the range's first
	// cell: another cell than the one edited.
	for _, m := range merged {
		if m.GetStartAxis() != cell && inRange(m, col+1, int(n)) {
			return &EditError{Record: n, Column: col, Err: ErrReadBack, Cause: inSheet(sheet)}
		}
	}
	if countUTF16(v) > excelize.TotalCellChars {
		// SetCellStr would truncate it.
		return &EditError{Record: n, Column: col, Err: ErrReadBack, Cause: inSheet(sheet)}
	}
	if err := f.SetCellStr(sheet, cell, v); err != nil {
		return fmt.Errorf("rewrite: sheet %q row %d, column index %d: %w", sheet, n, col, err)
	}
	// A number format with a text section ("@" in quotes) shows a
	// string otherwise; the reader would then not see the new value.
	got, err := f.GetCellValue(sheet, cell)
	if err != nil || got != v {
		return &EditError{Record: n, Column: col, Err: ErrReadBack, Cause: inSheet(sheet)}
	}
	return nil
}

func inRange(m excelize.MergeCell, col, row int) bool {
	c1, r1, err1 := excelize.CellNameToCoordinates(m.GetStartAxis())
	c2, r2, err2 := excelize.CellNameToCoordinates(m.GetEndAxis())
	return err1 == nil && err2 == nil &&
		min(c1, c2) <= col && col <= max(c1, c2) && min(r1, r2) <= row && row <= max(r1, r2)
}

// countUTF16 is the length of s in UTF-16 code units, how Excel counts a
// cell's characters.
func countUTF16(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// inSheet is the Cause of an *EditError about a workbook: the sheet's name
// (a sheet name is not a lead's data; pkg/workbook's errors quote it too).
type inSheet string

func (s inSheet) Error() string { return "sheet " + strconv.Quote(string(s)) }
