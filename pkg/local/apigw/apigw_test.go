// The API stand-in is tested over HTTP against functions run by the local
// Lambda runtime, so the payload-2.0 events and results go through the same
// JSON a deployed API and function exchange.
package apigw

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/local/devauth"
	"github.com/veil-privacy/veil/pkg/local/lambdalocal"
	"github.com/veil-privacy/veil/pkg/samtemplate"
)

func TestMatchPath(t *testing.T) {
	tests := []struct {
		pattern, path string
		wantOK        bool
		wantParams    map[string]string
	}{
		{pattern: "/me", path: "/me", wantOK: true, wantParams: map[string]string{}},
		{pattern: "/me", path: "/me/", wantOK: true, wantParams: map[string]string{}},
		{pattern: "/me", path: "/you", wantOK: false},
		{pattern: "/me", path: "/me/too", wantOK: false},
		{pattern: "/", path: "/", wantOK: true, wantParams: map[string]string{}},
		{pattern: "/", path: "/me", wantOK: false},
		{pattern: "/requests/{id}", path: "/requests/r-1", wantOK: true, wantParams: map[string]string{"id": "r-1"}},
		{pattern: "/requests/{id}", path: "/requests/r-1/", wantOK: true, wantParams: map[string]string{"id": "r-1"}},
		{pattern: "/requests/{id}", path: "/requests", wantOK: false},
		{pattern: "/requests/{id}", path: "/requests/a/b", wantOK: false},
		{pattern: "/requests/{id}/approve", path: "/requests/7/approve", wantOK: true, wantParams: map[string]string{"id": "7"}},
		{pattern: "/requests/{id}/approve", path: "/requests/7/deny", wantOK: false},
		{pattern: "/a/{x}/b/{y}", path: "/a/1/b/2", wantOK: true, wantParams: map[string]string{"x": "1", "y": "2"}},
		{pattern: "/files/{proxy+}", path: "/files/a/b/c.csv", wantOK: true, wantParams: map[string]string{"proxy": "a/b/c.csv"}},
		{pattern: "/files/{proxy+}", path: "/files/a", wantOK: true, wantParams: map[string]string{"proxy": "a"}},
		{pattern: "/files/{proxy+}", path: "/files", wantOK: false},
		{pattern: "/files/{proxy+}", path: "/files/", wantOK: false},
		{pattern: "/files/{proxy+}", path: "/other/a", wantOK: false},
		{pattern: "/{proxy+}", path: "/any/thing", wantOK: true, wantParams: map[string]string{"proxy": "any/thing"}},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+" "+tc.path, func(t *testing.T) {
			params, ok := matchPath(tc.pattern, tc.path)
			if ok != tc.wantOK {
				t.Fatalf("matchPath(%q, %q) ok = %v, want %v", tc.pattern, tc.path, ok, tc.wantOK)
			}
			if ok && !reflect.DeepEqual(params, tc.wantParams) {
				t.Fatalf("matchPath(%q, %q) params = %v, want %v", tc.pattern, tc.path, params, tc.wantParams)
			}
		})
	}
}

// api is a Server over functions run by the local Lambda runtime; each
// function records the events it gets and answers with the result set for
// it.
type api struct {
	url string
	key devauth.Key
	srv *Server

	mu      sync.Mutex
	got     []events.APIGatewayV2HTTPRequest
	results map[string]string // function → raw JSON result
}

func newAPI(t *testing.T) *api {
	t.Helper()
	a := &api{key: devauth.Key([]byte("0123456789abcdef0123456789abcdef")), results: map[string]string{}}
	rt := lambdalocal.New("us-east-1", "000000000000", slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, fn := range []string{"Intake", "Public", "Files", "Broken"} {
		rt.Register(fn, func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (json.RawMessage, error) {
			if fn == "Broken" {
				return nil, errors.New("handler failed")
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			a.got = append(a.got, ev)
			out := a.results[fn]
			if out == "" {
				out = `{"statusCode":200,"body":"ok"}`
			}
			return json.RawMessage(out), nil
		}, time.Second)
	}
	routes := []samtemplate.Route{
		{Function: "Intake", Method: "GET", Path: "/me", Authorizer: "CognitoJWT"},
		{Function: "Intake", Method: "POST", Path: "/requests/{id}/approve", Authorizer: "CognitoJWT"},
		{Function: "Intake", Method: "ANY", Path: "/requests/{id}", Authorizer: "CognitoJWT"},
		{Function: "Public", Method: "GET", Path: "/public", Authorizer: "NONE"},
		{Function: "Public", Method: "POST", Path: "/public", Authorizer: "NONE"},
		{Function: "Files", Method: "GET", Path: "/files/{proxy+}", Authorizer: "NONE"},
		{Function: "Broken", Method: "GET", Path: "/broken", Authorizer: "NONE"},
		{Function: "Intake", Method: "POST", Path: "/dialer/suppression/check", Authorizer: "AWS_IAM"},
	}
	a.srv = New(routes, rt, a.key, "us-east-1")
	hs := httptest.NewServer(a.srv)
	t.Cleanup(hs.Close)
	a.url = hs.URL
	return a
}

func (a *api) last(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.got) == 0 {
		t.Fatalf("no function was invoked")
	}
	return a.got[len(a.got)-1]
}

func (a *api) calls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.got)
}

func (a *api) token(t *testing.T, groups ...string) string {
	t.Helper()
	tok, err := a.key.Issue("user-1", groups, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestUnauthorized(t *testing.T) {
	a := newAPI(t)
	other := devauth.Key([]byte("ffffffffffffffffffffffffffffffff"))
	otherTok, _ := other.Issue("user-1", []string{"admin"}, time.Hour)
	expired, _ := a.key.Issue("user-1", []string{"admin"}, -time.Minute)
	tests := []struct {
		name, authorization string
	}{
		{name: "no header", authorization: ""},
		{name: "empty bearer", authorization: "Bearer "},
		{name: "garbage", authorization: "Bearer not-a-token"},
		{name: "other key", authorization: "Bearer " + otherTok},
		{name: "expired", authorization: "Bearer " + expired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", a.url+"/me", nil)
			if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			resp, body := do(t, req)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401", resp.StatusCode)
			}
			if strings.TrimSpace(body) != `{"message":"Unauthorized"}` {
				t.Fatalf("body = %s, want %s", body, `{"message":"Unauthorized"}`)
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Fatalf("WWW-Authenticate = %q, want Bearer", got)
			}
			if n := a.calls(); n != 0 {
				t.Fatalf("function invoked %d times, want 0", n)
			}
		})
	}
	// A token without the "Bearer " prefix is accepted, as the JWT
	// authorizer does.
	req, _ := http.NewRequest("GET", a.url+"/me", nil)
	req.Header.Set("Authorization", a.token(t, "agent"))
	if resp, body := do(t, req); resp.StatusCode != 200 {
		t.Fatalf("bare token status = %d (%s), want 200", resp.StatusCode, body)
	}
}

func TestEventFields(t *testing.T) {
	a := newAPI(t)
	tok := a.token(t, "agent", "admin")
	req, _ := http.NewRequest("POST", a.url+"/requests/r-42/approve?reason=ok&tag=a&tag=b", strings.NewReader(`{"note":"approved"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Custom-Thing", "v")
	req.Header.Add("X-Multi", "1")
	req.Header.Add("X-Multi", "2")
	req.Header.Set("Cookie", "session=abc; theme=dark")
	req.Header.Set("User-Agent", "veil-test/1")
	resp, body := do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d (%s), want 200", resp.StatusCode, body)
	}
	ev := a.last(t)
	checks := []struct{ field, got, want string }{
		{"version", ev.Version, "2.0"},
		{"routeKey", ev.RouteKey, "POST /requests/{id}/approve"},
		{"requestContext.routeKey", ev.RequestContext.RouteKey, "POST /requests/{id}/approve"},
		{"rawPath", ev.RawPath, "/requests/r-42/approve"},
		{"rawQueryString", ev.RawQueryString, "reason=ok&tag=a&tag=b"},
		{"queryStringParameters.reason", ev.QueryStringParameters["reason"], "ok"},
		{"queryStringParameters.tag", ev.QueryStringParameters["tag"], "a,b"},
		{"pathParameters.id", ev.PathParameters["id"], "r-42"},
		{"headers.content-type", ev.Headers["content-type"], "application/json"},
		{"headers.x-custom-thing", ev.Headers["x-custom-thing"], "v"},
		{"headers.x-multi", ev.Headers["x-multi"], "1,2"},
		{"headers.authorization", ev.Headers["authorization"], "Bearer " + tok},
		{"body", ev.Body, `{"note":"approved"}`},
		{"requestContext.stage", ev.RequestContext.Stage, "$default"},
		{"requestContext.http.method", ev.RequestContext.HTTP.Method, "POST"},
		{"requestContext.http.path", ev.RequestContext.HTTP.Path, "/requests/r-42/approve"},
		{"requestContext.http.sourceIp", ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		{"requestContext.http.userAgent", ev.RequestContext.HTTP.UserAgent, "veil-test/1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	for name := range ev.Headers {
		if name != strings.ToLower(name) {
			t.Errorf("header %q is not lower-cased", name)
		}
	}
	if _, ok := ev.Headers["cookie"]; ok {
		t.Errorf("cookie header passed on, want it in cookies only")
	}
	if want := []string{"session=abc", "theme=dark"}; !reflect.DeepEqual(ev.Cookies, want) {
		t.Errorf("cookies = %q, want %q", ev.Cookies, want)
	}
	if ev.IsBase64Encoded {
		t.Errorf("isBase64Encoded = true for a JSON body")
	}
	if ev.RequestContext.RequestID == "" || ev.RequestContext.TimeEpoch == 0 {
		t.Errorf("requestContext requestId = %q, timeEpoch = %d, want both set", ev.RequestContext.RequestID, ev.RequestContext.TimeEpoch)
	}
	if ev.RequestContext.Authorizer == nil || ev.RequestContext.Authorizer.JWT == nil {
		t.Fatalf("requestContext.authorizer.jwt missing")
	}
	claims := ev.RequestContext.Authorizer.JWT.Claims
	if claims["sub"] != "user-1" || claims["cognito:groups"] != "[agent admin]" {
		t.Fatalf("claims = %v, want sub user-1 and cognito:groups [agent admin]", claims)
	}
}

func TestEventBodies(t *testing.T) {
	a := newAPI(t)
	tests := []struct {
		name       string
		body       string
		wantBody   string
		wantBase64 bool
	}{
		{name: "no body", body: "", wantBody: ""},
		{name: "text", body: "name,phone\nAda,+15550100\n", wantBody: "name,phone\nAda,+15550100\n"},
		{name: "unicode text", body: "Zoë", wantBody: "Zoë"},
		{name: "binary", body: "\x00\xff\xfePK", wantBody: "AP/+UEs=", wantBase64: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", a.url+"/public", strings.NewReader(tc.body))
			if resp, body := do(t, req); resp.StatusCode != 200 {
				t.Fatalf("status = %d (%s), want 200", resp.StatusCode, body)
			}
			ev := a.last(t)
			if ev.Body != tc.wantBody || ev.IsBase64Encoded != tc.wantBase64 {
				t.Fatalf("body = %q (base64 %v), want %q (base64 %v)", ev.Body, ev.IsBase64Encoded, tc.wantBody, tc.wantBase64)
			}
			if ev.RequestContext.Authorizer != nil {
				t.Fatalf("authorizer = %+v on a public route, want none", ev.RequestContext.Authorizer)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	a := newAPI(t)
	tok := a.token(t, "agent")
	tests := []struct {
		name, method, path string
		auth               bool
		wantStatus         int
		wantRouteKey       string
	}{
		{name: "exact", method: "GET", path: "/me", auth: true, wantStatus: 200, wantRouteKey: "GET /me"},
		{name: "trailing slash", method: "GET", path: "/me/", auth: true, wantStatus: 200, wantRouteKey: "GET /me"},
		{name: "ANY takes any method", method: "DELETE", path: "/requests/9", auth: true, wantStatus: 200, wantRouteKey: "ANY /requests/{id}"},
		{name: "more specific route first", method: "POST", path: "/requests/9/approve", auth: true, wantStatus: 200, wantRouteKey: "POST /requests/{id}/approve"},
		{name: "greedy path", method: "GET", path: "/files/a/b.csv", wantStatus: 200, wantRouteKey: "GET /files/{proxy+}"},
		{name: "wrong method", method: "DELETE", path: "/public", wantStatus: 404},
		{name: "no route", method: "GET", path: "/nothing", wantStatus: 404},
		{name: "no route is 404 before auth", method: "GET", path: "/nothing", auth: false, wantStatus: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := a.calls()
			req, _ := http.NewRequest(tc.method, a.url+tc.path, nil)
			if tc.auth {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, body := do(t, req)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, body, tc.wantStatus)
			}
			if tc.wantStatus == 404 {
				if strings.TrimSpace(body) != `{"message":"Not Found"}` {
					t.Fatalf("body = %s, want %s", body, `{"message":"Not Found"}`)
				}
				if a.calls() != before {
					t.Fatalf("a function was invoked for an unrouted request")
				}
				return
			}
			if got := a.last(t).RouteKey; got != tc.wantRouteKey {
				t.Fatalf("routeKey = %q, want %q", got, tc.wantRouteKey)
			}
		})
	}
}

func TestResults(t *testing.T) {
	a := newAPI(t)
	tests := []struct {
		name        string
		result      string
		wantStatus  int
		wantBody    string
		wantHeaders map[string]string
		wantCookies []string
	}{{
		name:        "structured response",
		result:      `{"statusCode":201,"headers":{"Content-Type":"text/csv","X-Request-Id":"r1"},"body":"a,b\n"}`,
		wantStatus:  201,
		wantBody:    "a,b\n",
		wantHeaders: map[string]string{"Content-Type": "text/csv", "X-Request-Id": "r1"},
	}, {
		name:        "cookies",
		result:      `{"statusCode":200,"cookies":["a=1; Secure","b=2"],"body":""}`,
		wantStatus:  200,
		wantCookies: []string{"a=1; Secure", "b=2"},
	}, {
		name:       "base64 body",
		result:     `{"statusCode":200,"isBase64Encoded":true,"body":"AP/+UEs="}`,
		wantStatus: 200,
		wantBody:   "\x00\xff\xfePK",
	}, {
		name:       "error status",
		result:     `{"statusCode":409,"body":"{\"message\":\"conflict\"}"}`,
		wantStatus: 409,
		wantBody:   `{"message":"conflict"}`,
	}, {
		name:        "raw JSON object is a 200 JSON body",
		result:      `{"subject":"u","roles":["agent"]}`,
		wantStatus:  200,
		wantBody:    `{"subject":"u","roles":["agent"]}`,
		wantHeaders: map[string]string{"Content-Type": "application/json"},
	}, {
		name:        "raw JSON string",
		result:      `"hello"`,
		wantStatus:  200,
		wantBody:    `"hello"`,
		wantHeaders: map[string]string{"Content-Type": "application/json"},
	}, {
		name:        "raw JSON list",
		result:      `[1,2]`,
		wantStatus:  200,
		wantBody:    `[1,2]`,
		wantHeaders: map[string]string{"Content-Type": "application/json"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a.mu.Lock()
			a.results["Public"] = tc.result
			a.mu.Unlock()
			resp, body := do(t, mustRequest(t, "GET", a.url+"/public"))
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if body != tc.wantBody {
				t.Fatalf("body = %q, want %q", body, tc.wantBody)
			}
			for k, v := range tc.wantHeaders {
				if got := resp.Header.Get(k); got != v {
					t.Fatalf("header %s = %q, want %q", k, got, v)
				}
			}
			if got := resp.Header.Values("Set-Cookie"); !reflect.DeepEqual(got, tc.wantCookies) && (len(got) > 0 || len(tc.wantCookies) > 0) {
				t.Fatalf("Set-Cookie = %q, want %q", got, tc.wantCookies)
			}
		})
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestFunctionErrorIs500(t *testing.T) {
	a := newAPI(t)
	resp, body := do(t, mustRequest(t, "GET", a.url+"/broken"))
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", resp.StatusCode)
	}
	if strings.TrimSpace(body) != `{"message":"Internal Server Error"}` {
		t.Fatalf("body = %s, want %s", body, `{"message":"Internal Server Error"}`)
	}
	if strings.Contains(body, "handler failed") {
		t.Fatalf("body leaks the function's error: %s", body)
	}
}

func TestHealth(t *testing.T) {
	a := newAPI(t)
	tests := []struct {
		name       string
		health     func() error
		wantStatus int
		want       map[string]string
	}{
		{name: "no check", health: nil, wantStatus: 200, want: map[string]string{"status": "ok"}},
		{name: "healthy", health: func() error { return nil }, wantStatus: 200, want: map[string]string{"status": "ok"}},
		{name: "starting", health: func() error { return errors.New("dynalite not ready") }, wantStatus: 503,
			want: map[string]string{"status": "starting", "detail": "dynalite not ready"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a.srv.Health = tc.health
			resp, body := do(t, mustRequest(t, "GET", a.url+"/health"))
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("body = %v, want %v", got, tc.want)
			}
		})
	}
}
