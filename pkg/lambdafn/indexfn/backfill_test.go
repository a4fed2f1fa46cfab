package indexfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/veil"
)

// applyFunc is a pure fake of Applier that records what it was given and
// answers with its function.
type applyFunc struct {
	got   []indexing.ObjectChange
	apply func(c indexing.ObjectChange) error
}

func (a *applyFunc) Apply(_ context.Context, c indexing.ObjectChange) error {
	a.got = append(a.got, c)
	if a.apply == nil {
		return nil
	}
	return a.apply(c)
}

func keysOf(changes []indexing.ObjectChange) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.Key
	}
	return out
}

// TestBackfillSampleEvents: both batch shapes of events/index reach Apply
// as backfill changes (sequencer "0", so a real event always wins) of the
// batch's bucket, one per key, in order, with the listing's size and
// unquoted ETag.
func TestBackfillSampleEvents(t *testing.T) {
	tests := []struct {
		file     string
		wantKeys []string
		wantETag string // of the first key
		wantSize int64  // of the first key
	}{
		{"index/backfill-batch.json", []string{"campaigns/spring-refi/leads 2026-03.csv", "campaigns/solar-2026/q1-export.csv", "campaigns/solar-2026/callbacks.tsv"}, "d41d8cd98f00b204e9800998ecf8427e", 365},
		{"index/distributed-map-batch.json", []string{"campaigns/spring-refi/leads 2026-03.csv", "campaigns/solar-2026/q1-export.csv"}, "d41d8cd98f00b204e9800998ecf8427e", 365},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			a := &applyFunc{}
			out, err := New(a).Dispatch(context.Background(), lambdafntest.Event(t, tc.file))
			if err != nil {
				t.Fatalf("Dispatch error = %v, want nil", err)
			}
			res, ok := out.(BatchResult)
			if !ok {
				t.Fatalf("Dispatch result = %T, want BatchResult", out)
			}
			if res.Indexed != len(tc.wantKeys) || len(res.Failed) != 0 {
				t.Fatalf("result = %+v, want %d indexed, none failed", res, len(tc.wantKeys))
			}
			if got := keysOf(a.got); !reflect.DeepEqual(got, tc.wantKeys) {
				t.Fatalf("applied keys = %q, want %q", got, tc.wantKeys)
			}
			for _, c := range a.got {
				if c.Bucket != "veil-leads" || !c.Reconcile || c.Sequencer != "" || c.EventName != BackfillEventName || c.Removed {
					t.Fatalf("change = %+v, want a reconciling change of bucket veil-leads, event %q, not removed", c, BackfillEventName)
				}
			}
			if c := a.got[0]; c.ETag != tc.wantETag || c.Size != tc.wantSize {
				t.Fatalf("first change ETag, Size = %q, %d; want %q, %d", c.ETag, c.Size, tc.wantETag, tc.wantSize)
			}
			b, _ := json.Marshal(res)
			if want := fmt.Sprintf(`{"indexed":%d,"failed":[]}`, len(tc.wantKeys)); string(b) != want {
				t.Fatalf("result JSON = %s, want %s", b, want)
			}
		})
	}
}

// TestBackfillFailures: a list that cannot be indexed is a per-key failure
// and the batch goes on; any other error ends the invocation (so the caller
// or the Distributed Map retries the batch) and names the key.
func TestBackfillFailures(t *testing.T) {
	batch := BackfillBatch{Bucket: "veil-leads", Objects: []BackfillObject{
		{Key: "campaigns/a/good.csv"}, {Key: "campaigns/a/photo.jpg"}, {Key: "campaigns/a/"}, {Key: "campaigns/a/later.csv"},
	}}
	inputErr := func(c indexing.ObjectChange) error {
		if strings.HasSuffix(c.Key, ".jpg") {
			return &indexing.InputError{Bucket: c.Bucket, Key: c.Key, VersionID: "v1", Reason: "binary content (NUL byte)"}
		}
		return nil
	}
	throttled := errors.New("ProvisionedThroughputExceededException")
	storeErr := func(c indexing.ObjectChange) error {
		if strings.HasSuffix(c.Key, ".jpg") {
			return throttled
		}
		return nil
	}
	tests := []struct {
		name        string
		apply       func(indexing.ObjectChange) error
		wantApplied []string
		wantIndexed int
		wantFailed  []string
		wantErr     error
	}{
		{"input error is per key", inputErr,
			[]string{"campaigns/a/good.csv", "campaigns/a/photo.jpg", "campaigns/a/later.csv"}, 2, []string{"campaigns/a/photo.jpg"}, nil},
		{"store error fails the invocation", storeErr,
			[]string{"campaigns/a/good.csv", "campaigns/a/photo.jpg"}, 1, nil, throttled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &applyFunc{apply: tc.apply}
			res, err := New(a).HandleBackfill(context.Background(), batch)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "s3://veil-leads/campaigns/a/photo.jpg") {
				t.Fatalf("error = %q, want it to name the object", err)
			}
			if got := keysOf(a.got); !reflect.DeepEqual(got, tc.wantApplied) {
				t.Fatalf("applied = %q, want %q (the folder marker is skipped)", got, tc.wantApplied)
			}
			if res.Indexed != tc.wantIndexed {
				t.Fatalf("indexed = %d, want %d", res.Indexed, tc.wantIndexed)
			}
			var failed []string
			for _, f := range res.Failed {
				failed = append(failed, f.Key)
				if !strings.Contains(f.Error, "binary content") {
					t.Fatalf("failure of %s = %q, want the reason", f.Key, f.Error)
				}
			}
			if !reflect.DeepEqual(failed, tc.wantFailed) {
				t.Fatalf("failed = %q, want %q", failed, tc.wantFailed)
			}
		})
	}
}

// TestDispatch: the entry tells payloads apart by shape; an SQS event gets
// exactly Handle's answer, and a payload of no known shape or a batch
// missing a field is a ValidationError naming the field.
func TestDispatch(t *testing.T) {
	var sqs events.SQSEvent
	lambdafntest.Decode(t, "index/s3-object-created-via-sqs.json", &sqs)
	bad := sqs.Records[0]
	bad.MessageId, bad.Body = "not-json", "{"
	sqs.Records = append(sqs.Records, bad)
	sqsRaw, _ := json.Marshal(sqs)

	tests := []struct {
		name      string
		payload   string
		want      any
		wantField string
	}{
		{"sqs event", string(sqsRaw), events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "not-json"}}}, ""},
		{"not an object", `[1,2]`, nil, "event"},
		{"unknown shape", `{"hello":"world"}`, nil, "event"},
		{"backfill without bucket", `{"backfill":{"objects":[{"key":"k"}]}}`, nil, "backfill.bucket"},
		{"backfill without objects", `{"backfill":{"bucket":"b"}}`, nil, "backfill.objects"},
		{"backfill with empty key", `{"backfill":{"bucket":"b","objects":[{"key":"k"},{"key":""}]}}`, nil, "backfill.objects[1].key"},
		{"backfill malformed", `{"backfill":{"bucket":7}}`, nil, "backfill"},
		{"map batch without bucket", `{"Items":[{"Key":"k","Size":1}],"BatchInput":{}}`, nil, "BatchInput.bucket"},
		{"map batch with empty key", `{"Items":[{"Key":"","Size":1}],"BatchInput":{"bucket":"b"}}`, nil, "Items[0].Key"},
		{"map batch malformed", `{"Items":{}}`, nil, "Items"},
		{"sqs malformed", `{"Records":{}}`, nil, "Records"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &applyFunc{}
			got, err := New(a).Dispatch(context.Background(), json.RawMessage(tc.payload))
			if tc.wantField != "" {
				var ve *veil.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.wantField {
					t.Fatalf("error = %v, want a ValidationError on %s", err, tc.wantField)
				}
				if len(a.got) != 0 {
					t.Fatalf("applied %d changes, want none", len(a.got))
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Dispatch = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// FuzzDispatch: an invocation payload is untrusted; it is answered or
// refused with a ValidationError, never a panic, and every key applied
// comes from a batch naming a bucket, as a backfill change.
func FuzzDispatch(f *testing.F) {
	for _, file := range []string{"index/backfill-batch.json", "index/distributed-map-batch.json", "index/s3-object-created-via-sqs.json"} {
		f.Add(lambdafntest.Event(f, file))
	}
	f.Add([]byte(`{"backfill":{"bucket":"b","objects":[{"key":"a/"}]},"Items":[]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		a := &applyFunc{}
		_, err := New(a).Dispatch(context.Background(), payload)
		if err != nil {
			var ve *veil.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v, want *veil.ValidationError", err, err)
			}
		}
		for _, c := range a.got {
			// A change has S3's sequencer, or reconciles without one.
			if c.Bucket == "" || c.Key == "" || (c.Sequencer == "") != c.Reconcile {
				t.Fatalf("change %+v lacks bucket or key, or has neither a sequencer nor Reconcile", c)
			}
		}
	})
}
