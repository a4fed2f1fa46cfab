package stack_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/asl"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

// runMachine creates def on the edge with the AWS CLI, starts it with
// input, waits for it to stop and returns describe-execution's answer.
func runMachine(t *testing.T, s *stack.Stack, name, def, input string) map[string]any {
	t.Helper()
	var created struct{ StateMachineArn string }
	_ = json.Unmarshal([]byte(stacktest.AWS(t, s, "stepfunctions", "create-state-machine", "--name", name,
		"--definition", def, "--role-arn", stack.RoleARN("PrivacyRequestStateMachine"))), &created)
	var started struct{ ExecutionArn string }
	_ = json.Unmarshal([]byte(stacktest.AWS(t, s, "stepfunctions", "start-execution",
		"--state-machine-arn", created.StateMachineArn, "--input", input)), &started)
	waitStopped(t, s, started.ExecutionArn)
	var desc map[string]any
	_ = json.Unmarshal([]byte(stacktest.AWS(t, s, "stepfunctions", "describe-execution", "--execution-arn", started.ExecutionArn)), &desc)
	return desc
}

func waitStopped(t *testing.T, s *stack.Stack, arn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.StepFunctions.Engine().WaitStatus(ctx, arn, asl.StatusSucceeded, asl.StatusFailed, asl.StatusAborted, asl.StatusTimedOut); err != nil {
		t.Fatalf("execution %s did not stop: %v", arn, err)
	}
}

func jsonEqual(t *testing.T, got any, want string) bool {
	t.Helper()
	var g, w any
	if s, ok := got.(string); ok {
		_ = json.Unmarshal([]byte(s), &g)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	return reflect.DeepEqual(g, w)
}

// TestStepFunctionsOnTheEdge runs machines of every kind the workflow uses
// through the real AWS CLI on the edge; outputs are those AWS documents.
func TestStepFunctionsOnTheEdge(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	tests := []struct {
		name, def, input, status, output, errName string
	}{
		{
			// ASL specification, "Pass State": Result placed at ResultPath.
			name:   "pass",
			def:    `{"StartAt":"No-op","States":{"No-op":{"Type":"Pass","Result":{"x-datum":0.381018,"y-datum":622.2269926397355},"ResultPath":"$.coords","End":true}}}`,
			input:  `{"georefOf":"Home"}`,
			status: "SUCCEEDED", output: `{"georefOf":"Home","coords":{"x-datum":0.381018,"y-datum":622.2269926397355}}`,
		},
		{
			// ASL specification, "Choice State" example with And/Not.
			name: "choice",
			def: `{"StartAt":"Route","States":{"Route":{"Type":"Choice","Choices":[
				{"Not":{"Variable":"$.type","StringEquals":"Private"},"Next":"Public"},
				{"And":[{"Variable":"$.value","NumericGreaterThanEquals":20},{"Variable":"$.value","NumericLessThan":30}],"Next":"ValueInTwenties"}],
				"Default":"DefaultState"},
				"Public":{"Type":"Pass","Result":"public","End":true},
				"ValueInTwenties":{"Type":"Pass","Result":"twenties","End":true},
				"DefaultState":{"Type":"Fail","Error":"DefaultStateError","Cause":"No Matches!"}}}`,
			input:  `{"type":"Private","value":22}`,
			status: "SUCCEEDED", output: `"twenties"`,
		},
		{
			// AWS docs, "Map state": ItemsPath and ItemSelector with $$.Map.Item.Value.
			name: "map",
			def: `{"StartAt":"Validate-All","States":{"Validate-All":{"Type":"Map","ItemsPath":"$.detail.shipped",
				"ItemSelector":{"parcel.$":"$$.Map.Item.Value","courier.$":"$.delivery-partner"},"MaxConcurrency":0,
				"ItemProcessor":{"StartAt":"Validate","States":{"Validate":{"Type":"Pass","End":true}}},"ResultPath":"$.detail.shipped","End":true}}}`,
			input:  `{"ship-date":"2016-03-14T01:59:00Z","delivery-partner":"UQS","detail":{"shipped":[{"prod":"R31","dest-code":9511,"quantity":1344},{"prod":"S39","dest-code":9511,"quantity":40}]}}`,
			status: "SUCCEEDED",
			output: `{"ship-date":"2016-03-14T01:59:00Z","delivery-partner":"UQS","detail":{"shipped":[{"parcel":{"prod":"R31","dest-code":9511,"quantity":1344},"courier":"UQS"},{"parcel":{"prod":"S39","dest-code":9511,"quantity":40},"courier":"UQS"}]}}`,
		},
		{
			// ASL specification, "Parallel State": the output is the array of branch outputs.
			name: "parallel",
			def: `{"StartAt":"LookupCustomerInfo","States":{"LookupCustomerInfo":{"Type":"Parallel","End":true,"Branches":[
				{"StartAt":"LookupAddress","States":{"LookupAddress":{"Type":"Pass","Parameters":{"address.$":"$.address"},"End":true}}},
				{"StartAt":"LookupPhone","States":{"LookupPhone":{"Type":"Pass","Parameters":{"phone.$":"$.phone"},"End":true}}}]}}}`,
			input:  `{"address":"12 Pine St","phone":"+12125550147"}`,
			status: "SUCCEEDED", output: `[{"address":"12 Pine St"},{"phone":"+12125550147"}]`,
		},
		{
			// AWS docs, "Intrinsic functions": States.Format, States.MathAdd,
			// States.ArrayLength, States.StringToJson.
			name: "intrinsics",
			def: `{"StartAt":"F","States":{"F":{"Type":"Pass","Parameters":{
				"greeting.$":"States.Format('Hello, my name is {}.', $.name)",
				"sum.$":"States.MathAdd($.value1, $.step)",
				"length.$":"States.ArrayLength($.inputArray)",
				"parsed.$":"States.StringToJson($.escapedJsonString)"},"End":true}}}`,
			input:  `{"name":"Arnav","value1":111,"step":-1,"inputArray":[1,2,3,4,5,6,7,8,9],"escapedJsonString":"{\"foo\": \"bar\"}"}`,
			status: "SUCCEEDED", output: `{"greeting":"Hello, my name is Arnav.","sum":110,"length":9,"parsed":{"foo":"bar"}}`,
		},
		{
			// A Lambda error caught by its Go errorType, as on AWS: the
			// local SearchFunction returns *veil.ValidationError.
			name: "catch",
			def: `{"StartAt":"Search","States":{"Search":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:SearchFunction",
				"Catch":[{"ErrorEquals":["ValidationError"],"ResultPath":"$.error","Next":"Caught"}],"End":true},
				"Caught":{"Type":"Pass","End":true}}}`,
			input:  `{"requestId":""}`,
			status: "SUCCEEDED",
			output: `{"requestId":"","error":{"Error":"ValidationError","Cause":"{\"errorMessage\":\"requestId: required\",\"errorType\":\"ValidationError\"}"}}`,
		},
		{
			name: "unhandled error fails the execution",
			def: `{"StartAt":"Search","States":{"Search":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
				"Parameters":{"FunctionName":"PseudonymizeFunction","Payload.$":"$"},"End":true}}}`,
			input:  `{"recordsKey":"exports/r1/records.jsonl"}`,
			status: "FAILED", errName: "ValidationError",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			desc := runMachine(t, s, strings.ReplaceAll(tc.name, " ", "-"), tc.def, tc.input)
			if desc["status"] != tc.status {
				t.Fatalf("status = %v, want %s (%v)", desc["status"], tc.status, desc)
			}
			if tc.output != "" && !jsonEqual(t, desc["output"], tc.output) {
				t.Fatalf("output = %v, want %s", desc["output"], tc.output)
			}
			if tc.errName != "" && desc["error"] != tc.errName {
				t.Fatalf("error = %v, want %s", desc["error"], tc.errName)
			}
		})
	}
}

// TestTemplateStateMachine: the workflow of template.yaml exists on the
// edge with its substitutions resolved to the local functions.
func TestTemplateStateMachine(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	def := stacktest.AWS(t, s, "stepfunctions", "describe-state-machine", "--state-machine-arn", s.Names["PrivacyRequestStateMachine"])
	if strings.Contains(def, "${") || !strings.Contains(def, "function:SearchFunction") || !strings.Contains(def, "function:IntakeFunction") {
		t.Fatalf("definition is not substituted:\n%s", def)
	}
}

// TestFortyFiveDayWaitOnTheEdge: with a manual clock, a 45-day Wait started
// through the CLI completes as soon as the clock is moved, and a
// waitForTaskToken task completes with send-task-success.
func TestFortyFiveDayWaitOnTheEdge(t *testing.T) {
	clock := asl.NewManualClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	opts := stacktest.Options(t)
	opts.Clock = clock
	s := stacktest.Start(t, opts)

	var created struct{ StateMachineArn string }
	_ = json.Unmarshal([]byte(stacktest.AWS(t, s, "stepfunctions", "create-state-machine", "--name", "deadline",
		"--role-arn", stack.RoleARN("PrivacyRequestStateMachine"), "--definition",
		`{"StartAt":"Approval","States":{
			"Approval":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
				"Parameters":{"FunctionName":"IntakeFunction","Payload":{"Name":"ContactFlowEvent","Details":{"Parameters":{"action":"ping","token.$":"$$.Task.Token"}}}},
				"ResultPath":"$.decision","Next":"Deadline"},
			"Deadline":{"Type":"Wait","Seconds":3888000,"Next":"Done"},
			"Done":{"Type":"Succeed"}}}`)), &created)
	var started struct{ ExecutionArn string }
	_ = json.Unmarshal([]byte(stacktest.AWS(t, s, "stepfunctions", "start-execution", "--state-machine-arn", created.StateMachineArn, "--input", "{}")), &started)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var token string
	if err := s.StepFunctions.Engine().WaitFor(ctx, func() bool {
		for _, ev := range executionHistory(s, started.ExecutionArn) {
			if strings.Contains(ev, "TaskSubmitted") || strings.Contains(ev, "LambdaFunctionSucceeded") || strings.Contains(ev, "TaskSucceeded") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the task never ran: %v", err)
	}
	token = taskToken(t, s, started.ExecutionArn)
	stacktest.AWS(t, s, "stepfunctions", "send-task-success", "--task-token", token, "--task-output", `{"approved":true}`)
	if err := s.StepFunctions.Engine().WaitFor(ctx, func() bool { return clock.Pending() > 0 }); err != nil {
		t.Fatalf("the 45-day wait was never armed: %v", err)
	}
	var desc struct{ Status string }
	_ = json.Unmarshal([]byte(stacktest.AWS(t, s, "stepfunctions", "describe-execution", "--execution-arn", started.ExecutionArn)), &desc)
	if desc.Status != "RUNNING" {
		t.Fatalf("status before 45 days = %s, want RUNNING", desc.Status)
	}
	clock.Advance(45 * 24 * time.Hour)
	waitStopped(t, s, started.ExecutionArn)
	var final struct{ Status, Output string }
	_ = json.Unmarshal([]byte(stacktest.AWS(t, s, "stepfunctions", "describe-execution", "--execution-arn", started.ExecutionArn)), &final)
	if final.Status != "SUCCEEDED" || !jsonEqual(t, final.Output, `{"decision":{"approved":true}}`) {
		t.Fatalf("after 45 days: %s %s, want SUCCEEDED with the decision", final.Status, final.Output)
	}
}

func executionHistory(s *stack.Stack, arn string) []string {
	x, ok := s.StepFunctions.Engine().Execution(arn)
	if !ok {
		return nil
	}
	var types []string
	for _, ev := range x.History() {
		b, _ := json.Marshal(ev)
		types = append(types, string(b))
	}
	return types
}

// taskToken reads the token the execution handed its task from the
// function's input in the execution history, as an approver would get it.
func taskToken(t *testing.T, s *stack.Stack, arn string) string {
	t.Helper()
	for _, ev := range executionHistory(s, arn) {
		i := strings.Index(ev, `token\":\"`)
		if i < 0 {
			continue
		}
		rest := ev[i+len(`token\":\"`):]
		if j := strings.Index(rest, `\"`); j > 0 {
			return rest[:j]
		}
	}
	t.Fatal("no task token in the history")
	return ""
}
