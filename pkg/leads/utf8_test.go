package leads

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzValidUTF8 checks validUTF8 against utf8.Valid.
func FuzzValidUTF8(f *testing.F) {
	for _, s := range []string{"", "ascii only, longer than eight bytes", "José García,415-555-0100,jose@example.com\r\n",
		"Jos\xe9 M\xfcller;(415) 555-0166", "\xed\xa0\x80 surrogate", "\xf4\x90\x80\x80 past U+10FFFF", "\xc0\xaf overlong",
		"\xef\xbf\xbd is U+FFFD", "12345678é", "1234567\xc3", strings.Repeat("é", 9) + "abcdefgh\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validUTF8(b), utf8.Valid(b); got != want {
			t.Fatalf("validUTF8(%q) = %v, want %v", b, got, want)
		}
	})
}
