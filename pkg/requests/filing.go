package requests

// A request as its requester files it (POST /requests' body), checked
// whole: every field error at once, each naming its field, none quoting a
// value.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/masking"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Filing limits: a form is filled by a person.
const (
	MaxIdentifiers = 10 // phones, and emails, each
	MaxName        = 200
	MaxComments    = 2000
	MaxField       = 100 // customer ID, account number, campaign ID, agent fields
)

// AuthorizedAgent files for a consumer (CCPA regulations §7063); the codes
// still go to the consumer's own identifiers.
type AuthorizedAgent struct {
	Name         string `json:"name"`
	Email        string `json:"email"`
	Relationship string `json:"relationship"`
}

// Filing is what a requester files.
type Filing struct {
	Type          string            `json:"type"`
	Jurisdiction  string            `json:"jurisdiction"`
	Name          string            `json:"name"`
	Phones        []string          `json:"phones"`
	Emails        []string          `json:"emails"`
	CustomerID    string            `json:"customerId"`
	AccountNumber string            `json:"accountNumber"`
	Corrections   map[string]string `json:"corrections"`
	Comments      string            `json:"comments"`
	CampaignID    string            `json:"campaignId"`
	// Declaration is the requester's statement under penalty of perjury
	// (CCPA regulations §7062), which an access request needs.
	Declaration     bool             `json:"declaration"`
	AuthorizedAgent *AuthorizedAgent `json:"authorizedAgent"`
}

// Filed is a filing that passed: its type and jurisdiction parsed, its
// identifiers normalized (as the index keys them), in the order given.
type Filed struct {
	Filing
	Kind         Type
	Jurisdiction Jurisdiction
	Identifiers  []Identifier
}

// Identifier is one identifier a filing names, normalized.
type Identifier struct {
	// Field names it in the filing ("phones[1]").
	Field string
	Kind  identifiers.Kind
	Value string
}

// Check returns f as filed, or a veil.ValidationErrors with every field
// that is wrong. table is the jurisdictions (Default() unless configured),
// region the default region of phone numbers.
func (f Filing) Check(table Table, region string) (Filed, error) {
	var errs veil.ValidationErrors
	bad := func(field, format string, args ...any) { errs = append(errs, veil.Invalid(field, format, args...)) }
	out := Filed{Filing: f}
	t, err := ParseType(f.Type)
	if err != nil {
		bad("type", "must be access, delete, correct or opt_out")
	}
	out.Kind = t
	if j, err := table.Lookup(strings.ToUpper(strings.TrimSpace(f.Jurisdiction))); err != nil {
		bad("jurisdiction", "not a jurisdiction Veil knows (CA, EU, UK or a US state with a privacy law)")
	} else {
		out.Jurisdiction = j
	}
	norm, err := identifiers.NewNormalizer(region)
	if err != nil {
		return Filed{}, err
	}
	add := func(field string, kind identifiers.Kind, raw string, reason string) {
		if strings.TrimSpace(raw) == "" {
			bad(field, "empty")
			return
		}
		v, err := norm.Normalize(kind, raw)
		if err != nil {
			bad(field, "%s", reason)
			return
		}
		out.Identifiers = append(out.Identifiers, Identifier{Field: field, Kind: kind, Value: v})
	}
	if len(f.Phones) > MaxIdentifiers {
		bad("phones", "at most %d", MaxIdentifiers)
	}
	for i, p := range f.Phones[:min(len(f.Phones), MaxIdentifiers)] {
		add(fmt.Sprintf("phones[%d]", i), identifiers.Phone, p, "not a phone number")
	}
	if len(f.Emails) > MaxIdentifiers {
		bad("emails", "at most %d", MaxIdentifiers)
	}
	for i, e := range f.Emails[:min(len(f.Emails), MaxIdentifiers)] {
		add(fmt.Sprintf("emails[%d]", i), identifiers.Email, e, "not an email address")
	}
	if f.CustomerID != "" {
		add("customerId", identifiers.CustomerID, limit(f.CustomerID, MaxField), "not a customer ID")
	}
	if f.AccountNumber != "" {
		add("accountNumber", identifiers.AccountNumber, limit(f.AccountNumber, MaxField), "not an account number")
	}
	if len(f.Phones)+len(f.Emails) == 0 && f.CustomerID == "" && f.AccountNumber == "" {
		bad("identifiers", "name at least one phone, email, customer ID or account number")
	}
	text := func(field, v string, n int) {
		if !utf8.ValidString(v) {
			bad(field, "not valid UTF-8")
		} else if utf8.RuneCountInString(v) > n {
			bad(field, "longer than %d characters", n)
		}
	}
	text("name", f.Name, MaxName)
	text("comments", f.Comments, MaxComments)
	text("customerId", f.CustomerID, MaxField)
	text("accountNumber", f.AccountNumber, MaxField)
	text("campaignId", f.CampaignID, MaxField)
	switch {
	case t == Correct && len(f.Corrections) == 0:
		bad("corrections", "a correction names the values to set")
	case t == Correct:
		if err := (masking.Correction{Set: f.Corrections}).Validate(region); err != nil {
			if ve, ok := err.(*veil.ValidationError); ok {
				bad("corrections."+strings.TrimPrefix(ve.Field, "set."), "%s", ve.Reason)
			} else {
				bad("corrections", "not a correction")
			}
		}
	case len(f.Corrections) > 0:
		bad("corrections", "only a correction request sets values")
	}
	if t == Access && !f.Declaration {
		bad("declaration", "an access request needs the requester's declaration under penalty of perjury")
	}
	if a := f.AuthorizedAgent; a != nil {
		if strings.TrimSpace(a.Name) == "" {
			bad("authorizedAgent.name", "required")
		}
		if _, err := mail.ParseAddress(a.Email); err != nil || strings.ContainsAny(a.Email, "<>") {
			bad("authorizedAgent.email", "not an email address")
		}
		if strings.TrimSpace(a.Relationship) == "" {
			bad("authorizedAgent.relationship", "required")
		}
		text("authorizedAgent.name", a.Name, MaxField)
		text("authorizedAgent.relationship", a.Relationship, MaxField)
	}
	if err := errs.Err(); err != nil {
		return Filed{}, err
	}
	return out, nil
}

func limit(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// referenceAlphabet leaves out letters read as digits (I, O) and U.
const referenceAlphabet = "0123456789ABCDEFGHJKLMNPQRSTVWXYZ"

// NewReference returns a reference a consumer can read out on the phone:
// "VR-" and eight characters in two groups (about 40 bits).
func NewReference(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b strings.Builder
	b.WriteString("VR-")
	buf := make([]byte, 1)
	for n := 0; n < 8; {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		if int(buf[0]) >= 256/len(referenceAlphabet)*len(referenceAlphabet) {
			continue // uniform: no modulo bias
		}
		if n == 4 {
			b.WriteByte('-')
		}
		b.WriteByte(referenceAlphabet[int(buf[0])%len(referenceAlphabet)])
		n++
	}
	return b.String(), nil
}

// NewStatusToken returns the token a requester follows a request with
// and the hash that is stored in its place.
func NewStatusToken(r io.Reader) (token, hash string, err error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 24)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", "", err
	}
	token = hex.EncodeToString(b)
	return token, TokenHash(token), nil
}

// TokenHash is how a status token is stored.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte("veil-status-token-v1:" + token))
	return hex.EncodeToString(sum[:])
}
