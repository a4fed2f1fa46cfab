package leads

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
)

// TestHeaderlessList: a list whose first row is a consumer's data is read
// with a synthesized header, and every row, the first included, is a
// record whose byte range reads back alone.
func TestHeaderlessList(t *testing.T) {
	type rec struct {
		line   int
		offset int64
		fields []string
	}
	cols := func(n int) []string { return ColumnNames(n) }
	tests := []struct {
		name       string
		prefix     []byte
		enc        encoding.Encoding
		text       string
		wantHeader []string
		want       []rec
	}{
		{name: "first row with a blank phone",
			text:       "Ann,Lee,,ann@example.com\nBob,Ray,(212) 555-0101,bob@example.com\n",
			wantHeader: cols(4),
			want: []rec{
				{1, 0, []string{"Ann", "Lee", "", "ann@example.com"}},
				{2, 25, []string{"Bob", "Ray", "(212) 555-0101", "bob@example.com"}},
			}},
		{name: "a row of names below data is no header",
			text:       "Ann,Lee,,ann@example.com\nBob,Ray,(212) 555-0101,bob@example.com\nCy,Doe,,\nDee,Fox,212.555.0102,dee@example.com\n",
			wantHeader: cols(4),
			want: []rec{
				{1, 0, []string{"Ann", "Lee", "", "ann@example.com"}},
				{2, 25, []string{"Bob", "Ray", "(212) 555-0101", "bob@example.com"}},
				{3, 64, []string{"Cy", "Doe", "", ""}},
				{4, 73, []string{"Dee", "Fox", "212.555.0102", "dee@example.com"}},
			}},
		{name: "names first, then data",
			text:       "Ann,Lee,,\nBob,Ray,(212) 555-0101,bob@example.com\n",
			wantHeader: cols(4),
			want: []rec{
				{1, 0, []string{"Ann", "Lee", "", ""}},
				{2, 10, []string{"Bob", "Ray", "(212) 555-0101", "bob@example.com"}},
			}},
		{name: "data first",
			text:       "Ann,2125559999\nBob,3125550000\n",
			wantHeader: cols(2),
			want:       []rec{{1, 0, []string{"Ann", "2125559999"}}, {2, 15, []string{"Bob", "3125550000"}}}},
		{name: "email first",
			text:       "ann@example.com,x\n",
			wantHeader: cols(2),
			want:       []rec{{1, 0, []string{"ann@example.com", "x"}}}},
		{name: "phones only",
			text:       "4155550100\n+1 415 555 0101\n",
			wantHeader: cols(1),
			want:       []rec{{1, 0, []string{"4155550100"}}, {2, 11, []string{"+1 415 555 0101"}}}},
		{name: "customer IDs and ZIP codes",
			text:       "Ann;Lee;C-1001;62704\r\nBob;Ray;C-1002;62705\r\n",
			wantHeader: cols(4),
			want: []rec{
				{1, 0, []string{"Ann", "Lee", "C-1001", "62704"}},
				{2, 22, []string{"Bob", "Ray", "C-1002", "62705"}},
			}},
		{name: "BOM, blank lines and CRLF",
			prefix:     bom,
			text:       "\r\n\r\nAnn,Lee,2125550100,ann@example.com\r\n\r\nBob,Ray,2125550101,bob@example.com\r\n",
			wantHeader: cols(4),
			want: []rec{
				{3, 7, []string{"Ann", "Lee", "2125550100", "ann@example.com"}},
				{5, 45, []string{"Bob", "Ray", "2125550101", "bob@example.com"}},
			}},
		{name: "UTF-16 LE with BOM",
			prefix:     []byte{0xFF, 0xFE},
			enc:        utf16le,
			text:       "Zoë\tØrsted\t\tzoe@example.com\r\nJosé\tMüller\t415-555-0166\tjose@example.com\r\n",
			wantHeader: cols(4),
			want: []rec{
				{1, 2, []string{"Zoë", "Ørsted", "", "zoe@example.com"}},
				{2, 2 + 2*29, []string{"José", "Müller", "415-555-0166", "jose@example.com"}},
			}},
		{name: "a wider first row names every column",
			text:       "Ann,Lee,2125550100,ann@example.com,VIP\nBob,Ray,2125550101,bob@example.com\n",
			wantHeader: cols(5),
			want: []rec{
				{1, 0, []string{"Ann", "Lee", "2125550100", "ann@example.com", "VIP"}},
				{2, 39, []string{"Bob", "Ray", "2125550101", "bob@example.com"}},
			}},
		{name: "a quoted line break in the first row",
			text:       "\"Lee, Ann\",\"1 Main St\nApt 2\",ann@example.com\nBob Ray,2 Elm St,bob@example.com\n",
			wantHeader: cols(3),
			want: []rec{
				{1, 0, []string{"Lee, Ann", "1 Main St\nApt 2", "ann@example.com"}},
				{3, 45, []string{"Bob Ray", "2 Elm St", "bob@example.com"}},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			input := append(append([]byte(nil), tc.prefix...), encode(t, tc.enc, tc.text)...)
			rd, recs := readEncoded(t, input, Options{RequireRows: true})
			if rd.HeaderLine() != 0 || !reflect.DeepEqual(rd.Header(), tc.wantHeader) {
				t.Fatalf("header = %q at line %d, want %q at line 0", rd.Header(), rd.HeaderLine(), tc.wantHeader)
			}
			if len(recs) != len(tc.want) {
				t.Fatalf("%d records, want %d", len(recs), len(tc.want))
			}
			for i, w := range tc.want {
				got := recs[i]
				if got.Number != int64(i+1) || got.Line != w.line || got.Offset != w.offset || !reflect.DeepEqual(got.Fields, w.fields) {
					t.Fatalf("record %d = %d at line %d offset %d %q, want %d at line %d offset %d %q",
						i, got.Number, got.Line, got.Offset, got.Fields, i+1, w.line, w.offset, w.fields)
				}
				if wantRagged := len(w.fields) != len(tc.wantHeader); got.Ragged != wantRagged {
					t.Fatalf("record %d Ragged = %v, want %v", got.Number, got.Ragged, wantRagged)
				}
			}
			if rd.Count() != int64(len(tc.want)) {
				t.Fatalf("Count = %d, want %d", rd.Count(), len(tc.want))
			}
		})
	}
}

// TestHeaderlessOneRowIsNotHeaderOnly: with RequireRows, a headerless
// list of one consumer is that consumer's record, not ErrHeaderOnly.
func TestHeaderlessOneRowIsNotHeaderOnly(t *testing.T) {
	input := "Ann,Lee,,ann@example.com\n"
	rd, err := NewReader(strings.NewReader(input), Options{RequireRows: true})
	if err != nil {
		t.Fatalf("NewReader error = %v, want nil", err)
	}
	rec, err := rd.Next()
	if err != nil || rec.Number != 1 || rec.Line != 1 || rec.Offset != 0 || rec.Length != int64(len(input)) {
		t.Fatalf("Next = record %d line %d [%d,+%d), %v; want record 1 line 1 [0,+%d), nil",
			rec.Number, rec.Line, rec.Offset, rec.Length, err, len(input))
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Fatalf("Next at the end = %v, want io.EOF", err)
	}
}

// TestHeaderIsKept: headers with digits in their names, and preambles
// whose lines hold dates, counts or an address, still give the header.
func TestHeaderIsKept(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		wantHeader []string
		wantLine   int
		wantFirst  []string
	}{
		{name: "numbered and abbreviated names",
			input:      "Phone 1,Phone 2,Zip,2024 Score,Cust ID\n2125550100,2125550101,62704,87,C-1001\n",
			wantHeader: []string{"Phone 1", "Phone 2", "Zip", "2024 Score", "Cust ID"}, wantLine: 1,
			wantFirst: []string{"2125550100", "2125550101", "62704", "87", "C-1001"}},
		{name: "header with a ZIP+4 and a scored year",
			input:      "First,Last,Phone,Email,ZIP+4,Score 2024\nAnn,Lee,,ann@example.com,62704-1234,x\n",
			wantHeader: []string{"First", "Last", "Phone", "Email", "ZIP+4", "Score 2024"}, wantLine: 1,
			wantFirst: []string{"Ann", "Lee", "", "ann@example.com", "62704-1234", "x"}},
		{name: "first data row with a blank phone",
			input:      "First,Last,Phone,Email\nAnn,Lee,,ann@example.com\nBob,Ray,(212) 555-0101,bob@example.com\n",
			wantHeader: []string{"First", "Last", "Phone", "Email"}, wantLine: 1,
			wantFirst: []string{"Ann", "Lee", "", "ann@example.com"}},
		{name: "header with unnamed columns",
			input:      "First,Last,Phone,,\nAnn,Lee,2125550100,x,y\n",
			wantHeader: []string{"First", "Last", "Phone", "", ""}, wantLine: 1,
			wantFirst: []string{"Ann", "Lee", "2125550100", "x", "y"}},
		{name: "a wide preamble line with a date",
			input:      "Exported,2026-01-05,by,admin\nname,phone,email,zip\nAnn,4155550100,ann@example.com,62704\n",
			wantHeader: []string{"name", "phone", "email", "zip"}, wantLine: 2,
			wantFirst: []string{"Ann", "4155550100", "ann@example.com", "62704"}},
		{name: "US dates in the preamble",
			input:      "Leads,01/05/2026,to,02/05/2026\nname,phone,email,zip\nAnn,4155550100,ann@example.com,62704\n",
			wantHeader: []string{"name", "phone", "email", "zip"}, wantLine: 2,
			wantFirst: []string{"Ann", "4155550100", "ann@example.com", "62704"}},
		{name: "the exporter's address in a narrow preamble line",
			input:      "Exported by,ops@example.com,,\nname,phone,email,zip\nAnn,4155550100,ann@example.com,62704\n",
			wantHeader: []string{"name", "phone", "email", "zip"}, wantLine: 2,
			wantFirst: []string{"Ann", "4155550100", "ann@example.com", "62704"}},
		{name: "a time stamp in the preamble",
			input:      "Run,2026-01-05 10:30:00,rows,2\nname,phone,email,zip\nAnn,4155550100,ann@example.com,62704\n",
			wantHeader: []string{"name", "phone", "email", "zip"}, wantLine: 2,
			wantFirst: []string{"Ann", "4155550100", "ann@example.com", "62704"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd, recs := readEncoded(t, []byte(tc.input), Options{})
			if !reflect.DeepEqual(rd.Header(), tc.wantHeader) || rd.HeaderLine() != tc.wantLine {
				t.Fatalf("header = %q at line %d, want %q at line %d", rd.Header(), rd.HeaderLine(), tc.wantHeader, tc.wantLine)
			}
			if len(recs) == 0 || !reflect.DeepEqual(recs[0].Fields, tc.wantFirst) || recs[0].Number != 1 {
				t.Fatalf("first record = %+v, want record 1 %q", recs, tc.wantFirst)
			}
		})
	}
}

func TestDetectHeader(t *testing.T) {
	rows := func(lines ...string) [][]string {
		var out [][]string
		for _, l := range lines {
			out = append(out, strings.Split(l, ","))
		}
		return out
	}
	tests := []struct {
		name string
		rows [][]string
		want int // Headerless, or -2 for ErrNoHeader
	}{
		{"header", rows("name,phone", "Ann,2125550100"), 0},
		{"title above the header", rows("Leads Q1,,,", "First,Last,Phone,Email", "Ann,Lee,2125550100,a@example.com"), 1},
		{"email in the first row", rows("Ann,Lee,,ann@example.com", "Bob,Ray,2125550101,bob@example.com"), Headerless},
		{"phone in the first row", rows("Ann,Lee,(212) 555-0100,", "Bob,Ray,2125550101,bob@example.com"), Headerless},
		{"account number in the first row", rows("Ann,Lee,0042 1234 5678,NY"), Headerless},
		{"ZIP in the first row", rows("Ann,Lee,62704,IL"), Headerless},
		{"data above a row of names", rows("Ann,Lee,,a@example.com", "Cy,Doe,,"), Headerless},
		{"sparse rows of emails", rows("ann@example.com,,,", "bob@example.com,,,"), Headerless},
		{"header with unnamed columns", rows("First,Last,Phone,,", "Ann,Lee,2125550100,x,y"), 0},
		{"header naming one data column of two", rows("First,Last,,Email", "Ann,Lee,2125550100,a@example.com"), 0},
		{"names over blank data columns", rows("Ann,Lee,,", "Bob,Ray,2125550101,bob@example.com"), Headerless},
		{"exporter's address above the header", rows("Exported by,ops@example.com,,", "name,phone,email,zip", "Ann,4155550100,a@example.com,62704"), 1},
		{"blank names", rows(" , ,", "1,2,3"), -2},
		{"only small numbers", rows("1,2,3", "4,5,6"), -2},
		{"nothing", nil, -2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DetectHeader(tc.rows)
			if tc.want == -2 {
				if !errors.Is(err, ErrNoHeader) {
					t.Fatalf("DetectHeader = %d, %v; want ErrNoHeader", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("DetectHeader = %d, %v; want %d, nil", got, err, tc.want)
			}
			// FindHeader keeps its contract: a header's index, else
			// ErrNoHeader.
			h, err := FindHeader(tc.rows)
			if tc.want == Headerless && !errors.Is(err, ErrNoHeader) || tc.want != Headerless && (err != nil || h != tc.want) {
				t.Fatalf("FindHeader = %d, %v; want %d", h, err, tc.want)
			}
		})
	}
}

func TestColumnNames(t *testing.T) {
	if got, want := ColumnNames(3), []string{"Column 1", "Column 2", "Column 3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ColumnNames(3) = %q, want %q", got, want)
	}
	if got := ColumnNames(0); len(got) != 0 {
		t.Fatalf("ColumnNames(0) = %q, want none", got)
	}
}

// FuzzHeaderlessList builds a headerless list in which every row holds a
// phone number or an email address (as agents leave other cells blank)
// and checks that each row is a record, the first included, whose byte
// range reads back to its fields. The oracle is the rows written, not a
// second reading.
func FuzzHeaderlessList(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(4), uint8(3), uint8(0))
	f.Add([]byte{3, 3, 0, 0, 9, 9, 1, 2}, uint8(3), uint8(1), uint8(1))
	f.Add([]byte{7, 0, 0, 0, 2, 5, 5, 5, 8, 1, 1, 1}, uint8(1), uint8(12), uint8(2))
	f.Add([]byte("\x00\x0b\x0c\x0d\x0e"), uint8(6), uint8(40), uint8(7))
	cells := []string{
		"", "", "Ann", "Lee", "José Müller", "C-1001", "62704", "NY", "x",
		"\"Lee, Ann\"", "\"1 Main St\nApt 2\"", "\"say \"\"hi\"\"\"",
	}
	ids := []string{"(212) 555-0101", "2125550102", "+1 415 555 0100", "415.555.0166", "ann@example.com", "BOB@Example.org"}
	f.Fuzz(func(t *testing.T, choice []byte, cols, rows, style uint8) {
		d := candidates[int(style)%len(candidates)]
		eol := []string{"\n", "\r\n"}[style>>2&1]
		ncols := 1 + int(cols)%6
		nrows := 1 + int(rows)%40
		pick := func(i int) int {
			if len(choice) == 0 {
				return i
			}
			return int(choice[i%len(choice)]) + i/len(choice)
		}
		var b strings.Builder
		if style&8 != 0 {
			b.Write(bom)
		}
		var want [][]string
		k := 0
		for r := range nrows {
			row := make([]string, ncols)
			for c := range row {
				row[c] = cells[pick(k)%len(cells)]
				k++
			}
			row[pick(k)%ncols] = ids[pick(k+1)%len(ids)]
			k += 2
			b.WriteString(strings.Join(row, string(d)) + eol)
			if style&16 != 0 && r%3 == 0 {
				b.WriteString(eol) // a blank line
			}
			for c, v := range row {
				if strings.HasPrefix(v, `"`) {
					row[c] = strings.ReplaceAll(v[1:len(v)-1], `""`, `"`)
				}
			}
			want = append(want, row)
		}
		input := []byte(b.String())
		rd, err := NewReader(bytes.NewReader(input), Options{Delimiter: rune(d), RequireRows: true})
		if err != nil {
			t.Fatalf("NewReader error = %v for %q", err, input)
		}
		if rd.HeaderLine() != 0 || !reflect.DeepEqual(rd.Header(), ColumnNames(ncols)) {
			t.Fatalf("header = %q at line %d, want %q at line 0 for %q", rd.Header(), rd.HeaderLine(), ColumnNames(ncols), input)
		}
		prevEnd := int64(0)
		if style&8 != 0 {
			prevEnd = int64(len(bom))
		}
		for i, w := range want {
			rec, err := rd.Next()
			if err != nil {
				t.Fatalf("record %d: Next error = %v for %q", i+1, err, input)
			}
			if rec.Number != int64(i+1) || !reflect.DeepEqual(rec.Fields, w) {
				t.Fatalf("record %d = %d %q, want %q", i+1, rec.Number, rec.Fields, w)
			}
			// Only blank lines lie between two records.
			if gap := input[prevEnd:rec.Offset]; len(bytes.Trim(gap, "\r\n")) != 0 {
				t.Fatalf("record %d starts at %d after %q, not a blank line", rec.Number, rec.Offset, gap)
			}
			prevEnd = rec.Offset + rec.Length
			back, err := ParseRecord(input[rec.Offset:prevEnd], rd.Header(), rd.Options())
			if err != nil || !reflect.DeepEqual(back.Fields, w) {
				t.Fatalf("record %d: ParseRecord(%q) = %q, %v; want %q", rec.Number, input[rec.Offset:prevEnd], back.Fields, err, w)
			}
		}
		if _, err := rd.Next(); err != io.EOF {
			t.Fatalf("Next after the last row = %v, want io.EOF", err)
		}
	})
}
