package requests

// Verification: how sure Veil must be of who a requester is before it
// acts, by request type (CCPA regulations §§7060–7062). A requester proves
// an identifier either with a one-time code sent to it or through an
// agent's recorded check (an attestation, such as questions asked on a
// call); a Policy says how many proofs, how many of them by code, and
// whether the declaration under penalty of perjury, each type needs.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Method is how an identifier was proven.
type Method string

// Methods. The values are stored; never rename them.
const (
	// ByCode: the requester returned a one-time code sent to the
	// identifier.
	ByCode Method = "code"
	// ByAttestation: an agent recorded that they checked the identifier
	// (on a call, for instance); By names the agent.
	ByAttestation Method = "attestation"
)

// Proof is one identifier a requester proved. Value is the identifier as
// identifiers normalizes it, the form the index keys. Kind is encoded by
// name in JSON; attributevalue writes it by name only with
// EncoderOptions.UseEncodingMarshalers (its number otherwise).
type Proof struct {
	Kind   identifiers.Kind `dynamodbav:"kind" json:"kind"`
	Value  string           `dynamodbav:"value" json:"value"`
	Method Method           `dynamodbav:"method" json:"method"`
	By     string           `dynamodbav:"by" json:"by"`
	At     time.Time        `dynamodbav:"at" json:"at"`
}

// counts reports whether p can count toward a Rule at all: an identifier
// kind, a value, and a known method.
func (p Proof) counts() bool {
	return p.Kind.IsIdentifier() && p.Value != "" && (p.Method == ByCode || p.Method == ByAttestation)
}

func (p Proof) key() string { return p.Kind.String() + ":" + p.Value }

// Rule is what one request type needs: at least Proofs proven
// identifiers, at least Codes of them by one-time code, and the
// declaration under penalty of perjury when Declaration is set.
type Rule struct {
	Proofs      int
	Codes       int
	Declaration bool
}

// Policy is the Rule of each request type.
type Policy map[Type]Rule

// DefaultPolicy returns the rules Veil reads the CCPA regulations to set:
//
//   - access: two verified identifiers, or one plus an attestation (at
//     least one by code either way), plus the declaration. Specific pieces
//     of personal information need a reasonably high degree of certainty
//     and a declaration under penalty of perjury (§7062(c)); a deployment
//     that wants the three matched data points that section names sets
//     "access=3/1+declaration".
//   - delete and correct: one verified identifier, a reasonable degree of
//     certainty (§7061 for accountholders, §7062(d) otherwise; correction
//     verifies as §§7060–7062 say).
//   - opt_out: none; a request to opt out of sale or sharing need not be a
//     verifiable consumer request (§7026).
func DefaultPolicy() Policy {
	return Policy{
		Access:  {Proofs: 2, Codes: 1, Declaration: true},
		Delete:  {Proofs: 1},
		Correct: {Proofs: 1},
		OptOut:  {},
	}
}

// maxCount bounds a rule's numbers: a filing names at most
// 2×MaxIdentifiers+2 identifiers, and a larger number is a typing error.
const maxCount = 2*MaxIdentifiers + 2

const declarationSuffix = "+declaration"

// ParsePolicy returns DefaultPolicy with the rules s lists in place of the
// defaults of the types it names: comma-separated TYPE=PROOFS[/CODES]
// [+declaration] items, such as
// "access=2/1+declaration,delete=1,correct=1,opt_out=0" (the defaults
// themselves). Types and "+declaration" are case-insensitive; empty items
// are skipped, and an empty s gives DefaultPolicy.
//
// It returns a *veil.ValidationError for field "VERIFICATION_POLICY",
// naming the item by position (and its type, clipped), when an item is
// malformed, names an unknown type or one type twice, or asks for more
// codes than proofs or numbers beyond maxCount.
func ParsePolicy(s string) (Policy, error) {
	p := DefaultPolicy()
	seen := map[Type]bool{}
	n := 0
	bad := func(format string, args ...any) error {
		return veil.Invalid("VERIFICATION_POLICY", format, args...)
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		n++
		key, value, ok := strings.Cut(item, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, bad("item %d: must be type=proofs[/codes][+declaration], such as access=2/1+declaration", n)
		}
		t, err := ParseType(key)
		if err != nil {
			return nil, bad("item %d (%s): not a request type (access, delete, correct or opt_out)", n, clip(key))
		}
		if seen[t] {
			return nil, bad("item %d (%s): set more than once", n, t)
		}
		seen[t] = true
		r, reason := parseRule(strings.TrimSpace(value))
		if reason != "" {
			return nil, bad("item %d (%s): %s", n, t, reason)
		}
		p[t] = r
	}
	return p, nil
}

// parseRule reads PROOFS[/CODES][+declaration], or returns why it cannot.
func parseRule(v string) (Rule, string) {
	var r Rule
	if i := strings.LastIndex(v, "+"); i >= 0 {
		if !strings.EqualFold(strings.TrimSpace(v[i+1:]), declarationSuffix[1:]) {
			return Rule{}, "only +declaration may follow the numbers"
		}
		r.Declaration = true
		v = v[:i]
	}
	proofs, codes, hasCodes := strings.Cut(v, "/")
	var reason string
	if r.Proofs, reason = parseCount("proofs", proofs); reason != "" {
		return Rule{}, reason
	}
	if hasCodes {
		if r.Codes, reason = parseCount("codes", codes); reason != "" {
			return Rule{}, reason
		}
	}
	if r.Codes > r.Proofs {
		return Rule{}, "more codes than proofs"
	}
	return r, ""
}

func parseCount(name, s string) (int, string) {
	s = strings.TrimSpace(s)
	if s == "" || strings.Trim(s, "0123456789") != "" || len(s) > 2 {
		return 0, fmt.Sprintf("%s must be a whole number from 0 to %d", name, maxCount)
	}
	n, _ := strconv.Atoi(s)
	if n > maxCount {
		return 0, fmt.Sprintf("%s must be a whole number from 0 to %d", name, maxCount)
	}
	return n, ""
}

// String returns p in the form ParsePolicy reads, the known types first
// in their order, then any others by name; ParsePolicy(p.String()) is p
// for every Policy ParsePolicy returns.
func (p Policy) String() string {
	var b strings.Builder
	keys := slices.SortedFunc(maps.Keys(p), func(a, b Type) int {
		ia, ib := slices.Index(types, a), slices.Index(types, b)
		if ia < 0 {
			ia = len(types)
		}
		if ib < 0 {
			ib = len(types)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(string(a), string(b))
	})
	for i, t := range keys {
		r := p[t]
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%d", t, r.Proofs)
		if r.Codes > 0 {
			fmt.Fprintf(&b, "/%d", r.Codes)
		}
		if r.Declaration {
			b.WriteString(declarationSuffix)
		}
	}
	return b.String()
}

// UnmetError says a request's verification falls short of its type's
// Rule. Need says what is missing in words and never quotes an
// identifier. It unwraps to veil.ErrConflict: the request is in a state
// the action needs it not to be in.
type UnmetError struct {
	Type Type
	Need string
}

// Error returns "<type> needs <Need>".
func (e *UnmetError) Error() string { return fmt.Sprintf("%s needs %s", e.Type, e.Need) }

// Unwrap returns veil.ErrConflict.
func (e *UnmetError) Unwrap() error { return veil.ErrConflict }

// Check returns nil when proofs and declaration meet the Rule of type t.
// A proof counts only when its kind is an identifier kind, its value is
// non-empty and its method is ByCode or ByAttestation; proofs of one
// (kind, value) count once, by code when any of them is. For a
// correction, a proof does not count when it rests on a value being
// corrected: when its kind is a key of corrections (masking.Correction's
// kind names, "email", "phone", …) or its value is one of the new values
// (case and surrounding space ignored).
//
// It returns an *UnmetError when the rule is not met, and a
// *veil.ValidationError (field "type") when p has no rule for t, so that
// a type the policy forgot is never taken to need nothing.
func (p Policy) Check(t Type, proofs []Proof, declaration bool, corrections map[string]string) error {
	r, ok := p[t]
	if !ok {
		return veil.Invalid("type", "no verification rule for request type %s", clip(string(t)))
	}
	excluded := map[string]bool{}
	if t == Correct {
		excluded = correctedOut(proofs, corrections)
	}
	byCode := map[string]bool{}
	for _, pr := range proofs {
		if !pr.counts() || excluded[pr.key()] {
			continue
		}
		byCode[pr.key()] = byCode[pr.key()] || pr.Method == ByCode
	}
	have, codes := len(byCode), 0
	for _, c := range byCode {
		if c {
			codes++
		}
	}
	var missing []string
	if have < r.Proofs || codes < r.Codes {
		need := fmt.Sprintf("%d proven %s", r.Proofs, plural(r.Proofs, "identifier", "identifiers"))
		if r.Codes > 0 {
			need += fmt.Sprintf(", at least %d by one-time code", r.Codes)
		}
		need += fmt.Sprintf(", has %d", have)
		if codes < r.Codes {
			need += fmt.Sprintf(", %d by code", codes)
		}
		if len(excluded) > 0 {
			need += fmt.Sprintf(" (%d more %s on a value being corrected and %s not count)", len(excluded),
				plural(len(excluded), "rests", "rest"), plural(len(excluded), "does", "do"))
		}
		missing = append(missing, need)
	}
	if r.Declaration && !declaration {
		missing = append(missing, "the declaration under penalty of perjury")
	}
	if len(missing) == 0 {
		return nil
	}
	return &UnmetError{Type: t, Need: strings.Join(missing, ", and ")}
}

// correctedOut returns the keys of the countable proofs that rest on a
// value being corrected.
func correctedOut(proofs []Proof, corrections map[string]string) map[string]bool {
	classes := map[string]bool{}
	values := map[string]bool{}
	for k, v := range corrections {
		classes[normalize(k)] = true
		if v := normalize(v); v != "" {
			values[v] = true
		}
	}
	out := map[string]bool{}
	for _, pr := range proofs {
		if pr.counts() && (classes[pr.Kind.String()] || values[normalize(pr.Value)]) {
			out[pr.key()] = true
		}
	}
	return out
}

// Proven returns the identifiers proofs prove, keyed by
// kind.String()+":"+value ("email:rosa@example.com"), for the proofs that
// can count (see Check).
func Proven(proofs []Proof) map[string]bool {
	out := make(map[string]bool, len(proofs))
	for _, pr := range proofs {
		if pr.counts() {
			out[pr.key()] = true
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
