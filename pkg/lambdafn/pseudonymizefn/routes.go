package pseudonymizefn

// Staff erasures and corrections: POST /pseudonymize and POST /corrections
// preview a job (nothing changes) or, confirmed, record it and hand it to
// this same function asynchronously, answering 202 at once: a job
// rewrites lists for minutes, past API Gateway's 30 s. A job outside a
// privacy request waits, awaiting_confirmation, until a second
// supervisor or admin confirms it (POST /pseudonymize/{jobId}/confirm).
// GET /pseudonymize/{jobId} follows it to its certificate.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/certificate"
	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/masking"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Erasures is what the /pseudonymize and /corrections routes run
// (ErasureService over an erasure.Service).
type Erasures interface {
	// Preview and Start fail with a *veil.ValidationError for a request
	// that is not valid; Start with veil.ErrConflict for a job ID taken.
	Preview(ctx context.Context, r erasure.Request) (erasure.Preview, error)
	Start(ctx context.Context, id string, r erasure.Request) (erasure.Job, error)
	// Hold records a job as Start does, awaiting confirmation; Confirm
	// queues it, by someone other than its requester
	// (erasure.ErrSameRequester), or wraps veil.ErrConflict for a job not
	// awaiting confirmation.
	Hold(ctx context.Context, id string, r erasure.Request) (erasure.Job, error)
	Confirm(ctx context.Context, id, by string) (erasure.Job, error)
	// Get returns a job; an unknown one wraps veil.ErrNotFound.
	Get(ctx context.Context, id string) (erasure.Job, error)
	// URL presigns a GET of a file of the exports bucket, downloaded as
	// name.
	URL(ctx context.Context, key, name string) (string, error)
}

// ErasureService is an erasure.Service as the routes use it: its jobs
// and files through the service's own stores.
type ErasureService struct{ *erasure.Service }

var _ Erasures = ErasureService{}

// Get returns job id (erasure.JobStore.Get).
func (s ErasureService) Get(ctx context.Context, id string) (erasure.Job, error) {
	return s.Jobs.Get(ctx, id)
}

// URL presigns key (erasure.FileStore.URL).
func (s ErasureService) URL(ctx context.Context, key, name string) (string, error) {
	return s.Files.URL(ctx, key, name)
}

// Invoker is the part of the Lambda client that hands a confirmed job to
// this function.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ Invoker = (*lambda.Client)(nil)

// Identifiers are a consumer's identifiers as the job routes' bodies list
// them.
type Identifiers struct {
	Phones         []string `json:"phones"`
	Emails         []string `json:"emails"`
	CustomerIDs    []string `json:"customerIds"`
	AccountNumbers []string `json:"accountNumbers"`
}

// PseudonymizeBody is POST /pseudonymize's body. Without Confirm the
// route previews the job.
type PseudonymizeBody struct {
	Identifiers
	// Jurisdiction picks the masking strategy through the policy; Strategy
	// (a masking strategy's name), when set, overrides it.
	Jurisdiction string `json:"jurisdiction"`
	Strategy     string `json:"strategy"`
	// RequestID is the privacy request the job answers; Reason is why it
	// runs without one. One of the two is required.
	RequestID string `json:"requestId"`
	Reason    string `json:"reason"`
	Confirm   bool   `json:"confirm"`
}

// CorrectionBody is POST /corrections's body: Set maps an identifier
// kind's name ("email", "last_name", …) to its new value.
type CorrectionBody struct {
	Identifiers
	Set       map[string]string `json:"set"`
	RequestID string            `json:"requestId"`
	Reason    string            `json:"reason"`
	Confirm   bool              `json:"confirm"`
}

// ParsePseudonymizeBody reads POST /pseudonymize's body as an erasure
// request (its Requester left to the caller) and whether it is confirmed.
// It returns a *veil.ValidationError naming the field at fault: "body"
// for a body that is not one such JSON object (an unknown field, bad JSON,
// too large) or has no identifiers; "phones[0]" for an empty value;
// "jurisdiction", "strategy" or "requestId" for one too long or malformed;
// "reason" for neither a requestId nor a reason (audit.Justify).
// A strategy that is no masking strategy is erasure's to refuse.
func ParsePseudonymizeBody(body string) (erasure.Request, bool, error) {
	var b PseudonymizeBody
	if err := httpapi.DecodeStrict(body, &b, "phones, emails, customerIds, accountNumbers, jurisdiction, strategy, requestId, reason, confirm"); err != nil {
		return erasure.Request{}, false, err
	}
	r, err := jobRequest(erasure.Erasure, b.Identifiers, b.RequestID, b.Reason)
	if err != nil {
		return erasure.Request{}, false, err
	}
	if len(b.Jurisdiction) > 64 {
		return erasure.Request{}, false, veil.Invalid("jurisdiction", "longer than 64 characters")
	}
	if len(b.Strategy) > 64 {
		return erasure.Request{}, false, veil.Invalid("strategy", "longer than 64 characters")
	}
	r.Jurisdiction, r.Strategy = b.Jurisdiction, b.Strategy
	// The request ID tags the job's files and is logged: an ID, not text.
	return r, b.Confirm, audit.Justify(b.RequestID, b.Reason)
}

// ParseCorrectionBody reads POST /corrections's body as a correction
// request and whether it is confirmed. It fails as ParsePseudonymizeBody
// does, and with "set" for no values to set; the values themselves are
// checked by erasure (masking.NewCorrector: "set.phone", …).
func ParseCorrectionBody(body string) (erasure.Request, bool, error) {
	var b CorrectionBody
	if err := httpapi.DecodeStrict(body, &b, "phones, emails, customerIds, accountNumbers, set, requestId, reason, confirm"); err != nil {
		return erasure.Request{}, false, err
	}
	r, err := jobRequest(erasure.Correction, b.Identifiers, b.RequestID, b.Reason)
	if err != nil {
		return erasure.Request{}, false, err
	}
	if len(b.Set) == 0 {
		return erasure.Request{}, false, veil.Invalid("set", "at least one kind's new value is required")
	}
	r.Correction = &masking.Correction{Set: b.Set}
	return r, b.Confirm, audit.Justify(b.RequestID, b.Reason)
}

// jobRequest is the request of a job of operation on ids.
func jobRequest(operation string, ids Identifiers, requestID, reason string) (erasure.Request, error) {
	list, err := httpapi.IdentifierLists(ids.Phones, ids.Emails, ids.CustomerIDs, ids.AccountNumbers, "job")
	if err != nil {
		return erasure.Request{}, err
	}
	return erasure.Request{RequestID: requestID, Reason: strings.TrimSpace(reason), Operation: operation, Identifiers: list}, nil
}

// jobAccepted is the answer to a confirmed job.
type jobAccepted struct {
	JobID  string `json:"jobId"`
	Status string `json:"status"`
}

// startErasure serves POST /pseudonymize.
func (h *Handler) startErasure(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	if req.IsBase64Encoded {
		return nil, veil.Invalid("body", "want a JSON object")
	}
	r, confirm, err := ParsePseudonymizeBody(req.Body)
	if err != nil {
		return nil, err
	}
	return h.job(ctx, c, r, confirm)
}

// startCorrection serves POST /corrections.
func (h *Handler) startCorrection(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	if req.IsBase64Encoded {
		return nil, veil.Invalid("body", "want a JSON object")
	}
	r, confirm, err := ParseCorrectionBody(req.Body)
	if err != nil {
		return nil, err
	}
	return h.job(ctx, c, r, confirm)
}

// job previews r, or with confirm starts it and invokes this function
// (Self) with its ID, asynchronously. A confirmed job outside a privacy
// request is only recorded, awaiting a second person's confirmation
// (confirmJob). Each is on the staff log before it answers. Only IDs are
// logged: r is personal data.
func (h *Handler) job(ctx context.Context, c auth.Caller, r erasure.Request, confirm bool) (any, error) {
	r.Requester = c.Subject
	if !confirm {
		p, err := h.Erasures.Preview(ctx, r)
		if err != nil {
			return nil, err
		}
		if err := h.record(ctx, c, r.Operation+"_preview", r.RequestID, r.Reason, p.Identifiers, map[string]string{"rows": fmt.Sprint(p.Rows)}); err != nil {
			return nil, err
		}
		slog.InfoContext(ctx, "erasure preview", "requestId", httpapi.RequestID(ctx), "privacyRequest", r.RequestID, "operation", r.Operation)
		return p, nil
	}
	id := erasure.NewID()
	if r.RequestID == "" {
		j, err := h.Erasures.Hold(ctx, id, r)
		if err != nil {
			return nil, err
		}
		if err := h.record(ctx, c, r.Operation, "", r.Reason, j.Identifiers, map[string]string{"jobId": j.ID, "status": j.Status}); err != nil {
			return nil, err
		}
		slog.InfoContext(ctx, "erasure job awaits confirmation", "requestId", httpapi.RequestID(ctx), "jobId", j.ID, "operation", r.Operation)
		return httpapi.Reply{Status: http.StatusAccepted, Body: jobAccepted{JobID: j.ID, Status: j.Status}}, nil
	}
	j, err := h.Erasures.Start(ctx, id, r)
	if err != nil {
		return nil, err
	}
	if err := h.record(ctx, c, r.Operation, r.RequestID, r.Reason, j.Identifiers, map[string]string{"jobId": j.ID}); err != nil {
		return nil, err
	}
	return h.invoke(ctx, j)
}

// confirmJob serves POST /pseudonymize/{jobId}/confirm: a second
// supervisor or admin starts a job that awaits confirmation; the one who
// asked for it cannot (403).
func (h *Handler) confirmJob(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	id := req.PathParameters["jobId"]
	if !erasure.ValidID(id) {
		return nil, veil.Invalid("jobId", "not a valid job ID")
	}
	j, err := h.Erasures.Confirm(ctx, id, c.Subject)
	if err != nil {
		return nil, err
	}
	if err := h.record(ctx, c, "confirm", j.RequestID, "confirms job "+j.ID+" of "+j.Requester, j.Identifiers,
		map[string]string{"jobId": j.ID, "operation": j.Operation, "requester": j.Requester}); err != nil {
		return nil, err
	}
	return h.invoke(ctx, j)
}

// record puts a staff action on the staff log (none when Staff is nil).
func (h *Handler) record(ctx context.Context, c auth.Caller, action, requestID, reason string, ids []certificate.Identifier, detail map[string]string) error {
	if h.Staff == nil {
		return nil
	}
	hashed := make([]string, len(ids))
	for i, id := range ids {
		hashed[i] = id.Kind + ":" + id.HashPrefix
	}
	_, err := h.Staff.Record(ctx, lambdafn.StaffAction(c, action, requestID, reason, hashed, detail))
	return err
}

// invoke hands queued job j to this function (Self), asynchronously, and
// answers 202.
func (h *Handler) invoke(ctx context.Context, j erasure.Job) (any, error) {
	payload, err := json.Marshal(map[string]string{"jobId": j.ID})
	if err != nil {
		return nil, err
	}
	if _, err := h.Invoker.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(h.Self),
		InvocationType: lambdatypes.InvocationTypeEvent, Payload: payload}); err != nil {
		// The job stays queued, its input kept: nothing ran.
		return nil, fmt.Errorf("invoke %s for job %s: %w", h.Self, j.ID, err)
	}
	slog.InfoContext(ctx, "erasure job queued", "requestId", httpapi.RequestID(ctx), "jobId", j.ID, "privacyRequest", j.RequestID, "operation", j.Operation)
	return httpapi.Reply{Status: http.StatusAccepted, Body: jobAccepted{JobID: j.ID, Status: j.Status}}, nil
}

// certificateLinks are presigned GETs of a job's certificate.
type certificateLinks struct {
	JSON string `json:"json"`
	PDF  string `json:"pdf"`
}

// jobStatus is GET /pseudonymize/{jobId}'s answer: the job, with links to
// its certificate in place of the files' keys.
type jobStatus struct {
	erasure.Job
	Certificate *certificateLinks `json:"certificate,omitempty"`
}

// getJob serves GET /pseudonymize/{jobId}, for erasures and corrections
// alike.
func (h *Handler) getJob(ctx context.Context, _ auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	id := req.PathParameters["jobId"]
	if !erasure.ValidID(id) {
		return nil, veil.Invalid("jobId", "not a valid job ID")
	}
	j, err := h.Erasures.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	out := jobStatus{Job: j}
	if j.Ended() && j.Certificate != nil {
		var links certificateLinks
		for _, f := range []struct {
			key, name string
			into      *string
		}{{j.Certificate.JSON, "certificate-" + j.ID + ".json", &links.JSON}, {j.Certificate.PDF, "certificate-" + j.ID + ".pdf", &links.PDF}} {
			if *f.into, err = h.Erasures.URL(ctx, f.key, f.name); err != nil {
				return nil, err
			}
		}
		out.Certificate = &links
	}
	return out, nil
}
