package benchmarks

// The Step Functions interpreter (pkg/asl): executions per second of a
// 10-state Pass/Choice machine run to completion with no persistence, and
// the heap each execution holds while parked in a 45-day Wait. These are
// the measurements of pkg/asl's BenchmarkExecutions10State and
// BenchmarkIdleWaitingExecutionMemory, through its exported API.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/veil-privacy/veil/pkg/asl"
)

// tenStates is a 10-state Pass/Choice machine: a loop that counts to three
// through Pass and Choice states, then leaves by Pass states. pkg/asl's Go
// benchmarks run these same measurements.
const tenStates = `{"StartAt":"Init","States":{
  "Init":{"Type":"Pass","Result":0,"ResultPath":"$.i","Next":"Check"},
  "Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericGreaterThanEquals":3,"Next":"Route"}],"Default":"Step"},
  "Step":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)","kind.$":"$.kind"},"Next":"Check"},
  "Route":{"Type":"Choice","Choices":[
    {"Variable":"$.kind","StringEquals":"access","Next":"Access"},
    {"Variable":"$.kind","StringEquals":"delete","Next":"Delete"}],"Default":"OptOut"},
  "Access":{"Type":"Pass","Result":"access","ResultPath":"$.action","Next":"Audit"},
  "Delete":{"Type":"Pass","Result":"delete","ResultPath":"$.action","Next":"Audit"},
  "OptOut":{"Type":"Pass","Result":"opt-out","ResultPath":"$.action","Next":"Audit"},
  "Audit":{"Type":"Pass","Parameters":{"action.$":"$.action","at.$":"$$.State.EnteredTime"},"ResultPath":"$.audit","Next":"Trim"},
  "Trim":{"Type":"Pass","OutputPath":"$.audit","Next":"Done"},
  "Done":{"Type":"Succeed"}}}`

// fortyFiveDays parks an execution in a 45-day Wait.
const fortyFiveDays = `{"StartAt":"Ack","States":{"Ack":{"Type":"Pass","Result":"ok","ResultPath":"$.ack","Next":"Deadline"},
  "Deadline":{"Type":"Wait","Seconds":3888000,"Next":"Escalate"},"Escalate":{"Type":"Succeed"}}}`

func quietEngine(clock asl.Clock) *asl.Engine {
	return asl.NewEngine(asl.Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// ExecutionsPerSecond starts n executions of the 10-state machine one
// after another, each running to completion inside Start, and returns
// executions per second. It fails if one does not succeed.
func ExecutionsPerSecond(n int) (float64, error) {
	sm, err := asl.Parse(tenStates)
	if err != nil {
		return 0, err
	}
	e := quietEngine(nil)
	defer e.Close()
	start := time.Now()
	for i := range n {
		x, err := e.Start(sm, asl.StartInput{ExecutionID: fmt.Sprintf("x%d", i), Name: "x", Input: `{"kind":"delete"}`})
		if err != nil {
			return 0, err
		}
		if st := x.Info().Status; st != asl.StatusSucceeded {
			return 0, fmt.Errorf("execution %d status = %s, want %s", i, st, asl.StatusSucceeded)
		}
	}
	return PerSecond(float64(n), time.Since(start))
}

// BytesPerWaitingExecution parks n executions in a 45-day Wait on a manual
// clock and returns the heap they hold, per execution, after a GC. It
// fails if an execution does not start or is not parked on its timer.
func BytesPerWaitingExecution(n int) (float64, error) {
	sm, err := asl.Parse(fortyFiveDays)
	if err != nil {
		return 0, err
	}
	clock := asl.NewManualClock(time.Date(2024, 3, 14, 1, 59, 0, 0, time.UTC))
	e := quietEngine(clock)
	defer e.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		if _, err := e.Start(sm, asl.StartInput{ExecutionID: fmt.Sprintf("x%d", i), Name: "x", Input: `{"requestId":"r-0001"}`}); err != nil {
			return 0, err
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if clock.Pending() != n {
		return 0, fmt.Errorf("pending timers = %d, want %d", clock.Pending(), n)
	}
	held := HeapGrowth(before.HeapAlloc, after.HeapAlloc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.WaitIdle(ctx); err != nil {
		return 0, err
	}
	runtime.KeepAlive(e)
	return held / float64(n), nil
}

// HeapGrowth returns after-before in bytes, 0 if the heap shrank.
func HeapGrowth(before, after uint64) float64 {
	if after < before {
		return 0
	}
	return float64(after - before)
}
