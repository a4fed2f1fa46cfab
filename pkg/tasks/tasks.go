// Package tasks is the privacy-request workflow's task contracts in one
// place: for each Task state of statemachine/privacy_request.asl.json, the
// function it invokes, the Go types of its input and output, and the
// errors the function returns on purpose (their type names are the
// errorType the workflow's Catch matches). A test checks the ASL against
// them, so a renamed field or error breaks the build, not an execution.
//
// The workflow passes its tasks the request's ID alone (each reads the
// request from the Requests table): no identifier is ever Step Functions
// state.
package tasks

import (
	"reflect"
	"strings"
	"time"

	"github.com/veil-privacy/veil/pkg/requestflow"
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

// Workflow is the Task states of the privacy-request workflow that carry
// the request out, each invoked with Parameters {"requestId"} alone; the
// other Task states run a Step.
var Workflow = []Contract{
	{State: "Search", Function: "SearchFunction", Input: SearchInput{}, Output: SearchOutput{},
		Errors: []error{&veil.ValidationError{}}},
	{State: "Export", Function: "ExportFunction", Input: ExportInput{}, Output: ExportOutput{},
		Errors: []error{&veil.ValidationError{}}},
	{State: "Pseudonymize", Function: "PseudonymizeFunction", Input: PseudonymizeInput{}, Output: PseudonymizeOutput{},
		Errors: []error{&veil.ValidationError{}, &FailedError{}}},
}

// OptOut is the Task states that run the opt-out step in
// PseudonymizeFunction (which holds the suppression list), each invoked
// with an OptOutInput: an approved opt-out, and a deletion closed
// unverified (CloseUnverified's answer says so, and names nothing of the
// consumer's).
var OptOut = []Contract{
	{State: "OptOut", Function: "PseudonymizeFunction", Input: OptOutInput{}, Output: OptOutOutput{},
		Errors: []error{&veil.ValidationError{}}},
	{State: "SuppressUnverified", Function: "PseudonymizeFunction", Input: OptOutInput{}, Output: OptOutOutput{},
		Errors: []error{&veil.ValidationError{}}},
}

// IntakeSteps are the workflow's request steps IntakeFunction runs: every
// other Task state that invokes IntakeFunction names one of them.
var IntakeSteps = []string{"acknowledge", "awaitVerification", "closeUnverified", "remind", "awaitDecision", "awaitReview",
	"complete", "denied", "awaitAppeal", "awaitAppealDecision", "fail"}

// StepOutputs are the answers of the IntakeFunction steps whose result
// the workflow reads, as the steps return them (a wait's result is what
// resumes it, sent with its task token).
var StepOutputs = map[string]any{
	"acknowledge":     requestflow.Acknowledged{},
	"closeUnverified": requestflow.Closed{},
	"remind":          requestflow.Schedule{},
	"denied":          requestflow.Appealable{},
	"complete":        requestflow.Outcome{},
}

// StepInput is what the workflow invokes IntakeFunction with for one of
// its steps (acknowledge, remind, awaitDecision, complete, …): directly as
// the Task's Parameters, or as the Payload of a
// lambda:invoke.waitForTaskToken Task, which adds the token that resumes
// it.
type StepInput struct {
	Step      string    `json:"step"`
	RequestID string    `json:"requestId"`
	At        time.Time `json:"at"`
	TaskToken string    `json:"taskToken,omitempty"`
	// Error is the error a failed task was caught with (the Fail step).
	Error string `json:"error,omitempty"`
}

// Step is the contract of every Task state that runs a step in
// IntakeFunction; State is empty (many states run one), Output nil (each
// step answers its own shape).
var Step = Contract{Function: "IntakeFunction", Input: StepInput{}}

// WaitForTaskToken is the Resource of a Task state that invokes a function
// with a task token and waits for it to be sent back.
const WaitForTaskToken = "arn:aws:states:::lambda:invoke.waitForTaskToken"

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
			name, _, _ := strings.Cut(tag, ",")
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
