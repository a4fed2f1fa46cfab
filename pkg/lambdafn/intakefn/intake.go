// Package intakefn is IntakeFunction: privacy requests. It files them from
// every channel (the consumer web form, an agent, an external system,
// Amazon Connect's IVR), verifies the requester, takes decisions, appeals
// and reviews, serves the staff queue, audit trails and reports, and runs
// the privacy-request workflow's request steps. It reaches the Requests
// table, codes, notices, events and the workflow: no lead list, no index
// entry, no export object. Every route names the roles that may call it;
// errors become HTTP statuses in httpapi's table.
package intakefn

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/anchorbucket"
	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/otp"
	"github.com/veil-privacy/veil/pkg/requestflow"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Config is IntakeFunction's environment: the Requests table, the
// workflow it starts and resumes, its own secret (REQUEST_KEY_SECRET_ARN:
// codes, status tokens and rate limits are keyed by keys derived from it,
// never by the index's key), and the notices and request policy of the
// desk.
type Config struct {
	RequestsTable       string
	StateMachineARN     string
	RequestKeySecretARN string
	// PhoneRegion reads phones written without a country code.
	PhoneRegion string
	// NotifyFrom is the address notices come from; EventBusName where
	// status changes are published.
	NotifyFrom   string
	EventBusName string
	Supervisors  string
	Compliance   string
	// The request policy: JURISDICTION_OVERRIDES, VERIFICATION_POLICY,
	// BUSINESS_TIME_ZONE, REMINDER_DAYS, AGENT_INTAKE_OFF_CAMPAIGNS,
	// WEB_FILINGS_PER_HOUR, as the template sets them.
	JurisdictionOverrides string
	VerificationPolicy    string
	BusinessTimeZone      string
	ReminderDays          string
	AgentIntakeOff        string
	WebFilingsPerHour     string
	// SeparationOfDuties is SEPARATION_OF_DUTIES: "enforce" (or unset)
	// or "waive", for a deployment too small to keep filer, attester and
	// decider apart.
	SeparationOfDuties string
	// IVRJurisdiction is the jurisdiction of an IVR filing whose flow
	// names none (CA when unset).
	IVRJurisdiction string
	// AnchorBucket is where the audit chains' heads are anchored, hourly
	// and when a request closes (ANCHOR_BUCKET: the bucket under Object
	// Lock, which this function may only put into).
	AnchorBucket string
}

// ConfigFromEnv reads Config; it returns *lambdafn.MissingError for an
// unset variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	e := lambdafn.NewEnv(getenv)
	cfg := Config{
		RequestsTable:         e.Need("REQUESTS_TABLE"),
		StateMachineARN:       e.Need("STATE_MACHINE_ARN"),
		RequestKeySecretARN:   e.Need("REQUEST_KEY_SECRET_ARN"),
		AnchorBucket:          e.Need("ANCHOR_BUCKET"),
		PhoneRegion:           e.Get("PHONE_REGION"),
		NotifyFrom:            e.Get("NOTIFY_FROM"),
		EventBusName:          e.Get("EVENT_BUS_NAME"),
		Supervisors:           e.Get("SUPERVISORS_EMAIL"),
		Compliance:            e.Get("COMPLIANCE_EMAIL"),
		JurisdictionOverrides: e.Get("JURISDICTION_OVERRIDES"),
		VerificationPolicy:    e.Get("VERIFICATION_POLICY"),
		BusinessTimeZone:      e.Get("BUSINESS_TIME_ZONE"),
		ReminderDays:          e.Get("REMINDER_DAYS"),
		AgentIntakeOff:        e.Get("AGENT_INTAKE_OFF_CAMPAIGNS"),
		WebFilingsPerHour:     e.Get("WEB_FILINGS_PER_HOUR"),
		IVRJurisdiction:       e.Get("IVR_JURISDICTION"),
		SeparationOfDuties:    e.Get("SEPARATION_OF_DUTIES"),
	}
	if cfg.IVRJurisdiction == "" {
		cfg.IVRJurisdiction = "CA"
	}
	return cfg, e.Err()
}

// Build is IntakeFunction's lambdafn.Builder.
func Build(ctx context.Context, awsCfg aws.Config, getenv func(string) string) (any, error) {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	desk, err := requestDesk(ctx, awsCfg, cfg)
	if err != nil {
		return nil, err
	}
	h := New(desk, cfg.IVRJurisdiction)
	h.Anchorer = &audit.Anchorer{Store: desk.Store.Audit, Bucket: &anchorbucket.Bucket{API: s3.NewFromConfig(awsCfg), Name: cfg.AnchorBucket}}
	h.Staff = lambdafn.StaffAuditLog(awsCfg, cfg.RequestsTable)
	return h.Handle, nil
}

// Handler serves IntakeFunction's invocations.
type Handler struct {
	desk *requestflow.Service
	// connectJurisdiction is the jurisdiction of an IVR filing whose flow
	// names none.
	connectJurisdiction string
	router              *httpapi.Router
	// Anchorer anchors the audit chains, on the hourly schedule and when a
	// request closes; nil leaves them unanchored (tests of other parts).
	Anchorer *audit.Anchorer
	// Staff lists the staff actions on the record (GET /audit); nil
	// answers 500 (tests of other parts).
	Staff StaffActions
}

// New returns a Handler that files and steers privacy requests with desk
// (the request routes, the workflow's steps and the IVR). An IVR filing
// whose flow names no jurisdiction is filed under jurisdiction.
func New(desk *requestflow.Service, jurisdiction string) *Handler {
	h := &Handler{desk: desk, connectJurisdiction: jurisdiction}
	routes := h.requestRoutes()
	routes["GET /me"] = httpapi.Route{Roles: auth.Roles, Serve: h.me}
	routes["GET /audit"] = httpapi.Route{Roles: []auth.Role{auth.Auditor, auth.Admin}, Serve: h.staffAudit}
	h.router = &httpapi.Router{Routes: routes, Problems: problem}
	return h
}

// RouteKeys returns the route keys ("METHOD /path") the handler serves and
// the roles allowed on each, for the template check.
func (h *Handler) RouteKeys() map[string][]auth.Role { return h.router.Keys() }

// Handle accepts the four events IntakeFunction is invoked with: an API
// Gateway HTTP API (payload 2.0) request, answered with an HTTP response;
// an Amazon Connect contact-flow event, answered with a flat string map;
// one of the workflow's request steps (tasks.StepInput); or the hourly
// EventBridge schedule, which anchors the audit chains (AnchorResult). It
// returns a *veil.ValidationError for an event of none of these kinds.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	if resp, ok, err := h.router.Event(ctx, raw); ok {
		return resp, err
	}
	var probe struct {
		Name       string `json:"Name"`
		Step       string `json:"step"`
		DetailType string `json:"detail-type"`
		Source     string `json:"source"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, veil.Invalid("event", "not a JSON object")
	}
	switch {
	case probe.Step != "":
		s, err := decodeStep(raw)
		if err != nil {
			return nil, err
		}
		return h.HandleStep(ctx, s)
	case probe.DetailType == "Scheduled Event" && probe.Source == "aws.events":
		return h.HandleSchedule(ctx)
	case probe.Name == "ContactFlowEvent":
		var ev events.ConnectEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, veil.Invalid("event", "malformed Amazon Connect event")
		}
		return h.HandleConnect(ctx, ev)
	}
	return nil, veil.Invalid("event", "neither an API Gateway HTTP API request nor an Amazon Connect event")
}

// HandleConnect answers an Amazon Connect contact flow. The flow names what
// it wants in Details.Parameters.action; "ping" lets an administrator check a
// flow's wiring. It returns a *veil.ValidationError for an unknown action.
func (h *Handler) HandleConnect(ctx context.Context, ev events.ConnectEvent) (map[string]string, error) {
	action := ev.Details.Parameters["action"]
	slog.InfoContext(ctx, "contact flow invocation", "requestId", httpapi.RequestID(ctx), "action", action,
		"contactId", ev.Details.ContactData.ContactID)
	switch action {
	case "ping":
		return map[string]string{"status": "ok"}, nil
	case "file_request":
		return h.fileByPhone(ctx, ev)
	}
	return nil, veil.Invalid("Details.Parameters.action", "unsupported action")
}

func (h *Handler) me(_ context.Context, c auth.Caller, _ events.APIGatewayV2HTTPRequest) (any, error) {
	return map[string]any{"subject": c.Subject, "roles": c.Roles}, nil
}

// problem answers the desk's own errors: a rate limit or a code asked
// for too soon (429, with Retry-After), an identifier locked by wrong
// codes over every request (423). The rest are httpapi's shared table.
func problem(err error) (httpapi.Problem, bool) {
	var rl *requestflow.RateLimitedError
	var soon *otp.TooSoonError
	var duty *requestflow.DutyError
	switch {
	case errors.As(err, &duty):
		// Its text names the rule, never a person.
		return httpapi.Problem{Status: http.StatusForbidden, Message: duty.Error()}, true
	case errors.Is(err, otp.ErrLocked):
		return httpapi.Problem{Status: http.StatusLocked,
			Message: "too many wrong codes: this identifier cannot be verified by code for 24 hours"}, true
	case errors.Is(err, otp.ErrTooSoon):
		p := httpapi.Problem{Status: http.StatusTooManyRequests, Message: "a code was sent moments ago; wait before asking for another"}
		if errors.As(err, &soon) {
			p.Headers = map[string]string{"Retry-After": strconv.Itoa(int(soon.RetryAfter.Seconds() + 0.999))}
		}
		return p, true
	case errors.Is(err, requestflow.ErrRateLimited):
		// Its text says what to do and names no identifier.
		p := httpapi.Problem{Status: http.StatusTooManyRequests, Message: err.Error()}
		if errors.As(err, &rl) {
			p.Headers = map[string]string{"Retry-After": strconv.Itoa(int(rl.RetryAfter.Seconds() + 0.999))}
		}
		return p, true
	}
	return httpapi.Problem{}, false
}

// AnchorResult is what an anchoring wrote: the digest's sequence number
// and the number of chains in it. No request ID: it goes to the logs.
type AnchorResult struct {
	Digest int64 `json:"digest"`
	Chains int   `json:"chains"`
}

// HandleSchedule anchors the heads of the audit chains that moved in the
// last hour (audit.Anchorer.AnchorMoved). It returns the anchoring's error,
// for EventBridge to retry.
func (h *Handler) HandleSchedule(ctx context.Context) (AnchorResult, error) {
	if h.Anchorer == nil {
		return AnchorResult{}, errors.New("audit anchoring is not configured")
	}
	d, err := h.Anchorer.AnchorMoved(ctx)
	if err != nil {
		return AnchorResult{}, err
	}
	return AnchorResult{Digest: d.Seq, Chains: len(d.Chains)}, nil
}

// anchorClosed anchors a request's chain as it closes. A failure is
// logged, not returned: the closing stands, and the hourly anchoring
// takes the chain, which moved this hour, at its next run.
func (h *Handler) anchorClosed(ctx context.Context, requestID string) {
	if h.Anchorer == nil {
		return
	}
	if _, err := h.Anchorer.Anchor(ctx, time.Now().UTC().Truncate(time.Hour), []string{requestID}); err != nil {
		slog.ErrorContext(ctx, "anchor a closed request's audit trail", "request", requestID, "error", err)
	}
}
