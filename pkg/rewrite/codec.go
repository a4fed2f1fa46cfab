package rewrite

// Encodings: a cell is found and replaced in the list's own bytes, so the
// characters that shape a record (the quote, the delimiter, CR and LF) must
// be recognizable there without decoding. They are in UTF-8, in UTF-16 (a
// code unit below 0x80 is that ASCII character, and no surrogate is), in
// the ASCII-compatible single-byte code pages (checked from each code
// page's table) and in the stateless CJK encodings, whose continuation
// bytes are digits or 0x40 and above (checked against the delimiter). A new value is
// encoded in the list's encoding; a character it cannot hold is written as
// 'X', and counted, never transliterated.

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"

	"github.com/veil-privacy/veil/pkg/leads"
)

// maskRune stands in for a character the list's encoding cannot hold.
const maskRune = 'X'

var (
	utf16le = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	utf16be = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
)

// multiByte are the stateless multi-byte encodings whose continuation
// bytes are all 0x40 or above, but for GB18030's four-byte digits: a
// quote, CR, LF or a delimiter below 0x40 (leads allows no digit) is
// never inside a character.
var multiByte = map[string]bool{
	"shift_jis": true, "euc-jp": true, "euc-kr": true, "gbk": true, "gb18030": true, "big5": true,
}

// codec reads and writes the text of one encoding, as leads decodes it.
type codec struct {
	name      string
	unit      int // bytes per code unit: 2 for UTF-16, else 1
	bigEndian bool
	enc       encoding.Encoding // nil for UTF-8
	single    *charmap.Charmap  // set for single-byte code pages
}

// newCodec returns the codec of the encoding leads named name (a canonical
// htmlindex name, as leads.Reader.Options reports it) for a list whose
// delimiter is delim. It fails with an error wrapping
// ErrUnsupportedEncoding when cells of such a list cannot be found in its
// bytes.
func newCodec(name string, delim rune) (codec, error) {
	switch name {
	case "", leads.UTF8:
		return codec{name: leads.UTF8, unit: 1}, nil
	case leads.UTF16LE:
		return codec{name: name, unit: 2, enc: utf16le}, nil
	case leads.UTF16BE:
		return codec{name: name, unit: 2, bigEndian: true, enc: utf16be}, nil
	}
	enc, err := htmlindex.Get(name)
	if err != nil {
		return codec{}, fmt.Errorf("%w: %q", ErrUnsupportedEncoding, name)
	}
	if cm, ok := enc.(*charmap.Charmap); ok {
		if !asciiShaped(cm, delim) {
			return codec{}, fmt.Errorf("%w: %q", ErrUnsupportedEncoding, name)
		}
		return codec{name: name, unit: 1, enc: enc, single: cm}, nil
	}
	if multiByte[name] && delim < 0x40 {
		return codec{name: name, unit: 1, enc: enc}, nil
	}
	if multiByte[name] {
		return codec{}, fmt.Errorf("%w: %q with delimiter %q", ErrUnsupportedEncoding, name, delim)
	}
	return codec{}, fmt.Errorf("%w: %q", ErrUnsupportedEncoding, name)
}

// asciiShaped reports whether the code page writes the quote, the
// delimiter, CR, LF and the mask character as their ASCII bytes, and no
// other byte as one of them.
func asciiShaped(cm *charmap.Charmap, delim rune) bool {
	special := func(r rune) bool { return r == '"' || r == delim || r == '\r' || r == '\n' || r == maskRune }
	for b := range 256 {
		r := cm.DecodeByte(byte(b))
		if special(r) != special(rune(b)) || special(r) && r != rune(b) {
			return false
		}
	}
	return true
}

// decode returns b, whole code units of the list, as the UTF-8 text leads
// reads from it. In a UTF-8 list, text that is not valid UTF-8 is read as
// Windows-1252, as leads reads such a field.
func (c codec) decode(b []byte) (string, error) {
	switch {
	case c.enc == nil:
		if utf8.Valid(b) {
			return string(b), nil
		}
		s, err := charmap.Windows1252.NewDecoder().String(string(b))
		if err != nil {
			return strings.ToValidUTF8(string(b), "\uFFFD"), nil
		}
		return s, nil
	case c.single != nil:
		var sb strings.Builder
		sb.Grow(len(b))
		for _, x := range b {
			sb.WriteRune(c.single.DecodeByte(x))
		}
		return sb.String(), nil
	}
	out, err := c.enc.NewDecoder().Bytes(b)
	return string(out), err
}

// mask returns s with every character the encoding cannot hold replaced by
// maskRune, and how many there were. s is valid UTF-8.
func (c codec) mask(s string) (string, int) {
	if c.enc == nil || c.unit == 2 {
		return s, 0 // UTF-8 and UTF-16 hold every character
	}
	var b strings.Builder
	n := 0
	var e *encoding.Encoder
	for _, r := range s {
		ok := r < utf8.RuneSelf
		switch {
		case ok:
		case c.single != nil:
			_, ok = c.single.EncodeRune(r)
		default:
			if e == nil {
				e = c.enc.NewEncoder()
			}
			_, err := e.String(string(r))
			ok = err == nil
		}
		if !ok {
			r, n = maskRune, n+1
		}
		b.WriteRune(r)
	}
	return b.String(), n
}

// appendEncoded appends s, valid UTF-8 that mask has made encodable, to
// dst in the list's encoding.
func (c codec) appendEncoded(dst []byte, s string) ([]byte, error) {
	switch {
	case c.enc == nil:
		return append(dst, s...), nil
	case c.unit == 2:
		for _, r := range s {
			if r >= 0x10000 {
				r1, r2 := utf16.EncodeRune(r)
				dst = c.appendUnit(c.appendUnit(dst, r1), r2)
				continue
			}
			dst = c.appendUnit(dst, r)
		}
		return dst, nil
	case c.single != nil:
		for _, r := range s {
			b, ok := c.single.EncodeRune(r)
			if !ok {
				return dst, fmt.Errorf("rewrite: %s cannot hold a masked character", c.name)
			}
			dst = append(dst, b)
		}
		return dst, nil
	}
	out, err := c.enc.NewEncoder().String(s)
	return append(dst, out...), err
}

func (c codec) appendUnit(dst []byte, r rune) []byte {
	if c.bigEndian {
		return append(dst, byte(r>>8), byte(r))
	}
	return append(dst, byte(r), byte(r>>8))
}

// view returns the record's shape in b, its bytes with every CR already a
// LF when the list's lines end with CR: one byte per code unit, the unit
// itself when it is ASCII, else 0x80, which is no character that shapes a
// record. For a list of one-byte units, the view is b.
func (c codec) view(dst, b []byte) []byte {
	if c.unit == 1 {
		return b
	}
	dst = dst[:0]
	for i := 0; i+1 < len(b); i += 2 {
		u := uint16(b[i]) | uint16(b[i+1])<<8
		if c.bigEndian {
			u = uint16(b[i])<<8 | uint16(b[i+1])
		}
		if u >= utf8.RuneSelf {
			u = utf8.RuneSelf
		}
		dst = append(dst, byte(u))
	}
	return dst
}

// crToLF rewrites every CR code unit of b as LF, as leads reads a list
// whose lines end with CR.
func (c codec) crToLF(b []byte) {
	if c.unit == 1 {
		for i, x := range b {
			if x == '\r' {
				b[i] = '\n'
			}
		}
		return
	}
	lo := 0 // the byte of a unit that holds an ASCII value
	if c.bigEndian {
		lo = 1
	}
	for i := 0; i+1 < len(b); i += 2 {
		if b[i+lo] == '\r' && b[i+1-lo] == 0 {
			b[i+lo] = '\n'
		}
	}
}
