// Package pseudonymize is PseudonymizeFunction, a task of the privacy-request workflow: a
// consumer's records in, every PII field of them masked in every object
// version, and the identifiers suppressed.
package pseudonymize

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Input is the workflow's Pseudonymize task input: the request and where
// SearchFunction wrote the records it found (see search.Output), with
// what it could not see.
type Input struct {
	RequestID  string             `json:"requestId"`
	RecordsKey string             `json:"recordsKey"`
	Coverage   *indexing.Coverage `json:"coverage,omitempty"`
}

// Build is PseudonymizeFunction's lambdafn.Builder.
func Build(_ context.Context, _ aws.Config, getenv func(string) string) (any, error) {
	if _, err := lambdafn.Require(getenv, "INDEX_TABLE", "REQUESTS_TABLE", "LEADS_BUCKET"); err != nil {
		return nil, err
	}
	return Handle, nil
}

// Handle validates the task input; the capability itself is not built yet,
// so a valid input fails with *veil.NotImplementedError.
func Handle(_ context.Context, in Input) (any, error) {
	if in.RequestID == "" {
		return nil, veil.Invalid("requestId", "required")
	}
	return nil, &veil.NotImplementedError{Capability: "pseudonymize"}
}
