// Package masking is what a lead-list cell becomes when a consumer's right
// to delete or to correct is carried out: the pure logic, with no I/O, that
// the rewrite of an object applies to the rows a request matched.
//
// Deletion pseudonymizes every personal-data cell of a matched row by a
// Strategy (Masker), chosen per jurisdiction by a Policy; correction sets
// the cells of named kinds to validated new values (Corrector). Both return
// an Edit: the row's new fields and which of them changed, so that the
// rewrite splices only those cells, or that the row goes as a whole.
//
// Every edit is idempotent, because the job that applies it is rerun after
// a crash: masking a masked value, or correcting a corrected row, changes
// nothing.
package masking

import (
	"fmt"
	"strings"

	"github.com/veil-privacy/veil/pkg/veil"
)

// Strategy is how a personal-data cell is pseudonymized. The zero value is
// no strategy: NewMasker refuses it, so a configuration that forgot to set
// one fails instead of picking one silently.
type Strategy uint8

// Strategies. Their names (String) are written in configuration
// (MASKING_POLICY) and in request records: never rename one.
const (
	// Alternate keeps two characters and masks the next two with 'X', over
	// the whole value: the contact-center convention, 1223334444 becomes
	// 12XX33XX44. See MaskAlternate.
	Alternate Strategy = iota + 1
	// Redact masks every character with 'X'. See MaskRedact.
	Redact
	// HMAC replaces each value with a keyed token, the same for the same
	// value under the same key, so that de-duplication still works. See
	// Masker.Mask for the token's format.
	HMAC
	// DeleteRow removes the whole row: EditRow returns an Edit whose
	// Deleted is set.
	DeleteRow
	numStrategies
)

var strategyNames = [numStrategies]string{
	Alternate: "alternate",
	Redact:    "redact",
	HMAC:      "hmac",
	DeleteRow: "delete-row",
}

// String returns the strategy's stable name, "strategy(N)" for an invalid
// Strategy.
func (s Strategy) String() string {
	if s.Valid() {
		return strategyNames[s]
	}
	return fmt.Sprintf("strategy(%d)", uint8(s))
}

// Valid reports whether s is one of the strategies.
func (s Strategy) Valid() bool { return s > 0 && s < numStrategies }

// Strategies returns every valid Strategy in order.
func Strategies() []Strategy {
	out := make([]Strategy, 0, numStrategies-1)
	for s := Alternate; s < numStrategies; s++ {
		out = append(out, s)
	}
	return out
}

// ParseStrategy returns the Strategy named name ("alternate", "redact",
// "hmac", "delete-row"; case and surrounding spaces are ignored). It fails
// with a *veil.ValidationError for field "strategy".
func ParseStrategy(name string) (Strategy, error) {
	s, ok := lookupStrategy(name)
	if !ok {
		return 0, veil.Invalid("strategy", "unknown strategy %s (want %s)", quoteName(name), strategyList)
	}
	return s, nil
}

// strategyList names the strategies for error messages.
const strategyList = "alternate, redact, hmac or delete-row"

// quoteName quotes s for an error message when it looks like the name of
// a strategy or a jurisdiction; anything else may be whatever a caller
// typed, personal data included, and is not repeated.
func quoteName(s string) string {
	if s == "" || len(s) > 32 {
		return "(not a name)"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '*') {
			return "(not a name)"
		}
	}
	return `"` + s + `"`
}

func lookupStrategy(name string) (Strategy, bool) {
	name = strings.TrimSpace(name)
	for s := Alternate; s < numStrategies; s++ {
		if strings.EqualFold(name, strategyNames[s]) {
			return s, true
		}
	}
	return 0, false
}

// MarshalText writes the strategy's name; it fails with a
// *veil.ValidationError for an invalid Strategy.
func (s Strategy) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, veil.Invalid("strategy", "invalid strategy %d", uint8(s))
	}
	return []byte(strategyNames[s]), nil
}

// UnmarshalText reads a strategy's name; it fails as ParseStrategy does.
func (s *Strategy) UnmarshalText(b []byte) error {
	v, err := ParseStrategy(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
