package stack

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/local/lambdalocal"
	"github.com/veil-privacy/veil/pkg/local/sqslocal"
)

// WaitIdle waits through a chain that crosses from asynchronous
// invocations to a queue and back: an erasure job's rewrite queues a
// notification, and a queued function may invoke another asynchronously.
// WaitIdle starts when no invocation is running and the queue's function
// is: a wait that looked at the invocations once, then at the queue,
// would return while the invocation the queue's function starts is still
// running.
func TestWaitIdleFollowsAsyncAndQueues(t *testing.T) {
	r := lambdalocal.New(Region, AccountID, nil)
	var q *sqslocal.Queue
	queued, last := make(chan struct{}), make(chan struct{})
	var done atomic.Bool
	r.Register("Job", func() error { q.Send([]byte(`{"n":1}`)); return nil }, time.Second)
	r.Register("Last", func() error { <-last; done.Store(true); return nil }, 5*time.Second)
	q = sqslocal.New(sqslocal.Options{ARN: "arn:aws:sqs:us-east-1:000000000000:Q", Region: Region,
		Invoke: func(context.Context, []byte) ([]byte, error) {
			<-queued
			return []byte(`{}`), r.InvokeAsync("Last", []byte(`{}`))
		}})
	t.Cleanup(q.Close)
	s := &Stack{Runtime: r, queues: map[string]*sqslocal.Queue{"Q": q}}

	if err := r.InvokeAsync("Job", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	// The job has ended: no invocation runs, the queue's function waits.
	if err := r.WaitAsync(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	waited := make(chan error, 1)
	go func() { waited <- s.WaitIdle(ctx) }()
	close(queued)
	// Last is still running (it waits for last): WaitIdle must not return
	// before its deadline.
	if err := <-waited; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitIdle with the last invocation running = %v, want its deadline", err)
	}
	close(last)
	if err := s.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !done.Load() || !q.Idle() || r.AsyncStarted() != 2 {
		t.Fatalf("WaitIdle returned with the last invocation done = %v, queue idle = %v, %d started; want done, idle, 2",
			done.Load(), q.Idle(), r.AsyncStarted())
	}
}
