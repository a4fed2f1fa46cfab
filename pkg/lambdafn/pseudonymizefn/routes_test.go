package pseudonymizefn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/certificate"
	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/tasks"
	"github.com/veil-privacy/veil/pkg/veil"
)

// fakeErasures is a pure fake of Erasures: it records what it was asked;
// job "job-done" has ended with a certificate, "job-queued" waits, any
// other is unknown.
type fakeErasures struct {
	previewed []erasure.Request
	started   map[string]erasure.Request
}

func (f *fakeErasures) Preview(_ context.Context, r erasure.Request) (erasure.Preview, error) {
	f.previewed = append(f.previewed, r)
	return erasure.Preview{Operation: r.Operation, Identifiers: []certificate.Identifier{}, Rows: int64(len(r.Identifiers)),
		Objects: []erasure.PreviewObject{{Bucket: "veil-leads", Key: "k.csv", Rows: int64(len(r.Identifiers)), Noncurrent: []string{}}}}, nil
}

func (f *fakeErasures) Start(_ context.Context, id string, r erasure.Request) (erasure.Job, error) {
	if f.started == nil {
		f.started = map[string]erasure.Request{}
	}
	f.started[id] = r
	return erasure.Job{ID: id, Operation: r.Operation, Status: erasure.StatusQueued, Requester: r.Requester}, nil
}

func (f *fakeErasures) Hold(ctx context.Context, id string, r erasure.Request) (erasure.Job, error) {
	j, err := f.Start(ctx, id, r)
	j.Status = erasure.StatusAwaitingConfirmation
	return j, err
}

// Confirm confirms "job-held" or the sample events' job, which "sup-1"
// asked for.
func (f *fakeErasures) Confirm(_ context.Context, id, by string) (erasure.Job, error) {
	if id != "job-held" && id != "job-0a1b2c3d4e5f60718293" {
		return erasure.Job{}, fmt.Errorf("job %s: %w", id, veil.ErrNotFound)
	}
	if by == "sup-1" {
		return erasure.Job{}, erasure.ErrSameRequester
	}
	return erasure.Job{ID: id, Operation: erasure.Erasure, Status: erasure.StatusQueued, Requester: "sup-1", Confirmer: by}, nil
}

func (f *fakeErasures) Get(_ context.Context, id string) (erasure.Job, error) {
	switch id {
	case "job-done":
		files := erasure.CertificateKeys(id)
		return erasure.Job{ID: id, Operation: erasure.Erasure, Status: erasure.StatusCompleted, Totals: certificate.Totals{RowsEdited: 1},
			Objects: []certificate.Object{}, Identifiers: []certificate.Identifier{}, Certificate: &files}, nil
	case "job-queued", "job-0a1b2c3d4e5f60718293": // the latter the sample events' job
		return erasure.Job{ID: id, Operation: erasure.Correction, Status: erasure.StatusQueued}, nil
	}
	return erasure.Job{}, fmt.Errorf("job %s: %w", id, veil.ErrNotFound)
}

func (f *fakeErasures) URL(_ context.Context, key, name string) (string, error) {
	return "https://veil-exports.s3.amazonaws.com/" + key + "?name=" + name + "&X-Amz-Expires=300", nil
}

// fakeInvoker is a pure fake of Invoker: it records the invocations, and
// fails them with err.
type fakeInvoker struct {
	calls []*lambda.InvokeInput
	err   error
}

func (f *fakeInvoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	return &lambda.InvokeOutput{StatusCode: http.StatusAccepted}, nil
}

// self is the function's own name, as its environment gives it.
const self = "veil-pseudonymize"

// newRoutes is a Handler whose routes preview and start jobs with e and
// hand them to the function itself through inv.
func newRoutes(e Erasures, inv Invoker) *Handler {
	return &Handler{Erasures: e, Invoker: inv, Self: self}
}

// withCaller returns route's sample event (events/pseudonymize/) as a
// call by claims (lambdafntest.Request).
func withCaller(t *testing.T, route string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev := lambdafntest.Request(t, "pseudonymize/apigw-post-pseudonymize.json", route, claims)
	ev.PathParameters = map[string]string{"jobId": "job-done"}
	ev.Body = `{"reason":"list owner asked","phones":["(212) 555-0147"]}`
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

func roleClaims(r auth.Role) map[string]string {
	return map[string]string{"sub": "u-" + string(r), "cognito:groups": "[" + string(r) + "]"}
}

// The job routes are staff's: a confirmed job from anyone else is
// refused before anything is previewed, recorded or invoked.
func TestJobRoutesRefuseNonStaff(t *testing.T) {
	bodies := map[string]string{
		"POST /pseudonymize":        `{"phones":["(212) 555-0147"],"requestId":"r-1","confirm":true}`,
		"POST /corrections":         `{"phones":["(212) 555-0147"],"set":{"email":"new@example.com"},"requestId":"r-1","confirm":true}`,
		"GET /pseudonymize/{jobId}": ``,
	}
	callers := map[string]map[string]string{"anonymous": nil}
	for _, r := range auth.Roles {
		callers[string(r)] = roleClaims(r)
	}
	for route, body := range bodies {
		for name, claims := range callers {
			t.Run(route+"/"+name, func(t *testing.T) {
				e, inv := &fakeErasures{}, &fakeInvoker{}
				resp := call(t, newRoutes(e, inv), route, claims, func(ev *events.APIGatewayV2HTTPRequest) {
					ev.Body = body
				})
				want := http.StatusForbidden
				switch {
				case claims == nil:
					want = http.StatusUnauthorized
				case name == string(auth.Supervisor) || name == string(auth.Admin):
					want = http.StatusAccepted
					if strings.HasPrefix(route, "GET") {
						want = http.StatusOK
					}
				}
				if resp.StatusCode != want {
					t.Fatalf("status = %d (%s), want %d", resp.StatusCode, resp.Body, want)
				}
				if want >= 400 && (len(e.previewed)+len(e.started)+len(inv.calls) > 0) {
					t.Fatalf("refused caller: %d previews, %d jobs, %d invocations; want none", len(e.previewed), len(e.started), len(inv.calls))
				}
			})
		}
	}
}

// Without confirm the route previews and changes nothing; the request is
// the body's, the caller its requester.
func TestPseudonymizePreview(t *testing.T) {
	var ev events.APIGatewayV2HTTPRequest
	lambdafntest.Decode(t, "pseudonymize/apigw-post-pseudonymize.json", &ev)
	e, inv := &fakeErasures{}, &fakeInvoker{}
	resp := newRoutes(e, inv).router().Handle(context.Background(), ev)
	var p erasure.Preview
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("preview = %d %s, want 200 with a preview", resp.StatusCode, resp.Body)
	}
	if p.Operation != erasure.Erasure || p.Rows != 2 || len(p.Objects) != 1 {
		t.Fatalf("preview = %+v, want the fake's erasure preview of 2 rows", p)
	}
	if len(e.started) != 0 || len(inv.calls) != 0 {
		t.Fatalf("preview started %d jobs and invoked %d times, want none", len(e.started), len(inv.calls))
	}
	r := e.previewed[0]
	if r.Operation != erasure.Erasure || r.Requester != "8f1e2d3c-aaaa-bbbb-cccc-1234567890ab" || r.Jurisdiction != "CCPA" || r.RequestID != "r-2026-0042" {
		t.Fatalf("request = %+v, want an erasure by the caller under CCPA for r-2026-0042", r)
	}
	if len(r.Identifiers) != 2 || r.Identifiers[0].Kind != identifiers.Phone || r.Identifiers[0].Field != "phones[0]" ||
		r.Identifiers[1].Kind != identifiers.Email || r.Identifiers[1].Value != "maria.ortega@example.com" {
		t.Fatalf("identifiers = %+v, want the phone and the email with their fields", r.Identifiers)
	}
}

// Confirmed, a job is recorded and handed to PseudonymizeFunction as an
// Event invocation with its ID, the answer 202 with the ID; the payload
// is the function's own Input.
func TestConfirmedJobs(t *testing.T) {
	for _, tc := range []struct {
		route, body, operation string
	}{
		{"POST /pseudonymize", `{"emails":["a@example.com"],"strategy":"redact","requestId":"r-3","confirm":true}`, erasure.Erasure},
		{"POST /corrections", `{"customerIds":["C-9"],"set":{"email":"new@example.com","last_name":"Ortega-Ruiz"},"requestId":"r-7","confirm":true}`, erasure.Correction},
	} {
		t.Run(tc.route, func(t *testing.T) {
			e, inv := &fakeErasures{}, &fakeInvoker{}
			resp := call(t, newRoutes(e, inv), tc.route, roleClaims(auth.Admin), func(ev *events.APIGatewayV2HTTPRequest) {
				ev.Body = tc.body
			})
			var got map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || resp.StatusCode != http.StatusAccepted {
				t.Fatalf("%s = %d %s, want 202", tc.route, resp.StatusCode, resp.Body)
			}
			id, _ := got["jobId"].(string)
			if len(got) != 2 || got["status"] != "queued" || !strings.HasPrefix(id, "job-") || !erasure.ValidID(id) {
				t.Fatalf("body = %v, want exactly jobId (a new job ID) and status queued", got)
			}
			r, ok := e.started[id]
			if !ok || len(e.started) != 1 || len(e.previewed) != 0 {
				t.Fatalf("started %v, previewed %d; want job %s alone", e.started, len(e.previewed), id)
			}
			if r.Operation != tc.operation || r.Requester != "u-admin" {
				t.Fatalf("request = %+v, want a %s by u-admin", r, tc.operation)
			}
			if tc.operation == erasure.Correction && (r.Correction == nil || r.Correction.Set["last_name"] != "Ortega-Ruiz" || r.RequestID != "r-7") {
				t.Fatalf("correction = %+v, want the body's set and request", r)
			}
			if tc.operation == erasure.Erasure && r.Strategy != "redact" {
				t.Fatalf("strategy = %q, want redact", r.Strategy)
			}
			if len(inv.calls) != 1 {
				t.Fatalf("%d invocations, want 1", len(inv.calls))
			}
			in := inv.calls[0]
			if aws.ToString(in.FunctionName) != self || in.InvocationType != lambdatypes.InvocationTypeEvent {
				t.Fatalf("invoked %q as %q, want the function itself (%s) as Event", aws.ToString(in.FunctionName), in.InvocationType, self)
			}
			dec := json.NewDecoder(bytes.NewReader(in.Payload))
			dec.DisallowUnknownFields()
			var payload tasks.PseudonymizeInput
			if err := dec.Decode(&payload); err != nil || payload.JobID != id || payload.RequestID != "" || len(payload.Identifiers) != 0 {
				t.Fatalf("payload %s (%v), want PseudonymizeFunction's input with jobId %s only", in.Payload, err, id)
			}
		})
	}
}

// A job that could not be handed over is a 500 without the invoke's
// details.
func TestInvokeFailureIs500(t *testing.T) {
	inv := &fakeInvoker{err: errors.New("AccessDeniedException: not authorized to perform lambda:InvokeFunction")}
	resp := call(t, newRoutes(&fakeErasures{}, inv), "POST /pseudonymize", supervisor, func(ev *events.APIGatewayV2HTTPRequest) {
		ev.Body = `{"phones":["(212) 555-0147"],"requestId":"r-1","confirm":true}`
	})
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(resp.Body, "lambda:") {
		t.Fatalf("status = %d %s, want 500 without the error's text", resp.StatusCode, resp.Body)
	}
}

// Bad bodies are 400s naming the field, through the route and the parser.
func TestJobBodiesRejected(t *testing.T) {
	tests := []struct {
		name, route, body, field string
	}{
		{"unknown field", "POST /pseudonymize", `{"phones":["1"],"phone":"1"}`, "body"},
		{"set on an erasure", "POST /pseudonymize", `{"phones":["1"],"set":{"email":"a@b.c"}}`, "body"},
		{"strategy on a correction", "POST /corrections", `{"phones":["1"],"set":{"email":"a@b.c"},"strategy":"redact"}`, "body"},
		{"no identifiers", "POST /pseudonymize", `{"phones":[],"confirm":true}`, "body"},
		{"empty object", "POST /corrections", `{}`, "body"},
		{"empty value", "POST /pseudonymize", `{"emails":["a@b.c"," "]}`, "emails[1]"},
		{"too many", "POST /pseudonymize", `{"phones":[` + strings.TrimSuffix(strings.Repeat(`"1",`, httpapi.MaxIdentifiers+1), ",") + `]}`, "body"},
		{"too large", "POST /pseudonymize", `{"phones":["` + strings.Repeat("1", httpapi.MaxBody) + `"]}`, "body"},
		{"bad JSON", "POST /pseudonymize", `{"phones":["1"`, "body"},
		{"not an object", "POST /corrections", `["1"]`, "body"},
		{"wrong type", "POST /pseudonymize", `{"phones":["1"],"confirm":"yes"}`, "body"},
		{"two objects", "POST /pseudonymize", `{"phones":["1"]}{"confirm":true}`, "body"},
		{"trailing bracket", "POST /pseudonymize", `{"phones":["1"]}]`, "body"},
		{"long jurisdiction", "POST /pseudonymize", `{"reason":"test","phones":["1"],"jurisdiction":"` + strings.Repeat("x", 65) + `"}`, "jurisdiction"},
		{"request ID with a slash", "POST /pseudonymize", `{"phones":["1"],"requestId":"../r"}`, "requestId"},
		{"correction without set", "POST /corrections", `{"reason":"test","phones":["1"],"confirm":true}`, "set"},
		{"correction with an empty set", "POST /corrections", `{"reason":"test","phones":["1"],"set":{}}`, "set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, inv := &fakeErasures{}, &fakeInvoker{}
			resp := call(t, newRoutes(e, inv), tc.route, supervisor, func(ev *events.APIGatewayV2HTTPRequest) {
				ev.Body = tc.body
			})
			var got struct{ Error string }
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(got.Error, tc.field+": ") {
				t.Fatalf("%s = %d %.200s, want 400 naming %s", tc.route, resp.StatusCode, resp.Body, tc.field)
			}
			if len(e.previewed)+len(e.started)+len(inv.calls) > 0 {
				t.Fatal("a rejected body reached the erasure service")
			}
			parse := ParsePseudonymizeBody
			if tc.route == "POST /corrections" {
				parse = ParseCorrectionBody
			}
			_, _, err := parse(tc.body)
			if ve, ok := err.(*veil.ValidationError); !ok || ve.Field != tc.field {
				t.Fatalf("parse error = %#v, want a *veil.ValidationError on %s", err, tc.field)
			}
		})
	}
}

// The erasure service's own checks (a new value or an identifier that
// does not parse, an unknown strategy) are 400s naming the field, before
// anything is searched: here the real erasure.Service, with no stores.
func TestErasureValidationIs400(t *testing.T) {
	svc := ErasureService{&erasure.Service{Region: "US", Secret: []byte("k")}}
	tests := []struct {
		name, route, body, field string
	}{
		{"new phone does not parse", "POST /corrections", `{"reason":"test","emails":["a@example.com"],"set":{"phone":"12"}}`, "set.phone"},
		{"new email is not one", "POST /corrections", `{"reason":"test","emails":["a@example.com"],"set":{"email":"not mail"},"confirm":true}`, "set.email"},
		{"not a kind", "POST /corrections", `{"reason":"test","emails":["a@example.com"],"set":{"favourite_color":"red"}}`, "set"},
		{"identifier does not parse", "POST /pseudonymize", `{"reason":"test","phones":["12"]}`, "phones[0]"},
		{"unknown strategy", "POST /pseudonymize", `{"reason":"test","phones":["(212) 555-0147"],"strategy":"shred","confirm":true}`, "strategy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := &fakeInvoker{}
			resp := call(t, newRoutes(svc, inv), tc.route, supervisor, func(ev *events.APIGatewayV2HTTPRequest) {
				ev.Body = tc.body
			})
			var got struct{ Error string }
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(got.Error, tc.field+": ") {
				t.Fatalf("%s = %d %s, want 400 naming %s", tc.route, resp.StatusCode, resp.Body, tc.field)
			}
			if len(inv.calls) != 0 {
				t.Fatal("an invalid job was invoked")
			}
		})
	}
}

func TestGetJob(t *testing.T) {
	var ev events.APIGatewayV2HTTPRequest
	lambdafntest.Decode(t, "pseudonymize/apigw-get-pseudonymize-job.json", &ev)
	h := newRoutes(&fakeErasures{}, &fakeInvoker{})
	tests := []struct {
		name, id   string
		wantStatus int
		wantCert   bool
	}{
		{"ended", "job-done", http.StatusOK, true},
		{"queued correction", "job-queued", http.StatusOK, false},
		{"unknown", "job-ffffffffffffffffffff", http.StatusNotFound, false},
		{"invalid", "../../etc", http.StatusBadRequest, false},
		{"missing", "", http.StatusBadRequest, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev.PathParameters = map[string]string{"jobId": tc.id}
			resp := h.router().Handle(context.Background(), ev)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("GET /pseudonymize/%s = %d %s, want %d", tc.id, resp.StatusCode, resp.Body, tc.wantStatus)
			}
			if tc.wantStatus != http.StatusOK {
				return
			}
			var got struct {
				JobID       string `json:"jobId"`
				Status      string
				Totals      struct{ RowsEdited int64 }
				Certificate map[string]string
			}
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || got.JobID != tc.id {
				t.Fatalf("body = %s (%v), want job %s", resp.Body, err, tc.id)
			}
			if !tc.wantCert {
				if got.Certificate != nil {
					t.Fatalf("certificate = %v, want none before the job ends", got.Certificate)
				}
				return
			}
			keys := erasure.CertificateKeys(tc.id)
			if len(got.Certificate) != 2 || !strings.Contains(got.Certificate["json"], keys.JSON+"?name=certificate-job-done.json") ||
				!strings.Contains(got.Certificate["pdf"], keys.PDF+"?name=certificate-job-done.pdf") || got.Totals.RowsEdited != 1 {
				t.Fatalf("body = %s, want the job's totals and presigned links to its JSON and PDF certificate", resp.Body)
			}
		})
	}
}

// Logs carry IDs, never a consumer's identifiers or new values.
func TestJobRoutesLogNoIdentifiers(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	h := newRoutes(&fakeErasures{}, &fakeInvoker{})
	for _, body := range []string{
		`{"phones":["(212) 555-0147"],"emails":["maria@example.com"],"requestId":"r-9"}`,
		`{"phones":["(212) 555-0147"],"emails":["maria@example.com"],"requestId":"r-9","confirm":true}`,
	} {
		for _, route := range []string{"POST /pseudonymize", "POST /corrections"} {
			b := body
			if route == "POST /corrections" {
				b = strings.Replace(body, `"requestId"`, `"set":{"last_name":"Ortega-Ruiz"},"requestId"`, 1)
			}
			if resp := call(t, h, route, supervisor, func(ev *events.APIGatewayV2HTTPRequest) { ev.Body = b }); resp.StatusCode >= 300 {
				t.Fatalf("%s = %d %s", route, resp.StatusCode, resp.Body)
			}
		}
	}
	out := logs.String()
	if !strings.Contains(out, `"privacyRequest":"r-9"`) || !strings.Contains(out, `"jobId":"job-`) {
		t.Fatalf("logs lack the request and job IDs:\n%s", out)
	}
	for _, secret := range []string{"555", "0147", "maria", "Ortega"} {
		if strings.Contains(out, secret) {
			t.Fatalf("logs hold %q:\n%s", secret, out)
		}
	}
}

// FuzzPseudonymizeBody: any body is a job request of one to
// httpapi.MaxIdentifiers non-blank identifiers, or a *veil.ValidationError
// naming a field that never quotes the body; never a panic. Both routes'
// parsers.
func FuzzPseudonymizeBody(f *testing.F) {
	for _, s := range []string{
		`{"phones":["(212) 555-0147"],"jurisdiction":"CCPA","confirm":true}`,
		`{"emails":["a@b.c"],"customerIds":["x"],"strategy":"hmac","requestId":"r-1"}`,
		`{"accountNumbers":["9"],"set":{"email":"new@example.com","last_name":"Ortega-Ruiz"},"confirm":true}`,
		`{}`, `{"phones":[1]}`, `{"set":null}`, `{"phones":["1"]}]`, "\x00", `null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for op, parse := range map[string]func(string) (erasure.Request, bool, error){
			erasure.Erasure: ParsePseudonymizeBody, erasure.Correction: ParseCorrectionBody,
		} {
			r, _, err := parse(body)
			if err == nil {
				if r.Operation != op || len(r.Identifiers) == 0 || len(r.Identifiers) > httpapi.MaxIdentifiers {
					t.Fatalf("%s: accepted %+v", op, r)
				}
				for _, id := range r.Identifiers {
					if strings.TrimSpace(id.Value) == "" || id.Field == "" {
						t.Fatalf("%s: accepted identifier %+v", op, id)
					}
				}
				if (op == erasure.Correction) != (r.Correction != nil) || (r.Correction != nil && len(r.Correction.Set) == 0) {
					t.Fatalf("%s: correction %+v", op, r.Correction)
				}
				if r.RequestID != "" && !erasure.ValidID(r.RequestID) {
					t.Fatalf("%s: request ID %q accepted", op, r.RequestID)
				}
				continue
			}
			ve, ok := err.(*veil.ValidationError)
			if !ok || ve.Field == "" {
				t.Fatalf("%s: error = %#v, want a validation error naming a field", op, err)
			}
			if len(body) >= 8 && strings.Contains(ve.Error(), body) {
				t.Fatalf("%s: error %q quotes the body", op, ve.Error())
			}
		}
	})
}

// TestRouteSet: the function serves the job routes, and only them.
func TestRouteSet(t *testing.T) {
	want := []string{"GET /pseudonymize/{jobId}", "POST /corrections", "POST /pseudonymize", "POST /pseudonymize/{jobId}/confirm"}
	if got := slices.Sorted(maps.Keys(newRoutes(&fakeErasures{}, &fakeInvoker{}).RouteKeys())); !slices.Equal(got, want) {
		t.Fatalf("routes = %v, want %v", got, want)
	}
}

// fakeOptOuts is a pure fake of OptOuts: it records the requests it was
// asked to suppress and adds two entries for each.
type fakeOptOuts struct{ ids []string }

func (f *fakeOptOuts) OptOut(_ context.Context, id string, _ time.Time) (int, error) {
	f.ids = append(f.ids, id)
	return 2, nil
}

// TestOptOutStep: the sample opt-out step runs the request's opt-out and
// answers the count; any other step, or one without its request or time,
// is refused unwrapped.
func TestOptOutStep(t *testing.T) {
	o := &fakeOptOuts{}
	h := &Handler{OptOuts: o}
	out, err := h.Handle(context.Background(), lambdafntest.Event(t, "pseudonymize/sfn-opt-out-step.json"))
	if got, ok := out.(tasks.OptOutOutput); err != nil || !ok || got.Suppressed != 2 || len(o.ids) != 1 || o.ids[0] != "req-01HQ7Z3K8M2N4P6R8T0V2X4Z6B" {
		t.Fatalf("opt-out step = %+v, %v (asked %v), want 2 entries for the sample request", out, err, o.ids)
	}
	for _, raw := range []string{`{"step":"complete","requestId":"r","at":"2026-03-02T14:03:11Z"}`, `{"step":"optOut","at":"2026-03-02T14:03:11Z"}`, `{"step":"optOut","requestId":"r"}`} {
		if _, err := h.Handle(context.Background(), json.RawMessage(raw)); !errors.As(err, new(*veil.ValidationError)) {
			t.Errorf("Handle(%s) error = %v, want a *veil.ValidationError", raw, err)
		}
	}
}

// TestSampleEvents: every sample event of events/pseudonymize/ is one the
// function handles: a route it serves, a job, a workflow task or step.
func TestSampleEvents(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(lambdafntest.Root(t), "events", "pseudonymize", "*.json"))
	if len(paths) == 0 {
		t.Fatal("no sample events under events/pseudonymize/")
	}
	for _, p := range paths {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			h := &Handler{Jobs: fakeJobs{}, OptOuts: &fakeOptOuts{}, Erasures: &fakeErasures{}, Invoker: &fakeInvoker{}, Self: self}
			out, err := h.Handle(context.Background(), lambdafntest.Event(t, "pseudonymize/"+name))
			if strings.HasPrefix(name, "apigw-") {
				resp, ok := out.(events.APIGatewayV2HTTPResponse)
				if err != nil || !ok || resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
					t.Fatalf("Handle = %+v, %v; want the route served to its sample caller", out, err)
				}
				return
			}
			var ve *veil.ValidationError
			if errors.As(err, &ve) && (ve.Field == "event" || ve.Field == "step") {
				t.Fatalf("Handle = %v, want the event handled", err)
			}
		})
	}
}

// fakeJobs is a pure fake of Jobs: every job starts and completes.
type fakeJobs struct{}

func (fakeJobs) Start(_ context.Context, id string, r erasure.Request) (erasure.Job, error) {
	return erasure.Job{ID: id, Status: erasure.StatusCompleted}, nil
}

func (fakeJobs) Run(_ context.Context, id string) (erasure.Job, error) {
	return erasure.Job{ID: id, Status: erasure.StatusCompleted}, nil
}

func (fakeJobs) Abandon(_ context.Context, id, reason string) (erasure.Job, error) {
	return erasure.Job{ID: id, Status: erasure.StatusFailed, Error: reason}, nil
}

// A confirmed job outside a privacy request waits for a second person:
// held, not invoked; its requester's confirmation is 403, another
// supervisor's 202 and the job is invoked.
func TestTwoPersonConfirmation(t *testing.T) {
	e, inv := &fakeErasures{}, &fakeInvoker{}
	h := newRoutes(e, inv)
	resp := call(t, h, "POST /pseudonymize", roleClaims(auth.Supervisor), func(ev *events.APIGatewayV2HTTPRequest) {
		ev.Body = `{"phones":["(212) 555-0147"],"reason":"list owner asked","confirm":true}`
	})
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(resp.Body, `"status":"awaiting_confirmation"`) {
		t.Fatalf("POST /pseudonymize = %d %s, want 202 awaiting_confirmation", resp.StatusCode, resp.Body)
	}
	if len(inv.calls) != 0 {
		t.Fatalf("invocations = %d, want 0 before the confirmation", len(inv.calls))
	}
	for _, tc := range []struct {
		name    string
		claims  map[string]string
		status  int
		invokes int
	}{
		{"the requester", map[string]string{"sub": "sup-1", "cognito:groups": "[supervisor]"}, http.StatusForbidden, 0},
		{"an agent", map[string]string{"sub": "agent-2", "cognito:groups": "[agent]"}, http.StatusForbidden, 0},
		{"another supervisor", map[string]string{"sub": "sup-2", "cognito:groups": "[supervisor]"}, http.StatusAccepted, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := call(t, h, "POST /pseudonymize/{jobId}/confirm", tc.claims, func(ev *events.APIGatewayV2HTTPRequest) {
				ev.PathParameters = map[string]string{"jobId": "job-held"}
				ev.Body = ""
			})
			if resp.StatusCode != tc.status || len(inv.calls) != tc.invokes {
				t.Fatalf("confirm = %d %s with %d invocations, want %d with %d", resp.StatusCode, resp.Body, len(inv.calls), tc.status, tc.invokes)
			}
		})
	}
}
