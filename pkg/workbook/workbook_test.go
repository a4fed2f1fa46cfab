package workbook

import (
	"archive/zip"
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/xuri/excelize/v2"
)

// build returns the bytes of a workbook that fill writes into a new file.
func build(t testing.TB, fill func(f *excelize.File)) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	fill(f)
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatalf("WriteToBuffer: %v", err)
	}
	return buf.Bytes()
}

// must fails the test on a setup error.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
}

// openBytes opens data with limits that default except TempDir, which is a
// fresh directory that must be empty again once the workbook is closed.
func openBytes(t *testing.T, data []byte) *Workbook {
	t.Helper()
	dir := t.TempDir()
	wb, err := Open(bytes.NewReader(data), Options{TempDir: dir})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := wb.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		assertEmptyDir(t, dir)
	})
	return wb
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	for _, e := range entries {
		t.Errorf("temp file %s left behind", e.Name())
	}
}

// readAll reads every row of a sheet, closing the reader.
func readAll(t *testing.T, wb *Workbook, sheet string) (*SheetReader, []Row) {
	t.Helper()
	sr, err := wb.Sheet(sheet)
	if err != nil {
		t.Fatalf("Sheet(%q): %v", sheet, err)
	}
	var rows []Row
	for {
		row, err := sr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Sheet(%q).Next: %v", sheet, err)
		}
		rows = append(rows, row)
	}
	if _, err := sr.Next(); err != io.EOF {
		t.Fatalf("Next after EOF = %v, want io.EOF", err)
	}
	if err := sr.Close(); err != nil {
		t.Fatalf("SheetReader.Close: %v", err)
	}
	return sr, rows
}

// style returns a style with a built-in number format or a custom one.
func style(t testing.TB, f *excelize.File, numFmt int, custom string) int {
	t.Helper()
	s := &excelize.Style{NumFmt: numFmt}
	if custom != "" {
		s.CustomNumFmt = &custom
	}
	id, err := f.NewStyle(s)
	must(t, err)
	return id
}

// longRows is how many generated rows the Leads sheet has after its named
// ones, enough to run past the header search window.
const longRows = 30

// fixture is a workbook exercising every shape the reader must handle. The
// expected rows in TestSheets are written out by hand from it.
func fixture(t testing.TB) []byte {
	return build(t, func(f *excelize.File) {
		must(t, f.SetSheetName("Sheet1", "Leads"))
		for _, name := range []string{"Products", "Empty", "Hidden", "Gaps", "NoHeader", "Zürich 山田"} {
			_, err := f.NewSheet(name)
			must(t, err)
		}
		set := func(sheet, cell string, v any) {
			t.Helper()
			must(t, f.SetCellValue(sheet, cell, v))
		}
		row := func(sheet, cell string, vs ...any) {
			t.Helper()
			must(t, f.SetSheetRow(sheet, cell, &vs))
		}

		// A preamble: a title, an export date, a blank row, then the
		// header on row 4.
		set("Leads", "A1", "Spring campaign")
		set("Leads", "A2", "Exported 2024-03-01")
		row("Leads", "A4", "Name", "Email", "Phone", "DOB", "City", "Joined", "Spend", "Zip")
		row("Leads", "A5", "José Müller", "jose@example.com", 4155550166, 32975, "Zürich", 32975, 4155550166, 2134)
		must(t, f.SetCellStyle("Leads", "D5", "D5", style(t, f, 14, "")))
		must(t, f.SetCellStyle("Leads", "F5", "F5", style(t, f, 0, "dd/mm/yyyy")))
		must(t, f.SetCellStyle("Leads", "G5", "G5", style(t, f, 3, "")))
		must(t, f.SetCellStyle("Leads", "H5", "H5", style(t, f, 0, "00000")))
		set("Leads", "A6", "山田太郎")
		set("Leads", "B6", "taro@example.jp")
		// A number in a style of its own (bold) whose format is General,
		// which excelize formats rather than passing through as it does
		// for the default style.
		set("Leads", "C6", 4155550167)
		bold, err := f.NewStyle(&excelize.Style{NumFmt: 0, Font: &excelize.Font{Bold: true}})
		must(t, err)
		must(t, f.SetCellStyle("Leads", "C6", "C6", bold))
		set("Leads", "E6", "東京")
		// Only white space: blank, skipped.
		set("Leads", "B7", "   ")
		// A ragged row, longer than the header.
		row("Leads", "A8", "Ann", "ann@example.com", "", "", "", "", "", "", "extra")
		for i := range longRows {
			cell, err := excelize.CoordinatesToCellName(1, 9+i)
			must(t, err)
			row("Leads", cell, "Lead", "lead@example.com", 4155550100+i)
		}

		// No identifier in sight: still a sheet with a header.
		row("Products", "A1", "SKU", "Product", "Price")
		row("Products", "A2", "P-1", "Widget", 9.5)

		row("Hidden", "A1", "email")
		row("Hidden", "A2", "hidden@example.com")
		must(t, f.SetSheetVisible("Hidden", false))

		// Row 2, then nothing until row 7.
		row("Gaps", "A1", "Email", "Phone")
		row("Gaps", "A2", "a@example.com", "4155550101")
		row("Gaps", "B7", "4155550107")

		// Data without a header.
		row("NoHeader", "A1", "a@example.com", "4155550101")
		row("NoHeader", "A2", "b@example.com", "4155550102")

		row("Zürich 山田", "C3", "Nom", "Téléphone")
		row("Zürich 山田", "C4", "Zoë", "+41 44 668 18 00")
	})
}

func TestSheets(t *testing.T) {
	wb := openBytes(t, fixture(t))
	wantSheets := []string{"Leads", "Products", "Empty", "Hidden", "Gaps", "NoHeader", "Zürich 山田"}
	if got := wb.Sheets(); !reflect.DeepEqual(got, wantSheets) {
		t.Fatalf("Sheets() = %q, want %q", got, wantSheets)
	}

	leadRows := []Row{
		// D5 is built-in format 14, the short date: ISO. F5 has a format
		// of its own, kept. G5 is "#,##0" and H5 "00000", as Excel shows.
		{5, []string{"José Müller", "jose@example.com", "4155550166", "1990-04-12", "Zürich", "12/04/1990", "4,155,550,166", "02134"}},
		{6, []string{"山田太郎", "taro@example.jp", "4155550167", "", "東京"}},
		{8, []string{"Ann", "ann@example.com", "", "", "", "", "", "", "extra"}},
	}
	for i := range longRows {
		leadRows = append(leadRows, Row{9 + i, []string{"Lead", "lead@example.com", strconv.Itoa(4155550100 + i)}})
	}
	tests := []struct {
		name      string
		headerRow int
		header    []string
		rows      []Row
	}{
		{"Leads", 4, []string{"Name", "Email", "Phone", "DOB", "City", "Joined", "Spend", "Zip"}, leadRows},
		{"Products", 1, []string{"SKU", "Product", "Price"}, []Row{{2, []string{"P-1", "Widget", "9.5"}}}},
		{"Hidden", 1, []string{"email"}, []Row{{2, []string{"hidden@example.com"}}}},
		{"Gaps", 1, []string{"Email", "Phone"}, []Row{
			{2, []string{"a@example.com", "4155550101"}},
			{7, []string{"", "4155550107"}},
		}},
		{"Zürich 山田", 3, []string{"", "", "Nom", "Téléphone"}, []Row{{4, []string{"", "", "Zoë", "+41 44 668 18 00"}}}},
		// Sheet names match as in Excel, whatever the case.
		{"gaps", 1, []string{"Email", "Phone"}, []Row{
			{2, []string{"a@example.com", "4155550101"}},
			{7, []string{"", "4155550107"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sr, rows := readAll(t, wb, tc.name)
			if got := sr.HeaderRow(); got != tc.headerRow {
				t.Errorf("HeaderRow() = %d, want %d", got, tc.headerRow)
			}
			if got := sr.Header(); !reflect.DeepEqual(got, tc.header) {
				t.Errorf("Header() = %q, want %q", got, tc.header)
			}
			if !reflect.DeepEqual(rows, tc.rows) {
				t.Errorf("rows = %v\nwant %v", rows, tc.rows)
			}
		})
	}
}

func TestSheetErrors(t *testing.T) {
	wb := openBytes(t, fixture(t))
	tests := []struct {
		sheet string
		want  error
	}{
		{"Empty", ErrEmptySheet},
		{"NoHeader", leads.ErrNoHeader},
		{"Missing", ErrSheetNotFound},
		{"bad:name", ErrSheetNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.sheet, func(t *testing.T) {
			sr, err := wb.Sheet(tc.sheet)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Sheet(%q) error = %v, want %v", tc.sheet, err, tc.want)
			}
			if sr != nil {
				t.Fatalf("Sheet(%q) reader = %v, want nil", tc.sheet, sr)
			}
			var se *SheetError
			if !errors.As(err, &se) || se.Sheet != tc.sheet {
				t.Fatalf("Sheet(%q) error = %#v, want *SheetError naming the sheet", tc.sheet, err)
			}
			if strings.Contains(err.Error(), "@example.com") {
				t.Fatalf("error %q quotes a cell", err)
			}
		})
	}
}

// TestReadRows checks that reading rows back gives exactly what Next gave
// for the same numbers, and nothing for numbers Next never returned.
func TestReadRows(t *testing.T) {
	wb := openBytes(t, fixture(t))
	for _, sheet := range []string{"Leads", "Products", "Hidden", "Gaps", "Zürich 山田"} {
		t.Run(sheet, func(t *testing.T) {
			_, rows := readAll(t, wb, sheet)
			want := map[int][]string{}
			var numbers []int
			for _, r := range rows {
				want[r.Number] = r.Fields
				numbers = append(numbers, r.Number)
			}
			got, err := wb.ReadRows(sheet, numbers)
			if err != nil {
				t.Fatalf("ReadRows: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("ReadRows(%v) = %v\nwant %v", numbers, got, want)
			}
			// One at a time, last first, with numbers that are not rows.
			for i := len(rows) - 1; i >= 0; i-- {
				r := rows[i]
				got, err := wb.ReadRows(sheet, []int{r.Number, r.Number, 0, -3, 1 << 30})
				if err != nil {
					t.Fatalf("ReadRows(%d): %v", r.Number, err)
				}
				if want := map[int][]string{r.Number: r.Fields}; !reflect.DeepEqual(got, want) {
					t.Fatalf("ReadRows(%d) = %v, want %v", r.Number, got, want)
				}
			}
		})
	}

	t.Run("while the sheet is being read", func(t *testing.T) {
		sr, err := wb.Sheet("Leads")
		if err != nil {
			t.Fatalf("Sheet: %v", err)
		}
		defer sr.Close()
		for {
			row, err := sr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			got, err := wb.ReadRows("Leads", []int{row.Number})
			if err != nil {
				t.Fatalf("ReadRows(%d): %v", row.Number, err)
			}
			if !reflect.DeepEqual(got[row.Number], row.Fields) {
				t.Fatalf("ReadRows(%d) = %q, want %q", row.Number, got[row.Number], row.Fields)
			}
		}
	})

	tests := []struct {
		name  string
		sheet string
		rows  []int
		want  map[int][]string
	}{
		{"blank and absent rows", "Leads", []int{3, 7, 500, 1048576}, map[int][]string{}},
		{"preamble row", "Leads", []int{1}, map[int][]string{1: {"Spring campaign"}}},
		{"gap", "Gaps", []int{3, 4, 5, 6, 7}, map[int][]string{7: {"", "4155550107"}}},
		{"none asked", "Gaps", nil, map[int][]string{}},
		{"empty sheet", "Empty", []int{1, 2}, map[int][]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wb.ReadRows(tc.sheet, tc.rows)
			if err != nil {
				t.Fatalf("ReadRows: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ReadRows(%v, %v) = %v, want %v", tc.sheet, tc.rows, got, tc.want)
			}
		})
	}
	if _, err := wb.ReadRows("Missing", []int{1}); !errors.Is(err, ErrSheetNotFound) {
		t.Fatalf("ReadRows(Missing) error = %v, want ErrSheetNotFound", err)
	}
}

// worksheetXML is a worksheet with the given sheetData content.
func worksheetXML(rows string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		rows + `</sheetData></worksheet>`
}

// rewrite returns a copy of the zip data with the named entries' contents
// replaced (added when absent).
func rewrite(t testing.TB, data []byte, parts map[string]string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	must(t, err)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	done := map[string]bool{}
	for _, zf := range zr.File {
		w, err := zw.Create(zf.Name)
		must(t, err)
		if body, ok := parts[zf.Name]; ok {
			_, err = io.WriteString(w, body)
			done[zf.Name] = true
		} else {
			var rc io.ReadCloser
			rc, err = zf.Open()
			must(t, err)
			_, err = io.Copy(w, rc)
			rc.Close()
		}
		must(t, err)
	}
	for name, body := range parts {
		if !done[name] {
			w, err := zw.Create(name)
			must(t, err)
			_, err = io.WriteString(w, body)
			must(t, err)
		}
	}
	must(t, zw.Close())
	return buf.Bytes()
}

// withSheetXML is a one-sheet workbook whose worksheet XML is replaced by
// sheetData content written by hand, as other writers than Excel produce.
func withSheetXML(t testing.TB, rows string) []byte {
	t.Helper()
	base := build(t, func(f *excelize.File) { must(t, f.SetCellValue("Sheet1", "A1", "x")) })
	return rewrite(t, base, map[string]string{"xl/worksheets/sheet1.xml": worksheetXML(rows)})
}

func inline(ref, s string) string {
	if ref != "" {
		ref = ` r="` + ref + `"`
	}
	return `<c` + ref + ` t="inlineStr"><is><t>` + s + `</t></is></c>`
}

// TestHandWrittenXML covers row shapes excelize does not write but other
// tools do: no r attributes, empty row elements, rows of empty cells.
func TestHandWrittenXML(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want []Row
	}{
		{
			name: "no r attributes",
			xml: `<row>` + inline("", "email") + inline("", "phone") + `</row>` +
				`<row/>` +
				`<row>` + inline("", "a@example.com") + `<c><v>4155550166</v></c></row>`,
			want: []Row{{3, []string{"a@example.com", "4155550166"}}},
		},
		{
			name: "empty cells and rows in the XML",
			xml: `<row r="1">` + inline("A1", "email") + inline("B1", "phone") + `</row>` +
				`<row r="2"><c r="A2"/><c r="B2"><v></v></c></row>` +
				`<row r="5" spans="1:2"></row>` +
				`<row r="9"><c r="B9" t="inlineStr"><is><t>b@example.com</t></is></c></row>`,
			want: []Row{{9, []string{"", "b@example.com"}}},
		},
		{
			name: "header far down, data right after",
			xml: `<row r="100">` + inline("A100", "email") + `</row>` +
				`<row r="101">` + inline("A101", "c@example.com") + `</row>`,
			want: []Row{{101, []string{"c@example.com"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wb := openBytes(t, withSheetXML(t, tc.xml))
			_, rows := readAll(t, wb, "Sheet1")
			if !reflect.DeepEqual(rows, tc.want) {
				t.Fatalf("rows = %v, want %v", rows, tc.want)
			}
			var numbers []int
			want := map[int][]string{}
			for _, r := range tc.want {
				numbers = append(numbers, r.Number)
				want[r.Number] = r.Fields
			}
			got, err := wb.ReadRows("Sheet1", numbers)
			if err != nil {
				t.Fatalf("ReadRows: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("ReadRows = %v, want %v", got, want)
			}
		})
	}
}

// TestMalformedRows checks that a broken row ends the stream with an error
// naming the row, not the data, after the rows above it, and that ReadRows
// stops before it when it only needs earlier rows, even rows that are not
// there.
func TestMalformedRows(t *testing.T) {
	head := `<row r="1">` + inline("A1", "email") + `</row>` +
		`<row r="2">` + inline("A2", "a@example.com") + `</row>`
	tests := []struct {
		name    string
		xml     string
		badRow  int
		readOK  []int // ReadRows of these returns row 2 alone
		readBad []int // ReadRows of these fails
	}{
		{
			name:    "bad cell reference",
			xml:     head + `<row r="5">` + inline("!!", "secret@example.com") + `</row>`,
			badRow:  5,
			readOK:  []int{2, 3, 4},
			readBad: []int{2, 5},
		},
		{
			name:   "row past Excel's last",
			xml:    head + `<row r="1048577">` + inline("A1048577", "secret@example.com") + `</row>`,
			badRow: 0, // excelize does not say which
			readOK: []int{2, 3, 1048576},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wb := openBytes(t, withSheetXML(t, tc.xml))
			sr, err := wb.Sheet("Sheet1")
			if err != nil {
				t.Fatalf("Sheet: %v", err)
			}
			defer sr.Close()
			row, err := sr.Next()
			if err != nil || row.Number != 2 {
				t.Fatalf("Next = %v, %v, want row 2", row, err)
			}
			_, err = sr.Next()
			var se *SheetError
			if !errors.Is(err, ErrCorrupt) || !errors.As(err, &se) || se.Row != tc.badRow {
				t.Fatalf("Next error = %v, want *SheetError at row %d wrapping ErrCorrupt", err, tc.badRow)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %q quotes a cell", err)
			}
			if _, again := sr.Next(); again != err {
				t.Fatalf("Next after error = %v, want the same error %v", again, err)
			}

			got, err := wb.ReadRows("Sheet1", tc.readOK)
			if err != nil {
				t.Fatalf("ReadRows(%v) error = %v, want none: it must stop before the bad row", tc.readOK, err)
			}
			if want := map[int][]string{2: {"a@example.com"}}; !reflect.DeepEqual(got, want) {
				t.Fatalf("ReadRows(%v) = %v, want %v", tc.readOK, got, want)
			}
			if tc.readBad != nil {
				if _, err := wb.ReadRows("Sheet1", tc.readBad); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("ReadRows(%v) error = %v, want ErrCorrupt", tc.readBad, err)
				}
			}
		})
	}
}

// TestSharedStringsErrorRedacted checks that an XML error in the shared
// string table, where the cell text lives, does not reach the message.
func TestSharedStringsErrorRedacted(t *testing.T) {
	base := build(t, func(f *excelize.File) {
		must(t, f.SetCellValue("Sheet1", "A1", "email"))
		must(t, f.SetCellValue("Sheet1", "A2", "José Müller"))
	})
	data := rewrite(t, base, map[string]string{
		"xl/sharedStrings.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2">` +
			`<si><t>email</t></si><si><t>José &Müller; 4155550166</t></si></sst>`,
	})
	wb := openBytes(t, data)
	_, err := wb.Sheet("Sheet1")
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Sheet error = %v, want ErrCorrupt", err)
	}
	for _, s := range []string{"Müller", "José", "4155550166"} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error %q quotes %q", err, s)
		}
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name   string
		prefix []byte
		want   Kind
	}{
		{"zip", []byte("PK\x03\x04\x14\x00\x06\x00"), Zip},
		{"zip signature only", []byte("PK\x03\x04"), Zip},
		{"empty zip archive", []byte("PK\x05\x06\x00\x00\x00\x00"), NotWorkbook},
		{"OLE2", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0}, OLE2},
		{"OLE2 cut short", []byte{0xD0, 0xCF, 0x11, 0xE0}, NotWorkbook},
		{"CSV", []byte("name,email\n"), NotWorkbook},
		{"empty", nil, NotWorkbook},
		{"garbage", []byte{0xFF, 0x00, 0x13, 0x37}, NotWorkbook},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sniff(tc.prefix); got != tc.want {
				t.Fatalf("Sniff(%q) = %v, want %v", tc.prefix, got, tc.want)
			}
		})
	}
}

// zipOf builds a plain zip archive from name/content pairs.
func zipOf(t testing.TB, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.Create(files[i])
		must(t, err)
		_, err = io.WriteString(w, files[i+1])
		must(t, err)
	}
	must(t, zw.Close())
	return buf.Bytes()
}

// rels is a package relationship part pointing at main.
func rels(main string) string {
	return `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="` +
		main + `"/></Relationships>`
}

// pkg builds an Office package whose main part is main, of contentType.
func pkg(t testing.TB, main, contentType, body string) []byte {
	t.Helper()
	return zipOf(t,
		"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`+
			`<Override PartName="/`+main+`" ContentType="`+contentType+`"/></Types>`,
		"_rels/.rels", rels(main),
		main, body)
}

// rawZip builds a zip with one stored entry whose header says what hdr
// says, flags and checksum included.
func rawZip(t testing.TB, hdr zip.FileHeader, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr.Method = zip.Store
	hdr.CompressedSize64 = uint64(len(body))
	hdr.UncompressedSize64 = uint64(len(body))
	w, err := zw.CreateRaw(&hdr)
	must(t, err)
	_, err = w.Write(body)
	must(t, err)
	must(t, zw.Close())
	return buf.Bytes()
}

func TestOpenErrors(t *testing.T) {
	real := fixture(t)
	sheet := []byte(worksheetXML(`<row r="1">` + inline("A1", "email") + `</row>`))
	zeros := make([]byte, 2<<20)
	tests := []struct {
		name string
		data []byte
		opts Options
		want error
	}{
		{"empty", nil, Options{}, ErrNotWorkbook},
		{"garbage", []byte("\xFF\x00garbage that is no workbook at all"), Options{}, ErrNotWorkbook},
		{"CSV", []byte("name,email\nAnn,ann@example.com\n"), Options{}, ErrNotWorkbook},
		{"OLE2", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...), Options{}, ErrEncrypted},
		{"plain zip", zipOf(t, "hello.txt", "hello"), Options{}, ErrNotWorkbook},
		{"docx", pkg(t, "word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
			"<document/>"), Options{}, ErrNotWorkbook},
		{"xlsb", pkg(t, "xl/workbook.bin", "application/vnd.ms-excel.sheet.binary.macroEnabled.main", "\x83\x01"), Options{}, ErrNotWorkbook},
		{"workbook part missing", rewrite(t, real, map[string]string{"_rels/.rels": rels("xl/nowhere.xml")}), Options{}, ErrNotWorkbook},
		{"no package relationships", zipOf(t, "xl/workbook.xml", "<workbook/>"), Options{}, ErrNotWorkbook},
		{"encrypted zip entry", rawZip(t, zip.FileHeader{Name: "xl/workbook.xml", Flags: 0x1, CRC32: 1}, []byte("ciphertext")), Options{}, ErrEncrypted},
		{"zip signature only", []byte("PK\x03\x04"), Options{}, ErrCorrupt},
		{"truncated", real[:len(real)/2], Options{}, ErrCorrupt},
		{"checksum mismatch", rawZip(t, zip.FileHeader{Name: "xl/worksheets/sheet1.xml", CRC32: crc32.ChecksumIEEE(sheet) ^ 1}, sheet), Options{}, ErrCorrupt},
		{"file over MaxBytes", real, Options{MaxBytes: int64(len(real)) - 1}, ErrTooLarge},
		{"parts over MaxUnzippedBytes", real, Options{MaxUnzippedBytes: 1 << 10}, ErrTooLarge},
		{"zip bomb held in memory", rewrite(t, real, map[string]string{"xl/media/image1.png": string(zeros)}),
			Options{MaxInMemoryBytes: 1 << 20}, ErrTooLarge},
		{"zip bomb spilled to disk", rewrite(t, real, map[string]string{"xl/worksheets/sheet9.xml": string(zeros)}),
			Options{MaxUnzippedBytes: 1 << 20}, ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.TempDir = t.TempDir()
			wb, err := Open(bytes.NewReader(tc.data), tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open error = %v, want %v", err, tc.want)
			}
			if wb != nil {
				t.Fatalf("Open workbook = %v, want nil", wb)
			}
			assertEmptyDir(t, tc.opts.TempDir)
		})
	}

	t.Run("bad styles after a spilled sheet", func(t *testing.T) {
		// excelize has spilled the sheet by the time the styles fail to
		// parse; the spill file must not outlive the failed Open.
		dir := t.TempDir()
		data := rewrite(t, bigWorkbook(t, 100), map[string]string{"xl/styles.xml": "<styleSheet><numFmts>"})
		_, err := Open(bytes.NewReader(data), Options{TempDir: dir, PartMemoryBytes: 1 << 10})
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open error = %v, want ErrCorrupt", err)
		}
		assertEmptyDir(t, dir)
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		r := io.MultiReader(bytes.NewReader(real[:100]), iotest.ErrReader(boom))
		if _, err := Open(r, Options{TempDir: t.TempDir()}); !errors.Is(err, boom) {
			t.Fatalf("Open error = %v, want %v", err, boom)
		}
	})
	t.Run("spilled sheet spills and cleans up", func(t *testing.T) {
		// A sheet over PartMemoryBytes is streamed from a spill file,
		// which Close removes (openBytes checks).
		data := build(t, func(f *excelize.File) {
			must(t, f.SetCellValue("Sheet1", "A1", "email"))
			for i := 2; i < 200; i++ {
				cell, _ := excelize.CoordinatesToCellName(1, i)
				must(t, f.SetCellValue("Sheet1", cell, "someone@example.com"))
			}
		})
		dir := t.TempDir()
		wb, err := Open(bytes.NewReader(data), Options{TempDir: dir, PartMemoryBytes: 1 << 10})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) == 0 {
			t.Fatalf("no spill file in %s, want the sheet spilled", dir)
		}
		_, rows := readAll(t, wb, "Sheet1")
		if len(rows) != 198 || rows[197].Number != 199 {
			t.Fatalf("read %d rows, want 198 ending at row 199", len(rows))
		}
		must(t, wb.Close())
		assertEmptyDir(t, dir)
		if err := wb.Close(); err != nil {
			t.Fatalf("second Close = %v, want nil", err)
		}
		if _, err := wb.Sheet("Sheet1"); !errors.Is(err, ErrClosed) {
			t.Fatalf("Sheet after Close error = %v, want ErrClosed", err)
		}
	})
}

// TestDates pins how date cells written as a time.Time read. excelize's
// writer picks the format from the value: built-in 14 (the short date,
// read as ISO) for a midnight, 22 for a date and time, and 17 ("mmm-yy")
// for the first of a month, which is the cell's format as Excel shows it
// too.
func TestDates(t *testing.T) {
	tests := []struct {
		name string
		v    time.Time
		want string
	}{
		{"date", time.Date(1990, 4, 12, 0, 0, 0, 0, time.UTC), "1990-04-12"},
		{"date and time", time.Date(1990, 4, 12, 13, 45, 0, 0, time.UTC), "1990-04-12 13:45"},
		{"first of a month", time.Date(1990, 4, 1, 0, 0, 0, 0, time.UTC), "Apr-90"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := build(t, func(f *excelize.File) {
				must(t, f.SetSheetRow("Sheet1", "A1", &[]any{"Name", "Born"}))
				must(t, f.SetSheetRow("Sheet1", "A2", &[]any{"Ann", tc.v}))
			})
			wb := openBytes(t, data)
			_, rows := readAll(t, wb, "Sheet1")
			want := []Row{{2, []string{"Ann", tc.want}}}
			if !reflect.DeepEqual(rows, want) {
				t.Fatalf("rows = %v, want %v", rows, want)
			}
		})
	}
}
