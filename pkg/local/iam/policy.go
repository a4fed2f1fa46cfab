// Package iam evaluates identity-based IAM policies the way AWS does, for
// the local stack: policy documents (Action/NotAction, Resource/NotResource,
// wildcards, the condition operators Veil's template uses), a function's or
// state machine's policies expanded from template.yaml (inline statements
// and SAM policy templates, from aws-sam-translator's own data), and the IAM
// action and resource ARN an AWS API request is evaluated as.
package iam

import (
	"fmt"
	"sort"
	"strings"
)

// Statement is one policy statement, its fields normalized to lists. A nil
// Action means the statement uses NotAction (and likewise for Resource).
type Statement struct {
	Sid         string
	Effect      string // "Allow" or "Deny"
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
	// Condition is operator -> condition key -> values.
	Condition map[string]map[string][]string
}

// Policy is one policy document.
type Policy struct {
	// Name says where the policy came from (a SAM template's name, an
	// inline statement's position), for messages.
	Name       string
	Statements []Statement
}

// Request is one authorization question: may the principal perform Action
// on Resource, with these request context keys?
type Request struct {
	Action   string
	Resource string
	// Context holds condition keys (ses:FromAddress, …), by key as AWS
	// spells it; lookups are case-insensitive.
	Context map[string][]string
}

// Decision is the outcome of evaluating a request.
type Decision int

// Decisions, as AWS's policy evaluation logic names them.
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// Evaluate decides req against policies: an explicit Deny in any statement
// wins, else a matching Allow allows, else it is implicitly denied.
func Evaluate(policies []Policy, req Request) Decision {
	d := ImplicitDeny
	for _, p := range policies {
		for _, st := range p.Statements {
			if !st.matches(req) {
				continue
			}
			if strings.EqualFold(st.Effect, "Deny") {
				return ExplicitDeny
			}
			if strings.EqualFold(st.Effect, "Allow") {
				d = Allow
			}
		}
	}
	return d
}

func (st Statement) matches(req Request) bool {
	if st.Action != nil {
		if !anyMatch(st.Action, req.Action, true) {
			return false
		}
	} else if anyMatch(st.NotAction, req.Action, true) {
		return false
	}
	if st.Resource != nil {
		if !anyMatch(st.Resource, req.Resource, false) {
			return false
		}
	} else if anyMatch(st.NotResource, req.Resource, false) {
		return false
	}
	for op, keys := range st.Condition {
		for key, values := range keys {
			if !conditionHolds(op, lookup(req.Context, key), values) {
				return false
			}
		}
	}
	return true
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if Match(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if Match(p, s) {
			return true
		}
	}
	return false
}

// Match reports whether s matches the IAM wildcard pattern p: `*` is any
// run of characters (slashes and colons included), `?` any one character.
// Matching is exact otherwise (callers fold case for actions).
func Match(p, s string) bool {
	// Iterative glob with single-star backtracking: linear in practice,
	// and never exponential on patterns full of stars.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// lookup returns the request's values for key; condition keys are
// case-insensitive. nil means the key is absent.
func lookup(ctx map[string][]string, key string) []string {
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// conditionHolds evaluates one operator over one key. Without a set
// qualifier a multivalued key matches when any of its values does (AWS's
// ForAnyValue reading of single-valued operators); a negated operator holds
// when no value matches any pattern. An absent key fails a positive
// operator and passes a negated one, unless …IfExists lets it pass both.
func conditionHolds(op string, have, want []string) bool {
	qualifier := ""
	if q, rest, ok := strings.Cut(op, ":"); ok {
		qualifier, op = q, rest
	}
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")
	if op == "Null" {
		absent := len(have) == 0
		for _, w := range want {
			if strings.EqualFold(w, "true") == absent {
				return true
			}
		}
		return false
	}
	negated, match := operator(op)
	if match == nil {
		return false // an operator AWS has but the local stack does not: no match, as a typo would be
	}
	if len(have) == 0 {
		if ifExists {
			return true
		}
		if strings.EqualFold(qualifier, "ForAllValues") {
			return true
		}
		return negated
	}
	one := func(v string) bool {
		for _, w := range want {
			if match(w, v) {
				return true
			}
		}
		return false
	}
	if strings.EqualFold(qualifier, "ForAllValues") {
		for _, v := range have {
			if one(v) == negated {
				return false
			}
		}
		return true
	}
	if negated {
		for _, v := range have {
			if one(v) {
				return false
			}
		}
		return true
	}
	for _, v := range have {
		if one(v) {
			return true
		}
	}
	return false
}

// operator returns whether op is a negated operator and the positive match
// it negates; match is nil for an unknown operator.
func operator(op string) (negated bool, match func(want, have string) bool) {
	switch op {
	case "StringEquals", "ArnEquals", "BinaryEquals":
		return false, func(w, h string) bool { return w == h }
	case "StringNotEquals", "ArnNotEquals":
		return true, func(w, h string) bool { return w == h }
	case "StringEqualsIgnoreCase":
		return false, strings.EqualFold
	case "StringNotEqualsIgnoreCase":
		return true, strings.EqualFold
	case "StringLike", "ArnLike":
		return false, Match
	case "StringNotLike", "ArnNotLike":
		return true, Match
	case "Bool":
		return false, strings.EqualFold
	}
	return false, nil
}

// ParsePolicy reads a policy document (a tree from YAML or JSON, intrinsics
// already resolved): Statement as one statement or a list, each field as a
// string or a list. It returns an error naming the malformed field.
func ParsePolicy(name string, doc any) (Policy, error) {
	m, ok := doc.(map[string]any)
	if !ok {
		return Policy{}, fmt.Errorf("policy %s: not a mapping", name)
	}
	var sts []any
	switch s := m["Statement"].(type) {
	case []any:
		sts = s
	case map[string]any:
		sts = []any{s}
	default:
		return Policy{}, fmt.Errorf("policy %s: no Statement", name)
	}
	p := Policy{Name: name}
	for i, raw := range sts {
		st, err := parseStatement(raw)
		if err != nil {
			return Policy{}, fmt.Errorf("policy %s statement %d: %w", name, i, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(raw any) (Statement, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return Statement{}, fmt.Errorf("not a mapping")
	}
	st := Statement{Sid: fmt.Sprint(orEmpty(m["Sid"])), Effect: fmt.Sprint(orEmpty(m["Effect"]))}
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return st, fmt.Errorf("Effect %q, want Allow or Deny", st.Effect)
	}
	var err error
	fields := []struct {
		key string
		dst *[]string
	}{{"Action", &st.Action}, {"NotAction", &st.NotAction}, {"Resource", &st.Resource}, {"NotResource", &st.NotResource}}
	for _, f := range fields {
		if v, ok := m[f.key]; ok {
			if *f.dst, err = stringList(v); err != nil {
				return st, fmt.Errorf("%s: %w", f.key, err)
			}
		}
	}
	if (st.Action == nil) == (st.NotAction == nil) {
		return st, fmt.Errorf("want exactly one of Action and NotAction")
	}
	if (st.Resource == nil) == (st.NotResource == nil) {
		return st, fmt.Errorf("want exactly one of Resource and NotResource")
	}
	if c, ok := m["Condition"]; ok {
		cm, ok := c.(map[string]any)
		if !ok {
			return st, fmt.Errorf("Condition: not a mapping")
		}
		st.Condition = map[string]map[string][]string{}
		for op, keys := range cm {
			km, ok := keys.(map[string]any)
			if !ok {
				return st, fmt.Errorf("Condition %s: not a mapping", op)
			}
			st.Condition[op] = map[string][]string{}
			for k, v := range km {
				if st.Condition[op][k], err = stringList(v); err != nil {
					return st, fmt.Errorf("Condition %s %s: %w", op, k, err)
				}
			}
		}
	}
	return st, nil
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// stringList reads one string (or scalar) or a list of them; an empty list
// is a list that matches nothing, never nil.
func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case bool, int, float64:
		return []string{fmt.Sprint(x)}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			switch s := e.(type) {
			case string:
				out = append(out, s)
			case bool, int, float64:
				out = append(out, fmt.Sprint(s))
			default:
				return nil, fmt.Errorf("list holds %T, want strings", e)
			}
		}
		return out, nil
	case []string:
		return append([]string{}, x...), nil
	}
	return nil, fmt.Errorf("%T, want a string or a list", v)
}

// Pairs returns every (action, resource pattern) an Allow statement of
// policies states, lower-casing actions, sorted: the shape a policy set is
// compared in. Statements with NotAction, NotResource or a Condition are
// rendered with a marker so that a comparison still sees them.
func Pairs(policies []Policy) []string {
	seen := map[string]bool{}
	for _, p := range policies {
		for _, st := range p.Statements {
			acts, res := st.Action, st.Resource
			prefix := st.Effect + " "
			if acts == nil {
				acts, prefix = st.NotAction, prefix+"NOT-ACTION "
			}
			if res == nil {
				res, prefix = st.NotResource, prefix+"NOT-RESOURCE "
			}
			cond := ""
			if len(st.Condition) > 0 {
				cond = " if " + conditionString(st.Condition)
			}
			for _, a := range acts {
				for _, r := range res {
					seen[prefix+strings.ToLower(a)+" "+r+cond] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func conditionString(c map[string]map[string][]string) string {
	var parts []string
	for op, keys := range c {
		for k, vs := range keys {
			vs = append([]string{}, vs...)
			sort.Strings(vs)
			parts = append(parts, op+"("+strings.ToLower(k)+"="+strings.Join(vs, ",")+")")
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
