package benchmarks

import "testing"

func TestStepFunctionFigures(t *testing.T) {
	if got, err := ExecutionsPerSecond(20); err != nil || got <= 0 {
		t.Fatalf("ExecutionsPerSecond(20) = %v, %v; want a positive rate", got, err)
	}
	if _, err := BytesPerWaitingExecution(20); err != nil {
		t.Fatalf("BytesPerWaitingExecution(20) error = %v", err)
	}
}
