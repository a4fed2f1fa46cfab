package iam

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// policyTemplatesJSON is aws-sam-translator's policy_templates.json, verbatim
// (samdata/SOURCE.md names the version): SAM policy templates are read from
// the transform's own data, never copied by hand.
//
//go:embed samdata/policy_templates.json
var policyTemplatesJSON []byte

// PolicyTemplatesJSON returns the embedded policy_templates.json.
func PolicyTemplatesJSON() []byte { return append([]byte(nil), policyTemplatesJSON...) }

type samTemplate struct {
	Definition map[string]any
	Parameters map[string]any
}

var (
	templatesOnce sync.Once
	templates     map[string]samTemplate
	templatesErr  error
)

func samTemplates() (map[string]samTemplate, error) {
	templatesOnce.Do(func() {
		var f struct{ Templates map[string]samTemplate }
		templatesErr = json.Unmarshal(policyTemplatesJSON, &f)
		templates = f.Templates
	})
	return templates, templatesErr
}

// Expansion is a resource's Policies property made into documents.
type Expansion struct {
	Policies []Policy
	// Managed holds the managed policy ARNs the property names; the local
	// stack does not know their contents, so they grant nothing locally.
	Managed []string
}

// ExpandPolicies expands the Policies property v of an
// AWS::Serverless::Function or AWS::Serverless::StateMachine as SAM's
// transform does: inline documents as they are, policy templates from
// policy_templates.json with their parameters replaced by the arguments
// given, managed policy names as ARNs; then every intrinsic is resolved with
// res. It returns an error naming the entry that is unknown, lacks an
// argument, or does not resolve.
func ExpandPolicies(owner string, v any, res *samtemplate.Resolver) (Expansion, error) {
	var out Expansion
	if v == nil {
		return out, nil
	}
	entries, ok := v.([]any)
	if !ok {
		entries = []any{v}
	}
	tpls, err := samTemplates()
	if err != nil {
		return out, fmt.Errorf("policy templates: %w", err)
	}
	partition := "aws"
	if p := res.Pseudo["AWS::Partition"]; p != "" {
		partition = p
	}
	for i, e := range entries {
		name := fmt.Sprintf("%s.Policies[%d]", owner, i)
		switch x := e.(type) {
		case string:
			if !strings.HasPrefix(x, "arn:") {
				x = "arn:" + partition + ":iam::aws:policy/" + x
			}
			out.Managed = append(out.Managed, x)
			continue
		case map[string]any:
			if _, inline := x["Statement"]; inline {
				doc, err := res.Value(x)
				if err != nil {
					return out, fmt.Errorf("%s: %w", name, err)
				}
				p, err := ParsePolicy(name, doc)
				if err != nil {
					return out, err
				}
				out.Policies = append(out.Policies, p)
				continue
			}
			if len(x) != 1 {
				return out, fmt.Errorf("%s: a policy template entry has one key, got %d", name, len(x))
			}
			for tname, args := range x {
				tpl, ok := tpls[tname]
				if !ok {
					// An intrinsic (a managed policy ARN by Ref or Sub).
					arn, err := res.String(x)
					if err != nil || !strings.HasPrefix(arn, "arn:") {
						return out, fmt.Errorf("%s: %s is no SAM policy template", name, tname)
					}
					out.Managed = append(out.Managed, arn)
					continue
				}
				argm, _ := args.(map[string]any)
				for param := range tpl.Parameters {
					if _, ok := argm[param]; !ok {
						return out, fmt.Errorf("%s: %s needs parameter %s", name, tname, param)
					}
				}
				def := substitute(tpl.Definition, tpl.Parameters, argm)
				doc, err := res.Value(def)
				if err != nil {
					return out, fmt.Errorf("%s (%s): %w", name, tname, err)
				}
				p, err := ParsePolicy(name+" "+tname, doc)
				if err != nil {
					return out, err
				}
				out.Policies = append(out.Policies, p)
			}
		default:
			return out, fmt.Errorf("%s: %T is no policy", name, e)
		}
	}
	return out, nil
}

// substitute returns a copy of the tree v with every {"Ref": P} of a
// template parameter P replaced by the argument given for it, as the
// transform does before CloudFormation sees the document.
func substitute(v any, params map[string]any, args map[string]any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if ref, ok := x["Ref"].(string); ok {
				if _, isParam := params[ref]; isParam {
					return args[ref]
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = substitute(e, params, args)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substitute(e, params, args)
		}
		return out
	}
	return v
}

// TemplateNames returns the names of every SAM policy template known.
func TemplateNames() []string {
	tpls, _ := samTemplates()
	names := make([]string, 0, len(tpls))
	for n := range tpls {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
