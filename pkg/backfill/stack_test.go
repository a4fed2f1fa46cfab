package backfill_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/veil-privacy/veil/pkg/backfill"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/local/s3local"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/veil"
)

const binaryKey = "campaigns/c-00/photo.bin"

func list(i int) []byte {
	return fmt.Appendf(nil, "First Name,Mobile No.,E-mail,Score\nLee,(212) 555-%04d,lead%d@example.com,%d\nKim,(646) 555-%04d,other%d@example.net,7\n", i, i, i, i, i)
}

func put(t *testing.T, api *s3.Client, bucket, key string, body []byte) string {
	t.Helper()
	out, err := api.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
	return aws.ToString(out.VersionId)
}

// TestBackfillOnTheLocalStack: with the bucket's notifications held (lists
// that were there before the index), a backfill through the Lambda Invoke
// API indexes every list under the prefix at its current version over
// several listing pages, reports the one binary object as failed with its
// reason, and leaves other prefixes alone. A second run finds everything
// done: same summary, and not one manifest written. A real S3 event that
// comes after the backfill wins over it.
func TestBackfillOnTheLocalStack(t *testing.T) {
	opts := stacktest.Options(t)
	opts.HoldNotifications = true
	s := stacktest.Start(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bucket := s.Names["LeadsBucket"]
	objects := s3.NewFromConfig(s.AWS)
	store := indexstore.New(dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"])

	versions := map[string]string{}
	for i := range 119 {
		key := fmt.Sprintf("campaigns/c-%02d/list-%03d.csv", i%7, i)
		versions[key] = put(t, objects, bucket, key, list(i))
	}
	versions["campaigns/c-00/leads 2026-03.csv"] = put(t, objects, bucket, "campaigns/c-00/leads 2026-03.csv", list(500))
	put(t, objects, bucket, binaryKey, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	put(t, objects, bucket, "campaigns/", nil) // a console folder
	put(t, objects, bucket, "archive/2019.csv", list(900))
	if n := len(s.HeldNotifications()); n != 123 {
		t.Fatalf("held notifications = %d, want 123 (nothing indexed by events)", n)
	}

	run := func() backfill.Summary {
		t.Helper()
		var last backfill.Progress
		sum, err := backfill.Run(ctx, objects, lambda.NewFromConfig(s.AWS), backfill.Options{
			Bucket: bucket, Prefix: "campaigns/", PageSize: 25, Progress: func(p backfill.Progress) { last = p },
		})
		if err != nil {
			t.Fatalf("Run error = %v, want nil", err)
		}
		if want := (backfill.Progress{Listed: 121, Done: 121, Failed: 1}); last != want {
			t.Fatalf("last progress = %+v, want %+v", last, want)
		}
		return sum
	}
	wantSummary := func(sum backfill.Summary) {
		t.Helper()
		if sum.Listed != 122 || sum.Skipped != 1 || sum.Indexed != 120 || len(sum.Failed) != 1 {
			t.Fatalf("summary = %+v, want 122 listed, 1 skipped, 120 indexed, 1 failed", sum)
		}
		if f := sum.Failed[0]; f.Key != binaryKey || !strings.Contains(f.Reason, "binary content") {
			t.Fatalf("failure = %+v, want %s failing for its binary content", f, binaryKey)
		}
		if !errors.Is(sum.Err(), backfill.ErrFailed) {
			t.Fatalf("Summary.Err() = %v, want ErrFailed", sum.Err())
		}
	}
	manifests := func() map[string]indexing.Manifest {
		t.Helper()
		out := map[string]indexing.Manifest{}
		for _, key := range append(keysOf(versions), binaryKey) {
			m, err := store.Manifest(ctx, bucket, key)
			if err != nil {
				t.Fatalf("manifest of %s: %v", key, err)
			}
			out[key] = m
		}
		return out
	}

	first := run()
	wantSummary(first)
	if first.Invocations != 3 {
		t.Fatalf("invocations = %d, want 3 (121 objects in batches of 50)", first.Invocations)
	}
	before := manifests()
	for key, version := range versions {
		m := before[key]
		if m.Status != indexing.StatusIndexed || m.VersionID != version || m.Sequencer != indexing.PadSequencer("0") || m.Rows != 2 {
			t.Fatalf("manifest of %s = %s@%s seq %s rows %d, want indexed@%s seq 0, 2 rows", key, m.Status, m.VersionID, m.Sequencer, m.Rows, version)
		}
	}
	if m := before[binaryKey]; m.Status != indexing.StatusFailed || !strings.Contains(m.Error, "binary content") {
		t.Fatalf("manifest of %s = %s %q, want failed for its binary content", binaryKey, m.Status, m.Error)
	}
	if _, err := store.Manifest(ctx, bucket, "archive/2019.csv"); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("manifest of archive/2019.csv: error %v, want ErrNotFound (outside the prefix)", err)
	}

	// Again: every key is answered from its manifest alone.
	wantSummary(run())
	if after := manifests(); !reflect.DeepEqual(after, before) {
		for key := range before {
			if !reflect.DeepEqual(after[key], before[key]) {
				t.Fatalf("second run rewrote the manifest of %s:\n got %+v\nwant %+v", key, after[key], before[key])
			}
		}
	}

	// A list replaced after the backfill: its real event wins.
	key := "campaigns/c-00/leads 2026-03.csv"
	v2 := put(t, objects, bucket, key, list(501))
	held := s.HeldNotifications()
	if len(held) != 1 {
		t.Fatalf("held notifications = %d, want 1", len(held))
	}
	deliver(t, s, held[0])
	m, err := store.Manifest(ctx, bucket, key)
	if err != nil || m.Status != indexing.StatusIndexed || m.VersionID != v2 || m.Sequencer != indexing.PadSequencer(held[0].Sequencer) {
		t.Fatalf("after the event: manifest %s@%s seq %s, %v; want indexed@%s seq %s", m.Status, m.VersionID, m.Sequencer, err, v2, held[0].Sequencer)
	}
	wantSummary(run())
	if again, _ := store.Manifest(ctx, bucket, key); !reflect.DeepEqual(again, m) {
		t.Fatalf("backfill after the event rewrote the manifest: %+v, want %+v", again, m)
	}

	// The Distributed Map version exists on the edge, wired to IndexFunction.
	def, err := sfn.NewFromConfig(s.AWS).DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(s.Names["BackfillStateMachine"])})
	if err != nil || strings.Contains(aws.ToString(def.Definition), "${") || !strings.Contains(aws.ToString(def.Definition), "function:IndexFunction") {
		t.Fatalf("BackfillStateMachine: %v; want its definition with IndexFunction's ARN substituted", err)
	}
}

// deliver hands one held notification to IndexFunction as SQS would.
func deliver(t *testing.T, s *stack.Stack, n s3local.Notification) {
	t.Helper()
	body, err := s3local.EventJSON(n, stack.Region)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-1", Body: string(body), EventSource: "aws:sqs"}}})
	out, err := s.Runtime.Invoke(context.Background(), "IndexFunction", payload)
	if err != nil {
		t.Fatalf("IndexFunction: %v", err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("IndexFunction answered %s, %v; want no failures", out, err)
	}
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
