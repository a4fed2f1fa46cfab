package asl

// The Engine runs executions without a goroutine per execution: an
// execution is a tree of threads (the root, plus one per running Parallel
// branch or Map iteration), each parked in a phase. Timers, Lambda results,
// task tokens and StopExecution wake a thread up; the execution then runs
// every runnable thread until all are parked again, saves a snapshot, and
// notifies waiters. A snapshot holds everything needed to resume, so a
// restarted engine re-arms Waits, retries, timeouts and heartbeats and keeps
// task tokens valid.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Invoker runs a Task's Lambda. resource is the function ARN (or name) from
// the state's Resource, or for "arn:aws:states:::lambda:invoke" the
// Parameters' FunctionName. A function error (the handler returned an error)
// is reported as *FunctionError; any other error is a service failure.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// Status is an execution's status, named as the Step Functions API names it.
type Status string

// Execution statuses.
const (
	StatusRunning   Status = "RUNNING"
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
	StatusTimedOut  Status = "TIMED_OUT"
	StatusAborted   Status = "ABORTED"
)

// maxHistoryEvents is AWS's cap on an execution's history; reaching it fails
// the execution, which also stops runaway loops.
const maxHistoryEvents = 25000

// Options configures an Engine.
type Options struct {
	// Invoker runs Lambda tasks. Without one, Lambda tasks fail with
	// Lambda.ServiceException.
	Invoker Invoker
	// Clock defaults to SystemClock().
	Clock Clock
	// Region is reported in TaskScheduled events; it defaults to us-east-1.
	Region string
	// Persist, when set, receives a snapshot after every change of an
	// execution, under that execution's lock (so snapshots of one execution
	// arrive in order). Restore accepts the bytes back.
	Persist func(executionID string, snapshot []byte)
	// Logger receives operational warnings; it never receives payloads.
	Logger *slog.Logger
	// S3 is what a Distributed Map's ItemReader reads with. Without one,
	// a state with an ItemReader fails with States.Runtime.
	S3 S3Client
}

// Engine runs executions. It is safe for concurrent use.
type Engine struct {
	opts   Options
	clock  Clock
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	execs   map[string]*Execution
	busy    int
	changed chan struct{}
	closed  bool
}

// NewEngine returns an Engine with no executions.
func NewEngine(opts Options) *Engine {
	if opts.Clock == nil {
		opts.Clock = SystemClock()
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{opts: opts, clock: opts.Clock, ctx: ctx, cancel: cancel,
		execs: map[string]*Execution{}, changed: make(chan struct{})}
}

// Clock returns the engine's clock.
func (e *Engine) Clock() Clock { return e.clock }

// StartInput describes an execution to start.
type StartInput struct {
	// ExecutionID is the execution's ARN; it must be unique in the engine.
	ExecutionID string
	// Name is the execution's name ($$.Execution.Name).
	Name             string
	StateMachineID   string
	StateMachineName string
	RoleARN          string
	// Input is the JSON input; empty means {}.
	Input string
}

// Execution is one run of a state machine.
type Execution struct {
	e     *Engine
	sm    *StateMachine
	input any // decoded rec.Input

	mu      sync.Mutex
	rec     execRecord
	threads map[string]*thread
	timers  map[string]Timer
	cancels map[string]context.CancelFunc
	queue   []*thread
	dirty   bool
}

// execRecord is the persisted form of an execution.
type execRecord struct {
	Version          int       `json:"version"`
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	StateMachineID   string    `json:"stateMachineId"`
	StateMachineName string    `json:"stateMachineName"`
	RoleARN          string    `json:"roleArn,omitempty"`
	Definition       string    `json:"definition"`
	Input            string    `json:"input"`
	Status           Status    `json:"status"`
	Start            time.Time `json:"start"`
	Stop             time.Time `json:"stop,omitzero"`
	Output           string    `json:"output,omitempty"`
	Error            string    `json:"error,omitempty"`
	Cause            string    `json:"cause,omitempty"`
	TimeoutAt        time.Time `json:"timeoutAt,omitzero"`
	Root             *thread   `json:"root"`
	Events           []Event   `json:"events"`
	NextThread       int       `json:"nextThread"`
}

type phase string

const (
	phaseEnter    phase = "enter"    // about to enter State
	phaseWait     phase = "wait"     // in a Wait state until Due
	phaseRetry    phase = "retry"    // backing off until Due, then attempt again
	phaseInvoke   phase = "invoke"   // a Lambda invocation is in flight
	phaseToken    phase = "token"    // waiting for SendTask* with Token
	phaseBranches phase = "branches" // Parallel or Map children are running
	phaseRead     phase = "read"     // a Distributed Map's ItemReader is reading
	phaseDone     phase = "done"
	phaseFailed   phase = "failed"
	phaseAborted  phase = "aborted"
)

// thread runs one branch: the top level, a Parallel branch, a Map iteration.
type thread struct {
	ID      string    `json:"id"`
	Parent  string    `json:"parent,omitempty"`
	Index   int       `json:"index"`
	Scope   string    `json:"scope"`
	State   string    `json:"state"`
	Phase   phase     `json:"phase"`
	Input   any       `json:"input"`
	Entered time.Time `json:"entered"`

	RetryCounts []int `json:"retryCounts,omitempty"`
	RetryTotal  int   `json:"retryTotal,omitempty"`

	Due       time.Time `json:"due,omitzero"`
	Pending   any       `json:"pending,omitempty"` // a Wait state's output
	Attempt   int       `json:"attempt,omitempty"`
	Function  string    `json:"function,omitempty"`
	Payload   any       `json:"payload,omitempty"`
	Token     string    `json:"token,omitempty"`
	Submitted bool      `json:"submitted,omitempty"` // the waitForTaskToken Lambda returned
	TimeoutAt time.Time `json:"timeoutAt,omitzero"`
	Heartbeat int64     `json:"heartbeat,omitempty"`
	HeartAt   time.Time `json:"heartAt,omitzero"`

	Children []*thread `json:"children,omitempty"`
	Results  []any     `json:"results,omitempty"`
	Left     int       `json:"left,omitempty"`  // children not finished
	Items    []any     `json:"items,omitempty"` // Map: inputs of iterations not started
	NextItem int       `json:"nextItem,omitempty"`
	Running  int       `json:"running,omitempty"`
	MaxConc  int       `json:"maxConc,omitempty"`

	Output any         `json:"output,omitempty"`
	Err    *StateError `json:"err,omitempty"`

	// Root is, for a thread inside a child execution of a Distributed Map,
	// the ID of that child execution's top thread (its own ID for the top
	// thread); "" elsewhere.
	Root string `json:"root,omitempty"`
	// A Distributed Map's Map Run (see distributed.go).
	MapRun      string     `json:"mapRun,omitempty"` // the Map Run's ID, the last part of its ARN
	Label       string     `json:"label,omitempty"`  // the Label, or the Map Run's ID when there is none
	Runs        []childRun `json:"runs,omitempty"`   // one per child execution, in item order
	Counts      []int      `json:"counts,omitempty"` // items in each child's batch (nil: one each)
	TotalItems  int        `json:"totalItems,omitempty"`
	FailedItems int        `json:"failedItems,omitempty"`
	Tolerance   *tolerance `json:"tolerance,omitempty"`
}

// Event is one entry of an execution's history. Type is the AWS event type
// (ExecutionStarted, PassStateEntered, LambdaFunctionScheduled, ...); the
// other fields are filled as that type's details need.
type Event struct {
	ID               int64     `json:"id"`
	PreviousID       int64     `json:"previousEventId"`
	Timestamp        time.Time `json:"timestamp"`
	Type             string    `json:"type"`
	Name             string    `json:"name,omitempty"`
	Input            string    `json:"input,omitempty"`
	Output           string    `json:"output,omitempty"`
	Error            string    `json:"error,omitempty"`
	Cause            string    `json:"cause,omitempty"`
	Resource         string    `json:"resource,omitempty"`
	ResourceType     string    `json:"resourceType,omitempty"`
	Region           string    `json:"region,omitempty"`
	Parameters       string    `json:"parameters,omitempty"`
	RoleARN          string    `json:"roleArn,omitempty"`
	TimeoutSeconds   int64     `json:"timeoutSeconds,omitempty"`
	HeartbeatSeconds int64     `json:"heartbeatSeconds,omitempty"`
	Index            int       `json:"index,omitempty"`
	Length           int       `json:"length,omitempty"`
	MapRunARN        string    `json:"mapRunArn,omitempty"`
}

// ExecutionInfo describes an execution.
type ExecutionInfo struct {
	ID, Name                         string
	StateMachineID, StateMachineName string
	RoleARN                          string
	Status                           Status
	Input                            string
	// Output is set when Status is StatusSucceeded.
	Output string
	// Error and Cause are set for failed, timed out and (optionally) aborted executions.
	Error, Cause string
	StartDate    time.Time
	// StopDate is zero while the execution runs.
	StopDate time.Time
}

// Start starts an execution of sm and runs it until every branch is parked
// (waiting on a timer, a Lambda, a task token) or done. It returns
// ErrInvalidInput if in.Input is not JSON and ErrClosed after Close.
func (e *Engine) Start(sm *StateMachine, in StartInput) (*Execution, error) {
	if in.Input == "" {
		in.Input = "{}"
	}
	input, err := decodeJSON([]byte(in.Input))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	now := e.clock.Now()
	x := &Execution{e: e, sm: sm, input: input, threads: map[string]*thread{},
		timers: map[string]Timer{}, cancels: map[string]context.CancelFunc{}}
	x.rec = execRecord{Version: 1, ID: in.ExecutionID, Name: in.Name, StateMachineID: in.StateMachineID,
		StateMachineName: in.StateMachineName, RoleARN: in.RoleARN, Definition: sm.source,
		Input: in.Input, Status: StatusRunning, Start: now}
	if err := e.register(in.ExecutionID, x, "execution %s already exists"); err != nil {
		return nil, err
	}

	x.mu.Lock()
	x.event(nil, Event{Type: "ExecutionStarted", Input: in.Input, RoleARN: in.RoleARN})
	if sm.timeout > 0 {
		x.rec.TimeoutAt = now.Add(time.Duration(sm.timeout) * time.Second)
		x.arm("", "execution", x.rec.TimeoutAt)
	}
	root := x.newThread("", "", sm.root.startAt, input)
	x.rec.Root = root
	x.queue = append(x.queue, root)
	x.commit()
	x.mu.Unlock()
	e.notify()
	return x, nil
}

// Execution returns the execution with the given ID.
func (e *Engine) Execution(id string) (*Execution, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.execs[id]
	return x, ok
}

// Executions returns every execution the engine knows, in no order.
func (e *Engine) Executions() []*Execution {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*Execution, 0, len(e.execs))
	for _, x := range e.execs {
		out = append(out, x)
	}
	return out
}

// Changed returns a channel that is closed at the next change of any
// execution (or of the engine's idleness).
func (e *Engine) Changed() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.changed
}

func (e *Engine) notify() {
	e.mu.Lock()
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()
}

// WaitFor blocks until cond returns true, re-checking it at every change; it
// returns ctx.Err() if ctx ends first.
func (e *Engine) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		ch := e.Changed()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitIdle blocks until no Lambda invocation or timer callback is in
// progress, so every execution is parked or finished.
func (e *Engine) WaitIdle(ctx context.Context) error {
	return e.WaitFor(ctx, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.busy == 0
	})
}

// WaitStatus blocks until the execution's status is one of statuses (any
// status but RUNNING when none are given) and returns its description. It
// returns ErrExecutionNotFound or ctx.Err().
func (e *Engine) WaitStatus(ctx context.Context, id string, statuses ...Status) (ExecutionInfo, error) {
	x, ok := e.Execution(id)
	if !ok {
		return ExecutionInfo{}, ErrExecutionNotFound
	}
	var info ExecutionInfo
	err := e.WaitFor(ctx, func() bool {
		info = x.Info()
		if len(statuses) == 0 {
			return info.Status != StatusRunning
		}
		for _, s := range statuses {
			if info.Status == s {
				return true
			}
		}
		return false
	})
	return info, err
}

func (e *Engine) addBusy(n int) {
	e.mu.Lock()
	e.busy += n
	idle := e.busy == 0
	e.mu.Unlock()
	if idle {
		e.notify()
	}
}

// Close stops every timer and cancels in-flight invocations; executions stay
// as their last snapshot left them, ready for Restore in a new Engine.
func (e *Engine) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	execs := make([]*Execution, 0, len(e.execs))
	for _, x := range e.execs {
		execs = append(execs, x)
	}
	e.mu.Unlock()
	for _, x := range execs {
		x.mu.Lock()
		for k, t := range x.timers {
			t.Stop()
			delete(x.timers, k)
		}
		x.mu.Unlock()
	}
	e.cancel()
	// Invokers are expected to honour ctx; wait for them, but not forever.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.WaitIdle(ctx)
}

func (e *Engine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// Info describes the execution.
func (x *Execution) Info() ExecutionInfo {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := &x.rec
	return ExecutionInfo{ID: r.ID, Name: r.Name, StateMachineID: r.StateMachineID, StateMachineName: r.StateMachineName,
		RoleARN: r.RoleARN, Status: r.Status, Input: r.Input, Output: r.Output, Error: r.Error, Cause: r.Cause,
		StartDate: r.Start, StopDate: r.Stop}
}

// History returns a copy of the execution's events, oldest first.
func (x *Execution) History() []Event {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]Event(nil), x.rec.Events...)
}

// ---- bookkeeping ----

// newThread adds a thread to parent; it belongs to the same (child)
// execution as parent.
func (x *Execution) newThread(parent, scope, startAt string, input any) *thread {
	x.rec.NextThread++
	th := &thread{ID: fmt.Sprintf("t%d", x.rec.NextThread), Parent: parent, Scope: scope, State: startAt,
		Phase: phaseEnter, Input: input}
	if p := x.threads[parent]; p != nil {
		th.Root = p.Root
	}
	x.threads[th.ID] = th
	return th
}

// historyFull fails the execution th belongs to when its history has
// reached AWS's cap, and reports whether it did.
func (x *Execution) historyFull(th *thread) bool {
	cause := fmt.Sprintf("The execution reached the maximum number of history events (%d).", maxHistoryEvents)
	if th.Root == "" {
		if len(x.rec.Events) < maxHistoryEvents {
			return false
		}
		x.finish(StatusFailed, "", &StateError{Name: ErrRuntime, Cause: cause})
		return true
	}
	if _, run := x.runOf(th); run == nil || run.Events < maxHistoryEvents {
		return false
	}
	x.failChild(th, &StateError{Name: ErrRuntime, Cause: cause})
	return true
}

func (x *Execution) state(th *thread) *state { return x.sm.scopes[th.Scope].states[th.State] }

// event records ev in the history of th's execution: the execution's own,
// or, for a thread inside a Distributed Map's child execution, that child's,
// of which only the length is kept (AWS keeps child histories apart from the
// parent's). th may be nil for the execution's own events.
func (x *Execution) event(th *thread, ev Event) {
	if th != nil && th.Root != "" {
		if _, run := x.runOf(th); run != nil {
			run.Events++
		}
		x.dirty = true
		return
	}
	n := int64(len(x.rec.Events))
	ev.ID, ev.PreviousID = n+1, n
	ev.Timestamp = x.e.clock.Now()
	x.rec.Events = append(x.rec.Events, ev)
	x.dirty = true
}

// commit runs every runnable thread, then saves and reports the change.
// Callers hold x.mu and call e.notify after unlocking.
func (x *Execution) commit() {
	for len(x.queue) > 0 {
		th := x.queue[0]
		x.queue = x.queue[1:]
		for th.Phase == phaseEnter && x.rec.Status == StatusRunning {
			if x.historyFull(th) {
				break
			}
			x.enter(th)
		}
	}
	x.queue = nil
	if !x.dirty || x.e.opts.Persist == nil || x.e.isClosed() {
		x.dirty = false
		return
	}
	x.dirty = false
	b, err := json.Marshal(&x.rec)
	if err != nil {
		x.e.opts.Logger.Warn("asl: snapshot failed", "error", err)
		return
	}
	x.e.opts.Persist(x.rec.ID, b)
}

func (x *Execution) resume(th *thread) {
	if th.Phase == phaseEnter {
		x.queue = append(x.queue, th)
	}
}

// finish ends the execution; output is used for SUCCEEDED, serr otherwise.
func (x *Execution) finish(status Status, output string, serr *StateError) {
	if x.rec.Status != StatusRunning {
		return
	}
	x.abortTree(x.rec.Root)
	if t, ok := x.timers["/execution"]; ok {
		t.Stop()
		delete(x.timers, "/execution")
	}
	x.rec.Status = status
	x.rec.Stop = x.e.clock.Now()
	switch status {
	case StatusSucceeded:
		x.rec.Output = output
		x.event(nil, Event{Type: "ExecutionSucceeded", Output: output})
	case StatusFailed:
		x.rec.Error, x.rec.Cause = serr.Name, serr.Cause
		x.event(nil, Event{Type: "ExecutionFailed", Error: serr.Name, Cause: serr.Cause})
	case StatusTimedOut:
		x.rec.Error, x.rec.Cause = serr.Name, serr.Cause
		x.event(nil, Event{Type: "ExecutionTimedOut", Error: serr.Name, Cause: serr.Cause})
	case StatusAborted:
		if serr != nil {
			x.rec.Error, x.rec.Cause = serr.Name, serr.Cause
		}
		x.event(nil, Event{Type: "ExecutionAborted", Error: x.rec.Error, Cause: x.rec.Cause})
	}
}

// abortTree stops a thread and its descendants: timers, invocations, tokens.
func (x *Execution) abortTree(th *thread) {
	if th == nil {
		return
	}
	for _, c := range th.Children {
		x.abortTree(c)
	}
	x.clearTimers(th)
	if cancel, ok := x.cancels[th.ID]; ok {
		cancel()
		delete(x.cancels, th.ID)
	}
	if th.Phase != phaseDone && th.Phase != phaseFailed {
		th.Phase = phaseAborted
	}
	th.Children, th.Token = nil, ""
	delete(x.threads, th.ID)
}

// ---- timers ----

func timerKey(id, kind string) string { return id + "/" + kind }

func (x *Execution) arm(id, kind string, at time.Time) {
	key := timerKey(id, kind)
	if t, ok := x.timers[key]; ok {
		t.Stop()
	}
	x.timers[key] = x.e.clock.AfterFunc(at.Sub(x.e.clock.Now()), func() { x.onTimer(id, kind, at) })
}

func (x *Execution) clearTimers(th *thread) {
	for _, kind := range []string{"due", "timeout", "heartbeat"} {
		key := timerKey(th.ID, kind)
		if t, ok := x.timers[key]; ok {
			t.Stop()
			delete(x.timers, key)
		}
	}
}

func (x *Execution) onTimer(id, kind string, at time.Time) {
	x.e.addBusy(1)
	defer x.e.addBusy(-1)
	if x.e.isClosed() {
		return
	}
	x.mu.Lock()
	x.fire(id, kind, at)
	x.commit()
	x.mu.Unlock()
	x.e.notify()
}

// fire handles a due timer; stale timers (the thread moved on) do nothing.
func (x *Execution) fire(id, kind string, at time.Time) {
	if x.rec.Status != StatusRunning {
		return
	}
	delete(x.timers, timerKey(id, kind))
	if kind == "execution" {
		if x.rec.TimeoutAt.Equal(at) {
			x.finish(StatusTimedOut, "", &StateError{Name: ErrTimeout, Cause: "The execution exceeded its TimeoutSeconds."})
		}
		return
	}
	th := x.threads[id]
	if th == nil {
		return
	}
	st := x.state(th)
	switch kind {
	case "due":
		if !th.Due.Equal(at) {
			return
		}
		switch th.Phase {
		case phaseWait:
			out := th.Pending
			th.Pending, th.Due = nil, time.Time{}
			x.exit(th, st, out)
		case phaseRetry:
			th.Due = time.Time{}
			x.attempt(th, st)
		}
	case "timeout":
		if th.TimeoutAt.Equal(at) && (th.Phase == phaseInvoke || th.Phase == phaseToken) {
			x.taskTimedOut(th, st, ErrTimeout, "")
		}
	case "heartbeat":
		if th.HeartAt.Equal(at) && th.Phase == phaseToken {
			x.taskTimedOut(th, st, ErrHeartbeatTimeout, "")
		}
	}
	x.resume(th)
}

// ---- state machine ----

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// contextObject builds $$ for a state. In a Distributed Map's child
// execution, Execution and StateMachine describe the child.
func (x *Execution) contextObject(th *thread, st *state, token string) map[string]any {
	ctx := map[string]any{
		"Execution": map[string]any{"Id": x.rec.ID, "Input": x.input, "Name": x.rec.Name,
			"RoleArn": x.rec.RoleARN, "StartTime": formatTime(x.rec.Start)},
		"State": map[string]any{"EnteredTime": formatTime(th.Entered), "Name": st.name,
			"RetryCount": intValue(int64(th.RetryTotal))},
		"StateMachine": map[string]any{"Id": x.rec.StateMachineID, "Name": x.rec.StateMachineName},
	}
	if p, run := x.runOf(th); run != nil {
		ctx["Execution"] = map[string]any{"Id": x.childExecutionARN(p, run), "Input": run.Input, "Name": run.Name,
			"RoleArn": x.rec.RoleARN, "StartTime": formatTime(run.Start)}
		ctx["StateMachine"] = map[string]any{"Id": x.mapRunResource(p, "stateMachine"), "Name": x.rec.StateMachineName + "/" + p.Label}
	}
	if token != "" {
		ctx["Task"] = map[string]any{"Token": token}
	}
	return ctx
}

func (x *Execution) inputPath(th *thread, st *state) (any, *StateError) {
	switch {
	case st.inputPath.null:
		return map[string]any{}, nil
	case st.inputPath.p == nil:
		return th.Input, nil
	}
	v, ok := st.inputPath.p.get(th.Input, nil)
	if !ok {
		return nil, runtimeError("An error occurred while executing the state '%s'. Invalid path '%s' : No results for path: $['%s']", st.name, st.inputPath.p.raw, st.inputPath.p.raw)
	}
	return v, nil
}

// register adds x under id; it fails with ErrClosed, or with dupFormat
// (given id) if id is taken.
func (e *Engine) register(id string, x *Execution, dupFormat string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if _, dup := e.execs[id]; dup {
		return fmt.Errorf(dupFormat, id)
	}
	e.execs[id] = x
	return nil
}

// effectiveInput applies a state's InputPath, then its Parameters: the
// input of a Pass or Parallel state's work.
func (x *Execution) effectiveInput(th *thread, st *state) (any, *StateError) {
	eff, serr := x.inputPath(th, st)
	if serr != nil || st.parameters == nil {
		return eff, serr
	}
	eff, err := st.parameters.eval(eff, x.contextObject(th, st, ""))
	if err != nil {
		return nil, payloadError("Parameters", st.name, err)
	}
	return eff, nil
}

func (x *Execution) outputPath(st *state, v any) (any, *StateError) {
	switch {
	case st.outputPath.null:
		return map[string]any{}, nil
	case st.outputPath.p == nil:
		return v, nil
	}
	out, ok := st.outputPath.p.get(v, nil)
	if !ok {
		return nil, runtimeError("An error occurred while executing the state '%s'. Invalid path '%s' : No results for path: $['%s']", st.name, st.outputPath.p.raw, st.outputPath.p.raw)
	}
	return out, nil
}

func applyResultPath(input, result any, rp resultPath, stateName string) (any, *StateError) {
	switch {
	case rp.discard:
		return input, nil
	case rp.p == nil || len(rp.p.segs) == 0:
		return result, nil
	}
	out, err := rp.p.set(input, result)
	if err != nil {
		return nil, &StateError{Name: ErrResultPathMatch, Cause: fmt.Sprintf("Unable to apply ResultPath in state '%s': %v", stateName, err)}
	}
	return out, nil
}

// enter runs a state from its beginning.
func (x *Execution) enter(th *thread) {
	st := x.state(th)
	th.Entered = x.e.clock.Now()
	th.RetryCounts, th.RetryTotal = nil, 0
	x.event(th, Event{Type: st.typ + "StateEntered", Name: st.name, Input: encodeJSON(th.Input)})
	switch st.typ {
	case "Pass":
		eff, serr := x.effectiveInput(th, st)
		if serr != nil {
			x.handleError(th, st, serr)
			return
		}
		if st.hasResult {
			eff = st.result
		}
		x.complete(th, st, eff)
	case "Choice":
		x.choose(th, st)
	case "Wait":
		x.wait(th, st)
	case "Succeed":
		eff, serr := x.inputPath(th, st)
		if serr == nil {
			eff, serr = x.outputPath(st, eff)
		}
		if serr != nil {
			x.handleError(th, st, serr)
			return
		}
		x.event(th, Event{Type: "SucceedStateExited", Name: st.name, Output: encodeJSON(eff)})
		x.threadDone(th, eff)
	case "Fail":
		serr := &StateError{Name: st.errorName, Cause: st.cause}
		for _, f := range []struct {
			e   *expr
			dst *string
			key string
		}{{st.errorExpr, &serr.Name, "ErrorPath"}, {st.causeExp, &serr.Cause, "CausePath"}} {
			if f.e == nil {
				continue
			}
			v, err := f.e.eval(th.Input, x.contextObject(th, st, ""))
			s, isString := v.(string)
			if err != nil || !isString {
				serr = runtimeError("An error occurred while executing the state '%s'. The %s did not resolve to a string.", st.name, f.key)
				break
			}
			*f.dst = s
		}
		x.threadFailed(th, serr)
	case "Task", "Parallel", "Map":
		x.attempt(th, st)
	}
}

// complete applies ResultSelector, ResultPath and OutputPath to a state's
// result and moves on.
func (x *Execution) complete(th *thread, st *state, result any) {
	if st.resultSelector != nil {
		var err error
		if result, err = st.resultSelector.eval(result, x.contextObject(th, st, "")); err != nil {
			x.handleError(th, st, payloadError("ResultSelector", st.name, err))
			return
		}
	}
	out, serr := applyResultPath(th.Input, result, st.resultPath, st.name)
	if serr == nil {
		out, serr = x.outputPath(st, out)
	}
	if serr != nil {
		x.handleError(th, st, serr)
		return
	}
	x.exit(th, st, out)
}

func (x *Execution) exit(th *thread, st *state, out any) {
	x.event(th, Event{Type: st.typ + "StateExited", Name: st.name, Output: encodeJSON(out)})
	if st.end {
		x.threadDone(th, out)
		return
	}
	th.State, th.Input, th.Phase = st.next, out, phaseEnter
}

func (x *Execution) choose(th *thread, st *state) {
	eff, serr := x.inputPath(th, st)
	if serr != nil {
		x.handleError(th, st, serr)
		return
	}
	var ctx any
	next := ""
	for _, r := range st.choices {
		if ctx == nil {
			ctx = x.contextObject(th, st, "")
		}
		ok, err := r.eval(eff, ctx)
		if err != nil {
			var se *StateError
			if !errors.As(err, &se) {
				se = runtimeError("%v", err)
			}
			x.handleError(th, st, se)
			return
		}
		if ok {
			next = r.next
			break
		}
	}
	if next == "" {
		next = st.defaultNext
	}
	if next == "" {
		x.handleError(th, st, &StateError{Name: ErrNoChoiceMatched, Cause: fmt.Sprintf("No Matches! in state '%s'", st.name)})
		return
	}
	out, serr := x.outputPath(st, eff)
	if serr != nil {
		x.handleError(th, st, serr)
		return
	}
	x.event(th, Event{Type: "ChoiceStateExited", Name: st.name, Output: encodeJSON(out)})
	th.State, th.Input = next, out
}

func (x *Execution) wait(th *thread, st *state) {
	eff, serr := x.inputPath(th, st)
	if serr != nil {
		x.handleError(th, st, serr)
		return
	}
	now := x.e.clock.Now()
	var due time.Time
	switch {
	case st.seconds != nil:
		due = now.Add(time.Duration(*st.seconds) * time.Second)
	case st.timestamp != nil:
		due = *st.timestamp
	case st.secondsPath != nil:
		v, ok := st.secondsPath.get(eff, nil)
		n, isInt := integer(v)
		if !ok || !isInt || n < 0 {
			x.handleError(th, st, runtimeError("An error occurred while executing the state '%s'. The SecondsPath parameter does not reference a valid integer: '%s'", st.name, st.secondsPath.raw))
			return
		}
		due = now.Add(time.Duration(n) * time.Second)
	case st.timestampPath != nil:
		v, ok := st.timestampPath.get(eff, nil)
		s, _ := v.(string)
		t, isTS := parseTimestamp(s)
		if !ok || !isTS {
			x.handleError(th, st, runtimeError("An error occurred while executing the state '%s'. The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: '%s'", st.name, st.timestampPath.raw))
			return
		}
		due = t
	}
	out, serr := x.outputPath(st, eff)
	if serr != nil {
		x.handleError(th, st, serr)
		return
	}
	if !due.After(now) {
		x.exit(th, st, out)
		return
	}
	th.Phase, th.Due, th.Pending = phaseWait, due, out
	x.arm(th.ID, "due", due)
}

// handleError applies Retry, then Catch, then fails the thread.
func (x *Execution) handleError(th *thread, st *state, serr *StateError) {
	for i, r := range st.retry {
		if !errorMatches(r.ErrorEquals, serr.Name) {
			continue
		}
		if th.RetryCounts == nil {
			th.RetryCounts = make([]int, len(st.retry))
		}
		if th.RetryCounts[i] >= r.MaxAttempts {
			break
		}
		d := r.delay(th.RetryCounts[i])
		if r.Jitter {
			d = time.Duration(randFloat() * float64(d))
		}
		th.RetryCounts[i]++
		th.RetryTotal++
		th.Phase, th.Due = phaseRetry, x.e.clock.Now().Add(d)
		if d <= 0 {
			th.Due = time.Time{}
			x.attempt(th, st)
			return
		}
		x.arm(th.ID, "due", th.Due)
		return
	}
	for _, c := range st.catch {
		if !errorMatches(c.errorEquals, serr.Name) {
			continue
		}
		errOut := map[string]any{"Error": serr.Name}
		if serr.Cause != "" {
			errOut["Cause"] = serr.Cause
		}
		out, rerr := applyResultPath(th.Input, errOut, c.resultPath, st.name)
		if rerr != nil {
			x.threadFailed(th, rerr)
			return
		}
		x.event(th, Event{Type: st.typ + "StateExited", Name: st.name, Output: encodeJSON(out)})
		th.State, th.Input, th.Phase = c.next, out, phaseEnter
		return
	}
	x.threadFailed(th, serr)
}

func (x *Execution) threadDone(th *thread, out any) {
	th.Phase, th.Output = phaseDone, out
	if th.Parent == "" {
		x.finish(StatusSucceeded, encodeJSON(out), nil)
		return
	}
	x.childDone(th)
}

func (x *Execution) threadFailed(th *thread, serr *StateError) {
	th.Phase, th.Err = phaseFailed, serr
	if th.Parent == "" {
		x.finish(StatusFailed, "", serr)
		return
	}
	x.childFailed(th)
}

// attempt runs (or, after a retry backoff, re-runs) a Task, Parallel or Map.
func (x *Execution) attempt(th *thread, st *state) {
	if st.unsupported != "" {
		x.handleError(th, st, runtimeError("An error occurred while executing the state '%s'. %s", st.name, st.unsupported))
		return
	}
	switch st.typ {
	case "Task":
		x.startTask(th, st)
	case "Parallel":
		x.startParallel(th, st)
	case "Map":
		x.startMap(th, st)
	}
}

// ---- Task ----

func (x *Execution) secondsFrom(fixed int64, p *path, eff any) (int64, bool) {
	if p == nil {
		return fixed, true
	}
	v, ok := p.get(eff, nil)
	n, isInt := integer(v)
	return n, ok && isInt && n > 0
}

func (x *Execution) startTask(th *thread, st *state) {
	eff, serr := x.inputPath(th, st)
	if serr != nil {
		x.handleError(th, st, serr)
		return
	}
	timeout, ok1 := x.secondsFrom(st.timeoutSeconds, st.timeoutPath, eff)
	heartbeat, ok2 := x.secondsFrom(st.heartbeatSeconds, st.heartbeatPath, eff)
	if !ok1 || !ok2 {
		x.handleError(th, st, runtimeError("An error occurred while executing the state '%s'. TimeoutSecondsPath or HeartbeatSecondsPath does not reference a positive integer.", st.name))
		return
	}
	token := ""
	if st.waitForToken {
		token = x.newToken(th)
	}
	params := eff
	if st.parameters != nil {
		var err error
		if params, err = st.parameters.eval(eff, x.contextObject(th, st, token)); err != nil {
			x.handleError(th, st, payloadError("Parameters", st.name, err))
			return
		}
	}
	fn, payload := st.resource, params
	if st.integration == intLambdaInvoke {
		m, _ := params.(map[string]any)
		fn, _ = m["FunctionName"].(string)
		if fn == "" {
			x.handleError(th, st, runtimeError("An error occurred while executing the state '%s'. The Parameters of arn:aws:states:::lambda:invoke need a FunctionName string.", st.name))
			return
		}
		var has bool
		if payload, has = m["Payload"]; !has {
			payload = map[string]any{}
		}
		res := "invoke"
		if st.waitForToken {
			res = "invoke.waitForTaskToken"
		}
		x.event(th, Event{Type: "TaskScheduled", ResourceType: "lambda", Resource: res, Region: x.e.opts.Region,
			Parameters: encodeJSON(params), TimeoutSeconds: timeout, HeartbeatSeconds: heartbeat})
	} else {
		x.event(th, Event{Type: "LambdaFunctionScheduled", Resource: fn, Input: encodeJSON(payload), TimeoutSeconds: timeout})
	}
	th.Attempt++
	th.Function, th.Payload, th.Submitted = fn, payload, false
	now := x.e.clock.Now()
	th.TimeoutAt, th.HeartAt, th.Heartbeat = time.Time{}, time.Time{}, 0
	if timeout > 0 {
		th.TimeoutAt = now.Add(time.Duration(timeout) * time.Second)
		x.arm(th.ID, "timeout", th.TimeoutAt)
	}
	if st.waitForToken {
		th.Phase, th.Token = phaseToken, token
		if heartbeat > 0 {
			th.Heartbeat = heartbeat
			th.HeartAt = now.Add(time.Duration(heartbeat) * time.Second)
			x.arm(th.ID, "heartbeat", th.HeartAt)
		}
	} else {
		th.Phase = phaseInvoke
	}
	x.invoke(th, st)
}

func (x *Execution) invoke(th *thread, st *state) {
	if st.integration == intLambdaInvoke {
		x.event(th, Event{Type: "TaskStarted", ResourceType: "lambda", Resource: resourceName(st)})
	} else {
		x.event(th, Event{Type: "LambdaFunctionStarted"})
	}
	payload := []byte(encodeJSON(th.Payload))
	ctx, cancel := context.WithCancel(WithRole(x.e.ctx, x.rec.RoleARN))
	if old, ok := x.cancels[th.ID]; ok {
		old()
	}
	x.cancels[th.ID] = cancel
	id, attempt, fn := th.ID, th.Attempt, th.Function
	x.e.addBusy(1)
	go func() {
		defer x.e.addBusy(-1)
		var out []byte
		var err error
		if inv := x.e.opts.Invoker; inv != nil {
			out, err = inv.Invoke(ctx, fn, payload)
		} else {
			err = errors.New("no Lambda invoker is configured")
		}
		x.onInvoked(id, attempt, out, err)
	}()
}

func resourceName(st *state) string {
	if st.waitForToken {
		return "invoke.waitForTaskToken"
	}
	return "invoke"
}

// lambdaError converts an Invoker error to the error Retry and Catch see.
func lambdaError(err error) *StateError {
	var fe *FunctionError
	if errors.As(err, &fe) {
		name := fe.Type
		if name == "" {
			name = "Error"
		}
		return &StateError{Name: name, Cause: encodeJSON(map[string]any{"errorMessage": fe.Message, "errorType": fe.Type})}
	}
	return &StateError{Name: ErrLambdaService, Cause: err.Error()}
}

func (x *Execution) onInvoked(id string, attempt int, out []byte, err error) {
	if x.e.isClosed() {
		return
	}
	x.mu.Lock()
	th := x.threads[id]
	if th == nil || th.Attempt != attempt || x.rec.Status != StatusRunning ||
		(th.Phase != phaseInvoke && th.Phase != phaseToken) {
		x.mu.Unlock()
		return
	}
	delete(x.cancels, id)
	st := x.state(th)
	var result any
	if err == nil {
		if result, err = decodeJSON(out); err != nil {
			err = fmt.Errorf("the function returned a payload that is not JSON: %w", err)
		}
	}
	if err == nil && st.integration == intLambdaInvoke {
		result = map[string]any{
			"ExecutedVersion": "$LATEST",
			"Payload":         result,
			"SdkHttpMetadata": map[string]any{"HttpStatusCode": intValue(200)},
			"StatusCode":      intValue(200),
		}
	}
	switch {
	case err != nil:
		serr := lambdaError(err)
		if st.integration == intLambdaInvoke {
			x.event(th, Event{Type: "TaskFailed", ResourceType: "lambda", Resource: resourceName(st), Error: serr.Name, Cause: serr.Cause})
		} else {
			x.event(th, Event{Type: "LambdaFunctionFailed", Error: serr.Name, Cause: serr.Cause})
		}
		x.clearTimers(th)
		th.Token = ""
		x.handleError(th, st, serr)
	case th.Phase == phaseToken:
		th.Submitted = true
		x.event(th, Event{Type: "TaskSubmitted", ResourceType: "lambda", Resource: resourceName(st), Output: encodeJSON(result)})
	case st.integration == intLambdaInvoke:
		x.event(th, Event{Type: "TaskSucceeded", ResourceType: "lambda", Resource: resourceName(st), Output: encodeJSON(result)})
		x.clearTimers(th)
		x.complete(th, st, result)
	default:
		x.event(th, Event{Type: "LambdaFunctionSucceeded", Output: encodeJSON(result)})
		x.clearTimers(th)
		x.complete(th, st, result)
	}
	x.resume(th)
	x.commit()
	x.mu.Unlock()
	x.e.notify()
}

func (x *Execution) taskTimedOut(th *thread, st *state, name, cause string) {
	x.clearTimers(th)
	if c, ok := x.cancels[th.ID]; ok {
		c()
		delete(x.cancels, th.ID)
	}
	th.Token = ""
	if st.integration == intLambdaInvoke {
		x.event(th, Event{Type: "TaskTimedOut", ResourceType: "lambda", Resource: resourceName(st), Error: name, Cause: cause})
	} else {
		x.event(th, Event{Type: "LambdaFunctionTimedOut", Error: name, Cause: cause})
	}
	x.handleError(th, st, &StateError{Name: name, Cause: cause})
}

// ---- task tokens ----

type tokenBody struct {
	E string `json:"e"`
	T string `json:"t"`
	N string `json:"n"`
}

func (x *Execution) newToken(th *thread) string {
	b, _ := json.Marshal(tokenBody{E: x.rec.ID, T: th.ID, N: newUUID()})
	return base64.RawURLEncoding.EncodeToString(b)
}

// taskByToken finds the waiting task of a token and returns it locked.
func (e *Engine) taskByToken(token string) (*Execution, *thread, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	var body tokenBody
	if err != nil || json.Unmarshal(raw, &body) != nil || body.E == "" {
		return nil, nil, ErrInvalidToken
	}
	x, ok := e.Execution(body.E)
	if !ok {
		return nil, nil, ErrTaskNotFound
	}
	x.mu.Lock()
	th := x.threads[body.T]
	if th == nil || th.Phase != phaseToken || th.Token != token || x.rec.Status != StatusRunning {
		x.mu.Unlock()
		return nil, nil, ErrTaskTimedOut
	}
	return x, th, nil
}

// SendTaskSuccess completes the task waiting on token with output (JSON).
// It returns ErrInvalidToken for a malformed token, ErrTaskNotFound for an
// unknown execution, ErrTaskTimedOut when the
// task no longer waits, ErrInvalidOutput when output is not JSON.
func (e *Engine) SendTaskSuccess(token, output string) error {
	result, err := decodeJSON([]byte(output))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidOutput, err)
	}
	x, th, err := e.taskByToken(token)
	if err != nil {
		return err
	}
	st := x.state(th)
	x.event(th, Event{Type: "TaskSucceeded", ResourceType: "lambda", Resource: resourceName(st), Output: output})
	x.clearTimers(th)
	th.Token = ""
	x.complete(th, st, result)
	x.resume(th)
	x.commit()
	x.mu.Unlock()
	e.notify()
	return nil
}

// SendTaskFailure fails the task waiting on token with the given error and
// cause. It returns ErrTaskNotFound or ErrTaskTimedOut like SendTaskSuccess.
func (e *Engine) SendTaskFailure(token, errName, cause string) error {
	x, th, err := e.taskByToken(token)
	if err != nil {
		return err
	}
	st := x.state(th)
	x.event(th, Event{Type: "TaskFailed", ResourceType: "lambda", Resource: resourceName(st), Error: errName, Cause: cause})
	x.clearTimers(th)
	th.Token = ""
	x.handleError(th, st, &StateError{Name: errName, Cause: cause})
	x.resume(th)
	x.commit()
	x.mu.Unlock()
	e.notify()
	return nil
}

// SendTaskHeartbeat restarts the heartbeat clock of the task waiting on
// token. It returns ErrTaskNotFound or ErrTaskTimedOut like SendTaskSuccess.
func (e *Engine) SendTaskHeartbeat(token string) error {
	x, th, err := e.taskByToken(token)
	if err != nil {
		return err
	}
	if th.Heartbeat > 0 {
		th.HeartAt = e.clock.Now().Add(time.Duration(th.Heartbeat) * time.Second)
		x.arm(th.ID, "heartbeat", th.HeartAt)
		x.dirty = true
	}
	x.commit()
	x.mu.Unlock()
	return nil
}

// Stop aborts a running execution, recording errName and cause. Stopping a
// finished execution changes nothing. It returns ErrExecutionNotFound, and
// the execution's stop date.
func (e *Engine) Stop(id, errName, cause string) (time.Time, error) {
	x, ok := e.Execution(id)
	if !ok {
		return time.Time{}, ErrExecutionNotFound
	}
	x.mu.Lock()
	var serr *StateError
	if errName != "" || cause != "" {
		serr = &StateError{Name: errName, Cause: cause}
	}
	x.finish(StatusAborted, "", serr)
	x.commit()
	stop := x.rec.Stop
	x.mu.Unlock()
	e.notify()
	return stop, nil
}

// Definition returns the definition the execution runs, which stays the one
// it started with when the state machine is updated.
func (x *Execution) Definition() string { return x.sm.source }
