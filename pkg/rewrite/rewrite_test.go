package rewrite

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/veil-privacy/veil/pkg/leads"
)

// cells is an edit of the given record's cells.
func cells(n int64, kv ...any) Edit {
	e := Edit{Record: n, Cells: map[int]string{}}
	for i := 0; i < len(kv); i += 2 {
		e.Cells[kv[i].(int)] = kv[i+1].(string)
	}
	return e
}

func deletion(n int64) Edit { return Edit{Record: n, Delete: true} }

func edits(es ...Edit) map[int64]Edit {
	m := make(map[int64]Edit, len(es))
	for _, e := range es {
		m[e.Record] = e
	}
	return m
}

// utf16Text is s in UTF-16, with a byte-order mark when bom is set,
// encoded by the standard library (not by the code under test).
func utf16Text(s string, bigEndian, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

// rewrite runs Text over in and fails the test on error.
func rewrite(t *testing.T, in []byte, opts leads.Options, e map[int64]Edit) ([]byte, Result) {
	t.Helper()
	var out bytes.Buffer
	res, err := Text(&out, bytes.NewReader(in), opts, e)
	if err != nil {
		t.Fatalf("Text: %v", err)
	}
	if res.BytesIn != int64(len(in)) || res.BytesOut != int64(out.Len()) {
		t.Fatalf("BytesIn, BytesOut = %d, %d, want %d, %d", res.BytesIn, res.BytesOut, len(in), out.Len())
	}
	return out.Bytes(), res
}

func TestText(t *testing.T) {
	const bom = "\xEF\xBB\xBF"
	tests := []struct {
		name  string
		in    []byte
		opts  leads.Options
		edits map[int64]Edit
		want  []byte
		// wantRes is compared on Edited, Deleted and Unencodable.
		wantRes Result
	}{
		{
			name: "utf-8 with BOM and CRLF, quoted cells with CRLF and doubled quotes",
			in: []byte(bom + "name,email,notes\r\n" +
				"\"Ann \"\"A\"\" Lee\",ann@example.com,\"line1\r\nline2\"\r\n" +
				"Bob,bob@example.com,plain\r\n"),
			edits: edits(cells(1, 1, "anXXexXXplXXcoX")),
			want: []byte(bom + "name,email,notes\r\n" +
				"\"Ann \"\"A\"\" Lee\",anXXexXXplXXcoX,\"line1\r\nline2\"\r\n" +
				"Bob,bob@example.com,plain\r\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name: "a quoted cell stays quoted, its neighbours' quoting kept",
			in: []byte(bom + "name,email,notes\r\n" +
				"\"Ann \"\"A\"\" Lee\",ann@example.com,\"line1\r\nline2\"\r\n" +
				"Bob,bob@example.com,plain\r\n"),
			edits: edits(cells(1, 0, "AnXX LXX", 2, "XXne1")),
			want: []byte(bom + "name,email,notes\r\n" +
				"\"AnXX LXX\",ann@example.com,\"XXne1\"\r\n" +
				"Bob,bob@example.com,plain\r\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "semicolon list",
			in:      []byte("name;phone;city\nAnn;1223334444;Paris\nBob;5556667777;\"Lyon; Rhône\"\n"),
			edits:   edits(cells(2, 1, "55XX66XX77")),
			want:    []byte("name;phone;city\nAnn;1223334444;Paris\nBob;55XX66XX77;\"Lyon; Rhône\"\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "tab-separated, a new value with a tab is quoted",
			in:      []byte("name\tphone\nAnn\t1223334444\nBob\t5556667777\n"),
			edits:   edits(cells(1, 0, "A\tX"), cells(2, 1, "55XX66XX77")),
			want:    []byte("name\tphone\n\"A\tX\"\t1223334444\nBob\t55XX66XX77\n"),
			wantRes: Result{Edited: 2},
		},
		{
			name:    "windows-1252, masked in place",
			in:      []byte("name,city\nJos\xe9 M\xfcller,K\xf6ln\nAnn Lee,Paris\n"),
			opts:    leads.Options{Encoding: "windows-1252"},
			edits:   edits(cells(1, 0, "JXsX MXXlXr")),
			want:    []byte("name,city\nJXsX MXXlXr,K\xf6ln\nAnn Lee,Paris\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "windows-1252, a character it cannot hold is X, one it can is its byte",
			in:      []byte("name,city\nJos\xe9 M\xfcller,K\xf6ln\nAnn Lee,Paris\n"),
			opts:    leads.Options{Encoding: "windows-1252"},
			edits:   edits(cells(1, 0, "Łukasz Zoë"), cells(2, 1, "Kraków €")),
			want:    []byte("name,city\nXukasz Zo\xeb,K\xf6ln\nAnn Lee,Krak\xf3w \x80\n"),
			wantRes: Result{Edited: 2, Unencodable: 1},
		},
		{
			name:    "windows-1252 detected",
			in:      []byte("name,city\r\nJos\xe9 M\xfcller,K\xf6ln\r\n"),
			edits:   edits(cells(1, 1, "KXXn")),
			want:    []byte("name,city\r\nJos\xe9 M\xfcller,KXXn\r\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "a utf-8 list with a Windows-1252 row: new values are UTF-8",
			in:      []byte("name,city\nAnn,Paris\nJos\xe9,K\xf6ln\n"),
			opts:    leads.Options{Encoding: "utf-8"},
			edits:   edits(cells(2, 0, "Zoë")),
			want:    []byte("name,city\nAnn,Paris\nZo\xc3\xab,K\xf6ln\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "utf-16le with BOM",
			in:      utf16Text("name,city\r\nJosé Müller,\"Köln, Ehrenfeld\"\r\nŁukasz 😀,Kraków\r\n", false, true),
			edits:   edits(cells(1, 0, "JXsX MXXlXr"), cells(2, 0, "Łukasz 😀 X", 1, "a\"b")),
			want:    utf16Text("name,city\r\nJXsX MXXlXr,\"Köln, Ehrenfeld\"\r\nŁukasz 😀 X,\"a\"\"b\"\r\n", false, true),
			wantRes: Result{Edited: 2},
		},
		{
			name:    "utf-16be without BOM",
			in:      utf16Text("name,city\nJosé Müller,\"Köln, Ehrenfeld\"\nAnn,Paris", true, false),
			opts:    leads.Options{Encoding: "utf-16be"},
			edits:   edits(cells(1, 1, "KXXn"), cells(2, 0, "XnX")),
			want:    utf16Text("name,city\nJosé Müller,\"KXXn\"\nXnX,Paris", true, false),
			wantRes: Result{Edited: 2},
		},
		{
			name:    "CR line ends (old Mac)",
			in:      []byte("name,phone,notes\rAnn,1223334444,\"two\rlines\"\rBob,5556667777,x\r"),
			edits:   edits(cells(1, 1, "12XX33XX44", 2, "one"), cells(2, 2, "a\nb\r\nc")),
			want:    []byte("name,phone,notes\rAnn,12XX33XX44,\"one\"\rBob,5556667777,\"a\rb\rc\"\r"),
			wantRes: Result{Edited: 2},
		},
		{
			name:    "no newline after the last record",
			in:      []byte("name,phone\nAnn,1223334444\nBob,5556667777"),
			edits:   edits(cells(2, 1, "55XX66XX77")),
			want:    []byte("name,phone\nAnn,1223334444\nBob,55XX66XX77"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "a lone CR after the last record",
			in:      []byte("name,phone\nAnn,1223334444\r"),
			edits:   edits(cells(1, 0, "AXX")),
			want:    []byte("name,phone\nAXX,1223334444\r"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "deleting a record takes its line and terminator only",
			in:      []byte("name,phone\r\nAnn,1223334444\r\n\"Bob\r\nB\",5556667777\r\nCy,5550001111\r\n"),
			edits:   edits(deletion(2)),
			want:    []byte("name,phone\r\nAnn,1223334444\r\nCy,5550001111\r\n"),
			wantRes: Result{Deleted: 1},
		},
		{
			name:    "deleting the last record, which has no line end",
			in:      []byte("name,phone\nAnn,1223334444\nBob,5556667777"),
			edits:   edits(deletion(2)),
			want:    []byte("name,phone\nAnn,1223334444\n"),
			wantRes: Result{Deleted: 1},
		},
		{
			name:    "deleting and editing, blank lines and a preamble kept",
			in:      []byte(bom + "Lead export\nExported 2026-01-05\n\nname,phone\n\nAnn,1223334444\n\n\nBob,5556667777\nCy,5550001111\n\n"),
			edits:   edits(deletion(1), cells(3, 0, "CX")),
			want:    []byte(bom + "Lead export\nExported 2026-01-05\n\nname,phone\n\n\n\nBob,5556667777\nCX,5550001111\n\n"),
			wantRes: Result{Edited: 1, Deleted: 1},
		},
		{
			name:    "first and last columns",
			in:      []byte("first,last,phone\nAnn,Lee,1223334444\n"),
			edits:   edits(cells(1, 0, "AXX", 2, "12XX33XX44")),
			want:    []byte("first,last,phone\nAXX,Lee,12XX33XX44\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "new values with a comma, a quote, a line break are quoted",
			in:      []byte("a,b,c,d\nw,x,y,z\n"),
			edits:   edits(cells(1, 0, "1,2", 1, `say "hi"`, 2, "l1\nl2", 3, "cr\r")),
			want:    []byte("a,b,c,d\n\"1,2\",\"say \"\"hi\"\"\",\"l1\nl2\",\"cr\r\"\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "an empty value is unquoted, but not as a record's only field",
			in:      []byte("name,phone\nAnn,1223334444\n"),
			edits:   edits(cells(1, 0, "", 1, "")),
			want:    []byte("name,phone\n,\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "a one-column list's cell emptied stays a record",
			in:      []byte("phone\n1223334444\n5556667777\n"),
			edits:   edits(cells(1, 0, "")),
			want:    []byte("phone\n\"\"\n5556667777\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "headerless list: record 1 is the first line",
			in:      []byte("Ann,Lee,1223334444\nBob,Ray,5556667777\n"),
			edits:   edits(cells(1, 2, "12XX33XX44")),
			want:    []byte("Ann,Lee,12XX33XX44\nBob,Ray,5556667777\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "a record read leniently (a bad quote)",
			in:      []byte("name,notes,phone\nAnn,5\" tall \"x,1223334444\nBob,\"ok\",5556667777\n"),
			edits:   edits(cells(1, 2, "12XX33XX44", 0, "AXX")),
			want:    []byte("name,notes,phone\nAXX,5\" tall \"x,12XX33XX44\nBob,\"ok\",5556667777\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "a lenient record's bad cell replaced",
			in:      []byte("name,notes,phone\nAnn,\"open,1223334444\nBob,\"ok\",5556667777\n"),
			edits:   edits(cells(1, 1, "XXXXX")),
			want:    []byte("name,notes,phone\nAnn,XXXXX,1223334444\nBob,\"ok\",5556667777\n"),
			wantRes: Result{Edited: 1},
		},
		{
			name:    "a lenient record whose quote runs on, edited after it",
			in:      []byte("name,notes,phone\nAnn,\"open,1223334444\nBob,\"ok\",5556667777\n"),
			edits:   edits(cells(1, 2, "12XX33XX44"), cells(2, 2, "55XX66XX77")),
			want:    []byte("name,notes,phone\nAnn,\"open,12XX33XX44\nBob,\"ok\",55XX66XX77\n"),
			wantRes: Result{Edited: 2},
		},
		{
			name:    "LazyQuotes",
			in:      []byte("name,notes\nx\"y,\"z\"w\"\nBob,\"a\"\n"),
			opts:    leads.Options{LazyQuotes: true},
			edits:   edits(cells(1, 1, "Q"), cells(2, 0, "B\"X")),
			want:    []byte("name,notes\nx\"y,\"Q\"\n\"B\"\"X\",\"a\"\n"),
			wantRes: Result{Edited: 2},
		},
		{
			name:    "a ragged record",
			in:      []byte("a,b,c\nx,y\nx,y,z,extra\n"),
			edits:   edits(cells(1, 1, "Y"), cells(2, 3, "E")),
			want:    []byte("a,b,c\nx,Y\nx,y,z,E\n"),
			wantRes: Result{Edited: 2},
		},
		{
			name:    "an edit that changes nothing",
			in:      []byte("name,phone\nAnn,1223334444\n"),
			edits:   edits(Edit{Record: 1}),
			want:    []byte("name,phone\nAnn,1223334444\n"),
			wantRes: Result{},
		},
		{
			name:    "no edits: a copy",
			in:      []byte("name,phone\r\nAnn,1223334444\r\n"),
			want:    []byte("name,phone\r\nAnn,1223334444\r\n"),
			wantRes: Result{},
		},
		{
			name:    "shift_jis",
			in:      []byte("name,city\n\x93\xfa\x96\x7b,\x93\x8c\x8b\x9e\n"),
			opts:    leads.Options{Encoding: "shift_jis"},
			edits:   edits(cells(1, 0, "X本 Ł")),
			want:    []byte("name,city\nX\x96\x7b X,\x93\x8c\x8b\x9e\n"),
			wantRes: Result{Edited: 1, Unencodable: 1},
		},
		{
			name:    "iso-8859-2 can hold Ł",
			in:      []byte("name,city\nAnn,Paris\n"),
			opts:    leads.Options{Encoding: "iso-8859-2"},
			edits:   edits(cells(1, 0, "Łukasz")),
			want:    []byte("name,city\n\xa3ukasz,Paris\n"),
			wantRes: Result{Edited: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, res := rewrite(t, tc.in, tc.opts, tc.edits)
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("rewritten = %q, want %q", got, tc.want)
			}
			if res.Edited != tc.wantRes.Edited || res.Deleted != tc.wantRes.Deleted || res.Unencodable != tc.wantRes.Unencodable {
				t.Fatalf("Edited, Deleted, Unencodable = %d, %d, %d, want %d, %d, %d",
					res.Edited, res.Deleted, res.Unencodable, tc.wantRes.Edited, tc.wantRes.Deleted, tc.wantRes.Unencodable)
			}
		})
	}
}

func TestTextResult(t *testing.T) {
	in := []byte("title\n\nname,phone\nAnn,1223334444\nBob,5556667777\nCy,5550001111\n")
	_, res := rewrite(t, in, leads.Options{}, edits(cells(2, 1, "X")))
	want := Result{Records: 2, Edited: 1, BytesIn: int64(len(in)), BytesOut: int64(len(in)) - 9, HeaderLine: 3}
	if res != want {
		t.Fatalf("Result = %+v, want %+v", res, want)
	}
}

// TestTextUnreadableRecord: a record leads cannot read is copied as it is,
// and an edit of it is refused.
func TestTextUnreadableRecord(t *testing.T) {
	in := []byte("name,notes\nAnn,short\nBob," + strings.Repeat("n", 40) + "\nCy,short\n")
	opts := leads.Options{MaxFieldBytes: 20}
	got, _ := rewrite(t, in, opts, edits(cells(3, 1, "XXXXX")))
	want := []byte("name,notes\nAnn,short\nBob," + strings.Repeat("n", 40) + "\nCy,XXXXX\n")
	if !bytes.Equal(got, want) {
		t.Fatalf("rewritten = %q, want %q", got, want)
	}
	_, err := Text(io.Discard, bytes.NewReader(in), opts, edits(cells(2, 0, "X")))
	var ee *EditError
	if !errors.As(err, &ee) || !errors.Is(err, ErrUnreadable) || !errors.Is(err, leads.ErrFieldTooLarge) || ee.Record != 2 {
		t.Fatalf("Text = %v, want an *EditError of record 2 wrapping ErrUnreadable and leads.ErrFieldTooLarge", err)
	}
}

func TestTextErrors(t *testing.T) {
	in := []byte("name,email,phone\nAnn Secret,ann.secret@example.com,1223334444\nBob Hidden,bob@example.com\n")
	values := []string{"Ann", "Secret", "ann.secret", "1223334444", "Bob", "Hidden", "bob@"}
	tests := []struct {
		name    string
		in      []byte
		opts    leads.Options
		edits   map[int64]Edit
		want    error
		record  int64
		column  int
		noWrite bool // nothing reaches dst
	}{
		{name: "record past the end", edits: edits(cells(3, 0, "X")), want: ErrNoRecord, record: 3, column: -1},
		{name: "record 0", edits: map[int64]Edit{0: cells(0, 0, "X")}, want: ErrInvalidEdit, record: 0, column: -1, noWrite: true},
		{name: "key and record differ", edits: map[int64]Edit{1: cells(2, 0, "X")}, want: ErrInvalidEdit, record: 1, column: -1, noWrite: true},
		{name: "delete and cells", edits: edits(Edit{Record: 1, Delete: true, Cells: map[int]string{0: "X"}}), want: ErrInvalidEdit, record: 1, column: -1, noWrite: true},
		{name: "negative column", edits: edits(cells(1, -1, "X")), want: ErrInvalidEdit, record: 1, column: -1, noWrite: true},
		{name: "invalid UTF-8", edits: edits(cells(1, 2, "\xff")), want: ErrInvalidEdit, record: 1, column: 2, noWrite: true},
		{name: "NUL", edits: edits(cells(1, 2, "a\x00")), want: ErrInvalidEdit, record: 1, column: 2, noWrite: true},
		{name: "column past the header", edits: edits(cells(1, 3, "X")), want: ErrNoColumn, record: 1, column: 3},
		{name: "column past a ragged record", edits: edits(cells(2, 2, "X")), want: ErrNoColumn, record: 2, column: 2},
		{name: "empty list", in: []byte{}, edits: edits(cells(1, 0, "X")), want: ErrNoRecord, record: 1, column: -1},
		{name: "header only", in: []byte("name,email\n"), edits: edits(cells(1, 0, "X")), want: ErrNoRecord, record: 1, column: -1},
		{
			name: "edited record over the limit", opts: leads.Options{MaxFieldBytes: 40},
			edits: edits(cells(1, 0, strings.Repeat("X", 41))), want: ErrReadBack, record: 1, column: -1,
		},
		{
			name: "a lenient record that would take in the next line", in: []byte("a,b\nx\"y,\"1\n\"\n"),
			edits: edits(cells(1, 0, "X")), want: ErrReadBack, record: 1, column: -1,
		},
		{
			name: "a line break in a lenient record", in: []byte("a,b\nx\"y,1\n"),
			edits: edits(cells(1, 1, "1\n2")), want: ErrReadBack, record: 1, column: -1,
		},
		{name: "pipe in shift_jis", in: []byte("a|b\nx|y\n"), opts: leads.Options{Encoding: "shift_jis"}, edits: edits(cells(1, 0, "X")), want: ErrUnsupportedEncoding, noWrite: true},
		{name: "iso-2022-jp", in: []byte("a,b\nx,y\n"), opts: leads.Options{Encoding: "iso-2022-jp"}, edits: edits(cells(1, 0, "X")), want: ErrUnsupportedEncoding, noWrite: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.in
			if src == nil {
				src = in
			}
			var out bytes.Buffer
			_, err := Text(&out, bytes.NewReader(src), tc.opts, tc.edits)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Text = %v, want %v", err, tc.want)
			}
			var ee *EditError
			if tc.want != ErrUnsupportedEncoding {
				if !errors.As(err, &ee) || ee.Record != tc.record || ee.Column != tc.column {
					t.Fatalf("Text = %#v, want an *EditError of record %d, column %d", err, tc.record, tc.column)
				}
			}
			for _, v := range values {
				if strings.Contains(err.Error(), v) {
					t.Fatalf("error %q holds a value of the list", err)
				}
			}
			if tc.noWrite && out.Len() > 0 {
				t.Fatalf("wrote %d bytes before failing, want none", out.Len())
			}
		})
	}
}

// TestTextDeleteWithoutSplicing: records of a list whose encoding cannot
// be spliced can still be deleted.
func TestTextDeleteWithoutSplicing(t *testing.T) {
	in := []byte("a|b\nx|y\nz|w\n")
	got, res := rewrite(t, in, leads.Options{Encoding: "shift_jis"}, edits(deletion(1)))
	if want := []byte("a|b\nz|w\n"); !bytes.Equal(got, want) || res.Deleted != 1 {
		t.Fatalf("rewritten = %q (%d deleted), want %q (1)", got, res.Deleted, want)
	}
}

// TestTextReadError: a failing source is an error, not a short list.
func TestTextReadError(t *testing.T) {
	boom := errors.New("boom")
	src := io.MultiReader(strings.NewReader("name,phone\nAnn,1223334444\n"), &failing{err: boom})
	_, err := Text(io.Discard, src, leads.Options{}, edits(cells(1, 0, "X")))
	if !errors.Is(err, boom) {
		t.Fatalf("Text = %v, want %v", err, boom)
	}
	// After the last edit the rest is copied; its read error still counts.
	big := strings.Repeat("Bob,5556667777\n", 20000)
	src = io.MultiReader(strings.NewReader("name,phone\nAnn,1223334444\n"+big), &failing{err: boom})
	_, err = Text(io.Discard, src, leads.Options{}, edits(cells(1, 0, "X")))
	if !errors.Is(err, boom) {
		t.Fatalf("Text = %v, want %v", err, boom)
	}
}

// TestTextWriteError: a failing destination is an error.
func TestTextWriteError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Text(&failing{err: boom}, strings.NewReader("name,phone\nAnn,1223334444\n"), leads.Options{}, edits(cells(1, 0, "X")))
	if !errors.Is(err, boom) {
		t.Fatalf("Text = %v, want %v", err, boom)
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error)  { return 0, f.err }
func (f *failing) Write([]byte) (int, error) { return 0, f.err }
