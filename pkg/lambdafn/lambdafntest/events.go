// Package lambdafntest loads the sample events in events/ for handler tests,
// so that the events `sam local invoke` uses are the ones the tests prove.
package lambdafntest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/auth"
)

// Root returns the repository root.
func Root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the repository root")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Event reads events/<path>.
func Event(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(t), "events", path))
	if err != nil {
		t.Fatalf("sample event: %v", err)
	}
	return b
}

// Decode reads events/<path> into v, refusing unknown fields so that a
// fixture cannot drift from the type it stands for.
func Decode(t testing.TB, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(Event(t, path), v); err != nil {
		t.Fatalf("sample event %s: %v", path, err)
	}
}

// Request returns the sample event at path as a call of route (its
// routeKey) by a caller with claims: nil claims stand for an event
// without an authorizer context, an "iam:arn" claim for a caller API
// Gateway authenticated by its IAM signature, any other claims for a
// JWT's.
func Request(t testing.TB, path, route string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	Decode(t, path, &ev)
	ev.RouteKey, ev.RequestContext.RouteKey = route, route
	switch arn, iam := claims["iam:arn"]; {
	case claims == nil:
		ev.RequestContext.Authorizer = nil
	case iam:
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{UserARN: arn}}
	default:
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
	}
	return ev
}

// Access is who may call a route, as a function's authorization test
// writes it down by hand: Roles (none and not IAM: public), IAM for a
// route API Gateway authenticates by IAM signature.
type Access struct {
	Roles []auth.Role
	IAM   bool
}

// The dialer role an authorization test admits on IAM routes, and the
// session ARN API Gateway reports for a call signed by it (IAM User Guide,
// "IAM identifiers": a role's session is arn:aws:sts::…:assumed-role/…).
const (
	DialerRoleARN    = "arn:aws:iam::123456789012:role/dialer"
	DialerSessionARN = "arn:aws:sts::123456789012:assumed-role/dialer/session"
)

// Callers are the callers an authorization test tries on every route:
// anonymous, a JWT without groups, without subject or with an unknown
// group, an IAM-signed dialer, and one caller of each role.
func Callers() map[string]map[string]string {
	callers := map[string]map[string]string{
		"anonymous":   nil,
		"no groups":   {"sub": "u-1"},
		"no subject":  {"cognito:groups": "[admin]"},
		"other group": {"sub": "u-1", "cognito:groups": "[marketing]"},
		"iam dialer":  {"iam:arn": DialerSessionARN},
		// Another role of the account, its signature valid: an HTTP API
		// has no resource policy to refuse it, the function must.
		"iam other role": {"iam:arn": "arn:aws:sts::123456789012:assumed-role/crm-sync/session"},
		// An external system's access token (client-credentials grant).
		"api client": {"sub": "client-1", "scope": "veil/requests"},
	}
	for _, r := range auth.Roles {
		callers[string(r)] = map[string]string{"sub": "u-" + string(r), "cognito:groups": "[" + string(r) + "]"}
	}
	return callers
}

// Want returns the status a route of access answers claims with: 401
// for no credential the route accepts, 403 for a caller of another role,
// ok for an allowed caller and public for anyone on a public route.
func Want(a Access, claims map[string]string, ok, public int) int {
	switch {
	case len(a.Roles) == 0 && !a.IAM:
		return public
	case a.IAM != (claims["iam:arn"] != ""):
		// A JWT on an IAM route, or a signature on a JWT route,
		// authenticates no one there.
		return 401
	case a.IAM && claims["iam:arn"] == DialerSessionARN:
		return ok
	case a.IAM:
		return 403
	case claims == nil || claims["sub"] == "":
		return 401
	}
	held := auth.ParseGroups(claims["cognito:groups"])
	if claims["scope"] == "veil/requests" {
		held = append(held, "api")
	}
	for _, g := range held {
		for _, r := range a.Roles {
			if g == string(r) {
				return ok
			}
		}
	}
	return 403
}

// Invoke hands ev to a function's Handle as the Lambda runtime would (its
// JSON) and returns the HTTP response it answers; a handler error fails t.
func Invoke(t *testing.T, handle func(context.Context, json.RawMessage) (any, error), ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := handle(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	resp, ok := out.(events.APIGatewayV2HTTPResponse)
	if !ok {
		t.Fatalf("Handle answered %T, want an HTTP response", out)
	}
	return resp
}
