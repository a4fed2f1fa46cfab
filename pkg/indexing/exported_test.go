package indexing_test

// Lists as contact centers really export them: Excel's Windows-1252 CSV
// and UTF-16 "Unicode Text", title lines above the header, a stray quote
// or an unreadable row thousands of rows in.

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/leads"
)

// readBack reads one entry's row from the object the way search does: a
// ranged read of the original bytes, decoded in the manifest's encoding.
func (e *env) readBack(t *testing.T, m indexing.Manifest, h indexing.Entry) map[string]string {
	t.Helper()
	raw, err := e.objects.ReadRange(context.Background(), h.Bucket, h.ObjectKey, h.VersionID, h.Offset, h.Offset+h.Length)
	if err != nil {
		t.Fatalf("read %s row %d: %v", h.ObjectKey, h.Row, err)
	}
	rec, err := leads.ParseRecord(raw, m.Header, leads.Options{Delimiter: []rune(m.Delimiter)[0], Encoding: m.Encoding})
	if err != nil {
		t.Fatalf("parse %s row %d: %v", h.ObjectKey, h.Row, err)
	}
	out := map[string]string{}
	for i, name := range m.Header {
		if i < len(rec.Fields) {
			out[name] = rec.Fields[i]
		}
	}
	return out
}

func TestListsAsExported(t *testing.T) {
	e := newEnv(t, true)
	const western = "Full Name;Mobile;E-Mail;City\r\n" +
		"José Müller;(415) 555-0166;jose@example.com;Zürich\r\n" +
		"Zoë Ørsted;415.555.0167;zoe@example.com;Malmö\r\n"
	cp1252, err := charmap.Windows1252.NewEncoder().String(western)
	if err != nil {
		t.Fatal(err)
	}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(strings.ReplaceAll(western, ";", "\t"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		body         []byte
		wantEncoding string
		wantHeader   int
		wantDelim    string
	}{
		{"Excel CSV (Windows-1252)", []byte(cp1252), leads.Windows1252, 1, ";"},
		{"Excel Unicode Text (UTF-16 LE, tabs)", []byte(utf16), leads.UTF16LE, 1, "\t"},
		{"UTF-8 with a title and an export date", []byte("Campaign export 2026-01-05\r\nExported by: admin\r\n\r\n" + western), leads.UTF8, 4, ";"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("campaigns/exported/%d.csv", i)
			v := e.put(t, key, tc.body)
			e.sync(t)
			m := e.wantIndexed(t, key, v)
			if m.Encoding != tc.wantEncoding || m.HeaderLine != tc.wantHeader || m.Delimiter != tc.wantDelim || m.Rows != 2 {
				t.Fatalf("manifest encoding %q, header line %d, delimiter %q, rows %d; want %q, %d, %q, 2",
					m.Encoding, m.HeaderLine, m.Delimiter, m.Rows, tc.wantEncoding, tc.wantHeader, tc.wantDelim)
			}
			for _, want := range []struct {
				kind  identifiers.Kind
				value string
				name  string
				city  string
			}{
				{identifiers.Phone, "+1 415 555 0166", "José Müller", "Zürich"},
				{identifiers.Email, "ZOE@example.com", "Zoë Ørsted", "Malmö"},
			} {
				var hits []indexing.Entry
				for _, h := range e.lookup(t, want.kind, want.value) {
					if h.ObjectKey == key {
						hits = append(hits, h)
					}
				}
				if len(hits) != 1 {
					t.Fatalf("lookup %s: %d entries in %s, want 1", want.kind, len(hits), key)
				}
				fields := e.readBack(t, m, hits[0])
				if fields["Full Name"] != want.name || fields["City"] != want.city {
					t.Fatalf("row read back = %q, want Full Name %q and City %q", fields, want.name, want.city)
				}
			}
		})
	}
}

// TestOneBadRowIsOneBadRow: a stray quote at row 5,002 is read leniently
// and a NUL row further on is counted, not fatal; the list replaces its
// previous version and stays searchable.
func TestOneBadRowIsOneBadRow(t *testing.T) {
	e := newEnv(t, true)
	key := "campaigns/bad-rows/list.csv"
	e.put(t, key, list(1))
	e.sync(t)

	var b bytes.Buffer
	b.WriteString("product,phone,email\n")
	for i := 1; i <= 6000; i++ {
		switch i {
		case 5002:
			b.WriteString("TV 5\" stand,415-555-0199,stand@example.com\n")
		case 5500:
			b.WriteString("Lamp\x00,415-555-0198,lamp@example.com\n")
		default:
			fmt.Fprintf(&b, "item %d,415-55%d-%04d,\n", i, 5+i/10000, i%10000)
		}
	}
	v := e.put(t, key, b.Bytes())
	e.sync(t)
	m := e.wantIndexed(t, key, v)
	if m.Rows != 5999 || m.UnreadableRows != 1 || !reflect.DeepEqual(m.UnreadableLines, []int{5501}) {
		t.Fatalf("manifest rows %d, unreadable %d at %v; want 5999, 1 at [5501]", m.Rows, m.UnreadableRows, m.UnreadableLines)
	}
	hits := e.lookup(t, identifiers.Email, "stand@example.com")
	if len(hits) != 1 || hits[0].Row != 5002 {
		t.Fatalf("lookup of the stray-quote row = %+v, want row 5002", hits)
	}
	if got := e.readBack(t, m, hits[0])["product"]; got != "TV 5\" stand" {
		t.Fatalf("product read back = %q, want %q", got, "TV 5\" stand")
	}
	if hits := e.lookup(t, identifiers.Email, "lamp@example.com"); len(hits) != 0 {
		t.Fatalf("the unreadable row has %d entries, want 0", len(hits))
	}
	if hits := e.lookup(t, identifiers.Phone, "212-555-0101"); len(hits) != 1 || !m.Retains(hits[0].VersionID) {
		t.Fatalf("the replaced version's row = %+v, want 1 entry of a noncurrent version (%v)", hits, noncurrentIDs(m))
	}
}

// TestWorkbooks: every sheet of a workbook is a list of its own, rows
// pointed at by sheet and spreadsheet row; sheets that are not lead lists
// are recorded as skipped; files that are not readable workbooks fail with
// their reason.
func TestWorkbooks(t *testing.T) {
	e := newEnv(t, true)
	f := excelize.NewFile()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetName("Sheet1", "Leads"))
	must(f.SetCellValue("Leads", "A1", "Spring leads"))
	must(f.SetSheetRow("Leads", "A3", &[]any{"Name", "Mobile", "Email"}))
	must(f.SetSheetRow("Leads", "A4", &[]any{"José Müller", 4155550166, "jose@example.com"}))
	must(f.SetSheetRow("Leads", "A9", &[]any{"Zoë Ørsted", "415-555-0167", "zoe@example.com"}))
	_, err := f.NewSheet("Notes")
	must(err)
	must(f.SetSheetRow("Notes", "A1", &[]any{"Topic", "Text"}))
	must(f.SetSheetRow("Notes", "A2", &[]any{"Script", "Be nice"}))
	_, err = f.NewSheet("Empty")
	must(err)
	var wb bytes.Buffer
	must(f.Write(&wb))

	key := "campaigns/books/leads.xlsx"
	v := e.put(t, key, wb.Bytes())
	e.sync(t)
	m := e.wantIndexed(t, key, v)
	if m.Format != indexing.FormatWorkbook || m.Rows != 2 || len(m.Sheets) != 3 {
		t.Fatalf("manifest format %q, rows %d, sheets %+v; want xlsx, 2 rows, 3 sheets", m.Format, m.Rows, m.Sheets)
	}
	leadsSheet, notes, empty := m.Sheets[0], m.Sheets[1], m.Sheets[2]
	if leadsSheet.Name != "Leads" || leadsSheet.HeaderRow != 3 || leadsSheet.Rows != 2 || leadsSheet.Skipped != "" ||
		!reflect.DeepEqual(leadsSheet.Header, []string{"Name", "Mobile", "Email"}) {
		t.Fatalf("sheet Leads = %+v, want header at row 3, 2 rows", leadsSheet)
	}
	if notes.Skipped != "no identifier column" || empty.Skipped == "" {
		t.Fatalf("sheets Notes %+v and Empty %+v, want both skipped with a reason", notes, empty)
	}
	hits := e.lookup(t, identifiers.Phone, "(415) 555-0166")
	if len(hits) != 1 || hits[0].Sheet != "Leads" || hits[0].Row != 4 {
		t.Fatalf("lookup of a numeric phone cell = %+v, want sheet Leads row 4", hits)
	}
	hits = e.lookup(t, identifiers.Email, "zoe@example.com")
	if len(hits) != 1 || hits[0].Sheet != "Leads" || hits[0].Row != 9 {
		t.Fatalf("lookup = %+v, want sheet Leads row 9", hits)
	}

	zipped := func(name, body string) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, err := zw.Create(name)
		must(err)
		_, err = w.Write([]byte(body))
		must(err)
		must(zw.Close())
		return b.Bytes()
	}
	for _, tc := range []struct {
		name, key  string
		body       []byte
		wantReason string
	}{
		{"password-protected", "campaigns/books/protected.xlsx", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...), "encrypted workbook"},
		{"a zip of CSVs", "campaigns/books/archive.zip", zipped("list.csv", "phone\n4155550100\n"), "not an .xlsx workbook"},
		{"no sheet with identifiers", "campaigns/books/notes.xlsx", func() []byte {
			g := excelize.NewFile()
			must(g.SetSheetRow("Sheet1", "A1", &[]any{"Topic", "Text"}))
			must(g.SetSheetRow("Sheet1", "A2", &[]any{"Script", "Be nice"}))
			var b bytes.Buffer
			must(g.Write(&b))
			return b.Bytes()
		}(), "no sheet has an identifier column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := e.put(t, tc.key, tc.body)
			c := e.one(t)
			err := e.svc.Apply(context.Background(), c)
			var ie *indexing.InputError
			if !errors.As(err, &ie) || !strings.Contains(ie.Reason, tc.wantReason) {
				t.Fatalf("Apply = %v, want an InputError naming %q", err, tc.wantReason)
			}
			if m := e.manifest(t, tc.key); m.Status != indexing.StatusFailed || m.VersionID != v || m.Error != ie.Reason {
				t.Fatalf("manifest = %s@%s %q, want failed@%s %q", m.Status, m.VersionID, m.Error, v, ie.Reason)
			}
		})
	}
}
