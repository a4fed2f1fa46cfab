package asl

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// wrapError mimics fmt.Errorf("%w")'s type, which aws-lambda-go reports as
// errorType "wrapError".
func failing(typ, msg string) func(map[string]any) (any, error) {
	return func(map[string]any) (any, error) { return nil, &FunctionError{Type: typ, Message: msg} }
}

// TestRetryAndCatch checks Retry and Catch matching, including AWS's rules
// for States.ALL, States.TaskFailed and States.Runtime.
func TestRetryAndCatch(t *testing.T) {
	tests := []struct {
		name, cite string
		fn         func(map[string]any) (any, error)
		retry      string
		catch      string
		wantStatus Status
		wantOut    string // when succeeded
		wantErr    string // when failed
		wantCalls  int64
	}{
		{
			name: "a Go function error is matched by its type name", cite: "STYLE.md; AWS docs, 'Handling error conditions using a Step Functions state machine' (CustomError)",
			fn: failing("ValidationError", "bad phone"), catch: `[{"ErrorEquals":["ValidationError"],"ResultPath":"$.error-info","Next":"Caught"}]`,
			wantStatus: StatusSucceeded, wantOut: `{"in":1,"error-info":{"Error":"ValidationError","Cause":"{\"errorMessage\":\"bad phone\",\"errorType\":\"ValidationError\"}"}}`, wantCalls: 1,
		},
		{
			name: "States.TaskFailed catches a function error", cite: "AWS docs, 'Error names', States.TaskFailed",
			fn: failing("wrapError", "x"), catch: `[{"ErrorEquals":["States.TaskFailed"],"Next":"Caught"}]`,
			wantStatus: StatusSucceeded, wantOut: `{"Error":"wrapError","Cause":"{\"errorMessage\":\"x\",\"errorType\":\"wrapError\"}"}`, wantCalls: 1,
		},
		{
			name: "retry until MaxAttempts then catch", cite: "ASL spec, 'Retrying after error': MaxAttempts retries, then Catch",
			fn: failing("errorString", "boom"), retry: `[{"ErrorEquals":["errorString"],"MaxAttempts":2}]`, catch: `[{"ErrorEquals":["States.ALL"],"ResultPath":null,"Next":"Caught"}]`,
			wantStatus: StatusSucceeded, wantOut: `{"in":1}`, wantCalls: 3,
		},
		{
			name: "MaxAttempts 0 never retries", cite: "ASL spec, 'Retrying after error': a MaxAttempts of 0 means never retry",
			fn: failing("errorString", "boom"), retry: `[{"ErrorEquals":["States.ALL"],"MaxAttempts":0}]`,
			wantStatus: StatusFailed, wantErr: "errorString", wantCalls: 1,
		},
		{
			name: "the first matching retrier decides", cite: "ASL spec, 'Retrying after error': retriers are examined in order",
			fn: failing("errorString", "boom"), retry: `[{"ErrorEquals":["errorString"],"MaxAttempts":1},{"ErrorEquals":["States.ALL"],"MaxAttempts":5}]`,
			wantStatus: StatusFailed, wantErr: "errorString", wantCalls: 2,
		},
		{
			name: "an unmatched error fails the execution", cite: "ASL spec, 'Fallback states'",
			fn: failing("Other", "o"), catch: `[{"ErrorEquals":["ValidationError"],"Next":"Caught"}]`,
			wantStatus: StatusFailed, wantErr: "Other", wantCalls: 1,
		},
		{
			name: "a service failure is Lambda.ServiceException", cite: "AWS docs, 'Handle transient Lambda service exceptions'",
			fn:    func(map[string]any) (any, error) { return nil, errors.New("connection refused") },
			retry: `[{"ErrorEquals":["Lambda.ServiceException"],"MaxAttempts":1}]`, wantStatus: StatusFailed, wantErr: ErrLambdaService, wantCalls: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			inv := lambdas(map[string]func(map[string]any) (any, error){"F": func(p map[string]any) (any, error) {
				calls.Add(1)
				return tc.fn(p)
			}})
			def := `{"StartAt":"T","States":{"T":{` + task + `F","End":true`
			if tc.retry != "" {
				def += `,"Retry":` + tc.retry
			}
			if tc.catch != "" {
				def += `,"Catch":` + tc.catch
			}
			def += `},"Caught":{"Type":"Pass","End":true}}}`
			info := run(t, def, `{"in":1}`, inv)
			if info.Status != tc.wantStatus {
				t.Fatalf("%s: status = %s (%s: %s), want %s", tc.cite, info.Status, info.Error, info.Cause, tc.wantStatus)
			}
			if tc.wantErr != "" && info.Error != tc.wantErr {
				t.Fatalf("%s: error = %q, want %q", tc.cite, info.Error, tc.wantErr)
			}
			if tc.wantOut != "" && !sameJSON(t, info.Output, tc.wantOut) {
				t.Fatalf("%s: output = %s, want %s", tc.cite, info.Output, tc.wantOut)
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Fatalf("%s: invocations = %d, want %d", tc.cite, got, tc.wantCalls)
			}
		})
	}
}

// TestRuntimeErrorsAreNotCaught follows AWS docs, 'Error names': "A retry or
// catch on States.ALL won't catch States.Runtime errors", and
// States.TaskFailed does not either.
func TestRuntimeErrorsAreNotCaught(t *testing.T) {
	for _, equals := range []string{"States.ALL", "States.TaskFailed", "States.Runtime"} {
		t.Run(equals, func(t *testing.T) {
			def := `{"StartAt":"T","States":{"T":{` + task + `F","InputPath":"$.missing","End":true,
			  "Retry":[{"ErrorEquals":["` + equals + `"]}],"Catch":[{"ErrorEquals":["` + equals + `"],"Next":"C"}]},"C":{"Type":"Succeed"}}}`
			info := run(t, def, `{}`, echoInvoker)
			if info.Status != StatusFailed || info.Error != ErrRuntime {
				t.Fatalf("status, error = %s, %q; want FAILED, States.Runtime", info.Status, info.Error)
			}
		})
	}
}

// TestRetryIntervals checks the retry schedule on the clock, with the ASL
// spec's example retrier ('Retrying after error': IntervalSeconds 3,
// BackoffRate 1.5: "the first after 3 seconds, the second after 4.5
// seconds") and a MaxDelaySeconds cap.
func TestRetryIntervals(t *testing.T) {
	tests := []struct {
		name    string
		retrier string
		want    []time.Duration // delays before each retry
	}{
		{"spec example", `{"ErrorEquals":["States.ALL"],"IntervalSeconds":3,"MaxAttempts":2,"BackoffRate":1.5}`, []time.Duration{3 * time.Second, 4500 * time.Millisecond}},
		{"defaults: 1s, backoff 2, 3 attempts", `{"ErrorEquals":["States.ALL"]}`, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{"MaxDelaySeconds caps", `{"ErrorEquals":["States.ALL"],"IntervalSeconds":10,"BackoffRate":10,"MaxAttempts":3,"MaxDelaySeconds":60}`, []time.Duration{10 * time.Second, 60 * time.Second, 60 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, lambdas(map[string]func(map[string]any) (any, error){"F": failing("errorString", "x")}))
			x := h.start(`{"StartAt":"T","States":{"T":{`+task+`F","End":true,"Retry":[`+tc.retrier+`]}}}`, `{}`)
			h.settle(x)
			var starts []time.Time
			for _, ev := range x.History() {
				if ev.Type == "LambdaFunctionScheduled" {
					starts = append(starts, ev.Timestamp)
				}
			}
			if len(starts) != len(tc.want)+1 {
				t.Fatalf("attempts = %d, want %d", len(starts), len(tc.want)+1)
			}
			for i, want := range tc.want {
				if got := starts[i+1].Sub(starts[i]); got != want {
					t.Errorf("delay before retry %d = %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

// TestTaskTimeouts checks TimeoutSeconds and HeartbeatSeconds on the manual
// clock (ASL spec, 'Task State': States.Timeout and States.HeartbeatTimeout).
func TestTaskTimeouts(t *testing.T) {
	block := invokerFunc(func(ctx context.Context, _ string, p []byte) ([]byte, error) {
		<-ctx.Done() // a Lambda that never answers before it is cancelled
		return nil, ctx.Err()
	})
	tests := []struct {
		name, def string
		inv       Invoker
		blocked   bool // the Lambda never answers, so the engine never idles
		advance   []time.Duration
		wantErr   string
	}{
		{"Lambda TimeoutSeconds", `{"StartAt":"T","States":{"T":{` + task + `F","TimeoutSeconds":30,"End":true}}}`, block, true, []time.Duration{30 * time.Second}, ErrTimeout},
		{"TimeoutSecondsPath", `{"StartAt":"T","States":{"T":{` + task + `F","TimeoutSecondsPath":"$.t","End":true}}}`, block, true, []time.Duration{5 * time.Second}, ErrTimeout},
		{"token HeartbeatSeconds", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"F","Payload":{"t.$":"$$.Task.Token"}},"HeartbeatSeconds":60,"TimeoutSeconds":600,"End":true}}}`, echoInvoker, false, []time.Duration{60 * time.Second}, ErrHeartbeatTimeout},
		{"States.Timeout catches HeartbeatTimeout", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"F","Payload":{"t.$":"$$.Task.Token"}},"HeartbeatSecondsPath":"$.t","End":true,"Catch":[{"ErrorEquals":["States.Timeout"],"Next":"F"}]},"F":{"Type":"Fail","Error":"Caught"}}}`, echoInvoker, false, []time.Duration{5 * time.Second}, "Caught"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.inv)
			x := h.start(tc.def, `{"t":5}`)
			blocked := tc.blocked
			if !blocked {
				h.idle()
			}
			for _, d := range tc.advance {
				h.clock.Advance(d - time.Millisecond)
				if !blocked {
					h.idle()
				}
				if got := x.Info().Status; got != StatusRunning {
					t.Fatalf("status 1ms before the deadline = %s, want RUNNING", got)
				}
				h.clock.Advance(time.Millisecond)
				h.idle()
			}
			if info := x.Info(); info.Status != StatusFailed || info.Error != tc.wantErr {
				t.Fatalf("status, error = %s, %q; want FAILED, %q", info.Status, info.Error, tc.wantErr)
			}
		})
	}
}

// TestFortyFiveDays runs a CCPA-style deadline: a 45-day task-token timeout
// races a Wait in a parallel branch. Both timers live on the manual clock;
// the test jumps 45 days in well under a second and sees them fire in order.
func TestFortyFiveDays(t *testing.T) {
	const day = 24 * time.Hour
	def := func(waitDays int) string {
		return `{"StartAt":"Race","States":{"Race":{"Type":"Parallel","End":true,
		  "Catch":[{"ErrorEquals":["States.Timeout"],"ResultPath":"$.timeout","Next":"TimedOut"}],
		  "Branches":[
		    {"StartAt":"Reminder","States":{"Reminder":{"Type":"Wait","Seconds":` + itoa(waitDays*86400) + `,"Next":"Escalate"},"Escalate":{"Type":"Fail","Error":"Escalated"}}},
		    {"StartAt":"Decide","States":{"Decide":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"F","Payload":{"t.$":"$$.Task.Token"}},"TimeoutSeconds":3888000,"End":true}}}]},
		  "TimedOut":{"Type":"Fail","Error":"DeadlinePassed"}}}`
	}
	tests := []struct {
		name     string
		waitDays int
		wantErr  string
		wantAt   time.Duration
	}{
		{"the 44-day reminder fires first", 44, "Escalated", 44 * day},
		{"the 45-day timeout fires first", 46, "DeadlinePassed", 45 * day},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			begin := time.Now()
			h := newHarness(t, echoInvoker)
			x := h.start(def(tc.waitDays), `{}`)
			h.idle()
			h.clock.Advance(60 * day)
			h.idle()
			info := x.Info()
			if info.Status != StatusFailed || info.Error != tc.wantErr {
				t.Fatalf("status, error = %s, %q; want FAILED, %q", info.Status, info.Error, tc.wantErr)
			}
			if got := info.StopDate.Sub(t0); got != tc.wantAt {
				t.Fatalf("stopped after %v, want %v", got, tc.wantAt)
			}
			if h.clock.Pending() != 0 {
				t.Fatalf("pending timers = %d, want 0 (the loser must be cancelled)", h.clock.Pending())
			}
			if elapsed := time.Since(begin); elapsed > time.Second {
				t.Fatalf("45 days took %v of real time, want under a second", elapsed)
			}
		})
	}
}

func itoa(n int) string { return encodeJSON(intValue(int64(n))) }

// TestWait checks the four ways to wait (ASL spec, 'Wait State' examples).
func TestWait(t *testing.T) {
	tests := []struct {
		name, fields string
		want         time.Duration
	}{
		{"Seconds", `"Seconds":10`, 10 * time.Second},
		{"Timestamp", `"Timestamp":"2024-03-15T01:59:00Z"`, 24 * time.Hour},
		{"SecondsPath", `"SecondsPath":"$.seconds"`, 90 * time.Second},
		{"TimestampPath", `"TimestampPath":"$.expirydate"`, 2 * time.Hour},
		{"a past Timestamp does not wait", `"Timestamp":"2016-03-14T01:59:00Z"`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			x := h.start(`{"StartAt":"W","States":{"W":{"Type":"Wait",`+tc.fields+`,"End":true}}}`,
				`{"seconds":90,"expirydate":"2024-03-14T03:59:00Z"}`)
			info := h.settle(x)
			if info.Status != StatusSucceeded {
				t.Fatalf("status = %s (%s), want SUCCEEDED", info.Status, info.Cause)
			}
			if got := info.StopDate.Sub(t0); got != tc.want {
				t.Fatalf("waited %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("SecondsPath that is not an integer", func(t *testing.T) {
		info := run(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`, `{"s":"soon"}`, nil)
		if info.Error != ErrRuntime {
			t.Fatalf("error = %q, want States.Runtime", info.Error)
		}
	})
}

// TestStop checks that StopExecution aborts the execution and invalidates
// its task token.
func TestStop(t *testing.T) {
	tokens := make(chan string, 1)
	inv := invokerFunc(func(_ context.Context, _ string, p []byte) ([]byte, error) {
		v, _ := decodeJSON(p)
		tokens <- v.(map[string]any)["t"].(string)
		return []byte(`{}`), nil
	})
	h := newHarness(t, inv)
	x := h.start(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"F","Payload":{"t.$":"$$.Task.Token"}},"End":true}}}`, `{}`)
	h.idle()
	tok := <-tokens
	if err := h.e.SendTaskHeartbeat(tok); err != nil {
		t.Fatalf("SendTaskHeartbeat = %v, want nil", err)
	}
	if _, err := h.e.Stop(x.Info().ID, "Withdrawn", "consumer withdrew"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if info := x.Info(); info.Status != StatusAborted || info.Error != "Withdrawn" {
		t.Fatalf("status, error = %s, %q; want ABORTED, Withdrawn", info.Status, info.Error)
	}
	if err := h.e.SendTaskSuccess(tok, `{}`); !errors.Is(err, ErrTaskTimedOut) {
		t.Fatalf("SendTaskSuccess after stop = %v, want ErrTaskTimedOut", err)
	}
	if err := h.e.SendTaskSuccess("bm9wZQ", `{}`); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("SendTaskSuccess(garbage) = %v, want ErrInvalidToken", err)
	}
}
