// Package sqslocal is the local stack's SQS queue and Lambda event source
// mapping: messages are delivered to a function in batches as SQS events,
// the records a function reports in batchItemFailures (or a whole batch
// whose invocation failed) come back after a visibility delay, and a message
// received MaxReceiveCount times moves to the dead-letter file.
package sqslocal

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
)

// InvokeFunc invokes the target function with a JSON payload and returns its
// JSON result, or an error if the invocation failed.
type InvokeFunc func(ctx context.Context, payload []byte) ([]byte, error)

// Options configures a Queue.
type Options struct {
	ARN             string
	Region          string
	BatchSize       int           // default 10
	MaxReceiveCount int           // default 5
	Visibility      time.Duration // delay before a failed message is retried; default 500ms
	// DeadLetterPath is the JSON-lines file a message lands in after its last
	// failed receive; empty keeps dead letters in memory only.
	DeadLetterPath string
	Invoke         InvokeFunc
	Logger         *slog.Logger
}

type message struct {
	id       string
	body     string
	sent     time.Time
	first    time.Time
	receives int
	visible  time.Time
}

// Queue is one queue with one consumer function.
type Queue struct {
	opts Options

	mu       sync.Mutex
	pending  []*message
	inFlight int
	dead     []string
	idle     chan struct{} // closed while the queue is empty and nothing is in flight
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

// New starts a queue's delivery loop; Close stops it.
func New(opts Options) *Queue {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 10
	}
	if opts.MaxReceiveCount <= 0 {
		opts.MaxReceiveCount = 5
	}
	if opts.Visibility <= 0 {
		opts.Visibility = 500 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	q := &Queue{opts: opts, idle: make(chan struct{}), wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	close(q.idle)
	go q.loop()
	return q
}

// Send enqueues one message body.
func (q *Queue) Send(body []byte) {
	q.mu.Lock()
	now := time.Now()
	q.pending = append(q.pending, &message{id: uuid.NewString(), body: string(body), sent: now})
	q.markBusy()
	q.mu.Unlock()
	q.poke()
}

// WaitIdle returns when every message sent so far has been delivered
// successfully or dead-lettered, or when ctx ends.
func (q *Queue) WaitIdle(ctx context.Context) error {
	q.mu.Lock()
	idle := q.idle
	q.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Idle reports whether every message sent so far has been delivered or
// dead-lettered.
func (q *Queue) Idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	select {
	case <-q.idle:
		return true
	default:
		return false
	}
}

// DeadLetters returns the bodies that exhausted their receives.
func (q *Queue) DeadLetters() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.dead...)
}

// Close stops delivery; messages still queued are dropped, as the local
// stack's queue is not durable.
func (q *Queue) Close() {
	close(q.stop)
	<-q.done
}

func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// markBusy and markIdleIfDone keep q.idle in step; the caller holds q.mu.
func (q *Queue) markBusy() {
	select {
	case <-q.idle:
		q.idle = make(chan struct{})
	default:
	}
}

func (q *Queue) markIdleIfDone() {
	if len(q.pending) == 0 && q.inFlight == 0 {
		select {
		case <-q.idle:
		default:
			close(q.idle)
		}
	}
}

func (q *Queue) loop() {
	defer close(q.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		batch, next := q.take()
		if len(batch) > 0 {
			q.deliver(batch)
			continue
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = time.Until(next)
		}
		timer.Reset(wait)
		select {
		case <-q.stop:
			return
		case <-q.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// take removes up to BatchSize visible messages; it also returns when the
// next invisible one becomes visible.
func (q *Queue) take() ([]*message, time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	var batch []*message
	var next time.Time
	rest := q.pending[:0]
	for _, m := range q.pending {
		if len(batch) < q.opts.BatchSize && !m.visible.After(now) {
			batch = append(batch, m)
			continue
		}
		if m.visible.After(now) && (next.IsZero() || m.visible.Before(next)) {
			next = m.visible
		}
		rest = append(rest, m)
	}
	q.pending = rest
	q.inFlight += len(batch)
	return batch, next
}

func (q *Queue) deliver(batch []*message) {
	now := time.Now()
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(batch))}
	for i, m := range batch {
		m.receives++
		if m.first.IsZero() {
			m.first = now
		}
		sum := md5.Sum([]byte(m.body))
		ev.Records[i] = events.SQSMessage{
			MessageId:     m.id,
			ReceiptHandle: m.id + "#" + strconv.Itoa(m.receives),
			Body:          m.body,
			Md5OfBody:     hex.EncodeToString(sum[:]),
			Attributes: map[string]string{
				"ApproximateReceiveCount":          strconv.Itoa(m.receives),
				"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
				"SenderId":                         "AROALOCAL:s3",
				"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.first.UnixMilli(), 10),
			},
			MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource:       "aws:sqs",
			EventSourceARN:    q.opts.ARN,
			AWSRegion:         q.opts.Region,
		}
	}
	failed := q.invoke(ev)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inFlight -= len(batch)
	for _, m := range batch {
		if !failed[m.id] {
			continue
		}
		if m.receives >= q.opts.MaxReceiveCount {
			q.deadLetter(m)
			continue
		}
		m.visible = time.Now().Add(q.opts.Visibility * time.Duration(m.receives))
		q.pending = append(q.pending, m)
	}
	q.markIdleIfDone()
}

// invoke calls the function and returns the IDs of the messages that failed:
// all of them if the invocation failed, else those in batchItemFailures.
func (q *Queue) invoke(ev events.SQSEvent) map[string]bool {
	failed := map[string]bool{}
	all := func() map[string]bool {
		for _, r := range ev.Records {
			failed[r.MessageId] = true
		}
		return failed
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return all()
	}
	out, err := q.opts.Invoke(context.Background(), payload)
	if err != nil {
		q.opts.Logger.Warn("queue batch failed", "queue", q.opts.ARN, "records", len(ev.Records), "error", err)
		return all()
	}
	var resp events.SQSEventResponse
	if len(out) > 0 && string(out) != "null" {
		if err := json.Unmarshal(out, &resp); err != nil {
			// Lambda treats an unreadable partial-batch response as a failure of the whole batch.
			return all()
		}
	}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	return failed
}

// deadLetter keeps m as a dead letter; the caller holds q.mu.
func (q *Queue) deadLetter(m *message) {
	q.dead = append(q.dead, m.body)
	q.opts.Logger.Error("message moved to dead-letter queue", "queue", q.opts.ARN, "messageId", m.id, "receives", m.receives)
	if q.opts.DeadLetterPath == "" {
		return
	}
	line, _ := json.Marshal(map[string]any{"messageId": m.id, "receives": m.receives, "body": m.body, "at": time.Now().UTC()})
	f, err := os.OpenFile(q.opts.DeadLetterPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		q.opts.Logger.Error("dead-letter file", "error", fmt.Errorf("%s: %w", q.opts.DeadLetterPath, err))
		return
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
}
