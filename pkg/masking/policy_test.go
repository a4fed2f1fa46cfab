package masking

import (
	"errors"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/veil"
)

func TestDefaultPolicy(t *testing.T) {
	tests := []struct {
		jurisdiction string
		want         Strategy
	}{
		{"CCPA", Alternate},
		{"CPRA", Alternate},
		{"VCDPA", Alternate},
		{"CPA", Alternate},
		{"CTDPA", Alternate},
		{"UCPA", Alternate},
		{"TDPSA", Alternate},
		{"OCPA", Alternate},
		{"US-TX", Alternate},
		{"us-ny", Alternate},
		{" ccpa ", Alternate},
		{"GDPR", Redact},
		{"UK-GDPR", Redact},
		{"uk-gdpr", Redact},
		{"", Redact},
		{"LGPD", Redact},
		{"US", Redact},
		{"US-", Redact},
		{"US-NYC", Redact},
		{"US-1A", Redact},
	}
	for _, tc := range tests {
		t.Run(tc.jurisdiction, func(t *testing.T) {
			for _, p := range []Policy{DefaultPolicy(), {}} {
				if got := p.Strategy(tc.jurisdiction); got != tc.want {
					t.Fatalf("Strategy(%q) = %v, want %v", tc.jurisdiction, got, tc.want)
				}
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy(" GDPR=hmac, ccpa=REDACT,US-*=delete-row,,")
	if err != nil {
		t.Fatalf("ParsePolicy = %v", err)
	}
	tests := []struct {
		jurisdiction string
		want         Strategy
	}{
		{"GDPR", HMAC},
		{"CCPA", Redact},
		{"CPRA", Alternate}, // not overridden
		{"US-CA", DeleteRow},
		{"UK-GDPR", Redact},
		{"LGPD", Redact},
	}
	for _, tc := range tests {
		if got := p.Strategy(tc.jurisdiction); got != tc.want {
			t.Errorf("Strategy(%q) = %v, want %v", tc.jurisdiction, got, tc.want)
		}
	}
	// The fallback can be overridden, and does not reach named rules.
	q, err := ParsePolicy("*=hmac")
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Strategy("LGPD"); got != HMAC {
		t.Errorf("Strategy(LGPD) = %v, want hmac", got)
	}
	if got := q.Strategy("GDPR"); got != Redact {
		t.Errorf("Strategy(GDPR) = %v, want redact", got)
	}
	// A US state's own rule comes before the family's.
	r, err := ParsePolicy("US-CA=redact")
	if err != nil {
		t.Fatal(err)
	}
	if got, other := r.Strategy("US-CA"), r.Strategy("US-NV"); got != Redact || other != Alternate {
		t.Errorf("Strategy(US-CA), Strategy(US-NV) = %v, %v, want redact, alternate", got, other)
	}
	// "" is the defaults.
	d, err := ParsePolicy("")
	if err != nil || d.String() != DefaultPolicy().String() {
		t.Errorf("ParsePolicy(\"\") = %v, %v, want the defaults", d, err)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"no equals", "GDPR"},
		{"unknown strategy", "GDPR=mask"},
		{"empty strategy", "GDPR="},
		{"empty name", "=redact"},
		{"bad name", "G DPR=redact"},
		{"wildcard elsewhere", "EU-*=redact"},
		{"duplicate", "GDPR=redact,gdpr=hmac"},
		{"personal data typed in", "someone@example.com=redact"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePolicy(tc.in)
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != "policy" {
				t.Fatalf("ParsePolicy(%q) = %v, want a ValidationError for policy", tc.in, err)
			}
		})
	}
	_, err := ParsePolicy("someone@example.com=redact")
	if err == nil || strings.Contains(err.Error(), "someone@example.com") {
		t.Fatalf("ParsePolicy error = %v, want one that does not repeat the input", err)
	}
}

func TestPolicyFromEnv(t *testing.T) {
	env := map[string]string{"MASKING_POLICY": "GDPR=hmac"}
	p, err := PolicyFromEnv(func(k string) string { return env[k] })
	if err != nil || p.Strategy("GDPR") != HMAC {
		t.Fatalf("PolicyFromEnv = %v, %v, want GDPR=hmac", p, err)
	}
	p, err = PolicyFromEnv(func(string) string { return "" })
	if err != nil || p.String() != DefaultPolicy().String() {
		t.Fatalf("PolicyFromEnv(unset) = %v, %v, want the defaults", p, err)
	}
	_, err = PolicyFromEnv(func(string) string { return "GDPR=nope" })
	var ve *veil.ValidationError
	if !errors.As(err, &ve) || ve.Field != "MASKING_POLICY" {
		t.Fatalf("PolicyFromEnv(bad) = %v, want a ValidationError for MASKING_POLICY", err)
	}
}

func TestNewPolicy(t *testing.T) {
	p, err := NewPolicy(map[string]Strategy{"gdpr": HMAC, "*": DeleteRow})
	if err != nil {
		t.Fatal(err)
	}
	if p.Strategy("GDPR") != HMAC || p.Strategy("LGPD") != DeleteRow || p.Strategy("CCPA") != Alternate {
		t.Fatalf("policy = %v", p)
	}
	for name, bad := range map[string]map[string]Strategy{
		"invalid strategy": {"GDPR": 0},
		"bad name":         {"G/DPR": Redact},
		"case duplicate":   {"GDPR": Redact, "gdpr": HMAC},
	} {
		if _, err := NewPolicy(bad); err == nil {
			t.Errorf("NewPolicy(%s) = nil error, want one", name)
		}
	}
}

func TestPolicyUses(t *testing.T) {
	if DefaultPolicy().Uses(HMAC) || DefaultPolicy().Uses(DeleteRow) {
		t.Fatal("the defaults use hmac or delete-row, want alternate and redact only")
	}
	if !DefaultPolicy().Uses(Alternate) || !DefaultPolicy().Uses(Redact) {
		t.Fatal("the defaults do not use alternate and redact")
	}
	p, _ := ParsePolicy("LGPD=hmac")
	if !p.Uses(HMAC) {
		t.Fatal("Uses(hmac) = false for LGPD=hmac")
	}
	// Overriding the only redact rules removes redact.
	q, _ := ParsePolicy("GDPR=hmac,UK-GDPR=hmac,*=hmac")
	if q.Uses(Redact) {
		t.Fatal("Uses(redact) = true with every redact rule overridden")
	}
}

func TestPolicyStringRoundTrips(t *testing.T) {
	p, err := ParsePolicy("GDPR=hmac,US-*=redact,LGPD=delete-row")
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParsePolicy(p.String())
	if err != nil {
		t.Fatalf("ParsePolicy(%q) = %v", p.String(), err)
	}
	if p.String() != q.String() {
		t.Fatalf("round trip = %q, want %q", q.String(), p.String())
	}
	for _, j := range []string{"GDPR", "US-OH", "LGPD", "CCPA", "PIPEDA"} {
		if p.Strategy(j) != q.Strategy(j) {
			t.Fatalf("Strategy(%q) after round trip = %v, want %v", j, q.Strategy(j), p.Strategy(j))
		}
	}
}
