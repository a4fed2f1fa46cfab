package intakefn

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/veil"
)

func newHandler() *Handler {
	return New(Config{RequestsTable: "veil-requests", StateMachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:x"}, fakeSearch{}, &fakeExports{}, fakeSuppression{}, &fakeErasures{}, &fakeInvoker{}).
		WithScrub("veil-leads", fakeScrub{})
}

// withCaller returns the sample GET /me event with its claims replaced;
// nil claims stand for an event without an authorizer context.
func withCaller(t *testing.T, route string, claims map[string]string) json.RawMessage {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	lambdafntest.Decode(t, "intake/apigw-get-me.json", &ev)
	ev.RouteKey, ev.RequestContext.RouteKey = route, route
	ev.RawQueryString = "phone=%28212%29+555-0147&email=a%40example.com"
	ev.QueryStringParameters = map[string]string{"token": "good"}
	ev.PathParameters = map[string]string{"id": "x-1", "file": "records.csv", "jobId": "job-done", "key": "campaigns/a/list.csv/scrub"}
	ev.Body = `{"phones":["(212) 555-0147"]}`
	if b, ok := routeBody[route]; ok {
		ev.Body = b
	}
	switch arn, iam := claims["iam:arn"]; {
	case claims == nil:
		ev.RequestContext.Authorizer = nil
	case iam:
		// A caller API Gateway authenticated by its IAM signature.
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{UserARN: arn}}
	default:
		ev.RequestContext.Authorizer.JWT.Claims = claims
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRoutesCheckRoles calls every route as every role and as an anonymous
// caller and compares the status with the route's declared roles.
func TestRoutesCheckRoles(t *testing.T) {
	h := newHandler()
	for route, allowed := range h.RouteKeys() {
		callers := map[string]map[string]string{
			"anonymous":   nil,
			"no groups":   {"sub": "u-1"},
			"no subject":  {"cognito:groups": "[admin]"},
			"other group": {"sub": "u-1", "cognito:groups": "[marketing]"},
			"iam dialer":  {"iam:arn": "arn:aws:iam::123456789012:role/dialer"},
		}
		for _, r := range auth.Roles {
			callers[string(r)] = map[string]string{"sub": "u-" + string(r), "cognito:groups": "[" + string(r) + "]"}
		}
		for name, claims := range callers {
			t.Run(route+"/"+name, func(t *testing.T) {
				out, err := h.Handle(context.Background(), withCaller(t, route, claims))
				if err != nil {
					t.Fatalf("Handle error = %v, want an HTTP response", err)
				}
				resp := out.(events.APIGatewayV2HTTPResponse)
				want := http.StatusForbidden
				switch {
				case len(allowed) == 0:
					// A public route: its own credential (a link's
					// token) decides, whoever calls (TestDownloadRoute).
					want = publicStatus[route]
				case h.routes[route].iam != (claims["iam:arn"] != ""):
					// A JWT on an IAM route, or a signature on a JWT
					// route, authenticates no one there.
					want = http.StatusUnauthorized
				case h.routes[route].iam:
					want = http.StatusOK
				case claims == nil || claims["sub"] == "":
					want = http.StatusUnauthorized
				case hasRole(allowed, claims["cognito:groups"]):
					want = okStatus[route]
					if want == 0 {
						want = http.StatusOK
					}
				}
				if resp.StatusCode != want {
					t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, want, resp.Body)
				}
			})
		}
	}
}

// routeBody is a route's body when the one withCaller sets is not enough.
var routeBody = map[string]string{"POST /corrections": `{"phones":["(212) 555-0147"],"set":{"last_name":"Ortega-Ruiz"}}`}

// okStatus is a route's status for an allowed caller, when not 200;
// publicStatus a public route's for a caller with a good credential.
var (
	okStatus     = map[string]int{"POST /exports": http.StatusCreated}
	publicStatus = map[string]int{"GET /exports/{id}/{file}": http.StatusFound}
)

func hasRole(allowed []auth.Role, groups string) bool {
	for _, g := range auth.ParseGroups(groups) {
		for _, r := range allowed {
			if g == string(r) {
				return true
			}
		}
	}
	return false
}

func TestMeAnswersTheCaller(t *testing.T) {
	var ev json.RawMessage = lambdafntest.Event(t, "intake/apigw-get-me.json")
	out, err := newHandler().Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	resp := out.(events.APIGatewayV2HTTPResponse)
	var body struct {
		Subject string      `json:"subject"`
		Roles   []auth.Role `json:"roles"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || body.Subject != "8f1e2d3c-aaaa-bbbb-cccc-1234567890ab" || len(body.Roles) != 1 || body.Roles[0] != auth.Supervisor {
		t.Fatalf("GET /me = %d %+v, want 200 with the supervisor subject", resp.StatusCode, body)
	}
	if resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", resp.Headers["Content-Type"])
	}
}

func TestUnknownRouteIs404(t *testing.T) {
	out, err := newHandler().Handle(context.Background(), withCaller(t, "DELETE /everything", map[string]string{"sub": "x", "cognito:groups": "[admin]"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(events.APIGatewayV2HTTPResponse).StatusCode; got != 404 {
		t.Fatalf("status = %d, want 404", got)
	}
}

func TestConnect(t *testing.T) {
	tests := []struct {
		name      string
		action    string
		wantErr   bool
		wantReply map[string]string
	}{
		{name: "ping", action: "ping", wantReply: map[string]string{"status": "ok"}},
		{name: "unknown action", action: "erase-everything", wantErr: true},
		{name: "no action", action: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ev events.ConnectEvent
			lambdafntest.Decode(t, "intake/connect-ping.json", &ev)
			ev.Details.Parameters["action"] = tc.action
			raw, _ := json.Marshal(ev)
			out, err := newHandler().Handle(context.Background(), raw)
			if tc.wantErr {
				ve, ok := err.(*veil.ValidationError)
				if !ok || ve.Field != "Details.Parameters.action" {
					t.Fatalf("error = %#v, want *veil.ValidationError on Details.Parameters.action", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := out.(map[string]string)
			if got["status"] != tc.wantReply["status"] {
				t.Fatalf("reply = %v, want %v", got, tc.wantReply)
			}
		})
	}
}

func TestHandleRejectsUnknownEvents(t *testing.T) {
	for _, raw := range []string{`{}`, `[]`, `"x"`, `{"Name":"Other"}`} {
		if _, err := newHandler().Handle(context.Background(), json.RawMessage(raw)); err == nil {
			t.Fatalf("Handle(%s) error = nil, want a validation error", raw)
		}
	}
}

func TestStatusTable(t *testing.T) {
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
		if got := Status(tc.err); got != tc.want {
			t.Errorf("Status(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"REQUESTS_TABLE": "t"}
	_, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err == nil || err.Error() != "environment variable STATE_MACHINE_ARN is not set" {
		t.Fatalf("error = %v, want STATE_MACHINE_ARN named", err)
	}
	env["STATE_MACHINE_ARN"] = "arn"
	_, err = ConfigFromEnv(func(k string) string { return env[k] })
	if err == nil || err.Error() != "environment variable PSEUDONYMIZE_FUNCTION is not set" {
		t.Fatalf("error = %v, want PSEUDONYMIZE_FUNCTION named", err)
	}
	env["PSEUDONYMIZE_FUNCTION"] = "PseudonymizeFunction"
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || cfg.RequestsTable != "t" || cfg.StateMachineARN != "arn" || cfg.PseudonymizeFunction != "PseudonymizeFunction" {
		t.Fatalf("ConfigFromEnv = %+v, %v", cfg, err)
	}
}
