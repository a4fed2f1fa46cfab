package identifiers

// Multi-value cells: lead lists put a consumer's second phone or email in
// the same cell ("415-555-0166 / 415-555-0167", "a@example.com;
// b@example.com"). Each value is an identifier of its own, and the indexer,
// search and masking must agree on what the values of a cell are, so they
// are cut here and nowhere else.

import (
	"strings"
	"unicode/utf8"
)

// Separator classes, by the byte a separator is or follows (sepBytes).
const (
	sepAny   uint8 = 1 << iota // ';', '\n', '\r': a separator in every identifier kind
	sepComma                   // ',': in phones and emails only ("1,234" is one account number)
	sepWord                    // ' ', '\t': may precede "/" or "or", a separator only between blanks ("AB/123", "030/1234567")
)

// sepBytes classifies the bytes a separator can be or follow; every other
// byte is 0. The words are found from the blank before them, which emails
// and IDs rarely have, rather than from "o", which most emails have.
var sepBytes = [256]uint8{
	';': sepAny, '\n': sepAny, '\r': sepAny,
	',': sepComma,
	' ': sepWord, '\t': sepWord,
}

// sepClasses returns the separator classes of kind: none for a kind that
// is not an identifier, whose cells are never split.
func sepClasses(kind Kind) uint8 {
	switch kind {
	case Phone, Email:
		return sepAny | sepComma | sepWord
	case CustomerID, AccountNumber:
		return sepAny | sepWord
	}
	return 0
}

// SplitValues returns the values of cell, a cell of a column of kind kind:
// the pieces between separators, each trimmed of white space, blank pieces
// left out. The separators are a line break, ";", " / " and " or " (any
// case; the slash or word after a space or tab and before a space, tab or
// line break) for every identifier kind, and "," too for phones and
// emails. A bare "/" ("030/1234567", "AB/123") separates nothing, nor does
// a "," or ";" in a phone that introduces an extension ("212-555-1234,
// ext. 5", ";ext=5"). A cell of a kind that is not an identifier is one
// value. It returns nil for a blank cell and never fails; see AppendValues
// to split without allocating.
func SplitValues(kind Kind, cell string) []string {
	return AppendValues(nil, kind, cell)
}

// AppendValues appends the values of cell (see SplitValues) to dst and
// returns the extended slice. The values are substrings of cell, so with a
// dst of enough capacity it does not allocate. It never fails.
func AppendValues(dst []string, kind Kind, cell string) []string {
	classes := sepClasses(kind)
	i := candidate(classes, cell, 0)
	if i < 0 && !needsTrim(cell) {
		return append(dst, cell) // the common cell: one value, nothing to trim
	}
	start := 0
	for i >= 0 {
		end := separatorEnd(kind, cell, i, sepBytes[cell[i]]&classes)
		if end < 0 {
			i = candidate(classes, cell, i+1)
			continue
		}
		dst = appendValue(dst, cell[start:i])
		start = end
		i = candidate(classes, cell, end)
	}
	return appendValue(dst, cell[start:])
}

// candidate returns the index of the first byte of s[from:] that may start
// a separator of the classes (separatorEnd decides), -1 if there is none.
// It skips eight bytes at a time where none can (mayHoldSeparator), so a
// cell with one value costs two or three such tests, and calls nothing,
// so it needs no stack frame.
func candidate(classes uint8, s string, from int) int {
	if classes == 0 {
		return -1
	}
	comma := classes&sepComma != 0
	for i := from; i < len(s); {
		if i+8 <= len(s) {
			if !mayHoldSeparator(load64(s, i), comma) {
				i += 8
				continue
			}
		} else if len(s) >= 8 && !mayHoldSeparator(load64(s, len(s)-8), comma) {
			return -1 // the last eight bytes, overlapping some already seen
		}
		for stop := min(i+8, len(s)); i < stop; i++ {
			class := sepBytes[s[i]] & classes
			if class == 0 || class == sepWord && i+1 < len(s) && s[i+1] != '/' && s[i+1]|0x20 != 'o' {
				continue // most blanks are followed by neither "/" nor "or"
			}
			return i
		}
	}
	return -1
}

const (
	lsb = 0x0101010101010101 // the low bit of each byte of a word
	msb = 0x8080808080808080 // the high bit of each byte of a word
)

// mayHoldSeparator reports whether any of the eight bytes of w is below
// '!' (blanks and line breaks), ';', or, if comma, ','. It is the classic
// "has a byte less than" and "has a zero byte" test on the whole word, so
// a false positive is possible after a true one but a miss is not.
func mayHoldSeparator(w uint64, comma bool) bool {
	m := (w - lsb*'!') &^ w
	v := w ^ (lsb * ';')
	m |= (v - lsb) &^ v
	if comma {
		v = w ^ (lsb * ',')
		m |= (v - lsb) &^ v
	}
	return m&msb != 0
}

// load64 returns s[i:i+8] as a little-endian word.
func load64(s string, i int) uint64 {
	b := s[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// appendValue appends v trimmed to dst unless it is blank.
func appendValue(dst []string, v string) []string {
	if needsTrim(v) {
		if v = strings.TrimSpace(v); v == "" {
			return dst
		}
	}
	return append(dst, v)
}

// needsTrim reports whether v is empty or may start or end with white
// space: it looks at both ends before TrimSpace is called, which (for
// Unicode spaces) may have to decode them.
func needsTrim(v string) bool {
	return v == "" || v[0] <= ' ' || v[0] >= utf8.RuneSelf || v[len(v)-1] <= ' ' || v[len(v)-1] >= utf8.RuneSelf
}

// separatorEnd returns the end of the separator that is, or for class
// sepWord follows, s[i], a byte of class class, or -1 if there is none.
func separatorEnd(kind Kind, s string, i int, class uint8) int {
	if class != sepWord {
		if kind == Phone && (s[i] == ';' || s[i] == ',') && extensionFollows(s[i+1:]) {
			return -1
		}
		return i + 1
	}
	end := i + 1
	switch {
	case end < len(s) && s[end] == '/':
		end++
	case end+1 < len(s) && s[end]|0x20 == 'o' && s[end+1]|0x20 == 'r':
		end += 2
	default:
		return -1
	}
	if end == len(s) || !isBlank(s[end]) {
		return -1
	}
	return end
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// extensionFollows reports whether s starts with a phone extension: blanks,
// a label (x, ext, extn, extension or #, any case), optionally ".", ":" or
// "=", blanks, and a digit.
func extensionFollows(s string) bool {
	s = strings.TrimLeft(s, " \t")
	n := extensionLabel(s)
	if n == 0 {
		return false
	}
	s = s[n:]
	if s != "" && (s[0] == '.' || s[0] == ':' || s[0] == '=') {
		s = s[1:]
	}
	s = strings.TrimLeft(s, " \t")
	return s != "" && '0' <= s[0] && s[0] <= '9'
}

// extensionLabel returns the length of the extension label s starts with,
// 0 if none.
func extensionLabel(s string) int {
	for _, l := range [...]string{"extension", "extn", "ext"} {
		if len(s) >= len(l) && strings.EqualFold(s[:len(l)], l) {
			return len(l)
		}
	}
	if s != "" && (s[0]|0x20 == 'x' || s[0] == '#') {
		return 1
	}
	return 0
}
