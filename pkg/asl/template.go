package asl

// Payload templates are the JSON objects of Parameters, ResultSelector and
// ItemSelector: static values, plus keys ending in ".$" whose string value is
// a path or an intrinsic function evaluated against the input.

import (
	"errors"
	"fmt"
	"strings"
)

type template struct {
	static any                  // a non-object, non-array value, or nil with obj/arr nil
	obj    map[string]*template // object fields (the ".$" suffix removed)
	arr    []*template
	dyn    *expr // the value of a ".$" field
	isObj  bool
	isArr  bool
}

// compileTemplate compiles a payload template; field names the JSON path of
// the template for error messages.
func compileTemplate(v any, field string) (*template, error) {
	switch x := v.(type) {
	case map[string]any:
		t := &template{isObj: true, obj: make(map[string]*template, len(x))}
		for _, k := range sortedKeys(x) {
			val := x[k]
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				s, ok := val.(string)
				if !ok {
					return nil, fmt.Errorf("%s.%s: the value of a field ending in '.$' must be a string path or intrinsic function", field, k)
				}
				e, err := compileDynamic(s)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", field, k, err)
				}
				if _, dup := t.obj[name]; dup {
					return nil, fmt.Errorf("%s: field %q appears both with and without '.$'", field, name)
				}
				t.obj[name] = &template{dyn: e}
				continue
			}
			c, err := compileTemplate(val, field+"."+k)
			if err != nil {
				return nil, err
			}
			if _, dup := t.obj[k]; dup {
				return nil, fmt.Errorf("%s: field %q appears both with and without '.$'", field, k)
			}
			t.obj[k] = c
		}
		return t, nil
	case []any:
		t := &template{isArr: true, arr: make([]*template, len(x))}
		for i, e := range x {
			c, err := compileTemplate(e, fmt.Sprintf("%s[%d]", field, i))
			if err != nil {
				return nil, err
			}
			t.arr[i] = c
		}
		return t, nil
	}
	return &template{static: v}, nil
}

// compileDynamic compiles the value of a ".$" field, or of ErrorPath and
// CausePath: a path, or an intrinsic function.
func compileDynamic(s string) (*expr, error) {
	if strings.HasPrefix(s, "$") {
		p, err := parsePath(s)
		if err != nil {
			return nil, err
		}
		return &expr{kind: exprPath, path: p}, nil
	}
	if strings.HasPrefix(s, "States.") {
		return parseIntrinsic(s)
	}
	return nil, fmt.Errorf("%q is neither a path nor an intrinsic function", s)
}

// eval builds the payload. A missing path returns *pathMissingError, an
// intrinsic failure *intrinsicError.
func (t *template) eval(input, ctx any) (any, error) {
	switch {
	case t.dyn != nil:
		return t.dyn.eval(input, ctx)
	case t.isObj:
		out := make(map[string]any, len(t.obj))
		for k, c := range t.obj {
			v, err := c.eval(input, ctx)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case t.isArr:
		out := make([]any, len(t.arr))
		for i, c := range t.arr {
			v, err := c.eval(input, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return t.static, nil
}

// payloadError turns a template failure into the States error AWS raises.
func payloadError(field, state string, err error) *StateError {
	var ie *intrinsicError
	if errors.As(err, &ie) {
		return &StateError{Name: ErrIntrinsicFailure, Cause: fmt.Sprintf("An error occurred while executing the state '%s'. %s: %s", state, field, ie.msg)}
	}
	return &StateError{Name: ErrParameterPathFailure, Cause: fmt.Sprintf("An error occurred while executing the state '%s'. In %s, %v", state, field, err)}
}
