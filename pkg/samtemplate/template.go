// Package samtemplate reads template.yaml, the one description of Veil's
// deployment, so that the local stack builds its tables, buckets, functions,
// routes and state machines from the same source sam deploy does and the two
// never drift.
package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed SAM template. Values are plain Go trees (map[string]any,
// []any, string, float64/int, bool) with CloudFormation's short-form tags
// (!Ref, !GetAtt, !Sub, …) rewritten into their long forms ({"Ref": …},
// {"Fn::GetAtt": […]}, …).
type Template struct {
	Parameters map[string]Parameter
	Conditions map[string]any
	Globals    map[string]any
	Resources  map[string]Resource
	Outputs    map[string]any
}

// Parameter is one template parameter.
type Parameter struct {
	Type    string
	Default any
}

// Resource is one entry under Resources.
type Resource struct {
	Type       string
	Condition  string
	Properties map[string]any
	Metadata   map[string]any
	// DeletionPolicy and UpdateReplacePolicy say what CloudFormation does
	// with the resource's data when the resource is deleted or replaced.
	DeletionPolicy, UpdateReplacePolicy string
}

// Function is an AWS::Serverless::Function with the Globals merged in.
type Function struct {
	LogicalID   string
	CodeURI     string
	Handler     string
	BuildMethod string
	// Environment holds the variables of Globals and of the function, the
	// function's winning; values are unresolved (see Resolver).
	Environment map[string]any
	Events      map[string]Event
}

// Event is one entry of a function's Events.
type Event struct {
	Name       string
	Type       string
	Properties map[string]any
}

// Route is an HttpApi event of a function.
type Route struct {
	Function string
	Method   string
	Path     string
	// Authorizer is the authorizer name, "NONE" for a public route.
	Authorizer string
}

// Load reads and parses the template at path; it returns an error naming the
// file for unreadable or malformed YAML.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template's YAML text; it returns an error for malformed YAML
// or a Resources entry without a Type.
func Parse(b []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	if len(root.Content) == 0 {
		return nil, errors.New("empty template")
	}
	tree, err := (&decoder{expanding: map[*yaml.Node]bool{}, budget: maxNodes}).decode(root.Content[0])
	if err != nil {
		return nil, err
	}
	doc, ok := tree.(map[string]any)
	if !ok {
		return nil, errors.New("template is not a mapping")
	}
	t := &Template{
		Parameters: map[string]Parameter{},
		Conditions: asMap(doc["Conditions"]),
		Globals:    asMap(doc["Globals"]),
		Resources:  map[string]Resource{},
		Outputs:    asMap(doc["Outputs"]),
	}
	for name, v := range asMap(doc["Parameters"]) {
		m := asMap(v)
		t.Parameters[name] = Parameter{Type: str(m["Type"]), Default: m["Default"]}
	}
	for name, v := range asMap(doc["Resources"]) {
		m := asMap(v)
		r := Resource{
			Type:       str(m["Type"]),
			Condition:  str(m["Condition"]),
			Properties: asMap(m["Properties"]),
			Metadata:   asMap(m["Metadata"]),

			DeletionPolicy: str(m["DeletionPolicy"]), UpdateReplacePolicy: str(m["UpdateReplacePolicy"]),
		}
		if r.Type == "" {
			return nil, fmt.Errorf("resource %s: no Type", name)
		}
		t.Resources[name] = r
	}
	return t, nil
}

// OfType returns the logical IDs of resources of one type, sorted.
func (t *Template) OfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Functions returns every AWS::Serverless::Function with Globals.Function
// merged in, sorted by logical ID.
func (t *Template) Functions() []Function {
	globals := asMap(t.Globals["Function"])
	var fns []Function
	for _, id := range t.OfType("AWS::Serverless::Function") {
		r := t.Resources[id]
		f := Function{
			LogicalID:   id,
			CodeURI:     str(first(r.Properties["CodeUri"], globals["CodeUri"])),
			Handler:     str(first(r.Properties["Handler"], globals["Handler"])),
			BuildMethod: str(r.Metadata["BuildMethod"]),
			Environment: map[string]any{},
			Events:      map[string]Event{},
		}
		for k, v := range asMap(asMap(globals["Environment"])["Variables"]) {
			f.Environment[k] = v
		}
		for k, v := range asMap(asMap(r.Properties["Environment"])["Variables"]) {
			f.Environment[k] = v
		}
		for name, v := range asMap(r.Properties["Events"]) {
			m := asMap(v)
			f.Events[name] = Event{Name: name, Type: str(m["Type"]), Properties: asMap(m["Properties"])}
		}
		fns = append(fns, f)
	}
	return fns
}

// Routes returns the HttpApi events of every function, sorted by path and
// method. A route without its own Auth takes the API's DefaultAuthorizer.
func (t *Template) Routes() []Route {
	var routes []Route
	for _, f := range t.Functions() {
		for _, e := range f.Events {
			if e.Type != "HttpApi" {
				continue
			}
			rt := Route{
				Function:   f.LogicalID,
				Method:     strings.ToUpper(str(e.Properties["Method"])),
				Path:       str(e.Properties["Path"]),
				Authorizer: str(asMap(e.Properties["Auth"])["Authorizer"]),
			}
			if rt.Authorizer == "" {
				rt.Authorizer = t.defaultAuthorizer(e.Properties["ApiId"])
			}
			routes = append(routes, rt)
		}
	}
	sort.Slice(routes, func(i, j int) bool {
		if routes[i].Path != routes[j].Path {
			return routes[i].Path < routes[j].Path
		}
		return routes[i].Method < routes[j].Method
	})
	return routes
}

func (t *Template) defaultAuthorizer(apiID any) string {
	ref := str(asMap(apiID)["Ref"])
	if r, ok := t.Resources[ref]; ok {
		if a := str(asMap(r.Properties["Auth"])["DefaultAuthorizer"]); a != "" {
			return a
		}
	}
	return "NONE"
}

// maxNodes bounds the tree a template expands to, so that aliases of
// aliases cannot blow a small file up exponentially.
const maxNodes = 1 << 20

// decoder expands a YAML node tree; expanding holds the aliased nodes being
// expanded, since an alias inside its own anchor would recurse forever.
type decoder struct {
	expanding map[*yaml.Node]bool
	budget    int
}

// decode turns a YAML node into a plain tree, rewriting CloudFormation's
// short-form intrinsic tags into their long forms.
func (d *decoder) decode(n *yaml.Node) (any, error) {
	if d.budget--; d.budget < 0 {
		return nil, fmt.Errorf("line %d: template expands to more than %d nodes", n.Line, maxNodes)
	}
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		if d.expanding[n.Alias] {
			return nil, fmt.Errorf("line %d: alias %s refers to itself", n.Line, n.Value)
		}
		d.expanding[n.Alias] = true
		defer delete(d.expanding, n.Alias)
		return d.decode(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := d.decode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := d.decode(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		// Resolved tags (!!int, !!bool, …) also start with "!"; only a
		// CloudFormation tag's argument, and a date CloudFormation reads as
		// text, stay strings.
		var s any = n.Value
		if !isIntrinsicTag(n.Tag) && n.Tag != "!!timestamp" {
			if err := n.Decode(&s); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
		}
		v = s
	default:
		return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
	}
	if !isIntrinsicTag(n.Tag) {
		return v, nil
	}
	tag := strings.TrimPrefix(n.Tag, "!")
	switch tag {
	case "Ref":
		return map[string]any{"Ref": v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			id, attr, _ := strings.Cut(s, ".")
			return map[string]any{"Fn::GetAtt": []any{id, attr}}, nil
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	case "Condition":
		return map[string]any{"Condition": v}, nil
	default:
		return map[string]any{"Fn::" + tag: v}, nil
	}
}

// isIntrinsicTag reports whether tag is a CloudFormation short form (!Ref),
// not one of YAML's own (!!str).
func isIntrinsicTag(tag string) bool {
	return strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!")
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case nil:
		return ""
	default:
		return fmt.Sprint(s)
	}
}

func first(vs ...any) any {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}
