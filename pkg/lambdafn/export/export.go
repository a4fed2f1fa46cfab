// Package export is ExportFunction, a task of the privacy-request workflow: a consumer's
// records in, CSV, JSON and PDF exports behind revocable links out.
package export

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Input is the workflow's Export task input: the request and the records
// SearchFunction found.
type Input struct {
	RequestID string            `json:"requestId"`
	Records   []json.RawMessage `json:"records"`
}

// Build is ExportFunction's lambdafn.Builder.
func Build(_ context.Context, _ aws.Config, getenv func(string) string) (any, error) {
	if _, err := lambdafn.Require(getenv, "EXPORTS_BUCKET", "REQUESTS_TABLE"); err != nil {
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
	return nil, &veil.NotImplementedError{Capability: "export"}
}
