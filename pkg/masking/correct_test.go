package masking

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

func TestCorrectorEditRow(t *testing.T) {
	header := []string{"Campaign", "Email", "Last", "Alt email", "Mobile", "Born"}
	kinds := []string{"business", "email", "last_name", "email", "phone", "date_of_birth"}
	fields := []string{"Spring", "old@example.com", "Ortega", "old2@example.com; x@example.com", "212-555-0147", "1990-01-02"}
	tests := []struct {
		name        string
		set         map[string]string
		wantFields  []string
		wantChanged []int
	}{
		{
			name:        "every column of the kind",
			set:         map[string]string{"email": "new@example.com", "last_name": " Ortega-Ruiz "},
			wantFields:  []string{"Spring", "new@example.com", "Ortega-Ruiz", "new@example.com", "212-555-0147", "1990-01-02"},
			wantChanged: []int{1, 2, 3},
		},
		{
			name:        "same value: no change",
			set:         map[string]string{"last_name": "Ortega"},
			wantFields:  fields,
			wantChanged: nil,
		},
		{
			name:        "kind not in the row",
			set:         map[string]string{"city": "Reno"},
			wantFields:  fields,
			wantChanged: nil,
		},
		{
			name:        "a formula is neutralized",
			set:         map[string]string{"last_name": "=HYPERLINK(\"http://evil.example\",\"x\")"},
			wantFields:  []string{"Spring", "old@example.com", "'=HYPERLINK(\"http://evil.example\",\"x\")", "old2@example.com; x@example.com", "212-555-0147", "1990-01-02"},
			wantChanged: []int{2},
		},
		{
			name:        "a phone with + is neutralized",
			set:         map[string]string{"phone": "+1 646 555 0188"},
			wantFields:  []string{"Spring", "old@example.com", "Ortega", "old2@example.com; x@example.com", "'+1 646 555 0188", "1990-01-02"},
			wantChanged: []int{4},
		},
		{
			name:        "an address that looks like a formula",
			set:         map[string]string{"email": "=cmd@example.com", "date_of_birth": "02/01/1990"},
			wantFields:  []string{"Spring", "'=cmd@example.com", "Ortega", "'=cmd@example.com", "212-555-0147", "02/01/1990"},
			wantChanged: []int{1, 3, 5},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cr, err := NewCorrector(Correction{Set: tc.set}, "")
			if err != nil {
				t.Fatalf("NewCorrector = %v", err)
			}
			in := slices.Clone(fields)
			e, err := cr.EditRow(header, kinds, fields)
			if err != nil {
				t.Fatalf("EditRow = %v", err)
			}
			if !slices.Equal(e.Fields, tc.wantFields) {
				t.Fatalf("Fields = %q, want %q", e.Fields, tc.wantFields)
			}
			if !slices.Equal(e.Changed, tc.wantChanged) {
				t.Fatalf("Changed = %v, want %v", e.Changed, tc.wantChanged)
			}
			if !slices.Equal(fields, in) {
				t.Fatalf("input fields = %q after EditRow, want %q", fields, in)
			}
			again, err := cr.EditRow(header, kinds, e.Fields)
			if err != nil || len(again.Changed) != 0 {
				t.Fatalf("EditRow of the corrected row = %v, %v, want no change", again.Changed, err)
			}
		})
	}
}

func TestCorrectionRefused(t *testing.T) {
	tests := []struct {
		name   string
		set    map[string]string
		field  string
		reason string
	}{
		{"nothing", nil, "set", reasonNothing},
		{"empty map", map[string]string{}, "set", reasonNothing},
		{"unknown kind", map[string]string{"emial": "a@example.com"}, "set", reasonNotKind},
		{"unknown kind that is personal data", map[string]string{"ann@example.com": "b@example.com"}, "set", reasonNotKind},
		{"business", map[string]string{"business": "Gold"}, "set.business", reasonNotPersonal},
		{"empty value", map[string]string{"last_name": ""}, "set.last_name", reasonEmpty},
		{"blank value", map[string]string{"city": " \t "}, "set.city", reasonEmpty},
		{"phone", map[string]string{"phone": "555-CALL-ANN"}, "set.phone", reasonPhone},
		{"phone too short", map[string]string{"phone": "12345"}, "set.phone", reasonPhone},
		{"email without @", map[string]string{"email": "ann.example.com"}, "set.email", reasonEmail},
		{"email with a name", map[string]string{"email": "Ann <ann@example.com>"}, "set.email", reasonEmail},
		{"email as a link", map[string]string{"email": "mailto:ann@example.com"}, "set.email", reasonEmail},
		{"date", map[string]string{"date_of_birth": "next Tuesday"}, "set.date_of_birth", reasonDate},
		{"no such day", map[string]string{"date_of_birth": "1990-02-30"}, "set.date_of_birth", reasonDate},
		{"two-digit year", map[string]string{"date_of_birth": "01/02/90"}, "set.date_of_birth", reasonDate},
		{"year too early", map[string]string{"date_of_birth": "0001-01-01"}, "set.date_of_birth", reasonDate},
		{"id of separators", map[string]string{"customer_id": "--"}, "set.customer_id", reasonID},
		{"control character", map[string]string{"address": "1 Main St\nApt 2"}, "set.address", reasonControl},
		{"invalid UTF-8", map[string]string{"first_name": "Zo\xeb"}, "set.first_name", reasonUTF8},
		{"too long", map[string]string{"full_name": strings.Repeat("a", MaxCorrectionBytes+1)}, "set.full_name", reasonLong},
		{"first refusal by kind name", map[string]string{"phone": "x", "email": "y"}, "set.email", reasonEmail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewCorrector(Correction{Set: tc.set}, "")
			var ve *veil.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("NewCorrector = %v, want a *veil.ValidationError", err)
			}
			if ve.Field != tc.field || ve.Reason != tc.reason {
				t.Fatalf("NewCorrector = %q, %q, want %q, %q", ve.Field, ve.Reason, tc.field, tc.reason)
			}
			if err := (Correction{Set: tc.set}).Validate(""); err == nil || err.Error() != ve.Error() {
				t.Fatalf("Validate = %v, want %v", err, ve)
			}
			for k, v := range tc.set {
				if len(v) >= 4 && strings.Contains(err.Error(), v) {
					t.Fatalf("error %q quotes the value", err)
				}
				if strings.Contains(k, "@") && strings.Contains(err.Error(), k) {
					t.Fatalf("error %q quotes a key that is personal data", err)
				}
			}
		})
	}
}

func TestCorrectionAccepted(t *testing.T) {
	tests := []struct {
		kind, value string
	}{
		{"phone", "(212) 555-0147"},
		{"phone", "+44 20 7946 0958"},
		{"phone", "212-555-0147 x5"},
		{"email", "Ann.Ortega+list@Example.com"},
		{"email", "zoë@exämple.de"},
		{"date_of_birth", "1990-01-02"},
		{"date_of_birth", "1/2/1990"},
		{"date_of_birth", "13/01/1990"},
		{"date_of_birth", "19900102"},
		{"date_of_birth", "January 2, 1990"},
		{"date_of_birth", "2 Jan 1990"},
		{"customer_id", "AB-123"},
		{"account_number", "0042 17"},
		{"first_name", "Zoë"},
		{"full_name", "Ortega-Ruiz, Zoë"},
		{"address", "1 Main St, Apt 2"},
		{"city", "São Paulo"},
		{"state", "NY"},
		{"postal_code", "10001-1234"},
		{"national_id", "123-45-6789"},
	}
	for _, tc := range tests {
		t.Run(tc.kind+" "+tc.value, func(t *testing.T) {
			cr, err := NewCorrector(Correction{Set: map[string]string{tc.kind: tc.value}}, "")
			if err != nil {
				t.Fatalf("NewCorrector = %v", err)
			}
			k, _ := identifiers.ParseKind(tc.kind)
			want := tc.value
			if strings.HasPrefix(want, "+") {
				want = "'" + want // neutralized: a spreadsheet takes +… for a formula
			}
			if v, ok := cr.Value(k); !ok || v != want {
				t.Fatalf("Value(%v) = %q, %v, want %q", k, v, ok, want)
			}
		})
	}
}

func TestCorrectorRegion(t *testing.T) {
	set := map[string]string{"phone": "030 1234567"}
	if _, err := NewCorrector(Correction{Set: set}, "DE"); err != nil {
		t.Fatalf("NewCorrector(DE) = %v, want a Berlin number accepted", err)
	}
	if _, err := NewCorrector(Correction{Set: set}, "ZZ"); err == nil {
		t.Fatal("NewCorrector(ZZ) = nil error, want one for the region")
	}
}
