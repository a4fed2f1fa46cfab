// Package pseudonymize is PseudonymizeFunction: it runs erasure and
// correction jobs (pkg/erasure). IntakeFunction starts a staff action's job
// and invokes the function with its ID, asynchronously. The
// privacy-request workflow's Pseudonymize task invokes it with the
// request's ID alone: the function reads the request from the Requests
// table, starts (or finds again) the request's erasure or correction of
// the identifiers its requester proved, runs it and records the job in
// the request. Invoked with a request and identifiers, it erases those.
package pseudonymizefn

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/masking"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/tasks"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Jobs is what the handler runs jobs with (erasure.Service).
type Jobs interface {
	Start(ctx context.Context, id string, r erasure.Request) (erasure.Job, error)
	Run(ctx context.Context, id string) (erasure.Job, error)
}

// Handler runs jobs; Requests (nil: no request mode) is where the
// workflow's requests are read and their jobs recorded.
type Handler struct {
	Jobs     Jobs
	Requests lambdafn.Requests
}

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
	// ErasureService required REQUESTS_TABLE.
	return (&Handler{Jobs: svc, Requests: lambdafn.RequestStore(awsCfg, getenv("REQUESTS_TABLE"))}).Handle, nil
}

// Handle runs the job in, starting a request's first. It returns a
// *veil.ValidationError for bad input, a *FailedError for a job that ended
// failed, other errors for failures worth a retry (the job resumes).
func (h *Handler) Handle(ctx context.Context, in tasks.PseudonymizeInput) (tasks.PseudonymizeOutput, error) {
	if in.JobID == "" && in.RequestID != "" && len(in.Identifiers) == 0 && h.Requests != nil {
		return h.request(ctx, in.RequestID)
	}
	id := in.JobID
	if id == "" {
		if in.RequestID == "" {
			return tasks.PseudonymizeOutput{}, veil.Invalid("jobId", "a job ID, or a request ID with its identifiers, is required")
		}
		ids, err := tasks.SearchInput{RequestID: in.RequestID, Identifiers: in.Identifiers}.Validate()
		if err != nil {
			return tasks.PseudonymizeOutput{}, err
		}
		id = erasure.JobID(in.RequestID, erasure.Erasure)
		if err := h.start(ctx, id, erasure.Request{RequestID: in.RequestID, Requester: "workflow", Operation: erasure.Erasure,
			Jurisdiction: in.Jurisdiction, Identifiers: ids}); err != nil {
			return tasks.PseudonymizeOutput{}, err
		}
	}
	if !erasure.ValidID(id) {
		return tasks.PseudonymizeOutput{}, veil.Invalid("jobId", "not a valid job ID")
	}
	j, err := h.Jobs.Run(ctx, id)
	if err != nil {
		return tasks.PseudonymizeOutput{JobID: id, Status: j.Status}, err
	}
	return ended(ctx, j)
}

// start starts job id of r; a job already started is no error (a retry).
func (h *Handler) start(ctx context.Context, id string, r erasure.Request) error {
	if _, err := h.Jobs.Start(ctx, id, r); err != nil && !errors.Is(err, veil.ErrConflict) {
		return err
	}
	return nil
}

// request erases (or corrects) what request id's requester proved and
// records the job in the request.
func (h *Handler) request(ctx context.Context, id string) (tasks.PseudonymizeOutput, error) {
	r, err := h.Requests.Get(ctx, id)
	if err != nil {
		return tasks.PseudonymizeOutput{}, err
	}
	// Rows under another name than the requester's are left alone unless
	// the supervisor's review included them.
	er := erasure.Request{RequestID: r.ID, Requester: "workflow", Jurisdiction: r.Jurisdiction, Name: r.Name}
	if r.Result != nil {
		for _, h := range r.Result.Review {
			if h.Include != nil && *h.Include {
				er.Include = append(er.Include, h.Ref)
			}
		}
	}
	action := ""
	switch r.Type {
	case requests.Delete:
		er.Operation, action = erasure.Erasure, "erased"
	case requests.Correct:
		er.Operation, action = erasure.Correction, "corrected"
		er.Correction = &masking.Correction{Set: r.Corrections}
	default:
		return tasks.PseudonymizeOutput{}, veil.Invalid("type", "only a delete or correct request is pseudonymized")
	}
	if er.Identifiers, err = lambdafn.Proven(r); err != nil {
		return tasks.PseudonymizeOutput{}, err
	}
	jobID := erasure.JobID(r.ID, er.Operation)
	if err := h.start(ctx, jobID, er); err != nil {
		return tasks.PseudonymizeOutput{}, err
	}
	j, err := h.Jobs.Run(ctx, jobID)
	if err != nil {
		return tasks.PseudonymizeOutput{JobID: jobID, Status: j.Status}, err
	}
	detail := map[string]string{"jobId": j.ID, "status": j.Status}
	_, err = h.Requests.Update(ctx, id, lambdafn.Workflow, action, detail, func(r *requeststore.Request) error {
		res := requeststore.Result{}
		if r.Result != nil {
			res = *r.Result
		}
		res.JobID = j.ID
		res.Complete = j.Status == erasure.StatusCompleted && (j.Coverage == nil || j.Coverage.Complete())
		if j.Coverage != nil {
			cov := *j.Coverage
			res.Coverage = &cov
		}
		r.Result = &res
		return nil
	})
	if err != nil {
		return tasks.PseudonymizeOutput{JobID: j.ID, Status: j.Status}, err
	}
	return ended(ctx, j)
}

// ended answers job j as it ended: a *FailedError for a failed one.
func ended(ctx context.Context, j erasure.Job) (tasks.PseudonymizeOutput, error) {
	awsID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		awsID = lc.AwsRequestID
	}
	slog.InfoContext(ctx, "pseudonymize", "requestId", awsID, "jobId", j.ID, "privacyRequest", j.RequestID, "status", j.Status)
	if j.Status == erasure.StatusFailed {
		return tasks.PseudonymizeOutput{JobID: j.ID, Status: j.Status}, &tasks.FailedError{JobID: j.ID, Reason: j.Error}
	}
	return tasks.PseudonymizeOutput{JobID: j.ID, Status: j.Status}, nil
}
