package sfnlocal

// One table translates interpreter errors to Step Functions API errors; the
// handler renders them as {"__type": ..., "message": ...} with HTTP 400.

import (
	"errors"
	"fmt"

	"github.com/veil-privacy/veil/pkg/asl"
)

// APIError is a Step Functions API error. Type is AWS's error name
// (ExecutionDoesNotExist, InvalidDefinition, ...).
type APIError struct {
	Type    string
	Message string
}

// Error returns "Type: Message".
func (e *APIError) Error() string { return e.Type + ": " + e.Message }

func apiErrorf(typ, format string, a ...any) *APIError {
	return &APIError{Type: typ, Message: fmt.Sprintf(format, a...)}
}

var engineErrors = []struct {
	err  error
	typ  string
	text string
}{
	{asl.ErrExecutionNotFound, "ExecutionDoesNotExist", "Execution Does Not Exist"},
	{asl.ErrInvalidToken, "InvalidToken", "Invalid Token"},
	{asl.ErrTaskNotFound, "TaskDoesNotExist", "Task Does Not Exist"},
	{asl.ErrTaskTimedOut, "TaskTimedOut", "Task Timed Out"},
	{asl.ErrInvalidOutput, "InvalidOutput", "Invalid Output"},
	{asl.ErrInvalidInput, "InvalidExecutionInput", "Invalid Execution Input"},
}

// toAPIError translates any error to the API error the client sees.
func toAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	var de *asl.DefinitionError
	if errors.As(err, &de) {
		return &APIError{Type: "InvalidDefinition", Message: de.Error()}
	}
	for _, m := range engineErrors {
		if errors.Is(err, m.err) {
			return &APIError{Type: m.typ, Message: m.text + ": " + err.Error()}
		}
	}
	return &APIError{Type: "InternalFailure", Message: err.Error()}
}
