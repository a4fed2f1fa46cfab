package masking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

var testKey = []byte("0123456789abcdef-masking-test-key")

func newMasker(t testing.TB, s Strategy) *Masker {
	t.Helper()
	m, err := NewMasker(Config{Strategy: s, Key: testKey})
	if err != nil {
		t.Fatalf("NewMasker(%v) = %v", s, err)
	}
	return m
}

func TestMaskAlternate(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// The contact-center convention's own examples.
		{"1223334444", "12XX33XX44"},
		{"someone@example.com", "soXXonXXexXXplXXcoX"},
		{"", ""},
		{"1", "1"},
		{"12", "12"},
		{"123", "12X"},
		{"1234", "12XX"},
		{"12345", "12XX5"},
		{"(212) 555-0147", "(2XX) XX5-XX47"},
		{"  ", "  "},
		{"    ", "  XX"},
		// Runes, not bytes.
		{"Zoë Ångström", "ZoXXÅnXXtrXX"},
		{"😀😀😀😀😀", "😀😀XX😀"},
		{"日本語のテキスト", "日本XXテキXX"},
		{"e\u0301e\u0301", "e\u0301XX"},
		// U+FFFD written out is a character like any other.
		{"\uFFFD\uFFFD\uFFFD", "\uFFFD\uFFFDX"},
		// Invalid UTF-8: each byte one character, always masked.
		{"\xff\xfeab", "XXXX"},
		{"a\xffbcde", "aXXXde"},
		{"ab\xc3", "abX"},
		{"\xed\xa0\x80", "XXX"}, // an encoded surrogate
		{"\xf0\x9f\x98", "XXX"}, // a truncated emoji
		// NUL, which no text cell carries: always masked.
		{"\x00\x00ab\x00", "XXXXX"},
		{"a\x00", "aX"},
		// Already masked: unchanged.
		{"12XX33XX44", "12XX33XX44"},
		{"XXXX", "XXXX"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			if got := MaskAlternate(tc.in); got != tc.want {
				t.Fatalf("MaskAlternate(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMaskRedact(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"1223334444", "XXXXXXXXXX"},
		{"Zoë Ångström", "XXXXXXXXXXXX"},
		{"😀 ", "XX"},
		{"a\xffb", "XXX"},
		{"XXX", "XXX"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			if got := MaskRedact(tc.in); got != tc.want {
				t.Fatalf("MaskRedact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMaskerMask(t *testing.T) {
	tests := []struct {
		name     string
		strategy Strategy
		kind     identifiers.Kind
		in, want string
	}{
		{"alternate phone", Alternate, identifiers.Phone, "1223334444", "12XX33XX44"},
		{"alternate email", Alternate, identifiers.Email, "someone@example.com", "soXXonXXexXXplXXcoX"},
		{"alternate name", Alternate, identifiers.FirstName, "Zoë", "ZoX"},
		{"redact address", Redact, identifiers.Address, "1 Main St", "XXXXXXXXX"},
		{"business untouched", Alternate, identifiers.Business, "Spring promo =1+1", "Spring promo =1+1"},
		{"business untouched by redact", Redact, identifiers.Business, "a\xffb", "a\xffb"},
		{"business untouched by hmac", HMAC, identifiers.Business, "Gold", "Gold"},
		{"business untouched by delete-row", DeleteRow, identifiers.Business, "Gold", "Gold"},
		{"invalid kind masked", Redact, identifiers.Kind(200), "secret", "XXXXXX"},
		{"empty stays empty", Redact, identifiers.Phone, "", ""},
		{"empty stays empty under hmac", HMAC, identifiers.Email, "", ""},
		{"delete-row empties", DeleteRow, identifiers.Phone, "212-555-0147", ""},
		{"hmac blank cell kept", HMAC, identifiers.City, " \t ", " \t "},
		{"hmac token kept", HMAC, identifiers.Phone, "h:0123456789abcdef", "h:0123456789abcdef"},
		{"hmac tokens kept", HMAC, identifiers.Email, "h:0123456789abcdef; h:fedcba9876543210", "h:0123456789abcdef; h:fedcba9876543210"},
		{"hmac token trimmed", HMAC, identifiers.LastName, "  h:0123456789abcdef ", "h:0123456789abcdef"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMasker(t, tc.strategy)
			if got := m.Mask(tc.kind, tc.in); got != tc.want {
				t.Fatalf("Mask(%v, %q) = %q, want %q", tc.kind, tc.in, got, tc.want)
			}
		})
	}
}

// wantToken is the token format written out again from its documentation,
// to check the code against: "h:" and the first 16 hex digits of
// HMAC-SHA256(key, kind ":" value).
func wantToken(key []byte, kind, value string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(kind + ":" + value))
	return "h:" + hex.EncodeToString(mac.Sum(nil))[:16]
}

var tokenShape = regexp.MustCompile(`^h:[0-9a-f]{16}$`)

func TestHMACToken(t *testing.T) {
	m := newMasker(t, HMAC)
	tests := []struct {
		name string
		kind identifiers.Kind
		in   string
		want string
	}{
		{"phone normalized", identifiers.Phone, "(212) 555-0147", wantToken(testKey, "phone", "+12125550147")},
		{"phone other spelling", identifiers.Phone, "212-555-0147", wantToken(testKey, "phone", "+12125550147")},
		{"phone E.164", identifiers.Phone, "+1 212 555 0147", wantToken(testKey, "phone", "+12125550147")},
		{"email case-folded", identifiers.Email, "Someone@Example.COM", wantToken(testKey, "email", "someone@example.com")},
		{"customer id folded", identifiers.CustomerID, "ab-123", wantToken(testKey, "customer_id", "AB123")},
		{"account number", identifiers.AccountNumber, "0042 17", wantToken(testKey, "account_number", "004217")},
		{"invalid phone: raw value", identifiers.Phone, " 12 ", wantToken(testKey, "phone", "12")},
		{"name: trimmed value", identifiers.FirstName, " Zoë ", wantToken(testKey, "first_name", "Zoë")},
		{"name case kept", identifiers.LastName, "ORTEGA", wantToken(testKey, "last_name", "ORTEGA")},
		{"invalid UTF-8", identifiers.City, "M\xfcnchen", wantToken(testKey, "city", "M\xfcnchen")},
		{"two phones", identifiers.Phone, "415-555-0166 / (415) 555-0167",
			wantToken(testKey, "phone", "+14155550166") + "; " + wantToken(testKey, "phone", "+14155550167")},
		{"token and a phone", identifiers.Phone, "h:0123456789abcdef, 415-555-0166",
			"h:0123456789abcdef; " + wantToken(testKey, "phone", "+14155550166")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := m.Mask(tc.kind, tc.in)
			if got != tc.want {
				t.Fatalf("Mask(%v, %q) = %q, want %q", tc.kind, tc.in, got, tc.want)
			}
			if again := m.Mask(tc.kind, got); again != got {
				t.Fatalf("Mask(%v, %q) = %q, want it unchanged", tc.kind, got, again)
			}
			for v := range strings.SplitSeq(got, "; ") {
				if !tokenShape.MatchString(v) || !IsToken(v) {
					t.Fatalf("token %q does not have the documented shape", v)
				}
			}
		})
	}
}

func TestHMACKeyAndKind(t *testing.T) {
	a := newMasker(t, HMAC)
	b, err := NewMasker(Config{Strategy: HMAC, Key: []byte("another-key-of-16+bytes")})
	if err != nil {
		t.Fatal(err)
	}
	const v = "someone@example.com"
	if ta, tb := a.Mask(identifiers.Email, v), b.Mask(identifiers.Email, v); ta == tb {
		t.Fatalf("tokens under two keys = %q and %q, want them different", ta, tb)
	}
	if te, tf := a.Mask(identifiers.Email, "Ann"), a.Mask(identifiers.FirstName, "Ann"); te == tf {
		t.Fatalf("tokens of one value of two kinds = %q, want them different", te)
	}
}

func TestIsToken(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"h:0123456789abcdef", true},
		{"h:0123456789ABCDEF", false},
		{"h:0123456789abcde", false},
		{"h:0123456789abcdef0", false},
		{"x:0123456789abcdef", false},
		{"h:0123456789abcdeg", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := IsToken(tc.in); got != tc.want {
			t.Errorf("IsToken(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestNewMasker(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string // "" means no error
	}{
		{"alternate needs no key", Config{Strategy: Alternate}, ""},
		{"redact", Config{Strategy: Redact}, ""},
		{"delete-row", Config{Strategy: DeleteRow}, ""},
		{"hmac", Config{Strategy: HMAC, Key: testKey}, ""},
		{"hmac region", Config{Strategy: HMAC, Key: testKey, Region: "de"}, ""},
		{"no strategy", Config{}, "strategy"},
		{"invalid strategy", Config{Strategy: 99}, "strategy"},
		{"hmac without key", Config{Strategy: HMAC}, "key"},
		{"hmac short key", Config{Strategy: HMAC, Key: []byte("short")}, "key"},
		{"hmac bad region", Config{Strategy: HMAC, Key: testKey, Region: "ZZ"}, "region"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMasker(tc.cfg)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("NewMasker = %v, want no error", err)
				}
				if m.Strategy() != tc.cfg.Strategy {
					t.Fatalf("Strategy() = %v, want %v", m.Strategy(), tc.cfg.Strategy)
				}
				return
			}
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("NewMasker = %v, want a ValidationError for %q", err, tc.field)
			}
		})
	}
}

// TestMaskerKeyCopied: a caller that reuses its key buffer does not change
// the tokens of a Masker already built.
func TestMaskerKeyCopied(t *testing.T) {
	key := append([]byte(nil), testKey...)
	m, err := NewMasker(Config{Strategy: HMAC, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	before := m.Mask(identifiers.Email, "a@example.com")
	key[0] ^= 0xff
	if after := m.Mask(identifiers.Email, "a@example.com"); after != before {
		t.Fatalf("token after the key buffer changed = %q, want %q", after, before)
	}
}

func TestStrategyNames(t *testing.T) {
	for _, s := range Strategies() {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%v) = %v", s, err)
		}
		var got Strategy
		if err := got.UnmarshalText(b); err != nil || got != s {
			t.Fatalf("UnmarshalText(%q) = %v, %v, want %v", b, got, err, s)
		}
		if p, err := ParseStrategy(" " + strings.ToUpper(s.String()) + " "); err != nil || p != s {
			t.Fatalf("ParseStrategy(%q) = %v, %v, want %v", s.String(), p, err, s)
		}
	}
	want := []string{"alternate", "redact", "hmac", "delete-row"}
	for i, s := range Strategies() {
		if s.String() != want[i] {
			t.Fatalf("Strategies()[%d] = %q, want %q", i, s, want[i])
		}
	}
	if _, err := Strategy(0).MarshalText(); err == nil {
		t.Fatal("MarshalText(0) = nil error, want one")
	}
	for _, bad := range []string{"", "mask", "delete", "someone@example.com"} {
		_, err := ParseStrategy(bad)
		var ve *veil.ValidationError
		if !errors.As(err, &ve) || ve.Field != "strategy" {
			t.Fatalf("ParseStrategy(%q) = %v, want a ValidationError for strategy", bad, err)
		}
		if bad != "" && len(bad) > 8 && strings.Contains(err.Error(), bad) {
			t.Fatalf("ParseStrategy(%q) = %v, which repeats what the caller typed", bad, err)
		}
	}
}
