package masking

// What one cell becomes under a Strategy. Each masked value is a fixed
// point of its strategy, Mask(Mask(v)) == Mask(v), so a rerun of a crashed
// job finds nothing left to change.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

// MaskRune is the character that stands for a masked one.
const MaskRune = 'X'

// The token format of Strategy HMAC: TokenPrefix followed by TokenHexLen
// lower-case hex digits, the first eight bytes of
// HMAC-SHA256(key, kind ":" value), where kind is the column kind's name
// (identifiers.Kind.String) and value is, for an identifier kind, the
// value as identifiers.Normalizer normalizes it (so "(212) 555-0147" and
// "212-555-0147" give one token), and otherwise, or when the value does
// not normalize, the value trimmed of surrounding white space. Sixty-four
// bits keep tokens of different values apart in any list (a collision is
// expected after some four billion values); the prefix and the shape tell
// a token from a value, so that masking never tokenizes a token.
const (
	// TokenPrefix starts every token.
	TokenPrefix = "h:"
	// TokenHexLen is the number of hex digits after TokenPrefix.
	TokenHexLen = 16
	// TokenLen is the length of a token in bytes.
	TokenLen = len(TokenPrefix) + TokenHexLen
)

// tokenSeparator joins the tokens of a cell that held several values
// ("a@example.com; b@example.com"). identifiers.SplitValues cuts a cell
// at it, so a cell of tokens splits into the same tokens again.
const tokenSeparator = "; "

// MaskAlternate returns v with, of its characters (Unicode code points),
// positions 0 and 1 kept, 2 and 3 replaced by MaskRune, 4 and 5 kept, and
// so on over the whole value: "1223334444" becomes "12XX33XX44" and
// "someone@example.com" "soXXonXXexXXplXXcoX". Every position, white space
// and punctuation included, counts. A byte that is not part of valid UTF-8
// is one character and is masked wherever it stands, since it cannot be
// kept as it is in valid UTF-8 output; MaskRune, unlike U+FFFD, also
// survives re-encoding into any legacy charset a list may be written in.
// A NUL is masked wherever it stands too: no text cell can carry one, and
// the rewrite refuses a cell that holds one.
//
// The result has as many characters as v (as utf8.RuneCountInString counts
// them) and is valid UTF-8. It is its own fixed point: each kept position
// holds the same valid character again and each masked one MaskRune, and
// positions are kept or masked by their index alone, so masking again
// keeps what was kept and masks MaskRune into MaskRune. A combining mark
// is a character of its own: "Zoë" written with U+0308 may keep the mark
// after a masked letter. It never fails.
func MaskAlternate(v string) string {
	if v == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(v)) // MaskRune is one byte: never longer than v
	for i, n := 0, 0; i < len(v); n++ {
		size, ok := 1, v[i] != 0
		if v[i] >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRuneInString(v[i:])
			ok = r != utf8.RuneError || size > 1
		}
		if n&3 < 2 && ok {
			b.WriteString(v[i : i+size])
		} else {
			b.WriteByte(MaskRune)
		}
		i += size
	}
	return b.String()
}

// MaskRedact returns one MaskRune for every character of v (Unicode code
// points, each byte that is not part of valid UTF-8 counted as one, as
// utf8.RuneCountInString counts them): "Zoë" becomes "XXX". Its result is
// its own fixed point. It never fails.
func MaskRedact(v string) string {
	return strings.Repeat(string(MaskRune), utf8.RuneCountInString(v))
}

// IsToken reports whether v is a token in the format Strategy HMAC writes
// (TokenPrefix and TokenHexLen lower-case hex digits).
func IsToken(v string) bool {
	if len(v) != TokenLen || !strings.HasPrefix(v, TokenPrefix) {
		return false
	}
	for i := len(TokenPrefix); i < len(v); i++ {
		if c := v[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Config configures a Masker.
type Config struct {
	// Strategy is required.
	Strategy Strategy
	// Key is the HMAC key, at least identifiers.MinSecretBytes long;
	// required for HMAC, ignored by the other strategies. Give it a key
	// of its own, not the index's key secret: under that secret a token
	// would be the prefix of the consumer's index key, which links the
	// masked rows straight back to the identifier's entries.
	Key []byte
	// Region reads phones without a country code when HMAC normalizes
	// them; "" means identifiers.DefaultRegion. Use the index's region, so
	// that the spellings the index takes for one number give one token.
	Region string
}

// Masker pseudonymizes the personal-data cells of matched rows by one
// Strategy. It is immutable and safe for concurrent use.
type Masker struct {
	strategy Strategy
	key      []byte
	norm     *identifiers.Normalizer // HMAC only
}

// NewMasker returns a Masker for c. It fails with a *veil.ValidationError:
// field "strategy" for a missing or invalid strategy, "key" for an HMAC
// key shorter than identifiers.MinSecretBytes, "region" for a phone region
// libphonenumber does not know.
func NewMasker(c Config) (*Masker, error) {
	if !c.Strategy.Valid() {
		return nil, veil.Invalid("strategy", "no valid strategy (want %s)", strategyList)
	}
	m := &Masker{strategy: c.Strategy}
	if c.Strategy == HMAC {
		if len(c.Key) < identifiers.MinSecretBytes {
			return nil, veil.Invalid("key", "hmac key shorter than %d bytes", identifiers.MinSecretBytes)
		}
		norm, err := identifiers.NewNormalizer(c.Region)
		if err != nil {
			return nil, veil.Invalid("region", "unknown phone region")
		}
		m.key, m.norm = append([]byte(nil), c.Key...), norm
	}
	return m, nil
}

// Strategy returns the masker's strategy.
func (m *Masker) Strategy() Strategy { return m.strategy }

// Mask returns what value, a cell of a column of kind kind, becomes. A
// cell of kind Business is returned unchanged; every other kind, an
// invalid Kind included, is masked: when unsure, mask. An empty value
// stays empty, the result is always valid UTF-8, and masking the result
// again returns it unchanged. By strategy:
//
//   - Alternate and Redact: see MaskAlternate and MaskRedact.
//   - HMAC: the cell's values (identifiers.SplitValues: a cell may hold
//     several phones or emails) are each replaced by their token (see
//     TokenPrefix), joined by "; ". A value that already is a token is
//     kept, so a cell of tokens is unchanged; a cell of white space only
//     is returned unchanged, since it holds nothing to pseudonymize and a
//     token would make every blank cell look like one value.
//   - DeleteRow, whose unit is the row (see EditRow): "", the value goes
//     with its row.
//
// It never fails.
func (m *Masker) Mask(kind identifiers.Kind, value string) string {
	if kind == identifiers.Business || value == "" {
		return value
	}
	switch m.strategy {
	case Alternate:
		return MaskAlternate(value)
	case Redact:
		return MaskRedact(value)
	case HMAC:
		return m.tokens(kind, value)
	}
	return "" // DeleteRow
}

// tokens is Mask for HMAC.
func (m *Masker) tokens(kind identifiers.Kind, cell string) string {
	var buf [4]string
	values := identifiers.AppendValues(buf[:0], kind, cell)
	switch {
	case len(values) == 0:
		return cell // white space only
	case len(values) == 1:
		if IsToken(values[0]) {
			return values[0]
		}
		return m.token(kind, values[0])
	}
	var b strings.Builder
	b.Grow(len(values) * (TokenLen + len(tokenSeparator)))
	for i, v := range values {
		if i > 0 {
			b.WriteString(tokenSeparator)
		}
		if IsToken(v) {
			b.WriteString(v)
		} else {
			b.WriteString(m.token(kind, v))
		}
	}
	return b.String()
}

// token returns the token of one value of kind kind (see TokenPrefix).
func (m *Masker) token(kind identifiers.Kind, value string) string {
	mac := hmac.New(sha256.New, m.key)
	mac.Write([]byte(kind.String()))
	mac.Write([]byte{':'})
	var buf [64]byte
	if kind.IsIdentifier() {
		if n, err := m.norm.Append(buf[:0], kind, value); err == nil {
			mac.Write(n)
		} else {
			mac.Write([]byte(value))
		}
	} else {
		mac.Write([]byte(value))
	}
	var sum [sha256.Size]byte
	var out [TokenLen]byte
	copy(out[:], TokenPrefix)
	hex.Encode(out[len(TokenPrefix):], mac.Sum(sum[:0])[:TokenHexLen/2])
	return string(out[:])
}
