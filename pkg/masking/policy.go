package masking

// Which strategy a jurisdiction's deletion takes. The US laws accept the
// contact-center convention (Alternate) as deidentification of a lead;
// GDPR's recital 26 keeps pseudonymized data personal, so its default is
// Redact, as is the default of a jurisdiction nobody named: the safer one.

import (
	"maps"
	"slices"
	"strings"

	"github.com/veil-privacy/veil/pkg/veil"
)

// Policy rule names other than a jurisdiction's own.
const (
	// USStates is the rule for every "US-xx" jurisdiction (a state by its
	// two-letter postal code) that has no rule of its own.
	USStates = "US-*"
	// Otherwise is the rule for a jurisdiction no other rule names.
	Otherwise = "*"
)

// PolicyEnv is the environment variable PolicyFromEnv reads.
const PolicyEnv = "MASKING_POLICY"

// defaultRules are the rules a Policy starts from.
var defaultRules = map[string]Strategy{
	"CCPA":  Alternate, // California
	"CPRA":  Alternate,
	"VCDPA": Alternate, // Virginia
	"CPA":   Alternate, // Colorado
	"CTDPA": Alternate, // Connecticut
	"UCPA":  Alternate, // Utah
	"TDPSA": Alternate, // Texas
	"OCPA":  Alternate, // Oregon
	"MCDPA": Alternate, // Montana
	"ICDPA": Alternate, // Iowa, Indiana
	"DPDPA": Alternate, // Delaware
	"NJDPA": Alternate, // New Jersey
	"TIPA":  Alternate, // Tennessee

	USStates: Alternate,

	"GDPR":    Redact,
	"UK-GDPR": Redact,

	Otherwise: Redact,
}

// Policy chooses the Strategy of a jurisdiction's deletions: the default
// rules, with overrides on top. The zero Policy is the defaults. A Policy
// is immutable and safe for concurrent use.
type Policy struct {
	overrides map[string]Strategy // upper-case names
}

// DefaultPolicy returns the default rules: CCPA, CPRA, the US state laws
// (VCDPA, CPA, CTDPA, UCPA, TDPSA, OCPA, MCDPA, ICDPA, DPDPA, NJDPA, TIPA)
// and every "US-xx" take Alternate; GDPR, UK-GDPR and every jurisdiction
// not named take Redact.
func DefaultPolicy() Policy { return Policy{} }

// NewPolicy returns the default rules overridden by overrides, which maps
// jurisdiction names (any case), USStates or Otherwise to strategies. It
// fails with a *veil.ValidationError for field "policy" when a name is
// not a jurisdiction's name (letters, digits, '-' and '_'), two names are
// the same but for case, or a strategy is invalid.
func NewPolicy(overrides map[string]Strategy) (Policy, error) {
	return newPolicy("policy", overrides)
}

func newPolicy(field string, overrides map[string]Strategy) (Policy, error) {
	p := Policy{overrides: make(map[string]Strategy, len(overrides))}
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		s := overrides[name]
		key, ok := ruleName(name)
		if !ok {
			return Policy{}, veil.Invalid(field, "%s is not a jurisdiction name", quoteName(name))
		}
		if !s.Valid() {
			return Policy{}, veil.Invalid(field, "%s: invalid strategy %d", quoteName(key), uint8(s))
		}
		if _, dup := p.overrides[key]; dup {
			return Policy{}, veil.Invalid(field, "%s named twice", quoteName(key))
		}
		p.overrides[key] = s
	}
	return p, nil
}

// ParsePolicy returns the default rules overridden by s, a comma-separated
// list of NAME=strategy ("GDPR=hmac,CCPA=redact,US-*=redact,*=redact"),
// names as NewPolicy takes them, strategies as ParseStrategy does; blank
// items are ignored and "" is the defaults. It fails with a
// *veil.ValidationError for field "policy".
func ParsePolicy(s string) (Policy, error) { return parsePolicy("policy", s) }

// PolicyFromEnv returns the Policy that PolicyEnv (MASKING_POLICY) sets,
// as ParsePolicy reads it; unset or blank, the defaults. It fails with a
// *veil.ValidationError for field "MASKING_POLICY".
func PolicyFromEnv(getenv func(string) string) (Policy, error) {
	return parsePolicy(PolicyEnv, getenv(PolicyEnv))
}

func parsePolicy(field, s string) (Policy, error) {
	overrides := map[string]Strategy{}
	seen := map[string]bool{}
	for item := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		name, strategy, ok := strings.Cut(item, "=")
		if !ok {
			return Policy{}, veil.Invalid(field, "an item is not NAME=strategy")
		}
		key, ok := ruleName(name)
		if !ok {
			return Policy{}, veil.Invalid(field, "%s is not a jurisdiction name", quoteName(strings.TrimSpace(name)))
		}
		st, ok := lookupStrategy(strategy)
		if !ok {
			return Policy{}, veil.Invalid(field, "%s: unknown strategy %s (want %s)", quoteName(key),
				quoteName(strings.TrimSpace(strategy)), strategyList)
		}
		if seen[key] {
			return Policy{}, veil.Invalid(field, "%s named twice", quoteName(key))
		}
		seen[key] = true
		overrides[key] = st
	}
	return newPolicy(field, overrides)
}

// ruleName returns name as a rule's key: trimmed and upper-cased, and
// whether it is a valid one (USStates, Otherwise, or letters, digits, '-'
// and '_', at most 32 bytes).
func ruleName(name string) (string, bool) {
	name = strings.ToUpper(strings.TrimSpace(name))
	if name == USStates || name == Otherwise {
		return name, true
	}
	if name == "" || len(name) > 32 {
		return "", false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	return name, true
}

// Strategy returns the strategy of a deletion under jurisdiction (any
// case, surrounding spaces ignored): the rule of that name, an override
// before a default; for "US-xx", then the USStates rule; then the
// Otherwise rule. It never fails: an unknown jurisdiction takes the
// Otherwise rule.
func (p Policy) Strategy(jurisdiction string) Strategy {
	name := strings.ToUpper(strings.TrimSpace(jurisdiction))
	if s, ok := p.rule(name); ok {
		return s
	}
	if usState(name) {
		if s, ok := p.rule(USStates); ok {
			return s
		}
	}
	s, _ := p.rule(Otherwise)
	return s
}

func (p Policy) rule(name string) (Strategy, bool) {
	if s, ok := p.overrides[name]; ok {
		return s, true
	}
	s, ok := defaultRules[name]
	return s, ok
}

// usState reports whether name (upper case) is "US-" and two letters.
func usState(name string) bool {
	return len(name) == 5 && strings.HasPrefix(name, "US-") &&
		'A' <= name[3] && name[3] <= 'Z' && 'A' <= name[4] && name[4] <= 'Z'
}

// Uses reports whether any rule of p chooses s: a binary whose policy may
// choose HMAC checks at start that it has a key.
func (p Policy) Uses(s Strategy) bool {
	for name, d := range defaultRules {
		if o, ok := p.overrides[name]; ok {
			d = o
		}
		if d == s {
			return true
		}
	}
	for _, o := range p.overrides {
		if o == s {
			return true
		}
	}
	return false
}

// String returns the rules, defaults overridden, as ParsePolicy reads
// them, sorted by name: a log line of the configuration in force.
func (p Policy) String() string {
	rules := maps.Clone(defaultRules)
	maps.Copy(rules, p.overrides)
	var b strings.Builder
	for i, name := range slices.Sorted(maps.Keys(rules)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(rules[name].String())
	}
	return b.String()
}
