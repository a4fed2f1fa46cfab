// Package pseudonymize is PseudonymizeFunction: it runs erasure and
// correction jobs (pkg/erasure). IntakeFunction starts a staff action's job
// and invokes the function with its ID, asynchronously; the
// privacy-request workflow's Pseudonymize task invokes it with the request
// and its identifiers, and the function starts (or finds again) the
// request's job and runs it.
package pseudonymize

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	lsearch "github.com/veil-privacy/veil/pkg/lambdafn/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Input is what the function is invoked with: a job to run (JobID), or the
// workflow's Pseudonymize task, a request with its identifiers (as the
// Search task takes them) and what SearchFunction found.
type Input struct {
	JobID        string               `json:"jobId,omitempty"`
	RequestID    string               `json:"requestId,omitempty"`
	Identifiers  []lsearch.Identifier `json:"identifiers,omitempty"`
	Jurisdiction string               `json:"jurisdiction,omitempty"`
	RecordsKey   string               `json:"recordsKey,omitempty"`
	Coverage     *indexing.Coverage   `json:"coverage,omitempty"`
}

// Output is the job as it ended (or as far as it got).
type Output struct {
	JobID  string `json:"jobId"`
	Status string `json:"status"`
}

// FailedError is a job that ended failed: something is left, named in the
// job. Its type name is the errorType the workflow sees.
type FailedError struct{ JobID, Reason string }

func (e *FailedError) Error() string { return "erasure job " + e.JobID + " failed: " + e.Reason }

// Jobs is what the handler runs jobs with (erasure.Service).
type Jobs interface {
	Start(ctx context.Context, id string, r erasure.Request) (erasure.Job, error)
	Run(ctx context.Context, id string) (erasure.Job, error)
}

// Handler runs jobs.
type Handler struct{ Jobs Jobs }

// Build is PseudonymizeFunction's lambdafn.Builder.
func Build(ctx context.Context, awsCfg aws.Config, getenv func(string) string) (any, error) {
	finder, err := lambdafn.SearchService(ctx, awsCfg, getenv)
	if err != nil {
		return nil, err
	}
	svc, err := lambdafn.ErasureService(awsCfg, getenv, finder)
	if err != nil {
		return nil, err
	}
	return (&Handler{Jobs: svc}).Handle, nil
}

// Handle runs the job in, starting a request's first. It returns a
// *veil.ValidationError for bad input, a *FailedError for a job that ended
// failed, other errors for failures worth a retry (the job resumes).
func (h *Handler) Handle(ctx context.Context, in Input) (Output, error) {
	id := in.JobID
	if id == "" {
		if in.RequestID == "" {
			return Output{}, veil.Invalid("jobId", "a job ID, or a request ID with its identifiers, is required")
		}
		ids, err := lsearch.Input{RequestID: in.RequestID, Identifiers: in.Identifiers}.Validate()
		if err != nil {
			return Output{}, err
		}
		id = erasure.JobID(in.RequestID, erasure.Erasure)
		_, err = h.Jobs.Start(ctx, id, erasure.Request{RequestID: in.RequestID, Requester: "workflow", Operation: erasure.Erasure,
			Jurisdiction: in.Jurisdiction, Identifiers: ids})
		if err != nil && !errors.Is(err, veil.ErrConflict) {
			return Output{}, err
		}
	}
	if !erasure.ValidID(id) {
		return Output{}, veil.Invalid("jobId", "not a valid job ID")
	}
	j, err := h.Jobs.Run(ctx, id)
	if err != nil {
		return Output{JobID: id, Status: j.Status}, err
	}
	awsID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		awsID = lc.AwsRequestID
	}
	slog.InfoContext(ctx, "pseudonymize", "requestId", awsID, "jobId", j.ID, "privacyRequest", j.RequestID, "status", j.Status)
	if j.Status == erasure.StatusFailed {
		return Output{JobID: j.ID, Status: j.Status}, &FailedError{JobID: j.ID, Reason: j.Error}
	}
	return Output{JobID: j.ID, Status: j.Status}, nil
}
