package workbook

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// bigWorkbook writes a one-sheet workbook of n data rows with excelize's
// stream writer, the way large exports are written.
func bigWorkbook(t testing.TB, n int) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	must(t, err)
	must(t, sw.SetRow("A1", []any{"Name", "Email", "Phone", "City", "Score"}))
	for i := range n {
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		must(t, err)
		id := strconv.Itoa(i)
		must(t, sw.SetRow(cell, []any{"Lead " + id, "lead" + id + "@example.com", 4155550000 + i, "Zürich", i % 100}))
	}
	must(t, sw.Flush())
	buf, err := f.WriteToBuffer()
	must(t, err)
	return buf.Bytes()
}

// liveHeap returns the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestConstantMemory reads a 50,000-row sheet and checks that the live heap
// at the end is within a bound of what it was at row 5,000. Keeping the
// rows (or reading the sheet whole, as GetRows does) would hold about 180
// bytes per row more: a Row, five string headers and the strings' bytes.
// Under the race detector, or with -short, the sheet has 10,000 rows, and
// the 9,000 rows past the first sample would still hold over 1.5 MiB.
func TestConstantMemory(t *testing.T) {
	n := 50_000
	if raceEnabled || testing.Short() {
		n = 10_000
	}
	first := n / 10
	// Far below what retaining the rows after the first sample costs, far
	// above the collector's noise (tens of KiB).
	const bound = 512 << 10
	data := bigWorkbook(t, n)
	wb := openBytes(t, data)
	sr, err := wb.Sheet("Sheet1")
	if err != nil {
		t.Fatalf("Sheet: %v", err)
	}
	defer sr.Close()
	var atFirst, peak uint64
	count := 0
	for {
		row, err := sr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		count++
		if row.Number != count+1 {
			t.Fatalf("row %d has Number %d, want %d", count, row.Number, count+1)
		}
		switch {
		case count == first:
			atFirst = liveHeap()
		case count > first && (count%first == 0 || count == n):
			peak = max(peak, liveHeap())
		}
	}
	if count != n {
		t.Fatalf("read %d rows, want %d", count, n)
	}
	t.Logf("live heap at row %d: %d KiB; peak after: %d KiB (%d-byte workbook)", first, atFirst>>10, peak>>10, len(data))
	if peak > atFirst+bound {
		t.Fatalf("live heap grew from %d KiB at row %d to %d KiB by row %d, want growth under %d KiB",
			atFirst>>10, first, peak>>10, n, bound>>10)
	}
}

// FuzzOpen checks that no input makes Open or reading panic, and that every
// failure is one of the documented errors.
func FuzzOpen(f *testing.F) {
	real := build(f, func(x *excelize.File) {
		must(f, x.SetSheetRow("Sheet1", "A1", &[]any{"Name", "Email", "Phone"}))
		must(f, x.SetSheetRow("Sheet1", "A2", &[]any{"José Müller", "jose@example.com", 4155550166}))
		must(f, x.SetSheetRow("Sheet1", "A7", &[]any{"山田太郎", "taro@example.jp"}))
		_, err := x.NewSheet("Two")
		must(f, err)
		must(f, x.SetCellValue("Two", "B3", "email"))
	})
	f.Add(real)
	f.Add(withSheetXML(f, `<row>`+inline("", "email")+`</row><row r="3">`+inline("A3", "a@example.com")+`</row>`))
	f.Add(real[:len(real)/2])
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	f.Add([]byte("name,email\nAnn,ann@example.com\n"))
	documented := []error{ErrNotWorkbook, ErrEncrypted, ErrCorrupt, ErrTooLarge}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := Options{TempDir: t.TempDir(), MaxBytes: 1 << 20, MaxUnzippedBytes: 8 << 20}
		wb, err := Open(bytes.NewReader(data), opts)
		if err != nil {
			if !isAny(err, documented) {
				t.Fatalf("Open error = %v, want one of %v", err, documented)
			}
			return
		}
		defer wb.Close()
		for _, name := range wb.Sheets() {
			sr, err := wb.Sheet(name)
			if err != nil {
				continue
			}
			var numbers []int
			for range 1000 {
				row, err := sr.Next()
				if err != nil {
					break
				}
				numbers = append(numbers, row.Number)
			}
			sr.Close()
			_, _ = wb.ReadRows(name, numbers)
		}
	})
}

func isAny(err error, targets []error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// FuzzSheetXML fuzzes the worksheet XML inside an otherwise valid workbook,
// which FuzzOpen rarely reaches past the checksums. Rows must come in
// strictly increasing order and read back as Next returned them.
func FuzzSheetXML(f *testing.F) {
	f.Add(`<row r="1">` + inline("A1", "email") + inline("B1", "phone") + `</row>` +
		`<row r="2"><c r="A2"/><c r="B2"><v>4155550166</v></c></row><row r="7">` + inline("A7", "a@example.com") + `</row>`)
	f.Add(`<row>` + inline("", "email") + `</row><row/><row><c><v>1</v></c><c t="s"><v>0</v></c></row>`)
	f.Add(`<row r="3"><c r="C3" t="b"><v>1</v></c><c r="D3" s="1"><v>32975</v></c><c r="E3" t="d"><v>1990-04-12</v></c></row>`)
	f.Add(`<row r="1">` + inline("A1", "email") + `</row><row r="1048577">` + inline("A1048577", "x") + `</row>`)
	base := build(f, func(x *excelize.File) { must(f, x.SetCellValue("Sheet1", "A1", "x")) })
	f.Fuzz(func(t *testing.T, rows string) {
		data := rewrite(t, base, map[string]string{"xl/worksheets/sheet1.xml": worksheetXML(rows)})
		wb, err := Open(bytes.NewReader(data), Options{TempDir: t.TempDir()})
		if err != nil {
			return
		}
		defer wb.Close()
		sr, err := wb.Sheet("Sheet1")
		if err != nil {
			return
		}
		defer sr.Close()
		last := sr.HeaderRow()
		want := map[int][]string{}
		var numbers []int
		for range 1000 {
			row, err := sr.Next()
			if err != nil {
				break
			}
			if row.Number <= last {
				t.Fatalf("row %d after row %d", row.Number, last)
			}
			last = row.Number
			want[row.Number] = row.Fields
			numbers = append(numbers, row.Number)
		}
		got, err := wb.ReadRows("Sheet1", numbers)
		if err != nil {
			t.Fatalf("ReadRows of rows Next returned: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("ReadRows returned %d rows, want %d", len(got), len(want))
		}
		for n, fields := range want {
			if strings.Join(got[n], "\x00") != strings.Join(fields, "\x00") {
				t.Fatalf("ReadRows row %d = %q, want %q", n, got[n], fields)
			}
		}
	})
}
