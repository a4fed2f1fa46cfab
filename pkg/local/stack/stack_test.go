package stack_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

type manifest struct {
	Item map[string]struct {
		S string `json:"S"`
	} `json:"Item"`
}

func getManifest(t *testing.T, s *stack.Stack, key string) (status, version string) {
	t.Helper()
	out := stacktest.AWS(t, s, "dynamodb", "get-item", "--table-name", s.Names["IndexTable"], "--consistent-read",
		"--key", `{"PK":{"S":"OBJ#`+s.Names["LeadsBucket"]+`/`+key+`"},"SK":{"S":"MANIFEST"}}`)
	var m manifest
	if strings.TrimSpace(out) == "" {
		return "", ""
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("get-item output: %v\n%s", err, out)
	}
	return m.Item["status"].S, m.Item["versionId"].S
}

// TestAWSCLIOnTheEdge is the README's walk-through, run with the real AWS
// CLI: tables are listed, an upload reaches IndexFunction as an S3 event
// through the queue, a removal too, and functions answer lambda invoke.
func TestAWSCLIOnTheEdge(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	bucket := s.Names["LeadsBucket"]

	var tables struct{ TableNames []string }
	_ = json.Unmarshal([]byte(stacktest.AWS(t, s, "dynamodb", "list-tables")), &tables)
	if strings.Join(tables.TableNames, ",") != "veil-index,veil-requests" {
		t.Fatalf("list-tables = %v, want [veil-index veil-requests]", tables.TableNames)
	}

	file := filepath.Join(t.TempDir(), "x.csv")
	if err := os.WriteFile(file, []byte("phone,email\n2125550100,a@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := "campaigns/cli test/x.csv"
	stacktest.AWS(t, s, "s3", "cp", file, "s3://"+bucket+"/"+key)
	stacktest.WaitIdle(t, s)

	var head struct{ VersionId string }
	_ = json.Unmarshal([]byte(stacktest.AWS(t, s, "s3api", "head-object", "--bucket", bucket, "--key", key)), &head)
	status, version := getManifest(t, s, key)
	if status != "indexed" || version == "" || version != head.VersionId {
		t.Fatalf("manifest after upload = %q @ %q, want indexed @ %q", status, version, head.VersionId)
	}
	if ls := stacktest.AWS(t, s, "s3", "ls", "s3://"+bucket+"/campaigns/", "--recursive"); !strings.Contains(ls, key) {
		t.Fatalf("s3 ls does not list %q:\n%s", key, ls)
	}

	stacktest.AWS(t, s, "s3", "rm", "s3://"+bucket+"/"+key)
	stacktest.WaitIdle(t, s)
	if status, _ := getManifest(t, s, key); status != "removed" {
		t.Fatalf("manifest after rm = %q, want removed", status)
	}

	dir := t.TempDir()
	invoke := func(fn, payloadFile string) (meta map[string]any, body string) {
		t.Helper()
		out := filepath.Join(dir, fn+".json")
		raw := stacktest.AWS(t, s, "lambda", "invoke", "--function-name", fn, "--payload", "fileb://"+payloadFile, out)
		_ = json.Unmarshal([]byte(raw), &meta)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return meta, string(b)
	}
	meta, body := invoke("IntakeFunction", filepath.Join(stacktest.Root(t), "events", "intake", "connect-ping.json"))
	if meta["StatusCode"] != float64(200) || meta["FunctionError"] != nil || body != `{"status":"ok"}` {
		t.Fatalf("invoke IntakeFunction = %v %s, want 200 {\"status\":\"ok\"}", meta, body)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"requestId":""}`), 0o600)
	meta, body = invoke("SearchFunction", bad)
	var fe struct{ ErrorType, ErrorMessage string }
	_ = json.Unmarshal([]byte(body), &fe)
	if meta["FunctionError"] != "Unhandled" || fe.ErrorType != "ValidationError" || fe.ErrorMessage != "requestId: required" {
		t.Fatalf("invoke SearchFunction = %v %s, want Unhandled ValidationError on requestId", meta, body)
	}
}

// TestAPIRolesAndHealth calls the API as every role, with no token and
// with a forged one.
func TestAPIRolesAndHealth(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	get := func(path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.APIURL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/health", ""); code != 200 {
		t.Fatalf("GET /health = %d %s, want 200", code, body)
	}
	for _, r := range auth.Roles {
		tok, err := s.TokenKey.Issue("dev-"+string(r), []string{string(r)}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		code, body := get("/me", tok)
		if code != 200 || !strings.Contains(body, `"roles":["`+string(r)+`"]`) {
			t.Errorf("GET /me as %s = %d %s, want 200 with the role", r, code, body)
		}
	}
	if code, _ := get("/me", ""); code != 401 {
		t.Errorf("GET /me anonymous = %d, want 401", code)
	}
	other, _ := stacktestKey(t).Issue("intruder", []string{"admin"}, time.Minute)
	if code, _ := get("/me", other); code != 401 {
		t.Errorf("GET /me with a token of another key = %d, want 401", code)
	}
	if code, _ := get("/nowhere", ""); code != 404 {
		t.Errorf("GET /nowhere = %d, want 404", code)
	}
}

// TestSamplesAndRestart: the first start uploads the samples and indexes
// them; a restart keeps objects and version IDs and uploads nothing again.
func TestSamplesAndRestart(t *testing.T) {
	opts := stacktest.Options(t)
	opts.Samples = true
	s := stacktest.Start(t, opts)
	stacktest.WaitIdle(t, s)
	versions := stacktest.AWS(t, s, "s3api", "list-object-versions", "--bucket", s.Names["LeadsBucket"], "--query", "Versions[].[Key,VersionId]")
	var list [][]string
	_ = json.Unmarshal([]byte(versions), &list)
	if len(list) < 3 {
		t.Fatalf("sample versions = %v, want at least 3", list)
	}
	for _, kv := range list {
		if status, v := getManifest(t, s, kv[0]); status != "indexed" || v != kv[1] {
			t.Fatalf("manifest of sample %s = %s@%s, want indexed@%s", kv[0], status, v, kv[1])
		}
	}
	s.Close()

	s2 := stacktest.Start(t, opts)
	stacktest.WaitIdle(t, s2)
	again := stacktest.AWS(t, s2, "s3api", "list-object-versions", "--bucket", s2.Names["LeadsBucket"], "--query", "Versions[].[Key,VersionId]")
	if again != versions {
		t.Fatalf("versions after restart:\n%s\nwant\n%s", again, versions)
	}
}
