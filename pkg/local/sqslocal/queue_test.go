// The queue is tested as Lambda's event source mapping behaves: batches,
// partial batch failures, whole-batch retries and the dead-letter queue,
// synchronised only through WaitIdle and channels.
package sqslocal

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

const testARN = "arn:aws:sqs:us-east-1:000000000000:veil-index"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// invocations records what a queue delivered.
type invocations struct {
	mu      sync.Mutex
	batches [][]events.SQSMessage
}

func (iv *invocations) add(ev events.SQSEvent) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	iv.batches = append(iv.batches, ev.Records)
}

// receives returns, per body, the ApproximateReceiveCount of each delivery.
func (iv *invocations) receives() map[string][]int {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	out := map[string][]int{}
	for _, b := range iv.batches {
		for _, r := range b {
			n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
			out[r.Body] = append(out[r.Body], n)
		}
	}
	return out
}

func waitIdle(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.WaitIdle(ctx); err != nil {
		t.Fatalf("WaitIdle error = %v, want nil", err)
	}
}

// handler is a function's reply to one batch.
type handler func(ev events.SQSEvent) ([]byte, error)

// recording wraps h so that every delivery is recorded first.
func recording(iv *invocations, h handler) InvokeFunc {
	return func(_ context.Context, payload []byte) ([]byte, error) {
		var ev events.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("payload is not an SQS event: %w", err)
		}
		iv.add(ev)
		return h(ev)
	}
}

func TestBatches(t *testing.T) {
	tests := []struct {
		name      string
		messages  int
		batchSize int
		wantSizes []int
	}{
		{name: "one message", messages: 1, batchSize: 10, wantSizes: []int{1}},
		{name: "partial last batch", messages: 7, batchSize: 3, wantSizes: []int{3, 3, 1}},
		{name: "exact batches", messages: 20, batchSize: 10, wantSizes: []int{10, 10}},
		{name: "default batch size is 10", messages: 25, batchSize: 0, wantSizes: []int{10, 10, 5}},
		{name: "batch of one", messages: 3, batchSize: 1, wantSizes: []int{1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iv := &invocations{}
			gate, gated := make(chan struct{}), make(chan struct{})
			q := New(Options{ARN: testARN, Region: "us-east-1", BatchSize: tc.batchSize, Visibility: time.Millisecond, Logger: quiet,
				Invoke: recording(iv, func(ev events.SQSEvent) ([]byte, error) {
					if ev.Records[0].Body == "gate" {
						// Hold the consumer until every message is queued, so
						// batching does not depend on timing.
						close(gated)
						<-gate
					}
					return nil, nil
				})})
			defer q.Close()
			q.Send([]byte("gate"))
			<-gated
			for i := range tc.messages {
				q.Send([]byte(fmt.Sprintf(`{"n":%d}`, i)))
			}
			close(gate)
			waitIdle(t, q)

			iv.mu.Lock()
			batches := iv.batches[1:]
			iv.mu.Unlock()
			var sizes []int
			ids := map[string]bool{}
			next := 0
			for _, b := range batches {
				sizes = append(sizes, len(b))
				for _, r := range b {
					if want := fmt.Sprintf(`{"n":%d}`, next); r.Body != want {
						t.Fatalf("record %d body = %s, want %s (send order)", next, r.Body, want)
					}
					next++
					checkRecord(t, r)
					if ids[r.MessageId] {
						t.Fatalf("MessageId %s delivered twice", r.MessageId)
					}
					ids[r.MessageId] = true
					if got := r.Attributes["ApproximateReceiveCount"]; got != "1" {
						t.Fatalf("ApproximateReceiveCount = %s, want 1", got)
					}
				}
			}
			if !reflect.DeepEqual(sizes, tc.wantSizes) {
				t.Fatalf("batch sizes = %v, want %v", sizes, tc.wantSizes)
			}
		})
	}
}

// checkRecord checks the fields of an SQS record that do not depend on the
// message.
func checkRecord(t *testing.T, r events.SQSMessage) {
	t.Helper()
	sum := md5.Sum([]byte(r.Body))
	checks := []struct{ field, got, want string }{
		{"eventSource", r.EventSource, "aws:sqs"},
		{"eventSourceARN", r.EventSourceARN, testARN},
		{"awsRegion", r.AWSRegion, "us-east-1"},
		{"md5OfBody", r.Md5OfBody, hex.EncodeToString(sum[:])},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Fatalf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if r.MessageId == "" || r.ReceiptHandle == "" {
		t.Fatalf("messageId = %q, receiptHandle = %q, want both set", r.MessageId, r.ReceiptHandle)
	}
	sentAt, err := strconv.ParseInt(r.Attributes["SentTimestamp"], 10, 64)
	if err != nil {
		t.Fatalf("SentTimestamp = %q, not milliseconds: %v", r.Attributes["SentTimestamp"], err)
	}
	firstAt, err := strconv.ParseInt(r.Attributes["ApproximateFirstReceiveTimestamp"], 10, 64)
	if err != nil {
		t.Fatalf("ApproximateFirstReceiveTimestamp = %q, not milliseconds: %v", r.Attributes["ApproximateFirstReceiveTimestamp"], err)
	}
	if firstAt < sentAt {
		t.Fatalf("ApproximateFirstReceiveTimestamp = %d, before SentTimestamp %d", firstAt, sentAt)
	}
	if now := time.Now().UnixMilli(); sentAt > now || now-sentAt > 60_000 {
		t.Fatalf("SentTimestamp = %d, want within the last minute of %d", sentAt, now)
	}
}

// failures returns a batch response naming the records whose bodies are in
// bad.
func failures(ev events.SQSEvent, bad func(events.SQSMessage) bool) ([]byte, error) {
	var resp events.SQSEventResponse
	for _, r := range ev.Records {
		if bad(r) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return json.Marshal(resp)
}

func receiveCount(r events.SQSMessage) int {
	n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
	return n
}

func TestRetriesAndDeadLetters(t *testing.T) {
	tests := []struct {
		name         string
		maxReceives  int
		send         []string
		handle       handler
		wantReceives map[string][]int
		wantDead     []string
	}{{
		name: "success is delivered once",
		send: []string{"a", "b"},
		handle: func(ev events.SQSEvent) ([]byte, error) {
			return json.Marshal(events.SQSEventResponse{})
		},
		wantReceives: map[string][]int{"a": {1}, "b": {1}},
	}, {
		name: "null response is success",
		send: []string{"a"},
		handle: func(ev events.SQSEvent) ([]byte, error) {
			return []byte("null"), nil
		},
		wantReceives: map[string][]int{"a": {1}},
	}, {
		name: "batch item failure is redelivered alone",
		send: []string{"good1", "bad", "good2"},
		handle: func(ev events.SQSEvent) ([]byte, error) {
			return failures(ev, func(r events.SQSMessage) bool { return r.Body == "bad" && receiveCount(r) == 1 })
		},
		wantReceives: map[string][]int{"good1": {1}, "bad": {1, 2}, "good2": {1}},
	}, {
		name: "invocation error redelivers the whole batch",
		send: []string{"a", "b", "c"},
		handle: func(ev events.SQSEvent) ([]byte, error) {
			if receiveCount(ev.Records[0]) == 1 {
				return nil, errors.New("function crashed")
			}
			return nil, nil
		},
		wantReceives: map[string][]int{"a": {1, 2}, "b": {1, 2}, "c": {1, 2}},
	}, {
		name: "unreadable response fails the whole batch",
		send: []string{"a", "b"},
		handle: func(ev events.SQSEvent) ([]byte, error) {
			if receiveCount(ev.Records[0]) == 1 {
				return []byte(`{"batchItemFailures": "nope"`), nil
			}
			return nil, nil
		},
		wantReceives: map[string][]int{"a": {1, 2}, "b": {1, 2}},
	}, {
		name:        "poison message dead-lettered after MaxReceiveCount",
		maxReceives: 3,
		send:        []string{"ok", "poison"},
		handle: func(ev events.SQSEvent) ([]byte, error) {
			return failures(ev, func(r events.SQSMessage) bool { return r.Body == "poison" })
		},
		wantReceives: map[string][]int{"ok": {1}, "poison": {1, 2, 3}},
		wantDead:     []string{"poison"},
	}, {
		name: "default MaxReceiveCount is 5",
		send: []string{"poison"},
		handle: func(ev events.SQSEvent) ([]byte, error) {
			return nil, errors.New("always")
		},
		wantReceives: map[string][]int{"poison": {1, 2, 3, 4, 5}},
		wantDead:     []string{"poison"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iv := &invocations{}
			deadPath := filepath.Join(t.TempDir(), "dead.jsonl")
			q := New(Options{ARN: testARN, Region: "us-east-1", MaxReceiveCount: tc.maxReceives, Visibility: time.Millisecond,
				DeadLetterPath: deadPath, Logger: quiet, Invoke: recording(iv, tc.handle)})
			defer q.Close()
			for _, b := range tc.send {
				q.Send([]byte(b))
			}
			waitIdle(t, q)

			if got := iv.receives(); !reflect.DeepEqual(got, tc.wantReceives) {
				t.Fatalf("receive counts = %v, want %v", got, tc.wantReceives)
			}
			if got := q.DeadLetters(); !reflect.DeepEqual(got, tc.wantDead) {
				t.Fatalf("DeadLetters() = %q, want %q", got, tc.wantDead)
			}
			var fileDead []string
			f, err := os.Open(deadPath)
			if err == nil {
				sc := bufio.NewScanner(f)
				for sc.Scan() {
					var line struct {
						MessageID string    `json:"messageId"`
						Receives  int       `json:"receives"`
						Body      string    `json:"body"`
						At        time.Time `json:"at"`
					}
					if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
						t.Fatalf("dead-letter line %s: %v", sc.Text(), err)
					}
					want := tc.maxReceives
					if want == 0 {
						want = 5
					}
					if line.MessageID == "" || line.Receives != want || line.At.IsZero() {
						t.Fatalf("dead-letter line = %+v, want a messageId, receives %d and a time", line, want)
					}
					fileDead = append(fileDead, line.Body)
				}
				f.Close()
			} else if !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fileDead, tc.wantDead) {
				t.Fatalf("dead-letter file bodies = %q, want %q", fileDead, tc.wantDead)
			}
		})
	}
}

func TestRedeliveryKeepsMessageIdentity(t *testing.T) {
	iv := &invocations{}
	const visibility = 10 * time.Millisecond
	var at []time.Time // written by the delivery loop only, read after WaitIdle
	q := New(Options{ARN: testARN, Region: "us-east-1", Visibility: visibility, Logger: quiet,
		Invoke: recording(iv, func(ev events.SQSEvent) ([]byte, error) {
			at = append(at, time.Now())
			return failures(ev, func(r events.SQSMessage) bool { return receiveCount(r) < 3 })
		})})
	defer q.Close()
	q.Send([]byte("m"))
	waitIdle(t, q)

	// A failed message stays invisible for longer after each receive.
	for i := 1; i < len(at); i++ {
		if gap, min := at[i].Sub(at[i-1]), visibility*time.Duration(i); gap < min {
			t.Fatalf("delivery %d came %v after the previous one, want at least %v", i+1, gap, min)
		}
	}

	iv.mu.Lock()
	defer iv.mu.Unlock()
	if len(iv.batches) != 3 {
		t.Fatalf("deliveries = %d, want 3", len(iv.batches))
	}
	first := iv.batches[0][0]
	handles := map[string]bool{}
	for i, b := range iv.batches {
		r := b[0]
		if r.MessageId != first.MessageId {
			t.Fatalf("delivery %d messageId = %s, want %s", i, r.MessageId, first.MessageId)
		}
		if r.Attributes["SentTimestamp"] != first.Attributes["SentTimestamp"] ||
			r.Attributes["ApproximateFirstReceiveTimestamp"] != first.Attributes["ApproximateFirstReceiveTimestamp"] {
			t.Fatalf("delivery %d timestamps = %v, want those of the first delivery %v", i, r.Attributes, first.Attributes)
		}
		if handles[r.ReceiptHandle] {
			t.Fatalf("delivery %d receiptHandle %s reused", i, r.ReceiptHandle)
		}
		handles[r.ReceiptHandle] = true
	}
}

func TestWaitIdleWaitsForInFlight(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	q := New(Options{ARN: testARN, Logger: quiet, Visibility: time.Millisecond, Invoke: func(context.Context, []byte) ([]byte, error) {
		close(started)
		<-release
		return nil, nil
	}})
	defer q.Close()
	waitIdle(t, q) // a new queue is idle

	q.Send([]byte("x"))
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := q.WaitIdle(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitIdle during an invocation error = %v, want %v", err, context.DeadlineExceeded)
	}
	close(release)
	waitIdle(t, q)
}

func TestCloseWithInvisibleMessage(t *testing.T) {
	delivered := make(chan struct{}, 1)
	q := New(Options{ARN: testARN, Logger: quiet, Visibility: time.Hour, Invoke: func(context.Context, []byte) ([]byte, error) {
		delivered <- struct{}{}
		return nil, errors.New("fail once, then wait an hour")
	}})
	q.Send([]byte("x"))
	<-delivered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := q.WaitIdle(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitIdle with a message waiting to be retried error = %v, want %v", err, context.DeadlineExceeded)
	}
	done := make(chan struct{})
	go func() {
		q.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("Close did not return with a message invisible for an hour")
	}
}
