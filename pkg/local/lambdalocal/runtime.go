// Package lambdalocal runs Veil's Lambda handlers in process for the local
// stack, reporting results and errors exactly as the Go runtime does on AWS
// (errorType is the Go type name of the returned error), and serves the
// Lambda Invoke API on the edge.
package lambdalocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"
)

// FunctionError is a handler's error as the Lambda service reports it.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

// Error returns "Type: Message".
func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// ErrFunctionNotFound is returned by Invoke for a name no function has.
var ErrFunctionNotFound = errors.New("function not found")

// Function is one registered handler.
type Function struct {
	Name    string
	Timeout time.Duration
	handler lambda.Handler
	async   AsyncConfig
}

// AsyncConfig is a function's EventInvokeConfig: how often Lambda retries
// an Event invocation whose handler failed, and where the event goes once
// every attempt has.
type AsyncConfig struct {
	// MaximumRetryAttempts is 0 to 2; nil is Lambda's default, 2.
	MaximumRetryAttempts *int
	// OnFailure receives the destination record of an Event invocation
	// that failed on every attempt (nil: the event is dropped, as on AWS
	// with no destination).
	OnFailure func(record []byte)
}

// DestinationRecord is what Lambda sends an on-failure destination for an
// asynchronous invocation: the original event and the last error, as AWS
// documents it ("Configuring destinations for asynchronous invocation").
type DestinationRecord struct {
	Version        string `json:"version"`
	Timestamp      string `json:"timestamp"`
	RequestContext struct {
		RequestID              string `json:"requestId"`
		FunctionARN            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	RequestPayload  json.RawMessage `json:"requestPayload"`
	ResponseContext struct {
		StatusCode      int    `json:"statusCode"`
		ExecutedVersion string `json:"executedVersion"`
		FunctionError   string `json:"functionError"`
	} `json:"responseContext"`
	ResponsePayload *FunctionError `json:"responsePayload"`
}

// Runtime holds the registered functions.
type Runtime struct {
	Region    string
	AccountID string
	Logger    *slog.Logger

	mu  sync.RWMutex
	fns map[string]*Function

	// async counts Event invocations in flight and started in all; idle
	// is closed while none is in flight. A counter, not a WaitGroup: an
	// invocation may start another, or one may start while a test waits.
	asyncMu sync.Mutex
	async   int
	started uint64
	idle    chan struct{}
}

// New returns an empty runtime.
func New(region, accountID string, logger *slog.Logger) *Runtime {
	if logger == nil {
		logger = slog.Default()
	}
	idle := make(chan struct{})
	close(idle)
	return &Runtime{Region: region, AccountID: accountID, Logger: logger, fns: map[string]*Function{}, idle: idle}
}

// Register adds a handler under name; handler is any function lambda.Start
// accepts.
func (r *Runtime) Register(name string, handler any, timeout time.Duration) {
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fns[name] = &Function{Name: name, Timeout: timeout, handler: lambda.NewHandler(handler)}
}

// SetAsync sets the EventInvokeConfig of the function registered as name;
// it returns ErrFunctionNotFound for an unknown name.
func (r *Runtime) SetAsync(name string, cfg AsyncConfig) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.fns[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrFunctionNotFound, name)
	}
	f.async = cfg
	return nil
}

// Names returns the registered function names, sorted.
func (r *Runtime) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.fns))
	for n := range r.fns {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ARN returns the function ARN of name.
func (r *Runtime) ARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.Region, r.AccountID, name)
}

// lookup accepts a name, a partial ARN (account:function:name) or a full ARN,
// with or without a qualifier.
func (r *Runtime) lookup(ref string) (*Function, bool) {
	name := ref
	if i := strings.Index(ref, "function:"); i >= 0 {
		name = ref[i+len("function:"):]
	}
	name, _, _ = strings.Cut(name, ":")
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.fns[name]
	return f, ok
}

// Invoke runs the function named by ref (name or ARN) with payload and
// returns its JSON result. A handler error or panic comes back as
// *FunctionError; an unknown function as ErrFunctionNotFound.
func (r *Runtime) Invoke(ctx context.Context, ref string, payload []byte) (out []byte, err error) {
	f, ok := r.lookup(ref)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrFunctionNotFound, ref)
	}
	requestID := uuid.NewString()
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       requestID,
		InvokedFunctionArn: r.ARN(f.Name),
	})
	defer func() {
		if p := recover(); p != nil {
			err = &FunctionError{Type: errorType(p), Message: fmt.Sprint(p)}
		}
		if err != nil {
			r.Logger.Warn("function error", "function", f.Name, "requestId", requestID, "error", err)
		}
	}()
	out, err = f.handler.Invoke(ctx, payload)
	if err != nil {
		return nil, toFunctionError(err)
	}
	return out, nil
}

// InvokeAsync runs the function in the background, as an Event invocation:
// a failed attempt is retried as the function's AsyncConfig says (twice by
// default, as on AWS, though at once rather than after a minute), and the
// last failure goes to its on-failure destination.
func (r *Runtime) InvokeAsync(ref string, payload []byte) error {
	f, ok := r.lookup(ref)
	if !ok {
		return fmt.Errorf("%w: %s", ErrFunctionNotFound, ref)
	}
	r.mu.RLock()
	cfg := f.async
	r.mu.RUnlock()
	retries := 2
	if cfg.MaximumRetryAttempts != nil {
		retries = *cfg.MaximumRetryAttempts
	}
	r.asyncMu.Lock()
	if r.async == 0 {
		r.idle = make(chan struct{})
	}
	r.async++
	r.started++
	r.asyncMu.Unlock()
	go func() {
		defer r.asyncDone()
		requestID := uuid.NewString()
		var err error
		for attempt := 0; attempt <= retries; attempt++ {
			if _, err = r.Invoke(context.Background(), ref, payload); err == nil {
				return
			}
		}
		if cfg.OnFailure == nil {
			return
		}
		var rec DestinationRecord
		rec.Version = "1.0"
		rec.Timestamp = time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		rec.RequestContext.RequestID = requestID
		rec.RequestContext.FunctionARN = r.ARN(f.Name) + ":$LATEST"
		rec.RequestContext.Condition = "RetriesExhausted"
		rec.RequestContext.ApproximateInvokeCount = retries + 1
		rec.RequestPayload = payload
		rec.ResponseContext.StatusCode = 200
		rec.ResponseContext.ExecutedVersion = "$LATEST"
		rec.ResponseContext.FunctionError = "Unhandled"
		rec.ResponsePayload = toFunctionError(err)
		b, merr := json.Marshal(rec)
		if merr != nil {
			r.Logger.Error("async destination record", "function", f.Name, "error", merr)
			return
		}
		cfg.OnFailure(b)
	}()
	return nil
}

func (r *Runtime) asyncDone() {
	r.asyncMu.Lock()
	defer r.asyncMu.Unlock()
	r.async--
	if r.async == 0 {
		close(r.idle)
	}
}

// Wait returns when no asynchronous invocation is in flight, including
// any an invocation started.
func (r *Runtime) Wait() { _ = r.WaitAsync(context.Background()) }

// WaitAsync returns when no asynchronous invocation is in flight, or
// ctx's error when ctx ends first.
func (r *Runtime) WaitAsync(ctx context.Context) error {
	for {
		r.asyncMu.Lock()
		idle, n := r.idle, r.async
		r.asyncMu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// AsyncStarted counts the asynchronous invocations started so far: a
// waiter compares it before and after to know nothing new began.
func (r *Runtime) AsyncStarted() uint64 {
	r.asyncMu.Lock()
	defer r.asyncMu.Unlock()
	return r.started
}

func toFunctionError(err error) *FunctionError {
	var fe *FunctionError
	if errors.As(err, &fe) {
		return fe
	}
	return &FunctionError{Type: errorType(err), Message: err.Error()}
}

// errorType names an error as aws-lambda-go does: the name of its Go type,
// through one pointer.
func errorType(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "nil"
	}
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// ServeHTTP serves the Lambda Invoke API:
// POST /2015-03-31/functions/{name}/invocations.
func (r *Runtime) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rest, ok := strings.CutPrefix(req.URL.Path, "/2015-03-31/functions/")
	name, tail, _ := strings.Cut(rest, "/")
	if !ok || tail != "invocations" || req.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, "ResourceNotFoundException", "unsupported Lambda operation "+req.Method+" "+req.URL.Path)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(req.Body, 6<<20+1))
	if err != nil || len(payload) > 6<<20 {
		writeError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "request payload exceeds 6 MB")
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		writeError(w, http.StatusBadRequest, "InvalidRequestContentException", "could not parse request body into json")
		return
	}
	if _, ok := r.lookup(name); !ok {
		writeError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+r.ARN(name))
		return
	}
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	switch req.Header.Get("X-Amz-Invocation-Type") {
	case "Event":
		_ = r.InvokeAsync(name, payload)
		w.WriteHeader(http.StatusAccepted)
		return
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	}
	out, err := r.Invoke(req.Context(), name, payload)
	var fe *FunctionError
	if errors.As(err, &fe) {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		out, _ = json.Marshal(fe)
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "Message": msg, "message": msg})
}
