package leads

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
)

// A list as Excel users type it: accents, a quoted address with a line
// break and a delimiter inside, CRLF line ends.
const westernList = "Full Name,Phone,City,Notes\r\n" +
	"José Müller,415-555-0166,Zürich,\"Straße 5,\r\n2. Stock\"\r\n" +
	"Zoë Ørsted,415-555-0167,Malmö,€ 20 café\r\n" +
	"Ann Lee,415-555-0168,Köln,\r\n"

var westernRecords = [][]string{
	// encoding/csv reads a CRLF inside a quoted field as LF.
	{"José Müller", "415-555-0166", "Zürich", "Straße 5,\n2. Stock"},
	{"Zoë Ørsted", "415-555-0167", "Malmö", "€ 20 café"},
	{"Ann Lee", "415-555-0168", "Köln", ""},
}

func encode(t *testing.T, enc encoding.Encoding, s string) []byte {
	t.Helper()
	if enc == nil {
		return []byte(s)
	}
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return b
}

// readEncoded reads every record of input and checks each record's byte
// range: the original bytes it names decode to Raw and parse back to its
// fields with the options the Reader reports.
func readEncoded(t *testing.T, input []byte, opts Options) (*Reader, []Record) {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(input), opts)
	if err != nil {
		t.Fatalf("NewReader error = %v", err)
	}
	var recs []Record
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return rd, recs
		}
		if err != nil {
			t.Fatalf("Next error = %v", err)
		}
		if rec.Offset < 0 || rec.Offset+rec.Length > int64(len(input)) {
			t.Fatalf("record %d range [%d,+%d) outside input of %d bytes", rec.Number, rec.Offset, rec.Length, len(input))
		}
		slice := input[rec.Offset : rec.Offset+rec.Length]
		back, err := ParseRecord(slice, rd.Header(), rd.Options())
		if err != nil {
			t.Fatalf("record %d: ParseRecord(%q) error = %v", rec.Number, slice, err)
		}
		if !reflect.DeepEqual(back.Fields, rec.Fields) {
			t.Fatalf("record %d: ParseRecord(%q) fields = %q, want %q", rec.Number, slice, back.Fields, rec.Fields)
		}
		if !bytes.Equal(back.Raw, rec.Raw) {
			t.Fatalf("record %d: decoded range = %q, want Raw %q", rec.Number, back.Raw, rec.Raw)
		}
		rec.Fields = append([]string(nil), rec.Fields...)
		rec.Raw = append([]byte(nil), rec.Raw...)
		recs = append(recs, rec)
	}
}

func TestEncodingsRoundTripByteRanges(t *testing.T) {
	tests := []struct {
		name     string
		prefix   []byte
		enc      encoding.Encoding
		opts     Options
		text     string
		want     [][]string
		wantName string
	}{
		{name: "UTF-8", text: westernList, want: westernRecords, wantName: UTF8},
		{name: "UTF-8 with BOM", prefix: bom, text: westernList, want: westernRecords, wantName: UTF8},
		{name: "Windows-1252 (Excel CSV)", enc: charmap.Windows1252, text: westernList, want: westernRecords, wantName: Windows1252},
		{name: "UTF-16 LE with BOM, tabs (Excel Unicode Text)", prefix: []byte{0xFF, 0xFE}, enc: utf16le,
			text: strings.ReplaceAll(westernList, ",", "\t"), want: replaced(westernRecords, ",", "\t"), wantName: UTF16LE},
		{name: "UTF-16 BE with BOM", prefix: []byte{0xFE, 0xFF}, enc: utf16be, text: westernList, want: westernRecords, wantName: UTF16BE},
		{name: "UTF-16 LE without BOM", enc: utf16le, text: westernList, want: westernRecords, wantName: UTF16LE},
		{name: "ISO-8859-1 pinned", enc: charmap.ISO8859_1, opts: Options{Encoding: "ISO-8859-1"},
			text: strings.ReplaceAll(westernList, "€", "E"), want: replaced(westernRecords, "€", "E"), wantName: Windows1252},
		{name: "Shift_JIS pinned", enc: japanese.ShiftJIS, opts: Options{Encoding: "Shift_JIS"},
			text: "氏名,電話\r\n山田太郎,03-1234-5678\r\n\"佐藤\r\n花子\",03-1234-5679\r\n",
			want: [][]string{{"山田太郎", "03-1234-5678"}, {"佐藤\n花子", "03-1234-5679"}}, wantName: "shift_jis"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			input := append(append([]byte(nil), tc.prefix...), encode(t, tc.enc, tc.text)...)
			rd, recs := readEncoded(t, input, tc.opts)
			if got := rd.Options().Encoding; got != tc.wantName {
				t.Fatalf("Encoding = %q, want %q", got, tc.wantName)
			}
			var got [][]string
			for _, r := range recs {
				got = append(got, r.Fields)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("records = %q, want %q", got, tc.want)
			}
			if strings.ContainsRune(strings.Join(rd.Header(), ""), '\uFFFD') {
				t.Fatalf("header %q holds a replacement character", rd.Header())
			}
		})
	}
}

// replaced returns recs with old replaced by new in every field.
func replaced(recs [][]string, old, new string) [][]string {
	out := make([][]string, len(recs))
	for i, r := range recs {
		for _, f := range r {
			out[i] = append(out[i], strings.ReplaceAll(f, old, new))
		}
	}
	return out
}

func TestUTF8ListWithAnANSIRow(t *testing.T) {
	// Lists concatenated from two exports: the first 64 KiB are UTF-8, a
	// later row is Windows-1252. The row is decoded, not refused.
	pad := strings.Repeat("Ann,415-555-0100\n", bufferSize/16)
	input := []byte("name,phone\n" + pad + "Jos\xe9 M\xfcller,415-555-0166\n")
	rd, recs := readEncoded(t, input, Options{})
	if rd.Options().Encoding != UTF8 {
		t.Fatalf("Encoding = %q, want %q", rd.Options().Encoding, UTF8)
	}
	if got := recs[len(recs)-1].Fields[0]; got != "José Müller" {
		t.Fatalf("last name = %q, want %q", got, "José Müller")
	}
}

func TestUnknownEncodingIsRefused(t *testing.T) {
	_, err := NewReader(strings.NewReader("a,b\n1,2\n"), Options{Encoding: "klingon"})
	if !errors.Is(err, ErrUnknownEncoding) {
		t.Fatalf("NewReader error = %v, want ErrUnknownEncoding", err)
	}
}

// randomList writes a random lead list in UTF-8 using characters every
// encoding under test can hold when latin is set (else any of a wide mix),
// with quoted fields, embedded delimiters and line breaks.
func randomList(r *rand.Rand, latin bool) string {
	alphabet := []rune("abcxyzABC019 -.@éüÖßñçØåÆ€‚„…")
	if !latin {
		alphabet = append(alphabet, []rune("山田太郎Ωπж😀ﬁ")...)
	}
	cols := 2 + r.IntN(5)
	var b strings.Builder
	for c := range cols {
		if c > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "col%d", c)
	}
	b.WriteString("\r\n")
	for range 1 + r.IntN(40) {
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			var f strings.Builder
			for range r.IntN(12) {
				switch r.IntN(20) {
				case 0:
					f.WriteString(",")
				case 1:
					f.WriteString("\n")
				case 2:
					f.WriteString(`"`)
				default:
					f.WriteRune(alphabet[r.IntN(len(alphabet))])
				}
			}
			v := f.String()
			if strings.ContainsAny(v, ",\n\"") || r.IntN(4) == 0 {
				v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
			}
			b.WriteString(v)
		}
		if r.IntN(2) == 0 {
			b.WriteString("\r\n")
		} else {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestEncodedListsYieldTheSameRecords is the property that decoding is
// invisible: a random UTF-8 list encoded as UTF-16 or Windows-1252 reads as
// the same records, line numbers and all, as the list in UTF-8.
func TestEncodedListsYieldTheSameRecords(t *testing.T) {
	encodings := []struct {
		name   string
		prefix []byte
		enc    encoding.Encoding
		latin  bool
	}{
		{"utf-16le", []byte{0xFF, 0xFE}, utf16le, false},
		{"utf-16be", []byte{0xFE, 0xFF}, utf16be, false},
		{"utf-16le without BOM", nil, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), true},
		{"windows-1252", nil, charmap.Windows1252, true},
	}
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 7))
		for _, e := range encodings {
			text := randomList(r, e.latin)
			_, want := readEncoded(t, []byte(text), Options{Delimiter: ','})
			input := append(append([]byte(nil), e.prefix...), encode(t, e.enc, text)...)
			_, got := readEncoded(t, input, Options{Delimiter: ','})
			if len(got) != len(want) {
				t.Fatalf("seed %d %s: %d records, want %d", seed, e.name, len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i].Fields, want[i].Fields) || got[i].Line != want[i].Line || got[i].Number != want[i].Number {
					t.Fatalf("seed %d %s record %d = %d@%d %q, want %d@%d %q", seed, e.name, i,
						got[i].Number, got[i].Line, got[i].Fields, want[i].Number, want[i].Line, want[i].Fields)
				}
			}
		}
	}
}

func TestPreambleAboveTheHeader(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		wantHeader []string
		wantLine   int
		wantFirst  []string
	}{
		{name: "title line", input: "Campaign export 2026-01-05\nname,phone,email\nAnn,4155550100,ann@example.com\n",
			wantHeader: []string{"name", "phone", "email"}, wantLine: 2, wantFirst: []string{"Ann", "4155550100", "ann@example.com"}},
		{name: "title, date and blank lines", input: "Spring refinance leads\r\nExported: 2026-01-05 by admin\r\n\r\n\r\nname;phone\r\nAnn;4155550100\r\n",
			wantHeader: []string{"name", "phone"}, wantLine: 5, wantFirst: []string{"Ann", "4155550100"}},
		{name: "Excel title row with trailing delimiters", input: "Leads Q1,,,\nFirst,Last,Phone,Email\nAnn,Lee,4155550100,a@example.com\n",
			wantHeader: []string{"First", "Last", "Phone", "Email"}, wantLine: 2, wantFirst: []string{"Ann", "Lee", "4155550100", "a@example.com"}},
		{name: "report line with two values", input: "Report,Leads\nGenerated,2026-01-05\nid,name,phone,email\n1,Ann,4155550100,a@example.com\n",
			wantHeader: []string{"id", "name", "phone", "email"}, wantLine: 3, wantFirst: []string{"1", "Ann", "4155550100", "a@example.com"}},
		{name: "tab list with a title", input: "Dialer export\nname\tphone\nAnn\t4155550100\n",
			wantHeader: []string{"name", "phone"}, wantLine: 2, wantFirst: []string{"Ann", "4155550100"}},
		{name: "no preamble", input: "phone\n4155550100\n", wantHeader: []string{"phone"}, wantLine: 1, wantFirst: []string{"4155550100"}},
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

func TestHeaderBeyondTheSearchIsNotFound(t *testing.T) {
	input := strings.Repeat("Some title\n", HeaderSearchLines) + "name,phone\nAnn,4155550100\n"
	if _, err := NewReader(strings.NewReader(input), Options{}); err == nil {
		// Twenty title lines are themselves a one-column "list" whose
		// header is the first; what matters is that the real header is
		// not silently taken from beyond the search.
		rd, _ := NewReader(strings.NewReader(input), Options{})
		if rd.HeaderLine() > HeaderSearchLines {
			t.Fatalf("header at line %d, want within the first %d", rd.HeaderLine(), HeaderSearchLines)
		}
	}
}

func TestMalformedRowsAreReadLeniently(t *testing.T) {
	pad := strings.Repeat("Ann,4155550100,ok\n", 5000)
	tests := []struct {
		name  string
		input string
		// want are the fields of the records after pad.
		want [][]string
	}{
		{name: "bare quote", input: "product,phone,notes\n" + pad + "TV 5\" stand,4155550101,x\nLamp,4155550102,y\n",
			want: [][]string{{"TV 5\" stand", "4155550101", "x"}, {"Lamp", "4155550102", "y"}}},
		{name: "unclosed quote swallows no row", input: "product,phone,notes\n" + pad + "\"TV 5 stand,4155550101,x\nLamp,4155550102,y\nDesk,4155550103,\"z\"\n",
			want: [][]string{{"\"TV 5 stand", "4155550101", "x"}, {"Lamp", "4155550102", "y"}, {"Desk", "4155550103", "z"}}},
		{name: "stray quote after a quoted field", input: "product,phone,notes\n" + pad + "\"TV\" 5,4155550101,x\n",
			want: [][]string{{"\"TV\" 5", "4155550101", "x"}}},
		{name: "quoted field with a delimiter still read", input: "product,phone,notes\n" + pad + "\"Smith, John\",4155550101,5\" tall\n",
			want: [][]string{{"Smith, John", "4155550101", "5\" tall"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, recs := readEncoded(t, []byte(tc.input), Options{})
			if len(recs) != 5000+len(tc.want) {
				t.Fatalf("%d records, want %d", len(recs), 5000+len(tc.want))
			}
			var got [][]string
			for _, r := range recs[5000:] {
				got = append(got, r.Fields)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("records after the pad = %q, want %q", got, tc.want)
			}
			if !recs[5000].Lenient {
				t.Fatalf("record %d Lenient = false, want true", recs[5000].Number)
			}
			if recs[4999].Lenient {
				t.Fatalf("record %d Lenient = true, want false", recs[4999].Number)
			}
		})
	}
}

// FuzzSniffWithPreamble checks that whatever title and date lines sit
// above a list, the delimiter and the header are found.
func FuzzSniffWithPreamble(f *testing.F) {
	f.Add([]byte("Campaign export 2026-01-05"), uint8(3), uint8(5), uint8(0))
	f.Add([]byte("Title\x01Exported: 2026-01-05\x01\x01"), uint8(4), uint8(2), uint8(1))
	f.Add([]byte(""), uint8(2), uint8(1), uint8(2))
	f.Add([]byte("\x01\x01\x01 \x01report"), uint8(6), uint8(30), uint8(3))
	f.Fuzz(func(t *testing.T, preamble []byte, cols, rows, delim uint8) {
		d := candidates[int(delim)%len(candidates)]
		ncols := 2 + int(cols)%8
		nrows := 1 + int(rows)%60
		// Preamble lines hold no delimiter candidate, quote or NUL.
		clean := bytes.Map(func(r rune) rune {
			switch {
			case r == 1:
				return '\n'
			case r == '\n' || r == '\r' || r == '"' || r == 0 || strings.ContainsRune(",;\t|", r):
				return ' '
			}
			return r
		}, preamble)
		lines := bytes.Split(clean, []byte{'\n'})
		if len(clean) == 0 {
			lines = nil
		}
		if len(lines) > HeaderSearchLines-2 || !utf8Valid(clean) {
			return
		}
		var b strings.Builder
		for _, l := range lines {
			b.Write(l)
			b.WriteByte('\n')
		}
		header := make([]string, ncols)
		for c := range header {
			header[c] = fmt.Sprintf("Col %c%d", 'A'+c, c)
		}
		b.WriteString(strings.Join(header, string(d)) + "\n")
		for r := range nrows {
			row := make([]string, ncols)
			for c := range row {
				row[c] = fmt.Sprintf("v%d.%d", r, c)
			}
			b.WriteString(strings.Join(row, string(d)) + "\n")
		}
		input := b.String()
		if got := Sniff([]byte(input), true); got != rune(d) {
			t.Fatalf("Sniff = %q, want %q for %q", got, d, input)
		}
		rd, err := NewReader(strings.NewReader(input), Options{})
		if err != nil {
			t.Fatalf("NewReader error = %v for %q", err, input)
		}
		if !reflect.DeepEqual(rd.Header(), header) || rd.HeaderLine() != len(lines)+1 {
			t.Fatalf("header = %q at line %d, want %q at line %d", rd.Header(), rd.HeaderLine(), header, len(lines)+1)
		}
		n := 0
		for {
			_, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next error = %v", err)
			}
			n++
		}
		if n != nrows {
			t.Fatalf("%d records, want %d", n, nrows)
		}
	})
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) }

// TestSingleByteFastPathMatchesXText: the ASCII-run fast path decodes every
// byte of every single-byte code page exactly as x/text's decoder does.
func TestSingleByteFastPathMatchesXText(t *testing.T) {
	all := make([]byte, 0, 512)
	for b := range 256 {
		all = append(all, byte(b), 'a')
	}
	for _, label := range []string{"windows-1252", "iso-8859-2", "windows-1251", "koi8-r", "iso-8859-15", "ibm866"} {
		c, err := codecFor(label)
		if err != nil || c.single == nil {
			t.Fatalf("codecFor(%s) = %+v, %v; want a single-byte code page", label, c, err)
		}
		want, err := c.enc.NewDecoder().Bytes(all)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.decodeSingle(nil, all); !bytes.Equal(got, want) {
			t.Fatalf("%s: decodeSingle = %q, want %q", label, got, want)
		}
	}
}

func TestCROnlyLineEnds(t *testing.T) {
	text := strings.ReplaceAll(westernList, "\r\n", "\r")
	tests := []struct {
		name   string
		prefix []byte
		enc    encoding.Encoding
		text   string
		want   [][]string
	}{
		{"UTF-8", nil, nil, text, westernRecords},
		{"Windows-1252", nil, charmap.Windows1252, text, westernRecords},
		{"UTF-16 LE", []byte{0xFF, 0xFE}, utf16le, text, westernRecords},
		{"with a title line", nil, nil, "Old Mac export\r" + text, westernRecords},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			input := append(append([]byte(nil), tc.prefix...), encode(t, tc.enc, tc.text)...)
			rd, recs := readEncoded(t, input, Options{})
			if !rd.Options().CRLineEnds {
				t.Fatalf("CRLineEnds = false, want true")
			}
			var got [][]string
			for _, r := range recs {
				got = append(got, r.Fields)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("records = %q, want %q", got, tc.want)
			}
		})
	}
	if rd, _ := readEncoded(t, []byte(westernList), Options{}); rd.Options().CRLineEnds {
		t.Fatalf("CRLineEnds = true for a CRLF list, want false")
	}
}

func TestCROnlyLongUTF16(t *testing.T) {
	text := "Name\tPhone\r" + strings.Repeat("Zoë Ørsted\t415-555-0167\r", 20000)
	input := append([]byte{0xFF, 0xFE}, encode(t, utf16le, text)...)
	rd, recs := readEncoded(t, input, Options{})
	if !rd.Options().CRLineEnds || len(recs) != 20000 {
		t.Fatalf("CRLineEnds %v, %d records; want true, 20000", rd.Options().CRLineEnds, len(recs))
	}
	if last := recs[len(recs)-1]; last.Fields[0] != "Zoë Ørsted" || last.Line != 20001 {
		t.Fatalf("last record %q at line %d, want Zoë Ørsted at line 20001", last.Fields, last.Line)
	}
}
