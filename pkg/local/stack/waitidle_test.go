package stack

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/local/lambdalocal"
	"github.com/veil-privacy/veil/pkg/local/sqslocal"
)

// WaitIdle waits through a chain that crosses from asynchronous
// invocations to a queue and back, each link started while the one before
// is still running: an erasure job's rewrite queues a notification, and a
// queued function may invoke another asynchronously.
func TestWaitIdleFollowsAsyncAndQueues(t *testing.T) {
	r := lambdalocal.New(Region, AccountID, nil)
	var q *sqslocal.Queue
	var done atomic.Bool
	pause := func() { time.Sleep(30 * time.Millisecond) }
	// The job ends as soon as it queued the message, long before the
	// message's function starts the last invocation.
	r.Register("Job", func() error { pause(); q.Send([]byte(`{"n":1}`)); return nil }, time.Second)
	r.Register("Last", func() error { pause(); done.Store(true); return nil }, time.Second)
	q = sqslocal.New(sqslocal.Options{ARN: "arn:aws:sqs:us-east-1:000000000000:Q", Region: Region,
		Invoke: func(context.Context, []byte) ([]byte, error) {
			pause()
			pause()
			return []byte(`{}`), r.InvokeAsync("Last", []byte(`{}`))
		}})
	t.Cleanup(q.Close)
	s := &Stack{Runtime: r, queues: map[string]*sqslocal.Queue{"Q": q}}

	if err := r.InvokeAsync("Job", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if !done.Load() || !q.Idle() || r.AsyncStarted() != 2 {
		t.Fatalf("WaitIdle returned with the last invocation done = %v, queue idle = %v, %d started; want done, idle, 2",
			done.Load(), q.Idle(), r.AsyncStarted())
	}
}
