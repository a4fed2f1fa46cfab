package identifiers

// Phones are normalized to E.164 with libphonenumber's rules. The library
// costs ~10-20 µs a number; lead lists are mostly ten-digit North American
// numbers in a handful of spellings, so those take a fast path that
// extracts the digits itself and asks the NANPA table (nanpa.go) for the
// library's validity verdict. Anything else goes to the library.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrUnknownRegion means a region code that libphonenumber does not know.
var ErrUnknownRegion = errors.New("identifiers: unknown phone region")

// DefaultRegion is the region of phones written without a country code
// when none is configured.
const DefaultRegion = "US"

// PhoneNormalizer normalizes phone numbers to E.164. It is immutable and
// safe for concurrent use.
type PhoneNormalizer struct {
	region string
	table  *nanpaTable // nil: no fast path
}

// NewPhoneNormalizer returns a PhoneNormalizer reading numbers without a
// country code as numbers of region ("" means DefaultRegion). It fails with
// ErrUnknownRegion.
func NewPhoneNormalizer(region string) (*PhoneNormalizer, error) {
	if region == "" {
		region = DefaultRegion
	}
	region = strings.ToUpper(region)
	if !phonenumbers.GetSupportedRegions()[region] {
		return nil, fmt.Errorf("%w %q", ErrUnknownRegion, region)
	}
	p := &PhoneNormalizer{region: region}
	// The fast path reads a leading 1 as the national prefix / country
	// code, as the library does for these two regions (checked by
	// FuzzPhoneFastPathMatchesLibphonenumber); other NANPA regions have
	// seven-digit local dialing rules the fast path does not model.
	if region == "US" || region == "CA" {
		if t, err := loadNANPA(); err == nil {
			p.table = t
		}
	}
	return p, nil
}

// Region returns the default region.
func (p *PhoneNormalizer) Region() string { return p.region }

// NormalizePhone returns raw in E.164 form ("+12125551234"), reading a
// number without a country code as one of region ("" means DefaultRegion).
// It fails with ErrUnknownRegion, ErrEmpty, or an *InvalidError when
// libphonenumber cannot parse the number or does not hold it valid.
func NormalizePhone(raw, region string) (string, error) {
	p, err := NewPhoneNormalizer(region)
	if err != nil {
		return "", err
	}
	return p.Normalize(raw)
}

// Normalize returns raw in E.164 form; it fails as NormalizePhone does.
func (p *PhoneNormalizer) Normalize(raw string) (string, error) {
	b, err := p.Append(nil, raw)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Append appends raw in E.164 form to dst; it fails as NormalizePhone
// does, returning dst unchanged.
func (p *PhoneNormalizer) Append(dst []byte, raw string) ([]byte, error) {
	if p.table != nil {
		var nsn [nsnDigits]byte
		switch fastNANP(raw, &nsn) {
		case fastOK:
			if !p.table.Valid(nsn[:]) {
				return dst, errPhoneInvalid
			}
			dst = append(dst, '+', '1')
			return append(dst, nsn[:]...), nil
		case fastEmpty:
			return dst, ErrEmpty
		}
	}
	// Surrounding white space is no part of a number, but libphonenumber
	// rejects some of it ("2125551234\t", "212-555-1234 x5 "), which the
	// fast path (and SplitValues) trims.
	if raw = strings.TrimSpace(raw); raw == "" {
		return dst, ErrEmpty
	}
	e164, err := libE164(raw, p.region)
	if err != nil {
		return dst, err
	}
	return append(dst, e164...), nil
}

// libE164 is the reference: libphonenumber's Parse, IsValidNumber and
// Format. The library has panicked on odd input in the past; a panic is an
// unparsable number, not a crash.
func libE164(raw, region string) (e164 string, err error) {
	defer func() {
		if recover() != nil {
			e164, err = "", errPhoneUnparsable
		}
	}()
	num, err := phonenumbers.Parse(raw, region)
	if err != nil {
		return "", errPhoneUnparsable
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", errPhoneInvalid
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

type fastResult uint8

const (
	fastDecline fastResult = iota // not a spelling the fast path knows
	fastOK
	fastEmpty
)

// fastNANP extracts the ten-digit national number of a North American
// number written in a common way, such as 2125551234, (212) 555-1234,
// 212-555-1234, 212.555.1234, +1 212 555 1234 or 1-212-555-1234: digits
// separated by single spaces, hyphens or dots, the area code possibly in
// parentheses, a leading 1 or +1, possibly an extension (isExtension),
// which E.164 leaves out. It declines anything else, and numbers whose area
// code starts with 0 or 1, which the library reads otherwise.
func fastNANP(s string, nsn *[nsnDigits]byte) fastResult {
	// Trim ASCII blanks.
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	if i == j {
		return fastEmpty
	}
	s = s[i:j]
	if len(s) > 48 {
		return fastDecline
	}
	number := s
	plus := s[0] == '+'
	if plus {
		s = s[1:]
	}
	var digits [11]byte
	n := 0
	open, closed := -1, -1 // digit counts at '(' and ')'
	prevSep := true        // no separator at the start
	for k := 0; k < len(s); k++ {
		c := s[k]
		switch {
		case '0' <= c && c <= '9':
			if n == len(digits) {
				return fastDecline
			}
			digits[n] = c
			n++
			prevSep = false
		case c == ' ' || c == '-' || c == '.':
			// One separator between digits; ") " and ")-" allowed.
			if prevSep && !(k > 0 && s[k-1] == ')') {
				return fastDecline
			}
			prevSep = true
		case c == '(':
			if open >= 0 {
				return fastDecline
			}
			open = n
			prevSep = true
		case c == ')':
			if open < 0 || closed >= 0 || prevSep {
				return fastDecline
			}
			closed = n
			prevSep = true
		default:
			// An extension ends the number: read what comes before it
			// alone (it holds nothing but what the cases above took).
			if k > 0 && isExtension(s[k:]) {
				return fastNANP(number[:len(number)-len(s)+k], nsn)
			}
			return fastDecline
		}
	}
	if len(s) == 0 || prevSep && s[len(s)-1] != ')' {
		return fastDecline
	}
	var d []byte
	switch {
	case n == 10 && !plus:
		d = digits[:10]
	case n == 11 && digits[0] == '1':
		d = digits[1:11]
	default:
		return fastDecline
	}
	// Parentheses, if any, hold exactly the area code.
	if open >= 0 || closed >= 0 {
		if closed < 0 || closed-open != 3 || open != n-10 {
			return fastDecline
		}
	}
	if d[0] < '2' {
		return fastDecline
	}
	copy(nsn[:], d)
	return fastOK
}

// isExtension reports whether s is an extension in one of the common
// spellings, all of which libphonenumber reads as the same extension:
// spaces or commas, a label (x, ext, extn, extension or #, any case), then
// optionally "." or ":", spaces, and one to nine digits, as in " x55",
// " ext. 55", ", Extension 55" or "#55". The library reads other
// spellings too; the fast path declines those
// (FuzzPhoneFastPathMatchesLibphonenumber checks that every spelling it
// takes is the library's).
func isExtension(s string) bool {
	s = strings.TrimLeft(s, " ,")
	n := extensionLabel(s)
	if n == 0 {
		return false
	}
	s = s[n:]
	if s != "" && (s[0] == '.' || s[0] == ':') {
		s = s[1:]
	}
	s = strings.TrimLeft(s, " ")
	if len(s) == 0 || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
