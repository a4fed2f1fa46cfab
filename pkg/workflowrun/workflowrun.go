// Package workflowrun starts and resumes privacy-request executions on
// Step Functions: an execution is named after its request, so starting
// one twice is harmless, and its input is the request ID alone.
package workflowrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// API is the part of the Step Functions client Runs calls.
type API interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

// Runs is the privacy-request state machine's executions.
type Runs struct {
	API             API
	StateMachineARN string
}

// Start starts request id's execution, named id, with input
// {"requestId": id}. An execution of that name already running or done
// is no error.
func (r *Runs) Start(ctx context.Context, requestID string) error {
	in, _ := json.Marshal(map[string]string{"requestId": requestID})
	_, err := r.API.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(r.StateMachineARN),
		Name: aws.String(requestID), Input: aws.String(string(in))})
	var exists *sfntypes.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start execution of request %s: %w", requestID, err)
	}
	return nil
}

// Resume completes the task waiting on token with output. A token that no
// longer waits (the task timed out, or another caller resumed it) is no
// error: whoever came first moved the workflow on.
func (r *Runs) Resume(ctx context.Context, token string, output any) error {
	b, err := json.Marshal(output)
	if err != nil {
		return err
	}
	_, err = r.API.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(b))})
	var gone *sfntypes.TaskTimedOut
	var invalid *sfntypes.InvalidToken
	var missing *sfntypes.TaskDoesNotExist
	if errors.As(err, &gone) || errors.As(err, &invalid) || errors.As(err, &missing) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("resume task: %w", err)
	}
	return nil
}
