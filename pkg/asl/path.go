package asl

// Paths select parts of a JSON value. ASL distinguishes Reference Paths, which
// name exactly one node ($.a.b, $.a[0], $['a b']) and may be written to by
// ResultPath, from general JSONPath, which may select many nodes ([*], slices,
// unions, filters, ..) and then yields an array of the matches.

import (
	"fmt"
	"strconv"
	"strings"
)

type segKind int

const (
	segField segKind = iota
	segIndex
	segWildcard
	segSlice
	segUnion
	segFilter
	segDeep
)

type segment struct {
	kind    segKind
	name    string   // segField, segDeep ("" means any)
	index   int      // segIndex
	from    *int     // segSlice
	to      *int     // segSlice
	step    int      // segSlice
	indexes []int    // segUnion of indexes
	names   []string // segUnion of names
	filter  *filter  // segFilter
}

// path is a parsed JSONPath expression rooted at $ (the state input) or $$
// (the context object).
type path struct {
	raw      string
	context  bool
	segs     []segment
	definite bool
}

type filter struct {
	rel *path // relative to @
	op  string
	lit any
}

func (p *path) String() string { return p.raw }

// parsePath parses a JSONPath expression that starts with $ or $$.
func parsePath(s string) (*path, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("path %q must start with '$'", s)
	}
	p := &path{raw: s, definite: true}
	i := 1
	if strings.HasPrefix(s, "$$") {
		p.context = true
		i = 2
	}
	for i < len(s) {
		switch s[i] {
		case '.':
			if i+1 < len(s) && s[i+1] == '.' {
				i += 2
				name, n := readName(s[i:])
				if name == "*" {
					name = ""
				}
				if n == 0 && !(i < len(s) && s[i] == '[') {
					return nil, fmt.Errorf("path %q: missing name after '..'", s)
				}
				p.segs = append(p.segs, segment{kind: segDeep, name: name})
				p.definite = false
				i += n
				continue
			}
			i++
			name, n := readName(s[i:])
			if n == 0 {
				return nil, fmt.Errorf("path %q: missing name after '.' at %d", s, i)
			}
			i += n
			if name == "*" {
				p.segs = append(p.segs, segment{kind: segWildcard})
				p.definite = false
				continue
			}
			p.segs = append(p.segs, segment{kind: segField, name: name})
		case '[':
			seg, n, err := parseBracket(s[i:])
			if err != nil {
				return nil, fmt.Errorf("path %q: %w", s, err)
			}
			i += n
			if seg.kind != segField && seg.kind != segIndex {
				p.definite = false
			}
			p.segs = append(p.segs, seg)
		default:
			return nil, fmt.Errorf("path %q: unexpected %q at %d", s, s[i], i)
		}
	}
	return p, nil
}

// parseReferencePath parses a path that must name a single node.
func parseReferencePath(s string) (*path, error) {
	p, err := parsePath(s)
	if err != nil {
		return nil, err
	}
	if !p.definite {
		return nil, fmt.Errorf("%q is not a reference path (it may select more than one node)", s)
	}
	return p, nil
}

func readName(s string) (string, int) {
	n := 0
	for n < len(s) && s[n] != '.' && s[n] != '[' {
		n++
	}
	return s[:n], n
}

// parseBracket parses one [...] segment; s starts with '['.
func parseBracket(s string) (segment, int, error) {
	body, n, err := bracketBody(s)
	if err != nil {
		return segment{}, 0, err
	}
	t := strings.TrimSpace(body)
	switch {
	case t == "*":
		return segment{kind: segWildcard}, n, nil
	case strings.HasPrefix(t, "?"):
		f, err := parseFilter(strings.TrimSpace(t[1:]))
		if err != nil {
			return segment{}, 0, err
		}
		return segment{kind: segFilter, filter: f}, n, nil
	case strings.HasPrefix(t, "'") || strings.HasPrefix(t, `"`):
		names, err := splitQuoted(t)
		if err != nil {
			return segment{}, 0, err
		}
		if len(names) == 1 {
			return segment{kind: segField, name: names[0]}, n, nil
		}
		return segment{kind: segUnion, names: names}, n, nil
	case strings.Contains(t, ":"):
		parts := strings.Split(t, ":")
		if len(parts) > 3 {
			return segment{}, 0, fmt.Errorf("bad slice [%s]", t)
		}
		seg := segment{kind: segSlice, step: 1}
		for k, part := range parts {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			v, err := strconv.Atoi(part)
			if err != nil {
				return segment{}, 0, fmt.Errorf("bad slice [%s]", t)
			}
			switch k {
			case 0:
				seg.from = &v
			case 1:
				seg.to = &v
			case 2:
				if v <= 0 {
					return segment{}, 0, fmt.Errorf("slice step must be positive in [%s]", t)
				}
				seg.step = v
			}
		}
		return seg, n, nil
	case strings.Contains(t, ","):
		seg := segment{kind: segUnion}
		for _, part := range strings.Split(t, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return segment{}, 0, fmt.Errorf("bad index list [%s]", t)
			}
			seg.indexes = append(seg.indexes, v)
		}
		return seg, n, nil
	}
	v, err := strconv.Atoi(t)
	if err != nil {
		return segment{}, 0, fmt.Errorf("bad index [%s]", t)
	}
	return segment{kind: segIndex, index: v}, n, nil
}

// bracketBody returns the text between s[0]=='[' and its matching ']',
// honouring quotes and nested parentheses, and the length consumed.
func bracketBody(s string) (string, int, error) {
	depth := 0
	var quote byte
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(' || c == '[':
			depth++
		case c == ')':
			depth--
		case c == ']':
			if depth == 0 {
				return s[1:i], i + 1, nil
			}
			depth--
		}
	}
	return "", 0, fmt.Errorf("unterminated '['")
}

func splitQuoted(t string) ([]string, error) {
	var names []string
	for len(t) > 0 {
		q := t[0]
		if q != '\'' && q != '"' {
			return nil, fmt.Errorf("bad name list [%s]", t)
		}
		var b strings.Builder
		i := 1
		for ; i < len(t) && t[i] != q; i++ {
			if t[i] == '\\' && i+1 < len(t) {
				i++
			}
			b.WriteByte(t[i])
		}
		if i >= len(t) {
			return nil, fmt.Errorf("unterminated quote in [%s]", t)
		}
		names = append(names, b.String())
		t = strings.TrimSpace(t[i+1:])
		if strings.HasPrefix(t, ",") {
			t = strings.TrimSpace(t[1:])
		} else if t != "" {
			return nil, fmt.Errorf("bad name list near %q", t)
		}
	}
	return names, nil
}

var filterOps = []string{"==", "!=", "<=", ">=", "<", ">"}

// parseFilter parses (@.a.b op literal) or (@.a.b).
func parseFilter(t string) (*filter, error) {
	if !strings.HasPrefix(t, "(") || !strings.HasSuffix(t, ")") {
		return nil, fmt.Errorf("filter %q must be ?(...)", t)
	}
	t = strings.TrimSpace(t[1 : len(t)-1])
	if !strings.HasPrefix(t, "@") {
		return nil, fmt.Errorf("filter %q must start with '@'", t)
	}
	opAt, op := -1, ""
	var quote byte
	for i := 0; i < len(t) && opAt < 0; i++ {
		c := t[i]
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		if c == '\'' || c == '"' {
			quote = c
			continue
		}
		for _, o := range filterOps {
			if strings.HasPrefix(t[i:], o) {
				opAt, op = i, o
				break
			}
		}
	}
	lhs := t
	f := &filter{}
	if opAt >= 0 {
		lhs = strings.TrimSpace(t[:opAt])
		lit := strings.TrimSpace(t[opAt+len(op):])
		v, err := parseLiteral(lit)
		if err != nil {
			return nil, fmt.Errorf("filter %q: %w", t, err)
		}
		f.op, f.lit = op, v
	}
	rel, err := parsePath("$" + lhs[1:])
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", t, err)
	}
	f.rel = rel
	return f, nil
}

func parseLiteral(s string) (any, error) {
	switch s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return strings.ReplaceAll(s[1:len(s)-1], `\`+s[:1], s[:1]), nil
	}
	v, err := decodeJSON([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("bad literal %q", s)
	}
	if _, ok := number(v); !ok {
		return nil, fmt.Errorf("bad literal %q", s)
	}
	return v, nil
}

// get evaluates p. A definite path returns the one node it names, and
// ok=false when that node does not exist. An indefinite path returns the
// array of all matches (possibly empty) and ok=true.
func (p *path) get(input, ctx any) (any, bool) {
	root := input
	if p.context {
		root = ctx
	}
	if p.definite {
		cur := root
		for _, s := range p.segs {
			switch s.kind {
			case segField:
				m, ok := cur.(map[string]any)
				if !ok {
					return nil, false
				}
				if cur, ok = m[s.name]; !ok {
					return nil, false
				}
			case segIndex:
				a, ok := cur.([]any)
				if !ok {
					return nil, false
				}
				i := s.index
				if i < 0 {
					i += len(a)
				}
				if i < 0 || i >= len(a) {
					return nil, false
				}
				cur = a[i]
			}
		}
		return cur, true
	}
	nodes := []any{root}
	for _, s := range p.segs {
		var next []any
		for _, n := range nodes {
			next = s.apply(n, next)
		}
		nodes = next
	}
	if nodes == nil {
		nodes = []any{}
	}
	return nodes, true
}

func (s segment) apply(n any, out []any) []any {
	switch s.kind {
	case segField:
		if m, ok := n.(map[string]any); ok {
			if v, ok := m[s.name]; ok {
				out = append(out, v)
			}
		}
	case segIndex:
		if a, ok := n.([]any); ok {
			i := s.index
			if i < 0 {
				i += len(a)
			}
			if i >= 0 && i < len(a) {
				out = append(out, a[i])
			}
		}
	case segWildcard:
		out = appendChildren(n, out)
	case segSlice:
		a, ok := n.([]any)
		if !ok {
			return out
		}
		from, to := 0, len(a)
		if s.from != nil {
			from = clampIndex(*s.from, len(a))
		}
		if s.to != nil {
			to = clampIndex(*s.to, len(a))
		}
		for i := from; i < to; i += s.step {
			out = append(out, a[i])
		}
	case segUnion:
		if a, ok := n.([]any); ok {
			for _, i := range s.indexes {
				if i < 0 {
					i += len(a)
				}
				if i >= 0 && i < len(a) {
					out = append(out, a[i])
				}
			}
		}
		if m, ok := n.(map[string]any); ok {
			for _, k := range s.names {
				if v, ok := m[k]; ok {
					out = append(out, v)
				}
			}
		}
	case segFilter:
		for _, c := range appendChildren(n, nil) {
			if s.filter.match(c) {
				out = append(out, c)
			}
		}
	case segDeep:
		out = deepScan(n, s.name, out)
	}
	return out
}

func clampIndex(i, n int) int {
	if i < 0 {
		i += n
	}
	return max(0, min(i, n))
}

// appendChildren appends an array's elements or an object's values in key order.
func appendChildren(n any, out []any) []any {
	switch v := n.(type) {
	case []any:
		out = append(out, v...)
	case map[string]any:
		for _, k := range sortedKeys(v) {
			out = append(out, v[k])
		}
	}
	return out
}

func deepScan(n any, name string, out []any) []any {
	switch v := n.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			if name == "" || k == name {
				out = append(out, v[k])
			}
			out = deepScan(v[k], name, out)
		}
	case []any:
		for _, c := range v {
			if name == "" {
				out = append(out, c)
			}
			out = deepScan(c, name, out)
		}
	}
	return out
}

func (f *filter) match(n any) bool {
	v, ok := f.rel.get(n, nil)
	if !ok {
		return false
	}
	if f.op == "" {
		return true
	}
	if a, ok := number(v); ok {
		b, ok := number(f.lit)
		if !ok {
			return f.op == "!="
		}
		return compareOrdered(a, b, f.op)
	}
	if a, ok := v.(string); ok {
		b, ok := f.lit.(string)
		if !ok {
			return f.op == "!="
		}
		return compareOrdered(a, b, f.op)
	}
	switch f.op {
	case "==":
		return jsonEqual(v, f.lit)
	case "!=":
		return !jsonEqual(v, f.lit)
	}
	return false
}

func compareOrdered[T string | float64](a, b T, op string) bool {
	switch op {
	case "==":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return false
}

// set returns a copy of root with the node p names replaced by v, creating
// missing objects along the way. Only definite input paths can be set; root
// is never modified, only the objects on the way to the node are copied.
func (p *path) set(root, v any) (any, error) {
	return setSegs(root, p.segs, v, p.raw)
}

func setSegs(cur any, segs []segment, v any, raw string) (any, error) {
	if len(segs) == 0 {
		return v, nil
	}
	s := segs[0]
	switch s.kind {
	case segField:
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("unable to apply ResultPath %q: %q is not an object", raw, s.name)
		}
		child, exists := m[s.name]
		if !exists {
			child = map[string]any{}
		}
		nv, err := setSegs(child, segs[1:], v, raw)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m)+1)
		for k, x := range m {
			out[k] = x
		}
		out[s.name] = nv
		return out, nil
	case segIndex:
		a, ok := cur.([]any)
		i := s.index
		if ok && i < 0 {
			i += len(a)
		}
		if !ok || i < 0 || i >= len(a) {
			return nil, fmt.Errorf("unable to apply ResultPath %q: index %d does not exist", raw, s.index)
		}
		nv, err := setSegs(a[i], segs[1:], v, raw)
		if err != nil {
			return nil, err
		}
		out := append([]any(nil), a...)
		out[i] = nv
		return out, nil
	}
	return nil, fmt.Errorf("ResultPath %q is not a reference path", raw)
}
