package sfnlocal

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/asl"
	"github.com/veil-privacy/veil/pkg/local/awscli"
)

// awsCLI runs the real AWS CLI against endpoint and decodes its JSON output.
// It returns stderr as the error text when the command fails.
func awsCLI(t *testing.T, endpoint string, args ...string) (map[string]any, string) {
	t.Helper()
	bin, err := awscli.Path()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, append([]string{"--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json", "stepfunctions"}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, stderr.String()
	}
	out := map[string]any{}
	if s := strings.TrimSpace(stdout.String()); s != "" {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			t.Fatalf("aws %s: output is not JSON: %v\n%s", args[0], err, s)
		}
	}
	return out, ""
}

func mustCLI(t *testing.T, endpoint string, args ...string) map[string]any {
	t.Helper()
	out, errText := awsCLI(t, endpoint, args...)
	if errText != "" {
		t.Fatalf("aws stepfunctions %s failed: %s", args[0], errText)
	}
	return out
}

// TestAWSCLI drives the protocol with the real AWS CLI: create a machine,
// start an execution that parks on a task token, describe it, complete the
// token, and read the result back.
func TestAWSCLI(t *testing.T) {
	inv := newTokenInvoker()
	s := newServer(t, Options{Invoker: inv})
	ts := httptest.NewServer(s)
	defer ts.Close()
	url := ts.URL

	created := mustCLI(t, url, "create-state-machine", "--name", "privacy-request",
		"--definition", readTestdata(t, "approval.asl.json"), "--role-arn", "arn:aws:iam::000000000000:role/sfn")
	smARN, _ := created["stateMachineArn"].(string)
	if want := "arn:aws:states:us-east-1:000000000000:stateMachine:privacy-request"; smARN != want {
		t.Fatalf("stateMachineArn = %q, want %q", smARN, want)
	}

	started := mustCLI(t, url, "start-execution", "--state-machine-arn", smARN, "--name", "req-1",
		"--input", `{"requestId":"r-1"}`)
	execARN, _ := started["executionArn"].(string)
	if want := "arn:aws:states:us-east-1:000000000000:execution:privacy-request:req-1"; execARN != want {
		t.Fatalf("executionArn = %q, want %q", execARN, want)
	}
	token := inv.token(t)

	desc := mustCLI(t, url, "describe-execution", "--execution-arn", execARN)
	if got := desc["status"]; got != "RUNNING" {
		t.Fatalf("status = %v, want RUNNING", got)
	}

	// Same name, same input while running: the same execution (AWS idempotency).
	again := mustCLI(t, url, "start-execution", "--state-machine-arn", smARN, "--name", "req-1",
		"--input", `{"requestId":"r-1"}`)
	if again["executionArn"] != execARN {
		t.Fatalf("idempotent start executionArn = %v, want %s", again["executionArn"], execARN)
	}
	// Different input: ExecutionAlreadyExists.
	if _, errText := awsCLI(t, url, "start-execution", "--state-machine-arn", smARN, "--name", "req-1",
		"--input", `{"requestId":"r-2"}`); !strings.Contains(errText, "ExecutionAlreadyExists") {
		t.Fatalf("start with different input: error = %q, want ExecutionAlreadyExists", errText)
	}

	mustCLI(t, url, "send-task-success", "--task-token", token, "--task-output", `{"approved":true}`)
	waitStatus(t, s, execARN, asl.StatusSucceeded)

	desc = mustCLI(t, url, "describe-execution", "--execution-arn", execARN)
	if got := desc["status"]; got != "SUCCEEDED" {
		t.Fatalf("status = %v, want SUCCEEDED", got)
	}
	var output map[string]any
	if err := json.Unmarshal([]byte(desc["output"].(string)), &output); err != nil {
		t.Fatalf("output: %v", err)
	}
	if got := output["decision"].(map[string]any)["approved"]; got != true {
		t.Fatalf("output.decision.approved = %v, want true", got)
	}
	if _, ok := desc["stopDate"]; !ok {
		t.Fatalf("describe-execution has no stopDate: %v", desc)
	}

	// The token is spent: the CLI sees AWS's TaskTimedOut.
	if _, errText := awsCLI(t, url, "send-task-success", "--task-token", token, "--task-output", `{}`); !strings.Contains(errText, "TaskTimedOut") {
		t.Fatalf("second send-task-success: error = %q, want TaskTimedOut", errText)
	}
	// A malformed definition is InvalidDefinition naming the state.
	if _, errText := awsCLI(t, url, "create-state-machine", "--name", "bad", "--role-arn", "arn:aws:iam::000000000000:role/sfn",
		"--definition", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`); !strings.Contains(errText, "InvalidDefinition") || !strings.Contains(errText, `"A"`) {
		t.Fatalf("bad definition: error = %q, want InvalidDefinition naming state A", errText)
	}
}
