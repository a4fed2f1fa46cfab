package identifiers

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		raw  string
		want string
		err  error
	}{
		{"ann@example.com", "ann@example.com", nil},
		{"  Ann.Lee@Example.COM  ", "ann.lee@example.com", nil},
		{"ANN+LISTS@EXAMPLE.CO.UK", "ann+lists@example.co.uk", nil},
		{"mailto:Ann@Example.com", "ann@example.com", nil},
		{"\tann@example.com\r\n", "ann@example.com", nil},
		{"José@Exämple.com", "josé@exämple.com", nil},
		{"o'brien@example.ie", "o'brien@example.ie", nil},
		{"", "", ErrEmpty},
		{"   ", "", ErrEmpty},
		{"ann.example.com", "", ErrInvalid},
		{"ann@@example.com", "", ErrInvalid},
		{"ann@bob@example.com", "", ErrInvalid},
		{"@example.com", "", ErrInvalid},
		{"ann@", "", ErrInvalid},
		{"ann@example", "", ErrInvalid},
		{"ann@.example.com", "", ErrInvalid},
		{"ann@example..com", "", ErrInvalid},
		{"ann@-example.com", "", ErrInvalid},
		{"ann lee@example.com", "", ErrInvalid},
		{".ann@example.com", "", ErrInvalid},
		{"ann..lee@example.com", "", ErrInvalid},
		{"Ann <ann@example.com>", "", ErrInvalid},
		{"ann@exa_mple.com", "", ErrInvalid},
		{strings.Repeat("a", 65) + "@example.com", "", ErrInvalid},
		{"a@" + strings.Repeat("b", 250) + ".com", "", ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := NormalizeEmail(tc.raw)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("NormalizeEmail(%q) = %q, %v; want error %v", tc.raw, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeEmail(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
			}
		})
	}
}

func TestNormalizeID(t *testing.T) {
	tests := []struct {
		raw  string
		want string
		err  error
	}{
		// Case and separators fold: ab-123, AB 123 and AB123 are one ID.
		{"C-1001", "C1001", nil},
		{"  c-1001  ", "C1001", nil},
		{"c_1001", "C1001", nil},
		{"000123", "000123", nil},
		{"AB 12  34", "AB1234", nil},
		{"ab-12.34", "AB1234", nil},
		{"AB/12/34", "AB1234", nil},
		{"AB\t12 \u00a0 34", "AB1234", nil},
		{"ab12", "AB12", nil},
		{"Kundennr. ä-7", "KUNDENNRÄ7", nil},
		{"#42", "#42", nil},
		{" - / ", "", ErrEmpty},
		{"", "", ErrEmpty},
		{" \t ", "", ErrEmpty},
		{"AB\x0012", "", ErrInvalid},
		{"AB\x1b12", "", ErrInvalid},
		{"AB\xff", "", ErrInvalid},
		{strings.Repeat("9", MaxIDBytes+1), "", ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := NormalizeID(tc.raw)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("NormalizeID(%q) = %q, %v; want error %v", tc.raw, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeID(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
			}
		})
	}
}

func TestNormalizerKinds(t *testing.T) {
	n, err := NewNormalizer("")
	if err != nil {
		t.Fatalf("NewNormalizer error = %v", err)
	}
	tests := []struct {
		kind Kind
		raw  string
		want string
		err  error
	}{
		{Phone, "212.555.1234", "+12125551234", nil},
		{Email, "A@B.CO", "a@b.co", nil},
		{CustomerID, " 7  7 ", "77", nil},
		{AccountNumber, "0042", "0042", nil},
		{City, "Springfield", "", ErrNotIdentifier},
		{Business, "x", "", ErrNotIdentifier},
	}
	for _, tc := range tests {
		got, err := n.Normalize(tc.kind, tc.raw)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Normalize(%v, %q) = %q, %v; want %q, %v", tc.kind, tc.raw, got, err, tc.want, tc.err)
		}
	}
	var ie *InvalidError
	if _, err := n.Normalize(AccountNumber, "1\x002"); !errors.As(err, &ie) || ie.Kind != AccountNumber {
		t.Errorf("Normalize(AccountNumber, NUL) error = %v, want *InvalidError for account_number", err)
	}
}

func TestInvalidErrorHoldsNoValue(t *testing.T) {
	const raw = "secret.person@example"
	_, err := NormalizeEmail(raw)
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("NormalizeEmail error = %v, want an error without the value", err)
	}
	_, err = NormalizePhone("(999) 555-8765", "")
	if err == nil || strings.Contains(err.Error(), "8765") {
		t.Fatalf("NormalizePhone error = %v, want an error without the value", err)
	}
}

// fixedMessages are the messages of every error a normalizer returns.
var fixedMessages = func() map[string]bool {
	m := map[string]bool{ErrEmpty.Error(): true}
	for _, e := range []error{errPhoneUnparsable, errPhoneInvalid, errEmailAt, errEmailLocal, errEmailDomain,
		errEmailLong, errIDLong, errIDControl, errIDUTF8, errAcctLong, errAcctControl, errAcctUTF8} {
		m[e.Error()] = true
	}
	return m
}()

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"vali", "ann@example.com", " A@B.CO ", "(212) 555-1234", "+44 20 7946 0958", "C-1 001", "\xff", "a\x00b", "1-800-FLOWERS", "mailto:x@y.z"} {
		f.Add(s)
	}
	n, err := NewNormalizer("")
	if err != nil {
		f.Fatalf("NewNormalizer error = %v", err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, k := range []Kind{Phone, Email, CustomerID, AccountNumber} {
			got, err := n.Normalize(k, raw)
			if err != nil {
				if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrInvalid) {
					t.Fatalf("Normalize(%v, %q) error = %v, want ErrEmpty or ErrInvalid", k, raw, err)
				}
				// Messages come from a fixed set, so they cannot hold the value.
				if !fixedMessages[err.Error()] {
					t.Fatalf("Normalize(%v, %q) error %q is not one of the fixed messages", k, raw, err)
				}
				continue
			}
			if got == "" || !utf8.ValidString(got) {
				t.Fatalf("Normalize(%v, %q) = %q, want a non-empty UTF-8 value", k, raw, got)
			}
			// Normal forms are fixed points.
			again, err := n.Normalize(k, got)
			if err != nil || again != got {
				t.Fatalf("Normalize(%v, %q) = %q, %v; want it unchanged", k, got, again, err)
			}
		}
	})
}

// FuzzEmailFoldsAsToLower: a valid address is folded exactly as
// strings.ToLower folds it, non-ASCII letters included.
func FuzzEmailFoldsAsToLower(f *testing.F) {
	for _, s := range []string{"José@Exämple.com", "İSTANBUL@ÉXAMPLE.com", " MAILTO: ÅSA.ÖBERG@EXAMPLE.SE ", "ΣΊΣΥΦΟΣ@Example.gr",
		"\u212aelvin@example.com", "ﬀ@example.com", "\ufffd@example.com", "ANN@EXAMPLE.COM"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := NormalizeEmail(raw)
		if err != nil {
			return
		}
		s := strings.TrimSpace(raw)
		if len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
			s = strings.TrimSpace(s[7:])
		}
		if want := strings.ToLower(s); got != want {
			t.Fatalf("NormalizeEmail(%q) = %q, want %q", raw, got, want)
		}
	})
}

// TestLowerASCII: every ASCII byte, at every offset of a word, folds as
// strings.ToLower folds it.
func TestLowerASCII(t *testing.T) {
	var all []byte
	for c := range utf8.RuneSelf {
		all = append(all, byte(c))
	}
	for start := range 9 {
		b := append([]byte(nil), all[start:]...)
		lowerASCII(b)
		if want := strings.ToLower(string(all[start:])); string(b) != want {
			t.Fatalf("lowerASCII(%q) = %q, want %q", all[start:], b, want)
		}
	}
}
