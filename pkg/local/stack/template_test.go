package stack_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/lambdafn/intake"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/samtemplate"
)

func loadTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Load(filepath.Join(stacktest.Root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestTemplateReferencesResolve(t *testing.T) {
	for _, err := range loadTemplate(t).CheckReferences() {
		t.Error(err)
	}
}

// TestTemplateFunctionsBuild: every function is built by a Makefile target
// sam build can call, that target's package compiles, the local stack knows
// the function, and it has a sample event.
func TestTemplateFunctionsBuild(t *testing.T) {
	root := stacktest.Root(t)
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	fns := loadTemplate(t).Functions()
	if len(fns) != len(stack.Builders) {
		t.Errorf("template has %d functions, stack.Builders %d", len(fns), len(stack.Builders))
	}
	for _, f := range fns {
		t.Run(f.LogicalID, func(t *testing.T) {
			if f.BuildMethod != "makefile" || f.CodeURI != "." || f.Handler != "bootstrap" {
				t.Fatalf("BuildMethod/CodeUri/Handler = %s/%s/%s, want makefile/./bootstrap", f.BuildMethod, f.CodeURI, f.Handler)
			}
			target := regexp.MustCompile(`(?m)^build-` + f.LogicalID + `:.*$`)
			if !target.Match(makefile) {
				t.Fatalf("Makefile has no build-%s target", f.LogicalID)
			}
			name := strings.ToLower(strings.TrimSuffix(f.LogicalID, "Function"))
			pkg := "./functions/" + name
			cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", os.DevNull, pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build %s: %v\n%s", pkg, err, out)
			}
			if _, ok := stack.Builders[f.LogicalID]; !ok {
				t.Fatalf("stack.Builders lacks %s", f.LogicalID)
			}
			samples, _ := filepath.Glob(filepath.Join(root, "events", name, "*.json"))
			if len(samples) == 0 {
				t.Fatalf("no sample event under events/%s/", name)
			}
			if props := loadTemplate(t).Resources[f.LogicalID].Properties; props["Policies"] == nil {
				t.Fatalf("%s has no Policies: every function gets least-privilege policies", f.LogicalID)
			}
		})
	}
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// TestStateMachineSubstitutions: each DefinitionUri exists and its
// placeholders and the DefinitionSubstitutions name the same set.
func TestStateMachineSubstitutions(t *testing.T) {
	tmpl := loadTemplate(t)
	ids := tmpl.OfType("AWS::Serverless::StateMachine")
	if len(ids) == 0 {
		t.Fatal("no state machine in template.yaml")
	}
	for _, id := range ids {
		props := tmpl.Resources[id].Properties
		uri, _ := props["DefinitionUri"].(string)
		def, err := os.ReadFile(filepath.Join(stacktest.Root(t), uri))
		if err != nil {
			t.Fatalf("%s DefinitionUri: %v", id, err)
		}
		used := map[string]bool{}
		for _, m := range placeholder.FindAllStringSubmatch(string(def), -1) {
			used[m[1]] = true
		}
		subs, _ := props["DefinitionSubstitutions"].(map[string]any)
		var missing, unused []string
		for name := range used {
			if _, ok := subs[name]; !ok {
				missing = append(missing, name)
			}
		}
		for name := range subs {
			if !used[name] {
				unused = append(unused, name)
			}
		}
		sort.Strings(missing)
		sort.Strings(unused)
		if len(missing)+len(unused) > 0 {
			t.Errorf("%s: placeholders without substitution %v, substitutions never used %v", id, missing, unused)
		}
	}
}

// TestRoutesMatchIntake: the API routes in template.yaml and the routes
// IntakeFunction serves are the same set.
func TestRoutesMatchIntake(t *testing.T) {
	served := intake.New(intake.Config{}, nil).RouteKeys()
	declared := map[string]bool{}
	for _, rt := range loadTemplate(t).Routes() {
		key := rt.Method + " " + rt.Path
		declared[key] = true
		if rt.Function != "IntakeFunction" {
			continue
		}
		roles, ok := served[key]
		if !ok {
			t.Errorf("template routes %s to IntakeFunction, which does not serve it", key)
		}
		if public := rt.Authorizer == "NONE"; public != (len(roles) == 0) {
			t.Errorf("%s: template authorizer %q but intake roles %v", key, rt.Authorizer, roles)
		}
	}
	for key := range served {
		if !declared[key] {
			t.Errorf("IntakeFunction serves %s, which template.yaml does not route", key)
		}
	}
}
