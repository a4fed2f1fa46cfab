package leads

// Checking that a record is UTF-8, at the speed of ASCII for the text lead
// lists mostly are.

import (
	"encoding/binary"
	"unicode/utf8"
)

// validUTF8 is utf8.Valid, faster on text that is mostly ASCII with some
// letters that are not (José García): utf8.Valid checks eight ASCII bytes
// at a time only until the first other byte, then a rune at a time to the
// end; this checks sixteen at a time, and goes back to it after each such
// rune.
func validUTF8(p []byte) bool {
	for len(p) > 0 {
		for len(p) >= 16 && (binary.LittleEndian.Uint64(p)|binary.LittleEndian.Uint64(p[8:]))&0x8080808080808080 == 0 {
			p = p[16:]
		}
		for len(p) >= 8 && binary.LittleEndian.Uint64(p)&0x8080808080808080 == 0 {
			p = p[8:]
		}
		if len(p) == 0 {
			break
		}
		if p[0] < utf8.RuneSelf {
			p = p[1:]
			continue
		}
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			return false
		}
		p = p[size:]
	}
	return true
}
