package sfnlocal

import (
	"context"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/asl"
)

const day = 24 * time.Hour

// TestRestart stops the server with executions parked in a Wait and on task
// tokens, moves the clock while it is down, and checks that a new server on
// the same Dir resumes each where it stood.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := asl.NewManualClock(t0)
	inv := newTokenInvoker()
	def := readTestdata(t, "deadline.asl.json")

	s1, err := New(Options{Dir: dir, Invoker: inv, Clock: clock})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	smARN, err := s1.CreateStateMachine(ctx, "deadline", def, "arn:aws:iam::000000000000:role/sfn")
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	start := func(s *Server, name string) string {
		t.Helper()
		out, err := s.startExecution(ctx, &startExecutionInput{StateMachineARN: smARN, Name: name})
		if err != nil {
			t.Fatalf("StartExecution %s: %v", name, err)
		}
		return out.(startExecutionOutput).ExecutionARN
	}
	// "approved" reaches its token before the restart; "waiting" is still in
	// its 10-day Wait; "late" reaches its token and then misses the deadline.
	approved := start(s1, "approved")
	late := start(s1, "late")
	clock.Advance(10 * day)
	waitIdle(t, s1)
	tokApproved := inv.tokenFor(t, "approved")
	waiting := start(s1, "waiting")
	s1.Close()

	// Down for 11 days: "waiting"'s Wait falls due while nobody watches.
	clock.Advance(11 * day)

	s2 := newServer(t, Options{Dir: dir, Invoker: inv, Clock: clock})
	waitIdle(t, s2)
	tokWaiting := inv.tokenFor(t, "waiting") // its Wait fired at start and it reached the task

	// The token from before the restart is still valid.
	if err := s2.Engine().SendTaskSuccess(tokApproved, `{"approved":true}`); err != nil {
		t.Fatalf("SendTaskSuccess after restart: %v", err)
	}
	if info := waitStatus(t, s2, approved, asl.StatusSucceeded); !sameJSONText(info.Output, `{"approved":true}`) {
		t.Fatalf("approved output = %s, want {\"approved\":true}", info.Output)
	}
	// "late"'s 45-day timeout, armed before the restart at day 10, is still
	// armed: it is day 21 now, so it fires at day 55, 34 days from now.
	clock.Advance(34*day - time.Second)
	waitIdle(t, s2)
	if got := mustInfo(t, s2, late).Status; got != asl.StatusRunning {
		t.Fatalf("late status one second before its deadline = %s, want RUNNING", got)
	}
	clock.Advance(time.Second)
	info := waitStatus(t, s2, late, asl.StatusFailed)
	if info.Error != "DeadlineMissed" {
		t.Fatalf("late error = %q, want DeadlineMissed", info.Error)
	}

	if err := s2.Engine().SendTaskSuccess(tokWaiting, `{}`); err != nil {
		t.Fatalf("SendTaskSuccess(waiting): %v", err)
	}
	waitStatus(t, s2, waiting, asl.StatusSucceeded)

	// A third start sees everything finished, from disk.
	s2.Close()
	s3 := newServer(t, Options{Dir: dir, Invoker: inv, Clock: clock})
	for arn, want := range map[string]asl.Status{approved: asl.StatusSucceeded, late: asl.StatusFailed, waiting: asl.StatusSucceeded} {
		if got := mustInfo(t, s3, arn).Status; got != want {
			t.Errorf("%s after second restart = %s, want %s", arn, got, want)
		}
	}
	if _, err := s3.describeStateMachine(ctx, &stateMachineARNInput{StateMachineARN: smARN}); err != nil {
		t.Fatalf("DescribeStateMachine after restart: %v", err)
	}
}

func mustInfo(t *testing.T, s *Server, arn string) asl.ExecutionInfo {
	t.Helper()
	x, ok := s.Engine().Execution(arn)
	if !ok {
		t.Fatalf("execution %s not found", arn)
	}
	return x.Info()
}

func sameJSONText(a, b string) bool { return sameInput(a, b) }
