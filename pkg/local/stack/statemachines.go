package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/veil-privacy/veil/pkg/asl"
	"github.com/veil-privacy/veil/pkg/local/iam"
	"github.com/veil-privacy/veil/pkg/local/lambdalocal"
	"github.com/veil-privacy/veil/pkg/local/sfnlocal"
	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// lambdaTasks lets the state machines invoke the local functions, reporting
// a handler's error with its Go errorType as Lambda does. Each invocation
// is the execution role's lambda:InvokeFunction call, evaluated against
// the state machine's policies: refused, the Task fails with the error
// Step Functions reports for Lambda's AccessDeniedException.
type lambdaTasks struct {
	rt  *lambdalocal.Runtime
	iam *iam.Authorizer
}

func (l lambdaTasks) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	arn := function
	if !strings.HasPrefix(arn, "arn:") {
		arn = l.rt.ARN(function)
	}
	if d := l.iam.Check(roleKey(asl.RoleARN(ctx)), "lambda", "Invoke", iam.Request{Action: "lambda:InvokeFunction", Resource: arn}); d != nil {
		return nil, &asl.FunctionError{Type: "Lambda.AWSLambdaException",
			Message: d.Message() + " (Service: Lambda, Status Code: 403, Error Code: AccessDeniedException)"}
	}
	out, err := l.rt.Invoke(ctx, function, payload)
	var fe *lambdalocal.FunctionError
	switch {
	case errors.As(err, &fe):
		return nil, &asl.FunctionError{Type: fe.Type, Message: fe.Message}
	case errors.Is(err, lambdalocal.ErrFunctionNotFound):
		// What a Task state sees on AWS when the function does not exist.
		return nil, &asl.FunctionError{Type: "Lambda.ResourceNotFoundException", Message: err.Error()}
	}
	return out, err
}

// startStateMachines starts the Step Functions stand-in and creates every
// state machine of the template from its DefinitionUri with its
// DefinitionSubstitutions resolved to local ARNs.
func (s *Stack) startStateMachines(ctx context.Context, res *samtemplate.Resolver) (*sfnlocal.Server, error) {
	srv, err := sfnlocal.New(sfnlocal.Options{
		Dir: filepath.Join(s.opts.DataDir, "stepfunctions"), Invoker: lambdaTasks{rt: s.Runtime, iam: s.IAM},
		Clock: s.opts.Clock, Region: Region, AccountID: AccountID, Logger: s.log,
		// Distributed Maps read S3 as the functions do, through the edge,
		// signed as the execution's role.
		S3: newRoleS3(s.AWS, s.Template.OfType("AWS::Serverless::StateMachine")),
	})
	if err != nil {
		return nil, fmt.Errorf("step functions: %w", err)
	}
	for _, id := range s.Template.OfType("AWS::Serverless::StateMachine") {
		props := s.Template.Resources[id].Properties
		uri, _ := props["DefinitionUri"].(string)
		def, err := os.ReadFile(filepath.Join(s.opts.Root, uri))
		if err != nil {
			srv.Close()
			return nil, fmt.Errorf("state machine %s: %w", id, err)
		}
		text := string(def)
		subs, _ := props["DefinitionSubstitutions"].(map[string]any)
		for name, v := range subs {
			val, err := res.String(v)
			if err != nil {
				srv.Close()
				return nil, fmt.Errorf("state machine %s substitution %s: %w", id, name, err)
			}
			text = strings.ReplaceAll(text, "${"+name+"}", val)
		}
		name := s.Names[id][strings.LastIndex(s.Names[id], ":")+1:]
		arn, err := srv.CreateStateMachine(ctx, name, text, RoleARN(id))
		if err != nil {
			srv.Close()
			return nil, fmt.Errorf("state machine %s: %w", id, err)
		}
		if arn != s.Names[id] {
			srv.Close()
			return nil, fmt.Errorf("state machine %s: created as %s, but Ref gives %s", id, arn, s.Names[id])
		}
	}
	return srv, nil
}
