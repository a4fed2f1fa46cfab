package export

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/export/pdftest"
	"github.com/veil-privacy/veil/pkg/indexing"
)

// pdfNames are the names every volume must render (and pdftotext read back).
var pdfNames = []string{"Zoë Ångström", "Łukasz Żółć", "Σωκράτης", "Дмитрий"}

var pdfMeta = Meta{
	Request: Request{
		ID:           "req-2024-0042",
		Requester:    "Zoë Ångström <zoe@example.com>",
		Jurisdiction: "US-CA",
		// 23:30 in New York is the next day in UTC: the cover says the UTC date.
		Received: time.Date(2024, 3, 1, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)),
		Answered: time.Date(2024, 3, 15, 16, 5, 12, 0, time.UTC),
	},
	Disclosure: Disclosure{
		Categories:   []string{"identifiers", "contact details"},
		Sources:      []string{"lead lists uploaded by Acme's marketing team"},
		Purposes:     []string{"marketing campaigns", "fraud prevention"},
		ThirdParties: []string{"email delivery providers"},
		Retention:    "24 months after a list's upload",
	},
	Coverage: indexing.Coverage{
		Objects: 12,
		Unreadable: []indexing.Unreadable{{
			Bucket: "acme-leads", Key: "2023/archive.numbers", VersionID: "3HL4kqtJ", Reason: "unsupported format",
		}},
		Pending: []indexing.Pending{{Bucket: "acme-leads", Key: "2024/loading.csv"}},
		Partial: []indexing.Partial{{Bucket: "acme-leads", Key: "2024/torn.csv", UnreadableRows: 3}},
	},
}

// pdfCompleteMeta is pdfMeta with nothing left unread.
var pdfCompleteMeta = func() Meta {
	m := pdfMeta
	m.Coverage = indexing.Coverage{Objects: 12, Unreadable: []indexing.Unreadable{},
		Pending: []indexing.Pending{}, Partial: []indexing.Partial{}}
	return m
}()

// pdfWideHeader is a 40-column list's header, and pdfWideValue the value of
// its column i in pdfRecords' wide row.
var pdfWideHeader = func() []string {
	h := make([]string, 40)
	for i := range h {
		h[i] = fmt.Sprintf("col_%02d", i+1)
	}
	return h
}()

func pdfWideValue(i int) string {
	return fmt.Sprintf("w%02d-%s", i+1, []string{"ä", "ж", "λ", "ø"}[i%4])
}

// pdfRecords are a text list with Unicode names, a workbook sheet with a
// 40-column row, and a record whose fields are not all in its header.
func pdfRecords() []Record {
	uploaded := time.Date(2024, 2, 1, 12, 0, 0, 0, time.UTC)
	var recs []Record
	for i, name := range pdfNames {
		recs = append(recs, Record{
			Bucket: "acme-leads", Key: "2024/spring.csv", VersionID: "v1", Row: int64(i + 2),
			Campaign: "Spring promo", Uploaded: uploaded,
			Header:    []string{"Name", "E-mail"},
			Fields:    map[string]string{"Name": name, "E-mail": fmt.Sprintf("p%d@example.com", i)},
			MatchedOn: []string{"name", "email"},
		})
	}
	wide := make(map[string]string, 40)
	for i, h := range pdfWideHeader {
		wide[h] = pdfWideValue(i)
	}
	recs = append(recs, Record{
		Bucket: "acme-leads", Key: "2024/wide.xlsx", Sheet: "Leads", Row: 7, Campaign: "Wide",
		Uploaded: uploaded, Header: pdfWideHeader, Fields: wide, MatchedOn: []string{"phone"},
	}, Record{
		Bucket: "acme-leads", Key: "2024/odd.csv", Row: 2,
		Header:    []string{"second", "first"},
		Fields:    map[string]string{"zeta": "z-value", "second": "2nd", "alpha": "a-value", "first": "1st"},
		MatchedOn: []string{"email"},
	})
	return recs
}

func pdfRecordsOf(recs []Record) Records {
	return func(fn func(Record) error) error {
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// pdfFile is a volume WritePDF wrote, in memory.
type pdfFile struct {
	bytes.Buffer
	closed   int
	writeErr error
	closeErr error
}

func (f *pdfFile) Write(p []byte) (int, error) {
	if f.writeErr != nil {
		return 0, f.writeErr
	}
	return f.Buffer.Write(p)
}

func (f *pdfFile) Close() error {
	f.closed++
	return f.closeErr
}

// pdfVolumes writes the export and returns its volumes.
func pdfVolumes(t *testing.T, meta Meta, recs Records, perVolume int) [][]byte {
	t.Helper()
	var files []*pdfFile
	n, err := WritePDF(meta, recs, perVolume, func(volume int) (io.WriteCloser, error) {
		if volume != len(files)+1 {
			t.Errorf("create(%d) after %d volumes, want create(%d)", volume, len(files), len(files)+1)
		}
		f := &pdfFile{}
		files = append(files, f)
		return f, nil
	})
	if err != nil {
		t.Fatalf("WritePDF: %v", err)
	}
	if n != len(files) {
		t.Fatalf("WritePDF = %d volumes, created %d", n, len(files))
	}
	out := make([][]byte, len(files))
	for i, f := range files {
		if f.closed != 1 {
			t.Errorf("volume %d closed %d times, want 1", i+1, f.closed)
		}
		out[i] = f.Bytes()
	}
	return out
}

// pdfPages is the text of each page of pdf (pdftest.Pages).
func pdfPages(t *testing.T, pdf []byte) []string { return pdftest.Pages(t, pdf) }

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	return strings.Join(pdfPages(t, pdf), "\n")
}

func wantText(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("text lacks %q\ntext:\n%s", w, text)
		}
	}
}

func TestWritePDFCover(t *testing.T) {
	vols := pdfVolumes(t, pdfMeta, pdfRecordsOf(pdfRecords()), 0)
	if len(vols) != 1 {
		t.Fatalf("volumes = %d, want 1", len(vols))
	}
	cover := pdfPages(t, vols[0])[0]
	wantText(t, cover,
		"Personal data held on you",
		"Requester Zoë Ångström <zoe@example.com>",
		"Request ID req-2024-0042",
		"Received 2024-03-02",
		"Answered 2024-03-15",
		"Jurisdiction US-CA",
		"Volume Volume 1 of 1",
		"Records in this export 6",
		"Records in this volume 1 to 6",
	)
}

func TestWritePDFDisclosure(t *testing.T) {
	text := pdfText(t, pdfVolumes(t, pdfMeta, pdfRecordsOf(pdfRecords()), 0)[0])
	wantText(t, text,
		"Categories of personal data found • identifiers • contact details",
		"Sources the data was collected from • lead lists uploaded by Acme's marketing team",
		"Business purposes it is used for • marketing campaigns • fraud prevention",
		"Categories of third parties it is shared with • email delivery providers",
		"Retention 24 months after a list's upload",
	)

	empty := pdfMeta
	empty.Disclosure = Disclosure{}
	text = pdfText(t, pdfVolumes(t, empty, pdfRecordsOf(nil), 0)[0])
	wantText(t, text,
		"Categories of third parties it is shared with None.",
		"Retention (not recorded)",
	)
}

func TestWritePDFCoverage(t *testing.T) {
	tests := []struct {
		name string
		meta Meta
		want []string
		not  string
	}{
		{
			name: "incomplete",
			meta: pdfMeta,
			want: []string{
				"The search was NOT complete.",
				"Lists that could not be read (1) List Version Reason",
				"acme-leads/2023/archive.numbers 3HL4kqtJ unsupported format",
				"Lists still being read when the export was made (1) List acme-leads/2024/loading.csv",
				"Lists with rows that could not be read (1) List Rows that could not be read acme-leads/2024/torn.csv 3",
			},
			not: "The search was complete",
		},
		{
			name: "complete",
			meta: pdfCompleteMeta,
			want: []string{"The search was complete: 12 lists were read in full"},
			not:  "could not be read",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Every volume says it, not only the first.
			vols := pdfVolumes(t, tc.meta, pdfRecordsOf(pdfRecords()), 4)
			for i, v := range vols {
				text := pdfText(t, v)
				wantText(t, text, tc.want...)
				if strings.Contains(text, tc.not) {
					t.Errorf("volume %d says %q", i+1, tc.not)
				}
			}
		})
	}
}

func TestWritePDFRecords(t *testing.T) {
	text := pdfText(t, pdfVolumes(t, pdfMeta, pdfRecordsOf(pdfRecords()), 0)[0])
	t.Run("unicode names", func(t *testing.T) {
		wantText(t, text, pdfNames...)
	})
	t.Run("list headings", func(t *testing.T) {
		wantText(t, text,
			"List: acme-leads/2024/spring.csv Campaign: Spring promo · Uploaded: 2024-02-01 · Version: v1",
			"List: acme-leads/2024/wide.xlsx Sheet: Leads · Campaign: Wide · Uploaded: 2024-02-01",
			"List: acme-leads/2024/odd.csv Campaign: (not recorded) · Uploaded: (not recorded)",
			"Record 1 of 6 · row 2 · matched on: name, email",
			"Record 5 of 6 · row 7 · matched on: phone",
		)
		// Consecutive records of a list share one heading.
		if n := strings.Count(text, "List: acme-leads/2024/spring.csv"); n != 1 {
			t.Errorf("spring.csv heading shown %d times, want 1", n)
		}
	})
	t.Run("40 columns", func(t *testing.T) {
		for i, h := range pdfWideHeader {
			wantText(t, text, h+" "+pdfWideValue(i))
		}
	})
	t.Run("field order", func(t *testing.T) {
		// Header order, then the fields the header lacks, sorted.
		odd := text[strings.Index(text, "odd.csv"):]
		var at []int
		for _, w := range []string{"second 2nd", "first 1st", "alpha a-value", "zeta z-value"} {
			at = append(at, strings.Index(odd, w))
		}
		if slices.Contains(at, -1) || !slices.IsSorted(at) {
			t.Errorf("field positions = %v, want ascending\n%s", at, odd)
		}
	})
}

// TestWritePDFVerbatim checks that text is printed, never interpreted:
// not as PDF syntax, nor as fpdf's page-count alias.
func TestWritePDFVerbatim(t *testing.T) {
	values := []string{"{nb}", "(paren) \\backslash )(", "=SUM(A1)", "{pages}", "%PDF-1.4 endobj"}
	fields := map[string]string{}
	header := make([]string, len(values))
	for i, v := range values {
		header[i] = fmt.Sprintf("f%d", i)
		fields[header[i]] = v
	}
	fields["controls"] = "tab\there\r\nnext\x00line"
	header = append(header, "controls")
	rec := Record{Bucket: "b", Key: "k", Row: 2, Header: header, Fields: fields}
	text := pdfText(t, pdfVolumes(t, pdfCompleteMeta, pdfRecordsOf([]Record{rec}), 0)[0])
	for i, v := range values {
		wantText(t, text, header[i]+" "+v)
	}
	wantText(t, text, "tab here next\uFFFDline")
}

func TestWritePDFLongTable(t *testing.T) {
	header := []string{"Name", "E-mail", "Phone", "Street", "City", "Postcode", "Country", "Notes"}
	var recs []Record
	for i := range 40 {
		recs = append(recs, Record{
			Bucket: "acme-leads", Key: "2024/long.csv", Row: int64(i + 2), Header: header,
			Fields: map[string]string{
				"Name": fmt.Sprintf("Person %02d", i), "E-mail": "p@example.com", "Phone": "+1 415 555 0134",
				"Street": "1 Long Road", "City": "Springfield", "Postcode": "12345", "Country": "US",
				"Notes": strings.Repeat("a note that wraps over several lines of its cell ", 4),
			},
			MatchedOn: []string{"email"},
		})
	}
	pages := pdfPages(t, pdfVolumes(t, pdfCompleteMeta, pdfRecordsOf(recs), 0)[0])

	t.Run("headers repeat", func(t *testing.T) {
		var table []int // pages of the table
		for i, p := range pages {
			if strings.Contains(p, "Record ") {
				table = append(table, i)
			}
		}
		if len(table) < 3 {
			t.Fatalf("table spans %d pages, want 3 or more", len(table))
		}
		first := pages[table[0]]
		wantText(t, first, "List: acme-leads/2024/long.csv Campaign", "Field Value Field Value Record 1 of 40")
		for _, i := range table[1:] {
			// The heading, then the header row, open the page.
			if p := pages[i]; !strings.HasPrefix(p, "List: acme-leads/2024/long.csv (continued) Field Value Field Value") {
				t.Errorf("page %d begins %.120q, want the table's heading and header row", i+1, p)
			}
		}
	})
	t.Run("page numbers", func(t *testing.T) {
		for i, p := range pages {
			wantText(t, p, fmt.Sprintf("Page %d of %d", i+1, len(pages)))
			wantText(t, p, "Request req-2024-0042 · Volume 1 of 1")
		}
	})
	t.Run("every record", func(t *testing.T) {
		text := strings.Join(pages, "\n")
		for i := range recs {
			wantText(t, text, fmt.Sprintf("Record %d of 40 · row %d", i+1, i+2), fmt.Sprintf("Person %02d", i))
		}
	})
}

// TestWritePDFTallRow checks that a cell longer than a page is split over
// pages, none of its text lost.
func TestWritePDFTallRow(t *testing.T) {
	var words []string
	for i := range 1500 {
		words = append(words, fmt.Sprintf("word%04d", i))
	}
	rec := Record{Bucket: "b", Key: "k", Row: 2, Header: []string{"Notes"},
		Fields: map[string]string{"Notes": strings.Join(words, " ")}}
	pages := pdfPages(t, pdfVolumes(t, pdfCompleteMeta, pdfRecordsOf([]Record{rec}), 0)[0])
	text := strings.Join(pages, "\n")
	for _, w := range words {
		if !strings.Contains(text, w) {
			t.Fatalf("text lacks %q", w)
		}
	}
	if !strings.Contains(text, "Record 1 of 1 · row 2 · matched on: (not recorded) (continued)") {
		t.Errorf("no page names the record it continues")
	}
}

func TestWritePDFVolumes(t *testing.T) {
	var recs []Record
	for i := range 7 {
		recs = append(recs, Record{
			Bucket: "acme-leads", Key: "2024/spring.csv", Row: int64(i + 2), Header: []string{"Name"},
			Fields: map[string]string{"Name": fmt.Sprintf("Person-%d", i+1)},
		})
	}
	vols := pdfVolumes(t, pdfMeta, pdfRecordsOf(recs), 3)
	if len(vols) != 3 {
		t.Fatalf("volumes = %d, want 3", len(vols))
	}
	for i, first := range []int{1, 4, 7} {
		last := min(first+2, 7)
		text := pdfText(t, vols[i])
		wantText(t, text,
			fmt.Sprintf("Volume Volume %d of 3", i+1),
			fmt.Sprintf("Request req-2024-0042 · Volume %d of 3", i+1),
			"Records in this export 7",
			fmt.Sprintf("Records in this volume %d to %d", first, last),
			"The export is in 3 volumes.",
			"The search was NOT complete.",
			"acme-leads/2023/archive.numbers",
			"List: acme-leads/2024/spring.csv",
		)
		got := strings.Count(text, " of 7 · row ")
		if want := last - first + 1; got != want {
			t.Errorf("volume %d holds %d records, want %d", i+1, got, want)
		}
		for n := 1; n <= 7; n++ {
			in := strings.Contains(text, fmt.Sprintf("Person-%d", n))
			if want := n >= first && n <= last; in != want {
				t.Errorf("volume %d has Person-%d = %v, want %v", i+1, n, in, want)
			}
		}
	}
}

func TestWritePDFNoRecords(t *testing.T) {
	tests := []struct {
		name string
		meta Meta
		want string
	}{
		{"complete", pdfCompleteMeta, "No records were found on you."},
		{"incomplete", pdfMeta, "No records were found on you in the lists that could be read. The search was not complete"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vols := pdfVolumes(t, tc.meta, pdfRecordsOf(nil), 3)
			if len(vols) != 1 {
				t.Fatalf("volumes = %d, want 1", len(vols))
			}
			wantText(t, pdfText(t, vols[0]), tc.want, "Volume Volume 1 of 1", "Records in this export 0",
				"Records in this volume none", "Page 1 of 2", "Page 2 of 2")
		})
	}
}

// TestWritePDFStreams checks that a volume is written, and its writer
// closed, before the next volume's first record is read.
func TestWritePDFStreams(t *testing.T) {
	const per, total = 2, 5
	var closed []*pdfFile
	pass := 0
	recs := func(fn func(Record) error) error {
		pass++
		for i := range total {
			if pass == 2 {
				done := 0
				for _, f := range closed {
					done += f.closed
				}
				if want := i / per; done != want {
					t.Errorf("reading record %d: %d volumes closed, want %d", i+1, done, want)
				}
			}
			if err := fn(Record{Bucket: "b", Key: "k", Row: int64(i)}); err != nil {
				return err
			}
		}
		return nil
	}
	n, err := WritePDF(pdfCompleteMeta, recs, per, func(int) (io.WriteCloser, error) {
		f := &pdfFile{}
		closed = append(closed, f)
		return f, nil
	})
	if err != nil || n != 3 {
		t.Fatalf("WritePDF = %d, %v, want 3, nil", n, err)
	}
	if pass != 2 {
		t.Errorf("Records called %d times, want 2", pass)
	}
}

func TestWritePDFErrors(t *testing.T) {
	boom := errors.New("index unavailable")
	disk := errors.New("disk full")
	const secret = "Zoë-SECRET-415-555-0134"
	// records streams n records on the first pass and m on the second,
	// failing after fail of them on pass failPass.
	records := func(n, m, failPass, fail int) Records {
		pass := 0
		return func(fn func(Record) error) error {
			pass++
			count := n
			if pass > 1 {
				count = m
			}
			for i := range count {
				if pass == failPass && i == fail {
					return boom
				}
				r := Record{Bucket: "b", Key: "k", Row: int64(i), Header: []string{"Name"},
					Fields: map[string]string{"Name": secret}}
				if err := fn(r); err != nil {
					return err
				}
			}
			return nil
		}
	}
	tests := []struct {
		name   string
		recs   Records
		create func(volume int) (*pdfFile, error)
		want   error
		wantN  int
	}{
		{name: "records first pass", recs: records(5, 5, 1, 2), want: boom, wantN: 0},
		{name: "records second pass", recs: records(5, 5, 2, 3), want: boom, wantN: 1},
		{
			name: "create", recs: records(5, 5, 0, 0), want: disk, wantN: 1,
			create: func(v int) (*pdfFile, error) {
				if v == 2 {
					return nil, disk
				}
				return &pdfFile{}, nil
			},
		},
		{
			name: "write", recs: records(5, 5, 0, 0), want: disk, wantN: 0,
			create: func(int) (*pdfFile, error) { return &pdfFile{writeErr: disk}, nil },
		},
		{
			name: "close", recs: records(5, 5, 0, 0), want: disk, wantN: 1,
			create: func(v int) (*pdfFile, error) {
				if v == 2 {
					return &pdfFile{closeErr: disk}, nil
				}
				return &pdfFile{}, nil
			},
		},
		{name: "more on second pass", recs: records(5, 6, 0, 0), want: ErrRecordsChanged, wantN: 1},
		{name: "fewer on second pass", recs: records(5, 4, 0, 0), want: ErrRecordsChanged, wantN: 1},
		{name: "none on second pass", recs: records(5, 0, 0, 0), want: ErrRecordsChanged, wantN: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var files []*pdfFile
			n, err := WritePDF(pdfMeta, tc.recs, 3, func(v int) (io.WriteCloser, error) {
				create := tc.create
				if create == nil {
					create = func(int) (*pdfFile, error) { return &pdfFile{}, nil }
				}
				f, err := create(v)
				if err != nil {
					return nil, err
				}
				files = append(files, f)
				return f, nil
			})
			if !errors.Is(err, tc.want) || n != tc.wantN {
				t.Fatalf("WritePDF = %d, %v, want %d, %v", n, err, tc.wantN, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows a field value", err)
			}
			for i, f := range files {
				if f.closed != 1 {
					t.Errorf("writer %d closed %d times, want 1", i+1, f.closed)
				}
			}
		})
	}
}

// TestWritePDFIdempotent checks that the same input gives the same bytes,
// also when two exports are written at once.
func TestWritePDFIdempotent(t *testing.T) {
	const writes = 4
	got := make([][][]byte, writes)
	var wg sync.WaitGroup
	for i := range writes {
		wg.Go(func() {
			var files []*pdfFile
			_, err := WritePDF(pdfMeta, pdfRecordsOf(pdfRecords()), 2, func(int) (io.WriteCloser, error) {
				f := &pdfFile{}
				files = append(files, f)
				return f, nil
			})
			if err != nil {
				t.Errorf("WritePDF: %v", err)
			}
			for _, f := range files {
				got[i] = append(got[i], f.Bytes())
			}
		})
	}
	wg.Wait()
	if len(got[0]) != 3 {
		t.Fatalf("volumes = %d, want 3", len(got[0]))
	}
	for i := 1; i < writes; i++ {
		for v := range got[0] {
			if !bytes.Equal(got[i][v], got[0][v]) {
				t.Errorf("write %d volume %d differs from write 1", i+1, v+1)
			}
		}
	}
	// The document's dates are the answer's, not the clock's.
	if !bytes.Contains(got[0][0], []byte("/CreationDate (D:20240315160512)")) {
		t.Errorf("volume 1 has no CreationDate of the answer's time")
	}
}

// FuzzWritePDF checks that no field name or value, however malformed,
// fails or panics the writer.
func FuzzWritePDF(f *testing.F) {
	f.Add("Name", "Zoë Ångström")
	f.Add("", "")
	f.Add("\xe2\x82", "truncated \xe2\x82")
	f.Add("emoji 😀", "😀\U0010FFFF\uFFFF")
	f.Add("\x00\x1b[31m", "\r\n\r\t\x7f\u0085\u2028")
	f.Add("{nb}", "\r{pages}\r")
	f.Add("(", strings.Repeat("long-unbroken-value", 400))
	f.Fuzz(func(t *testing.T, name, value string) {
		rec := Record{Bucket: name, Key: value, Sheet: value, Campaign: value, Row: 2, Header: []string{name},
			Fields: map[string]string{name: value, value: name}, MatchedOn: []string{name}}
		meta := pdfMeta
		meta.Request.ID = value
		var out pdfFile
		n, err := WritePDF(meta, pdfRecordsOf([]Record{rec}), 0, func(int) (io.WriteCloser, error) { return &out, nil })
		if err != nil || n != 1 {
			t.Fatalf("WritePDF = %d, %v, want 1, nil", n, err)
		}
		if b := out.Bytes(); !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("%%EOF")) {
			t.Fatalf("output is not a whole PDF")
		}
	})
}

// ExampleWritePDF writes an export of seven records in volumes of three,
// each to a file of its own.
func ExampleWritePDF() {
	dir, err := os.MkdirTemp("", "export")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	recs := func(fn func(Record) error) error {
		for i := range 7 {
			r := Record{Bucket: "acme-leads", Key: "2024/spring.csv", Row: int64(i + 2),
				Header: []string{"Name"}, Fields: map[string]string{"Name": "Zoë Ångström"}, MatchedOn: []string{"name"}}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
	n, err := WritePDF(pdfCompleteMeta, recs, 3, func(volume int) (io.WriteCloser, error) {
		name := fmt.Sprintf("export-%d.pdf", volume)
		fmt.Println("writing", name)
		return os.Create(filepath.Join(dir, name))
	})
	fmt.Println(n, "volumes", err)
	// Output:
	// writing export-1.pdf
	// writing export-2.pdf
	// writing export-3.pdf
	// 3 volumes <nil>
}

// pdfBenchRecords streams n ten-field records of one list.
func pdfBenchRecords(n int) Records {
	header := []string{"Name", "E-mail", "Phone", "Street", "City", "Postcode", "Country", "Birthday", "Source", "Notes"}
	return func(fn func(Record) error) error {
		for i := range n {
			r := Record{
				Bucket: "acme-leads", Key: "2024/big.csv", Row: int64(i + 2), Header: header,
				Fields: map[string]string{
					"Name": fmt.Sprintf("Łukasz Żółć %d", i), "E-mail": "lukasz@example.com",
					"Phone": "+48 22 555 0134", "Street": "ul. Długa 12", "City": "Warszawa",
					"Postcode": "00-238", "Country": "PL", "Birthday": "1985-04-12", "Source": "trade fair",
					"Notes": "met at the stand, asked for a catalogue",
				},
				MatchedOn: []string{"email"},
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// pdfDiscard is a volume writer that keeps nothing.
type pdfDiscard struct{}

func (pdfDiscard) Write(p []byte) (int, error) { return len(p), nil }
func (pdfDiscard) Close() error                { return nil }

// BenchmarkWritePDF renders 1,000 ten-field records in volumes of
// DefaultPDFVolume, and reports the live heap when a volume is complete
// (fpdf's peak: the whole document in memory), over the heap before.
func BenchmarkWritePDF(b *testing.B) {
	const records = 1000
	recs := pdfBenchRecords(records)
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		b.StartTimer()
		_, err := WritePDF(pdfCompleteMeta, recs, 0, func(int) (io.WriteCloser, error) {
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
			b.StartTimer()
			return pdfDiscard{}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
