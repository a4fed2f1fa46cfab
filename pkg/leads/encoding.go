package leads

// Encodings: Excel on Windows saves "CSV" in the machine's ANSI code page
// (Windows-1252 in Western locales) and "Unicode Text" as UTF-16 LE with a
// byte-order mark; CRMs and dialers write UTF-8. A list is decoded to UTF-8
// for parsing, while every byte range stays exact in the object's original
// bytes, so that a row read back with a ranged GET decodes the same way.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Canonical names of the encodings detected without being told.
const (
	UTF8        = "utf-8"
	UTF16LE     = "utf-16le"
	UTF16BE     = "utf-16be"
	Windows1252 = "windows-1252"
)

// ErrUnknownEncoding means an encoding name is not one
// golang.org/x/text/encoding/htmlindex knows.
var ErrUnknownEncoding = errors.New("leads: unknown encoding")

// LookupEncoding returns the canonical name of an encoding label
// ("ISO-8859-1", "Shift_JIS", "latin1", "utf-16le", …) as the WHATWG
// Encoding Standard names it, or an error wrapping ErrUnknownEncoding.
func LookupEncoding(label string) (string, error) {
	enc, err := htmlindex.Get(strings.TrimSpace(label))
	if err != nil {
		return "", fmt.Errorf("%w %q", ErrUnknownEncoding, label)
	}
	name, err := htmlindex.Name(enc)
	if err != nil {
		return "", fmt.Errorf("%w %q", ErrUnknownEncoding, label)
	}
	return name, nil
}

var (
	utf16le = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	utf16be = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
)

// codec is how one encoding is decoded and how its line feeds look.
type codec struct {
	name string
	enc  encoding.Encoding // nil for UTF-8: the bytes are the text
	// unit is the width of a code unit: 2 for UTF-16, else 1 (every
	// other encoding the WHATWG standard names is ASCII-compatible, and
	// the byte 0x0A is a line feed in all of them).
	unit      int
	bigEndian bool
	// single is set for single-byte code pages (Windows-125x, ISO-8859-x,
	// KOI8, …): decoded by decodeSingle, whose runs of ASCII cost a copy.
	single *charmap.Charmap
}

func codecFor(name string) (codec, error) {
	switch name {
	case "", UTF8:
		return codec{name: UTF8, unit: 1}, nil
	case UTF16LE:
		return codec{name: UTF16LE, enc: utf16le, unit: 2}, nil
	case UTF16BE:
		return codec{name: UTF16BE, enc: utf16be, unit: 2, bigEndian: true}, nil
	case Windows1252:
		return codec{name: Windows1252, enc: charmap.Windows1252, unit: 1, single: charmap.Windows1252}, nil
	}
	canon, err := LookupEncoding(name)
	if err != nil {
		return codec{}, err
	}
	if canon != name {
		return codecFor(canon)
	}
	enc, _ := htmlindex.Get(canon)
	single, _ := enc.(*charmap.Charmap)
	return codec{name: canon, enc: enc, unit: 1, single: single}, nil
}

// detect reads the encoding from a byte-order mark, else from the sample:
// UTF-16 without a mark when every other byte is NUL, UTF-8 when the sample
// is valid UTF-8, Windows-1252 otherwise. It returns the mark's length.
func detect(sample []byte, atEOF bool) (string, int) {
	switch {
	case bytes.HasPrefix(sample, bom):
		return UTF8, len(bom)
	case bytes.HasPrefix(sample, []byte{0xFF, 0xFE}) && !bytes.HasPrefix(sample, []byte{0xFF, 0xFE, 0, 0}):
		return UTF16LE, 2
	case bytes.HasPrefix(sample, []byte{0xFE, 0xFF}):
		return UTF16BE, 2
	}
	if le, be := nulParity(sample); le {
		return UTF16LE, 0
	} else if be {
		return UTF16BE, 0
	}
	if validUTF8Prefix(sample, atEOF) {
		return UTF8, 0
	}
	return Windows1252, 0
}

// nulParity reports whether the sample looks like mostly-ASCII UTF-16
// without a mark: NUL in at least every other odd byte and no even one
// (LE), or the reverse (BE). Text in any other encoding has no NUL at all.
func nulParity(s []byte) (le, be bool) {
	n := len(s) &^ 1
	if n < 4 {
		return false, false
	}
	var even, odd int
	for i := 0; i < n; i += 2 {
		if s[i] == 0 {
			even++
		}
		if s[i+1] == 0 {
			odd++
		}
	}
	units := n / 2
	return even == 0 && odd*2 >= units, odd == 0 && even*2 >= units
}

// validUTF8Prefix reports whether s is valid UTF-8, allowing a rune cut
// off by the sample's end.
func validUTF8Prefix(s []byte, atEOF bool) bool {
	if utf8.Valid(s) {
		return true
	}
	if atEOF {
		return false
	}
	for cut := 1; cut < utf8.UTFMax && cut <= len(s); cut++ {
		if utf8.Valid(s[:len(s)-cut]) {
			return !utf8.FullRune(s[len(s)-cut:])
		}
	}
	return false
}

// decodeBytes decodes b, a whole record or sample, to UTF-8.
func (c codec) decodeBytes(b []byte) ([]byte, error) {
	if c.enc == nil {
		return b, nil
	}
	if c.single != nil {
		return c.decodeSingle(make([]byte, 0, len(b)+len(b)/8), b), nil
	}
	out, _, err := transform.Bytes(c.enc.NewDecoder(), b)
	return out, err
}

// decodeSingle appends src, in a single-byte code page, to dst as UTF-8.
// Lead lists are mostly ASCII, which every such code page keeps as is:
// ASCII runs are copied whole, and each other byte is mapped by the code
// page's own table (charmap.Charmap.DecodeByte), so decoding costs little
// more than the copy.
func (c codec) decodeSingle(dst, src []byte) []byte {
	for len(src) > 0 {
		i := 0
		for i < len(src) && src[i] < utf8.RuneSelf {
			i++
		}
		dst = append(dst, src[:i]...)
		if i == len(src) {
			break
		}
		dst = utf8.AppendRune(dst, c.single.DecodeByte(src[i]))
		src = src[i+1:]
	}
	return dst
}

// fromWindows1252 decodes a field of a UTF-8 list that is not valid UTF-8:
// lists concatenated from several exports mix UTF-8 and ANSI rows, and a
// byte that is not UTF-8 is read as Excel's default code page would.
func fromWindows1252(s string) string {
	out, err := charmap.Windows1252.NewDecoder().String(s)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return out
}

// transcoder decodes a list to UTF-8 as it is read and keeps the source
// offset of every line start it has seen, so that a record's range in
// decoded text maps back to its exact range in the source bytes. Records
// start and end at line starts (or the end of the input), so lines are all
// the mapping needs. It decodes a block at a time, cut after its last line
// feed, and checks that decoding kept every line feed in place.
type transcoder struct {
	src  io.Reader
	c    codec
	dec  transform.Transformer
	in   []byte // source bytes not yet decoded; in[0] is at source offset inOff
	out  []byte // decoded bytes not yet read
	outR int
	eof  bool
	err  error

	inOff int64
	// starts[i] is the source offset of line firstLine+i.
	starts    []int64
	firstLine int
	total     int64 // source bytes decoded, the offset of the end at EOF
	lines     int   // line feeds decoded so far
}

// transcodeBlock is how much source is decoded at a time.
const transcodeBlock = 64 << 10

func newTranscoder(src io.Reader, c codec, start int64) *transcoder {
	return &transcoder{src: src, c: c, dec: c.enc.NewDecoder(), inOff: start, total: start,
		starts: []int64{start}, firstLine: 1}
}

func (t *transcoder) Read(p []byte) (int, error) {
	for t.outR == len(t.out) {
		if t.err != nil {
			return 0, t.err
		}
		t.fill()
	}
	n := copy(p, t.out[t.outR:])
	t.outR += n
	return n, nil
}

// fill decodes the next block.
func (t *transcoder) fill() {
	t.out, t.outR = t.out[:0], 0
	for !t.eof {
		if cap(t.in)-len(t.in) < transcodeBlock {
			t.in = append(make([]byte, 0, len(t.in)+2*transcodeBlock), t.in...)
		}
		n, err := t.src.Read(t.in[len(t.in):cap(t.in)])
		t.in = t.in[:len(t.in)+n]
		if err == io.EOF {
			t.eof = true
		} else if err != nil {
			t.err = err
			return
		}
		if n == 0 && err == nil {
			continue
		}
		if len(t.in) >= transcodeBlock && t.lastLineFeed() > 0 {
			break
		}
		if len(t.in) >= 4*transcodeBlock {
			break // a long line: decode what the decoder can take
		}
	}
	seg := t.in
	if cut := t.lastLineFeed(); cut > 0 && !t.eof {
		seg = t.in[:cut]
	}
	atEOF := t.eof && len(seg) == len(t.in)
	var nDst, nSrc int
	if t.c.single != nil {
		t.out = t.c.decodeSingle(t.out[:0], seg)
		nDst, nSrc = len(t.out), len(seg)
	} else {
		// Every encoding's worst case is three UTF-8 bytes per source
		// byte (a single byte to a BMP rune, or to U+FFFD), so one call
		// always fits.
		dst := t.out[:cap(t.out)]
		if len(dst) < 3*len(seg)+16 {
			dst = make([]byte, 3*len(seg)+16)
		}
		var err error
		nDst, nSrc, err = t.dec.Transform(dst, seg, atEOF)
		if err != nil && err != transform.ErrShortSrc {
			t.err = &ParseError{Line: t.lines + 1, Record: -1, Err: ErrEncoding}
			return
		}
		t.out = dst
	}
	t.out = t.out[:nDst]
	consumed := seg[:nSrc]
	feeds := t.indexLines(consumed)
	if got := bytes.Count(t.out, []byte{'\n'}); got != feeds {
		t.err = &ParseError{Line: t.lines + 1, Record: -1, Err: ErrEncoding}
		return
	}
	t.lines += feeds
	t.inOff += int64(nSrc)
	t.total = t.inOff
	t.in = append(t.in[:0], t.in[nSrc:]...)
	if t.eof && len(t.in) == 0 {
		t.err = io.EOF
	} else if t.eof && nSrc == 0 {
		// A code unit cut off by the end of the input.
		t.total += int64(len(t.in))
		t.in = t.in[:0]
		t.err = io.EOF
	}
}

// lastLineFeed returns the length of t.in through its last line feed, or 0.
func (t *transcoder) lastLineFeed() int {
	b := t.in
	if t.c.unit == 1 {
		return bytes.LastIndexByte(b, '\n') + 1
	}
	for i := len(b)&^1 - 2; i >= 0; i -= 2 {
		if t.isLineFeed(b, i) {
			return i + 2
		}
	}
	return 0
}

func (t *transcoder) isLineFeed(b []byte, i int) bool {
	if t.c.bigEndian {
		return b[i] == 0 && b[i+1] == '\n'
	}
	return b[i] == '\n' && b[i+1] == 0
}

// indexLines records the source offset after every line feed of b, which
// starts at t.inOff, and returns how many there were.
func (t *transcoder) indexLines(b []byte) int {
	n := 0
	if t.c.unit == 1 {
		for i := 0; ; {
			j := bytes.IndexByte(b[i:], '\n')
			if j < 0 {
				break
			}
			i += j + 1
			t.starts = append(t.starts, t.inOff+int64(i))
			n++
		}
		return n
	}
	for i := 0; i+1 < len(b); i += 2 {
		if t.isLineFeed(b, i) {
			t.starts = append(t.starts, t.inOff+int64(i+2))
			n++
		}
	}
	return n
}

// lineStart returns the source offset of line n's first byte, and false
// when line n has not been reached (it starts past the end of the input).
func (t *transcoder) lineStart(n int) (int64, bool) {
	i := n - t.firstLine
	if i < 0 || i >= len(t.starts) {
		return t.total, false
	}
	return t.starts[i], true
}

// release forgets the line starts before line n.
func (t *transcoder) release(n int) {
	drop := n - t.firstLine
	if drop <= 0 || drop > len(t.starts) {
		return
	}
	if drop >= 1024 && drop >= len(t.starts)/2 {
		k := copy(t.starts, t.starts[drop:])
		t.starts = t.starts[:k]
		t.firstLine = n
	}
}

// crToLF rewrites every CR code unit of b, whole units from b[0], as LF.
func (c codec) crToLF(b []byte) {
	if c.unit == 1 {
		for i, x := range b {
			if x == '\r' {
				b[i] = '\n'
			}
		}
		return
	}
	for i := 0; i+1 < len(b); i += 2 {
		switch {
		case !c.bigEndian && b[i] == '\r' && b[i+1] == 0:
			b[i] = '\n'
		case c.bigEndian && b[i] == 0 && b[i+1] == '\r':
			b[i+1] = '\n'
		}
	}
}

// crReader reads a list whose lines end with a lone CR, every CR as LF.
// It passes whole code units only, so that a unit is never split between
// two reads.
type crReader struct {
	r    io.Reader
	c    codec
	odd  []byte // a byte of a unit cut off by the last read (UTF-16)
	held [1]byte
}

func (cr *crReader) Read(p []byte) (int, error) {
	n := copy(p, cr.odd)
	cr.odd = nil
	m, err := cr.r.Read(p[n:])
	n += m
	if cr.c.unit == 2 && n%2 == 1 && err == nil {
		cr.held[0] = p[n-1]
		cr.odd = cr.held[:]
		n--
	}
	cr.c.crToLF(p[:n])
	return n, err
}
