package leads

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// readAll reads every record of input, copying fields, and checks that each
// record's byte range slices back to its raw text and re-parses to its
// fields. It stops at the first error.
func readAll(t *testing.T, input string, opts Options) (*Reader, [][]string, error) {
	t.Helper()
	rd, err := NewReader(strings.NewReader(input), opts)
	if err != nil {
		return nil, nil, err
	}
	var got [][]string
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return rd, got, nil
		}
		if err != nil {
			return rd, got, err
		}
		checkRange(t, input, rd, rec)
		got = append(got, append([]string(nil), rec.Fields...))
	}
}

// checkRange asserts the byte-range contract of one record.
func checkRange(t *testing.T, input string, rd *Reader, rec Record) {
	t.Helper()
	if rec.Offset < 0 || rec.Offset+rec.Length > int64(len(input)) {
		t.Fatalf("record %d range [%d,+%d) outside input of %d bytes", rec.Number, rec.Offset, rec.Length, len(input))
	}
	slice := input[rec.Offset : rec.Offset+rec.Length]
	if slice != string(rec.Raw) {
		t.Fatalf("record %d: input[range] = %q, want Raw %q", rec.Number, slice, rec.Raw)
	}
	back, err := ParseRecord([]byte(slice), rd.Header(), rd.Options())
	if err != nil {
		t.Fatalf("record %d: ParseRecord(%q) error = %v", rec.Number, slice, err)
	}
	if !reflect.DeepEqual(back.Fields, rec.Fields) {
		t.Fatalf("record %d: ParseRecord fields = %q, want %q", rec.Number, back.Fields, rec.Fields)
	}
	if back.Ragged != rec.Ragged {
		t.Fatalf("record %d: ParseRecord Ragged = %v, want %v", rec.Number, back.Ragged, rec.Ragged)
	}
}

func TestReaderRecordsAndRanges(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		wantDelim  rune
		wantHeader []string
		want       [][]string
		wantRaw    []string
	}{
		{
			name:       "LF",
			input:      "name,phone\nAnn,2125551234\nBob,3125550000\n",
			wantDelim:  ',',
			wantHeader: []string{"name", "phone"},
			want:       [][]string{{"Ann", "2125551234"}, {"Bob", "3125550000"}},
			wantRaw:    []string{"Ann,2125551234\n", "Bob,3125550000\n"},
		},
		{
			name:       "CRLF",
			input:      "name,phone\r\nAnn,2125551234\r\nBob,3125550000\r\n",
			wantDelim:  ',',
			wantHeader: []string{"name", "phone"},
			want:       [][]string{{"Ann", "2125551234"}, {"Bob", "3125550000"}},
			wantRaw:    []string{"Ann,2125551234\r\n", "Bob,3125550000\r\n"},
		},
		{
			name:       "BOM and no final newline",
			input:      "\xEF\xBB\xBFname,phone\nAnn,2125551234\nBob,3125550000",
			wantDelim:  ',',
			wantHeader: []string{"name", "phone"},
			want:       [][]string{{"Ann", "2125551234"}, {"Bob", "3125550000"}},
			wantRaw:    []string{"Ann,2125551234\n", "Bob,3125550000"},
		},
		{
			name:       "BOM CRLF quoted newline",
			input:      "\xEF\xBB\xBFname,notes\r\n\"Ann\",\"line one\r\nline, two\"\r\nBob,\"say \"\"hi\"\"\"\r\n",
			wantDelim:  ',',
			wantHeader: []string{"name", "notes"},
			want:       [][]string{{"Ann", "line one\nline, two"}, {"Bob", `say "hi"`}},
			wantRaw:    []string{"\"Ann\",\"line one\r\nline, two\"\r\n", "Bob,\"say \"\"hi\"\"\"\r\n"},
		},
		{
			name:       "blank lines are skipped and not in any range",
			input:      "\n\r\nname,phone\n\nAnn,1\r\n\r\n\nBob,2\n\n",
			wantDelim:  ',',
			wantHeader: []string{"name", "phone"},
			want:       [][]string{{"Ann", "1"}, {"Bob", "2"}},
			wantRaw:    []string{"Ann,1\r\n", "Bob,2\n"},
		},
		{
			name:       "semicolon with decimal commas",
			input:      "name;amount;phone\nAnn;1,50;212-555-1234\nBob;2,75;312.555.0000\n",
			wantDelim:  ';',
			wantHeader: []string{"name", "amount", "phone"},
			want:       [][]string{{"Ann", "1,50", "212-555-1234"}, {"Bob", "2,75", "312.555.0000"}},
			wantRaw:    []string{"Ann;1,50;212-555-1234\n", "Bob;2,75;312.555.0000\n"},
		},
		{
			name:       "tab",
			input:      "name\tcity\n\"Doe, Ann\"\tNew York, NY\n",
			wantDelim:  '\t',
			wantHeader: []string{"name", "city"},
			want:       [][]string{{"Doe, Ann", "New York, NY"}},
			wantRaw:    []string{"\"Doe, Ann\"\tNew York, NY\n"},
		},
		{
			name:       "pipe",
			input:      "a|b|c\n1|2|3\n",
			wantDelim:  '|',
			wantHeader: []string{"a", "b", "c"},
			want:       [][]string{{"1", "2", "3"}},
			wantRaw:    []string{"1|2|3\n"},
		},
		{
			name:       "one column",
			input:      "email\nann@example.com\n",
			wantDelim:  ',',
			wantHeader: []string{"email"},
			want:       [][]string{{"ann@example.com"}},
			wantRaw:    []string{"ann@example.com\n"},
		},
		{
			name:       "trailing CR before EOF",
			input:      "a,b\n1,2\r",
			wantDelim:  ',',
			wantHeader: []string{"a", "b"},
			want:       [][]string{{"1", "2"}},
			wantRaw:    []string{"1,2\r"},
		},
		{
			name:       "CR inside unquoted field before CRLF",
			input:      "a,b\n1,2\r\r\n3,4\n",
			wantDelim:  ',',
			wantHeader: []string{"a", "b"},
			want:       [][]string{{"1", "2\r"}, {"3", "4"}},
			wantRaw:    []string{"1,2\r\r\n", "3,4\n"},
		},
		{
			name:       "multibyte UTF-8",
			input:      "nom,ville\nJosé,Zürich\n李,北京\n",
			wantDelim:  ',',
			wantHeader: []string{"nom", "ville"},
			want:       [][]string{{"José", "Zürich"}, {"李", "北京"}},
			wantRaw:    []string{"José,Zürich\n", "李,北京\n"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := NewReader(strings.NewReader(tc.input), Options{})
			if err != nil {
				t.Fatalf("NewReader error = %v, want nil", err)
			}
			if got := rd.Options().Delimiter; got != tc.wantDelim {
				t.Fatalf("delimiter = %q, want %q", got, tc.wantDelim)
			}
			if got := rd.Header(); !reflect.DeepEqual(got, tc.wantHeader) {
				t.Fatalf("header = %q, want %q", got, tc.wantHeader)
			}
			var got [][]string
			var raws []string
			for n := int64(1); ; n++ {
				rec, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("Next error = %v, want nil", err)
				}
				if rec.Number != n {
					t.Fatalf("Number = %d, want %d", rec.Number, n)
				}
				checkRange(t, tc.input, rd, rec)
				got = append(got, append([]string(nil), rec.Fields...))
				raws = append(raws, string(rec.Raw))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("records = %q, want %q", got, tc.want)
			}
			if !reflect.DeepEqual(raws, tc.wantRaw) {
				t.Fatalf("raw = %q, want %q", raws, tc.wantRaw)
			}
			if rd.Count() != int64(len(tc.want)) {
				t.Fatalf("Count = %d, want %d", rd.Count(), len(tc.want))
			}
		})
	}
}

func TestReaderLines(t *testing.T) {
	input := "a,b\n1,\"x\ny\"\n\n2,3\n"
	rd, err := NewReader(strings.NewReader(input), Options{})
	if err != nil {
		t.Fatalf("NewReader error = %v", err)
	}
	for _, want := range []int{2, 5} {
		rec, err := rd.Next()
		if err != nil {
			t.Fatalf("Next error = %v", err)
		}
		if rec.Line != want {
			t.Fatalf("record %d Line = %d, want %d", rec.Number, rec.Line, want)
		}
	}
}

func TestReaderRagged(t *testing.T) {
	input := "name,phone,email\nAnn,2125551234\nBob,3125550000,b@example.com,extra\nCy,1,c@example.com\n"
	rd, err := NewReader(strings.NewReader(input), Options{})
	if err != nil {
		t.Fatalf("NewReader error = %v", err)
	}
	want := []struct {
		fields []string
		ragged bool
	}{
		{[]string{"Ann", "2125551234"}, true},
		{[]string{"Bob", "3125550000", "b@example.com", "extra"}, true},
		{[]string{"Cy", "1", "c@example.com"}, false},
	}
	for _, w := range want {
		rec, err := rd.Next()
		if err != nil {
			t.Fatalf("Next error = %v", err)
		}
		if !reflect.DeepEqual(rec.Fields, w.fields) || rec.Ragged != w.ragged {
			t.Fatalf("record %d = %q ragged %v, want %q ragged %v", rec.Number, rec.Fields, rec.Ragged, w.fields, w.ragged)
		}
		checkRange(t, input, rd, rec)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name   string
		sample string
		atEOF  bool
		want   rune
	}{
		{"comma", "a,b,c\n1,2,3\n", true, ','},
		{"semicolon", "a;b;c\n1;2;3\n", true, ';'},
		{"tab", "a\tb\n1\t2\n", true, '\t'},
		{"pipe", "a|b\n1|2\n", true, '|'},
		{"semicolon with decimal commas", "name;amount\nx;1,5\ny;2,5\n", true, ';'},
		{"comma with semicolons in values", "name,notes\nx,a;b;c\ny,d\n", true, ','},
		{"quoted delimiters ignored", "\"a;b\",c\n\"1;2\",3\n", true, ','},
		{"quoted newline", "a;b\n\"x\ny,z\";1\n", true, ';'},
		{"header only", "a|b|c", true, '|'},
		{"none", "email\nx@example.com\n", true, ','},
		{"empty", "", true, ','},
		{"most fields wins a tie", "Last, First;Phone;Email\nDoe, J;1;x\n", true, ';'},
		{"cut-off last line ignored", "a;b\n1;2\n3,4,5,6", false, ';'},
		{"ragged rows", "a,b,c\n1,2,3\n1,2\n1,2,3\n", true, ','},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sniff([]byte(tc.sample), tc.atEOF); got != tc.want {
				t.Fatalf("Sniff(%q) = %q, want %q", tc.sample, got, tc.want)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	const secret = "2125559999"
	tests := []struct {
		name       string
		input      string
		opts       Options
		want       error // errors.Is target
		wantLine   int
		wantRecord int64
		wantField  int
		atNew      bool // error from NewReader rather than Next
	}{
		{name: "empty", input: "", want: ErrEmpty, atNew: true},
		{name: "BOM only", input: "\xEF\xBB\xBF", want: ErrEmpty, atNew: true},
		{name: "blank lines only", input: "\r\n\n\n", want: ErrEmpty, atNew: true},
		{name: "header only required rows", input: "name,phone\n", opts: Options{RequireRows: true}, want: ErrHeaderOnly, wantLine: 2, wantRecord: -1},
		{name: "no header: blank names", input: " , ,\n1,2,3\n", want: ErrNoHeader, wantLine: 1, atNew: true},
		{name: "no header: small numbers", input: "1,2,3\n4,5,6\n", want: ErrNoHeader, wantLine: 1, atNew: true},
		{name: "binary in sample", input: "PK\x03\x04\x14\x00\x00\x00", want: ErrBinary, wantLine: 1, wantRecord: -1, atNew: true},
		{name: "NUL after the sample", input: "a,b\n" + strings.Repeat("1,2\n", 20<<10) + "3,\x00" + secret + "\n", want: ErrBinary, wantLine: 20<<10 + 2, wantRecord: 20<<10 + 1, wantField: 2},
		{name: "field too large", input: "a,b\n1,2\n3," + strings.Repeat("x", 40) + "\n", opts: Options{MaxFieldBytes: 32, MaxRecordBytes: 1 << 20}, want: ErrFieldTooLarge, wantLine: 3, wantRecord: 2, wantField: 2},
		{name: "field too large past record limit", input: "a,b\n1,2\n3,\"" + strings.Repeat("x", 300<<10) + "\"\n", opts: Options{MaxFieldBytes: 100 << 10}, want: ErrFieldTooLarge, wantLine: 3, wantRecord: 2, wantField: 2},
		{name: "record too large", input: "a,b,c\n1,2,3\n" + strings.Repeat("x", 60<<10) + "," + strings.Repeat("y", 60<<10) + "," + strings.Repeat("z", 60<<10) + "\n", opts: Options{MaxFieldBytes: 64 << 10, MaxRecordBytes: 128 << 10}, want: ErrRecordTooLarge, wantLine: 3, wantRecord: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := NewReader(strings.NewReader(tc.input), tc.opts)
			if !tc.atNew && err != nil {
				t.Fatalf("NewReader error = %v, want nil", err)
			}
			if err == nil {
				if tc.atNew {
					t.Fatalf("NewReader error = nil, want %v", tc.want)
				}
				for err == nil {
					_, err = rd.Next()
				}
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "xxxx") {
				t.Fatalf("error %q holds the data", err)
			}
			var perr *ParseError
			if !errors.As(err, &perr) {
				if tc.wantLine != 0 {
					t.Fatalf("error %T, want *ParseError", err)
				}
				return
			}
			if perr.Line != tc.wantLine || perr.Record != tc.wantRecord || perr.Field != tc.wantField {
				t.Fatalf("error at line %d record %d field %d, want line %d record %d field %d",
					perr.Line, perr.Record, perr.Field, tc.wantLine, tc.wantRecord, tc.wantField)
			}
		})
	}
}

func TestReaderSmallRecordLimit(t *testing.T) {
	// A limit below the sniff sample must not fail a list of small records.
	input := "a,b\n" + strings.Repeat("1,2\n", 50_000)
	_, got, err := readAll(t, input, Options{MaxFieldBytes: 16, MaxRecordBytes: 64})
	if err != nil || len(got) != 50_000 {
		t.Fatalf("read %d records, error %v; want 50000, nil", len(got), err)
	}
}

func TestReaderHeaderOnlyIsNotAnError(t *testing.T) {
	rd, err := NewReader(strings.NewReader("\xEF\xBB\xBFname,phone\r\n"), Options{})
	if err != nil {
		t.Fatalf("NewReader error = %v, want nil", err)
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Fatalf("Next error = %v, want io.EOF", err)
	}
	if rd.Count() != 0 {
		t.Fatalf("Count = %d, want 0", rd.Count())
	}
}

func TestReaderContinuesAfterRecordError(t *testing.T) {
	// The NUL comes after the sample NewReader checks for binary content.
	pad := strings.Repeat("0,0\n", bufferSize/4)
	input := "a,b\n" + pad + "1,x\"y\n2,\xff\n3,\x00\n4,ok\n"
	rd, err := NewReader(strings.NewReader(input), Options{})
	if err != nil {
		t.Fatalf("NewReader error = %v", err)
	}
	for range bufferSize / 4 {
		if _, err := rd.Next(); err != nil {
			t.Fatalf("Next error = %v", err)
		}
	}
	// A bare quote is read leniently, a byte that is not UTF-8 as
	// Windows-1252; only the NUL makes a record unreadable.
	wantErrs := []error{nil, nil, ErrBinary, nil}
	for i, want := range wantErrs {
		i += bufferSize / 4
		rec, err := rd.Next()
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Fatalf("record %d error = %v, want %v", i+1, err, want)
		}
		if rec.Number != int64(i+1) {
			t.Fatalf("Number = %d, want %d", rec.Number, i+1)
		}
		if got := input[rec.Offset : rec.Offset+rec.Length]; got != string(rec.Raw) {
			t.Fatalf("input[range] = %q, want %q", got, rec.Raw)
		}
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Fatalf("Next error = %v, want io.EOF", err)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// repeatReader yields prefix, then n bytes of b, then suffix, without
// holding them in memory.
type repeatReader struct {
	prefix, suffix string
	b              byte
	n              int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if len(r.prefix) > 0 {
		k := copy(p, r.prefix)
		r.prefix = r.prefix[k:]
		return k, nil
	}
	if r.n > 0 {
		k := int64(len(p))
		if k > r.n {
			k = r.n
		}
		for i := range p[:k] {
			p[i] = r.b
		}
		r.n -= k
		return int(k), nil
	}
	if len(r.suffix) > 0 {
		k := copy(p, r.suffix)
		r.suffix = r.suffix[k:]
		return k, nil
	}
	return 0, io.EOF
}

func TestReaderHugeFieldIsOneUnreadableRow(t *testing.T) {
	src := &countingReader{r: &repeatReader{prefix: "name,notes\nAnn,\"", b: 'x', n: 10 << 20, suffix: "\"\nBob,ok\n"}}
	rd, err := NewReader(src, Options{})
	if err != nil {
		t.Fatalf("NewReader error = %v", err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rec, err := rd.Next()
	if !errors.Is(err, ErrFieldTooLarge) {
		t.Fatalf("Next error = %v, want ErrFieldTooLarge", err)
	}
	if rec.Number != 1 || rec.Line != 2 {
		t.Fatalf("unreadable record %d at line %d, want record 1 at line 2", rec.Number, rec.Line)
	}
	runtime.ReadMemStats(&after)
	if grew := int64(after.TotalAlloc - before.TotalAlloc); grew > 8*DefaultMaxFieldBytes {
		t.Fatalf("skipping a 10 MiB line allocated %d bytes, want at most %d", grew, 8*DefaultMaxFieldBytes)
	}
	rec, err = rd.Next()
	if err != nil || rec.Number != 2 || !reflect.DeepEqual(rec.Fields, []string{"Bob", "ok"}) {
		t.Fatalf("Next after the long line = %d %q, %v; want record 2 [Bob ok]", rec.Number, rec.Fields, err)
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Fatalf("Next at the end = %v, want io.EOF", err)
	}
}

func TestReaderConstantMemory(t *testing.T) {
	row := "Ann Example,(212) 555-1234,ann@example.com,C-1001,Springfield,62704\n"
	const rows = 300_000 // ~20 MB
	const header = "name,phone,email,id,city,zip\n"
	src := &repeatRows{header: header, row: row, n: rows}
	rd, err := NewReader(src, Options{})
	if err != nil {
		t.Fatalf("NewReader error = %v", err)
	}
	var n int64
	prevEnd := int64(len(header))
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next error = %v", err)
		}
		if rec.Offset != prevEnd || string(rec.Raw) != row {
			t.Fatalf("record %d at %d = %q, want at %d %q", rec.Number, rec.Offset, rec.Raw, prevEnd, row)
		}
		prevEnd = rec.Offset + rec.Length
		n++
	}
	if n != rows {
		t.Fatalf("read %d records, want %d", n, rows)
	}
	if c := cap(rd.win.buf); c > 1<<20 {
		t.Fatalf("window capacity = %d bytes, want at most 1 MiB", c)
	}
}

// repeatRows yields a header and then the same row n times.
type repeatRows struct {
	header, row string
	n           int
	pending     string
}

func (r *repeatRows) Read(p []byte) (int, error) {
	k := 0
	for k < len(p) {
		if r.pending == "" {
			switch {
			case r.header != "":
				r.pending, r.header = r.header, ""
			case r.n > 0:
				r.pending = r.row
				r.n--
			default:
				if k == 0 {
					return 0, io.EOF
				}
				return k, nil
			}
		}
		c := copy(p[k:], r.pending)
		r.pending = r.pending[c:]
		k += c
	}
	return k, nil
}

func TestParseRecordErrors(t *testing.T) {
	opts := Options{Delimiter: ','}
	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"empty", "", ErrNotOneRecord},
		{"two records", "1,2\n3,4\n", ErrNotOneRecord},
		{"NUL", "1,\x00\n", ErrBinary},
		{"unterminated quote over two lines", "1,\"2\n3\n", ErrNotOneRecord},
		{"unknown encoding", "1,2\n", ErrUnknownEncoding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := opts
			if tc.want == ErrUnknownEncoding {
				o.Encoding = "no-such-encoding"
			}
			_, err := ParseRecord([]byte(tc.raw), []string{"a", "b"}, o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseRecord(%q) error = %v, want %v", tc.raw, err, tc.want)
			}
		})
	}
}

func TestRecordRange(t *testing.T) {
	rec := Record{Offset: 11, Length: 15}
	if got, want := rec.Range(), "bytes=11-25"; got != want {
		t.Fatalf("Range() = %q, want %q", got, want)
	}
}

func TestParseErrorMessage(t *testing.T) {
	err := &ParseError{Line: 12, Record: 11, Field: 3, Err: ErrFieldTooLarge}
	if got, want := err.Error(), "leads: line 12 (record 11), field 3: field too large"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func FuzzReader(f *testing.F) {
	seeds := []string{
		"name,phone\nAnn,2125551234\n",
		"\xEF\xBB\xBFa;b\r\n\"x\r\ny\";2\r\n\r\n3;4",
		"a\tb\n1\t\"2\"\"\"\n",
		"a|b\n\n\n1|2|3\n4\n",
		"a,b\n1,x\"y\n2,\"\n",
		"a,b\n1,2\r",
		"a,b\n1,2\r\r\n",
		"a,b\n\r\n\r",
		"\"a\nb\",c\n\"\"\"\",\"\r\"\n",
		"a,b\n1,\xff\n2,\x00\n",
		"x\n\"",
		"\r\r\n\n,\n",
		"Title\nname,phone\n\"TV 5 stand,1\nx,2\n",
		"\xff\xfen\x00,\x00p\x00\n\x00A\x00,\x001\x00\n\x00",
		"na\xefme,phone\nJos\xe9,1\n",
		// Headerless lists: the first row is a consumer's.
		"Ann,Lee,,ann@example.com\nBob,Ray,(212) 555-0101,bob@example.com\n",
		"Ann,Lee,,\nBob,Ray,2125550101,bob@example.com\nCy,Doe,,\n",
		"\xEF\xBB\xBF4155550100\r\n\r\n+1 415 555 0101\r\n",
		"Ann;Lee;C-1001;62704\nBob;Ray;C-1002;62705",
		"Exported,2026-01-05,by,admin\nname,phone,email,zip\nAnn,4155550100,a@example.com,62704\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, input []byte, lazy bool) {
		opts := Options{LazyQuotes: lazy, MaxFieldBytes: 64, MaxRecordBytes: 256}
		rd, err := NewReader(bytes.NewReader(input), opts)
		if err != nil {
			return
		}
		prevEnd := int64(0)
		for i := 0; ; i++ {
			rec, err := rd.Next()
			if err == io.EOF {
				return
			}
			var perr *ParseError
			if err != nil && !errors.As(err, &perr) {
				t.Fatalf("Next error %T %v, want *ParseError or io.EOF", err, err)
			}
			if err != nil && rec.Number == 0 {
				return // fatal error: the stream ended
			}
			if rec.Offset < prevEnd || rec.Offset+rec.Length > int64(len(input)) {
				t.Fatalf("record %d range [%d,+%d) outside [%d,%d)", rec.Number, rec.Offset, rec.Length, prevEnd, len(input))
			}
			prevEnd = rec.Offset + rec.Length
			if err != nil {
				continue
			}
			c, cerr := codecFor(rd.Options().Encoding)
			if cerr != nil {
				t.Fatalf("codec %q: %v", rd.Options().Encoding, cerr)
			}
			src := append([]byte(nil), input[rec.Offset:prevEnd]...)
			if rd.Options().CRLineEnds {
				c.crToLF(src)
			}
			if got, _ := c.decodeBytes(src); !bytes.Equal(got, rec.Raw) {
				t.Fatalf("decoded input[range] = %q, want Raw %q", got, rec.Raw)
			}
			back, err := ParseRecord(input[rec.Offset:prevEnd], rd.Header(), rd.Options())
			if err != nil {
				t.Fatalf("ParseRecord(%q) error = %v", rec.Raw, err)
			}
			if !reflect.DeepEqual(back.Fields, rec.Fields) {
				t.Fatalf("ParseRecord(%q) = %q, want %q", rec.Raw, back.Fields, rec.Fields)
			}
		}
	})
}
