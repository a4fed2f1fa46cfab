// Package tasks is the privacy-request workflow's task contracts in one
// place: for each Task state of statemachine/privacy_request.asl.json, the
// function it invokes, the Go types of its input and output, and the
// errors the function returns on purpose (their type names are the
// errorType the workflow's Catch matches). A test checks the ASL against
// them, so a renamed field or error breaks the build, not an execution.
package tasks

import (
	"reflect"

	"github.com/veil-privacy/veil/pkg/lambdafn/export"
	"github.com/veil-privacy/veil/pkg/lambdafn/pseudonymize"
	"github.com/veil-privacy/veil/pkg/lambdafn/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Contract is one Task state's.
type Contract struct {
	// State is the ASL state's name; Function the template's function,
	// whose ARN the definition substitutes as ${<Function>Arn}.
	State    string
	Function string
	// Input and Output are zero values of the task's input and output.
	Input, Output any
	// Errors are the errors the function returns on purpose.
	Errors []error
}

// Workflow is every Task state of the privacy-request workflow.
var Workflow = []Contract{
	{State: "Search", Function: "SearchFunction", Input: search.Input{}, Output: search.Output{},
		Errors: []error{&veil.ValidationError{}}},
	{State: "Export", Function: "ExportFunction", Input: export.Input{}, Output: export.Output{},
		Errors: []error{&veil.ValidationError{}}},
	{State: "Pseudonymize", Function: "PseudonymizeFunction", Input: pseudonymize.Input{}, Output: pseudonymize.Output{},
		Errors: []error{&veil.ValidationError{}, &pseudonymize.FailedError{}}},
}

// ErrorType is the errorType Lambda's Go runtime reports for err: its
// type's name, a pointer's element's.
func ErrorType(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// Fields returns the JSON field names of v's struct type (embedded
// structs' included), "-" and unexported fields left out.
func Fields(v any) map[string]bool {
	out := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, _, _ := cut(tag)
			switch {
			case f.Anonymous && name == "":
				walk(f.Type)
			case !f.IsExported() || name == "-":
			case name == "":
				out[f.Name] = true
			default:
				out[name] = true
			}
		}
	}
	walk(reflect.TypeOf(v))
	return out
}

func cut(tag string) (string, string, bool) {
	for i := range len(tag) {
		if tag[i] == ',' {
			return tag[:i], tag[i+1:], true
		}
	}
	return tag, "", false
}
