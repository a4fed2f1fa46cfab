// Package pseudonymizefn is PseudonymizeFunction: the erasure capability.
// It serves the staff routes that preview, start and follow erasure and
// correction jobs (pkg/erasure); a confirmed job is handed to this same
// function asynchronously, invoked with the job's ID. The privacy-request
// workflow's Pseudonymize task invokes it with the request's ID alone:
// the function reads the request from the Requests table, starts (or finds
// again) the request's erasure or correction of the identifiers its
// requester proved, runs it and records the job in the request. Invoked
// with a request and identifiers, it erases those. Its opt-out step puts
// a request's identifiers on the suppression list.
package pseudonymizefn

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/masking"
	"github.com/veil-privacy/veil/pkg/requestflow"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/tasks"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Jobs is what the handler runs jobs with (erasure.Service).
type Jobs interface {
	Start(ctx context.Context, id string, r erasure.Request) (erasure.Job, error)
	Run(ctx context.Context, id string) (erasure.Job, error)
	Abandon(ctx context.Context, id, reason string) (erasure.Job, error)
}

// OptOuts runs the workflow's opt-out step (requestflow.OptOuts).
type OptOuts interface {
	OptOut(ctx context.Context, id string, at time.Time) (int, error)
}

var _ OptOuts = (*requestflow.OptOuts)(nil)

// Config is PseudonymizeFunction's environment.
type Config struct {
	Search  lambdafn.SearchConfig
	Erasure lambdafn.ErasureConfig
	// Self is this function's name or ARN (PSEUDONYMIZE_FUNCTION): a
	// confirmed job is handed to it.
	Self string
}

// ConfigFromEnv reads Config; it returns *lambdafn.MissingError for an
// unset variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	e := lambdafn.NewEnv(getenv)
	cfg := Config{Search: lambdafn.ReadSearchConfig(e), Erasure: lambdafn.ReadErasureConfig(e), Self: e.Need("PSEUDONYMIZE_FUNCTION")}
	return cfg, e.Err()
}

// Handler serves PseudonymizeFunction's invocations. Jobs runs jobs;
// Requests (nil: no request mode) is where the workflow's requests are
// read and their jobs recorded; OptOuts runs the opt-out step; Erasures,
// Invoker and Self serve the routes.
type Handler struct {
	Jobs     Jobs
	Requests lambdafn.Requests
	OptOuts  OptOuts
	Erasures Erasures
	Invoker  Invoker
	Self     string
	// Staff records the staff routes' actions (nil: not recorded, for
	// tests of other parts).
	Staff lambdafn.StaffLog
}

// router is the function's routes.
func (h *Handler) router() *httpapi.Router {
	staff := []auth.Role{auth.Supervisor, auth.Admin}
	return &httpapi.Router{Routes: map[string]httpapi.Route{
		// Erasure and correction jobs; the GET follows either kind.
		"POST /pseudonymize":        {Roles: staff, Serve: h.startErasure},
		"POST /corrections":         {Roles: staff, Serve: h.startCorrection},
		"GET /pseudonymize/{jobId}": {Roles: staff, Serve: h.getJob},
		// The second person's confirmation of a job outside a request.
		"POST /pseudonymize/{jobId}/confirm": {Roles: staff, Serve: h.confirmJob},
	}}
}

// RouteKeys returns the routes the handler serves and the roles allowed
// on each, for the template check.
func (h *Handler) RouteKeys() map[string][]auth.Role { return h.router().Keys() }

// Build is PseudonymizeFunction's lambdafn.Builder.
func Build(ctx context.Context, awsCfg aws.Config, getenv func(string) string) (any, error) {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	finder, err := lambdafn.SearchService(ctx, awsCfg, cfg.Search)
	if err != nil {
		return nil, err
	}
	svc, err := lambdafn.ErasureService(awsCfg, cfg.Erasure, finder)
	if err != nil {
		return nil, err
	}
	hasher, err := suppression.NewHasher(finder.Secrets, finder.Region)
	if err != nil {
		return nil, err
	}
	store := lambdafn.RequestStore(awsCfg, cfg.Erasure.RequestsTable)
	optOuts := &requestflow.OptOuts{Store: store, Suppressions: suppression.New(dynamodb.NewFromConfig(awsCfg), cfg.Erasure.IndexTable), Hasher: hasher}
	return (&Handler{Jobs: svc, Requests: store, OptOuts: optOuts, Erasures: ErasureService{svc},
		Invoker: lambda.NewFromConfig(awsCfg), Self: cfg.Self, Staff: lambdafn.StaffAuditLog(awsCfg, cfg.Erasure.RequestsTable)}).Handle, nil
}

// Handle answers an API Gateway HTTP API (payload 2.0) request with an
// HTTP response, runs the opt-out step for a tasks.OptOutInput, and runs
// a job (Task) for anything else.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	if resp, ok, err := h.router().Event(ctx, raw); ok {
		return resp, err
	}
	var probe struct {
		Step string `json:"step"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, veil.Invalid("event", "not a JSON object")
	}
	var records struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	if json.Unmarshal(raw, &records) == nil && len(records.Records) > 0 && records.Records[0].EventSource == "aws:sqs" {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, veil.Invalid("event", "malformed SQS event")
		}
		return h.Abandoned(ctx, ev), nil
	}
	if probe.Step != "" {
		var in tasks.OptOutInput
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, veil.Invalid("event", "malformed opt-out step")
		}
		return h.OptOut(ctx, in)
	}
	var in tasks.PseudonymizeInput
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, veil.Invalid("event", "not a Pseudonymize task input")
	}
	return h.Task(ctx, in)
}

// OptOut runs the workflow's opt-out step. It returns a
// *veil.ValidationError (unwrapped, for the workflow's Catch) for a step
// other than tasks.StepOptOut, a missing request or time, or a request
// that is no opt-out.
func (h *Handler) OptOut(ctx context.Context, in tasks.OptOutInput) (tasks.OptOutOutput, error) {
	switch {
	case in.Step != tasks.StepOptOut:
		return tasks.OptOutOutput{}, veil.Invalid("step", "PseudonymizeFunction runs the %s step alone", tasks.StepOptOut)
	case in.RequestID == "":
		return tasks.OptOutOutput{}, veil.Invalid("requestId", "required")
	case in.At.IsZero():
		return tasks.OptOutOutput{}, veil.Invalid("at", "the state's entered time is required")
	case h.OptOuts == nil:
		return tasks.OptOutOutput{}, veil.Invalid("step", "no opt-out step here")
	}
	n, err := h.OptOuts.OptOut(ctx, in.RequestID, in.At)
	if err != nil {
		return tasks.OptOutOutput{}, err
	}
	slog.InfoContext(ctx, "opt-out", "requestId", httpapi.RequestID(ctx), "privacyRequest", in.RequestID, "entries", n)
	return tasks.OptOutOutput{Suppressed: n}, nil
}

// Task runs the job in, starting a request's first. It returns a
// *veil.ValidationError for bad input, a *tasks.FailedError for a job that ended
// failed, other errors for failures worth a retry (the job resumes).
func (h *Handler) Task(ctx context.Context, in tasks.PseudonymizeInput) (tasks.PseudonymizeOutput, error) {
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
