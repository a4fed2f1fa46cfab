package stack_test

// What each function's role may reach, read from the template as the SAM
// transform turns it into AWS::IAM::Role resources (tools/sam-transform.py:
// cfn-lint's own run of aws-sam-translator), not from the Go code's own
// reading of the template.

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

// subRefs finds the ${Name} and ${Name.Attr} references of a Fn::Sub string.
var subRefs = regexp.MustCompile(`\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}`)

// reach returns, for role (a logical ID of the transformed template), the
// logical IDs each of its granted actions names in its resources, as
// "action → resource" lines: a Ref, a GetAtt, a Fn::Sub's ${…} (its
// variable map followed), or "*" for an unnamed resource.
func reach(tpl map[string]any, role string) []string {
	res, _ := tpl["Resources"].(map[string]any)
	r, _ := res[role].(map[string]any)
	props, _ := r["Properties"].(map[string]any)
	policies, _ := props["Policies"].([]any)
	var out []string
	seen := map[string]bool{}
	for _, p := range policies {
		doc, _ := p.(map[string]any)["PolicyDocument"].(map[string]any)
		stmts, ok := doc["Statement"].([]any)
		if !ok {
			stmts = []any{doc["Statement"]}
		}
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			targets := map[string]bool{}
			var walk func(v any, vars map[string]any)
			walk = func(v any, vars map[string]any) {
				switch x := v.(type) {
				case string:
					if x == "*" {
						targets["*"] = true
					}
				case []any:
					for _, e := range x {
						walk(e, vars)
					}
				case map[string]any:
					if ref, ok := x["Ref"].(string); ok {
						targets[ref] = true
					}
					if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
						targets[ga[0].(string)] = true
					}
					if sub, ok := x["Fn::Sub"]; ok {
						str, vmap := "", map[string]any{}
						switch s := sub.(type) {
						case string:
							str = s
						case []any:
							str, _ = s[0].(string)
							vmap, _ = s[1].(map[string]any)
						}
						for _, m := range subRefs.FindAllStringSubmatch(str, -1) {
							if v, ok := vmap[m[1]]; ok {
								walk(v, nil)
							} else if !strings.HasPrefix(m[1], "AWS") {
								targets[m[1]] = true
							}
						}
					}
				}
			}
			walk(st["Resource"], nil)
			var actions []string
			switch a := st["Action"].(type) {
			case string:
				actions = []string{a}
			case []any:
				for _, e := range a {
					actions = append(actions, e.(string))
				}
			}
			for _, a := range actions {
				for tgt := range targets {
					line := a + " → " + tgt
					if !seen[line] {
						seen[line] = true
						out = append(out, line)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// intakeNeverReaches is written by hand from the product's design: the
// function that serves strangers files and steers requests, and never
// touches a lead list, an index entry, an export object or the keys that
// would open them.
var intakeNeverReaches = []string{"LeadsBucket", "LeadsKey", "IndexTable", "IndexKeySecret", "ExportsBucket", "ExportsKey", "ExportLinkSecret", "IndexWorkBucket"}

func intakeOverreach(lines []string) []string {
	var bad []string
	for _, l := range lines {
		action, target, _ := strings.Cut(l, " → ")
		service, _, _ := strings.Cut(action, ":")
		switch {
		case slices.Contains(intakeNeverReaches, target):
			bad = append(bad, l)
		// An unnamed resource with a data service's action is every
		// bucket, table, key or secret of the account.
		case target == "*" && slices.Contains([]string{"s3", "dynamodb", "kms", "secretsmanager"}, service):
			bad = append(bad, l)
		}
	}
	return bad
}

func TestIntakeReachesNoLeadsIndexOrExports(t *testing.T) {
	lines := reach(transformed(t, filepath.Join(stacktest.Root(t), "template.yaml")), "IntakeFunctionRole")
	if len(lines) == 0 {
		t.Fatal("IntakeFunctionRole grants nothing: the transform's output was not read")
	}
	if bad := intakeOverreach(lines); len(bad) > 0 {
		t.Errorf("IntakeFunctionRole reaches:\n%s", strings.Join(bad, "\n"))
	}
}

// TestIntakeReachCheckBites gives IntakeFunction one forbidden policy at a
// time, runs the real transform again, and wants the check to name it.
func TestIntakeReachCheckBites(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(stacktest.Root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	anchor := "  IntakeFunction:\n    Type: AWS::Serverless::Function\n"
	cases := []struct{ name, policy, want string }{
		{"lead lists", "S3ReadPolicy: {BucketName: !Ref LeadsBucket}", "s3:GetObject → LeadsBucket"},
		{"index entries", "DynamoDBReadPolicy: {TableName: !Ref IndexTable}", "dynamodb:Query → IndexTable"},
		{"index key", "AWSSecretsManagerGetSecretValuePolicy: {SecretArn: !Ref IndexKeySecret}", "secretsmanager:GetSecretValue → IndexKeySecret"},
		{"every bucket", "Statement: [{Effect: Allow, Action: 's3:GetObject', Resource: '*'}]", "s3:GetObject → *"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			i := strings.Index(string(src), anchor)
			if i < 0 {
				t.Fatal("IntakeFunction not found in template.yaml")
			}
			j := strings.Index(string(src[i:]), "      Policies:\n")
			if j < 0 {
				t.Fatal("IntakeFunction has no Policies")
			}
			at := i + j + len("      Policies:\n")
			mutated := string(src[:at]) + "        - " + tc.policy + "\n" + string(src[at:])
			// Beside the original, so that DefinitionUri and CodeUri resolve.
			path := filepath.Join(stacktest.Root(t), "template.mutated-"+strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(mutated), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(path) })
			bad := intakeOverreach(reach(transformed(t, path), "IntakeFunctionRole"))
			if !slices.Contains(bad, tc.want) {
				t.Errorf("overreach = %q, want it to hold %q", bad, tc.want)
			}
		})
	}
}
