package asl

// Errors fall in three families: StateError is an error inside a running
// execution (what Retry and Catch see), DefinitionError rejects a state
// machine definition, and the Err* sentinels answer API calls.

import (
	"errors"
	"fmt"
)

// Error names the interpreter raises, as the ASL specification defines them.
const (
	ErrAll                  = "States.ALL"
	ErrTimeout              = "States.Timeout"
	ErrHeartbeatTimeout     = "States.HeartbeatTimeout"
	ErrTaskFailed           = "States.TaskFailed"
	ErrRuntime              = "States.Runtime"
	ErrNoChoiceMatched      = "States.NoChoiceMatched"
	ErrParameterPathFailure = "States.ParameterPathFailure"
	ErrResultPathMatch      = "States.ResultPathMatchFailure"
	ErrIntrinsicFailure     = "States.IntrinsicFailure"
	ErrBranchFailed         = "States.BranchFailed"
	ErrDataLimitExceeded    = "States.DataLimitExceeded"
	// ErrExceedToleratedFailureThreshold: more of a Distributed Map's items
	// failed than its ToleratedFailureCount or ToleratedFailurePercentage
	// allow (by default, any).
	ErrExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold"
	// ErrItemReaderFailed: a Distributed Map could not read its ItemReader's
	// items (missing bucket or object, content that is not a list).
	ErrItemReaderFailed = "States.ItemReaderFailed"
	// ErrLambdaService is what a Task reports when the Invoker fails for a
	// reason other than a function error.
	ErrLambdaService = "Lambda.ServiceException"
)

// Sentinel errors of the Engine API.
var (
	// ErrExecutionNotFound: no execution has the given ID.
	ErrExecutionNotFound = errors.New("execution does not exist")
	// ErrInvalidToken: the task token is malformed.
	ErrInvalidToken = errors.New("invalid task token")
	// ErrTaskNotFound: the task token names no known execution.
	ErrTaskNotFound = errors.New("task does not exist")
	// ErrTaskTimedOut: the token's task is no longer waiting (it timed out,
	// completed, or its execution ended).
	ErrTaskTimedOut = errors.New("task timed out")
	// ErrInvalidOutput: SendTaskSuccess output is not JSON.
	ErrInvalidOutput = errors.New("invalid task output")
	// ErrInvalidInput: the execution input is not JSON.
	ErrInvalidInput = errors.New("invalid execution input")
	// ErrClosed: the engine has been closed.
	ErrClosed = errors.New("engine closed")
)

// FunctionError is a Lambda function error as the Go runtime reports it:
// Type is errorType (the Go type name of the returned error, e.g.
// "wrapError", "errorString", "ValidationError"), Message is errorMessage.
// An Invoker returns it when the handler itself returned an error.
type FunctionError struct {
	Type, Message string
}

// Error returns "Type: Message".
func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// StateError is an error raised inside an execution: Name is what
// ErrorEquals matches, Cause the free text (JSON for Lambda errors).
type StateError struct {
	Name  string `json:"error"`
	Cause string `json:"cause,omitempty"`
}

// Error returns "Name: Cause".
func (e *StateError) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

func runtimeError(format string, a ...any) *StateError {
	return &StateError{Name: ErrRuntime, Cause: fmt.Sprintf(format, a...)}
}

// matches reports whether an ErrorEquals list matches the error name,
// following AWS: States.ALL matches everything but States.Runtime and
// States.DataLimitExceeded; States.TaskFailed everything but those and the
// timeouts; States.Timeout also matches States.HeartbeatTimeout.
func errorMatches(equals []string, name string) bool {
	if name == ErrRuntime || name == ErrDataLimitExceeded {
		return false
	}
	for _, e := range equals {
		switch {
		case e == name, e == ErrAll:
			return true
		case e == ErrTimeout && name == ErrHeartbeatTimeout:
			return true
		case e == ErrTaskFailed && name != ErrTimeout && name != ErrHeartbeatTimeout:
			return true
		}
	}
	return false
}

// DefinitionError rejects a state machine definition. State is the state
// concerned ("" for the top level), Reason what is wrong.
type DefinitionError struct {
	State  string
	Reason string
}

// Error names the state, as AWS's InvalidDefinition messages do.
func (e *DefinitionError) Error() string {
	if e.State == "" {
		return "Invalid State Machine Definition: " + e.Reason
	}
	return fmt.Sprintf("Invalid State Machine Definition: state %q: %s", e.State, e.Reason)
}
