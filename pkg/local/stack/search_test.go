package stack_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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
// with no token), with a reason unless query names one or a request, and
// returns the status code and body.
func getSearch(t *testing.T, s *stack.Stack, role auth.Role, query string) (int, []byte) {
	t.Helper()
	if !strings.Contains(query, "reason=") && !strings.Contains(query, "requestId=") {
		query += "&reason=test+of+the+search+path"
	}
	return apiCall(t, s, http.MethodGet, "/search?"+query, role, "")
}

// TestStaffSearchIsOnTheRecord: a search without a reason or a request is
// refused (400 naming reason) and leaves nothing; one with a reason is in
// GET /audit for an auditor, with the searcher, the reason and the
// identifier as a hash prefix, never its value; a supervisor cannot read
// the log.
func TestStaffSearchIsOnTheRecord(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	code, body := apiCall(t, s, http.MethodGet, "/search?phone=%28212%29+555-0147", auth.Supervisor, "")
	if code != http.StatusBadRequest || !strings.Contains(string(body), "reason") {
		t.Fatalf("GET /search without a reason = %d %s, want 400 naming reason", code, body)
	}
	code, body = apiCall(t, s, http.MethodGet, "/search?phone=%28212%29+555-0147&reason=caller+asked+on+ticket+4411", auth.Supervisor, "")
	if code != http.StatusOK {
		t.Fatalf("GET /search with a reason = %d %s, want 200", code, body)
	}
	if code, body := apiCall(t, s, http.MethodGet, "/audit", auth.Supervisor, ""); code != http.StatusForbidden {
		t.Fatalf("GET /audit as supervisor = %d %s, want 403", code, body)
	}
	code, body = apiCall(t, s, http.MethodGet, "/audit", auth.Auditor, "")
	if code != http.StatusOK {
		t.Fatalf("GET /audit as auditor = %d %s, want 200", code, body)
	}
	if strings.Contains(string(body), "555-0147") || strings.Contains(string(body), "2125550147") {
		t.Fatalf("GET /audit = %s, holds the phone number itself", body)
	}
	var got struct {
		Actions []struct {
			Actor, Role, Action, Reason, RequestID string
			Identifiers                            []string
		}
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("GET /audit = %s: %v", body, err)
	}
	searches := 0
	for _, a := range got.Actions {
		if a.Action != "search" {
			continue
		}
		searches++
		if a.Actor != "dev-supervisor" || a.Role != "supervisor" || a.Reason != "caller asked on ticket 4411" ||
			len(a.Identifiers) != 1 || !strings.HasPrefix(a.Identifiers[0], "phone:") {
			t.Errorf("search on the record = %+v, want dev-supervisor as supervisor, the reason, one phone as a hash prefix", a)
		}
	}
	if searches != 1 {
		t.Fatalf("GET /audit lists %d searches in %s, want the one with a reason", searches, body)
	}
}
