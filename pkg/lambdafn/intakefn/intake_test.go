package intakefn

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/otp"
	"github.com/veil-privacy/veil/pkg/requestflow"
	"github.com/veil-privacy/veil/pkg/veil"
)

// newHandler is a Handler whose desk reaches a Requests table that never
// answers: every route that gets as far as the table fails, so a test
// sees where a route refuses a caller without a store.
func newHandler() *Handler {
	awsCfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("x", "x", "")}
	desk := &requestflow.Service{Store: lambdafn.RequestStore(awsCfg, "veil-requests")}
	desk.Config.StatusSecret = make([]byte, 32)
	return New(desk, "CA")
}

// withCaller returns the sample GET /me event as a call of route by
// claims (lambdafntest.Request), with a body every route decodes.
func withCaller(t *testing.T, route string, claims map[string]string) json.RawMessage {
	t.Helper()
	ev := lambdafntest.Request(t, "intake/apigw-get-me.json", route, claims)
	ev.PathParameters = map[string]string{"id": "req-1"}
	ev.Body = "{}"
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// routeAccess is who may call IntakeFunction's routes, written by hand
// from the design: consumers (no JWT: their token, code or the web form's
// rate limit), agents filing and attesting, supervisors and admins
// deciding, auditors and admins reading trails and reports, external
// systems filing with the client-credentials grant.
var routeAccess = map[string]lambdafntest.Access{
	"GET /audit":                   {Roles: []auth.Role{auth.Auditor, auth.Admin}},
	"GET /me":                      {Roles: []auth.Role{auth.Agent, auth.Supervisor, auth.Admin, auth.Auditor}},
	"POST /requests":               {},
	"POST /requests/agent":         {Roles: []auth.Role{auth.Agent, auth.Supervisor, auth.Admin}},
	"POST /requests/api":           {Roles: []auth.Role{auth.API}},
	"GET /requests/{id}/status":    {},
	"POST /requests/{id}/verify":   {},
	"POST /requests/{id}/resend":   {},
	"POST /requests/{id}/appeal":   {},
	"POST /requests/{id}/attest":   {Roles: []auth.Role{auth.Agent, auth.Supervisor, auth.Admin}},
	"POST /requests/{id}/decision": {Roles: []auth.Role{auth.Supervisor, auth.Admin}},
	"POST /requests/{id}/review":   {Roles: []auth.Role{auth.Supervisor, auth.Admin}},
	"GET /requests":                {Roles: []auth.Role{auth.Agent, auth.Supervisor, auth.Admin, auth.Auditor}},
	"GET /requests/{id}":           {Roles: []auth.Role{auth.Agent, auth.Supervisor, auth.Admin, auth.Auditor}},
	"GET /requests/{id}/audit":     {Roles: []auth.Role{auth.Auditor, auth.Admin}},
	"GET /reports/metrics":         {Roles: []auth.Role{auth.Auditor, auth.Admin}},
}

// TestRoutesCheckRoles calls every route as every role, as an IAM-signed
// dialer and as an anonymous caller: refused with 401 or 403 exactly when
// the table above says so; an admitted caller gets past the check (to a
// 400, or a 500 from the table that never answers).
func TestRoutesCheckRoles(t *testing.T) {
	h := newHandler()
	if got, want := slices.Sorted(maps.Keys(h.RouteKeys())), slices.Sorted(maps.Keys(routeAccess)); !slices.Equal(got, want) {
		t.Fatalf("routes = %v, want %v", got, want)
	}
	for route, a := range routeAccess {
		for name, claims := range lambdafntest.Callers() {
			t.Run(route+"/"+name, func(t *testing.T) {
				out, err := h.Handle(context.Background(), withCaller(t, route, claims))
				if err != nil {
					t.Fatalf("Handle error = %v, want an HTTP response", err)
				}
				resp := out.(events.APIGatewayV2HTTPResponse)
				switch want := lambdafntest.Want(a, claims, 0, 0); {
				case want != 0 && resp.StatusCode != want:
					t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, want, resp.Body)
				case want == 0 && (resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode == 404):
					t.Fatalf("status = %d, want the caller admitted (body %s)", resp.StatusCode, resp.Body)
				}
			})
		}
	}
}

// TestSampleEvents: every sample event of events/intake/ is one the
// function handles: a route it serves, a contact flow's action, or one of
// the workflow's request steps.
func TestSampleEvents(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(lambdafntest.Root(t), "events", "intake", "*.json"))
	if len(paths) == 0 {
		t.Fatal("no sample events under events/intake/")
	}
	h := newHandler()
	for _, p := range paths {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			raw := lambdafntest.Event(t, "intake/"+name)
			out, err := h.Handle(context.Background(), raw)
			var ve *veil.ValidationError
			switch {
			case strings.HasPrefix(name, "apigw-"):
				resp, ok := out.(events.APIGatewayV2HTTPResponse)
				if err != nil || !ok || resp.StatusCode == 404 || resp.StatusCode == 401 || resp.StatusCode == 403 {
					t.Fatalf("Handle = %+v, %v; want the route served to its sample caller", out, err)
				}
			case errors.As(err, &ve) && (ve.Field == "event" || ve.Field == "step" || ve.Field == "Details.Parameters.action"):
				t.Fatalf("Handle = %v, want the event handled", err)
			}
		})
	}
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

// TestStatusTable: the desk's own errors, and the shared table's.
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
		{otp.ErrLocked, 423},
		{otp.ErrTooSoon, 429},
		{requestflow.ErrRateLimited, 429},
		{context.DeadlineExceeded, 500},
	}
	for _, tc := range tests {
		got := httpapi.Status(tc.err)
		if p, ok := problem(tc.err); ok {
			got = p.Status
		}
		if got != tc.want {
			t.Errorf("status of %v = %d, want %d", tc.err, got, tc.want)
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
	if err == nil || err.Error() != "environment variable REQUEST_KEY_SECRET_ARN is not set" {
		t.Fatalf("error = %v, want REQUEST_KEY_SECRET_ARN named", err)
	}
	env["REQUEST_KEY_SECRET_ARN"] = "arn:secret"
	_, err = ConfigFromEnv(func(k string) string { return env[k] })
	if err == nil || err.Error() != "environment variable ANCHOR_BUCKET is not set" {
		t.Fatalf("error = %v, want ANCHOR_BUCKET named", err)
	}
	env["ANCHOR_BUCKET"] = "anchors"
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || cfg.RequestsTable != "t" || cfg.StateMachineARN != "arn" || cfg.RequestKeySecretARN != "arn:secret" || cfg.IVRJurisdiction != "CA" ||
		cfg.AnchorBucket != "anchors" {
		t.Fatalf("ConfigFromEnv = %+v, %v", cfg, err)
	}
}
