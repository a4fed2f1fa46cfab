package asl_test

import (
	"testing"

	"github.com/veil-privacy/veil/pkg/benchmarks"
)

// BenchmarkExecutions10State measures executions per second of a 10-state
// Pass/Choice machine, start to finish, in memory; make bench reports the
// same measurement.
func BenchmarkExecutions10State(b *testing.B) {
	b.ReportAllocs()
	rate, err := benchmarks.ExecutionsPerSecond(b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(rate, "exec/s")
}

// BenchmarkIdleWaitingExecutionMemory measures the heap an execution holds
// while parked in a 45-day Wait (timer, history and snapshot state included).
func BenchmarkIdleWaitingExecutionMemory(b *testing.B) {
	per, err := benchmarks.BytesPerWaitingExecution(b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(per, "B/exec")
}
