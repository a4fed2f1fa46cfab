package exportfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/veil"
)

// fakeExports is a pure fake of Exporter: it records what it was asked and
// answers a download by its token ("good", or the sample events' token;
// "expired", "revoked"; anything else tampered). It holds exports x-1 and
// the sample events' request's.
type fakeExports struct {
	in      access.Input
	revoked string
	ip      string
}

func (f *fakeExports) Export(_ context.Context, in access.Input) (access.Export, error) {
	f.in = in
	return access.Export{ID: "x-1", Status: access.StatusReady, Records: len(in.Identifiers), Files: []string{"records.csv", "records.json", "report-001.pdf"}}, nil
}

func (f *fakeExports) LinksFor(x access.Export, base string) (access.Links, error) {
	return access.Links{CSV: base + "/exports/" + x.ID + "/records.csv?token=t"}, nil
}

func (f *fakeExports) Download(_ context.Context, id, file, token, ip string) (string, error) {
	f.ip = ip
	switch token {
	case "good", sampleToken:
		return "https://bucket.s3.amazonaws.com/exports/" + id + "/" + file + "?X-Amz-Expires=300", nil
	case "expired":
		return "", &access.ExpiredError{At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	case "revoked":
		return "", &access.GoneError{Reason: "this download link was withdrawn on 2 November 2026; ask for a new one"}
	}
	return "", fmt.Errorf("download token: signature is invalid: %w", veil.ErrForbidden)
}

// The export and link token of the sample events (events/export/).
const (
	sampleExport = "req-01HQ7Z3K8M2N4P6R8T0V2X4Z6B"
	sampleToken  = "v1.example-token"
)

func (f *fakeExports) Revoke(_ context.Context, id, who string) error {
	f.revoked = id + " by " + who
	return nil
}

func (f *fakeExports) Status(_ context.Context, id string) (access.Status, error) {
	if id != "x-1" && id != sampleExport {
		return access.Status{}, fmt.Errorf("export %s: %w", id, veil.ErrNotFound)
	}
	return access.Status{Export: access.Export{ID: id, Status: access.StatusReady}, Downloads: []access.Download{}}, nil
}

// withCaller returns route's sample event (events/export/) as a call by
// claims (lambdafntest.Request), with the parameters every route reads.
func withCaller(t *testing.T, route string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev := lambdafntest.Request(t, "export/apigw-get-export.json", route, claims)
	ev.QueryStringParameters = map[string]string{"token": "good"}
	ev.PathParameters = map[string]string{"id": "x-1", "file": "records.csv"}
	ev.Body = `{"phones":["(212) 555-0147"]}`
	return ev
}

func call(t *testing.T, h *Handler, route string, claims map[string]string, edit func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := withCaller(t, route, claims)
	if edit != nil {
		edit(&ev)
	}
	return lambdafntest.Invoke(t, h.Handle, ev)
}

var supervisor = map[string]string{"sub": "u-sup", "cognito:groups": "[supervisor]"}

// A download link answers the same to anyone holding it, and only what
// its token allows: 302 for a good one, 410 in plain words for an expired
// or withdrawn one, 403 for anything else.
func TestDownloadRoute(t *testing.T) {
	callers := map[string]map[string]string{"anonymous": nil}
	for _, r := range auth.Roles {
		callers[string(r)] = map[string]string{"sub": "u-" + string(r), "cognito:groups": "[" + string(r) + "]"}
	}
	for name, claims := range callers {
		for token, want := range map[string]int{"good": 302, "expired": 410, "revoked": 410, "tampered": 403, "": 403} {
			t.Run(name+"/"+token, func(t *testing.T) {
				x := &fakeExports{}
				resp := call(t, New(x, "", nil, nil), "GET /exports/{id}/{file}", claims, func(ev *events.APIGatewayV2HTTPRequest) {
					ev.QueryStringParameters = map[string]string{"token": token}
					ev.RequestContext.HTTP.SourceIP = "203.0.113.7"
				})
				if resp.StatusCode != want {
					t.Fatalf("status = %d (%s), want %d", resp.StatusCode, resp.Body, want)
				}
				switch want {
				case 302:
					if !strings.Contains(resp.Headers["Location"], "/exports/x-1/records.csv?X-Amz-Expires=300") || resp.Body != "" ||
						resp.Headers["Cache-Control"] != "no-store" || x.ip != "203.0.113.7" {
						t.Fatalf("redirect = %v %q (ip %q), want the presigned URL, no body, no-store, the caller's IP passed", resp.Headers, resp.Body, x.ip)
					}
				case 410:
					if !strings.HasPrefix(resp.Headers["Content-Type"], "text/plain") || !strings.Contains(resp.Body, "ask for a new one") {
						t.Fatalf("410 = %v %q, want a plain explanation", resp.Headers, resp.Body)
					}
				case 403:
					if strings.Contains(resp.Body, "signature") || !strings.Contains(resp.Body, "not valid") {
						t.Fatalf("403 body = %q, want a plain refusal without the token's details", resp.Body)
					}
				}
			})
		}
	}
}

func TestCreateExport(t *testing.T) {
	x := &fakeExports{}
	h := New(x, "", nil, nil)
	resp := call(t, h, "POST /exports", supervisor, func(ev *events.APIGatewayV2HTTPRequest) {
		ev.Body = `{"phones":["(212) 555-0147"],"emails":["a@example.com"],"customerIds":["AB-1"],"accountNumbers":["9"],"jurisdiction":"CCPA"}`
		ev.RequestContext.DomainName = "api.example.com"
		ev.Headers = map[string]string{"x-forwarded-proto": "https"}
	})
	var body struct {
		ExportID string `json:"exportId"`
		Records  int    `json:"records"`
		Links    struct{ CSV string }
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /exports = %d %s, want 201", resp.StatusCode, resp.Body)
	}
	if body.ExportID != "x-1" || body.Records != 4 || body.Links.CSV != "https://api.example.com/exports/x-1/records.csv?token=t" {
		t.Fatalf("body = %+v, want the export with links under the API's URL", body)
	}
	kinds := []identifiers.Kind{identifiers.Phone, identifiers.Email, identifiers.CustomerID, identifiers.AccountNumber}
	for i, id := range x.in.Identifiers {
		if id.Kind != kinds[i] {
			t.Fatalf("identifier %d = %v, want %v", i, id.Kind, kinds[i])
		}
	}
	if x.in.Requester != "staff:u-sup" || x.in.Jurisdiction != "CCPA" {
		t.Fatalf("input = %+v, want the staff requester and jurisdiction", x.in)
	}
}

func TestCreateExportRejects(t *testing.T) {
	for body, field := range map[string]string{
		``:                           "body",
		`[]`:                         "body",
		`{"phones":[]}`:              "body",
		`{"phone":["1"]}`:            "body",
		`{"phones":[""]}`:            "phones[0]",
		`{"phones":"1"}`:             "body",
		`{"phones":["1"]} {}`:        "body",
		`{"emails":["a@b.c"],"x":1}`: "body",
		`{"phones":["1"],"jurisdiction":"` + strings.Repeat("x", 65) + `"}`: "jurisdiction",
	} {
		_, _, err := ParseExportRequest(body)
		ve, ok := err.(*veil.ValidationError)
		if !ok || ve.Field != field {
			t.Errorf("ParseExportRequest(%.40q) error = %v, want a validation error on %s", body, err, field)
		}
	}
	many := `{"phones":[` + strings.TrimSuffix(strings.Repeat(`"1",`, httpapi.MaxIdentifiers+1), ",") + `]}`
	if _, _, err := ParseExportRequest(many); err == nil {
		t.Errorf("ParseExportRequest of %d identifiers: error = nil, want one", httpapi.MaxIdentifiers+1)
	}
}

func TestRevokeAndStatus(t *testing.T) {
	x := &fakeExports{}
	h := New(x, "", nil, nil)
	if resp := call(t, h, "DELETE /exports/{id}", supervisor, nil); resp.StatusCode != 200 || x.revoked != "x-1 by staff:u-sup" {
		t.Fatalf("DELETE = %d %s (revoked %q), want 200 and x-1 revoked by the caller", resp.StatusCode, resp.Body, x.revoked)
	}
	resp := call(t, h, "GET /exports/{id}", supervisor, func(ev *events.APIGatewayV2HTTPRequest) { ev.PathParameters["id"] = "nope" })
	if resp.StatusCode != 404 {
		t.Fatalf("GET of an unknown export = %d, want 404", resp.StatusCode)
	}
}

// FuzzParseExportRequest: any body is a request or a validation error
// naming a field, never a panic, and never an error quoting the body.
func FuzzParseExportRequest(f *testing.F) {
	for _, s := range []string{`{"phones":["(212) 555-0147"]}`, `{"emails":["a@b.c"],"customerIds":["x"]}`, `{}`, `{"phones":[1]}`, "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		_, ids, err := ParseExportRequest(body)
		if err == nil {
			if len(ids) == 0 || len(ids) > httpapi.MaxIdentifiers {
				t.Fatalf("accepted %d identifiers", len(ids))
			}
			return
		}
		ve, ok := err.(*veil.ValidationError)
		if !ok || ve.Field == "" {
			t.Fatalf("error = %#v, want a validation error naming a field", err)
		}
		if len(body) >= 8 && strings.Contains(ve.Error(), body) {
			t.Fatalf("error %q quotes the body", ve.Error())
		}
	})
}

// routeAccess is who may call ExportFunction's routes, written by hand:
// staff export, follow and revoke; a download link's token is its own
// credential.
var routeAccess = map[string]lambdafntest.Access{
	"POST /exports":            {Roles: []auth.Role{auth.Supervisor, auth.Admin}},
	"GET /exports/{id}":        {Roles: []auth.Role{auth.Supervisor, auth.Admin}},
	"DELETE /exports/{id}":     {Roles: []auth.Role{auth.Supervisor, auth.Admin}},
	"GET /exports/{id}/{file}": {},
}

// okStatus is a route's status for an allowed caller, when not 200;
// publicStatus a public route's for a caller with a good credential.
var (
	okStatus     = map[string]int{"POST /exports": http.StatusCreated}
	publicStatus = map[string]int{"GET /exports/{id}/{file}": http.StatusFound}
)

// TestRoutesCheckRoles calls every route as every role, as an IAM-signed
// dialer and as an anonymous caller, and compares the status with the
// table above.
func TestRoutesCheckRoles(t *testing.T) {
	h := New(&fakeExports{}, "", nil, nil)
	if got, want := slices.Sorted(maps.Keys(h.RouteKeys())), slices.Sorted(maps.Keys(routeAccess)); !slices.Equal(got, want) {
		t.Fatalf("routes = %v, want %v", got, want)
	}
	for route, a := range routeAccess {
		for name, claims := range lambdafntest.Callers() {
			t.Run(route+"/"+name, func(t *testing.T) {
				ok := okStatus[route]
				if ok == 0 {
					ok = http.StatusOK
				}
				resp := call(t, h, route, claims, nil)
				if want := lambdafntest.Want(a, claims, ok, publicStatus[route]); resp.StatusCode != want {
					t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, want, resp.Body)
				}
			})
		}
	}
}

// TestSampleEvents: every sample event of events/export/ is one the
// function handles: a route it serves (not 404), or an Export task.
func TestSampleEvents(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(lambdafntest.Root(t), "events", "export", "*.json"))
	if len(paths) == 0 {
		t.Fatal("no sample events under events/export/")
	}
	for _, p := range paths {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			x := &fakeExports{}
			out, err := New(x, "", nil, nil).Handle(context.Background(), lambdafntest.Event(t, "export/"+name))
			if strings.HasPrefix(name, "apigw-") {
				resp, ok := out.(events.APIGatewayV2HTTPResponse)
				if err != nil || !ok || resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
					t.Fatalf("Handle = %+v, %v; want the route served to its sample caller", out, err)
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
