package sfnlocal

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/veil-privacy/veil/pkg/asl"
	"github.com/veil-privacy/veil/pkg/local/s3local"
)

// TestDistributedMapOverSDK runs a Distributed Map whose ItemReader lists
// the local S3 (Options.S3, the real SDK client over HTTP) and reads its
// history with the sfn client: the Map Run events carry the details the SDK
// types define (mapRunStartedEventDetails.mapRunArn,
// mapRunFailedEventDetails.error and cause).
func TestDistributedMapOverSDK(t *testing.T) {
	ctx := context.Background()
	backend, err := s3local.Open("", nil)
	if err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(s3local.Server(backend))
	t.Cleanup(func() {
		s3srv.Close()
		_ = backend.Close()
	})
	objects := s3.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s3srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if _, err := objects.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("leads")}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"in/a.csv", "in/b.csv", "in/c.csv", "other/d.csv"} {
		if _, err := objects.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("leads"), Key: aws.String(key), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}

	s := newServer(t, Options{S3: objects})
	ts := httptest.NewServer(s)
	defer ts.Close()
	c := sdkClient(ts.URL)
	def := `{"StartAt":"Each","States":{"Each":{"Type":"Map","Label":"Each",
	  "ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket.$":"$.bucket","Prefix.$":"$.prefix"}},
	  "ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"bucket.$":"$.bucket"}},
	  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Keys",
	    "States":{"Keys":{"Type":"Pass","Parameters":{"bucket.$":"$.BatchInput.bucket","keys.$":"$.Items[*].Key"},"End":true}}},
	  "End":true}}}`
	created, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("fan-out"),
		Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn")})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}

	start := func(input string) (string, []types.HistoryEvent) {
		t.Helper()
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(input)})
		if err != nil {
			t.Fatalf("StartExecution: %v", err)
		}
		waitStatus(t, s, aws.ToString(out.ExecutionArn), asl.StatusSucceeded, asl.StatusFailed)
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
		if err != nil {
			t.Fatalf("DescribeExecution: %v", err)
		}
		h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: out.ExecutionArn, IncludeExecutionData: aws.Bool(true)})
		if err != nil {
			t.Fatalf("GetExecutionHistory: %v", err)
		}
		return string(d.Status) + " " + aws.ToString(d.Output) + aws.ToString(d.Error), h.Events
	}
	find := func(events []types.HistoryEvent, typ types.HistoryEventType) types.HistoryEvent {
		t.Helper()
		for _, ev := range events {
			if ev.Type == typ {
				return ev
			}
		}
		t.Fatalf("no %s event in the history", typ)
		return types.HistoryEvent{}
	}

	got, events := start(`{"bucket":"leads","prefix":"in/"}`)
	if want := `SUCCEEDED [{"bucket":"leads","keys":["in/a.csv","in/b.csv"]},{"bucket":"leads","keys":["in/c.csv"]}]`; got != want {
		t.Fatalf("execution = %s\nwant        %s", got, want)
	}
	started := find(events, types.HistoryEventTypeMapRunStarted)
	wantARN := "arn:aws:states:us-east-1:000000000000:mapRun:fan-out/Each:"
	if started.MapRunStartedEventDetails == nil || !strings.HasPrefix(aws.ToString(started.MapRunStartedEventDetails.MapRunArn), wantARN) {
		t.Fatalf("MapRunStarted details = %+v, want mapRunArn %s<id>", started.MapRunStartedEventDetails, wantARN)
	}
	find(events, types.HistoryEventTypeMapRunSucceeded)
	for _, ev := range events {
		if ev.Type == types.HistoryEventTypePassStateEntered || strings.HasPrefix(string(ev.Type), "MapIteration") {
			t.Fatalf("parent history has a child execution's %s event", ev.Type)
		}
	}

	got, events = start(`{"bucket":"no-such-bucket","prefix":"in/"}`)
	if got != "FAILED States.ItemReaderFailed" {
		t.Fatalf("execution = %s, want FAILED States.ItemReaderFailed", got)
	}
	failed := find(events, types.HistoryEventTypeMapRunFailed)
	if d := failed.MapRunFailedEventDetails; d == nil || aws.ToString(d.Error) != asl.ErrItemReaderFailed || !strings.Contains(aws.ToString(d.Cause), "NoSuchBucket") {
		t.Fatalf("MapRunFailed details = %+v, want States.ItemReaderFailed naming NoSuchBucket", failed.MapRunFailedEventDetails)
	}
}
