package stack_test

import (
	"encoding/json"
	"os"
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

// samRoles runs the real SAM transform (aws-sam-translator, which cfn-lint
// brings) over a template and prints every AWS::IAM::Role it creates: its
// inline policy documents and managed policy ARNs, intrinsics unresolved.
const samRoles = `
import json, sys
from cfnlint.decode import decode
from samtranslator.translator.transform import transform

class NoManagedPolicies:
    # Veil's Policies name no managed policy by name; SAM's own defaults
    # are ARNs and need no lookup.
    def load(self):
        return {}

tpl, errs = decode(sys.argv[1])
if tpl is None:
    sys.exit("cannot parse %s: %s" % (sys.argv[1], errs))
doc = json.loads(json.dumps(tpl))
# What sam package does first: local code and definition paths become S3
# locations, which the transform requires.
for r in doc["Resources"].values():
    props = r.get("Properties", {})
    if r["Type"] == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
        props["CodeUri"] = "s3://artifacts/code.zip"
    if r["Type"] == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
        props["DefinitionUri"] = "s3://artifacts/definition.json"
out = transform(doc, {}, NoManagedPolicies())
roles = {}
for lid, r in out["Resources"].items():
    if r["Type"] == "AWS::IAM::Role":
        p = r["Properties"]
        roles[lid] = {"Policies": [x["PolicyDocument"] for x in p.get("Policies", [])],
                      "ManagedPolicyArns": p.get("ManagedPolicyArns", [])}
json.dump(roles, sys.stdout)
`

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
	script := filepath.Join(t.TempDir(), "sam_roles.py")
	if err := os.WriteFile(script, []byte(samRoles), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", script, filepath.Join(root, "template.yaml"))
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION="+stack.Region)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("SAM transform (python3 with cfn-lint's samtranslator): %v\n%s", err, stderr.String())
	}
	var roles map[string]struct {
		Policies          []any
		ManagedPolicyArns []any
	}
	if err := json.Unmarshal(out, &roles); err != nil {
		t.Fatalf("transform output: %v", err)
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
