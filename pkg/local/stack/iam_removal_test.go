package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/local/awscli"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// removal is one permission taken out of template.yaml, the path a user
// takes that needs it, and the denial the edge must record for it.
type removal struct {
	name string
	// owner is the function or state machine whose Policies lose it.
	owner string
	// remove edits owner's Policies list.
	remove func(policies []any) []any
	// drive takes the user's path and fails the test if it succeeds.
	drive func(t *testing.T, s *stack.Stack)
	// The denial: owner's role was refused action on a resource holding
	// resource.
	action, resource string
}

// The table is written by hand: after a change of routes or policies
// (the split of IntakeFunction), edit the rows, not the machinery.
var removals = []removal{
	{name: "Export S3 write: POST /exports cannot write the export", owner: "ExportFunction",
		remove: dropStatement("ExportFiles"),
		drive:  exportFails, action: "s3:PutObject", resource: "arn:aws:s3:::veil-exports/exports/"},
	{name: "Export KMS GenerateDataKey: an SSE-KMS export cannot be written", owner: "ExportFunction",
		remove: dropAction("ExportsKeyReadWrite", "kms:GenerateDataKey"),
		drive:  exportFails, action: "kms:GenerateDataKey", resource: "arn:aws:kms:us-east-1:000000000000:key/local-exports-key"},
	{name: "Export KMS Decrypt: the download link's presigned GET is refused", owner: "ExportFunction",
		remove: dropAction("ExportsKeyReadWrite", "kms:Decrypt"),
		drive:  downloadFails, action: "kms:Decrypt", resource: "arn:aws:kms:us-east-1:000000000000:key/local-exports-key"},
	{name: "Search S3 read: GET /search cannot read the rows back", owner: "SearchFunction",
		remove: dropStatement("ReadLeadRows"),
		drive:  searchFails, action: "s3:GetObject", resource: "arn:aws:s3:::veil-leads/campaigns/"},
	{name: "Search KMS Decrypt: GET /search cannot decrypt the rows of an SSE-KMS list", owner: "SearchFunction",
		remove: dropStatement("LeadsKeyDecrypt"),
		drive:  searchFails, action: "kms:Decrypt", resource: "arn:aws:kms:us-east-1:000000000000:key/local-leads-key"},
	{name: "Search DynamoDB read: GET /search cannot query the index", owner: "SearchFunction",
		remove: dropStatement("IndexReads"),
		drive:  searchFails, action: "dynamodb:", resource: "table/veil-index"},
	{name: "Intake Step Functions: a filed request starts no workflow", owner: "IntakeFunction",
		remove: dropStatement("StartRequestExecutions"),
		drive:  fileRequest("sms"), action: "states:StartExecution", resource: "stateMachine:veil-privacy-request"},
	{name: "Intake SES: the code mail is refused", owner: "IntakeFunction",
		remove: dropStatement("NoticesAndCodes"),
		drive:  fileRequest("email"), action: "ses:SendEmail", resource: "identity/privacy@example.com"},
	{name: "Intake SNS: the code text is refused", owner: "IntakeFunction",
		remove: dropStatement("CodesBySMS"),
		drive:  fileRequest("sms"), action: "sns:Publish", resource: "*"},
	{name: "Intake EventBridge: the status event is refused", owner: "IntakeFunction",
		remove: dropStatement("StatusEvents"),
		drive:  fileRequest("event"), action: "events:PutEvents", resource: "event-bus/local-request-events"},
	{name: "Intake S3 anchor: the hourly anchoring cannot write its digest", owner: "IntakeFunction",
		remove: dropStatement("AnchorAudit"),
		drive:  anchorFails, action: "s3:PutObject", resource: "/digests/"},
	{name: "Pseudonymize Lambda Invoke: a confirmed erasure job is not handed to the function itself", owner: "PseudonymizeFunction",
		remove: dropStatement("HandJobToItself"),
		drive:  erasureFails, action: "lambda:InvokeFunction", resource: "function:veil-pseudonymize"},
	{name: "Index S3 read: an uploaded list is not indexed", owner: "IndexFunction",
		remove: dropTemplate("S3ReadPolicy", "LeadsBucket"),
		drive:  notIndexed, action: "s3:GetObject", resource: "arn:aws:s3:::veil-leads/campaigns/"},
	{name: "Index DynamoDB write: an uploaded list is not indexed", owner: "IndexFunction",
		remove: swapTemplate("DynamoDBCrudPolicy", "IndexTable", "DynamoDBReadPolicy"),
		drive:  notIndexed, action: "dynamodb:", resource: "table/veil-index"},
	{name: "Search DynamoDB: the workflow's Search task cannot read the request", owner: "SearchFunction",
		remove: dropStatement("Requests"),
		drive:  taskFails("SearchFunction"), action: "dynamodb:GetItem", resource: "table/veil-requests"},
	{name: "Export DynamoDB: the workflow's Export task cannot read the request", owner: "ExportFunction",
		remove: dropStatement("RequestsAndExports"),
		drive:  taskFails("ExportFunction"), action: "dynamodb:GetItem", resource: "table/veil-requests"},
	{name: "Pseudonymize S3 write: the erasure job cannot rewrite the list", owner: "PseudonymizeFunction",
		remove: dropAction("RewriteLeads", "s3:PutObject"),
		drive:  erasureJobFails, action: "s3:PutObject", resource: "arn:aws:s3:::veil-leads/campaigns/"},
	{name: "Pseudonymize KMS GenerateDataKey: the rewritten list cannot be written under LeadsKey", owner: "PseudonymizeFunction",
		remove: dropAction("LeadsKeyReadWrite", "kms:GenerateDataKey"),
		drive:  erasureJobFails, action: "kms:GenerateDataKey", resource: "arn:aws:kms:us-east-1:000000000000:key/local-leads-key"},
	{name: "PrivacyRequest state machine Lambda Invoke: the workflow's first task fails", owner: "PrivacyRequestStateMachine",
		remove: dropTemplate("LambdaInvokePolicy", "IntakeFunction"),
		drive:  workflowFails, action: "lambda:InvokeFunction", resource: "function:IntakeFunction"},
	{name: "Backfill state machine S3 read: the ItemReader cannot list the bucket", owner: "BackfillStateMachine",
		remove: dropTemplate("S3ReadPolicy", "LeadsBucket"),
		drive:  backfillFails, action: "s3:ListBucket", resource: "arn:aws:s3:::veil-leads"},
}

// Secrets Manager: every function reads its key at init, as a cold start
// does, so without the permission the stack does not start.
func TestPermissionRemovalSecretsManager(t *testing.T) {
	opts := stacktest.Options(t)
	opts.EditTemplate = editPolicies("SearchFunction", dropStatement("IndexKey"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, opts)
	if err == nil {
		s.Close()
		t.Fatal("the stack started without SearchFunction's secretsmanager:GetSecretValue, want SearchFunction's init refused")
	}
	want := "User: arn:aws:sts::000000000000:assumed-role/SearchFunctionRole/SearchFunction is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:IndexKeySecret"
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Fatalf("Start: %v\nwant SearchFunction's AccessDeniedException: %s", err, want)
	}
}

// TestPermissionRemoval takes each permission of the table out of the
// template, drives the path that needs it, and checks that it fails with
// the edge's AccessDenied for exactly that action: enforcement that never
// refuses anything would pass every other test.
func TestPermissionRemoval(t *testing.T) {
	for _, tc := range removals {
		t.Run(tc.name, func(t *testing.T) {
			opts := stacktest.Options(t)
			opts.EditTemplate = editPolicies(tc.owner, tc.remove)
			s := stacktest.StartDenying(t, opts)
			tc.drive(t, s)
			stacktest.WaitIdle(t, s)
			principal := "arn:aws:sts::000000000000:assumed-role/" + stack.RoleName(tc.owner) + "/" + tc.owner
			var seen []string
			for _, d := range s.Denials() {
				if d.Principal == principal && strings.HasPrefix(d.Action, tc.action) && strings.Contains(d.Resource, tc.resource) {
					return
				}
				seen = append(seen, d.Principal+" "+d.Action+" "+d.Resource)
			}
			t.Fatalf("no denial of %s %s on %s; denials:\n  %s", principal, tc.action, tc.resource, strings.Join(seen, "\n  "))
		})
	}
}

// editPolicies returns an EditTemplate hook applying remove to owner's
// Policies; it panics (failing the run) when remove changes nothing, so a
// row left behind by a template change is noticed.
func editPolicies(owner string, remove func([]any) []any) func(*samtemplate.Template) {
	return func(tpl *samtemplate.Template) {
		props := tpl.Resources[owner].Properties
		before, _ := json.Marshal(props["Policies"])
		props["Policies"] = remove(asSlice(props["Policies"]))
		after, _ := json.Marshal(props["Policies"])
		if string(before) == string(after) {
			panic(fmt.Sprintf("the removal changes nothing in %s's Policies", owner))
		}
	}
}

// dropTemplate removes the SAM policy template name whose argument refers
// to resource.
func dropTemplate(name, resource string) func([]any) []any {
	return func(ps []any) []any {
		var out []any
		for _, p := range ps {
			if m := asMap(p); m[name] != nil && refersTo(m[name], resource) {
				continue
			}
			out = append(out, p)
		}
		return out
	}
}

// swapTemplate replaces policy template from (on resource) by to, with the
// same argument: CRUD becomes read only, say.
func swapTemplate(from, resource, to string) func([]any) []any {
	return func(ps []any) []any {
		out := make([]any, 0, len(ps))
		for _, p := range ps {
			if m := asMap(p); m[from] != nil && refersTo(m[from], resource) {
				p = map[string]any{to: m[from]}
			}
			out = append(out, p)
		}
		return out
	}
}

// dropStatement removes the inline statement sid.
func dropStatement(sid string) func([]any) []any {
	return func(ps []any) []any {
		var out []any
		for _, p := range ps {
			m := asMap(p)
			if m["Statement"] == nil {
				out = append(out, p)
				continue
			}
			var kept []any
			for _, st := range asSlice(m["Statement"]) {
				if asMap(st)["Sid"] != sid {
					kept = append(kept, st)
				}
			}
			if len(kept) > 0 {
				out = append(out, map[string]any{"Statement": kept})
			}
		}
		return out
	}
}

// dropAction removes action from the inline statement sid, keeping the
// statement's other actions.
func dropAction(sid, action string) func([]any) []any {
	return func(ps []any) []any {
		out := make([]any, 0, len(ps))
		for _, p := range ps {
			m := asMap(p)
			if m["Statement"] == nil {
				out = append(out, p)
				continue
			}
			var kept []any
			for _, st := range asSlice(m["Statement"]) {
				st := asMap(st)
				if st["Sid"] == sid {
					var actions []any
					for _, a := range strs(st["Action"]) {
						if a != action {
							actions = append(actions, a)
						}
					}
					copied := map[string]any{}
					for k, v := range st {
						copied[k] = v
					}
					copied["Action"] = actions
					st = copied
				}
				kept = append(kept, st)
			}
			out = append(out, map[string]any{"Statement": kept})
		}
		return out
	}
}

func refersTo(args any, resource string) bool {
	for _, v := range asMap(args) {
		if target(v) == resource {
			return true
		}
	}
	return false
}

// ---- the users' paths ----

const removalList = "Name,Phone,Email,Customer ID\r\nAna Lopez,(415) 555-0101,ana@example.com,C-100\r\n"

func uploadList(t *testing.T, s *stack.Stack) {
	t.Helper()
	_, err := s3.NewFromConfig(s.AWS, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(context.Background(),
		&s3.PutObjectInput{Bucket: aws.String(s.Names["LeadsBucket"]), Key: aws.String("campaigns/iam/leads.csv"), Body: strings.NewReader(removalList)})
	if err != nil {
		t.Fatal(err)
	}
	stacktest.WaitIdle(t, s)
}

func exportFails(t *testing.T, s *stack.Stack) {
	uploadList(t, s)
	if code, b := apiCall(t, s, http.MethodPost, "/exports", auth.Supervisor, `{"phones":["+1 415 555 0101"],"jurisdiction":"CCPA"}`); code < 500 {
		t.Fatalf("POST /exports = %d %s, want a server error", code, b)
	}
}

func downloadFails(t *testing.T, s *stack.Stack) {
	uploadList(t, s)
	code, b := apiCall(t, s, http.MethodPost, "/exports", auth.Supervisor, `{"phones":["+1 415 555 0101"],"jurisdiction":"CCPA"}`)
	var x exportReply
	if err := json.Unmarshal(b, &x); code != http.StatusCreated || err != nil {
		t.Fatalf("POST /exports = %d %s, want 201 (writing needs no kms:Decrypt)", code, b)
	}
	// The link redirects to a presigned GET, signed by ExportFunction's
	// role; the client follows it as a browser would.
	resp, err := http.Get(x.Links.CSV)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
		t.Fatalf("download = %d %s, want S3's 403 AccessDenied", resp.StatusCode, body)
	}
}

func searchFails(t *testing.T, s *stack.Stack) {
	uploadList(t, s)
	if code, b := getSearch(t, s, auth.Supervisor, "phone=%2B1+415+555+0101"); code < 500 {
		t.Fatalf("GET /search = %d %s, want a server error", code, b)
	}
}

func notIndexed(t *testing.T, s *stack.Stack) {
	uploadList(t, s)
	code, b := getSearch(t, s, auth.Supervisor, "phone=%2B1+415+555+0101")
	var res struct{ Records []any }
	if err := json.Unmarshal(b, &res); code != http.StatusOK || err != nil || len(res.Records) != 0 {
		t.Fatalf("GET /search = %d %s, want 200 without the row of a list never indexed", code, b)
	}
}

// fileRequest files a web request naming an email and a phone and checks
// what the consumer or the bus did not get: "email", "sms" or "event".
func fileRequest(missing string) func(*testing.T, *stack.Stack) {
	return func(t *testing.T, s *stack.Stack) {
		code, b := rawCall(t, s, http.MethodPost, "/requests", "", `{"type":"delete","jurisdiction":"CA","emails":["ana@example.com"],"phones":["415-555-0101"]}`)
		if missing != "event" && missing != "email" && missing != "sms" {
			t.Fatalf("unknown channel %q", missing)
		}
		// The workflow's Acknowledge step mails and texts.
		engineIdle(t, s)
		stacktest.WaitIdle(t, s)
		msgs, err := s.Outbox.Messages()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Channel == missing {
				t.Fatalf("POST /requests = %d %s; the outbox holds a %s (%s), want none", code, b, missing, m.File)
			}
		}
	}
}

func erasureFails(t *testing.T, s *stack.Stack) {
	uploadList(t, s)
	body := `{"phones":["+1 415 555 0101"],"jurisdiction":"CCPA","requestId":"r-iam","confirm":true}`
	if code, b := apiCall(t, s, http.MethodPost, "/pseudonymize", auth.Supervisor, body); code == http.StatusAccepted {
		t.Fatalf("POST /pseudonymize (confirm) = %d %s, want the job refused", code, b)
	}
}

func erasureJobFails(t *testing.T, s *stack.Stack) {
	uploadList(t, s)
	body := `{"phones":["+1 415 555 0101"],"jurisdiction":"CCPA","requestId":"r-iam","confirm":true}`
	code, b := apiCall(t, s, http.MethodPost, "/pseudonymize", auth.Supervisor, body)
	var accepted struct{ JobID string }
	if err := json.Unmarshal(b, &accepted); code != http.StatusAccepted || err != nil {
		t.Fatalf("POST /pseudonymize (confirm) = %d %s, want 202", code, b)
	}
	stacktest.WaitIdle(t, s)
	if got := readList(t, s, "s3://"+s.Names["LeadsBucket"]+"/campaigns/iam/leads.csv"); got != removalList {
		t.Fatalf("after the job the list is %q, want it unchanged", got)
	}
	// Lambda tried it three times, then its on-failure destination ended
	// it: failed, never "running" forever.
	code, b = apiCall(t, s, http.MethodGet, "/pseudonymize/"+accepted.JobID, auth.Supervisor, "")
	var job struct{ Status, Error string }
	if err := json.Unmarshal(b, &job); code != http.StatusOK || err != nil || job.Status != "failed" ||
		!strings.HasPrefix(job.Error, "every attempt failed (3 invocations, RetriesExhausted") {
		t.Fatalf("GET /pseudonymize/%s = %d %s, want the job failed on every attempt", accepted.JobID, code, b)
	}
}

// taskFails invokes a workflow task's function as the state machine does
// (an operator with the account's credentials) and wants its error.
func taskFails(function string) func(*testing.T, *stack.Stack) {
	return func(t *testing.T, s *stack.Stack) {
		out, err := lambda.NewFromConfig(s.AWS).Invoke(context.Background(), &lambda.InvokeInput{
			FunctionName: aws.String(function), Payload: []byte(`{"requestId":"r-iam"}`)})
		if err != nil {
			t.Fatalf("Invoke %s: %v", function, err)
		}
		if out.FunctionError == nil || !strings.Contains(string(out.Payload), "AccessDenied") {
			t.Fatalf("Invoke %s = %s, want the task's AccessDenied error", function, out.Payload)
		}
	}
}

// anchorFails invokes IntakeFunction as its hourly schedule does and
// wants its error.
func anchorFails(t *testing.T, s *stack.Stack) {
	out, err := lambda.NewFromConfig(s.AWS).Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName: aws.String(s.Names["IntakeFunction"]), Payload: lambdafntest.Event(t, "intake/schedule-anchor.json")})
	if err != nil {
		t.Fatalf("Invoke IntakeFunction: %v", err)
	}
	if out.FunctionError == nil || !strings.Contains(string(out.Payload), "AccessDenied") {
		t.Fatalf("the hourly anchoring = %s, want its AccessDenied error", out.Payload)
	}
}

func workflowFails(t *testing.T, s *stack.Stack) {
	ctx := context.Background()
	api := sfn.NewFromConfig(s.AWS)
	started, err := api.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(s.Names["PrivacyRequestStateMachine"]),
		Input: aws.String(`{"requestId":"r-iam"}`)})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	// Its first task fails (and is retried, as States.TaskFailed is, until
	// the execution fails): the history shows Lambda's refusal.
	engineIdle(t, s)
	events, err := api.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: started.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(events.Events)
	if !strings.Contains(string(b), "Lambda.AWSLambdaException") || !strings.Contains(string(b), "AccessDeniedException") {
		t.Fatalf("history = %s, want the Acknowledge task failed with Lambda.AWSLambdaException", b)
	}
}

func engineIdle(t *testing.T, s *stack.Stack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.StepFunctions.Engine().WaitIdle(ctx); err != nil {
		t.Fatalf("state machines did not settle: %v", err)
	}
}

func backfillFails(t *testing.T, s *stack.Stack) {
	ctx := context.Background()
	input, _ := json.Marshal(map[string]string{"bucket": s.Names["LeadsBucket"], "prefix": "campaigns/"})
	started, err := sfn.NewFromConfig(s.AWS).StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(s.Names["BackfillStateMachine"]),
		Input: aws.String(string(input))})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	executionFailed(t, s, aws.ToString(started.ExecutionArn), "")
}

func executionFailed(t *testing.T, s *stack.Stack, arn, wantError string) {
	t.Helper()
	waitStopped(t, s, arn)
	desc, err := sfn.NewFromConfig(s.AWS).DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if desc.Status != sfntypes.ExecutionStatusFailed {
		t.Fatalf("execution %s, want FAILED", desc.Status)
	}
	var history strings.Builder
	events, _ := sfn.NewFromConfig(s.AWS).GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	if events != nil {
		b, _ := json.Marshal(events.Events)
		history.Write(b)
	}
	if wantError != "" && !strings.Contains(history.String(), wantError) {
		t.Fatalf("execution history names no %s: %s", wantError, history.String())
	}
	if !strings.Contains(history.String()+aws.ToString(desc.Cause), "AccessDenied") && !strings.Contains(history.String()+aws.ToString(desc.Cause), "not authorized") {
		t.Fatalf("execution failed without an access denial: %s %s", aws.ToString(desc.Error), aws.ToString(desc.Cause))
	}
}

// The real AWS CLI, signing with a function role's credentials, prints the
// services' AccessDenied for calls that role's policies do not allow.
func TestCLIWithRoleCredentials(t *testing.T) {
	s := stacktest.StartDenying(t, stacktest.Options(t))
	path, err := awscli.Path()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  string
		args []string
		want string
	}{
		{"s3 read of the exports bucket by IndexFunction", stack.RoleName("IndexFunction"),
			[]string{"s3api", "get-object", "--bucket", s.Names["ExportsBucket"], "--key", "exports/x.csv", "/dev/null"},
			"An error occurred (AccessDenied) when calling the GetObject operation: User: arn:aws:sts::000000000000:assumed-role/IndexFunctionRole/IndexFunction is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::veil-exports/exports/x.csv"},
		{"dynamodb read of the requests table by IndexFunction", stack.RoleName("IndexFunction"),
			[]string{"dynamodb", "get-item", "--table-name", s.Names["RequestsTable"], "--key", `{"PK":{"S":"x"},"SK":{"S":"y"}}`},
			"An error occurred (AccessDeniedException) when calling the GetItem operation: User: arn:aws:sts::000000000000:assumed-role/IndexFunctionRole/IndexFunction is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/veil-requests"},
		{"an access key the account does not know", "AKIAUNKNOWN",
			[]string{"dynamodb", "list-tables"}, "UnrecognizedClientException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(path, append([]string{"--endpoint-url", s.EdgeURL, "--output", "json"}, tc.args...)...)
			cmd.Env = append(cmd.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_REGION="+stack.Region,
				"AWS_DEFAULT_REGION="+stack.Region, "AWS_ACCESS_KEY_ID="+tc.key, "AWS_SECRET_ACCESS_KEY="+stack.RoleSecretKey, "AWS_PAGER=")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("aws %v succeeded: %s", tc.args, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Fatalf("aws %v printed %s, want %q", tc.args, out, tc.want)
			}
		})
	}
}
