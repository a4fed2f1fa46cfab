package stack_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/local/iam"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// The managed policies SAM attaches by itself (logs, X-Ray, the SQS event
// source): they reach services the local stack does not serve, so they
// grant nothing locally. Written by hand from SAM's documentation.
var samDefaultManaged = map[string]bool{
	"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole":    true,
	"arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess":                      true,
	"arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": true,
}

// TestRolePoliciesMatchSamTransform: for every function and state machine,
// the (action, resource) pairs the local stack evaluates are exactly those
// of the IAM role the real SAM transform creates from template.yaml, both
// resolved with the local stack's names. A policy template expanded wrong,
// a statement dropped or a parameter substituted wrong shows here.
func TestRolePoliciesMatchSamTransform(t *testing.T) {
	root := stacktest.Root(t)
	// The real SAM transform (cfn-lint's run of aws-sam-translator) of
	// template.yaml: every AWS::IAM::Role it creates, intrinsics unresolved.
	type role struct {
		Policies          []any
		ManagedPolicyArns []any
	}
	roles := map[string]role{}
	resources, _ := transformed(t, filepath.Join(root, "template.yaml"))["Resources"].(map[string]any)
	for lid, v := range resources {
		r, _ := v.(map[string]any)
		if r["Type"] != "AWS::IAM::Role" {
			continue
		}
		p, _ := r["Properties"].(map[string]any)
		var docs []any
		policies, _ := p["Policies"].([]any)
		for _, x := range policies {
			docs = append(docs, asMap(x)["PolicyDocument"])
		}
		managed, _ := p["ManagedPolicyArns"].([]any)
		roles[lid] = role{Policies: docs, ManagedPolicyArns: managed}
	}

	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	local, err := stack.RolePolicies(tpl)
	if err != nil {
		t.Fatalf("RolePolicies: %v", err)
	}
	res := stack.Resolver(tpl)
	if len(local) < 8 {
		t.Fatalf("RolePolicies has %d roles, want every function and state machine", len(local))
	}
	for id, exp := range local {
		t.Run(id, func(t *testing.T) {
			role, ok := roles[stack.RoleName(id)]
			if !ok {
				t.Fatalf("the transform made no role %s", stack.RoleName(id))
			}
			var want []iam.Policy
			for i, doc := range role.Policies {
				resolved, err := res.Value(doc)
				if err != nil {
					t.Fatalf("transformed policy %d: %v", i, err)
				}
				p, err := iam.ParsePolicy(id, resolved)
				if err != nil {
					t.Fatalf("transformed policy %d: %v", i, err)
				}
				want = append(want, p)
			}
			got, wantPairs := iam.Pairs(exp.Policies), iam.Pairs(want)
			if len(wantPairs) == 0 {
				t.Fatalf("the transform's %s states no permission", stack.RoleName(id))
			}
			if !reflect.DeepEqual(got, wantPairs) {
				t.Errorf("local pairs differ from the SAM transform's:\nonly local:\n  %s\nonly transform:\n  %s",
					strings.Join(minus(got, wantPairs), "\n  "), strings.Join(minus(wantPairs, got), "\n  "))
			}
			var managed []string
			for _, a := range role.ManagedPolicyArns {
				arn, err := res.String(a)
				if err != nil {
					t.Fatalf("managed policy %v: %v", a, err)
				}
				if !samDefaultManaged[arn] && !contains(exp.Managed, arn) {
					managed = append(managed, arn)
				}
			}
			if len(managed) > 0 {
				sort.Strings(managed)
				t.Errorf("managed policies the local stack does not know: %v", managed)
			}
		})
	}
	for name := range roles {
		if _, ok := local[strings.TrimSuffix(name, "Role")]; !ok {
			t.Errorf("the transform makes role %s, which the local stack has no principal for", name)
		}
	}
}

func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

// transformed runs the SAM transform on the template at path.
func transformed(t *testing.T, path string) map[string]any {
	t.Helper()
	root := stacktest.Root(t)
	cmd := exec.Command("python3", filepath.Join(root, "tools", "sam-transform.py"), path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sam transform of %s: %v\n%s", path, err, stderr.String())
	}
	var tpl map[string]any
	if err := json.Unmarshal(out, &tpl); err != nil {
		t.Fatalf("sam transform output: %v", err)
	}
	return tpl
}
