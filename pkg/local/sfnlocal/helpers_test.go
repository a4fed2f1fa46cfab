package sfnlocal

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/asl"
)

var t0 = time.Date(2024, 3, 14, 1, 59, 0, 0, time.UTC)

// tokenInvoker plays notify-supervisor: it records the task token each
// payload carries and delivers it on tokens.
type tokenInvoker struct {
	mu     sync.Mutex
	calls  []string
	tokens chan string
	byName map[string]string // execution name → token, when the payload names it
}

func newTokenInvoker() *tokenInvoker {
	return &tokenInvoker{tokens: make(chan string, 16), byName: map[string]string{}}
}

func (i *tokenInvoker) Invoke(_ context.Context, function string, payload []byte) ([]byte, error) {
	i.mu.Lock()
	i.calls = append(i.calls, function)
	i.mu.Unlock()
	var p struct {
		TaskToken string `json:"taskToken"`
		Execution string `json:"execution"`
	}
	if err := json.Unmarshal(payload, &p); err == nil && p.TaskToken != "" {
		i.mu.Lock()
		i.byName[p.Execution] = p.TaskToken
		i.mu.Unlock()
		i.tokens <- p.TaskToken
	}
	return []byte(`{"notified":true}`), nil
}

// token waits for the next task token.
func (i *tokenInvoker) token(t *testing.T) string {
	t.Helper()
	select {
	case tok := <-i.tokens:
		return tok
	case <-time.After(10 * time.Second):
		t.Fatal("no task token was delivered")
		return ""
	}
}

// tokenFor returns the latest token delivered for the named execution; call
// it after the server is idle.
func (i *tokenInvoker) tokenFor(t *testing.T, name string) string {
	t.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	tok, ok := i.byName[name]
	if !ok {
		t.Fatalf("no task token was delivered for %s", name)
	}
	return tok
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// waitStatus waits for an execution to reach one of statuses.
func waitStatus(t *testing.T, s *Server, arn string, statuses ...asl.Status) asl.ExecutionInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := s.Engine().WaitStatus(ctx, arn, statuses...)
	if err != nil {
		t.Fatalf("waiting for %s to be %v: %v (status %s)", arn, statuses, err, info.Status)
	}
	return info
}

func waitIdle(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Engine().WaitIdle(ctx); err != nil {
		t.Fatalf("WaitIdle: %v", err)
	}
}
