// Package intake is IntakeFunction: the HTTP API's routes (staff console,
// agent widget, consumer web form, external callers) and Amazon Connect's
// contact-flow invocations. Every route names the roles that may call it;
// errors become HTTP statuses in one table.
package intakefn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/otp"
	"github.com/veil-privacy/veil/pkg/requestflow"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Config is IntakeFunction's environment.
type Config struct {
	RequestsTable   string
	StateMachineARN string
	// PseudonymizeFunction is the function a confirmed erasure or
	// correction job is handed to.
	PseudonymizeFunction string
}

// ConfigFromEnv reads Config; it returns *lambdafn.MissingError for an
// unset variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	v, err := lambdafn.Require(getenv, "REQUESTS_TABLE", "STATE_MACHINE_ARN", "PSEUDONYMIZE_FUNCTION")
	if err != nil {
		return Config{}, err
	}
	return Config{RequestsTable: v[0], StateMachineARN: v[1], PseudonymizeFunction: v[2]}, nil
}

// Build is IntakeFunction's lambdafn.Builder.
func Build(ctx context.Context, awsCfg aws.Config, getenv func(string) string) (any, error) {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	// One keyring, loaded once at cold start, for searches, exports,
	// suppression checks and erasure jobs alike.
	finder, err := lambdafn.SearchService(ctx, awsCfg, getenv)
	if err != nil {
		return nil, err
	}
	exports, err := lambdafn.AccessService(ctx, awsCfg, getenv, finder)
	if err != nil {
		return nil, err
	}
	checker, err := lambdafn.SuppressionChecker(awsCfg, getenv, finder.Secrets)
	if err != nil {
		return nil, err
	}
	jobs, err := lambdafn.ErasureService(awsCfg, getenv, finder)
	if err != nil {
		return nil, err
	}
	h := New(cfg, finder, exports, checker, ErasureService{jobs}, lambda.NewFromConfig(awsCfg))
	v, err := lambdafn.Require(getenv, "LEADS_BUCKET", "INDEX_TABLE")
	if err != nil {
		return nil, err
	}
	desk, err := requestDesk(awsCfg, getenv, finder, exports)
	if err != nil {
		return nil, err
	}
	ivr := getenv("IVR_JURISDICTION")
	if ivr == "" {
		ivr = "CA"
	}
	h.WithDesk(desk, ivr)
	ddb := dynamodb.NewFromConfig(awsCfg)
	return h.WithScrub(v[0], Reports{Manifests: indexstore.New(ddb, v[1]), Scrubs: &suppression.Reports{API: ddb, Table: v[1]}}).Handle, nil
}

// WithScrub makes GET /lists/{key}/scrub answer for the lists of bucket
// from reports, and returns h.
func (h *Handler) WithScrub(bucket string, reports ScrubReports) *Handler {
	h.leadsBucket, h.scrub = bucket, reports
	return h
}

// Searcher is the search GET /search runs (search.Service).
type Searcher interface {
	Search(ctx context.Context, ids []search.Identifier) (search.Result, error)
}

// route is one API route: who may call it and what it does.
type route struct {
	roles []auth.Role // empty: public (no authorizer on the route)
	// iam says API Gateway authenticates the route's callers by their IAM
	// signature (auth.Dialer), not a JWT.
	iam   bool
	serve func(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error)
}

// Handler serves IntakeFunction's invocations.
type Handler struct {
	cfg         Config
	search      Searcher
	exports     Exporter
	suppression SuppressionChecker
	erasures    Erasures
	invoker     Invoker
	leadsBucket string
	scrub       ScrubReports
	desk        *requestflow.Service
	// connectJurisdiction is the jurisdiction of an IVR filing whose flow
	// names none.
	connectJurisdiction string
	routes              map[string]route
}

// WithDesk makes the handler file and steer privacy requests with desk
// (the request routes, the workflow's steps and the IVR), and returns h.
// An IVR filing whose flow names no jurisdiction is filed under
// jurisdiction.
func (h *Handler) WithDesk(desk *requestflow.Service, jurisdiction string) *Handler {
	h.desk, h.connectJurisdiction = desk, jurisdiction
	for k, r := range h.requestRoutes() {
		h.routes[k] = r
	}
	return h
}

// New returns a Handler.
func New(cfg Config, s Searcher, x Exporter, sc SuppressionChecker, e Erasures, inv Invoker) *Handler {
	h := &Handler{cfg: cfg, search: s, exports: x, suppression: sc, erasures: e, invoker: inv}
	staff := []auth.Role{auth.Supervisor, auth.Admin}
	h.routes = map[string]route{
		"GET /me":              {roles: auth.Roles, serve: h.me},
		"GET /search":          {roles: staff, serve: h.searchRows},
		"POST /exports":        {roles: staff, serve: h.createExport},
		"GET /exports/{id}":    {roles: staff, serve: h.getExport},
		"DELETE /exports/{id}": {roles: staff, serve: h.revokeExport},
		// The link mailed to a consumer: its token is the credential.
		"GET /exports/{id}/{file}": {serve: h.download},
		// A dialer's check before it calls: agents dial too.
		"POST /suppression/check": {roles: []auth.Role{auth.Agent, auth.Supervisor, auth.Admin}, serve: h.checkSuppression},
		// The same check for a dialer's service role, signed with its IAM
		// credentials (AWS_IAM authorization on the route).
		"POST /dialer/suppression/check": {roles: []auth.Role{auth.Dialer}, iam: true, serve: h.checkSuppression},
		// Erasure and correction jobs; the GET follows either kind.
		"POST /pseudonymize":        {roles: staff, serve: h.startErasure},
		"POST /corrections":         {roles: staff, serve: h.startCorrection},
		"GET /pseudonymize/{jobId}": {roles: staff, serve: h.getJob},
		// A list's scrub report, the rows a dialer skips: dialers are agents too.
		"GET /lists/{key+}": {roles: []auth.Role{auth.Agent, auth.Supervisor, auth.Admin}, serve: h.scrubReport},
	}
	return h
}

// RouteKeys returns the route keys ("METHOD /path") the handler serves and
// the roles allowed on each, for tests and for the template check.
func (h *Handler) RouteKeys() map[string][]auth.Role {
	out := make(map[string][]auth.Role, len(h.routes))
	for k, r := range h.routes {
		out[k] = r.roles
	}
	return out
}

// Handle accepts the two events IntakeFunction is invoked with: an API
// Gateway HTTP API (payload 2.0) request, answered with an HTTP response, or
// an Amazon Connect contact-flow event, answered with a flat string map. It
// returns a *veil.ValidationError for an event of neither kind.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Name     string `json:"Name"`
		RouteKey string `json:"routeKey"`
		Step     string `json:"step"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, veil.Invalid("event", "not a JSON object")
	}
	switch {
	case probe.Step != "" && h.desk != nil:
		s, err := decodeStep(raw)
		if err != nil {
			return nil, err
		}
		return h.HandleStep(ctx, s)
	case probe.Name == "ContactFlowEvent":
		var ev events.ConnectEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, veil.Invalid("event", "malformed Amazon Connect event")
		}
		return h.HandleConnect(ctx, ev)
	case probe.RouteKey != "":
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, veil.Invalid("event", "malformed API Gateway request")
		}
		return h.HandleHTTP(ctx, req), nil
	}
	return nil, veil.Invalid("event", "neither an API Gateway HTTP API request nor an Amazon Connect event")
}

// HandleConnect answers an Amazon Connect contact flow. The flow names what
// it wants in Details.Parameters.action; "ping" lets an administrator check a
// flow's wiring. It returns a *veil.ValidationError for an unknown action.
func (h *Handler) HandleConnect(ctx context.Context, ev events.ConnectEvent) (map[string]string, error) {
	action := ev.Details.Parameters["action"]
	slog.InfoContext(ctx, "contact flow invocation", "requestId", requestID(ctx), "action", action,
		"contactId", ev.Details.ContactData.ContactID)
	switch action {
	case "ping":
		return map[string]string{"status": "ok"}, nil
	case "file_request":
		if h.desk != nil {
			return h.fileByPhone(ctx, ev)
		}
	}
	return nil, veil.Invalid("Details.Parameters.action", "unsupported action")
}

func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// HandleHTTP answers one HTTP API request. A bad request is an HTTP status,
// never an error.
func (h *Handler) HandleHTTP(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	requestID := requestID(ctx)
	rt, ok := h.routes[req.RouteKey]
	if !ok {
		return respond(requestID, nil, fmt.Errorf("route %q: %w", req.RouteKey, veil.ErrNotFound))
	}
	var caller auth.Caller
	if len(rt.roles) > 0 {
		var claims map[string]string
		arn := ""
		if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
			claims = a.JWT.Claims
		}
		if a := req.RequestContext.Authorizer; a != nil && a.IAM != nil {
			arn = a.IAM.UserARN
		}
		c, err := auth.FromClaims(claims)
		if rt.iam {
			c, err = auth.FromIAM(arn)
		}
		if err == nil {
			err = c.Require(rt.roles...)
		}
		if err != nil {
			slog.InfoContext(ctx, "route refused", "requestId", requestID, "route", req.RouteKey, "reason", err)
			return respond(requestID, nil, err)
		}
		caller = c
	}
	body, err := rt.serve(ctx, caller, req)
	return respond(requestID, body, err)
}

func (h *Handler) me(_ context.Context, c auth.Caller, _ events.APIGatewayV2HTTPRequest) (any, error) {
	return map[string]any{"subject": c.Subject, "roles": c.Roles}, nil
}

// Status returns the HTTP status for err: the one table from domain errors
// to HTTP.
func Status(err error) int {
	var ve *veil.ValidationError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &ve):
		return http.StatusBadRequest
	case errors.Is(err, requestflow.ErrRateLimited), errors.Is(err, otp.ErrTooSoon):
		return http.StatusTooManyRequests
	case errors.Is(err, otp.ErrLocked):
		return http.StatusLocked
	case errors.Is(err, veil.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, veil.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, veil.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, veil.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, veil.ErrGone):
		return http.StatusGone
	default:
		return http.StatusInternalServerError
	}
}

func respond(requestID string, body any, err error) events.APIGatewayV2HTTPResponse {
	status := Status(err)
	headers := map[string]string{"Content-Type": "application/json", "X-Request-Id": requestID}
	var plain plainError
	if errors.As(err, &plain) {
		if status == http.StatusInternalServerError {
			slog.Error("request failed", "requestId", requestID, "error", err)
		}
		headers["Content-Type"] = "text/plain; charset=utf-8"
		headers["Cache-Control"] = "no-store"
		return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: plainText(err, status)}
	}
	if r, ok := body.(reply); ok {
		status, body = r.status, r.body
		for k, v := range r.headers {
			headers[k] = v
		}
		if body == nil {
			// A redirect: nothing to read, nothing to keep.
			delete(headers, "Content-Type")
			headers["Cache-Control"] = "no-store"
			headers["Referrer-Policy"] = "no-referrer"
			return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers}
		}
	}
	if raw, ok := body.(rawBody); ok && err == nil {
		return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: string(raw)}
	}
	if err != nil {
		msg := http.StatusText(status)
		var ve *veil.ValidationError
		if errors.As(err, &ve) {
			msg = ve.Error()
		}
		switch {
		case errors.Is(err, otp.ErrLocked):
			msg = "too many wrong codes: this identifier can no longer be verified for this request"
		case errors.Is(err, otp.ErrTooSoon):
			msg = "a code was sent moments ago; wait before asking for another"
		case status == http.StatusTooManyRequests || status == http.StatusConflict:
			msg = err.Error() // says what to do, names no identifier
		}
		if status == http.StatusInternalServerError {
			slog.Error("request failed", "requestId", requestID, "error", err)
		}
		out := map[string]any{"error": msg, "requestId": requestID}
		var ves veil.ValidationErrors
		if errors.As(err, &ves) {
			list := make([]map[string]string, len(ves))
			for i, e := range ves {
				list[i] = map[string]string{"field": e.Field, "reason": e.Reason}
			}
			out["errors"] = list
		}
		var rl *requestflow.RateLimitedError
		var soon *otp.TooSoonError
		switch {
		case errors.As(err, &rl):
			headers["Retry-After"] = strconv.Itoa(int(rl.RetryAfter.Seconds() + 0.999))
		case errors.As(err, &soon):
			headers["Retry-After"] = strconv.Itoa(int(soon.RetryAfter.Seconds() + 0.999))
		}
		body = out
	}
	b, mErr := json.Marshal(body)
	if mErr != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"Internal Server Error"}`)
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: string(b)}
}
