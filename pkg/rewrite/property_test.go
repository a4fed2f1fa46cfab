package rewrite

// The property: for random lists and random edits, every byte outside the
// edited cells is the original's, and the edited cells read back as the
// new values. The oracle knows every cell's bytes because it wrote the
// list itself, field by field, in the list's encoding (with the standard
// library's UTF-16 and x/text's Windows-1252 encoders), and it reads the
// rewritten list back with leads, not with anything of this package.

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/veil-privacy/veil/pkg/leads"
)

// genList is a generated list and where each of its cells is.
type genList struct {
	opts    leads.Options
	bom     bool
	eol     string
	data    []byte
	records []genRecord
}

type genRecord struct {
	start, end int // byte range, line terminator included
	fields     []genField
	// lenient says the record has a bare quote: leads reads it leniently,
	// and a line break in it would end it.
	lenient bool
}

type genField struct {
	start, end int // byte range, quotes included
	quoted     bool
	value      string // as a reader reads it
}

// encode returns s in the list's encoding.
func (g *genList) encode(s string) []byte {
	switch g.opts.Encoding {
	case leads.UTF16LE, leads.UTF16BE:
		return utf16Text(s, g.opts.Encoding == leads.UTF16BE, false)
	case leads.Windows1252:
		b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
		if err != nil {
			panic(fmt.Sprintf("generated text %q is not Windows-1252", s))
		}
		return b
	}
	return []byte(s)
}

func (g *genList) write(s string) int {
	g.data = append(g.data, g.encode(s)...)
	return len(g.data)
}

// cellText returns the text of a cell holding v: quoted when quote is set
// or v needs it, quotes doubled.
func cellText(v string, delim rune, quote bool) (string, bool) {
	quote = quote || strings.ContainsAny(v, "\"\r\n"+string(delim))
	if quote {
		return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`, true
	}
	return v, false
}

var (
	asciiRunes   = []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-@+()")
	cp1252Runes  = []rune("éüÖßñ€’çÆ")
	foreignRunes = []rune("ŁżЖ日本😀\u00a0\u2028")
)

// value returns a random cell value for a list: letters and digits,
// sometimes the delimiter, a quote, a line break (the list's own) or
// characters beyond ASCII (only Windows-1252's in such a list, unless
// anyRune).
func (g *genList) value(r *rand.Rand, oneLine, anyRune bool) (text, read string) {
	n := r.IntN(12)
	var b, rd strings.Builder
	for range n {
		switch k := r.IntN(20); {
		case k == 0:
			b.WriteRune(g.opts.Delimiter)
			rd.WriteRune(g.opts.Delimiter)
		case k == 1:
			b.WriteByte('"')
			rd.WriteByte('"')
		case k == 2 && !oneLine:
			b.WriteString(g.eol)
			rd.WriteByte('\n')
		case k == 3:
			c := cp1252Runes[r.IntN(len(cp1252Runes))]
			b.WriteRune(c)
			rd.WriteRune(c)
		case k == 4 && (anyRune || g.opts.Encoding != leads.Windows1252):
			c := foreignRunes[r.IntN(len(foreignRunes))]
			b.WriteRune(c)
			rd.WriteRune(c)
		default:
			c := asciiRunes[r.IntN(len(asciiRunes))]
			b.WriteRune(c)
			rd.WriteRune(c)
		}
	}
	return b.String(), rd.String()
}

// generate returns a random list.
func generate(r *rand.Rand) *genList {
	g := &genList{}
	switch r.IntN(6) {
	case 0:
		g.opts.Encoding = leads.UTF8
	case 1:
		g.opts.Encoding, g.bom = leads.UTF8, true
	case 2:
		g.opts.Encoding = leads.Windows1252
	case 3:
		g.opts.Encoding, g.bom = leads.UTF16LE, r.IntN(2) == 0
	case 4:
		g.opts.Encoding, g.bom = leads.UTF16BE, r.IntN(2) == 0
	default:
		g.opts.Encoding = leads.UTF8
	}
	g.opts.Delimiter = []rune{',', ';', '\t', '|'}[r.IntN(4)]
	g.eol = []string{"\n", "\r\n", "\r"}[r.IntN(3)]
	g.opts.CRLineEnds = g.eol == "\r"
	if g.bom {
		switch g.opts.Encoding {
		case leads.UTF8:
			g.data = append(g.data, 0xEF, 0xBB, 0xBF)
		case leads.UTF16LE:
			g.data = append(g.data, 0xFF, 0xFE)
		case leads.UTF16BE:
			g.data = append(g.data, 0xFE, 0xFF)
		}
	}
	width := 2 + r.IntN(5)
	names := make([]string, width)
	for i := range names {
		names[i] = "col_" + string(rune('a'+i))
	}
	g.write(strings.Join(names, string(g.opts.Delimiter)) + g.eol)
	rows := 1 + r.IntN(25)
	lastEOL := r.IntN(3) > 0
	for i := range rows {
		if r.IntN(8) == 0 {
			g.write(g.eol) // a blank line, which is no record
		}
		n := width
		if r.IntN(10) == 0 {
			n++ // ragged
		}
		// A record with a bare quote is read leniently, cut to its line:
		// its fields are then all of one line.
		lenient := r.IntN(8) == 0
		bare := -1
		if lenient {
			bare = r.IntN(n)
		}
		rec := genRecord{start: len(g.data), lenient: lenient}
		for j := range n {
			if j > 0 {
				g.write(string(g.opts.Delimiter))
			}
			f := genField{start: len(g.data)}
			var text string
			if j == bare {
				text = "a\"b" + string(asciiRunes[r.IntN(26)])
				f.value = text
			} else {
				var v string
				v, f.value = g.value(r, lenient, false)
				text, f.quoted = cellText(v, g.opts.Delimiter, r.IntN(4) == 0)
			}
			f.end = g.write(text)
			rec.fields = append(rec.fields, f)
		}
		if i < rows-1 || lastEOL {
			g.write(g.eol)
		}
		rec.end = len(g.data)
		g.records = append(g.records, rec)
	}
	return g
}

// genEdits returns random edits of g's records: new values for some cells
// of some, others deleted.
func genEdits(r *rand.Rand, g *genList) map[int64]Edit {
	m := map[int64]Edit{}
	for i, rec := range g.records {
		n := int64(i + 1)
		switch k := r.IntN(10); {
		case k < 3:
			e := Edit{Record: n, Cells: map[int]string{}}
			for range 1 + r.IntN(len(rec.fields)) {
				v, _ := g.value(r, rec.lenient, true)
				if r.IntN(6) == 0 && !rec.lenient {
					v = strings.NewReplacer("a", "\r", "b", "\n", "c", "\r\n").Replace(v)
				}
				e.Cells[r.IntN(len(rec.fields))] = v
			}
			m[n] = e
		case k == 3:
			m[n] = Edit{Record: n, Delete: true}
		}
	}
	return m
}

// newCell returns the bytes a new value v takes in g in place of field f,
// what it reads back as, and how many characters were masked: line breaks
// as the list writes them, characters the encoding cannot hold as X,
// quoted when the original was or the value needs it.
func (g *genList) newCell(v string, f genField, only bool) ([]byte, string, int) {
	if g.opts.CRLineEnds {
		v = strings.NewReplacer("\r\n", "\r", "\n", "\r").Replace(v)
	}
	masked := 0
	if g.opts.Encoding == leads.Windows1252 {
		v, masked = maskWindows1252(v)
	}
	text, _ := cellText(v, g.opts.Delimiter, f.quoted || only && v == "")
	read := strings.ReplaceAll(v, "\r\n", "\n")
	if g.opts.CRLineEnds {
		read = strings.ReplaceAll(v, "\r", "\n")
	}
	return g.encode(text), read, masked
}

func TestTextProperty(t *testing.T) {
	for seed := range uint64(600) {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		g := generate(r)
		e := genEdits(r, g)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			checkRewrite(t, g, e)
		})
	}
}

func checkRewrite(t *testing.T, g *genList, e map[int64]Edit) {
	t.Helper()
	var out bytes.Buffer
	res, err := Text(&out, bytes.NewReader(g.data), g.opts, e)
	if err != nil {
		t.Fatalf("Text: %v\nlist %q", err, g.data)
	}
	checkOutput(t, g, e, out.Bytes(), &res)
}

// reporter is what checkOutput needs of a *testing.T.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// checkOutput checks got, the rewrite of g with edits e, and res, Text's
// Result (nil: not checked).
func checkOutput(t reporter, g *genList, e map[int64]Edit, got []byte, res *Result) {
	t.Helper()
	// cut and cutOut are the byte ranges of the edited cells and deleted
	// records, in the input and in the output; shift is how far the
	// output has moved from the input so far.
	type rng struct{ from, to int }
	var cut, cutOut []rng
	var want []byte
	var wantFields [][]string
	var masked, edited, deleted int64
	prev, shift := 0, 0
	for i, rec := range g.records {
		ed := e[int64(i+1)]
		if ed.Delete {
			want = append(want, g.data[prev:rec.start]...)
			cut = append(cut, rng{rec.start, rec.end})
			shift -= rec.end - rec.start
			prev = rec.end
			deleted++
			continue
		}
		fields := make([]string, len(rec.fields))
		for j, f := range rec.fields {
			fields[j] = f.value
		}
		cols := make([]int, 0, len(ed.Cells))
		for c := range ed.Cells {
			cols = append(cols, c)
		}
		slices.Sort(cols)
		for _, c := range cols {
			f := rec.fields[c]
			cell, read, n := g.newCell(ed.Cells[c], f, len(rec.fields) == 1)
			want = append(want, g.data[prev:f.start]...)
			want = append(want, cell...)
			cut = append(cut, rng{f.start, f.end})
			cutOut = append(cutOut, rng{f.start + shift, f.start + shift + len(cell)})
			shift += len(cell) - (f.end - f.start)
			fields[c] = read
			masked += int64(n)
			prev = f.end
		}
		if len(cols) > 0 {
			edited++
		}
		wantFields = append(wantFields, fields)
	}
	want = append(want, g.data[prev:]...)

	// Removing the edited cells (and deleted records) from the input and
	// from the output leaves the same bytes.
	remove := func(b []byte, rs []rng) []byte {
		var keep []byte
		at := 0
		for _, r := range rs {
			if r.from < at || r.to > len(b) {
				return nil
			}
			keep = append(keep, b[at:r.from]...)
			at = r.to
		}
		return append(keep, b[at:]...)
	}
	if kept, keptOut := remove(g.data, cut), remove(got, cutOut); keptOut == nil || !bytes.Equal(kept, keptOut) {
		t.Errorf("bytes outside the edited cells differ:\nin  %q\nout %q", kept, keptOut)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("rewritten = %q\nwant        %q\nlist        %q", got, want, g.data)
	}
	if res != nil && (res.Edited != edited || res.Deleted != deleted || res.Unencodable != masked) {
		t.Fatalf("Edited, Deleted, Unencodable = %d, %d, %d, want %d, %d, %d", res.Edited, res.Deleted, res.Unencodable, edited, deleted, masked)
	}

	// Read back with leads: every record, every field.
	rd, err := leads.NewReader(bytes.NewReader(got), g.opts)
	if err != nil {
		t.Fatalf("reading the rewritten list: %v", err)
	}
	for i, fields := range wantFields {
		rec, err := rd.Next()
		if err != nil {
			t.Fatalf("record %d of the rewritten list: %v", i+1, err)
		}
		if !slices.Equal(rec.Fields, fields) {
			t.Fatalf("record %d reads %q, want %q", i+1, rec.Fields, fields)
		}
	}
	if rec, err := rd.Next(); err == nil {
		t.Fatalf("the rewritten list has a record %d (%q), want %d records", rec.Number, rec.Fields, len(wantFields))
	}
}

// TestTextPropertyOracle: the oracle above fails on a rewrite that is off
// by one byte, or that rewrites a cell it was not asked to, so that its
// passing means something.
func TestTextPropertyOracle(t *testing.T) {
	g := &genList{opts: leads.Options{Encoding: leads.UTF8, Delimiter: ','}, eol: "\n"}
	g.write("col_a,col_b\n")
	rec := genRecord{start: len(g.data)}
	rec.fields = append(rec.fields, genField{start: len(g.data), value: "Ann"})
	rec.fields[0].end = g.write("Ann")
	g.write(",")
	rec.fields = append(rec.fields, genField{start: len(g.data), value: "1223334444"})
	rec.fields[1].end = g.write("1223334444")
	rec.end = g.write("\n")
	g.records = append(g.records, rec)

	for _, bad := range [][]byte{
		[]byte("col_a,col_b\nAXX1223334444\n"),  // the delimiter eaten
		[]byte("col_a,col_b\nAXX,1223334444"),   // the line end lost
		[]byte("col_a,col_b\nAXX,12XX33XX44\n"), // another cell masked
		[]byte("col_a,col_b\n\"AXX\",1223334444\n"),
	} {
		if !oracleFails(g, edits(cells(1, 0, "AXX")), bad) {
			t.Errorf("the oracle accepts %q", bad)
		}
	}
	if oracleFails(g, edits(cells(1, 0, "AXX")), []byte("col_a,col_b\nAXX,1223334444\n")) {
		t.Errorf("the oracle refuses the right rewrite")
	}
}

// oracleFails reports whether checkOutput fails got.
func oracleFails(g *genList, e map[int64]Edit, got []byte) (failed bool) {
	ft := &fakeT{}
	defer func() {
		if r := recover(); r != nil && r != errFatal {
			panic(r)
		}
		failed = ft.failed
	}()
	checkOutput(ft, g, e, got, nil)
	return ft.failed
}

var errFatal = errors.New("fatal")

// fakeT records a failure; Fatalf stops the check as t.Fatalf would.
type fakeT struct{ failed bool }

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true; panic(errFatal) }

// maskWindows1252 returns v with every character Windows-1252 cannot hold
// as X, and how many there were.
func maskWindows1252(v string) (string, int) {
	var b strings.Builder
	n := 0
	for _, c := range v {
		if _, ok := charmap.Windows1252.EncodeRune(c); !ok && c >= utf8.RuneSelf {
			c = 'X'
			n++
		}
		b.WriteRune(c)
	}
	return b.String(), n
}
