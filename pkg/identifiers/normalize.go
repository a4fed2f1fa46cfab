package identifiers

// Normalization: one consumer's identifier must give one key however a
// list or a request wrote it.

import (
	"encoding/binary"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrEmpty means a value is blank: nothing to normalize, not an error in a
// list, but never a key.
var ErrEmpty = errors.New("identifiers: empty value")

// ErrNotIdentifier means a Kind that is not indexed was given where an
// identifier kind is needed.
var ErrNotIdentifier = errors.New("identifiers: kind is not an identifier")

// ErrInvalid is matched (errors.Is) by every *InvalidError.
var ErrInvalid = errors.New("identifiers: invalid value")

// InvalidError says a value is not a valid identifier of Kind, and why.
// Reason never contains the value.
type InvalidError struct {
	Kind   Kind
	Reason string
}

// Error names the kind and the reason, never the value.
func (e *InvalidError) Error() string {
	return "identifiers: invalid " + e.Kind.String() + ": " + e.Reason
}

// Is reports whether target is ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// The errors are shared values so that rejecting a value does not allocate
// on the indexing hot path.
var (
	errPhoneUnparsable = &InvalidError{Phone, "not a phone number"}
	errPhoneInvalid    = &InvalidError{Phone, "not a valid number"}
	errEmailAt         = &InvalidError{Email, "not exactly one @"}
	errEmailLocal      = &InvalidError{Email, "bad local part"}
	errEmailDomain     = &InvalidError{Email, "bad domain"}
	errEmailLong       = &InvalidError{Email, "longer than 254 bytes"}
	errIDLong          = &InvalidError{CustomerID, "longer than 256 bytes"}
	errIDControl       = &InvalidError{CustomerID, "control character"}
	errIDUTF8          = &InvalidError{CustomerID, "invalid UTF-8"}
	errAcctLong        = &InvalidError{AccountNumber, "longer than 256 bytes"}
	errAcctControl     = &InvalidError{AccountNumber, "control character"}
	errAcctUTF8        = &InvalidError{AccountNumber, "invalid UTF-8"}
)

// MaxIDBytes is the longest customer ID or account number accepted.
const MaxIDBytes = 256

// maxEmailBytes is RFC 5321's limit on a path.
const maxEmailBytes = 254

// Normalizer normalizes values of every identifier kind. It is immutable
// and safe for concurrent use.
type Normalizer struct {
	phone *PhoneNormalizer
}

// NewNormalizer returns a Normalizer whose phones without a country code
// are read as numbers of region (ISO 3166 code; "" means "US"). It fails
// with ErrUnknownRegion.
func NewNormalizer(region string) (*Normalizer, error) {
	p, err := NewPhoneNormalizer(region)
	if err != nil {
		return nil, err
	}
	return &Normalizer{phone: p}, nil
}

// Append appends the normalized form of raw, a value of identifier kind
// kind, to dst. It fails with ErrEmpty for a blank value, an *InvalidError
// for an invalid one, and ErrNotIdentifier for a kind that is not indexed;
// dst is returned unchanged on failure.
func (n *Normalizer) Append(dst []byte, kind Kind, raw string) ([]byte, error) {
	switch kind {
	case Phone:
		return n.phone.Append(dst, raw)
	case Email:
		return AppendEmail(dst, raw)
	case CustomerID, AccountNumber:
		return appendID(dst, kind, raw)
	}
	return dst, ErrNotIdentifier
}

// Normalize returns the normalized form of raw, a value of identifier kind
// kind; it fails as Append does.
func (n *Normalizer) Normalize(kind Kind, raw string) (string, error) {
	b, err := n.Append(nil, kind, raw)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// NormalizeEmail trims an email address, drops a "mailto:" prefix and
// case-folds it. It fails with ErrEmpty or an *InvalidError.
func NormalizeEmail(raw string) (string, error) {
	b, err := AppendEmail(nil, raw)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// AppendEmail appends the normalized form of the email address raw to dst
// (see NormalizeEmail). It fails with ErrEmpty or an *InvalidError and then
// returns dst unchanged.
func AppendEmail(dst []byte, raw string) ([]byte, error) {
	s := strings.TrimSpace(raw)
	if len(s) >= 7 && s[6] == ':' && strings.EqualFold(s[:7], "mailto:") {
		s = strings.TrimSpace(s[7:])
	}
	if s == "" {
		return dst, ErrEmpty
	}
	if len(s) > maxEmailBytes {
		return dst, errEmailLong
	}
	at := strings.IndexByte(s, '@')
	if at < 0 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return dst, errEmailAt
	}
	local, domain := s[:at], s[at+1:]
	if len(local) == 0 || len(local) > 64 || local[0] == '.' || local[len(local)-1] == '.' {
		return dst, errEmailLocal
	}
	// One pass over each part: validity, case and non-ASCII together.
	var seen byte // OR of all bytes: bit 7 set means non-ASCII
	upper := false
	for i := 0; i < len(local); i++ {
		c := local[i]
		seen |= c
		switch {
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
		case 'A' <= c && c <= 'Z':
			upper = true
		case c <= ' ' || c == 0x7f || c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' ||
			c == '\\' || c == ',' || c == ';' || c == ':' || c == '"':
			return dst, errEmailLocal
		case c == '.' && local[i-1] == '.':
			return dst, errEmailLocal
		}
	}
	du, dn, ok := checkDomain(domain)
	if !ok {
		return dst, errEmailDomain
	}
	upper = upper || du
	if seen >= utf8.RuneSelf || dn {
		if !utf8.ValidString(s) {
			return dst, errEmailLocal
		}
		// strings.ToLower's result, appended without allocating it.
		for _, r := range s {
			switch {
			case 'A' <= r && r <= 'Z':
				dst = append(dst, byte(r+'a'-'A'))
			case r < utf8.RuneSelf:
				dst = append(dst, byte(r))
			default:
				dst = utf8.AppendRune(dst, unicode.ToLower(r))
			}
		}
		return dst, nil
	}
	start := len(dst)
	dst = append(dst, s...)
	if upper {
		lowerASCII(dst[start:])
	}
	return dst, nil
}

// lowerASCII folds the upper-case letters of b, all of whose bytes are
// ASCII, to lower case: eight bytes at a time, without a branch per byte
// for mixed case to mispredict. A byte's high bit, free in ASCII, marks
// where adding the distances to 'A' and past 'Z' tells it is a letter.
func lowerASCII(b []byte) {
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		letters := (x + 0x3f3f3f3f3f3f3f3f) &^ (x + 0x2525252525252525) & 0x8080808080808080
		binary.LittleEndian.PutUint64(b, x|letters>>2)
		b = b[8:]
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

// checkDomain checks a host name: dot-separated labels of letters, digits,
// hyphens or non-ASCII (internationalized) bytes, at least two labels, no
// label empty, longer than 63 bytes, or starting or ending with a hyphen.
// It also reports whether the name has upper-case ASCII letters and
// non-ASCII bytes.
func checkDomain(d string) (upper, nonASCII, ok bool) {
	if len(d) < 3 || len(d) > 253 {
		return false, false, false
	}
	labels, start := 0, 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			c := d[i]
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-':
			case 'A' <= c && c <= 'Z':
				upper = true
			case c >= utf8.RuneSelf:
				nonASCII = true
			default:
				return false, false, false
			}
			continue
		}
		if n := i - start; n == 0 || n > 63 || d[start] == '-' || d[i-1] == '-' {
			return false, false, false
		}
		labels++
		start = i + 1
	}
	return upper, nonASCII, labels >= 2
}

// NormalizeID trims a customer ID or account number and collapses runs of
// inner whitespace into one space; case and punctuation are kept, because
// they can be significant in a system's IDs. It fails with ErrEmpty or an
// *InvalidError (control characters, invalid UTF-8, longer than
// MaxIDBytes).
func NormalizeID(raw string) (string, error) {
	b, err := appendID(nil, CustomerID, raw)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func appendID(dst []byte, kind Kind, raw string) ([]byte, error) {
	errLong, errControl, errUTF8 := errIDLong, errIDControl, errIDUTF8
	if kind == AccountNumber {
		errLong, errControl, errUTF8 = errAcctLong, errAcctControl, errAcctUTF8
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return dst, ErrEmpty
	}
	if len(s) > MaxIDBytes {
		return dst, errLong
	}
	// Case and separators are folded: a consumer who types ab-123 means the
	// AB 123 a list holds. Fast path: printable ASCII.
	start := len(dst)
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < ' ' || c >= 0x7f:
			ascii = false
		case c == ' ' || c == '-' || c == '.' || c == '_' || c == '/':
			// idSeparator, inlined: of printable ASCII, only ' ' is a space.
		case 'a' <= c && c <= 'z':
			dst = append(dst, c-'a'+'A')
		default:
			dst = append(dst, c)
		}
		if !ascii {
			break
		}
	}
	if !ascii {
		dst = dst[:start]
		if !utf8.ValidString(s) {
			return dst, errUTF8
		}
		for _, r := range s {
			switch {
			case unicode.IsSpace(r) || idSeparator(r):
			case unicode.IsControl(r) || r == utf8.RuneError:
				return dst[:start], errControl
			default:
				dst = utf8.AppendRune(dst, unicode.ToUpper(r))
			}
		}
	}
	if len(dst) == start {
		return dst, ErrEmpty
	}
	return dst, nil
}

// idSeparator reports whether r only separates the parts of a customer ID
// or account number as people write it (space, hyphen, dot, underscore,
// slash), so that it is left out for matching.
func idSeparator(r rune) bool {
	return r == ' ' || r == '-' || r == '.' || r == '_' || r == '/' || unicode.IsSpace(r)
}
