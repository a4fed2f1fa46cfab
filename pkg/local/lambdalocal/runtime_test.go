// The runtime must report errors as aws-lambda-go does on AWS (Step
// Functions' Catch matches on errorType) and serve the Invoke API so that the
// AWS SDK's Lambda client reads its answers.
package lambdalocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/veil-privacy/veil/pkg/veil"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// valueError is an error whose dynamic type is not a pointer.
type valueError struct{ msg string }

func (e valueError) Error() string { return e.msg }

func newRuntime(t *testing.T) *Runtime {
	t.Helper()
	r := New("us-east-1", "000000000000", quiet)
	t.Cleanup(r.Wait)
	return r
}

func TestInvokeErrorType(t *testing.T) {
	tests := []struct {
		name        string
		handler     any
		wantType    string
		wantMessage string
	}{{
		name:        "errors.New",
		handler:     func() error { return errors.New("boom") },
		wantType:    "errorString",
		wantMessage: "boom",
	}, {
		name:        "fmt.Errorf without %w",
		handler:     func() error { return fmt.Errorf("bad %d", 7) },
		wantType:    "errorString",
		wantMessage: "bad 7",
	}, {
		name:        "fmt.Errorf with %w",
		handler:     func() error { return fmt.Errorf("search: %w", veil.ErrNotFound) },
		wantType:    "wrapError",
		wantMessage: "search: not found",
	}, {
		name:        "fmt.Errorf wrapping a named type hides it",
		handler:     func() error { return fmt.Errorf("search: %w", veil.Invalid("phone", "too short")) },
		wantType:    "wrapError",
		wantMessage: "search: phone: too short",
	}, {
		name:        "ValidationError returned unwrapped",
		handler:     func(context.Context) (string, error) { return "", veil.Invalid("phone", "too short") },
		wantType:    "ValidationError",
		wantMessage: "phone: too short",
	}, {
		name:        "NotImplementedError",
		handler:     func() error { return &veil.NotImplementedError{Capability: "PDF export"} },
		wantType:    "NotImplementedError",
		wantMessage: "PDF export is not implemented in this version of Veil",
	}, {
		name:        "errors.Join",
		handler:     func() error { return errors.Join(errors.New("a"), errors.New("b")) },
		wantType:    "joinError",
		wantMessage: "a\nb",
	}, {
		name:        "value error type",
		handler:     func() error { return valueError{"by value"} },
		wantType:    "valueError",
		wantMessage: "by value",
	}, {
		name:        "panic with a string",
		handler:     func() error { panic("kaput") },
		wantType:    "string",
		wantMessage: "kaput",
	}, {
		name:        "panic with an error",
		handler:     func() error { panic(errors.New("kaput")) },
		wantType:    "errorString",
		wantMessage: "kaput",
	}, {
		name:        "panic with a named error",
		handler:     func() error { panic(veil.Invalid("f", "r")) },
		wantType:    "ValidationError",
		wantMessage: "f: r",
	}, {
		name: "runtime error panic",
		handler: func() error {
			var x any = 1
			_ = x.(string)
			return nil
		},
		wantType:    "TypeAssertionError",
		wantMessage: "interface conversion: interface {} is int, not string",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t)
			r.Register("Fn", tc.handler, time.Second)
			out, err := r.Invoke(context.Background(), "Fn", []byte(`{}`))
			if out != nil {
				t.Fatalf("Invoke output = %s, want none", out)
			}
			var fe *FunctionError
			if !errors.As(err, &fe) {
				t.Fatalf("Invoke error = %v (%T), want *FunctionError", err, err)
			}
			if fe.Type != tc.wantType {
				t.Fatalf("errorType = %q, want %q", fe.Type, tc.wantType)
			}
			if fe.Message != tc.wantMessage {
				t.Fatalf("errorMessage = %q, want %q", fe.Message, tc.wantMessage)
			}
			if got, want := fe.Error(), tc.wantType+": "+tc.wantMessage; got != want {
				t.Fatalf("Error() = %q, want %q", got, want)
			}
		})
	}
}

func ExampleRuntime_Invoke() {
	r := New("us-east-1", "000000000000", slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.Register("Search", func(ctx context.Context, in struct{ Phone string }) (string, error) {
		if in.Phone == "" {
			return "", veil.Invalid("phone", "missing")
		}
		return "found " + in.Phone, nil
	}, time.Second)

	out, err := r.Invoke(context.Background(), "Search", []byte(`{"Phone":"+15550100"}`))
	fmt.Println(string(out), err)
	_, err = r.Invoke(context.Background(), "Search", []byte(`{}`))
	fmt.Println(err)
	// Output:
	// "found +15550100" <nil>
	// ValidationError: phone: missing
}

func TestInvokeResult(t *testing.T) {
	type in struct {
		N int `json:"n"`
	}
	type out struct {
		Double int `json:"double"`
	}
	r := newRuntime(t)
	r.Register("Double", func(_ context.Context, v in) (out, error) { return out{v.N * 2}, nil }, time.Second)
	tests := []struct {
		name, payload, want string
		wantErrType         string
	}{
		{name: "result as JSON", payload: `{"n":21}`, want: `{"double":42}`},
		{name: "unknown fields ignored", payload: `{"n":1,"x":true}`, want: `{"double":2}`},
		{name: "payload of the wrong shape", payload: `{"n":"one"}`, wantErrType: "UnmarshalTypeError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Invoke(context.Background(), "Double", []byte(tc.payload))
			if tc.wantErrType != "" {
				var fe *FunctionError
				if !errors.As(err, &fe) || fe.Type != tc.wantErrType {
					t.Fatalf("Invoke error = %v, want errorType %s", err, tc.wantErrType)
				}
				return
			}
			if err != nil {
				t.Fatalf("Invoke error = %v", err)
			}
			if strings.TrimSpace(string(got)) != tc.want {
				t.Fatalf("Invoke = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestInvokeContext(t *testing.T) {
	r := newRuntime(t)
	type seen struct {
		RequestID, ARN string
		Deadline       time.Duration
	}
	r.Register("Ctx", func(ctx context.Context) (seen, error) {
		lc, ok := lambdacontext.FromContext(ctx)
		if !ok {
			return seen{}, errors.New("no lambda context")
		}
		dl, ok := ctx.Deadline()
		if !ok {
			return seen{}, errors.New("no deadline")
		}
		return seen{RequestID: lc.AwsRequestID, ARN: lc.InvokedFunctionArn, Deadline: time.Until(dl)}, nil
	}, 0)
	ids := map[string]bool{}
	for _, ref := range []string{"Ctx", "arn:aws:lambda:us-east-1:000000000000:function:Ctx"} {
		out, err := r.Invoke(context.Background(), ref, nil)
		if err != nil {
			t.Fatalf("Invoke(%s) error = %v", ref, err)
		}
		var s seen
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatalf("Invoke(%s) output %s: %v", ref, out, err)
		}
		if s.RequestID == "" || ids[s.RequestID] {
			t.Fatalf("AwsRequestID = %q, want a new one per invocation (seen %v)", s.RequestID, ids)
		}
		ids[s.RequestID] = true
		if want := "arn:aws:lambda:us-east-1:000000000000:function:Ctx"; s.ARN != want {
			t.Fatalf("InvokedFunctionArn = %q, want %q", s.ARN, want)
		}
		// A zero timeout means Lambda's default of 3 seconds.
		if s.Deadline <= 2*time.Second || s.Deadline > 3*time.Second {
			t.Fatalf("time left at start = %v, want just under 3s", s.Deadline)
		}
	}
}

func TestInvokeTimeout(t *testing.T) {
	r := newRuntime(t)
	const timeout = 30 * time.Millisecond
	r.Register("Slow", func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}, timeout)
	start := time.Now()
	_, err := r.Invoke(context.Background(), "Slow", nil)
	if elapsed := time.Since(start); elapsed < timeout {
		t.Fatalf("Invoke returned after %v, before the %v timeout", elapsed, timeout)
	}
	var fe *FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("Invoke error = %v, want *FunctionError", err)
	}
	if want := (FunctionError{Type: "deadlineExceededError", Message: "context deadline exceeded"}); *fe != want {
		t.Fatalf("Invoke error = %+v, want %+v", *fe, want)
	}

	// The caller's cancellation reaches the handler too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = r.Invoke(ctx, "Slow", nil)
	if want := (FunctionError{Type: "errorString", Message: "context canceled"}); !errors.As(err, &fe) || *fe != want {
		t.Fatalf("Invoke with a cancelled context error = %v, want %v", err, &want)
	}
}

func TestLookup(t *testing.T) {
	r := newRuntime(t)
	r.Register("Search", func() (string, error) { return "ok", nil }, time.Second)
	r.Register("Export", func() (string, error) { return "ok", nil }, time.Second)
	tests := []struct {
		ref   string
		found bool
	}{
		{ref: "Search", found: true},
		{ref: "arn:aws:lambda:us-east-1:000000000000:function:Search", found: true},
		{ref: "arn:aws:lambda:us-east-1:000000000000:function:Search:$LATEST", found: true},
		{ref: "000000000000:function:Search", found: true},
		{ref: "Search:live", found: true},
		{ref: "search", found: false},
		{ref: "Pseudonymize", found: false},
		{ref: "arn:aws:lambda:us-east-1:000000000000:function:Nope", found: false},
		{ref: "", found: false},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			_, err := r.Invoke(context.Background(), tc.ref, nil)
			if got := !errors.Is(err, ErrFunctionNotFound); got != tc.found {
				t.Fatalf("Invoke(%q) error = %v, want found = %v", tc.ref, err, tc.found)
			}
			if err := r.InvokeAsync(tc.ref, nil); errors.Is(err, ErrFunctionNotFound) == tc.found {
				t.Fatalf("InvokeAsync(%q) error = %v, want found = %v", tc.ref, err, tc.found)
			}
		})
	}
	r.Wait()
	if got, want := strings.Join(r.Names(), ","), "Export,Search"; got != want {
		t.Fatalf("Names() = %s, want %s", got, want)
	}
	if got, want := r.ARN("Search"), "arn:aws:lambda:us-east-1:000000000000:function:Search"; got != want {
		t.Fatalf("ARN = %s, want %s", got, want)
	}
}

func TestInvokeAsyncAndWait(t *testing.T) {
	r := newRuntime(t)
	got := make(chan string, 3)
	r.Register("Async", func(_ context.Context, in struct{ N int }) error {
		got <- fmt.Sprint(in.N)
		return nil
	}, time.Second)
	for i := range 3 {
		if err := r.InvokeAsync("Async", []byte(fmt.Sprintf(`{"N":%d}`, i))); err != nil {
			t.Fatalf("InvokeAsync error = %v", err)
		}
	}
	r.Wait()
	if n := len(got); n != 3 {
		t.Fatalf("after Wait %d invocations finished, want 3", n)
	}
}

// An invocation that starts another is waited for too, and a wait ends
// with its context.
func TestWaitAsyncFollowsChains(t *testing.T) {
	r := newRuntime(t)
	gate := make(chan struct{})
	var done atomic.Int32
	r.Register("Chain", func(_ context.Context, in struct{ N int }) error {
		// Every link waits for the gate: each one after the first is
		// started by the one before, once the gate opens, while a wait
		// may already be under way.
		<-gate
		if in.N > 0 {
			_ = r.InvokeAsync("Chain", []byte(fmt.Sprintf(`{"N":%d}`, in.N-1)))
		}
		done.Add(1)
		return nil
	}, 5*time.Second)
	if err := r.InvokeAsync("Chain", []byte(`{"N":3}`)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.WaitAsync(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitAsync with the first invocation blocked = %v, want the context's deadline", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- r.WaitAsync(context.Background()) }()
	close(gate)
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if n, started := done.Load(), r.AsyncStarted(); n != 4 || started != 4 {
		t.Fatalf("after WaitAsync %d of %d invocations finished, want 4 of 4", n, started)
	}
}

// handlers registers the functions the HTTP tests call.
func handlers(t *testing.T) (*Runtime, chan string) {
	t.Helper()
	r := newRuntime(t)
	events := make(chan string, 10)
	r.Register("Echo", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil }, time.Second)
	r.Register("Fail", func() error { return veil.Invalid("request", "no subject") }, time.Second)
	r.Register("Event", func(_ context.Context, in json.RawMessage) error {
		events <- string(in)
		return nil
	}, time.Second)
	return r, events
}

func TestServeHTTP(t *testing.T) {
	r, events := handlers(t)
	srv := httptest.NewServer(r)
	defer srv.Close()
	tests := []struct {
		name, method, path, invocationType, body string
		wantStatus                               int
		wantBody                                 string // for JSON bodies compared as JSON
		wantFunctionError, wantErrorType         string
	}{
		{name: "request response", method: "POST", path: "/2015-03-31/functions/Echo/invocations", body: `{"a":[1,2]}`,
			wantStatus: 200, wantBody: `{"a":[1,2]}`},
		{name: "empty payload is an empty object", method: "POST", path: "/2015-03-31/functions/Echo/invocations",
			wantStatus: 200, wantBody: `{}`},
		{name: "by ARN", method: "POST", path: "/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:Echo/invocations", body: `1`,
			wantStatus: 200, wantBody: `1`},
		{name: "function error", method: "POST", path: "/2015-03-31/functions/Fail/invocations", body: `{}`,
			wantStatus: 200, wantBody: `{"errorType":"ValidationError","errorMessage":"request: no subject"}`, wantFunctionError: "Unhandled"},
		{name: "event", method: "POST", path: "/2015-03-31/functions/Event/invocations", invocationType: "Event", body: `{"e":1}`,
			wantStatus: 202},
		{name: "dry run", method: "POST", path: "/2015-03-31/functions/Echo/invocations", invocationType: "DryRun", body: `{}`,
			wantStatus: 204},
		{name: "unknown function", method: "POST", path: "/2015-03-31/functions/Nope/invocations", body: `{}`,
			wantStatus: 404, wantErrorType: "ResourceNotFoundException"},
		{name: "unknown operation", method: "GET", path: "/2015-03-31/functions/Echo", wantStatus: 404, wantErrorType: "ResourceNotFoundException"},
		{name: "GET of invocations", method: "GET", path: "/2015-03-31/functions/Echo/invocations", wantStatus: 404, wantErrorType: "ResourceNotFoundException"},
		{name: "payload is not JSON", method: "POST", path: "/2015-03-31/functions/Echo/invocations", body: `{nope`,
			wantStatus: 400, wantErrorType: "InvalidRequestContentException"},
		{name: "payload over 6 MB", method: "POST", path: "/2015-03-31/functions/Echo/invocations", body: `"` + strings.Repeat("x", 6<<20) + `"`,
			wantStatus: 413, wantErrorType: "RequestTooLargeException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.invocationType != "" {
				req.Header.Set("X-Amz-Invocation-Type", tc.invocationType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tc.wantStatus, body)
			}
			if got := resp.Header.Get("X-Amz-Function-Error"); got != tc.wantFunctionError {
				t.Fatalf("X-Amz-Function-Error = %q, want %q", got, tc.wantFunctionError)
			}
			if got := resp.Header.Get("X-Amzn-ErrorType"); got != tc.wantErrorType {
				t.Fatalf("X-Amzn-ErrorType = %q, want %q", got, tc.wantErrorType)
			}
			if tc.wantErrorType != "" {
				var e struct{ Type, Message string }
				if err := json.Unmarshal(body, &e); err != nil || e.Message == "" {
					t.Fatalf("error body = %s, want a JSON error with a Message", body)
				}
			}
			if tc.wantBody != "" && !jsonEqual(body, []byte(tc.wantBody)) {
				t.Fatalf("body = %s, want %s", body, tc.wantBody)
			}
			if tc.wantBody == "" && tc.wantErrorType == "" && len(body) != 0 {
				t.Fatalf("body = %s, want none", body)
			}
		})
	}
	r.Wait()
	select {
	case got := <-events:
		if !jsonEqual([]byte(got), []byte(`{"e":1}`)) {
			t.Fatalf("Event invocation payload = %s, want %s", got, `{"e":1}`)
		}
	default:
		t.Fatalf("the Event invocation never ran")
	}
	if n := len(events); n != 0 {
		t.Fatalf("%d more Event invocations ran, want none (DryRun must not invoke)", n)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// TestSDKClient proves that the AWS SDK's Lambda client reads the local
// Invoke API as it reads Lambda's.
func TestSDKClient(t *testing.T) {
	r, events := handlers(t)
	srv := httptest.NewServer(r)
	defer srv.Close()
	client := lambda.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "SECRETLOCAL", ""),
	}, func(o *lambda.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()

	tests := []struct {
		name, function    string
		invocationType    types.InvocationType
		wantStatus        int32
		wantFunctionError string
		wantPayload       string
	}{
		{name: "by name", function: "Echo", wantStatus: 200, wantPayload: `{"hello":"world"}`},
		{name: "by ARN", function: r.ARN("Echo"), wantStatus: 200, wantPayload: `{"hello":"world"}`},
		{name: "function error", function: "Fail", wantStatus: 200, wantFunctionError: "Unhandled",
			wantPayload: `{"errorType":"ValidationError","errorMessage":"request: no subject"}`},
		{name: "event", function: "Event", invocationType: types.InvocationTypeEvent, wantStatus: 202},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(tc.function),
				InvocationType: tc.invocationType, Payload: []byte(`{"hello":"world"}`)})
			if err != nil {
				t.Fatalf("Invoke error = %v", err)
			}
			if out.StatusCode != tc.wantStatus {
				t.Fatalf("StatusCode = %d, want %d", out.StatusCode, tc.wantStatus)
			}
			if got := aws.ToString(out.FunctionError); got != tc.wantFunctionError {
				t.Fatalf("FunctionError = %q, want %q", got, tc.wantFunctionError)
			}
			if tc.wantPayload != "" && !jsonEqual(out.Payload, []byte(tc.wantPayload)) {
				t.Fatalf("Payload = %s, want %s", out.Payload, tc.wantPayload)
			}
			if tc.wantStatus == 200 && aws.ToString(out.ExecutedVersion) != "$LATEST" {
				t.Fatalf("ExecutedVersion = %q, want $LATEST", aws.ToString(out.ExecutedVersion))
			}
		})
	}
	r.Wait()
	if got := <-events; !jsonEqual([]byte(got), []byte(`{"hello":"world"}`)) {
		t.Fatalf("Event payload = %s, want %s", got, `{"hello":"world"}`)
	}

	_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("Nope"), Payload: []byte(`{}`)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("Invoke of an unknown function error = %v (%T), want *types.ResourceNotFoundException", err, err)
	}
	if !strings.Contains(nf.ErrorMessage(), "function:Nope") {
		t.Fatalf("ResourceNotFoundException message = %q, want the function's ARN", nf.ErrorMessage())
	}
}

// jobFailed is a business error an asynchronous handler returns.
type jobFailed struct{}

func (jobFailed) Error() string { return "job failed" }

// TestInvokeAsyncRetriesThenDestination: an Event invocation whose handler
// fails is tried 1 + MaximumRetryAttempts times, then its event goes to the
// on-failure destination in the record AWS documents (a function that
// succeeds on a retry sends nothing).
func TestInvokeAsyncRetriesThenDestination(t *testing.T) {
	two, zero := 2, 0
	cases := []struct {
		name        string
		retries     *int
		failures    int32 // attempts that fail before one succeeds
		wantCalls   int32
		wantRecords int
	}{
		{"default retries, always failing", nil, 99, 3, 1},
		{"two retries, always failing", &two, 99, 3, 1},
		{"no retries", &zero, 99, 1, 1},
		{"succeeds on the second try", &two, 1, 2, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t)
			var calls atomic.Int32
			r.Register("Job", func(_ context.Context, in struct {
				JobID string `json:"jobId"`
			}) error {
				if calls.Add(1) <= tc.failures {
					return jobFailed{}
				}
				return nil
			}, time.Second)
			records := make(chan []byte, 4)
			if err := r.SetAsync("Job", AsyncConfig{MaximumRetryAttempts: tc.retries, OnFailure: func(b []byte) { records <- b }}); err != nil {
				t.Fatal(err)
			}
			if err := r.InvokeAsync("Job", []byte(`{"jobId":"job-1"}`)); err != nil {
				t.Fatal(err)
			}
			r.Wait()
			close(records)
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("attempts = %d, want %d", got, tc.wantCalls)
			}
			var got []map[string]any
			for b := range records {
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				got = append(got, m)
			}
			if len(got) != tc.wantRecords {
				t.Fatalf("destination records = %d, want %d", len(got), tc.wantRecords)
			}
			if tc.wantRecords == 0 {
				return
			}
			rec := got[0]
			ctx, _ := rec["requestContext"].(map[string]any)
			payload, _ := rec["requestPayload"].(map[string]any)
			resp, _ := rec["responsePayload"].(map[string]any)
			respCtx, _ := rec["responseContext"].(map[string]any)
			checks := []struct{ field, got, want string }{
				{"version", fmt.Sprint(rec["version"]), "1.0"},
				{"condition", fmt.Sprint(ctx["condition"]), "RetriesExhausted"},
				{"approximateInvokeCount", fmt.Sprint(ctx["approximateInvokeCount"]), fmt.Sprint(tc.wantCalls)},
				{"functionArn", fmt.Sprint(ctx["functionArn"]), "arn:aws:lambda:us-east-1:000000000000:function:Job:$LATEST"},
				{"requestPayload.jobId", fmt.Sprint(payload["jobId"]), "job-1"},
				{"responseContext.functionError", fmt.Sprint(respCtx["functionError"]), "Unhandled"},
				{"responsePayload.errorType", fmt.Sprint(resp["errorType"]), "jobFailed"},
				{"responsePayload.errorMessage", fmt.Sprint(resp["errorMessage"]), "job failed"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
				}
			}
		})
	}
}
