// Package search is SearchFunction, a task of the privacy-request workflow:
// a request's proven identifiers in, every lead-list record holding them
// out.
package search

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Identifier is one identifier a consumer named, as written.
type Identifier struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// Input is the workflow's Search task input.
type Input struct {
	RequestID   string       `json:"requestId"`
	Identifiers []Identifier `json:"identifiers"`
}

// Validate returns a *veil.ValidationError naming the first bad field.
func (in Input) Validate() *veil.ValidationError {
	if in.RequestID == "" {
		return veil.Invalid("requestId", "required")
	}
	if len(in.Identifiers) == 0 {
		return veil.Invalid("identifiers", "at least one identifier is required")
	}
	for i, id := range in.Identifiers {
		switch id.Kind {
		case "phone", "email", "customerId", "accountNumber":
		default:
			return veil.Invalid(fmt.Sprintf("identifiers[%d].kind", i), "must be phone, email, customerId or accountNumber")
		}
		if id.Value == "" {
			return veil.Invalid(fmt.Sprintf("identifiers[%d].value", i), "required")
		}
	}
	return nil
}

// Build is SearchFunction's lambdafn.Builder.
func Build(_ context.Context, _ aws.Config, getenv func(string) string) (any, error) {
	if _, err := lambdafn.Require(getenv, "INDEX_TABLE", "LEADS_BUCKET", "INDEX_KEY_SECRET_ARN"); err != nil {
		return nil, err
	}
	return Handle, nil
}

// Handle validates the task input. Searching the index is not built yet, so
// a valid input fails with *veil.NotImplementedError rather than answering
// "nothing found" for data that may exist.
func Handle(_ context.Context, in Input) (any, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return nil, &veil.NotImplementedError{Capability: "search"}
}
