package masking

// Correction: the right to correct sets the cells of named kinds to new
// values, checked first, in every matched row. A new value is as
// untrusted as any cell a spreadsheet will show, so it is neutralized
// like an export's cells: a correction can never plant a formula.

import (
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/veil-privacy/veil/pkg/formula"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

// MaxCorrectionBytes is the longest new value a Correction may set.
const MaxCorrectionBytes = 1024

// Correction is a consumer's corrected data: Set maps a column kind's name
// (identifiers.Kind.String: "email", "last_name", …) to the new value of
// every column of that kind in a matched row.
type Correction struct {
	Set map[string]string `json:"set"`
}

// The reasons a correction is refused. They are fixed strings: a reason
// never quotes a value, which is personal data.
const (
	reasonNothing     = "nothing to correct"
	reasonNotKind     = "not a kind of personal data"
	reasonNotPersonal = "not personal data"
	reasonEmpty       = "empty"
	reasonUTF8        = "not valid UTF-8"
	reasonLong        = "longer than 1024 bytes"
	reasonControl     = "holds a control character"
	reasonPhone       = "not a valid phone number"
	reasonEmail       = "not an email address"
	reasonDate        = "not a date"
	reasonID          = "not a valid ID"
)

func refuse(field, reason string) *veil.ValidationError {
	return &veil.ValidationError{Field: field, Reason: reason}
}

// dateLayouts are the ways a date of birth is accepted: ISO 8601 first,
// then the US and the day-first orders, all with four-digit years, so
// that a two-digit year's century is never guessed. One digit or two are
// accepted for a day or a month ("1" layouts).
var dateLayouts = []string{
	"2006-1-2", "2006/1/2", "20060102",
	"1/2/2006", "1-2-2006", "1.2.2006",
	"2/1/2006", "2-1-2006", "2.1.2006",
	"Jan 2, 2006", "January 2, 2006", "Jan 2 2006", "January 2 2006",
	"2 Jan 2006", "2 January 2006",
}

// minBirthYear is the earliest year a date of birth may be in: an earlier
// one is a typing error. The package has no clock, so a date in the
// future is the caller's to refuse.
const minBirthYear = 1850

// Corrector applies one validated Correction to matched rows. It is
// immutable and safe for concurrent use.
type Corrector struct {
	values map[identifiers.Kind]string // neutralized new values
}

// NewCorrector checks c and returns its Corrector; region reads a new
// phone without a country code ("" means identifiers.DefaultRegion). Each
// new value is trimmed of surrounding white space and must be non-empty
// valid UTF-8 of at most MaxCorrectionBytes without control characters;
// a phone must be one libphonenumber holds valid, an email an address
// (identifiers' email check and net/mail's both), a date of birth a date
// (dateLayouts, year minBirthYear or later), a customer ID or account
// number one identifiers.NormalizeID takes. The value set is the trimmed
// one as the consumer wrote it, passed through export.Neutralize.
//
// It fails with a *veil.ValidationError, the first in the order of the
// kind names: field "set" when Set is empty, or a key is not a kind's
// name (the key is not repeated); "set.<kind>" when the kind is Business
// ("not personal data") or the value is refused. The reason never quotes
// the value. An unknown region is the "region" field's error.
func NewCorrector(c Correction, region string) (*Corrector, error) {
	if len(c.Set) == 0 {
		return nil, refuse("set", reasonNothing)
	}
	phones, err := identifiers.NewPhoneNormalizer(region)
	if err != nil {
		return nil, veil.Invalid("region", "unknown phone region")
	}
	cr := &Corrector{values: make(map[identifiers.Kind]string, len(c.Set))}
	for _, name := range slices.Sorted(maps.Keys(c.Set)) {
		kind, err := identifiers.ParseKind(name)
		if err != nil {
			return nil, refuse("set", reasonNotKind)
		}
		field := "set." + name
		if kind == identifiers.Business {
			return nil, refuse(field, reasonNotPersonal)
		}
		v, reason := checkValue(kind, c.Set[name], phones)
		if reason != "" {
			return nil, refuse(field, reason)
		}
		cr.values[kind] = formula.Neutralize(v)
	}
	return cr, nil
}

// Validate checks c as NewCorrector does; it fails as NewCorrector does.
func (c Correction) Validate(region string) error {
	_, err := NewCorrector(c, region)
	return err
}

// checkValue returns raw trimmed, or the reason it is refused as a value
// of kind.
func checkValue(kind identifiers.Kind, raw string, phones *identifiers.PhoneNormalizer) (string, string) {
	v := strings.TrimSpace(raw)
	switch {
	case v == "":
		return "", reasonEmpty
	case !utf8.ValidString(v):
		return "", reasonUTF8
	case len(v) > MaxCorrectionBytes:
		return "", reasonLong
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return "", reasonControl
	}
	switch kind {
	case identifiers.Phone:
		if _, err := phones.Normalize(v); err != nil {
			return "", reasonPhone
		}
	case identifiers.Email:
		if !isAddress(v) {
			return "", reasonEmail
		}
	case identifiers.DateOfBirth:
		if !isDate(v) {
			return "", reasonDate
		}
	case identifiers.CustomerID, identifiers.AccountNumber:
		if _, err := identifiers.NormalizeID(v); err != nil {
			return "", reasonID
		}
	}
	return v, ""
}

// isAddress reports whether v is a bare email address: one the index can
// key (identifiers.NormalizeEmail) that net/mail also parses as exactly
// itself, so that "Ann <ann@example.com>" or "mailto:ann@example.com" is
// not written into an email column.
func isAddress(v string) bool {
	if _, err := identifiers.NormalizeEmail(v); err != nil {
		return false
	}
	a, err := mail.ParseAddress(v)
	return err == nil && a.Name == "" && a.Address == v
}

// isDate reports whether v is a date in one of dateLayouts.
func isDate(v string) bool {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.Year() >= minBirthYear
		}
	}
	return false
}

// Value returns the value the corrector sets in columns of kind, as it is
// written (neutralized), and whether it sets one.
func (c *Corrector) Value(kind identifiers.Kind) (string, bool) {
	v, ok := c.values[kind]
	return v, ok
}

// EditRow returns the edit that the correction makes of one matched row,
// whose header, kinds and fields are as Masker.EditRow takes them: every
// field of a kind the correction sets gets its new value; every other
// field, fields beyond the header included, is returned unchanged, byte
// for byte. A header column the record is too short to hold is not added.
// A cell that held several values is replaced whole. Applying the edit's
// Fields again changes nothing. Neither input is modified.
//
// It fails as Masker.EditRow does.
func (c *Corrector) EditRow(header, kinds, fields []string) (Edit, error) {
	ks, err := parseKinds(header, kinds)
	if err != nil {
		return Edit{}, err
	}
	return edit(ks, fields, func(k identifiers.Kind, old string) string {
		if v, ok := c.values[k]; ok {
			return v
		}
		return old
	}), nil
}
