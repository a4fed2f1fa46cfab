package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/veil"
)

// TestStatus: the shared table from domain errors to HTTP statuses.
func TestStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{veil.Invalid("phone", "required"), 400},
		{veil.ErrUnauthenticated, 401},
		{veil.ErrForbidden, 403},
		{veil.ErrNotFound, 404},
		{veil.ErrConflict, 409},
		{veil.ErrGone, 410},
		{context.DeadlineExceeded, 500},
	}
	for _, tc := range tests {
		if got := httpapi.Status(tc.err); got != tc.want {
			t.Errorf("Status(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

var errSlow = errors.New("slow down")

func router() *httpapi.Router {
	ok := func(context.Context, auth.Caller, events.APIGatewayV2HTTPRequest) (any, error) {
		return map[string]int{"n": 1}, nil
	}
	return &httpapi.Router{
		Routes: map[string]httpapi.Route{
			"GET /staff":  {Roles: []auth.Role{auth.Admin}, Serve: ok},
			"GET /public": {Serve: ok},
			"GET /moved": {Serve: func(context.Context, auth.Caller, events.APIGatewayV2HTTPRequest) (any, error) {
				return httpapi.Reply{Status: http.StatusFound, Headers: map[string]string{"Location": "https://example.com/x"}}, nil
			}},
			"GET /slow": {Serve: func(context.Context, auth.Caller, events.APIGatewayV2HTTPRequest) (any, error) { return nil, errSlow }},
			"GET /link": {Serve: func(context.Context, auth.Caller, events.APIGatewayV2HTTPRequest) (any, error) {
				return nil, httpapi.PlainError{Err: veil.ErrForbidden}
			}},
		},
		Problems: func(err error) (httpapi.Problem, bool) {
			if errors.Is(err, errSlow) {
				return httpapi.Problem{Status: http.StatusTooManyRequests, Message: "later", Headers: map[string]string{"Retry-After": "3"}}, true
			}
			return httpapi.Problem{}, false
		},
	}
}

// TestRouter: unknown routes are 404, a route's roles are checked before
// it runs, a function's own problems come before the shared table, a
// redirect keeps nothing, a plain error is text.
func TestRouter(t *testing.T) {
	admin := &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
		Claims: map[string]string{"sub": "u", "cognito:groups": "[admin]"}}}
	agent := &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
		Claims: map[string]string{"sub": "u", "cognito:groups": "[agent]"}}}
	tests := []struct {
		route  string
		caller *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
		status int
		header string
	}{
		{"GET /nowhere", admin, 404, "application/json"},
		{"GET /staff", nil, 401, "application/json"},
		{"GET /staff", agent, 403, "application/json"},
		{"GET /staff", admin, 200, "application/json"},
		{"GET /public", nil, 200, "application/json"},
		{"GET /moved", nil, 302, ""},
		{"GET /slow", nil, 429, "application/json"},
		{"GET /link", nil, 403, "text/plain; charset=utf-8"},
	}
	r := router()
	for _, tc := range tests {
		req := events.APIGatewayV2HTTPRequest{RouteKey: tc.route}
		req.RequestContext.Authorizer = tc.caller
		resp := r.Handle(context.Background(), req)
		if resp.StatusCode != tc.status || resp.Headers["Content-Type"] != tc.header {
			t.Errorf("%s = %d %q, want %d %q (%s)", tc.route, resp.StatusCode, resp.Headers["Content-Type"], tc.status, tc.header, resp.Body)
		}
		if tc.route == "GET /slow" && resp.Headers["Retry-After"] != "3" {
			t.Errorf("%s Retry-After = %q, want the function's own 3", tc.route, resp.Headers["Retry-After"])
		}
	}
}

// TestDecodeStrict: one JSON object with known fields, nothing after it.
func TestDecodeStrict(t *testing.T) {
	var v struct {
		A string `json:"a"`
	}
	for body, ok := range map[string]bool{`{"a":"x"}`: true, `{"b":1}`: false, `{"a":"x"}{}`: false, `[]`: false, `{"a":1}`: false} {
		if err := httpapi.DecodeStrict(body, &v, "a"); (err == nil) != ok {
			t.Errorf("DecodeStrict(%s) = %v, want ok %v", body, err, ok)
		}
	}
}
