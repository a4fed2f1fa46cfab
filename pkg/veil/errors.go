// Package veil holds what every part of Veil shares: its error vocabulary.
// Adapters wrap these with context; edges translate them once (HTTP status
// codes in intake, errorType names in Step Functions).
package veil

import (
	"errors"
	"fmt"
)

// Sentinel errors. Functions document which they return; callers test with
// errors.Is.
var (
	// ErrNotFound: the named thing does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write lost to a newer or different state.
	ErrConflict = errors.New("conflict")
	// ErrUnauthenticated: the caller presented no valid identity.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: the caller's roles do not allow the operation.
	ErrForbidden = errors.New("forbidden")
	// ErrGone: the thing existed and is no more (an expired or withdrawn
	// download link); the error's text says so in plain words.
	ErrGone = errors.New("gone")
)

// ValidationError says which field of an input is wrong and why. Its type
// name is the errorType Step Functions' Catch matches on, so handlers return
// it unwrapped. Reason never quotes the value (it may be personal data).
type ValidationError struct {
	Field  string
	Reason string
}

// Error returns "field: reason".
func (e *ValidationError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

// Invalid returns a *ValidationError for field.
func Invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// NotImplementedError says a capability this deployment was asked for is not
// built yet. It is its own type so that a workflow fails visibly on it
// rather than treating "not built" as "nothing found".
type NotImplementedError struct {
	Capability string
}

// Error names the capability.
func (e *NotImplementedError) Error() string {
	return e.Capability + " is not implemented in this version of Veil"
}

// ValidationErrors is every field error of one input, in the input's
// order, so that a form is answered with all of them at once. errors.As
// finds its first *ValidationError.
type ValidationErrors []*ValidationError

// Error returns the field errors, "; " between them.
func (es ValidationErrors) Error() string {
	s := ""
	for i, e := range es {
		if i > 0 {
			s += "; "
		}
		s += e.Error()
	}
	return s
}

// Unwrap returns the field errors, for errors.As and errors.Is.
func (es ValidationErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Err returns es as an error: nil when there is none.
func (es ValidationErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
