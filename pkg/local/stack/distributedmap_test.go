package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/veil"
)

// TestBackfillStateMachine runs template.yaml's BackfillStateMachine, a
// Distributed Map whose ItemReader lists the leads bucket and whose
// ItemBatcher hands IndexFunction batches of up to 50 keys, through the
// Step Functions API on the edge. With the bucket's notifications held
// (lists that were there before the index), every list under the prefix
// ends up indexed at its current version over two batches; the one binary
// object is reported failed in its manifest without failing the execution;
// an object outside the prefix is left alone.
func TestBackfillStateMachine(t *testing.T) {
	opts := stacktest.Options(t)
	opts.HoldNotifications = true
	s := stacktest.Start(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bucket := s.Names["LeadsBucket"]
	objects := s3.NewFromConfig(s.AWS)
	put := func(key string, body []byte) string {
		t.Helper()
		out, err := objects.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
		}
		return aws.ToString(out.VersionId)
	}
	versions := map[string]string{}
	for i := range 61 {
		key := fmt.Sprintf("campaigns/c-%d/list-%02d.csv", i%3, i)
		versions[key] = put(key, fmt.Appendf(nil, "First Name,Mobile No.,E-mail\nLee,(212) 555-%04d,lead%d@example.com\nKim,(646) 555-%04d,other%d@example.net\n", i, i, i, i))
	}
	const binary = "campaigns/c-0/photo.bin"
	put(binary, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	put("archive/2019.csv", []byte("First Name,E-mail\nAda,ada@example.com\n"))
	if n := len(s.HeldNotifications()); n != 63 {
		t.Fatalf("held notifications = %d, want 63 (nothing indexed by events)", n)
	}

	api := sfn.NewFromConfig(s.AWS)
	input, _ := json.Marshal(map[string]string{"bucket": bucket, "prefix": "campaigns/"})
	started, err := api.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(s.Names["BackfillStateMachine"]), Input: aws.String(string(input))})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	waitStopped(t, s, aws.ToString(started.ExecutionArn))
	desc, err := api.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: started.ExecutionArn})
	if err != nil || desc.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution: %v, %s %s: %s; want SUCCEEDED", err, desc.Status, aws.ToString(desc.Error), aws.ToString(desc.Cause))
	}

	store := indexstore.New(dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"])
	for key, version := range versions {
		m, err := store.Manifest(ctx, bucket, key)
		if err != nil || m.Status != indexing.StatusIndexed || m.VersionID != version || m.Rows != 2 {
			t.Fatalf("manifest of %s = %s@%s, %d rows, %v; want indexed@%s with 2 rows", key, m.Status, m.VersionID, m.Rows, err, version)
		}
	}
	if m, err := store.Manifest(ctx, bucket, binary); err != nil || m.Status != indexing.StatusFailed || !strings.Contains(m.Error, "binary") {
		t.Fatalf("manifest of %s = %s %q, %v; want failed for its binary content", binary, m.Status, m.Error, err)
	}
	if _, err := store.Manifest(ctx, bucket, "archive/2019.csv"); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("manifest of archive/2019.csv: error %v, want ErrNotFound (outside the prefix)", err)
	}

	// The parent's history shows the Map Run, not the child executions'
	// IndexFunction tasks.
	history, err := api.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: started.ExecutionArn})
	if err != nil {
		t.Fatalf("GetExecutionHistory: %v", err)
	}
	var types []string
	for _, ev := range history.Events {
		types = append(types, string(ev.Type))
		if ev.Type == sfntypes.HistoryEventTypeMapRunStarted {
			arn := aws.ToString(ev.MapRunStartedEventDetails.MapRunArn)
			if !strings.Contains(arn, ":mapRun:veil-backfill/IndexObjects:") {
				t.Fatalf("mapRunArn = %s, want the Map Run of BackfillStateMachine's IndexObjects label", arn)
			}
		}
	}
	want := "ExecutionStarted MapStateEntered MapStateStarted MapRunStarted MapRunSucceeded MapStateSucceeded MapStateExited ExecutionSucceeded"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("history = %s\nwant      %s", got, want)
	}
}
