package asl

// Intrinsic functions (States.Format, States.Array, ...) are small pure
// functions usable wherever a payload template takes a ".$" value. Their
// failures raise States.IntrinsicFailure.

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math/big"
	mrand "math/rand/v2"
	"strings"
)

// maxIntrinsicDepth is AWS's limit on nested intrinsic calls in one field.
const maxIntrinsicDepth = 10

type exprKind int

const (
	exprLiteral exprKind = iota
	exprPath
	exprCall
)

// expr is an intrinsic function call or one of its arguments.
type expr struct {
	kind exprKind
	lit  any    // exprLiteral
	fmt  string // exprLiteral strings: the text with \{ and \} kept, for States.Format
	path *path  // exprPath
	name string // exprCall
	args []*expr
}

var intrinsicArity = map[string][2]int{ // min, max (-1: unbounded)
	"States.Format":         {1, -1},
	"States.StringToJson":   {1, 1},
	"States.JsonToString":   {1, 1},
	"States.Array":          {0, -1},
	"States.ArrayPartition": {2, 2},
	"States.ArrayContains":  {2, 2},
	"States.ArrayRange":     {3, 3},
	"States.ArrayGetItem":   {2, 2},
	"States.ArrayLength":    {1, 1},
	"States.ArrayUnique":    {1, 1},
	"States.Base64Encode":   {1, 1},
	"States.Base64Decode":   {1, 1},
	"States.Hash":           {2, 2},
	"States.JsonMerge":      {3, 3},
	"States.MathRandom":     {2, 3},
	"States.MathAdd":        {2, 2},
	"States.StringSplit":    {2, 2},
	"States.UUID":           {0, 0},
}

// parseIntrinsic parses an intrinsic function call such as
// States.Format('Hello {}', $.name).
func parseIntrinsic(s string) (*expr, error) {
	p := &exprParser{s: s}
	e, err := p.call(0)
	if err != nil {
		return nil, fmt.Errorf("intrinsic %q: %w", s, err)
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("intrinsic %q: unexpected %q at %d", s, p.s[p.i:], p.i)
	}
	return e, nil
}

type exprParser struct {
	s string
	i int
}

func (p *exprParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *exprParser) call(depth int) (*expr, error) {
	if depth >= maxIntrinsicDepth {
		return nil, fmt.Errorf("more than %d nested intrinsic functions", maxIntrinsicDepth)
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '(' {
		p.i++
	}
	name := strings.TrimSpace(p.s[start:p.i])
	arity, ok := intrinsicArity[name]
	if !ok {
		return nil, fmt.Errorf("unknown function %q", name)
	}
	if p.i >= len(p.s) {
		return nil, errors.New("missing '('")
	}
	p.i++
	e := &expr{kind: exprCall, name: name}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
	} else {
		for {
			p.space()
			a, err := p.arg(depth)
			if err != nil {
				return nil, err
			}
			e.args = append(e.args, a)
			p.space()
			if p.i >= len(p.s) {
				return nil, errors.New("missing ')'")
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			if p.s[p.i] != ',' {
				return nil, fmt.Errorf("expected ',' or ')' at %d", p.i)
			}
			p.i++
		}
	}
	if len(e.args) < arity[0] || (arity[1] >= 0 && len(e.args) > arity[1]) {
		return nil, fmt.Errorf("%s takes %s arguments, got %d", name, arityText(arity), len(e.args))
	}
	return e, nil
}

func arityText(a [2]int) string {
	switch {
	case a[1] < 0:
		return fmt.Sprintf("at least %d", a[0])
	case a[0] == a[1]:
		return fmt.Sprint(a[0])
	}
	return fmt.Sprintf("%d to %d", a[0], a[1])
}

func (p *exprParser) arg(depth int) (*expr, error) {
	if p.i >= len(p.s) {
		return nil, errors.New("missing argument")
	}
	switch c := p.s[p.i]; {
	case c == '\'':
		return p.str()
	case c == '$':
		start := p.i
		depthB := 0
		var quote byte
		for p.i < len(p.s) {
			c := p.s[p.i]
			if quote != 0 {
				if c == '\\' {
					p.i++
				} else if c == quote {
					quote = 0
				}
			} else if c == '\'' || c == '"' {
				quote = c
			} else if c == '[' || c == '(' {
				depthB++
			} else if c == ']' || c == ')' {
				if depthB == 0 {
					break
				}
				depthB--
			} else if c == ',' && depthB == 0 {
				break
			}
			p.i++
		}
		pa, err := parsePath(strings.TrimSpace(p.s[start:p.i]))
		if err != nil {
			return nil, err
		}
		return &expr{kind: exprPath, path: pa}, nil
	case strings.HasPrefix(p.s[p.i:], "States."):
		return p.call(depth + 1)
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != ')' {
		p.i++
	}
	v, err := parseLiteral(strings.TrimSpace(p.s[start:p.i]))
	if err != nil {
		return nil, err
	}
	return &expr{kind: exprLiteral, lit: v}, nil
}

// str parses a single-quoted string. \' and \\ unescape; \{ and \} stay
// escaped in fmt so that States.Format can tell literal braces from
// placeholders.
func (p *exprParser) str() (*expr, error) {
	p.i++
	var val, raw strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.s):
			n := p.s[p.i+1]
			if n == '{' || n == '}' {
				raw.WriteByte('\\')
			} else if n == '\\' {
				raw.WriteByte('\\')
			}
			raw.WriteByte(n)
			val.WriteByte(n)
			p.i += 2
		case c == '\'':
			p.i++
			return &expr{kind: exprLiteral, lit: val.String(), fmt: raw.String()}, nil
		default:
			raw.WriteByte(c)
			val.WriteByte(c)
			p.i++
		}
	}
	return nil, errors.New("unterminated string")
}

// errIntrinsic is wrapped by every evaluation failure of an intrinsic.
type intrinsicError struct{ msg string }

func (e *intrinsicError) Error() string { return e.msg }

func intrinsicErrorf(format string, a ...any) error {
	return &intrinsicError{msg: fmt.Sprintf(format, a...)}
}

// pathMissingError reports a path argument or payload path that names no node.
type pathMissingError struct{ path string }

func (e *pathMissingError) Error() string {
	return fmt.Sprintf("the JSONPath %q could not be found in the input", e.path)
}

func (e *expr) eval(input, ctx any) (any, error) {
	switch e.kind {
	case exprLiteral:
		return e.lit, nil
	case exprPath:
		v, ok := e.path.get(input, ctx)
		if !ok {
			return nil, &pathMissingError{path: e.path.raw}
		}
		return v, nil
	}
	args := make([]any, len(e.args))
	for i, a := range e.args {
		v, err := a.eval(input, ctx)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return e.callFunc(args)
}

func (e *expr) callFunc(args []any) (any, error) {
	switch e.name {
	case "States.Format":
		tmpl, ok := args[0].(string)
		if !ok {
			return nil, intrinsicErrorf("States.Format: template must be a string, got %s", kind(args[0]))
		}
		if e.args[0].kind == exprLiteral {
			tmpl = e.args[0].fmt
		}
		return format(tmpl, args[1:])
	case "States.StringToJson":
		s, ok := args[0].(string)
		if !ok {
			return nil, intrinsicErrorf("States.StringToJson: argument must be a string, got %s", kind(args[0]))
		}
		v, err := decodeJSON([]byte(s))
		if err != nil {
			return nil, intrinsicErrorf("States.StringToJson: %v", err)
		}
		return v, nil
	case "States.JsonToString":
		return encodeJSON(args[0]), nil
	case "States.Array":
		return append([]any{}, args...), nil
	case "States.ArrayPartition":
		a, err := arrayArg(e.name, args[0])
		if err != nil {
			return nil, err
		}
		size, ok := integer(args[1])
		if !ok || size <= 0 {
			return nil, intrinsicErrorf("States.ArrayPartition: chunk size must be a positive integer")
		}
		out := []any{}
		for i := 0; i < len(a); i += int(size) {
			out = append(out, append([]any{}, a[i:min(len(a), i+int(size))]...))
		}
		return out, nil
	case "States.ArrayContains":
		a, err := arrayArg(e.name, args[0])
		if err != nil {
			return nil, err
		}
		for _, v := range a {
			if jsonEqual(v, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		var n [3]int64
		for i := range n {
			v, ok := integer(args[i])
			if !ok {
				return nil, intrinsicErrorf("States.ArrayRange: arguments must be integers")
			}
			n[i] = v
		}
		if n[2] == 0 {
			return nil, intrinsicErrorf("States.ArrayRange: step must not be 0")
		}
		out := []any{}
		for v := n[0]; (n[2] > 0 && v <= n[1]) || (n[2] < 0 && v >= n[1]); v += n[2] {
			if len(out) == 1000 {
				return nil, intrinsicErrorf("States.ArrayRange: more than 1000 items")
			}
			out = append(out, intValue(v))
		}
		return out, nil
	case "States.ArrayGetItem":
		a, err := arrayArg(e.name, args[0])
		if err != nil {
			return nil, err
		}
		i, ok := integer(args[1])
		if !ok || i < 0 || i >= int64(len(a)) {
			return nil, intrinsicErrorf("States.ArrayGetItem: index out of range")
		}
		return a[i], nil
	case "States.ArrayLength":
		a, err := arrayArg(e.name, args[0])
		if err != nil {
			return nil, err
		}
		return intValue(int64(len(a))), nil
	case "States.ArrayUnique":
		a, err := arrayArg(e.name, args[0])
		if err != nil {
			return nil, err
		}
		out := []any{}
	next:
		for _, v := range a {
			for _, w := range out {
				if jsonEqual(v, w) {
					continue next
				}
			}
			out = append(out, v)
		}
		return out, nil
	case "States.Base64Encode":
		s, ok := args[0].(string)
		if !ok {
			return nil, intrinsicErrorf("States.Base64Encode: argument must be a string")
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, ok := args[0].(string)
		if !ok {
			return nil, intrinsicErrorf("States.Base64Decode: argument must be a string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, intrinsicErrorf("States.Base64Decode: %v", err)
		}
		return string(b), nil
	case "States.Hash":
		s, ok := args[0].(string)
		if !ok {
			s = encodeJSON(args[0])
		}
		alg, _ := args[1].(string)
		var h hash.Hash
		switch alg {
		case "MD5":
			h = md5.New()
		case "SHA-1":
			h = sha1.New()
		case "SHA-256":
			h = sha256.New()
		case "SHA-384":
			h = sha512.New384()
		case "SHA-512":
			h = sha512.New()
		default:
			return nil, intrinsicErrorf("States.Hash: unsupported algorithm %q", alg)
		}
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil)), nil
	case "States.JsonMerge":
		a, ok1 := args[0].(map[string]any)
		b, ok2 := args[1].(map[string]any)
		if !ok1 || !ok2 {
			return nil, intrinsicErrorf("States.JsonMerge: arguments must be objects")
		}
		if deep, _ := args[2].(bool); deep {
			return nil, intrinsicErrorf("States.JsonMerge: deep merge is not supported, the third argument must be false")
		}
		out := make(map[string]any, len(a)+len(b))
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out, nil
	case "States.MathRandom":
		lo, ok1 := integer(args[0])
		hi, ok2 := integer(args[1])
		if !ok1 || !ok2 || hi <= lo {
			return nil, intrinsicErrorf("States.MathRandom: start and end must be integers with start < end")
		}
		var r *mrand.Rand
		if len(args) == 3 {
			seed, ok := integer(args[2])
			if !ok {
				return nil, intrinsicErrorf("States.MathRandom: seed must be an integer")
			}
			r = mrand.New(mrand.NewPCG(uint64(seed), 0))
			return intValue(lo + r.Int64N(hi-lo)), nil
		}
		return intValue(lo + mrand.Int64N(hi-lo)), nil
	case "States.MathAdd":
		a, ok1 := integer(args[0])
		b, ok2 := integer(args[1])
		if !ok1 || !ok2 {
			return nil, intrinsicErrorf("States.MathAdd: arguments must be integers")
		}
		sum := new(big.Int).Add(big.NewInt(a), big.NewInt(b))
		if !sum.IsInt64() {
			return nil, intrinsicErrorf("States.MathAdd: overflow")
		}
		return intValue(sum.Int64()), nil
	case "States.StringSplit":
		s, ok1 := args[0].(string)
		sep, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, intrinsicErrorf("States.StringSplit: arguments must be strings")
		}
		out := []any{}
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(sep, r) }) {
			out = append(out, part)
		}
		return out, nil
	case "States.UUID":
		return newUUID(), nil
	}
	return nil, intrinsicErrorf("unknown function %q", e.name)
}

func arrayArg(fn string, v any) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, intrinsicErrorf("%s: expected an array, got %s", fn, kind(v))
	}
	return a, nil
}

// format fills the {} placeholders of tmpl; \{ \} and \\ are literal.
func format(tmpl string, args []any) (string, error) {
	var b strings.Builder
	n := 0
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		switch {
		case c == '\\' && i+1 < len(tmpl):
			i++
			b.WriteByte(tmpl[i])
		case c == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}':
			if n >= len(args) {
				return "", intrinsicErrorf("States.Format: more placeholders than arguments")
			}
			switch v := args[n].(type) {
			case string:
				b.WriteString(v)
			case map[string]any, []any:
				return "", intrinsicErrorf("States.Format: argument %d is an %s; only strings, numbers, booleans and null can be formatted", n+1, kind(v))
			default:
				b.WriteString(encodeJSON(v))
			}
			n++
			i++
		default:
			b.WriteByte(c)
		}
	}
	if n != len(args) {
		return "", intrinsicErrorf("States.Format: %d placeholders for %d arguments", n, len(args))
	}
	return b.String(), nil
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
