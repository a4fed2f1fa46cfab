package sfnlocal

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/veil-privacy/veil/pkg/asl"
)

func sdkClient(url string) *sfn.Client {
	return sfn.New(sfn.Options{
		BaseEndpoint: aws.String(url),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// TestSDK drives the protocol with aws-sdk-go-v2's sfn client, including the
// typed errors production code branches on.
func TestSDK(t *testing.T) {
	ctx := context.Background()
	inv := newTokenInvoker()
	s := newServer(t, Options{Invoker: inv})
	ts := httptest.NewServer(s)
	defer ts.Close()
	c := sdkClient(ts.URL)

	def := readTestdata(t, "approval.asl.json")
	created, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("privacy-request"),
		Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn")})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	if created.CreationDate == nil || created.CreationDate.IsZero() {
		t.Fatalf("CreationDate = %v, want a date", created.CreationDate)
	}
	// Same definition again: idempotent. Different definition: StateMachineAlreadyExists.
	if _, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("privacy-request"),
		Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn")}); err != nil {
		t.Fatalf("CreateStateMachine again: %v", err)
	}
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("privacy-request"),
		Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn")})
	var exists *types.StateMachineAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("CreateStateMachine with another definition: err = %v, want StateMachineAlreadyExists", err)
	}

	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: created.StateMachineArn})
	if err != nil {
		t.Fatalf("DescribeStateMachine: %v", err)
	}
	if aws.ToString(d.Definition) != def || d.Status != types.StateMachineStatusActive || d.Type != types.StateMachineTypeStandard {
		t.Fatalf("DescribeStateMachine = %+v, want the ACTIVE STANDARD machine", d)
	}

	var arns []string
	for _, name := range []string{"a", "b"} {
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn,
			Name: aws.String(name), Input: aws.String(`{"requestId":"` + name + `"}`)})
		if err != nil {
			t.Fatalf("StartExecution: %v", err)
		}
		arns = append(arns, aws.ToString(out.ExecutionArn))
	}
	tokA, tokB := inv.token(t), inv.token(t)
	if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tokA)}); err != nil {
		t.Fatalf("SendTaskHeartbeat: %v", err)
	}
	// Tokens arrive in either order; find which is whose by completing one.
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tokA), Output: aws.String(`{"approved":false}`)}); err != nil {
		t.Fatalf("SendTaskSuccess: %v", err)
	}
	if _, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(tokB), Error: aws.String("Escalated"), Cause: aws.String("past due")}); err != nil {
		t.Fatalf("SendTaskFailure: %v", err)
	}
	for _, arn := range arns {
		waitStatus(t, s, arn, asl.StatusFailed)
	}
	errs := map[string]bool{}
	for _, arn := range arns {
		out, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeExecution: %v", err)
		}
		if out.Status != types.ExecutionStatusFailed || out.StopDate == nil || out.StartDate == nil {
			t.Fatalf("DescribeExecution = %+v, want FAILED with dates", out)
		}
		errs[aws.ToString(out.Error)] = true
	}
	if !errs["RequestDenied"] || !errs["Escalated"] {
		t.Fatalf("errors = %v, want RequestDenied and Escalated", errs)
	}

	// A third execution, stopped.
	started, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(`{"requestId":"c"}`)})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	tokC := inv.token(t)
	if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: started.ExecutionArn, Error: aws.String("Withdrawn")}); err != nil {
		t.Fatalf("StopExecution: %v", err)
	}
	_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tokC), Output: aws.String(`{}`)})
	var timedOut *types.TaskTimedOut
	if !errors.As(err, &timedOut) {
		t.Fatalf("SendTaskSuccess after stop: err = %v, want TaskTimedOut", err)
	}

	list, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: created.StateMachineArn, StatusFilter: types.ExecutionStatusAborted})
	if err != nil {
		t.Fatalf("ListExecutions: %v", err)
	}
	if len(list.Executions) != 1 || aws.ToString(list.Executions[0].ExecutionArn) != aws.ToString(started.ExecutionArn) {
		t.Fatalf("ListExecutions(ABORTED) = %+v, want only %s", list.Executions, aws.ToString(started.ExecutionArn))
	}
	all, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: created.StateMachineArn, MaxResults: 2})
	if err != nil {
		t.Fatalf("ListExecutions: %v", err)
	}
	if len(all.Executions) != 2 || all.NextToken == nil {
		t.Fatalf("ListExecutions(max 2) = %d items, next %v; want 2 and a next token", len(all.Executions), all.NextToken)
	}

	hist, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arns[0])})
	if err != nil {
		t.Fatalf("GetExecutionHistory: %v", err)
	}
	var seen []types.HistoryEventType
	for _, ev := range hist.Events {
		seen = append(seen, ev.Type)
	}
	wantPrefix := []types.HistoryEventType{"ExecutionStarted", "PassStateEntered", "PassStateExited", "TaskStateEntered", "TaskScheduled", "TaskStarted"}
	for i, w := range wantPrefix {
		if i >= len(seen) || seen[i] != w {
			t.Fatalf("history = %v, want it to start with %v", seen, wantPrefix)
		}
	}
	if hist.Events[0].ExecutionStartedEventDetails == nil || aws.ToString(hist.Events[0].ExecutionStartedEventDetails.Input) != `{"requestId":"a"}` {
		t.Fatalf("ExecutionStarted details = %+v, want the input", hist.Events[0].ExecutionStartedEventDetails)
	}
	if d := hist.Events[4].TaskScheduledEventDetails; d == nil || aws.ToString(d.Resource) != "invoke.waitForTaskToken" || aws.ToInt64(d.TimeoutInSeconds) != 3888000 {
		t.Fatalf("TaskScheduled details = %+v, want invoke.waitForTaskToken with a 45-day timeout", d)
	}

	// Typed errors.
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:000000000000:execution:privacy-request:nope")})
	var noExec *types.ExecutionDoesNotExist
	if !errors.As(err, &noExec) {
		t.Fatalf("DescribeExecution(unknown) err = %v, want ExecutionDoesNotExist", err)
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:nope")})
	var noSM *types.StateMachineDoesNotExist
	if !errors.As(err, &noSM) {
		t.Fatalf("StartExecution(unknown machine) err = %v, want StateMachineDoesNotExist", err)
	}
	_, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String("not-an-arn")})
	var badARN *types.InvalidArn
	if !errors.As(err, &badARN) {
		t.Fatalf("DescribeStateMachine(not-an-arn) err = %v, want InvalidArn", err)
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Name: aws.String("has space")})
	var badName *types.InvalidName
	if !errors.As(err, &badName) {
		t.Fatalf("StartExecution(bad name) err = %v, want InvalidName", err)
	}
	_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("garbage!"), Output: aws.String(`{}`)})
	var badToken *types.InvalidToken
	if !errors.As(err, &badToken) {
		t.Fatalf("SendTaskSuccess(garbage) err = %v, want InvalidToken", err)
	}
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bad"), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn"),
		Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Bogus","End":true}}}`)})
	var badDef *types.InvalidDefinition
	if !errors.As(err, &badDef) {
		t.Fatalf("CreateStateMachine(bad type) err = %v, want InvalidDefinition", err)
	}

	machines, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil || len(machines.StateMachines) != 1 {
		t.Fatalf("ListStateMachines = %+v, %v; want one machine", machines, err)
	}
	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: created.StateMachineArn}); err != nil {
		t.Fatalf("DeleteStateMachine: %v", err)
	}
	if _, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: created.StateMachineArn}); !errors.As(err, &noSM) {
		t.Fatalf("DescribeStateMachine after delete err = %v, want StateMachineDoesNotExist", err)
	}
}
