package masking

import (
	"testing"

	"github.com/veil-privacy/veil/pkg/identifiers"
)

// BenchmarkMask measures Masker.Mask, the entry point EditRow calls per
// cell, on 20-character values.
func BenchmarkMask(b *testing.B) {
	cases := []struct {
		name     string
		strategy Strategy
		kind     identifiers.Kind
		value    string
	}{
		{"alternate/ascii20", Alternate, identifiers.Email, "ann.lee@example.com1"},
		{"alternate/unicode20", Alternate, identifiers.FullName, "Zoë Ångström-Ortega "},
		{"redact/ascii20", Redact, identifiers.Email, "ann.lee@example.com1"},
		{"hmac/phone", HMAC, identifiers.Phone, "(212) 555-0147"},
		{"hmac/email20", HMAC, identifiers.Email, "ann.lee@example.com1"},
		{"hmac/name", HMAC, identifiers.LastName, "Ortega-Ruiz"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m := newMasker(b, c.strategy)
			b.ReportAllocs()
			for b.Loop() {
				m.Mask(c.kind, c.value)
			}
		})
	}
}

// BenchmarkEditRow measures EditRow on a ten-column row with six
// personal-data columns.
func BenchmarkEditRow(b *testing.B) {
	header := []string{"Campaign", "First", "Last", "Mobile", "Email", "Address", "City", "Zip", "Notes", "Agent"}
	kinds := []string{"business", "first_name", "last_name", "phone", "email", "address", "city", "postal_code",
		"business", "business"}
	fields := []string{"Spring", "Zoë", "Ortega-Ruiz", "(212) 555-0147", "zoe.ortega@example.com", "1 Main St",
		"New York", "10001", "called twice", "agent-7"}
	for _, s := range []Strategy{Alternate, HMAC} {
		b.Run(s.String(), func(b *testing.B) {
			m := newMasker(b, s)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.EditRow(header, kinds, fields); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
