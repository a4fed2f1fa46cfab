package searchfn

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/veil"
)

// newRoutes is a Handler whose routes answer from fakes.
func newRoutes(s Searcher, sc SuppressionChecker) *Handler {
	h := New(s, nil, nil).WithRoutes(sc, "veil-leads", fakeScrub{})
	h.router.Dialers, _ = auth.ParseDialerRoles(lambdafntest.DialerRoleARN)
	return h
}

// withCaller returns route's sample event (events/search/) as a call by
// claims (lambdafntest.Request), its body one every route accepts.
func withCaller(t *testing.T, route string, claims map[string]string) json.RawMessage {
	t.Helper()
	ev := lambdafntest.Request(t, "search/apigw-get-search.json", route, claims)
	ev.RawQueryString = "phone=%28212%29+555-0147&email=a%40example.com&reason=list+owner+asked"
	ev.PathParameters = map[string]string{"key": "campaigns/a/list.csv/scrub"}
	ev.Body = `{"phones":["(212) 555-0147"]}`
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func call(t *testing.T, h *Handler, route string, claims map[string]string, edit func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPResponse {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(withCaller(t, route, claims), &ev); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&ev)
	}
	return lambdafntest.Invoke(t, h.Handle, ev)
}

// routeAccess is who may call SearchFunction's routes, written by hand from
// the design (ARCHITECTURE.md: staff search, dialers' checks).
var routeAccess = map[string]lambdafntest.Access{
	"GET /search":                    {Roles: []auth.Role{auth.Supervisor, auth.Admin}},
	"POST /suppression/check":        {Roles: []auth.Role{auth.Agent, auth.Supervisor, auth.Admin}},
	"POST /dialer/suppression/check": {Roles: []auth.Role{auth.Dialer}, IAM: true},
	"GET /lists/{key+}":              {Roles: []auth.Role{auth.Agent, auth.Supervisor, auth.Admin}},
}

// TestRoutesCheckRoles calls every route as every role, as an IAM-signed
// dialer and as an anonymous caller, and compares the status with the
// table above.
func TestRoutesCheckRoles(t *testing.T) {
	h := newRoutes(fakeSearch{}, fakeSuppression{})
	if got, want := slices.Sorted(maps.Keys(h.RouteKeys())), slices.Sorted(maps.Keys(routeAccess)); !slices.Equal(got, want) {
		t.Fatalf("routes = %v, want %v", got, want)
	}
	for route, a := range routeAccess {
		for name, claims := range lambdafntest.Callers() {
			t.Run(route+"/"+name, func(t *testing.T) {
				resp := call(t, h, route, claims, nil)
				if want := lambdafntest.Want(a, claims, http.StatusOK, 0); resp.StatusCode != want {
					t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, want, resp.Body)
				}
			})
		}
	}
}

// TestSampleEvents: every sample event of events/search/ is one the
// function handles: a route it serves (not 404), or a Search task.
func TestSampleEvents(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(lambdafntest.Root(t), "events", "search", "*.json"))
	if len(paths) == 0 {
		t.Fatal("no sample events under events/search/")
	}
	for _, p := range paths {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			h := New(&recordingSearch{}, &memFiles{put: map[string]string{}}, nil).WithRoutes(fakeSuppression{}, "veil-leads", fakeScrub{})
			h.router.Dialers, _ = auth.ParseDialerRoles(lambdafntest.DialerRoleARN)
			out, err := h.Handle(context.Background(), raw)
			if strings.HasPrefix(name, "apigw-") {
				resp, ok := out.(events.APIGatewayV2HTTPResponse)
				if err != nil || !ok || resp.StatusCode != http.StatusOK {
					t.Fatalf("Handle = %+v, %v; want the route served (200)", out, err)
				}
				return
			}
			var ve *veil.ValidationError
			if errors.As(err, &ve) && ve.Field == "event" {
				t.Fatalf("Handle = %v, want the task run", err)
			}
		})
	}
}
