package tasks_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/tasks"
)

type state struct {
	Type       string
	Resource   string
	Parameters map[string]any
	ResultPath string
	Catch      []struct{ ErrorEquals []string }
	Retry      []struct{ ErrorEquals []string }
}

// TestWorkflowMatchesContracts: every Task state of the privacy-request
// workflow has a contract; it invokes the contract's function; every
// parameter it passes is a field of the task's input; every error it
// catches (but the runtime's own) is one the function returns; and every
// field another state reads from a task's result is in the task's output.
func TestWorkflowMatchesContracts(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "statemachine", "privacy_request.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var def struct{ States map[string]state }
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	contracts := map[string]tasks.Contract{}
	for _, c := range tasks.Workflow {
		contracts[c.State] = c
	}
	results := map[string]tasks.Contract{} // "$.search" → the Search contract
	for name, st := range def.States {
		if st.Type != "Task" {
			continue
		}
		c, ok := contracts[name]
		if !ok {
			t.Errorf("Task state %s has no contract in pkg/tasks", name)
			continue
		}
		if st.Resource != "${"+c.Function+"Arn}" {
			t.Errorf("%s invokes %s, its contract says %s", name, st.Resource, c.Function)
		}
		in := tasks.Fields(c.Input)
		for p := range st.Parameters {
			if field := strings.TrimSuffix(p, ".$"); !in[field] {
				t.Errorf("%s passes %q, which %T has no field for", name, field, c.Input)
			}
		}
		var returned []string
		for _, e := range c.Errors {
			returned = append(returned, tasks.ErrorType(e))
		}
		for _, catch := range st.Catch {
			for _, e := range catch.ErrorEquals {
				if !strings.HasPrefix(e, "States.") && !strings.HasPrefix(e, "Lambda.") && !slices.Contains(returned, e) {
					t.Errorf("%s catches %s, which %s never returns (it returns %v)", name, e, c.Function, returned)
				}
			}
		}
		if st.ResultPath != "" {
			results[st.ResultPath] = c
		}
	}
	for name := range contracts {
		if _, ok := def.States[name]; !ok {
			t.Errorf("contract %s names no state of the workflow", name)
		}
	}
	// Fields read from a task's result: "$.search.recordsKey".
	for name, st := range def.States {
		for p, v := range st.Parameters {
			path, ok := v.(string)
			if !strings.HasSuffix(p, ".$") || !ok {
				continue
			}
			for prefix, c := range results {
				rest, found := strings.CutPrefix(path, prefix+".")
				if !found {
					continue
				}
				field, _, _ := strings.Cut(rest, ".")
				if !tasks.Fields(c.Output)[field] {
					t.Errorf("%s reads %s, which %T has no field for", name, path, c.Output)
				}
			}
		}
	}
}

// TestErrorType: the runtime's errorType is the type's name.
func TestErrorType(t *testing.T) {
	for _, c := range tasks.Workflow {
		for _, e := range c.Errors {
			if n := tasks.ErrorType(e); n == "" || strings.ContainsAny(n, "*.") {
				t.Errorf("%s: error type name %q", c.State, n)
			}
		}
	}
	if got := tasks.Fields(struct {
		A string `json:"a,omitempty"`
		B string `json:"-"`
		C string
		d string
	}{}); !got["a"] || got["-"] || got["B"] || !got["C"] || got["d"] || len(got) != 2 {
		t.Fatalf("Fields = %v", got)
	}
}
