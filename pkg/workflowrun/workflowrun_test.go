package workflowrun_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/veil-privacy/veil/pkg/asl"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/workflowrun"
)

// TestRuns: on the local Step Functions, a request's execution is named
// after it and started once however often Start is called; its input is
// the request ID alone; Resume completes a waiting task, and a token that
// no longer waits, or never did, is no error.
func TestRuns(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	ctx := context.Background()
	client := sfn.NewFromConfig(s.AWS)
	created, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("approval"),
		RoleArn: aws.String(stack.RoleARN("PrivacyRequestStateMachine")), Definition: aws.String(`{"StartAt":"Wait","States":{
			"Wait":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
				"Parameters":{"FunctionName":"IntakeFunction","Payload":{"Name":"ContactFlowEvent","Details":{"Parameters":{"action":"ping","token.$":"$$.Task.Token"}}}},
				"ResultPath":"$.resumed","End":true}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	runs := &workflowrun.Runs{API: client, StateMachineARN: *created.StateMachineArn}
	for range 2 {
		if err := runs.Start(ctx, "req-1"); err != nil {
			t.Fatalf("Start = %v, want nil (twice)", err)
		}
	}
	list, err := client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: created.StateMachineArn})
	if err != nil || len(list.Executions) != 1 || *list.Executions[0].Name != "req-1" {
		t.Fatalf("executions = %+v, %v; want one, named req-1", list, err)
	}
	arn := *list.Executions[0].ExecutionArn
	x, _ := s.StepFunctions.Engine().Execution(arn)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	token := ""
	if err := s.StepFunctions.Engine().WaitFor(wctx, func() bool {
		for _, ev := range x.History() {
			b, _ := json.Marshal(ev)
			if i := strings.Index(string(b), `token\":\"`); i >= 0 && ev.Type == "TaskScheduled" {
				rest := string(b)[i+len(`token\":\"`):]
				token = rest[:strings.Index(rest, `\"`)]
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the task never started: %v", err)
	}
	if err := runs.Resume(ctx, token, map[string]any{"decision": "approve"}); err != nil {
		t.Fatalf("Resume = %v", err)
	}
	if _, err := s.StepFunctions.Engine().WaitStatus(wctx, arn, asl.StatusSucceeded); err != nil {
		t.Fatalf("execution did not succeed: %v", err)
	}
	d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil || *d.Input != `{"requestId":"req-1"}` || !strings.Contains(*d.Output, `"resumed":{"decision":"approve"}`) {
		t.Fatalf("execution = input %v output %v, %v; want the request ID in, the decision out", aws.ToString(d.Input), aws.ToString(d.Output), err)
	}
	for _, tok := range []string{token, "not-a-token"} {
		if err := runs.Resume(ctx, tok, map[string]any{"decision": "deny"}); err != nil {
			t.Fatalf("Resume of a token that no longer waits = %v, want nil", err)
		}
	}
}
