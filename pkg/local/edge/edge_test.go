// The edge must route each request to the service it is for, as AWS does,
// for requests signed by the real SDK clients.
package edge

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

func TestService(t *testing.T) {
	sigv4 := func(service string) string {
		return "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/" + service + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
	}
	tests := []struct {
		name          string
		method, url   string
		authorization string
		target        string
		want          string
	}{
		{name: "signed dynamodb", method: "POST", url: "/", authorization: sigv4("dynamodb"), target: "DynamoDB_20120810.GetItem", want: "dynamodb"},
		{name: "signed states", method: "POST", url: "/", authorization: sigv4("states"), want: "states"},
		{name: "signed lambda", method: "POST", url: "/2015-03-31/functions/F/invocations", authorization: sigv4("lambda"), want: "lambda"},
		{name: "signed ses", method: "POST", url: "/v2/email/outbound-emails", authorization: sigv4("ses"), want: "ses"},
		{name: "signed sns", method: "POST", url: "/", authorization: sigv4("sns"), want: "sns"},
		{name: "signed events", method: "POST", url: "/", authorization: sigv4("events"), target: "AWSEvents.PutEvents", want: "events"},
		{name: "signed s3", method: "PUT", url: "/bucket/key", authorization: sigv4("s3"), want: "s3"},
		{name: "signature wins over target", method: "POST", url: "/", authorization: sigv4("states"), target: "DynamoDB_20120810.GetItem", want: "states"},
		{name: "presigned s3 URL", method: "GET", url: "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fs3%2Faws4_request", want: "s3"},
		{name: "presigned lambda URL", method: "POST", url: "/x?X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Flambda%2Faws4_request", want: "lambda"},
		{name: "unsigned dynamodb target", method: "POST", url: "/", target: "DynamoDB_20120810.Query", want: "dynamodb"},
		{name: "unsigned states target", method: "POST", url: "/", target: "AWSStepFunctions.StartExecution", want: "states"},
		{name: "unsigned secrets target", method: "POST", url: "/", target: "secretsmanager.GetSecretValue", want: "secretsmanager"},
		{name: "unsigned events target", method: "POST", url: "/", target: "AWSEvents.PutEvents", want: "events"},
		{name: "unsigned lambda path", method: "POST", url: "/2015-03-31/functions/F/invocations", want: "lambda"},
		{name: "anything else is s3", method: "GET", url: "/bucket?list-type=2", want: "s3"},
		{name: "SigV2 header falls back", method: "GET", url: "/bucket", authorization: "AWS AKID:sig", want: "s3"},
		{name: "short credential falls back", method: "POST", url: "/", authorization: "AWS4-HMAC-SHA256 Credential=AKID/20240101", target: "AWSStepFunctions.ListExecutions", want: "states"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.url, nil)
			if tc.authorization != "" {
				r.Header.Set("Authorization", tc.authorization)
			}
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			if got := Service(r); got != tc.want {
				t.Fatalf("Service = %q, want %q", got, tc.want)
			}
		})
	}
}

// hits records which stand-in each request reached.
type hits struct {
	mu  sync.Mutex
	got []string
}

func (h *hits) handler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.got = append(h.got, name)
		h.mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
	})
}

func (h *hits) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.got
	h.got = nil
	return out
}

func TestRoutesSDKRequests(t *testing.T) {
	h := &hits{}
	e := &Edge{
		S3: h.handler("s3"), DynamoDB: h.handler("dynamodb"), StepFunctions: h.handler("states"), Lambda: h.handler("lambda"),
		SecretsManager: h.handler("secretsmanager"), SES: h.handler("ses"), SNS: h.handler("sns"),
		EventBridge: h.handler("events"),
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDLOCAL", "SECRETLOCAL", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
		Retryer:          func() aws.Retryer { return aws.NopRetryer{} },
	}
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{name: "s3 GetObject", want: "s3", call: func() error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
			return err
		}},
		{name: "dynamodb GetItem", want: "dynamodb", call: func() error {
			_, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("t")})
			return err
		}},
		{name: "sfn StartExecution", want: "states", call: func() error {
			_, err := sfn.NewFromConfig(cfg).StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:m")})
			return err
		}},
		{name: "lambda Invoke", want: "lambda", call: func() error {
			_, err := lambda.NewFromConfig(cfg).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("F")})
			return err
		}},
		{name: "secretsmanager GetSecretValue", want: "secretsmanager", call: func() error {
			_, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
			return err
		}},
		{name: "sesv2 SendEmail", want: "ses", call: func() error {
			_, err := sesv2.NewFromConfig(cfg).SendEmail(ctx, &sesv2.SendEmailInput{
				FromEmailAddress: aws.String("a@example.com"),
				Destination:      &sestypes.Destination{ToAddresses: []string{"b@example.com"}},
				Content:          &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("s")}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("b")}}}},
			})
			return err
		}},
		{name: "sns Publish", want: "sns", call: func() error {
			_, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{PhoneNumber: aws.String("+15550100"), Message: aws.String("m")})
			return err
		}},
		{name: "eventbridge PutEvents", want: "events", call: func() error {
			_, err := eventbridge.NewFromConfig(cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
				{EventBusName: aws.String("bus"), Source: aws.String("veil.requests"), DetailType: aws.String("T"), Detail: aws.String("{}")},
			}})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil {
				t.Fatalf("call succeeded against a 418 stand-in, want an error")
			}
			if got := h.take(); len(got) != 1 || got[0] != tc.want {
				t.Fatalf("request reached %v, want [%s]", got, tc.want)
			}
		})
	}
}

func TestUnservedService(t *testing.T) {
	e := &Edge{S3: http.NotFoundHandler()}
	r := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
	r.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", w.Code)
	}
	if got := w.Header().Get("X-Amzn-ErrorType"); got != "UnknownOperationException" {
		t.Fatalf("X-Amzn-ErrorType = %q, want UnknownOperationException", got)
	}
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Type != "UnknownOperationException" || body.Message == "" {
		t.Fatalf("body = %s, want a JSON UnknownOperationException", w.Body)
	}
}

func TestProxy(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Target", r.Header.Get("X-Amz-Target"))
		_, _ = w.Write([]byte(r.URL.Path + " " + string(b)))
	}))
	defer backend.Close()
	p, err := Proxy(backend.URL)
	if err != nil {
		t.Fatalf("Proxy error = %v", err)
	}
	e := &Edge{DynamoDB: p}
	srv := httptest.NewServer(e)
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(`{"TableName":"t"}`))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.DescribeTable")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if got, want := string(b), `/ {"TableName":"t"}`; got != want {
		t.Fatalf("proxied body = %q, want %q", got, want)
	}
	if got := resp.Header.Get("X-Target"); got != "DynamoDB_20120810.DescribeTable" {
		t.Fatalf("proxied X-Amz-Target = %q, want it passed on", got)
	}
	if _, err := Proxy("://bad"); err == nil {
		t.Fatalf("Proxy of a malformed URL error = nil, want an error")
	}
}
