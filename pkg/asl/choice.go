package asl

// Choice rules: a tree of And/Or/Not over data-test expressions, each of which
// compares the node a Variable path names with a literal or another path.

import (
	"fmt"
	"strings"
	"time"
)

type choiceRule struct {
	variable  *path
	op        string // e.g. "StringEquals", "NumericLessThanPath", "IsPresent"
	value     any    // literal operand
	valuePath *path  // operand of a *Path operator
	and, or   []*choiceRule
	not       *choiceRule
	next      string
}

var comparisonOps = map[string]string{ // operator → operand type
	"StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
	"StringLessThanEquals": "string", "StringGreaterThanEquals": "string", "StringMatches": "string",
	"NumericEquals": "number", "NumericLessThan": "number", "NumericGreaterThan": "number",
	"NumericLessThanEquals": "number", "NumericGreaterThanEquals": "number",
	"BooleanEquals":   "boolean",
	"TimestampEquals": "timestamp", "TimestampLessThan": "timestamp", "TimestampGreaterThan": "timestamp",
	"TimestampLessThanEquals": "timestamp", "TimestampGreaterThanEquals": "timestamp",
	"IsNull": "boolean", "IsPresent": "boolean", "IsNumeric": "boolean", "IsString": "boolean",
	"IsBoolean": "boolean", "IsTimestamp": "boolean",
}

// compileChoice compiles one rule; top says whether it is a top-level rule
// (which must have Next) or nested in And/Or/Not (which must not).
func compileChoice(m map[string]any, top bool) (*choiceRule, error) {
	r := &choiceRule{}
	if next, ok := m["Next"]; ok {
		s, ok := next.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("choice rule Next must be a non-empty string")
		}
		if !top {
			return nil, fmt.Errorf("nested choice rules cannot have Next")
		}
		r.next = s
	} else if top {
		return nil, fmt.Errorf("choice rule has no Next")
	}
	ops := 0
	for k, v := range m {
		switch k {
		case "Next", "Comment":
		case "Variable":
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("Variable must be a string path")
			}
			p, err := parsePath(s)
			if err != nil {
				return nil, fmt.Errorf("Variable: %w", err)
			}
			r.variable = p
		case "And", "Or":
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				return nil, fmt.Errorf("%s must be a non-empty array of rules", k)
			}
			for _, e := range list {
				em, ok := e.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s must contain objects", k)
				}
				c, err := compileChoice(em, false)
				if err != nil {
					return nil, err
				}
				if k == "And" {
					r.and = append(r.and, c)
				} else {
					r.or = append(r.or, c)
				}
			}
			ops++
		case "Not":
			em, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("Not must be an object")
			}
			c, err := compileChoice(em, false)
			if err != nil {
				return nil, err
			}
			r.not = c
			ops++
		default:
			if base, ok := strings.CutSuffix(k, "Path"); ok && comparisonOps[base] != "" && !strings.HasPrefix(base, "Is") && base != "StringMatches" {
				s, ok := v.(string)
				if !ok {
					return nil, fmt.Errorf("%s must be a path string", k)
				}
				p, err := parsePath(s)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				r.op, r.valuePath = k, p
				ops++
				continue
			}
			typ, ok := comparisonOps[k]
			if !ok {
				return nil, fmt.Errorf("unknown choice rule field %q", k)
			}
			switch typ {
			case "string":
				if _, ok := v.(string); !ok {
					return nil, fmt.Errorf("%s needs a string", k)
				}
			case "number":
				if _, ok := number(v); !ok {
					return nil, fmt.Errorf("%s needs a number", k)
				}
			case "boolean":
				if _, ok := v.(bool); !ok {
					return nil, fmt.Errorf("%s needs a boolean", k)
				}
			case "timestamp":
				s, _ := v.(string)
				if _, ok := parseTimestamp(s); !ok {
					return nil, fmt.Errorf("%s needs an RFC 3339 timestamp", k)
				}
			}
			r.op, r.value = k, v
			ops++
		}
	}
	if ops != 1 {
		return nil, fmt.Errorf("a choice rule needs exactly one comparison operator or And/Or/Not, found %d", ops)
	}
	if r.op != "" && r.variable == nil {
		return nil, fmt.Errorf("%s needs a Variable", r.op)
	}
	if r.op == "" && r.variable != nil {
		return nil, fmt.Errorf("And/Or/Not cannot have a Variable")
	}
	return r, nil
}

func parseTimestamp(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// eval evaluates the rule. A Variable that names no node is a States.Runtime
// error, except for IsPresent.
func (r *choiceRule) eval(input, ctx any) (bool, error) {
	switch {
	case r.and != nil:
		for _, c := range r.and {
			ok, err := c.eval(input, ctx)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.or != nil:
		for _, c := range r.or {
			ok, err := c.eval(input, ctx)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.not != nil:
		ok, err := r.not.eval(input, ctx)
		return !ok && err == nil, err
	}
	v, found := r.variable.get(input, ctx)
	if r.op == "IsPresent" {
		return found == r.value.(bool), nil
	}
	if !found {
		return false, runtimeError("Invalid path '%s': The choice state's condition path references an invalid value.", r.variable.raw)
	}
	op, operand := r.op, r.value
	if r.valuePath != nil {
		op = strings.TrimSuffix(op, "Path")
		w, ok := r.valuePath.get(input, ctx)
		if !ok {
			return false, runtimeError("Invalid path '%s': The choice state's condition path references an invalid value.", r.valuePath.raw)
		}
		operand = w
	}
	switch op {
	case "IsNull":
		return (v == nil) == operand.(bool), nil
	case "IsNumeric":
		_, ok := number(v)
		return ok == operand.(bool), nil
	case "IsString":
		_, ok := v.(string)
		return ok == operand.(bool), nil
	case "IsBoolean":
		_, ok := v.(bool)
		return ok == operand.(bool), nil
	case "IsTimestamp":
		s, _ := v.(string)
		_, ok := parseTimestamp(s)
		return ok == operand.(bool), nil
	case "BooleanEquals":
		a, ok1 := v.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b, nil
	case "StringMatches":
		a, ok := v.(string)
		return ok && stringMatches(a, operand.(string)), nil
	}
	rel := opRelation(op)
	switch {
	case strings.HasPrefix(op, "String"):
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		return ok1 && ok2 && compareOrdered(a, b, rel), nil
	case strings.HasPrefix(op, "Numeric"):
		a, ok1 := number(v)
		b, ok2 := number(operand)
		return ok1 && ok2 && compareOrdered(a, b, rel), nil
	case strings.HasPrefix(op, "Timestamp"):
		as, _ := v.(string)
		bs, _ := operand.(string)
		a, ok1 := parseTimestamp(as)
		b, ok2 := parseTimestamp(bs)
		if !ok1 || !ok2 {
			return false, nil
		}
		return compareOrdered(float64(a.Sub(b)), 0, rel), nil
	}
	return false, fmt.Errorf("unknown operator %q", op)
}

func opRelation(op string) string {
	switch {
	case strings.HasSuffix(op, "LessThanEquals"):
		return "<="
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return ">="
	case strings.HasSuffix(op, "LessThan"):
		return "<"
	case strings.HasSuffix(op, "GreaterThan"):
		return ">"
	}
	return "=="
}

// stringMatches matches s against pattern, where * matches any run of
// characters and \* and \\ are a literal star and backslash.
func stringMatches(s, pattern string) bool {
	type tok struct {
		star bool
		c    byte
	}
	var toks []tok
	for i := 0; i < len(pattern); i++ {
		switch {
		case pattern[i] == '\\' && i+1 < len(pattern):
			i++
			toks = append(toks, tok{c: pattern[i]})
		case pattern[i] == '*':
			toks = append(toks, tok{star: true})
		default:
			toks = append(toks, tok{c: pattern[i]})
		}
	}
	// Iterative wildcard matching with backtracking to the last star.
	si, ti, starTi, starSi := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].c == s[si]:
			si++
			ti++
		case ti < len(toks) && toks[ti].star:
			starTi, starSi = ti, si
			ti++
		case starTi >= 0:
			starSi++
			si, ti = starSi, starTi+1
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}
