package rewrite

// Tests of Workbook. Their oracle reads the input and the output with
// excelize cell by cell (value, formula, style) and with pkg/workbook as
// the indexer reads them, and computes the expected output from the input
// by moving cells itself, not by running the rewrite.

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/workbook"
	"github.com/xuri/excelize/v2"
)

// leadsWorkbook is the fixture: a "Leads" sheet with a merged title row, a
// formula on row 2 and a header at B3, data rows 4 to 9 (a Unicode name, a
// number, a date, a styled cell, a formula cell), and a "Summary" sheet.
// It returns the file's bytes.
func leadsWorkbook(t testing.TB) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetName("Sheet1", "Leads"))
	must(f.SetCellStr("Leads", "A1", "Spring campaign"))
	must(f.MergeCell("Leads", "A1", "D1"))
	must(f.SetCellFormula("Leads", "H2", "ROWS(B4:B5)"))
	must(f.SetSheetRow("Leads", "B3", &[]any{"Name", "Email", "Phone", "Signed up", "Notes"}))
	day := time.Date(1990, 4, 12, 0, 0, 0, 0, time.UTC)
	rows := [][]any{
		{"José Müller", "jose@example.com", 4155550166, day, "VIP"},
		{"山田太郎", "taro@example.com", 4155550199, day.AddDate(1, 0, 0), "call back"},
		{"Ann Lee", "ann@example.com", 4155550111, day.AddDate(2, 0, 0)},
		{"Bob Roe", "bob@example.com", 4155550122, day.AddDate(3, 0, 0), "erase me"},
		{"Zoë Ødegård", "zoe@example.com", 4155550133, day.AddDate(4, 0, 0), "styled"},
		{"Last Row", "last@example.com", 4155550144, day.AddDate(5, 0, 0), 12.5},
	}
	for i, r := range rows {
		must(f.SetSheetRow("Leads", fmt.Sprintf("B%d", 4+i), &r))
	}
	must(f.SetCellFormula("Leads", "F6", "LEN(B6)"))
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 15}) // d-mmm-yy
	must(err)
	must(f.SetCellStyle("Leads", "E4", "E9", dateStyle))
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	must(err)
	must(f.SetCellStyle("Leads", "B8", "B8", bold))
	must(f.SetCellStyle("Leads", "B4", "B4", bold))
	must(f.SetDefinedName(&excelize.DefinedName{Name: "Title", RefersTo: "Leads!$A$1"}))

	_, err = f.NewSheet("Summary")
	must(err)
	must(f.SetCellStr("Summary", "A1", "Total"))
	must(f.SetCellFormula("Summary", "B1", "SUM(1,2)"))
	must(f.SetCellInt("Summary", "A2", 42))
	must(f.SetCellFormula("Summary", "C3", "Leads!B4"))
	must(f.SetCellStyle("Summary", "A2", "A2", bold))
	must(f.MergeCell("Summary", "A5", "C6"))
	buf, err := f.WriteToBuffer()
	must(err)
	return buf.Bytes()
}

// cellState is what the tests compare of a cell.
type cellState struct {
	Value, Formula string
	Style          int
}

// cellKey is a cell by its 1-based coordinates.
type cellKey struct{ Col, Row int }

// snapshot reads every cell of every sheet within cols x rows: the cells
// that hold a value, a formula or a style.
func snapshot(t testing.TB, raw []byte, cols, rows int) map[string]map[cellKey]cellState {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("excelize.OpenReader: %v", err)
	}
	defer f.Close()
	snap := map[string]map[cellKey]cellState{}
	for _, sheet := range f.GetSheetList() {
		cells := map[cellKey]cellState{}
		for r := 1; r <= rows; r++ {
			for c := 1; c <= cols; c++ {
				name, _ := excelize.CoordinatesToCellName(c, r)
				var s cellState
				if s.Value, err = f.GetCellValue(sheet, name); err == nil {
					if s.Formula, err = f.GetCellFormula(sheet, name); err == nil {
						s.Style, err = f.GetCellStyle(sheet, name)
					}
				}
				if err != nil {
					t.Fatalf("sheet %q cell %s: %v", sheet, name, err)
				}
				if s != (cellState{}) {
					cells[cellKey{c, r}] = s
				}
			}
		}
		snap[sheet] = cells
	}
	return snap
}

// expectSnapshot is in with edits applied by hand: edited cells take their
// value and lose their formula, deleted rows go and the rows below move up.
func expectSnapshot(in map[string]map[cellKey]cellState, edits SheetEdits) map[string]map[cellKey]cellState {
	want := map[string]map[cellKey]cellState{}
	for sheet, cells := range in {
		cells = maps.Clone(cells)
		var deleted []int
		for n, e := range edits[sheet] {
			if e.Delete {
				deleted = append(deleted, int(n))
			}
			for col, v := range e.Cells {
				k := cellKey{col + 1, int(n)}
				s := cells[k]
				s.Value, s.Formula = v, ""
				cells[k] = s
				if s == (cellState{}) {
					delete(cells, k)
				}
			}
		}
		slices.Sort(deleted)
		for _, d := range slices.Backward(deleted) {
			moved := make(map[cellKey]cellState, len(cells))
			for k, s := range cells {
				switch {
				case k.Row < d:
					moved[k] = s
				case k.Row > d:
					moved[cellKey{k.Col, k.Row - 1}] = s
				}
			}
			cells = moved
		}
		want[sheet] = cells
	}
	return want
}

// diffSnapshots fails the test for each cell where got and want differ.
func diffSnapshots(t testing.TB, got, want map[string]map[cellKey]cellState) {
	t.Helper()
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Fatalf("sheets = %q, want %q", g, w)
	}
	for sheet, cells := range want {
		keys := slices.Collect(maps.Keys(cells))
		for k := range got[sheet] {
			if _, ok := cells[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			if g, w := got[sheet][k], cells[k]; g != w {
				name, _ := excelize.CoordinatesToCellName(k.Col, k.Row)
				t.Errorf("sheet %q cell %s = %+v, want %+v", sheet, name, g, w)
			}
		}
	}
}

// readList reads a sheet as the indexer does: its header row, header and
// rows.
func readList(t testing.TB, raw []byte, sheet string) (int, []string, []workbook.Row) {
	t.Helper()
	wb, err := workbook.Open(bytes.NewReader(raw), workbook.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("workbook.Open: %v", err)
	}
	defer wb.Close()
	sr, err := wb.Sheet(sheet)
	if err != nil {
		t.Fatalf("Sheet(%q): %v", sheet, err)
	}
	defer sr.Close()
	var rows []workbook.Row
	for {
		row, err := sr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, row)
	}
	return sr.HeaderRow(), slices.Clone(sr.Header()), rows
}

// rewriteWorkbook runs Workbook and fails the test on error.
func rewriteWorkbook(t testing.TB, in []byte, edits SheetEdits) ([]byte, Result) {
	t.Helper()
	var out bytes.Buffer
	res, err := Workbook(&out, bytes.NewReader(in), edits)
	if err != nil {
		t.Fatalf("Workbook: %v", err)
	}
	if res.BytesIn != int64(len(in)) || res.BytesOut != int64(out.Len()) {
		t.Fatalf("BytesIn, BytesOut = %d, %d, want %d, %d", res.BytesIn, res.BytesOut, len(in), out.Len())
	}
	return out.Bytes(), res
}

func TestWorkbook(t *testing.T) {
	in := leadsWorkbook(t)
	edits := SheetEdits{"Leads": {
		5: cells(5, 1, "Erased Name", 2, "erased@example.invalid"), // B5 and C5
		7: deletion(7),
	}}
	out, res := rewriteWorkbook(t, in, edits)
	if want := (Result{Records: 2, Edited: 1, Deleted: 1}); res.Records != want.Records || res.Edited != want.Edited || res.Deleted != want.Deleted {
		t.Errorf("Records, Edited, Deleted = %d, %d, %d, want %d, %d, %d", res.Records, res.Edited, res.Deleted, want.Records, want.Edited, want.Deleted)
	}

	t.Run("cells", func(t *testing.T) {
		diffSnapshots(t, snapshot(t, out, 12, 14), expectSnapshot(snapshot(t, in, 12, 14), edits))
	})

	t.Run("edited cells are strings", func(t *testing.T) {
		f, err := excelize.OpenReader(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for cell, want := range map[string]string{"B5": "Erased Name", "C5": "erased@example.invalid"} {
			if got, _ := f.GetCellValue("Leads", cell); got != want {
				t.Errorf("%s = %q, want %q", cell, got, want)
			}
			if got, _ := f.GetCellType("Leads", cell); got != excelize.CellTypeSharedString {
				t.Errorf("%s type = %v, want shared string", cell, got)
			}
		}
	})

	// No erased text is left anywhere in the file, not even unreferenced
	// in the shared-string table; text still shown stays.
	t.Run("old strings scrubbed", func(t *testing.T) {
		zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
		if err != nil {
			t.Fatal(err)
		}
		var all bytes.Buffer
		for _, zf := range zr.File {
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			_, err = all.ReadFrom(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, gone := range []string{"山田太郎", "taro@example.com", "Bob Roe", "bob@example.com", "erase me"} {
			if bytes.Contains(all.Bytes(), []byte(gone)) {
				t.Errorf("the rewritten file still holds %q", gone)
			}
		}
		for _, kept := range []string{"José Müller", "call back", "Spring campaign", "Erased Name"} {
			if !bytes.Contains(all.Bytes(), []byte(kept)) {
				t.Errorf("the rewritten file lost %q", kept)
			}
		}
	})

	t.Run("workbook parts", func(t *testing.T) {
		fin, err := excelize.OpenReader(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		defer fin.Close()
		fout, err := excelize.OpenReader(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		defer fout.Close()
		if got, want := fout.GetSheetList(), fin.GetSheetList(); !slices.Equal(got, want) {
			t.Errorf("sheets = %q, want %q", got, want)
		}
		for _, sheet := range fin.GetSheetList() {
			mIn, _ := fin.GetMergeCells(sheet)
			mOut, _ := fout.GetMergeCells(sheet)
			if got, want := mergeRefs(mOut), mergeRefs(mIn); !slices.Equal(got, want) {
				t.Errorf("sheet %q merged ranges = %q, want %q", sheet, got, want)
			}
		}
		if got, want := fout.GetDefinedName(), fin.GetDefinedName(); !slices.Equal(got, want) {
			t.Errorf("defined names = %+v, want %+v", got, want)
		}
	})

	t.Run("read as the indexer reads it", func(t *testing.T) {
		hIn, headerIn, rowsIn := readList(t, in, "Leads")
		hOut, headerOut, rowsOut := readList(t, out, "Leads")
		if hOut != hIn || hIn != 3 || !slices.Equal(headerOut, headerIn) {
			t.Fatalf("header = row %d %q, want row %d %q (row 3)", hOut, headerOut, hIn, headerIn)
		}
		if headerIn[0] != "" || headerIn[1] != "Name" {
			t.Fatalf("header = %q, want column A empty and Name in column B", headerIn)
		}
		var want []workbook.Row
		for _, r := range rowsIn {
			switch {
			case r.Number == 5:
				fields := slices.Clone(r.Fields)
				fields[1], fields[2] = "Erased Name", "erased@example.invalid"
				want = append(want, workbook.Row{Number: 5, Fields: fields})
			case r.Number == 7:
			case r.Number > 7:
				want = append(want, workbook.Row{Number: r.Number - 1, Fields: r.Fields})
			default:
				want = append(want, r)
			}
		}
		if fmt.Sprint(rowsOut) != fmt.Sprint(want) {
			t.Errorf("rows = %v, want %v", rowsOut, want)
		}
		if len(rowsIn) != 6 || rowsIn[0].Fields[3] != "4155550166" || rowsIn[0].Fields[4] != "12-Apr-90" {
			t.Errorf("input rows = %v: want a number and a date in row 4", rowsIn)
		}
	})
}

func mergeRefs(ms []excelize.MergeCell) []string {
	refs := make([]string, len(ms))
	for i, m := range ms {
		refs[i] = m.GetStartAxis() + ":" + m.GetEndAxis() + "=" + m.GetCellValue()
	}
	slices.Sort(refs)
	return refs
}

// TestWorkbookFormulaText checks that a value that looks like a formula is
// stored as text, also over a cell that held a formula.
func TestWorkbookFormulaText(t *testing.T) {
	in := leadsWorkbook(t)
	edits := SheetEdits{"Leads": {6: cells(6, 5, "=1+1", 1, "=HYPERLINK(\"http://x\")")}} // F6 held LEN(B6)
	out, _ := rewriteWorkbook(t, in, edits)
	f, err := excelize.OpenReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for cell, want := range map[string]string{"F6": "=1+1", "B6": "=HYPERLINK(\"http://x\")"} {
		if got, _ := f.GetCellValue("Leads", cell); got != want {
			t.Errorf("%s = %q, want %q", cell, got, want)
		}
		if got, _ := f.GetCellFormula("Leads", cell); got != "" {
			t.Errorf("%s formula = %q, want none", cell, got)
		}
		if got, _ := f.GetCellType("Leads", cell); got != excelize.CellTypeSharedString {
			t.Errorf("%s type = %v, want shared string", cell, got)
		}
	}
	diffSnapshots(t, snapshot(t, out, 12, 14), expectSnapshot(snapshot(t, in, 12, 14), edits))
	_, _, rows := readList(t, out, "Leads")
	if got := rows[2].Fields; rows[2].Number != 6 || got[5] != "=1+1" || got[1] != "=HYPERLINK(\"http://x\")" {
		t.Errorf("row %d = %q, want the edited row 6", rows[2].Number, got)
	}
}

func TestWorkbookErrors(t *testing.T) {
	in := leadsWorkbook(t)
	const secret = "SECRET-VALUE"
	tests := []struct {
		name    string
		edits   SheetEdits
		wantErr error
		record  int64
		column  int
		// inMessage must be in the error's text.
		inMessage string
	}{
		{"unknown sheet", SheetEdits{"Nope": {4: cells(4, 1, secret)}}, ErrNoRecord, 4, -1, `"Nope"`},
		{"row past the sheet", SheetEdits{"Leads": {100: cells(100, 1, secret)}}, ErrNoRecord, 100, -1, `"Leads"`},
		{"header row", SheetEdits{"Leads": {3: cells(3, 1, secret)}}, ErrNoRecord, 3, -1, `"Leads"`},
		{"title row", SheetEdits{"Leads": {1: deletion(1)}}, ErrNoRecord, 1, -1, `"Leads"`},
		{"blank row", SheetEdits{"Leads": {2: cells(2, 1, secret)}}, ErrNoRecord, 2, -1, `"Leads"`},
		{"column past the header", SheetEdits{"Leads": {4: cells(4, 6, secret)}}, ErrNoColumn, 4, 6, `"Leads"`},
		{"key and record disagree", SheetEdits{"Leads": {4: cells(5, 1, secret)}}, ErrInvalidEdit, 4, -1, `"Leads"`},
		{"delete and set", SheetEdits{"Leads": {4: {Record: 4, Delete: true, Cells: map[int]string{1: secret}}}}, ErrInvalidEdit, 4, -1, `"Leads"`},
		{"NUL in a value", SheetEdits{"Leads": {4: cells(4, 1, secret+"\x00")}}, ErrInvalidEdit, 4, 1, `"Leads"`},
		{"negative column", SheetEdits{"Leads": {4: cells(4, -2, secret)}}, ErrInvalidEdit, 4, -1, `"Leads"`},
		{"one sheet twice", SheetEdits{"Leads": {4: deletion(4)}, "leads": {5: deletion(5)}}, ErrInvalidEdit, 5, -1, `"leads"`},
		{"value over Excel's limit", SheetEdits{"Leads": {4: cells(4, 1, secret+strings.Repeat("x", excelize.TotalCellChars))}}, ErrReadBack, 4, 1, `"Leads"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Workbook(&out, bytes.NewReader(in), tc.edits)
			var ee *EditError
			if !errors.Is(err, tc.wantErr) || !errors.As(err, &ee) {
				t.Fatalf("err = %v, want an *EditError wrapping %v", err, tc.wantErr)
			}
			if ee.Record != tc.record || ee.Column != tc.column {
				t.Errorf("record, column = %d, %d, want %d, %d", ee.Record, ee.Column, tc.record, tc.column)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.inMessage) || strings.Contains(msg, secret) || strings.Contains(msg, "@example") {
				t.Errorf("message %q: want it to name %s and hold no value", msg, tc.inMessage)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %d bytes, want none", out.Len())
			}
		})
	}
	t.Run("sheet not found is workbook's", func(t *testing.T) {
		_, err := Workbook(io.Discard, bytes.NewReader(in), SheetEdits{"Nope": {4: deletion(4)}})
		if !errors.Is(err, workbook.ErrSheetNotFound) {
			t.Errorf("err = %v, want it to wrap workbook.ErrSheetNotFound", err)
		}
	})
	t.Run("not a workbook", func(t *testing.T) {
		_, err := Workbook(io.Discard, strings.NewReader("name,email\nann,a@x\n"), SheetEdits{"Leads": {2: deletion(2)}})
		if !errors.Is(err, workbook.ErrNotWorkbook) {
			t.Errorf("err = %v, want it to wrap workbook.ErrNotWorkbook", err)
		}
	})
}

// TestWorkbookMergedCell checks that a cell under a merged range, which
// excelize would write to the range's first cell, is refused.
func TestWorkbookMergedCell(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	for _, err := range []error{
		f.SetSheetRow("Sheet1", "A1", &[]any{"Name", "Email", "Notes", "More"}),
		f.SetSheetRow("Sheet1", "A2", &[]any{"Ann Lee", "ann@example.com", "merged note"}),
		f.MergeCell("Sheet1", "C2", "D2"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Workbook(io.Discard, bytes.NewReader(buf.Bytes()), SheetEdits{"Sheet1": {2: cells(2, 3, "x")}})
	if !errors.Is(err, ErrReadBack) {
		t.Fatalf("err = %v, want ErrReadBack", err)
	}
	// The range's first cell can be edited.
	out, _ := rewriteWorkbook(t, buf.Bytes(), SheetEdits{"Sheet1": {2: cells(2, 2, "new note")}})
	if _, _, rows := readList(t, out, "Sheet1"); fmt.Sprint(rows) != fmt.Sprint([]workbook.Row{{Number: 2, Fields: []string{"Ann Lee", "ann@example.com", "new note"}}}) {
		t.Errorf("rows = %v", rows)
	}
}

// randomWorkbook writes a small workbook of one or two sheets: each with an
// optional title, a header at a random cell, and rows of strings, numbers
// and formulas with gaps.
func randomWorkbook(t testing.TB, r *rand.Rand) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	values := []string{"Ann", "José Müller", "山田太郎", " padded ", "=1+1", "a\nb", "x@example.com", ""}
	for s := range 1 + r.IntN(2) {
		sheet := "Sheet1"
		if s > 0 {
			sheet = "Data ü"
			if _, err := f.NewSheet(sheet); err != nil {
				t.Fatal(err)
			}
		}
		top, left := 1+r.IntN(3), 1+r.IntN(3)
		if top > 1 {
			_ = f.SetCellStr(sheet, "A1", "Export")
		}
		width := 2 + r.IntN(3)
		for c := range width {
			name, _ := excelize.CoordinatesToCellName(left+c, top)
			_ = f.SetCellStr(sheet, name, fmt.Sprintf("Column %c", 'A'+c))
		}
		for row := top + 1; row <= top+1+r.IntN(10); row++ {
			if r.IntN(6) == 0 {
				continue // a gap
			}
			for c := range width + r.IntN(2) {
				name, _ := excelize.CoordinatesToCellName(left+c, row)
				switch r.IntN(5) {
				case 0:
					_ = f.SetCellInt(sheet, name, r.Int64N(1e10))
				case 1:
					_ = f.SetCellFormula(sheet, name, "2*3")
				default:
					_ = f.SetCellStr(sheet, name, values[r.IntN(len(values))]+fmt.Sprint(row))
				}
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// randomEdits picks edits among the rows pkg/workbook reads in each sheet
// that it reads as a list.
func randomEdits(t testing.TB, r *rand.Rand, raw []byte) SheetEdits {
	t.Helper()
	wb, err := workbook.Open(bytes.NewReader(raw), workbook.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	values := []string{"", "erased", "=SUM(A1:A9)", "Zoë", " x "}
	edits := SheetEdits{}
	for _, sheet := range wb.Sheets() {
		sr, err := wb.Sheet(sheet)
		if errors.Is(err, leads.ErrNoHeader) {
			continue
		}
		if err != nil {
			t.Fatalf("Sheet(%q): %v", sheet, err)
		}
		es := map[int64]Edit{}
		for {
			row, err := sr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			n := int64(row.Number)
			switch r.IntN(3) {
			case 0:
				es[n] = deletion(n)
			case 1:
				e := Edit{Record: n, Cells: map[int]string{}}
				for range 1 + r.IntN(3) {
					e.Cells[r.IntN(max(len(sr.Header()), len(row.Fields)))] = values[r.IntN(len(values))]
				}
				es[n] = e
			}
		}
		_ = sr.Close()
		edits[sheet] = es
	}
	return edits
}

// FuzzWorkbook checks that random edits over a random small workbook
// change the edited cells and move the rows below deleted ones, and leave
// every other cell's value, formula and style as it was.
func FuzzWorkbook(f *testing.F) {
	for seed := range uint64(24) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		in := randomWorkbook(t, r)
		edits := randomEdits(t, r, in)
		out, res := rewriteWorkbook(t, in, edits)
		var edited, deleted int64
		for _, es := range edits {
			for _, e := range es {
				if e.Delete {
					deleted++
				} else {
					edited++
				}
			}
		}
		if res.Edited != edited || res.Deleted != deleted || res.Records != edited+deleted {
			t.Errorf("Records, Edited, Deleted = %d, %d, %d, want %d, %d, %d", res.Records, res.Edited, res.Deleted, edited+deleted, edited, deleted)
		}
		diffSnapshots(t, snapshot(t, out, 8, 16), expectSnapshot(snapshot(t, in, 8, 16), edits))
	})
}

// BenchmarkWorkbook rewrites a 10,000-row workbook: one row edited and one
// deleted (one person's erasure), and 100 of each. excelize's RemoveRow
// walks the whole sheet, so deletions cost rows x deletions.
func BenchmarkWorkbook(b *testing.B) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	_ = sw.SetRow("A1", []any{"Name", "Email", "Phone", "City", "Notes"})
	for i := 2; i <= 10_001; i++ {
		_ = sw.SetRow(fmt.Sprintf("A%d", i), []any{fmt.Sprintf("Lead %d", i), fmt.Sprintf("lead%d@example.com", i), 4155550000 + i, "Springfield", "note"})
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		b.Fatal(err)
	}
	_ = f.Close()
	in := buf.Bytes()
	for _, every := range []int64{10_000, 100} {
		es := map[int64]Edit{}
		for i := int64(2); i <= 10_001; i += every {
			es[i] = cells(i, 0, "erased", 1, "erased@example.invalid")
			es[i+every/2] = deletion(i + every/2)
		}
		b.Run(fmt.Sprintf("edits=%d,deletions=%d", len(es)/2, len(es)/2), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := Workbook(io.Discard, bytes.NewReader(in), SheetEdits{"Sheet1": es}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
