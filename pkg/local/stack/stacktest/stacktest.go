// Package stacktest starts the real local stack (dynalite, gofakes3, the
// edge, the API, the functions) for tests on free ports and a temporary data
// directory.
package stacktest

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/local/awscli"
	"github.com/veil-privacy/veil/pkg/local/stack"
)

// Root returns the repository root.
func Root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the repository root")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
}

// Options returns stack options for a test: free ports, a fresh data
// directory, no samples, fast retries.
func Options(t testing.TB) stack.Options {
	t.Helper()
	return stack.Options{
		Root:            Root(t),
		DataDir:         t.TempDir(),
		EdgeAddr:        "127.0.0.1:0",
		APIAddr:         "127.0.0.1:0",
		QueueVisibility: time.Millisecond,
	}
}

// Start starts a stack with opts and stops it when the test ends. IAM is
// enforced: a call the template's policies do not allow fails the test
// when it ends, whether or not the code under test noticed the refusal.
func Start(t testing.TB, opts stack.Options) *stack.Stack {
	t.Helper()
	s := StartDenying(t, opts)
	t.Cleanup(func() {
		for _, d := range s.Denials() {
			t.Errorf("IAM denied %s (%s): %s", d.Operation, d.Service, d.Message())
		}
	})
	return s
}

// StartDenying starts a stack as Start does, for a test that expects
// IAM to refuse calls and checks Stack.Denials itself.
func StartDenying(t testing.TB, opts stack.Options) *stack.Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, opts)
	if err != nil {
		t.Fatalf("local stack: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// WaitIdle waits until every notification has been handled and every
// asynchronous invocation (an erasure job PseudonymizeFunction handed to itself) has
// finished, including what each set off.
func WaitIdle(t testing.TB, s *stack.Stack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatalf("stack did not settle: %v", err)
	}
}

// AWS runs the real AWS CLI against the stack's edge and returns its
// standard output; it fails the test with the CLI's error output.
func AWS(t testing.TB, s *stack.Stack, args ...string) string {
	t.Helper()
	path, err := awscli.Path()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, append([]string{"--endpoint-url", s.EdgeURL, "--output", "json"}, args...)...)
	cmd.Env = append(cmd.Environ(), s.Environment()...)
	cmd.Env = append(cmd.Env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("aws %v: %v\n%s", args, err, stderr)
	}
	return string(out)
}
