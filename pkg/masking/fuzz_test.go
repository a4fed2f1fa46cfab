package masking

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

// fuzzMaskers returns one Masker per strategy, and a second HMAC masker
// under another key.
func fuzzMaskers(t testing.TB) ([]*Masker, *Masker) {
	t.Helper()
	var ms []*Masker
	for _, s := range Strategies() {
		ms = append(ms, newMasker(t, s))
	}
	other, err := NewMasker(Config{Strategy: HMAC, Key: []byte("a different key, 16+ bytes")})
	if err != nil {
		t.Fatal(err)
	}
	return ms, other
}

// fuzzKind maps a byte to a Kind: every valid one, and two invalid ones.
func fuzzKind(b byte) identifiers.Kind { return identifiers.Kind(b % 16) }

func FuzzMask(f *testing.F) {
	for _, v := range []string{
		"", "1223334444", "someone@example.com", "Zoë Ångström", "e\u0301e\u0301", "👨\u200d👩\u200d👧🇺🇸",
		"\xff\xfe", "a\xffbcde", "\xed\xa0\x80", "\uFFFD", "h:0123456789abcdef", " h:0123456789abcdef; 212-555-0147 ",
		"415-555-0166 / (415) 555-0167", "a@example.com, B@Example.com", "  ", "12XX33XX44", "=1+1",
	} {
		for s := range uint8(4) {
			f.Add(s, uint8(identifiers.Phone), v)
		}
		f.Add(uint8(2), uint8(identifiers.Business), v)
		f.Add(uint8(2), uint8(identifiers.FirstName), v)
	}
	ms, other := fuzzMaskers(f)
	f.Fuzz(func(t *testing.T, strategy, kind uint8, v string) {
		checkMask(t, ms[int(strategy)%len(ms)], other, fuzzKind(kind), v)
	})
}

// fuzzRow builds a row from fuzz input: a kind name per byte of kindBytes
// (an unknown name for bytes past the kinds), fields cut from joined at
// the unit separator.
func fuzzRow(kindBytes []byte, joined string) (header, kinds, fields []string) {
	all := identifiers.Kinds()
	for i, b := range kindBytes {
		header = append(header, "c"+strconv.Itoa(i))
		kinds = append(kinds, all[int(b)%len(all)].String())
	}
	return header, kinds, strings.Split(joined, "\x1f")
}

func FuzzEditRow(f *testing.F) {
	f.Add(uint8(0), []byte{0, 5, 6, 1, 2, 0, 4}, "Spring\x1fZoë\x1fÅngström\x1f1223334444\x1fsomeone@example.com\x1fnote\x1f")
	f.Add(uint8(1), []byte{1, 1}, "212-555-0147\x1f\xff\x1fextra")
	f.Add(uint8(2), []byte{2, 0, 3}, "a@example.com; b@example.com\x1f=1+1\x1fAB-123")
	f.Add(uint8(3), []byte{13}, "123-45-6789")
	f.Add(uint8(2), []byte{}, "")
	ms, _ := fuzzMaskers(f)
	f.Fuzz(func(t *testing.T, strategy uint8, kindBytes []byte, joined string) {
		header, kinds, fields := fuzzRow(kindBytes, joined)
		checkEdit(t, ms[int(strategy)%len(ms)], header, kinds, fields)
	})
}

func FuzzCorrection(f *testing.F) {
	f.Add("email", "new@example.com", []byte{0, 2, 2}, "Spring\x1fold@example.com\x1fx")
	f.Add("last_name", " Ortega-Ruiz ", []byte{6, 0}, "Ortega\x1fGold")
	f.Add("last_name", "=HYPERLINK(\"x\")", []byte{6}, "Ortega")
	f.Add("phone", "+1 646 555 0188", []byte{1}, "212-555-0147")
	f.Add("phone", "555-CALL", []byte{1}, "")
	f.Add("date_of_birth", "1990-02-30", []byte{12}, "")
	f.Add("business", "Gold", []byte{0}, "Silver")
	f.Add("ann@example.com", "x", []byte{}, "")
	f.Add("first_name", "Zo\xeb", []byte{5}, "Zoe")
	f.Add("city", "a\nb", []byte{9}, "")
	f.Fuzz(func(t *testing.T, kind, value string, kindBytes []byte, joined string) {
		set := map[string]string{kind: value}
		cr, err := NewCorrector(Correction{Set: set}, "")
		if err != nil {
			var ve *veil.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("NewCorrector = %T %v, want a *veil.ValidationError", err, err)
			}
			if ve.Field != "set" && ve.Field != "set."+kind {
				t.Fatalf("Field = %q, want set or set.%s", ve.Field, kind)
			}
			if ve.Field == "set."+kind {
				if _, perr := identifiers.ParseKind(kind); perr != nil {
					t.Fatalf("Field = %q names a key that is no kind", ve.Field)
				}
			}
			// A reason is one of the fixed ones, so it cannot quote the value.
			if !slices.Contains(reasons, ve.Reason) {
				t.Fatalf("Reason = %q, not one of the fixed reasons", ve.Reason)
			}
			return
		}
		v, _ := cr.Value(mustKind(t, kind))
		if !utf8.ValidString(v) || v == "" || strings.TrimSpace(v) != v {
			t.Fatalf("value set = %q, want trimmed, non-empty, valid UTF-8", v)
		}
		if strings.ContainsAny(v[:1], "=+-@\t\r") {
			t.Fatalf("value set = %q, which a spreadsheet runs", v)
		}
		header, kinds, fields := fuzzRow(kindBytes, joined)
		checkCorrection(t, cr, set, header, kinds, fields)
	})
}

var reasons = []string{reasonNothing, reasonNotKind, reasonNotPersonal, reasonEmpty, reasonUTF8, reasonLong,
	reasonControl, reasonPhone, reasonEmail, reasonDate, reasonID}

func mustKind(t *testing.T, name string) identifiers.Kind {
	t.Helper()
	k, err := identifiers.ParseKind(name)
	if err != nil {
		t.Fatalf("ParseKind(%q) = %v", name, err)
	}
	return k
}
