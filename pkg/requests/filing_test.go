package requests

import (
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

// fields returns the fields err names, in order.
func fields(err error) []string {
	var es veil.ValidationErrors
	if !errors.As(err, &es) {
		return nil
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Field)
	}
	return out
}

// TestFilingCheck: a good filing comes back with its identifiers
// normalized; a bad one is refused with every wrong field at once, and no
// reason quotes a value.
func TestFilingCheck(t *testing.T) {
	good := Filing{Type: "access", Jurisdiction: "ca", Name: "Rosa Núñez", Phones: []string{"(415) 555-0199", "+1 212 555 0147"},
		Emails: []string{"Rosa.Nunez@Example.com"}, Declaration: true}
	f, err := good.Check(Default(), "US")
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != Access || f.Jurisdiction.Code != "CA" || len(f.Identifiers) != 3 || f.Identifiers[0].Kind != identifiers.Phone ||
		f.Identifiers[1].Field != "phones[1]" || f.Identifiers[2].Value != "rosa.nunez@example.com" {
		t.Fatalf("filed = %+v", f)
	}
	tests := []struct {
		name   string
		filing Filing
		want   []string
	}{
		{"everything wrong", Filing{Type: "erase", Jurisdiction: "ZZ", Phones: []string{"12", ""}, Emails: []string{"nobody-at-all"},
			Comments: strings.Repeat("x", MaxComments+1), Corrections: map[string]string{"email": "a@b.example"}},
			[]string{"type", "jurisdiction", "phones[0]", "phones[1]", "emails[0]", "comments", "corrections"}},
		{"no identifier", Filing{Type: "delete", Jurisdiction: "VA"}, []string{"identifiers"}},
		{"access without declaration", Filing{Type: "access", Jurisdiction: "CA", Emails: []string{"a@example.com"}}, []string{"declaration"}},
		{"correction without values", Filing{Type: "correct", Jurisdiction: "EU", Emails: []string{"a@example.com"}}, []string{"corrections"}},
		{"correction to a bad phone", Filing{Type: "correct", Jurisdiction: "EU", Emails: []string{"a@example.com"},
			Corrections: map[string]string{"phone": "not a number"}}, []string{"corrections.phone"}},
		{"agent half filled", Filing{Type: "delete", Jurisdiction: "CO", Emails: []string{"a@example.com"},
			AuthorizedAgent: &AuthorizedAgent{Email: "agent@"}}, []string{"authorizedAgent.name", "authorizedAgent.email", "authorizedAgent.relationship"}},
		{"too many phones", Filing{Type: "opt_out", Jurisdiction: "TX", Phones: slices.Repeat([]string{"2125550147"}, MaxIdentifiers+1)}, []string{"phones"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.filing.Check(Default(), "US")
			if got := fields(err); !slices.Equal(got, tc.want) {
				t.Fatalf("fields = %v (%v), want %v", got, err, tc.want)
			}
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.want[0] {
				t.Fatalf("errors.As finds %v, want the first field error", ve)
			}
			for _, v := range append(tc.filing.Phones, tc.filing.Emails...) {
				if v != "" && strings.Contains(err.Error(), v) {
					t.Fatalf("error %q quotes a value", err)
				}
			}
		})
	}
}

// TestReferenceAndToken: references are readable and uniform over their
// alphabet; a status token is stored only as its hash.
func TestReferenceAndToken(t *testing.T) {
	re := regexp.MustCompile(`^VR-[0-9A-HJ-NP-TV-Z]{4}-[0-9A-HJ-NP-TV-Z]{4}$`)
	seen := map[string]bool{}
	for range 200 {
		r, err := NewReference(nil)
		if err != nil || !re.MatchString(r) {
			t.Fatalf("reference %q, %v", r, err)
		}
		seen[r] = true
	}
	if len(seen) < 199 {
		t.Fatalf("%d distinct references in 200", len(seen))
	}
	// Bytes past the last whole run of the alphabet are drawn again.
	r, err := NewReference(bytes.NewReader([]byte{255, 254, 0, 1, 2, 3, 4, 5, 6, 7}))
	if err != nil || r != "VR-0123-4567" {
		t.Fatalf("reference from a fixed reader = %q, %v; want VR-0123-4567 (255 and 254 redrawn)", r, err)
	}
	tok, hash, err := NewStatusToken(nil)
	if err != nil || len(tok) != 48 || hash != TokenHash(tok) || strings.Contains(hash, tok) || TokenHash(tok+"x") == hash {
		t.Fatalf("token %q hash %q, %v", tok, hash, err)
	}
}

// FuzzFilingCheck: whatever a form holds, Check answers a filing or
// field errors, never a panic, and never quotes an email back.
func FuzzFilingCheck(f *testing.F) {
	f.Add("access", "CA", "(415) 555-0199", "a@example.com", "x", true)
	f.Add("correct", "eu", "", "", "email=", false)
	f.Fuzz(func(t *testing.T, typ, juris, phone, email, comments string, decl bool) {
		filing := Filing{Type: typ, Jurisdiction: juris, Phones: []string{phone}, Emails: []string{email}, Comments: comments, Declaration: decl}
		_, err := filing.Check(Default(), "US")
		var es veil.ValidationErrors
		if err != nil && !errors.As(err, &es) {
			t.Fatalf("error %v is not field errors", err)
		}
		if err != nil && len(email) > 5 && strings.Contains(err.Error(), email) {
			t.Fatalf("error quotes the email")
		}
	})
}
