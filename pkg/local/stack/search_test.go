package stack_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/search"
)

// TestUploadThenSearch is the end-to-end path: a list uploaded with
// the AWS CLI is indexed from its S3 event and found by GET /search, which
// only supervisors and admins may call.
func TestUploadThenSearch(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	file := filepath.Join(t.TempDir(), "list.csv")
	list := "Cust ID;Mobile No.;E-mail;City\nC-9;(646) 555-0188;Pat@Example.com;Queens\nC-10;6465550100;x@example.com;Bronx\n"
	if err := os.WriteFile(file, []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	stacktest.AWS(t, s, "s3", "cp", file, "s3://"+s.Names["LeadsBucket"]+"/campaigns/e2e/list.csv")
	stacktest.WaitIdle(t, s)

	get := func(query string, role auth.Role) (int, []byte) {
		t.Helper()
		return getSearch(t, s, role, query)
	}
	query := "phone=%2B1+646-555-0188&email=pat%40example.com"
	for _, tc := range []struct {
		role auth.Role
		want int
	}{{"", 401}, {auth.Agent, 403}, {auth.Auditor, 403}, {auth.Supervisor, 200}, {auth.Admin, 200}} {
		code, body := get(query, tc.role)
		if code != tc.want {
			t.Fatalf("GET /search as %q = %d %s, want %d", tc.role, code, body, tc.want)
		}
		if code != 200 {
			continue
		}
		var res search.Result
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Records) != 1 || res.Records[0].Row != 1 || res.Records[0].Fields["Cust ID"] != "C-9" ||
			res.Records[0].Campaign != "e2e" || len(res.Records[0].MatchedOn) != 2 {
			t.Fatalf("GET /search as %s = %s, want row 1 of the list matched on email and phone", tc.role, body)
		}
	}
	if code, body := get("phone=12", auth.Admin); code != 400 {
		t.Fatalf("GET /search?phone=12 = %d %s, want 400 naming phone[0]", code, body)
	}
}

// getSearch calls GET /search?query as role ("" for an anonymous caller,
// with no token) and returns the status code and body.
func getSearch(t *testing.T, s *stack.Stack, role auth.Role, query string) (int, []byte) {
	t.Helper()
	return apiCall(t, s, http.MethodGet, "/search?"+query, role, "")
}
