// Package httpapi is what every function that serves HTTP API routes
// shares: a route table naming the roles each route admits, the role
// check, one table from domain errors to HTTP statuses, and the answers
// (JSON, a redirect, plain text for a browser, raw CSV).
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Serve is one route's work: it answers a body (JSON-encoded), a Reply,
// a RawBody, or an error for the status table.
type Serve func(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error)

// Route is one API route: who may call it and what it does.
type Route struct {
	// Roles may call the route; none: public (no authorizer on the route,
	// its own credential decides).
	Roles []auth.Role
	// IAM says API Gateway authenticates the route's callers by their IAM
	// signature (auth.Dialer), not a JWT.
	IAM   bool
	Serve Serve
}

// Problem is how an error is answered: its status, the message the
// caller reads (never quoting input), and headers to add.
type Problem struct {
	Status  int
	Message string
	Headers map[string]string
}

// Router answers HTTP API requests from a table of routes keyed
// "METHOD /path", as API Gateway's routeKey names them.
type Router struct {
	Routes map[string]Route
	// Problems, when set, answers the errors of the function's own domain
	// (a rate limit, a locked code) before the shared table.
	Problems func(err error) (Problem, bool)
	// Dialers are the IAM roles an IAM route admits: an HTTP API takes no
	// resource policy, so without this any principal of the account whose
	// own policy allows execute-api:Invoke would pass. None admits no one.
	Dialers auth.DialerRoles
}

// Keys returns the route keys the router serves and the roles allowed on
// each.
func (r *Router) Keys() map[string][]auth.Role {
	out := make(map[string][]auth.Role, len(r.Routes))
	for k, rt := range r.Routes {
		out[k] = rt.Roles
	}
	return out
}

// Serves reports whether routeKey is one of the router's.
func (r *Router) Serves(routeKey string) bool {
	_, ok := r.Routes[routeKey]
	return ok
}

// RequestID returns the Lambda request ID of ctx ("" outside Lambda).
func RequestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// Handle answers one HTTP API request. A bad request is an HTTP status,
// never an error: an unknown route is 404, a caller the route does not
// admit 401 or 403.
func (r *Router) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	requestID := RequestID(ctx)
	rt, ok := r.Routes[req.RouteKey]
	if !ok {
		return r.respond(requestID, nil, fmt.Errorf("route %q: %w", req.RouteKey, veil.ErrNotFound))
	}
	var caller auth.Caller
	if len(rt.Roles) > 0 {
		var claims map[string]string
		arn := ""
		if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
			claims = a.JWT.Claims
		}
		if a := req.RequestContext.Authorizer; a != nil && a.IAM != nil {
			arn = a.IAM.UserARN
		}
		c, err := auth.FromClaims(claims)
		if rt.IAM {
			c, err = auth.FromIAM(arn)
			if err == nil && !r.Dialers.Allows(arn) {
				err = fmt.Errorf("IAM caller is not a role of DIALER_ROLE_ARNS: %w", veil.ErrForbidden)
			}
		}
		if err == nil {
			err = c.Require(rt.Roles...)
		}
		if err != nil {
			slog.InfoContext(ctx, "route refused", "requestId", requestID, "route", req.RouteKey, "reason", err)
			return r.respond(requestID, nil, err)
		}
		caller = c
	}
	body, err := rt.Serve(ctx, caller, req)
	return r.respond(requestID, body, err)
}

// Event answers raw when it is an API Gateway HTTP API (payload 2.0)
// request, the one event every function with routes tells apart first;
// ok is false for any other event. It returns a *veil.ValidationError
// (with ok true) for raw that is no JSON object or a malformed request.
func (r *Router) Event(ctx context.Context, raw json.RawMessage) (resp any, ok bool, err error) {
	var probe struct {
		RouteKey string `json:"routeKey"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, true, veil.Invalid("event", "not a JSON object")
	}
	if probe.RouteKey == "" {
		return nil, false, nil
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, true, veil.Invalid("event", "malformed API Gateway request")
	}
	return r.Handle(ctx, req), true, nil
}

// Status returns the HTTP status for err: the one table from domain
// errors to HTTP that every function shares.
func Status(err error) int {
	var ve *veil.ValidationError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &ve):
		return http.StatusBadRequest
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

// problem is how err is answered: the function's own table first, then
// the shared one.
func (r *Router) problem(err error) Problem {
	if r.Problems != nil {
		if p, ok := r.Problems(err); ok {
			return p
		}
	}
	status := Status(err)
	msg := http.StatusText(status)
	var ve *veil.ValidationError
	switch {
	case errors.As(err, &ve):
		msg = ve.Error()
	case status == http.StatusConflict:
		msg = err.Error() // says what to do, names no identifier
	}
	return Problem{Status: status, Message: msg}
}

// Reply is a route's answer with a status other than 200, or headers; a
// nil Body is a redirect (nothing to read, nothing to keep).
type Reply struct {
	Status  int
	Headers map[string]string
	Body    any
}

// RawBody is a reply body sent as it is, not as JSON.
type RawBody string

// PlainError is an error a person reads in a browser: answered as text,
// with its own words for a link that no longer works.
type PlainError struct{ Err error }

// Error is the wrapped error's text.
func (p PlainError) Error() string { return p.Err.Error() }

// Unwrap returns the wrapped error, for errors.Is and errors.As.
func (p PlainError) Unwrap() error { return p.Err }

// plainText is what a browser shows for err.
func plainText(err error, status int) string {
	var b strings.Builder
	switch {
	case errors.Is(err, veil.ErrGone):
		// The error's own text is written for the consumer.
		b.WriteString(err.Error())
	case status == http.StatusForbidden:
		b.WriteString("This download link is not valid. Use the link exactly as you received it, or ask for a new one.")
	case status == http.StatusNotFound:
		b.WriteString("There is no such file in this export.")
	default:
		b.WriteString(http.StatusText(status))
	}
	b.WriteString("\n")
	return b.String()
}

func (r *Router) respond(requestID string, body any, err error) events.APIGatewayV2HTTPResponse {
	status := http.StatusOK
	headers := map[string]string{"Content-Type": "application/json", "X-Request-Id": requestID}
	var plain PlainError
	if errors.As(err, &plain) {
		status = r.problem(err).Status
		if status == http.StatusInternalServerError {
			slog.Error("request failed", "requestId", requestID, "error", err)
		}
		headers["Content-Type"] = "text/plain; charset=utf-8"
		headers["Cache-Control"] = "no-store"
		return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: plainText(err, status)}
	}
	if rp, ok := body.(Reply); ok && err == nil {
		status, body = rp.Status, rp.Body
		for k, v := range rp.Headers {
			headers[k] = v
		}
		if body == nil {
			delete(headers, "Content-Type")
			headers["Cache-Control"] = "no-store"
			headers["Referrer-Policy"] = "no-referrer"
			return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers}
		}
	}
	if raw, ok := body.(RawBody); ok && err == nil {
		return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: string(raw)}
	}
	if err != nil {
		p := r.problem(err)
		status = p.Status
		for k, v := range p.Headers {
			headers[k] = v
		}
		if status == http.StatusInternalServerError {
			slog.Error("request failed", "requestId", requestID, "error", err)
		}
		out := map[string]any{"error": p.Message, "requestId": requestID}
		var ves veil.ValidationErrors
		if errors.As(err, &ves) {
			list := make([]map[string]string, len(ves))
			for i, e := range ves {
				list[i] = map[string]string{"field": e.Field, "reason": e.Reason}
			}
			out["errors"] = list
		}
		body = out
	}
	b, mErr := json.Marshal(body)
	if mErr != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"Internal Server Error"}`)
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: string(b)}
}

// MaxBody bounds a route's JSON body.
const MaxBody = 64 << 10

// DecodeStrict decodes body, at most MaxBody bytes, into v: one JSON
// object with only the fields v has (want lists them for the error). It
// returns a *veil.ValidationError on "body".
func DecodeStrict(body string, v any, want string) error {
	if len(body) > MaxBody {
		return veil.Invalid("body", "larger than %d bytes", MaxBody)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return veil.Invalid("body", "want a JSON object with %s: %s", want, JSONProblem(err))
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return veil.Invalid("body", "one JSON object, nothing after it")
	}
	return nil
}

// JSONProblem describes a decoding error without quoting the body: its
// kind, and the field for an unknown or mistyped one.
func JSONProblem(err error) string {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "malformed JSON"
}

// MaxIdentifiers bounds the identifiers of one search, export or job, so
// its cost stays that of one consumer's rows.
const MaxIdentifiers = 20

// IdentifierLists reads a body's phones, emails, customerIds and
// accountNumbers as search identifiers, each Field naming its place
// ("phones[0]"), for POST /exports, /pseudonymize and /corrections. It
// returns a *veil.ValidationError naming an empty value, or "body" for no
// identifiers or more than MaxIdentifiers per what ("export").
func IdentifierLists(phones, emails, customerIDs, accountNumbers []string, what string) ([]search.Identifier, error) {
	var ids []search.Identifier
	for _, f := range []struct {
		name   string
		kind   identifiers.Kind
		values []string
	}{
		{"phones", identifiers.Phone, phones},
		{"emails", identifiers.Email, emails},
		{"customerIds", identifiers.CustomerID, customerIDs},
		{"accountNumbers", identifiers.AccountNumber, accountNumbers},
	} {
		for i, v := range f.values {
			field := fmt.Sprintf("%s[%d]", f.name, i)
			if strings.TrimSpace(v) == "" {
				return nil, veil.Invalid(field, "empty")
			}
			ids = append(ids, search.Identifier{Field: field, Kind: f.kind, Value: v})
		}
	}
	if len(ids) == 0 {
		return nil, veil.Invalid("body", "at least one of phones, emails, customerIds or accountNumbers is required")
	}
	if len(ids) > MaxIdentifiers {
		return nil, veil.Invalid("body", "at most %d identifiers per %s", MaxIdentifiers, what)
	}
	return ids, nil
}

// Header returns the request's header name, whatever its case.
func Header(req events.APIGatewayV2HTTPRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// APIBase is the URL the request came in on: links point back to it.
func APIBase(req events.APIGatewayV2HTTPRequest) string {
	host := req.RequestContext.DomainName
	if host == "" {
		return ""
	}
	proto := req.Headers["x-forwarded-proto"]
	if proto == "" {
		proto = "https"
	}
	base := proto + "://" + host
	if st := req.RequestContext.Stage; st != "" && st != "$default" {
		base += "/" + st
	}
	return base
}

// CSV answers text as a CSV download named name; next, when set, is the
// page token of what follows.
func CSV(name, text, next string) Reply {
	headers := map[string]string{"Content-Type": "text/csv; charset=utf-8",
		"Content-Disposition": fmt.Sprintf("attachment; filename=%q", name), "Cache-Control": "no-store"}
	if next != "" {
		headers["X-Next-Token"] = next
	}
	return Reply{Status: http.StatusOK, Headers: headers, Body: RawBody(text)}
}
