package identifiers

// Identifiers that belong to nobody: agents fill a required column with
// N/A, 0000000000 or test@test.com, so thousands of consumers' rows share
// one such value. Whoever controls test@test.com, or says their customer ID
// is 0, must not receive those rows. Placeholder names the values that are
// fillers by their shape; SharedByMany catches the rest by the number of
// different people an identifier's rows name.

import (
	"bytes"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Placeholder reports whether normalized, a value of identifier kind kind
// in the form Normalizer.Append gives it, is a placeholder: a value typed
// into an identifier column for "none", which identifies nobody. It is
// false for a kind that is not an identifier. The lists below are in
// normalized form, so a value as typed (TEST@Test.com, N/A) must be
// normalized first. They are curated from what agents type; a value is a
// placeholder when:
//
// Email (lower case):
//   - its domain is one of noemail.com, nomail.com, noemail.net, none.com,
//     na.com, test.com, fake.com, domain.com, noreply.com, donotreply.com;
//   - or its local part, with dots, hyphens, underscores and any "+tag"
//     left out, is one of none, noemail, nomail, noaddress, noone, nobody,
//     null, nil, na, no, notavailable, notprovided, unknown, test,
//     testing, fake, dummy, sample, asdf, qwerty, abc, email, noreply,
//     donotreply, dontreply, donotemail, declined, refused, at any domain
//     (test@gmail.com is someone's mailbox, but not the consumer's);
//   - or its local part is the same one to three characters as a
//     two-label domain's name (a@a.com, x@x.com, abc@abc.com), or, up to
//     any "+tag", one character three times or more (xxx@…, aaaa@…).
//
// Addresses at example.com, example.org and example.net are not
// placeholders: those domains receive no mail, so nobody can prove control
// of one, and they are the documentation's and the tests' real-looking data.
//
// Phone (E.164): the national number after the country code is seven or
// more digits all the same (+1 888 888 8888) or a run of consecutive
// digits up or down (+1 234 567 8901, +1 987 654 3210). Most such numbers
// (0000000000, 1234567890, 9999999999) are already invalid and never
// reach the index. NANPA's 555 numbers are not placeholders: they are real
// numbers in lists and in tests alike.
//
// CustomerID and AccountNumber (upper case, separators left out, so
// "N/A" is NA and "#N/A" is #NA): one of NA, NULL, NIL, NONE, NAN, TBD,
// TBA, UNKNOWN, UNK, UNDEFINED, NOTAVAILABLE, NOTAPPLICABLE, NOTPROVIDED,
// TEST, X, XX, ?, *, # and Excel's errors #NA, #VALUE!, #REF!, #NAME?,
// #NUM!, #NULL!, #DIV0!; or all zeros (0, 00000); or one character three
// times or more (XXX, 999, 1111111); or a run of consecutive digits of six
// or more up from 0 or 1 or down from 9 (123456, 123456789, 1234567890,
// 0123456789, 987654321). The ( ) and + that normalization keeps are not
// counted in a number, so (000) 000-0000 and (123) 456-7890 are caught. A
// short ID such as 7 or 12345 is not a placeholder: it is a real ID in a
// small system, and SharedByMany is what notices one that many people
// share.
func Placeholder(kind Kind, normalized string) bool {
	return placeholder(kind, []byte(normalized))
}

// placeholder is Placeholder on the bytes of the indexer's key buffer. It
// does not allocate, and a value that is no placeholder is told apart in a
// few nanoseconds: each check starts with its first bytes, and a list is
// only looked up when the value's first byte, last byte and length are
// those of a listed one (lookup).
func placeholder(kind Kind, v []byte) bool {
	switch kind {
	case Phone:
		return placeholderPhone(v)
	case Email:
		return placeholderEmail(v)
	case CustomerID, AccountNumber:
		return placeholderID(v)
	}
	return false
}

// The lists, in normalized form. Placeholder's doc comment names them all:
// change both together.
var (
	placeholderDomains = newLookup("noemail.com", "nomail.com", "noemail.net", "none.com", "na.com", "test.com",
		"fake.com", "domain.com", "noreply.com", "donotreply.com")
	// placeholderLocals are folded: dots, hyphens, underscores and a +tag
	// left out.
	placeholderLocals = newLookup("none", "noemail", "nomail", "noaddress", "noone", "nobody", "null", "nil", "na",
		"no", "notavailable", "notprovided", "unknown", "test", "testing", "fake", "dummy", "sample", "asdf",
		"qwerty", "abc", "email", "noreply", "donotreply", "dontreply", "donotemail", "declined", "refused")
	placeholderIDs = newLookup("NA", "NULL", "NIL", "NONE", "NAN", "TBD", "TBA", "UNKNOWN", "UNK", "UNDEFINED",
		"NOTAVAILABLE", "NOTAPPLICABLE", "NOTPROVIDED", "TEST", "X", "XX", "?", "*", "#",
		"#NA", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#DIV0!")
)

// maxListed is the longest value a lookup holds.
const maxListed = 31

// lookup is a set of short strings with a filter in front: first[c] has
// bit n set when a value of n bytes starts with c, last[c] when one ends
// with c, so that most values are turned away by two loads, without
// hashing.
type lookup struct {
	first, last [256]uint32
	set         map[string]struct{}
}

func newLookup(vs ...string) *lookup {
	l := &lookup{set: make(map[string]struct{}, len(vs))}
	for _, v := range vs {
		if v == "" || len(v) > maxListed {
			panic("identifiers: placeholder list value out of range: " + v)
		}
		l.first[v[0]] |= 1 << len(v)
		l.last[v[len(v)-1]] |= 1 << len(v)
		l.set[v] = struct{}{}
	}
	return l
}

// has reports whether b is in the set, without allocating.
func (l *lookup) has(b []byte) bool {
	n := len(b)
	if n == 0 || n > maxListed || (l.first[b[0]]&l.last[b[n-1]])>>n&1 == 0 {
		return false
	}
	_, ok := l.set[string(b)]
	return ok
}

func placeholderEmail(v []byte) bool {
	at := bytes.IndexByte(v, '@') // a normalized address has one
	if at <= 0 || at == len(v)-1 {
		return false
	}
	local, domain := v[:at], v[at+1:]
	if placeholderDomains.has(domain) {
		return true
	}
	if k := len(local); k <= 3 && len(domain) > k && domain[k] == '.' && bytes.Equal(local, domain[:k]) &&
		bytes.IndexByte(domain[k+1:], '.') < 0 {
		return true // a@a.com: the local part is the name of a two-label domain
	}
	if tag := bytes.IndexByte(local, '+'); tag >= 0 {
		local = local[:tag]
	}
	if len(local) >= 3 && local[1] == local[0] && repeated(local) {
		return true
	}
	// The local part is looked up with dots, hyphens and underscores left
	// out; most are turned away by their first and last letters first.
	i, j := 0, len(local)-1
	for i <= j && emailSeparator(local[i]) {
		i++
	}
	for j > i && emailSeparator(local[j]) {
		j--
	}
	if i > j || placeholderLocals.first[local[i]]&placeholderLocals.last[local[j]] == 0 {
		return false
	}
	var buf [maxListed]byte
	n := 0
	for _, c := range local[i : j+1] {
		if emailSeparator(c) {
			continue
		}
		if n == len(buf) {
			return false // longer than every listed local part
		}
		buf[n] = c
		n++
	}
	return placeholderLocals.has(buf[:n])
}

// emailSeparator reports whether c is left out of a local part looked up.
func emailSeparator(c byte) bool { return c == '.' || c == '-' || c == '_' }

func placeholderPhone(v []byte) bool {
	if len(v) < 9 || v[0] != '+' {
		return false
	}
	cc := 1
	if v[1] != '1' && v[1] != '7' {
		cc = countryCodeLen(v[1], v[2])
	}
	nsn := v[1+cc:]
	if len(nsn) < 7 || !runStart(nsn[0], nsn[1], nsn[2]) {
		return false
	}
	_, ok := run(nsn)
	return ok
}

// runStart reports whether digits a, b, c can start a run (see run): most
// numbers cannot, and are told so here.
func runStart(a, b, c byte) bool {
	if b-a == c-b {
		return b-a == 0 || b-a == 1 || a-b == 1
	}
	return a == '9' || a == '0' || b == '9' || b == '0' // a step across 9 and 0
}

// countryCodeLen returns the length of the E.164 country code that starts
// with the digits a, b. Country codes are prefix-free: 1 and 7 are the
// one-digit codes, the two-digit ones are listed, the rest have three.
func countryCodeLen(a, b byte) int {
	switch a {
	case '1', '7':
		return 1
	case '2':
		if b == '0' || b == '7' {
			return 2
		}
	case '3':
		if b <= '4' || b == '6' || b == '9' {
			return 2
		}
	case '4':
		if b != '2' {
			return 2
		}
	case '5':
		if '1' <= b && b <= '8' {
			return 2
		}
	case '6':
		if b <= '6' {
			return 2
		}
	case '8':
		if b == '1' || b == '2' || b == '4' || b == '6' {
			return 2
		}
	case '9':
		if b <= '5' || b == '8' {
			return 2
		}
	}
	return 3
}

func placeholderID(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	if placeholderIDs.has(v) {
		return true
	}
	if len(v) >= 3 && v[1] == v[0] && repeated(v) {
		return true
	}
	if len(v) >= 2 && isDigit(v[0]) && isDigit(v[1]) {
		// Two digits that are neither the same nor one apart start no
		// placeholder: most account numbers end here.
		if step := v[1] - v[0]; step != 0 && step != 1 && step != 0xff {
			return false
		}
	}
	// A number, read by its digits: normalization keeps the ( ) and + of
	// one written as a phone, (000) 000-0000 or +1 234567890.
	d, pure := v, true
	for _, c := range v {
		if c < '0' || c > '9' {
			if c != '(' && c != ')' && c != '+' {
				return false
			}
			pure = false
		}
	}
	if !pure {
		var buf [32]byte
		d = buf[:0]
		for _, c := range v {
			if '0' <= c && c <= '9' {
				if len(d) == len(buf) {
					return false
				}
				d = append(d, c)
			}
		}
	}
	if len(d) == 0 {
		return false
	}
	step, ok := run(d)
	switch {
	case !ok:
		return false
	case d[0] == '0' && step == 0: // all zeros
		return true
	case len(d) >= 3 && step == 0:
		return true
	}
	return len(d) >= 6 && (step > 0 && (d[0] == '0' || d[0] == '1') || step < 0 && d[0] == '9')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// repeated reports whether v is one byte over and over.
func repeated(v []byte) bool {
	for i := 1; i < len(v); i++ {
		if v[i] != v[0] {
			return false
		}
	}
	return len(v) > 0
}

// run reports whether v is digits that all take one step from the last:
// 0 (the same digit), 1 (one up, 9 then 0) or -1 (one down, 0 then 9). A
// single digit is a run of step 0. It reads no further than the first
// digit off the run.
func run(v []byte) (step int, ok bool) {
	if len(v) == 0 || v[0] < '0' || v[0] > '9' {
		return 0, false
	}
	for i := 1; i < len(v); i++ {
		c, p := v[i], v[i-1]
		var s int
		switch {
		case c < '0' || c > '9':
			return 0, false
		case c == p:
			s = 0
		case c == p+1 || p == '9' && c == '0':
			s = 1
		case c+1 == p || p == '0' && c == '9':
			s = -1
		default:
			return 0, false
		}
		if i == 1 {
			step = s
		} else if s != step {
			return 0, false
		}
	}
	return step, true
}

// DefaultSharedNameLimit is how many different people may share one
// identifier before the identifier is taken for one that belongs to nobody
// in particular (SharedByMany): a household's landline or email is shared
// by a few, an agent's filler or a switchboard number by dozens. Five
// leaves room for a family and for a name spelled several ways.
const DefaultSharedNameLimit = 5

// SharedByMany reports whether names, the names on the rows one identifier
// matches, hold more than limit different people: names are compared as
// FoldName gives them, so "Lee, Ann", "ANN LEE" and "Ánn  Lee" are one
// person, and blank names are not counted. A limit of 0 or less means
// DefaultSharedNameLimit. It never fails.
func SharedByMany(names []string, limit int) bool {
	if limit <= 0 {
		limit = DefaultSharedNameLimit
	}
	seen := make(map[string]struct{}, limit+1)
	for _, n := range names {
		f := FoldName(n)
		if f == "" {
			continue
		}
		seen[f] = struct{}{}
		if len(seen) > limit {
			return true
		}
	}
	return false
}

// FoldName returns name in the form SharedByMany compares: its words (runs
// of letters and digits) in lower case, accents dropped, sorted, joined by
// one space, so that word order, punctuation and spacing do not tell two
// spellings of one person apart: "Lee, Ann", "ann  LEE" and "Ánn Lee" all
// fold to "ann lee". It returns "" for a name without a letter or digit.
func FoldName(name string) string {
	var words []string
	var w strings.Builder
	flush := func() {
		if w.Len() > 0 {
			words = append(words, w.String())
			w.Reset()
		}
	}
	for _, r := range norm.NFD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r): // a combining accent: dropped
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			w.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	sort.Strings(words)
	return strings.Join(words, " ")
}
