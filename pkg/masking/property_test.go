package masking

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/veil-privacy/veil/pkg/identifiers"
)

// pieces are what random values are made of: ASCII, the punctuation and
// separators of phones and emails, accented letters precomposed and
// combining, emoji with joiners and flags, other scripts, U+FFFD written
// out, invalid UTF-8 of several kinds, tokens and masked text.
var pieces = []string{
	"a", "Z", "0", "7", "@", ".", "-", "+", "(", ")", "=", ";", ",", " / ", " or ", " ", "\t", "\n", "\r", "\x00",
	"é", "Å", "ö", "ß", "e\u0301", "o\u0308", "\u0308", "😀", "👨\u200d👩\u200d👧", "🇺🇸", "日本", "שלום", "\u202e",
	"\uFFFD", "\xff", "\xc3", "\x80", "\xed\xa0\x80", "\xf0\x9f", "\xf4\x90\x80\x80",
	"h:0123456789abcdef", "h:", "X", "XX", "212-555-0147", "(415) 555-0166", "someone@example.com", "AB-123",
}

func randomValue(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(24) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// alternateOracle is MaskAlternate as its documentation says it, written
// independently: range over the string (which yields U+FFFD for a byte
// that is not valid UTF-8) and tell a written-out U+FFFD by its bytes;
// NUL is masked wherever it stands.
func alternateOracle(v string) string {
	var out []rune
	n := 0
	for i, r := range v {
		invalid := r == utf8.RuneError && !strings.HasPrefix(v[i:], "\uFFFD") || r == 0
		if n%4 < 2 && !invalid {
			out = append(out, r)
		} else {
			out = append(out, 'X')
		}
		n++
	}
	return string(out)
}

// checkMask checks every property Mask promises of one value.
func checkMask(t *testing.T, m *Masker, other *Masker, kind identifiers.Kind, v string) {
	t.Helper()
	got := m.Mask(kind, v)
	if kind != identifiers.Business && (!utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0) {
		t.Fatalf("%v: Mask(%v, %q) = %q, not valid UTF-8 without NUL", m.strategy, kind, v, got)
	}
	if again := m.Mask(kind, got); again != got {
		t.Fatalf("%v: Mask(%v, %q) = %q, then %q: not idempotent", m.strategy, kind, v, got, again)
	}
	if v == "" && got != "" {
		t.Fatalf("%v: Mask(%v, \"\") = %q, want \"\"", m.strategy, kind, got)
	}
	if kind == identifiers.Business { // byte for byte, invalid UTF-8 included
		if got != v {
			t.Fatalf("%v: Mask(business, %q) = %q, want it unchanged", m.strategy, v, got)
		}
		return
	}
	switch m.strategy {
	case Alternate:
		if want := alternateOracle(v); got != want {
			t.Fatalf("alternate: Mask(%q) = %q, want %q", v, got, want)
		}
		if utf8.RuneCountInString(got) != utf8.RuneCountInString(v) {
			t.Fatalf("alternate: Mask(%q) = %q: %d runes, want %d", v, got, utf8.RuneCountInString(got), utf8.RuneCountInString(v))
		}
	case Redact:
		if strings.Trim(got, "X") != "" || utf8.RuneCountInString(got) != utf8.RuneCountInString(v) {
			t.Fatalf("redact: Mask(%q) = %q, want %d X", v, got, utf8.RuneCountInString(v))
		}
	case HMAC:
		values := identifiers.SplitValues(kind, v)
		if len(values) == 0 {
			if got != v {
				t.Fatalf("hmac: Mask(%q) = %q, want a blank cell unchanged", v, got)
			}
			return
		}
		toks := strings.Split(got, "; ")
		if len(toks) != len(values) {
			t.Fatalf("hmac: Mask(%v, %q) = %q: %d tokens for %d values", kind, v, got, len(toks), len(values))
		}
		keyed := false
		for i, tok := range toks {
			if !tokenShape.MatchString(tok) {
				t.Fatalf("hmac: Mask(%q) = %q: %q is no token", v, got, tok)
			}
			if IsToken(values[i]) {
				if tok != values[i] {
					t.Fatalf("hmac: Mask(%q) = %q, want the token %q kept", v, got, values[i])
				}
			} else {
				keyed = true
			}
		}
		if m2 := m.Mask(kind, v); m2 != got {
			t.Fatalf("hmac: Mask(%q) = %q, then %q: not deterministic", v, got, m2)
		}
		if o := other.Mask(kind, v); keyed && o == got {
			t.Fatalf("hmac: Mask(%q) = %q under two keys: not key-dependent", v, got)
		}
	case DeleteRow:
		if got != "" {
			t.Fatalf("delete-row: Mask(%q) = %q, want \"\"", v, got)
		}
	}
}

func TestMaskProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 10))
	other, err := NewMasker(Config{Strategy: HMAC, Key: []byte("a different key, 16+ bytes")})
	if err != nil {
		t.Fatal(err)
	}
	kinds := append(identifiers.Kinds(), identifiers.Kind(200))
	for _, s := range Strategies() {
		m := newMasker(t, s)
		for range 3000 {
			checkMask(t, m, other, kinds[r.IntN(len(kinds))], randomValue(r))
		}
	}
}

// checkEdit checks what EditRow promises of one row.
func checkEdit(t *testing.T, m *Masker, header, kinds, fields []string) {
	t.Helper()
	in := slices.Clone(fields)
	e, err := m.EditRow(header, kinds, fields)
	if err != nil {
		t.Fatalf("EditRow(%q, %q) = %v", kinds, fields, err)
	}
	if !slices.Equal(fields, in) {
		t.Fatalf("EditRow changed its input: %q, want %q", fields, in)
	}
	if m.strategy == DeleteRow {
		if !e.Deleted || e.Fields != nil || e.Changed != nil {
			t.Fatalf("delete-row: EditRow = %+v, want Deleted only", e)
		}
		return
	}
	if e.Deleted || len(e.Fields) != len(fields) {
		t.Fatalf("EditRow = %+v, want %d fields", e, len(fields))
	}
	var changed []int
	for i, v := range fields {
		kind := identifiers.Business
		if i < len(kinds) {
			kind, _ = identifiers.ParseKind(kinds[i])
		}
		if kind == identifiers.Business && e.Fields[i] != v {
			t.Fatalf("business field %d = %q, want %q unchanged", i, e.Fields[i], v)
		}
		if kind != identifiers.Business && e.Fields[i] != m.Mask(kind, v) {
			t.Fatalf("%v field %d = %q, want %q", kind, i, e.Fields[i], m.Mask(kind, v))
		}
		if !utf8.ValidString(e.Fields[i]) && kind != identifiers.Business {
			t.Fatalf("field %d = %q, not valid UTF-8", i, e.Fields[i])
		}
		if e.Fields[i] != v {
			changed = append(changed, i)
		}
	}
	if !slices.Equal(e.Changed, changed) {
		t.Fatalf("Changed = %v, want %v", e.Changed, changed)
	}
	again, err := m.EditRow(header, kinds, e.Fields)
	if err != nil || len(again.Changed) != 0 || !slices.Equal(again.Fields, e.Fields) {
		t.Fatalf("EditRow of the edited row = %+v, %v, want no change", again, err)
	}
}

func TestEditRowProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 20))
	all := identifiers.Kinds()
	for _, s := range Strategies() {
		m := newMasker(t, s)
		for range 500 {
			cols := r.IntN(12)
			header := make([]string, cols)
			kinds := make([]string, cols)
			for i := range cols {
				header[i] = "c" + strconv.Itoa(i)
				kinds[i] = all[r.IntN(len(all))].String()
			}
			fields := make([]string, r.IntN(cols+3)) // short, exact and ragged records
			for i := range fields {
				fields[i] = randomValue(r)
			}
			checkEdit(t, m, header, kinds, fields)
		}
	}
}

// TestCorrectionProperties corrects random rows with random valid values
// and checks the columns of the kind, and only those, hold the value.
func TestCorrectionProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 30))
	valid := map[string][]string{
		"email":       {"new@example.com", "=x@example.com", "zoë@exämple.de"},
		"last_name":   {"Ortega-Ruiz", "-Lee", "Ångström", "@home"},
		"phone":       {"+1 646 555 0188", "212-555-0147"},
		"city":        {"São Paulo", "+X"},
		"national_id": {"123-45-6789"},
	}
	names := []string{"business", "email", "last_name", "phone", "city", "national_id", "first_name"}
	for range 2000 {
		set := map[string]string{}
		for k, vs := range valid {
			if r.IntN(2) == 0 {
				set[k] = vs[r.IntN(len(vs))]
			}
		}
		if len(set) == 0 {
			continue
		}
		cr, err := NewCorrector(Correction{Set: set}, "")
		if err != nil {
			t.Fatalf("NewCorrector(%q) = %v", set, err)
		}
		cols := r.IntN(8)
		header, kinds := make([]string, cols), make([]string, cols)
		for i := range cols {
			header[i], kinds[i] = "c"+strconv.Itoa(i), names[r.IntN(len(names))]
		}
		fields := make([]string, r.IntN(cols+2))
		for i := range fields {
			fields[i] = randomValue(r)
		}
		checkCorrection(t, cr, set, header, kinds, fields)
	}
}

// checkCorrection checks what Corrector.EditRow promises of one row.
func checkCorrection(t *testing.T, cr *Corrector, set map[string]string, header, kinds, fields []string) {
	t.Helper()
	e, err := cr.EditRow(header, kinds, fields)
	if err != nil {
		t.Fatalf("EditRow = %v", err)
	}
	var changed []int
	for i, v := range fields {
		got := e.Fields[i]
		want := v
		if i < len(kinds) {
			if nv, ok := set[kinds[i]]; ok {
				want = strings.TrimSpace(nv)
				if strings.ContainsAny(want[:1], "=+-@") {
					want = "'" + want
				}
			}
		}
		if got != want {
			t.Fatalf("field %d = %q, want %q", i, got, want)
		}
		if got != v {
			changed = append(changed, i)
		}
	}
	if !slices.Equal(e.Changed, changed) {
		t.Fatalf("Changed = %v, want %v", e.Changed, changed)
	}
	again, err := cr.EditRow(header, kinds, e.Fields)
	if err != nil || len(again.Changed) != 0 {
		t.Fatalf("EditRow of the corrected row = %v, %v, want no change", again.Changed, err)
	}
}

// TestHMACSpellingsProperty: the spellings of one identifier that the
// index takes for one (identifiers.Normalizer) give one token, and two
// different identifiers two.
func TestHMACSpellingsProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 40))
	m := newMasker(t, HMAC)
	checked := 0
	for range 2000 {
		d := func(lo int) byte { return byte('0' + lo + r.IntN(10-lo)) }
		n := []byte{d(2), d(0), d(0), d(2), d(0), d(0), d(0), d(0), d(0), d(0)}
		s := string(n)
		spellings := []string{s, "(" + s[:3] + ") " + s[3:6] + "-" + s[6:], s[:3] + "." + s[3:6] + "." + s[6:],
			"+1 " + s[:3] + " " + s[3:6] + " " + s[6:], "1-" + s[:3] + "-" + s[3:6] + "-" + s[6:]}
		e164, err := identifiers.NormalizePhone(s, "")
		if err != nil {
			continue // not a valid number: its spellings are not one identifier
		}
		want := wantToken(testKey, "phone", e164)
		for _, sp := range spellings {
			if got := m.Mask(identifiers.Phone, sp); got != want {
				t.Fatalf("Mask(phone, %q) = %q, want %q (the token of %s)", sp, got, want, e164)
			}
		}
		checked++

		local := make([]byte, 1+r.IntN(12))
		for i := range local {
			local[i] = byte('a' + r.IntN(26))
		}
		addr := string(local) + "@example.com"
		shout := strings.ToUpper(addr)
		if a, b := m.Mask(identifiers.Email, addr), m.Mask(identifiers.Email, " "+shout); a != b || a != wantToken(testKey, "email", addr) {
			t.Fatalf("Mask(email, %q), Mask(email, %q) = %q, %q, want both %q", addr, shout, a, b, wantToken(testKey, "email", addr))
		}
		if other := m.Mask(identifiers.Email, "x"+addr); other == m.Mask(identifiers.Email, addr) {
			t.Fatalf("Mask(email) of %q and x%q are one token", addr, addr)
		}
	}
	if checked < 500 {
		t.Fatalf("%d valid numbers of 2000, want at least 500 checked", checked)
	}
}
