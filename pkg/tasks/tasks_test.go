package tasks_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/tasks"
)

type state struct {
	Type               string
	Resource           string
	Parameters         map[string]any
	ResultSelector     map[string]any
	ResultPath         string
	TimeoutSecondsPath string
	Choices            []struct{ Variable string }
	Catch              []struct{ ErrorEquals []string }
	Retry              []struct{ ErrorEquals []string }
}

func definition(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "statemachine", "privacy_request.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// identifierFields are the request's identifier fields (requeststore's
// and the tasks' inputs' names): none may be Step Functions state.
var identifierFields = []string{"identifiers", "phones", "emails", "customerId", "accountNumber", "name"}

// contractProblems checks a workflow definition against pkg/tasks: every
// Task state invokes a contract's function (a Workflow task by name, any
// other IntakeFunction with a StepInput, directly or through
// waitForTaskToken); a Workflow task is passed {"requestId"} alone; every
// parameter is a field of the task's input; every error it catches (but
// the runtime's own) is one the function returns; every field its
// ResultSelector reads is in the task's output; and every field another
// state reads from a task's result is in it.
func contractProblems(raw []byte) ([]string, error) {
	var def struct{ States map[string]state }
	if err := json.Unmarshal(raw, &def); err != nil {
		return nil, err
	}
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	contracts, workflow := map[string]tasks.Contract{}, map[string]bool{}
	for _, c := range tasks.Workflow {
		contracts[c.State], workflow[c.State] = c, true
	}
	for _, c := range tasks.OptOut {
		contracts[c.State] = c
	}
	intake := "${" + tasks.Step.Function + "Arn}"
	// results maps a ResultPath ("$.search") to the fields a task leaves
	// there; nil for a step's result, whose shape is the step's own.
	results := map[string]map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(def.States)) {
		st := def.States[name]
		if st.Type != "Task" {
			continue
		}
		c, params := contracts[name], st.Parameters
		switch {
		case c.State != "":
			if st.Resource != "${"+c.Function+"Arn}" {
				fail("%s invokes %s, its contract says %s", name, st.Resource, c.Function)
			}
			if workflow[name] && (len(params) != 1 || params["requestId.$"] != "$.requestId") {
				fail("%s passes %v, want {\"requestId.$\": \"$.requestId\"} alone", name, params)
			}
			if !workflow[name] && (params["step"] != tasks.StepOptOut || params["requestId.$"] != "$.requestId") {
				fail("%s passes %v, want the %s step of the request", name, params, tasks.StepOptOut)
			}
		case st.Resource == intake:
			c = tasks.Step
		case st.Resource == tasks.WaitForTaskToken:
			c = tasks.Step
			payload, _ := params["Payload"].(map[string]any)
			if params["FunctionName"] != intake || payload == nil || len(params) != 2 {
				fail("%s waits on %v, want FunctionName %s and a Payload alone", name, params, intake)
			}
			if payload["taskToken.$"] != "$$.Task.Token" {
				fail("%s passes no task token", name)
			}
			params = payload
		default:
			fail("Task state %s has no contract in pkg/tasks", name)
			continue
		}
		if c.State == "" {
			if step, ok := params["step"].(string); !ok || !slices.Contains(tasks.IntakeSteps, step) {
				fail("%s names step %v, which is none of IntakeFunction's %v", name, params["step"], tasks.IntakeSteps)
			}
			if params["requestId.$"] != "$.requestId" {
				fail("%s does not pass the request", name)
			}
		}
		in := tasks.Fields(c.Input)
		for p := range params {
			if field := strings.TrimSuffix(p, ".$"); !in[field] {
				fail("%s passes %q, which %T has no field for", name, field, c.Input)
			}
		}
		var returned []string
		for _, e := range c.Errors {
			returned = append(returned, tasks.ErrorType(e))
		}
		for _, catch := range st.Catch {
			for _, e := range catch.ErrorEquals {
				if !strings.HasPrefix(e, "States.") && !strings.HasPrefix(e, "Lambda.") && !slices.Contains(returned, e) {
					fail("%s catches %s, which %s never returns (it returns %v)", name, e, c.Function, returned)
				}
			}
		}
		var left map[string]bool
		if c.Output != nil {
			left = tasks.Fields(c.Output)
		}
		if step, _ := params["step"].(string); c.State == "" && tasks.StepOutputs[step] != nil {
			left = tasks.Fields(tasks.StepOutputs[step])
		}
		if st.ResultSelector != nil {
			selected := map[string]bool{}
			for k, v := range st.ResultSelector {
				selected[strings.TrimSuffix(k, ".$")] = true
				path, ok := v.(string)
				if !strings.HasSuffix(k, ".$") || !ok || left == nil {
					continue
				}
				if field := firstField(path, "$"); !left[field] {
					fail("%s selects %s, which %T has no field for", name, path, c.Output)
				}
			}
			if left != nil {
				left = selected
			}
		}
		if st.ResultPath != "" {
			results[st.ResultPath] = left
		}
	}
	for name := range contracts {
		if _, ok := def.States[name]; !ok {
			fail("contract %s names no state of the workflow", name)
		}
	}
	// Fields read from a task's result: "$.search.held".
	for _, name := range slices.Sorted(maps.Keys(def.States)) {
		st := def.States[name]
		var reads []string
		walk(st.Parameters, func(k string, v any) {
			if s, ok := v.(string); ok && strings.HasSuffix(k, ".$") {
				reads = append(reads, s)
			}
		})
		for _, ch := range st.Choices {
			reads = append(reads, ch.Variable)
		}
		reads = append(reads, st.TimeoutSecondsPath)
		for _, path := range reads {
			for prefix, fields := range results {
				if !strings.HasPrefix(path, prefix+".") || fields == nil {
					continue
				}
				if field := firstField(path, prefix); !fields[field] {
					fail("%s reads %s, which the result at %s has no field for", name, path, prefix)
				}
			}
		}
	}
	return bad, nil
}

// firstField returns the field path names first under prefix:
// firstField("$.search.held", "$.search") is "held".
func firstField(path, prefix string) string {
	rest, _ := strings.CutPrefix(path, prefix+".")
	field, _, _ := strings.Cut(rest, ".")
	field, _, _ = strings.Cut(field, "[")
	return field
}

// walk calls fn with every key and value of v, nested ones included.
func walk(v any, fn func(k string, v any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			fn(k, x)
			walk(x, fn)
		}
	case []any:
		for _, x := range v {
			walk(x, fn)
		}
	}
}

// identifierProblems names every Task state whose Parameters (a
// waitForTaskToken's Payload included) or ResultSelector name an
// identifier field, as a key or in a path.
func identifierProblems(raw []byte) ([]string, error) {
	var def struct{ States map[string]state }
	if err := json.Unmarshal(raw, &def); err != nil {
		return nil, err
	}
	var bad []string
	for _, name := range slices.Sorted(maps.Keys(def.States)) {
		st := def.States[name]
		if st.Type != "Task" {
			continue
		}
		check := func(k string, v any) {
			words := []string{strings.TrimSuffix(k, ".$")}
			if s, ok := v.(string); ok && strings.HasSuffix(k, ".$") {
				words = append(words, strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("$.[]()'\", ", r) })...)
			}
			for _, w := range words {
				if slices.Contains(identifierFields, w) {
					bad = append(bad, fmt.Sprintf("%s passes %s: %v", name, w, v))
				}
			}
		}
		walk(st.Parameters, check)
		walk(st.ResultSelector, check)
	}
	return bad, nil
}

// TestWorkflowMatchesContracts checks the workflow against pkg/tasks.
func TestWorkflowMatchesContracts(t *testing.T) {
	bad, err := contractProblems(definition(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range bad {
		t.Error(p)
	}
}

// TestNoIdentifierInState: no Task state passes an identifier or selects
// one into the workflow's state.
func TestNoIdentifierInState(t *testing.T) {
	bad, err := identifierProblems(definition(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range bad {
		t.Error(p)
	}
}

// TestChecksCatchMistakes: each check finds a deliberate mistake in an
// otherwise good definition.
func TestChecksCatchMistakes(t *testing.T) {
	good := string(definition(t))
	tests := []struct {
		name, old, new string
		check          func([]byte) ([]string, error)
	}{
		{"search passed identifiers", `"Parameters": {"requestId.$": "$.requestId"},
      "ResultSelector": {"records.$"`, `"Parameters": {"requestId.$": "$.requestId", "identifiers.$": "$.identifiers"},
      "ResultSelector": {"records.$"`, contractProblems},
		{"search passed identifiers, found as one", `"Parameters": {"requestId.$": "$.requestId"},
      "ResultSelector": {"records.$"`, `"Parameters": {"requestId.$": "$.requestId", "identifiers.$": "$.identifiers"},
      "ResultSelector": {"records.$"`, identifierProblems},
		{"a step passed emails", `"Parameters": {"step": "acknowledge",`, `"Parameters": {"step": "acknowledge", "emails.$": "$.emails",`, identifierProblems},
		{"a payload passed a name", `"Payload": {"step": "awaitReview",`, `"Payload": {"step": "awaitReview", "who.$": "$.name",`, identifierProblems},
		{"selector reads what search never answers", `"held.$": "$.held"`, `"held.$": "$.heldRows"`, contractProblems},
		{"choice reads what the selector left out", `"Variable": "$.search.held"`, `"Variable": "$.search.stale"`, contractProblems},
		{"selector reads a misspelt field", `"ResultSelector": {"exportId.$": "$.exportId"}`, `"ResultSelector": {"exportId.$": "$.exportID"}`, contractProblems},
		{"unknown step field", `"step": "complete",`, `"step": "complete", "when.$": "$$.State.EnteredTime",`, contractProblems},
		{"wait without token", `"step": "awaitReview", "requestId.$": "$.requestId", "at.$": "$$.State.EnteredTime", "taskToken.$": "$$.Task.Token"`, `"step": "awaitReview", "requestId.$": "$.requestId", "at.$": "$$.State.EnteredTime"`, contractProblems},
		{"unknown function", `"Resource": "${ExportFunctionArn}"`, `"Resource": "${ReportFunctionArn}"`, contractProblems},
		{"opt-out run by intake", `do-not-contact list.",
      "Resource": "${PseudonymizeFunctionArn}"`, `do-not-contact list.",
      "Resource": "${IntakeFunctionArn}"`, contractProblems},
		{"choice reads what closeUnverified never answers", `"Variable": "$.unverified.suppress"`, `"Variable": "$.unverified.suppressed"`, contractProblems},
		{"intake asked for a step it does not run", `"step": "complete",`, `"step": "optOut",`, contractProblems},
		{"opt-out without its step", `"Parameters": {"step": "optOut", "requestId.$": "$.requestId", "at.$": "$$.State.EnteredTime"},
      "ResultPath": null,
      "Retry": [
        {"ErrorEquals": ["Lambda.ServiceException"`, `"Parameters": {"requestId.$": "$.requestId", "at.$": "$$.State.EnteredTime"},
      "ResultPath": null,
      "Retry": [
        {"ErrorEquals": ["Lambda.ServiceException"`, contractProblems},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the definition has no %q to change", tc.old)
			}
			bad, err := tc.check([]byte(strings.Replace(good, tc.old, tc.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if len(bad) == 0 {
				t.Fatalf("problems = none, want the mistake found")
			}
		})
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
