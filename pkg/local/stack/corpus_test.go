package stack_test

// The lists of issue 7, as contact centers export them, uploaded with the
// AWS CLI to the local stack and searched for every identifier of every
// consumer in them.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/formula"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

// person is a consumer of the corpus: every name is Windows-1252, so every
// list can hold every consumer.
type person struct {
	name, phone, phone2, email, email2, cust string
}

var people = []person{
	{"José Müller", "(415) 555-0100", "415-555-0150", "jose.muller@example.com", "jose@example.org", "C-100"},
	{"Zoë Ørsted", "415.555.0101", "415 555 0151", "zoe@example.com", "z.orsted@example.net", "C-101"},
	{"François Lefèvre", "+1 415 555 0102", "4155550152", "francois@example.com", "fl@example.org", "C-102"},
	{"Åsa Björk", "4155550103", "1-415-555-0153", "asa.bjork@example.com", "asa@example.se", "C-103"},
	{"Renée Dubois", "415-555-0104", "(415) 555-0154", "renee@example.com", "rd@example.fr", "C-104"},
	{"Iñigo Núñez", "415 555 0105", "415.555.0155", "inigo@example.com", "in@example.es", "C-105"},
	{"Søren Kierkegård", "415-555-0106", "415-555-0156", "soren@example.com", "sk@example.dk", "C-106"},
	{"Chloë O'Brien", "415-555-0107", "415-555-0157", "chloe@example.com", "cob@example.ie", "C-107"},
	{"Mårten Œhlenschläger", "415-555-0108", "415-555-0158", "marten@example.com", "mo@example.dk", "C-108"},
	{"Dana Whitfield", "415-555-0109", "415-555-0159", "dana@example.com", "dw@example.com", "C-109"},
	{"Ana Lucía Peña", "415-555-0110", "415-555-0160", "ana@example.com", "alp@example.mx", "C-110"},
	{"Łukasz Nowak", "415-555-0111", "415-555-0161", "lukasz@example.com", "ln@example.pl", "C-111"},
}

// where is one row of the corpus.
type where struct {
	key, sheet string
	row        int64
}

// corpus collects the lists and what a search must find in them.
type corpus struct {
	files map[string][]byte
	// rows[identifier value] are the rows holding it.
	rows map[string]map[where]bool
	// names[row] is the consumer's name as the row holds it.
	names map[where]string
}

func (c *corpus) holds(w where, name string, values ...string) {
	c.names[w] = name
	for _, v := range values {
		if c.rows[v] == nil {
			c.rows[v] = map[where]bool{}
		}
		c.rows[v][w] = true
	}
}

func buildCorpus(t *testing.T) *corpus {
	t.Helper()
	c := &corpus{files: map[string][]byte{}, rows: map[string]map[where]bool{}, names: map[where]string{}}
	const prefix = "campaigns/exports/"
	p := people

	// An ordinary UTF-8 export.
	var b strings.Builder
	b.WriteString("Full Name,Phone,Email,Customer ID,Notes\n")
	for i, q := range p[:6] {
		fmt.Fprintf(&b, "%s,%s,%s,%s,\"called, no answer\"\n", q.name, q.phone, q.email, q.cust)
		c.holds(where{prefix + "utf8.csv", "", int64(i + 1)}, q.name, q.phone, q.email, q.cust)
	}
	c.files["utf8.csv"] = []byte(b.String())

	// Excel on Windows, "CSV (semicolon)": Windows-1252, CRLF. Łukasz
	// cannot be written in it, so the list leaves him out.
	b.Reset()
	b.WriteString("Full Name;Mobile;E-Mail;City\r\n")
	for i, q := range p[3:9] {
		fmt.Fprintf(&b, "%s;%s;%s;Zürich\r\n", q.name, q.phone, q.email)
		c.holds(where{prefix + "excel-ansi.csv", "", int64(i + 1)}, q.name, q.phone, q.email)
	}
	ansi, err := charmap.Windows1252.NewEncoder().String(b.String())
	if err != nil {
		t.Fatal(err)
	}
	c.files["excel-ansi.csv"] = []byte(ansi)

	// Excel's "Unicode Text": UTF-16 LE with a BOM, tabs.
	b.Reset()
	b.WriteString("Name\tPhone Number\tEmail Address\tCust ID\r\n")
	for i, q := range p[6:] {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\r\n", q.name, q.phone, q.email, q.cust)
		c.holds(where{prefix + "unicode.txt", "", int64(i + 1)}, q.name, q.phone, q.email, q.cust)
	}
	u16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(b.String())
	if err != nil {
		t.Fatal(err)
	}
	c.files["unicode.txt"] = []byte(u16)

	// A title, an export date and a blank line above the header.
	c.files["titled.csv"] = []byte("Spring campaign export\nExported: 2026-01-05 09:00 by admin\n\n" +
		"Full Name,Phone,Email\n" + p[0].name + "," + p[0].phone2 + "," + p[0].email2 + "\n" +
		p[9].name + "," + p[9].phone2 + "," + p[9].email2 + "\n")
	c.holds(where{prefix + "titled.csv", "", 1}, p[0].name, p[0].phone2, p[0].email2)
	c.holds(where{prefix + "titled.csv", "", 2}, p[9].name, p[9].phone2, p[9].email2)

	// Old Mac Excel: lines end with a lone CR.
	c.files["old-mac.csv"] = []byte("Full Name,Phone,Email\r" + p[9].name + "," + p[9].phone + "," + p[9].email + "\r" +
		p[5].name + "," + p[5].phone + "," + p[5].email + "\r")
	c.holds(where{prefix + "old-mac.csv", "", 1}, p[9].name, p[9].phone, p[9].email)
	c.holds(where{prefix + "old-mac.csv", "", 2}, p[5].name, p[5].phone, p[5].email)

	// Several values in a cell, and extensions.
	c.files["multi.csv"] = []byte("Full Name,Phones,Emails\n" +
		p[1].name + "," + p[1].phone + " / " + p[1].phone2 + "," + p[1].email + "\n" +
		p[2].name + "," + p[2].phone + "," + p[2].email + "; " + p[2].email2 + "\n" +
		p[4].name + ",\"" + p[4].phone + "\n" + p[4].phone2 + "\",\"" + p[4].email + ", " + p[4].email2 + "\"\n" +
		p[5].name + "," + p[5].phone + " or " + p[5].phone2 + "," + p[5].email2 + "\n" +
		p[7].name + "," + p[7].phone2 + " x123," + p[7].email2 + "\n" +
		p[8].name + "," + p[8].phone2 + " ext. 45," + p[8].email2 + "\n")
	c.holds(where{prefix + "multi.csv", "", 1}, p[1].name, p[1].phone, p[1].phone2, p[1].email)
	c.holds(where{prefix + "multi.csv", "", 2}, p[2].name, p[2].phone, p[2].email, p[2].email2)
	c.holds(where{prefix + "multi.csv", "", 3}, p[4].name, p[4].phone, p[4].phone2, p[4].email, p[4].email2)
	c.holds(where{prefix + "multi.csv", "", 4}, p[5].name, p[5].phone, p[5].phone2, p[5].email2)
	c.holds(where{prefix + "multi.csv", "", 5}, p[7].name, p[7].phone2, p[7].email2)
	c.holds(where{prefix + "multi.csv", "", 6}, p[8].name, p[8].phone2, p[8].email2)

	// Malformed rows: a bare quote, and a quote never closed.
	c.files["stray.csv"] = []byte("Full Name,Phone,Product,Customer ID\n" +
		p[10].name + "," + p[10].phone2 + ",TV 5\" stand," + p[10].cust + "\n" +
		p[11].name + "," + p[11].phone2 + ",\"Desk 2m," + p[11].cust + "\n" +
		p[3].name + "," + p[3].phone2 + ",Lamp," + p[3].cust + "\n")
	c.holds(where{prefix + "stray.csv", "", 1}, p[10].name, p[10].phone2, p[10].cust)
	c.holds(where{prefix + "stray.csv", "", 2}, p[11].name, p[11].phone2, p[11].cust)
	c.holds(where{prefix + "stray.csv", "", 3}, p[3].name, p[3].phone2, p[3].cust)

	// A workbook: a sheet with a title row and numeric phone cells, a sheet
	// with other columns, and a summary sheet without identifiers.
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", "Leads"); err != nil {
		t.Fatal(err)
	}
	set := func(sheet, cell string, v any) {
		t.Helper()
		if err := f.SetCellValue(sheet, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	set("Leads", "A1", "Q1 leads, exported 2026-01-05")
	for i, h := range []string{"Full Name", "Mobile", "Email"} {
		set("Leads", string(rune('A'+i))+"3", h)
	}
	for i, q := range []person{p[0], p[2], p[4]} {
		r := 4 + 2*i // a blank row between rows
		set("Leads", fmt.Sprintf("A%d", r), q.name)
		set("Leads", fmt.Sprintf("B%d", r), digits(q.phone2)) // a number, as Excel keeps typed phones
		set("Leads", fmt.Sprintf("C%d", r), q.email)
		c.holds(where{prefix + "book.xlsx", "Leads", int64(r)}, q.name, q.phone2, q.email)
	}
	if _, err := f.NewSheet("Callbacks"); err != nil {
		t.Fatal(err)
	}
	for i, h := range []string{"Cust ID", "Contact Name", "Phone"} {
		set("Callbacks", string(rune('A'+i))+"1", h)
	}
	for i, q := range []person{p[6], p[8]} {
		set("Callbacks", fmt.Sprintf("A%d", i+2), q.cust)
		set("Callbacks", fmt.Sprintf("B%d", i+2), q.name)
		set("Callbacks", fmt.Sprintf("C%d", i+2), q.phone)
		c.holds(where{prefix + "book.xlsx", "Callbacks", int64(i + 2)}, q.name, q.cust, q.phone)
	}
	if _, err := f.NewSheet("Summary"); err != nil {
		t.Fatal(err)
	}
	set("Summary", "A1", "Calls")
	set("Summary", "B1", 12)
	var wb bytes.Buffer
	if err := f.Write(&wb); err != nil {
		t.Fatal(err)
	}
	c.files["book.xlsx"] = wb.Bytes()

	// What no one can read: a password-protected workbook (Office wraps it
	// in an OLE2 compound file).
	c.files["protected.xlsx"] = append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, bytes.Repeat([]byte{0}, 504)...)
	return c
}

func digits(s string) int64 {
	var n int64
	for _, r := range s {
		if '0' <= r && r <= '9' {
			n = n*10 + int64(r-'0')
		}
	}
	if n > 1e10 { // drop a leading country code 1
		n -= 1e10
	}
	return n
}

// TestCorpusAsExported: every identifier of every consumer finds exactly
// the rows that hold it, names decoded exactly, and every answer names
// the protected workbook as unreadable.
func TestCorpusAsExported(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	c := uploadCorpus(t, s)

	kindOf := func(v string) string {
		switch {
		case strings.Contains(v, "@"):
			return "email"
		case strings.HasPrefix(v, "C-"):
			return "customerId"
		}
		return "phone"
	}
	searched := 0
	for value, rows := range c.rows {
		res := searchAs(t, s, auth.Supervisor, kindOf(value)+"="+url.QueryEscape(value))
		var got []where
		for _, r := range res.Records {
			w := where{r.Key, r.Sheet, r.Row}
			got = append(got, w)
			name := r.Fields["Full Name"] + r.Fields["Name"] + r.Fields["Contact Name"]
			if name != c.names[w] {
				t.Fatalf("%s: row %+v name = %q, want %q (fields %q)", kindOf(value), w, name, c.names[w], r.Fields)
			}
			if len(r.MatchedOn) != 1 || r.MatchedOn[0] != kindOf(value) {
				t.Fatalf("%s: row %+v matchedOn = %v, want [%s]", kindOf(value), w, r.MatchedOn, kindOf(value))
			}
		}
		var want []where
		for w := range rows {
			want = append(want, w)
		}
		sortWheres(got)
		sortWheres(want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s search: rows %v, want %v", kindOf(value), got, want)
		}
		if len(res.Coverage.Unreadable) != 1 || res.Coverage.Unreadable[0].Key != "campaigns/exports/protected.xlsx" || res.Coverage.Unreadable[0].Reason == "" {
			t.Fatalf("coverage.unreadable = %+v, want the protected workbook with its reason", res.Coverage.Unreadable)
		}
		if res.Coverage.Objects != int64(len(c.files)-1) {
			t.Fatalf("coverage.objects = %d, want %d", res.Coverage.Objects, len(c.files)-1)
		}
		searched++
	}
	// Every consumer's phones, emails and customer ID, however many lists
	// hold them.
	if searched < 50 {
		t.Fatalf("searched %d identifiers, want the whole corpus of 50 or more", searched)
	}
}

func sortWheres(ws []where) {
	sort.Slice(ws, func(i, j int) bool {
		a, b := ws[i], ws[j]
		if a.key != b.key {
			return a.key < b.key
		}
		if a.sheet != b.sheet {
			return a.sheet < b.sheet
		}
		return a.row < b.row
	})
}

// uploadCorpus uploads the corpus with the AWS CLI and waits until every
// list is indexed, and the protected workbook has failed.
func uploadCorpus(t *testing.T, s *stack.Stack) *corpus {
	t.Helper()
	bucket := s.Names["LeadsBucket"]
	store := indexstore.New(dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"])
	c := buildCorpus(t)
	dir := t.TempDir()
	for name, body := range c.files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stacktest.AWS(t, s, "s3", "cp", dir, "s3://"+bucket+"/campaigns/exports/", "--recursive")
	for name := range c.files {
		m := waitFinal(t, s, store, bucket, "campaigns/exports/"+name)
		if want := indexing.StatusIndexed; name != "protected.xlsx" && m.Status != want {
			t.Fatalf("%s is %s (%s), want %s", name, m.Status, m.Error, want)
		}
	}
	protected, err := store.Manifest(t.Context(), bucket, "campaigns/exports/protected.xlsx")
	if err != nil || protected.Status != indexing.StatusFailed {
		t.Fatalf("protected.xlsx manifest = %+v, %v; want failed", protected, err)
	}
	return c
}

// TestCorpusExportsEveryRow: each consumer of the corpus, exported by all
// their identifiers through POST /exports, gets exactly their rows in the
// CSV and the JSON downloaded through the links, no cell a spreadsheet
// would run, and the unreadable workbook named in both.
func TestCorpusExportsEveryRow(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	c := uploadCorpus(t, s)
	for _, p := range people {
		var want []where
		seen := map[where]bool{}
		for _, v := range []string{p.phone, p.phone2, p.email, p.email2, p.cust} {
			for w := range c.rows[v] {
				if !seen[w] {
					seen[w] = true
					want = append(want, w)
				}
			}
		}
		body := fmt.Sprintf(`{"phones":[%q,%q],"emails":[%q,%q],"customerIds":[%q]}`, p.phone, p.phone2, p.email, p.email2, p.cust)
		code, b := apiCall(t, s, "POST", "/exports", auth.Admin, body)
		var x exportReply
		if err := json.Unmarshal(b, &x); code != 201 || err != nil {
			t.Fatalf("POST /exports for %s = %d %s", p.name, code, b)
		}
		csvBytes := curl(t, x.Links.CSV, "")
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(csvBytes, []byte("\ufeff"))))
		r.FieldsPerRecord = -1
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%s: CSV: %v", p.name, err)
		}
		var got []where
		for _, row := range rows[1:] {
			for _, cell := range row {
				if formula.Dangerous(cell) {
					t.Fatalf("%s: CSV cell %q would run in a spreadsheet", p.name, cell)
				}
			}
			if len(row) < 4 || row[0] == "" || strings.HasPrefix(row[0], "#") {
				break
			}
			n, err := strconv.ParseInt(row[3], 10, 64)
			if err != nil {
				t.Fatalf("%s: CSV row %q: row number %q", p.name, row, row[3])
			}
			got = append(got, where{row[1], row[2], n})
		}
		sortWheres(got)
		sortWheres(want)
		if !reflect.DeepEqual(got, want) || x.Records != len(want) {
			t.Fatalf("%s: exported rows %v (%d records), want %v", p.name, got, x.Records, want)
		}
		if !bytes.Contains(csvBytes, []byte("campaigns/exports/protected.xlsx")) {
			t.Fatalf("%s: the CSV does not name the unreadable workbook:\n%s", p.name, csvBytes)
		}
		var doc struct {
			Coverage struct{ Unreadable []struct{ Key string } }
			Records  []json.RawMessage
		}
		if err := json.Unmarshal(curl(t, x.Links.JSON, ""), &doc); err != nil || len(doc.Records) != len(want) ||
			len(doc.Coverage.Unreadable) != 1 || doc.Coverage.Unreadable[0].Key != "campaigns/exports/protected.xlsx" {
			t.Fatalf("%s: JSON %d records, coverage %+v (%v); want %d and the workbook", p.name, len(doc.Records), doc.Coverage, err, len(want))
		}
	}
}
