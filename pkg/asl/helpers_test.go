package asl

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// t0 is the manual clock's start in tests.
var t0 = time.Date(2024, 3, 14, 1, 59, 0, 0, time.UTC)

// invokerFunc adapts a function to Invoker.
type invokerFunc func(ctx context.Context, function string, payload []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	return f(ctx, function, payload)
}

// echoInvoker returns each function's payload unchanged.
var echoInvoker = invokerFunc(func(_ context.Context, _ string, p []byte) ([]byte, error) { return p, nil })

type harness struct {
	t     *testing.T
	e     *Engine
	clock *ManualClock
}

func newHarness(t *testing.T, inv Invoker) *harness {
	t.Helper()
	clock := NewManualClock(t0)
	e := NewEngine(Options{Invoker: inv, Clock: clock})
	t.Cleanup(e.Close)
	return &harness{t: t, e: e, clock: clock}
}

func (h *harness) start(def, input string) *Execution {
	h.t.Helper()
	sm, err := Parse(def)
	if err != nil {
		h.t.Fatalf("Parse: %v", err)
	}
	x, err := h.e.Start(sm, StartInput{ExecutionID: "arn:aws:states:us-east-1:000000000000:execution:sm:" + h.t.Name(),
		Name: "exec", StateMachineID: "arn:aws:states:us-east-1:000000000000:stateMachine:sm", StateMachineName: "sm", Input: input})
	if err != nil {
		h.t.Fatalf("Start: %v", err)
	}
	return x
}

// idle waits until no invocation or timer callback is in progress.
func (h *harness) idle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.e.WaitIdle(ctx); err != nil {
		h.t.Fatalf("WaitIdle: %v", err)
	}
}

// settle runs x to completion, jumping the clock to each next timer.
func (h *harness) settle(x *Execution) ExecutionInfo {
	h.t.Helper()
	for i := 0; i < 10000; i++ {
		h.idle()
		info := x.Info()
		if info.Status != StatusRunning {
			return info
		}
		next, ok := h.clock.NextDeadline()
		if !ok {
			return info
		}
		h.clock.Advance(next.Sub(h.clock.Now()))
	}
	h.t.Fatal("execution did not settle")
	return ExecutionInfo{}
}

// run executes def on input to completion.
func run(t *testing.T, def, input string, inv Invoker) ExecutionInfo {
	t.Helper()
	h := newHarness(t, inv)
	return h.settle(h.start(def, input))
}

// sameJSON reports whether two JSON texts are equal as values.
func sameJSON(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return string(gb) == string(wb)
}
