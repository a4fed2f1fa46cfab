package indexing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/veil-privacy/veil/pkg/leads"
)

// readAll returns every record of rd as "number line offset length fields"
// (or the error), the oracle chunks are compared with.
func readAll(t *testing.T, rd *leads.Reader) []string {
	t.Helper()
	var out []string
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if pe := (*leads.ParseError)(nil); err != nil && !errors.As(err, &pe) {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, fmt.Sprintf("%d %d %d %d %q %v", rec.Number, rec.Line, rec.Offset, rec.Length, rec.Fields, err != nil))
	}
}

// chunkedList is a list whose records straddle any small chunk size:
// quoted fields with line feeds, quotes, accents, blank lines, a bad row.
func chunkedList(n int, eol string) string {
	var b strings.Builder
	b.WriteString("Customer ID,Name,Email,Phone,Notes" + eol)
	for i := 1; i <= n; i++ {
		notes := "plain"
		switch i % 7 {
		case 1:
			notes = `"two` + eol + `lines, ""quoted"""`
		case 3:
			notes = "Müller café"
		case 5:
			notes = `"a` + eol + eol + `b"`
		}
		fmt.Fprintf(&b, "C%05d,Name %d,user%d@example.com,(555) 201-%04d,%s%s", i, i, i, i, notes, eol)
		if i%50 == 0 {
			b.WriteString(eol) // a blank line
		}
	}
	return b.String()
}

// TestChunkBoundariesAreRecordAligned: a list cut by chunkBoundaries and
// read back chunk by chunk with leads.NewReaderAt gives exactly the records
// of one whole-list read (numbers, lines, absolute offsets and lengths,
// fields), whatever the encoding and line ends.
func TestChunkBoundariesAreRecordAligned(t *testing.T) {
	utf16le := func(s string) []byte {
		b, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		return b
	}
	utf16be := func(s string) []byte {
		b, _ := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		return b
	}
	cp1252 := func(s string) []byte {
		b, _ := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"utf-8 LF", []byte(chunkedList(400, "\n"))},
		{"utf-8 BOM CRLF", append([]byte("\xEF\xBB\xBF"), chunkedList(400, "\r\n")...)},
		{"utf-8 CR", []byte(chunkedList(400, "\r"))},
		{"utf-8 preamble", []byte("Lead export\n2026-03-01\n\n" + chunkedList(300, "\n"))},
		{"utf-16le CRLF", utf16le(chunkedList(300, "\r\n"))},
		{"utf-16be LF", utf16be(chunkedList(300, "\n"))},
		{"windows-1252 CRLF", cp1252(chunkedList(400, "\r\n"))},
		// Past the 64 KiB the reader sniffs: an unreadable row, not a binary file.
		{"utf-8 NUL row", []byte(strings.Replace(chunkedList(1200, "\n"), "Name 1100,", "Na\x00me,", 1))},
	}
	for _, tc := range tests {
		for _, size := range []int64{1, 97, 1000, 4096, 1 << 20} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, size), func(t *testing.T) {
				whole, err := leads.NewReader(bytes.NewReader(tc.data), leads.Options{})
				if err != nil {
					t.Fatalf("NewReader: %v", err)
				}
				want := readAll(t, whole)
				rd, err := leads.NewReader(bytes.NewReader(tc.data), leads.Options{})
				if err != nil {
					t.Fatalf("NewReader: %v", err)
				}
				chunks, err := chunkBoundaries(textRows{rd}, size, func(row) {})
				if err != nil {
					t.Fatalf("chunkBoundaries: %v", err)
				}
				chunks[len(chunks)-1].End = int64(len(tc.data))
				var got []string
				for i, c := range chunks {
					if i > 0 && c.Start != chunks[i-1].End {
						t.Fatalf("chunk %d starts at %d, chunk %d ends at %d", i, c.Start, i-1, chunks[i-1].End)
					}
					part, err := leads.NewReaderAt(bytes.NewReader(tc.data[c.Start:c.End]),
						leads.Position{Offset: c.Start, Number: c.FirstRecord, Line: c.FirstLine},
						whole.Header(), whole.HeaderLine(), whole.Options())
					if err != nil {
						t.Fatalf("NewReaderAt: %v", err)
					}
					got = append(got, readAll(t, part)...)
				}
				if size == 97 && len(chunks) < 20 {
					t.Errorf("%d chunks of 97 bytes, want many", len(chunks))
				}
				if !reflect.DeepEqual(got, want) {
					for i := range min(len(got), len(want)) {
						if got[i] != want[i] {
							t.Fatalf("record %d = %s, want %s", i, got[i], want[i])
						}
					}
					t.Fatalf("%d records read in %d chunks, want %d", len(got), len(chunks), len(want))
				}
			})
		}
	}
}
