package asl

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// tenStates is a 10-state Pass/Choice machine: a loop that counts to three
// through Pass and Choice states, then leaves by Pass states.
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

// BenchmarkExecutions10State measures executions per second of a 10-state
// Pass/Choice machine, start to finish, in memory.
func BenchmarkExecutions10State(b *testing.B) {
	sm, err := Parse(tenStates)
	if err != nil {
		b.Fatal(err)
	}
	e := NewEngine(Options{})
	defer e.Close()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		x, err := e.Start(sm, StartInput{ExecutionID: fmt.Sprintf("x%d", i), Name: "x", Input: `{"kind":"delete"}`})
		if err != nil {
			b.Fatal(err)
		}
		if x.Info().Status != StatusSucceeded {
			b.Fatalf("status = %s, want SUCCEEDED", x.Info().Status)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "exec/s")
}

// BenchmarkIdleWaitingExecutionMemory measures the heap an execution holds
// while parked in a 45-day Wait (timer, history and snapshot state included).
func BenchmarkIdleWaitingExecutionMemory(b *testing.B) {
	sm, err := Parse(`{"StartAt":"Ack","States":{"Ack":{"Type":"Pass","Result":"ok","ResultPath":"$.ack","Next":"Deadline"},
	  "Deadline":{"Type":"Wait","Seconds":3888000,"Next":"Escalate"},"Escalate":{"Type":"Succeed"}}}`)
	if err != nil {
		b.Fatal(err)
	}
	clock := NewManualClock(t0)
	e := NewEngine(Options{Clock: clock})
	defer e.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Start(sm, StartInput{ExecutionID: fmt.Sprintf("x%d", i), Name: "x", Input: `{"requestId":"r-0001"}`}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if clock.Pending() != b.N {
		b.Fatalf("pending timers = %d, want %d", clock.Pending(), b.N)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(b.N), "B/exec")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = e.WaitIdle(ctx)
}
