package indexfn

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/veil"
)

// recorder is a pure fake of Applier: it records what it was
// given and fails for keys listed in fail.
type recorder struct {
	got  []indexing.ObjectChange
	fail map[string]bool
}

func (r *recorder) Apply(_ context.Context, c indexing.ObjectChange) error {
	if r.fail[c.Key] {
		return errors.New("throttled")
	}
	r.got = append(r.got, c)
	return nil
}

func TestSampleEvents(t *testing.T) {
	tests := []struct {
		file        string
		wantChanges int
		wantKey     string
		wantRemoved bool
		wantSeq     string
	}{
		{"index/s3-object-created-via-sqs.json", 1, "campaigns/spring-refi/leads 2026-03.csv", false, "0055AED6DCD90281E5"},
		{"index/s3-object-removed-via-sqs.json", 1, "campaigns/spring-refi/leads 2026-03.csv", true, "0055AED6DCD90281F1"},
		{"index/s3-test-event-via-sqs.json", 0, "", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var ev events.SQSEvent
			lambdafntest.Decode(t, tc.file, &ev)
			rec := &recorder{}
			resp, err := New(rec).Handle(context.Background(), ev)
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("Handle = %+v, %v; want no failures", resp, err)
			}
			if len(rec.got) != tc.wantChanges {
				t.Fatalf("changes = %d, want %d", len(rec.got), tc.wantChanges)
			}
			if tc.wantChanges == 0 {
				return
			}
			c := rec.got[0]
			if c.Key != tc.wantKey || c.Removed != tc.wantRemoved || c.Sequencer != tc.wantSeq || c.Bucket != "veil-leads" {
				t.Fatalf("change = %+v, want key %q removed %v sequencer %s", c, tc.wantKey, tc.wantRemoved, tc.wantSeq)
			}
		})
	}
}

// TestPartialBatchFailure: only the record that failed is reported, so SQS
// retries it alone.
func TestPartialBatchFailure(t *testing.T) {
	var created, removed events.SQSEvent
	lambdafntest.Decode(t, "index/s3-object-created-via-sqs.json", &created)
	lambdafntest.Decode(t, "index/s3-object-removed-via-sqs.json", &removed)
	bad := created.Records[0]
	bad.MessageId = "not-json"
	bad.Body = "{"
	ev := events.SQSEvent{Records: []events.SQSMessage{created.Records[0], bad, removed.Records[0]}}

	rec := &recorder{}
	resp, err := New(rec).Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "not-json" {
		t.Fatalf("failures = %+v, want only not-json", resp.BatchItemFailures)
	}
	if len(rec.got) != 2 {
		t.Fatalf("recorded %d changes, want 2", len(rec.got))
	}

	rec = &recorder{fail: map[string]bool{"campaigns/spring-refi/leads 2026-03.csv": true}}
	resp, _ = New(rec).Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{created.Records[0]}})
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != created.Records[0].MessageId {
		t.Fatalf("store failure: failures = %+v, want the record's message", resp.BatchItemFailures)
	}
}

func TestChangesRejects(t *testing.T) {
	tests := []struct {
		name, body, field string
	}{
		{"not json", "<xml/>", "body"},
		{"not an event", `{"Records":"x"}`, "body"},
		{"no records", `{"Records":[]}`, "Records"},
		{"bad key encoding", `{"Records":[{"s3":{"bucket":{"name":"b"},"object":{"key":"%zz","sequencer":"01"}}}]}`, "body"},
		{"no sequencer", `{"Records":[{"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, "Records[0].s3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Changes(tc.body)
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("error = %v, want a ValidationError on %s", err, tc.field)
			}
		})
	}
}

// FuzzChanges: an event body is untrusted; it is parsed or refused with a
// ValidationError, never a panic, and what parses has a bucket, key and
// sequencer.
func FuzzChanges(f *testing.F) {
	for _, file := range []string{"index/s3-object-created-via-sqs.json", "index/s3-object-removed-via-sqs.json", "index/s3-test-event-via-sqs.json"} {
		var ev events.SQSEvent
		lambdafntest.Decode(f, file, &ev)
		f.Add(ev.Records[0].Body)
	}
	f.Add(`{"Records":[{"s3":{"bucket":{"name":"b"},"object":{"key":"a+b%2Fc","sequencer":"0A"}}}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		changes, err := Changes(body)
		if err != nil {
			var ve *veil.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v, want *veil.ValidationError", err, err)
			}
			return
		}
		for _, c := range changes {
			if c.Bucket == "" || c.Key == "" || c.Sequencer == "" {
				t.Fatalf("change %+v lacks bucket, key or sequencer", c)
			}
		}
		if _, err := json.Marshal(changes); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRemovedEvents: deletions and lifecycle expirations are removals, so
// that a version S3 expired has its noncurrent entries dropped.
func TestRemovedEvents(t *testing.T) {
	for name, want := range map[string]bool{
		"ObjectCreated:Put": false, "ObjectCreated:CompleteMultipartUpload": false,
		"ObjectRemoved:Delete": true, "ObjectRemoved:DeleteMarkerCreated": true,
		"LifecycleExpiration:Delete": true, "LifecycleExpiration:DeleteMarkerCreated": true, "s3:LifecycleExpiration:Delete": true,
	} {
		if got := removed(name); got != want {
			t.Errorf("removed(%q) = %v, want %v", name, got, want)
		}
	}
}
