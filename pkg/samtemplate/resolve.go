package samtemplate

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// noValue stands for AWS::NoValue while a tree is resolved; it is dropped from
// the mapping or sequence that holds it.
type noValue struct{}

// Resolver evaluates CloudFormation intrinsic functions (Ref, Fn::GetAtt,
// Fn::Sub, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::Join,
// Fn::Select) against known parameter values and physical names.
type Resolver struct {
	Template *Template
	// Params overrides parameter defaults.
	Params map[string]string
	// Pseudo holds pseudo parameters: AWS::Region, AWS::AccountId, …
	Pseudo map[string]string
	// Refs maps a logical ID to what Ref returns for it.
	Refs map[string]string
	// Attrs maps "LogicalID.Attribute" to what Fn::GetAtt returns.
	Attrs map[string]string

	// evaluating holds the conditions being evaluated, so that a condition
	// defined in terms of itself is an error rather than endless recursion.
	evaluating map[string]bool
}

// String resolves v and returns it as a string; it returns an error naming
// the reference that could not be resolved.
func (r *Resolver) String(v any) (string, error) {
	out, err := r.Value(v)
	if err != nil {
		return "", err
	}
	switch s := out.(type) {
	case string:
		return s, nil
	case noValue, nil:
		return "", nil
	default:
		return fmt.Sprint(s), nil
	}
}

// Value resolves every intrinsic function in the tree v; it returns an error
// naming the first reference that could not be resolved.
func (r *Resolver) Value(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") || k == "Condition" {
					return r.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, val := range x {
			rv, err := r.Value(val)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, skip := rv.(noValue); !skip {
				out[k] = rv
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, val := range x {
			rv, err := r.Value(val)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if _, skip := rv.(noValue); !skip {
				out = append(out, rv)
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

func (r *Resolver) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		return r.ref(str(arg))
	case "Fn::GetAtt":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt: want [LogicalId, Attribute], got %v", arg)
		}
		key := str(parts[0]) + "." + str(parts[1])
		if v, ok := r.Attrs[key]; ok {
			return v, nil
		}
		return nil, fmt.Errorf("Fn::GetAtt %s: unknown attribute", key)
	case "Fn::Sub":
		return r.sub(arg)
	case "Condition":
		return r.condition(str(arg))
	case "Fn::If":
		parts, _ := arg.([]any)
		if len(parts) != 3 {
			return nil, errors.New("Fn::If: want [condition, then, else]")
		}
		ok, err := r.condition(str(parts[0]))
		if err != nil {
			return nil, err
		}
		if ok {
			return r.Value(parts[1])
		}
		return r.Value(parts[2])
	case "Fn::Equals":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, errors.New("Fn::Equals: want two values")
		}
		a, err := r.String(parts[0])
		if err != nil {
			return nil, err
		}
		b, err := r.String(parts[1])
		if err != nil {
			return nil, err
		}
		return a == b, nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		parts, _ := arg.([]any)
		var vals []bool
		for _, p := range parts {
			v, err := r.Value(p)
			if err != nil {
				return nil, err
			}
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("%s: operand is not a condition", fn)
			}
			vals = append(vals, b)
		}
		switch fn {
		case "Fn::Not":
			if len(vals) != 1 {
				return nil, errors.New("Fn::Not: want one condition")
			}
			return !vals[0], nil
		case "Fn::And":
			for _, b := range vals {
				if !b {
					return false, nil
				}
			}
			return true, nil
		default:
			for _, b := range vals {
				if b {
					return true, nil
				}
			}
			return false, nil
		}
	case "Fn::Join":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, errors.New("Fn::Join: want [delimiter, list]")
		}
		list, err := r.Value(parts[1])
		if err != nil {
			return nil, err
		}
		items, _ := list.([]any)
		strs := make([]string, len(items))
		for i, it := range items {
			strs[i] = str(it)
		}
		return strings.Join(strs, str(parts[0])), nil
	case "Fn::Select":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, errors.New("Fn::Select: want [index, list]")
		}
		list, err := r.Value(parts[1])
		if err != nil {
			return nil, err
		}
		items, _ := list.([]any)
		var i int
		if _, err := fmt.Sscan(str(parts[0]), &i); err != nil || i < 0 || i >= len(items) {
			return nil, fmt.Errorf("Fn::Select: index %v out of range", parts[0])
		}
		return items[i], nil
	}
	return nil, fmt.Errorf("%s: not supported", fn)
}

func (r *Resolver) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if v, ok := r.Pseudo[name]; ok {
		return v, nil
	}
	if v, ok := r.Params[name]; ok {
		return v, nil
	}
	if p, ok := r.Template.Parameters[name]; ok {
		return str(p.Default), nil
	}
	if v, ok := r.Refs[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("Ref %s: unknown name", name)
}

func (r *Resolver) condition(name string) (bool, error) {
	c, ok := r.Template.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s: not defined", name)
	}
	if r.evaluating[name] {
		return false, fmt.Errorf("condition %s: refers to itself", name)
	}
	if r.evaluating == nil {
		r.evaluating = map[string]bool{}
	}
	r.evaluating[name] = true
	defer delete(r.evaluating, name)
	v, err := r.Value(c)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s: not a boolean", name)
	}
	return b, nil
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (r *Resolver) sub(arg any) (any, error) {
	text := str(arg)
	vars := map[string]any{}
	if parts, ok := arg.([]any); ok {
		if len(parts) != 2 {
			return nil, errors.New("Fn::Sub: want [text, variables]")
		}
		text = str(parts[0])
		vars = asMap(parts[1])
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		var v any
		var err error
		switch {
		case vars[name] != nil:
			v, err = r.Value(vars[name])
		case strings.Contains(name, ".") && !strings.HasPrefix(name, "AWS::"):
			id, attr, _ := strings.Cut(name, ".")
			v, err = r.intrinsic("Fn::GetAtt", []any{id, attr})
		default:
			v, err = r.ref(name)
		}
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("Fn::Sub %q: %w", text, err)
		}
		return str(v)
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// pseudoParameters are the names CloudFormation defines for every stack.
var pseudoParameters = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true, "AWS::Partition": true,
	"AWS::Region": true, "AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true,
}

// CheckReferences returns one error per Ref, Fn::GetAtt, Fn::Sub variable or
// condition name in the template that names nothing the template defines.
func (t *Template) CheckReferences() []error {
	var errs []error
	known := func(name string) bool {
		_, p := t.Parameters[name]
		_, r := t.Resources[name]
		return p || r || pseudoParameters[name]
	}
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				switch k {
				case "Ref":
					if !known(str(val)) {
						errs = append(errs, fmt.Errorf("%s: Ref %s names nothing", where, str(val)))
					}
				case "Fn::GetAtt":
					if parts, _ := val.([]any); len(parts) != 2 {
						errs = append(errs, fmt.Errorf("%s: malformed Fn::GetAtt", where))
					} else if _, ok := t.Resources[str(parts[0])]; !ok {
						errs = append(errs, fmt.Errorf("%s: Fn::GetAtt %s names no resource", where, str(parts[0])))
					}
				case "Fn::Sub":
					text, vars := str(val), map[string]any{}
					if parts, ok := val.([]any); ok && len(parts) == 2 {
						text, vars = str(parts[0]), asMap(parts[1])
					}
					for _, m := range subVar.FindAllStringSubmatch(text, -1) {
						name, _, _ := strings.Cut(m[1], ".")
						if _, ok := vars[m[1]]; !ok && !known(name) && !pseudoParameters[m[1]] {
							errs = append(errs, fmt.Errorf("%s: Fn::Sub ${%s} names nothing", where, m[1]))
						}
					}
				case "Fn::If", "Condition":
					// Outside Conditions, a Condition key is an IAM policy's.
					if k == "Condition" && where != "Conditions" {
						break
					}
					name := str(val)
					if parts, ok := val.([]any); ok && len(parts) > 0 {
						name = str(parts[0])
					}
					if _, ok := t.Conditions[name]; !ok {
						errs = append(errs, fmt.Errorf("%s: condition %s is not defined", where, name))
					}
				}
				walk(where, val)
			}
		case []any:
			for _, val := range x {
				walk(where, val)
			}
		}
	}
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := t.Resources[id]
		walk("Resources."+id, r.Properties)
		if r.Condition != "" {
			if _, ok := t.Conditions[r.Condition]; !ok {
				errs = append(errs, fmt.Errorf("Resources.%s: condition %s is not defined", id, r.Condition))
			}
		}
	}
	walk("Globals", t.Globals)
	walk("Conditions", t.Conditions)
	walk("Outputs", t.Outputs)
	return errs
}
