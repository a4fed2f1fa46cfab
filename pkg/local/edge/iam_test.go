package edge

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/veil-privacy/veil/pkg/local/iam"
)

// A refused call reaches no service and surfaces in the real SDK client
// as that service's own access-denied error, naming action and resource.
func TestRefusalsAsTheSDKSeesThem(t *testing.T) {
	reached := false
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		w.WriteHeader(http.StatusOK)
	})
	auth := iam.NewAuthorizer(iam.Env{Region: "us-east-1", AccountID: "000000000000"})
	auth.AddPrincipal("NoneRole", iam.Principal{ARN: "arn:aws:sts::000000000000:assumed-role/NoneRole/None"})
	srv := httptest.NewServer(&Edge{S3: ok, DynamoDB: ok, StepFunctions: ok, Lambda: ok, SecretsManager: ok, SES: ok, SNS: ok, EventBridge: ok, IAM: auth})
	defer srv.Close()
	cfg := func(key string) aws.Config {
		return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(key, "local", "")}
	}
	ctx := context.Background()
	role := cfg("NoneRole")
	const principal = "User: arn:aws:sts::000000000000:assumed-role/NoneRole/None is not authorized to perform: "
	for _, tc := range []struct {
		name     string
		call     func() error
		wantCode string
		typed    func(error) bool // errors.As into the service's typed error, where it has one
		wantMsg  string
	}{
		{name: "s3 GetObject", wantCode: "AccessDenied",
			wantMsg: principal + "s3:GetObject on resource: arn:aws:s3:::b/k.csv",
			call: func() error {
				_, err := s3.NewFromConfig(role, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k.csv")})
				return err
			}},
		{name: "s3 PutObject", wantCode: "AccessDenied",
			wantMsg: principal + "s3:PutObject on resource: arn:aws:s3:::b/k.csv",
			call: func() error {
				_, err := s3.NewFromConfig(role, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k.csv"), Body: strings.NewReader("x")})
				return err
			}},
		{name: "s3 unknown key", wantCode: "InvalidAccessKeyId",
			call: func() error {
				_, err := s3.NewFromConfig(cfg("nobody"), func(o *s3.Options) { o.UsePathStyle = true }).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
				return err
			}},
		{name: "dynamodb GetItem", wantCode: "AccessDeniedException",
			wantMsg: principal + "dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/veil-requests because no identity-based policy allows the dynamodb:GetItem action",
			call: func() error {
				_, err := dynamodb.NewFromConfig(role).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("veil-requests"),
					Key: map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "x"}}})
				return err
			}},
		{name: "dynamodb unknown key", wantCode: "UnrecognizedClientException",
			call: func() error {
				_, err := dynamodb.NewFromConfig(cfg("nobody")).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("veil-requests")})
				return err
			}},
		{name: "stepfunctions StartExecution", wantCode: "AccessDeniedException",
			wantMsg: principal + "states:StartExecution on resource: arn:aws:states:us-east-1:000000000000:stateMachine:m",
			call: func() error {
				_, err := sfn.NewFromConfig(role).StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:m")})
				return err
			}},
		{name: "secretsmanager GetSecretValue", wantCode: "AccessDeniedException",
			wantMsg: principal + "secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:S",
			call: func() error {
				_, err := secretsmanager.NewFromConfig(role).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("S")})
				return err
			}},
		{name: "eventbridge PutEvents", wantCode: "AccessDeniedException",
			wantMsg: principal + "events:PutEvents on resource: arn:aws:events:us-east-1:000000000000:event-bus/bus",
			call: func() error {
				_, err := eventbridge.NewFromConfig(role).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
					{EventBusName: aws.String("bus"), Source: aws.String("veil.requests"), DetailType: aws.String("t"), Detail: aws.String("{}")}}})
				return err
			}},
		{name: "sesv2 SendEmail", wantCode: "AccessDeniedException",
			wantMsg: principal + "ses:SendEmail on resource: arn:aws:ses:us-east-1:000000000000:identity/privacy@example.com",
			call: func() error {
				_, err := sesv2.NewFromConfig(role).SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("privacy@example.com"),
					Destination: &sestypes.Destination{ToAddresses: []string{"c@example.org"}},
					Content: &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("s")},
						Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("b")}}}}})
				return err
			}},
		{name: "sns Publish", wantCode: "AuthorizationError",
			typed:   func(err error) bool { var e *snstypes.AuthorizationErrorException; return errors.As(err, &e) },
			wantMsg: principal + "SNS:Publish on resource: * because no identity-based policy allows the SNS:Publish action",
			call: func() error {
				_, err := sns.NewFromConfig(role).Publish(ctx, &sns.PublishInput{PhoneNumber: aws.String("+15555550100"), Message: aws.String("code")})
				return err
			}},
		{name: "lambda Invoke", wantCode: "AccessDeniedException",
			wantMsg: principal + "lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:F",
			call: func() error {
				_, err := lambda.NewFromConfig(role).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("F")})
				return err
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reached = false
			err := tc.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want a smithy.APIError", err)
			}
			if ae.ErrorCode() != tc.wantCode {
				t.Errorf("ErrorCode = %q, want %q (%v)", ae.ErrorCode(), tc.wantCode, err)
			}
			if tc.typed != nil && !tc.typed(err) {
				t.Errorf("err = %T, want the service's typed error", ae)
			}
			if !strings.Contains(ae.ErrorMessage(), tc.wantMsg) {
				t.Errorf("ErrorMessage = %q, want it to hold %q", ae.ErrorMessage(), tc.wantMsg)
			}
			if reached {
				t.Error("the refused call reached the service")
			}
		})
	}
}

// The administrator's key is allowed everything and reaches the service.
func TestAdminReachesService(t *testing.T) {
	reached := 0
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++; w.WriteHeader(http.StatusOK) })
	auth := iam.NewAuthorizer(iam.Env{Region: "us-east-1", AccountID: "000000000000"})
	auth.AddPrincipal("local", iam.Principal{ARN: "arn:aws:iam::000000000000:root", Admin: true})
	srv := httptest.NewServer(&Edge{S3: ok, IAM: auth})
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).DeleteObject(context.Background(),
		&s3.DeleteObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	if err != nil || reached != 1 {
		t.Errorf("admin DeleteObject: err = %v, reached %d times, want nil, 1", err, reached)
	}
	if d := auth.Denials(); len(d) != 0 {
		t.Errorf("Denials = %v, want none", d)
	}
}
