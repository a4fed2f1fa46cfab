package stack_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/masking"
	"github.com/veil-privacy/veil/pkg/search"
)

// TestPseudonymizeEndToEnd is a supervisor's erasure on the local stack: a
// list uploaded with the AWS CLI is previewed by POST /pseudonymize (one
// row, nothing changed), confirmed (202, the job handed to
// PseudonymizeFunction as an Event invocation through the edge), followed
// by GET /pseudonymize/{jobId} to its certificate, whose presigned links
// download; the list in S3 holds the phone masked, the other row as it was.
func TestPseudonymizeEndToEnd(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	dir := t.TempDir()
	const phone = "(212) 555-0147"
	list := "Cust ID,Mobile No.,City\nC-1," + phone + ",Queens\nC-2,(646) 555-0100,Bronx\n"
	file := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(file, []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	uri := "s3://" + s.Names["LeadsBucket"] + "/campaigns/erase/list.csv"
	stacktest.AWS(t, s, "s3", "cp", file, uri)
	stacktest.WaitIdle(t, s)

	body := `{"phones":["+1 212-555-0147"],"jurisdiction":"CCPA","requestId":"r-e2e"}`
	for _, role := range []auth.Role{"", auth.Agent, auth.Auditor} {
		if code, b := apiCall(t, s, http.MethodPost, "/pseudonymize", role, body); code != map[bool]int{true: 401, false: 403}[role == ""] {
			t.Fatalf("POST /pseudonymize as %q = %d %s, want it refused", role, code, b)
		}
	}
	code, b := apiCall(t, s, http.MethodPost, "/pseudonymize", auth.Supervisor, body)
	var p erasure.Preview
	if err := json.Unmarshal(b, &p); code != http.StatusOK || err != nil {
		t.Fatalf("POST /pseudonymize (preview) = %d %s, want 200", code, b)
	}
	if p.Rows != 1 || len(p.Objects) != 1 || p.Strategy != "alternate" || p.Operation != erasure.Erasure {
		t.Fatalf("preview = %s, want 1 row of 1 list, masked alternate under CCPA", b)
	}
	if got := readList(t, s, uri); got != list {
		t.Fatalf("after the preview the list is %q, want it unchanged", got)
	}

	code, b = apiCall(t, s, http.MethodPost, "/pseudonymize", auth.Supervisor, body[:len(body)-1]+`,"confirm":true}`)
	var accepted struct{ JobID, Status string }
	if err := json.Unmarshal(b, &accepted); code != http.StatusAccepted || err != nil || accepted.Status != erasure.StatusQueued || !erasure.ValidID(accepted.JobID) {
		t.Fatalf("POST /pseudonymize (confirm) = %d %s, want 202 with a queued job", code, b)
	}
	// The job runs in PseudonymizeFunction's Event invocation, and its
	// rewrite's notification in IndexFunction: WaitIdle waits for both.
	stacktest.WaitIdle(t, s)

	if code, b := apiCall(t, s, http.MethodGet, "/pseudonymize/"+accepted.JobID, auth.Agent, ""); code != http.StatusForbidden {
		t.Fatalf("GET /pseudonymize/{jobId} as agent = %d %s, want 403", code, b)
	}
	code, b = apiCall(t, s, http.MethodGet, "/pseudonymize/"+accepted.JobID, auth.Admin, "")
	var job struct {
		JobID       string `json:"jobId"`
		RequestID   string `json:"requestId"`
		Requester   string
		Status      string
		Totals      struct{ RowsEdited, ObjectsRewritten int64 }
		Certificate struct{ JSON, PDF string }
	}
	if err := json.Unmarshal(b, &job); code != http.StatusOK || err != nil {
		t.Fatalf("GET /pseudonymize/%s = %d %s, want 200", accepted.JobID, code, b)
	}
	if job.JobID != accepted.JobID || job.Status != erasure.StatusCompleted || job.Totals.RowsEdited != 1 || job.Totals.ObjectsRewritten != 1 ||
		job.RequestID != "r-e2e" || job.Requester != "dev-supervisor" {
		t.Fatalf("job = %s, want completed with 1 row edited in 1 list, for r-e2e, by dev-supervisor", b)
	}
	var cert struct {
		JobID  string `json:"jobId"`
		Status string
	}
	if err := json.Unmarshal(download(t, job.Certificate.JSON), &cert); err != nil || cert.JobID != accepted.JobID || cert.Status != erasure.StatusCompleted {
		t.Fatalf("certificate JSON at %s: %+v (%v), want the job's", job.Certificate.JSON, cert, err)
	}
	if pdf := download(t, job.Certificate.PDF); !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("certificate PDF starts %q, want a PDF", pdf[:min(8, len(pdf))])
	}
	if code, _ := apiCall(t, s, http.MethodGet, "/pseudonymize/job-00000000000000000000", auth.Admin, ""); code != http.StatusNotFound {
		t.Fatalf("GET of an unknown job = %d, want 404", code)
	}

	// The rewritten version is indexed already (WaitIdle waited for the
	// notification the job's write queued): nothing is found, nothing
	// pending.
	code, b = getSearch(t, s, auth.Supervisor, "phone=%2B12125550147")
	var res search.Result
	if err := json.Unmarshal(b, &res); code != http.StatusOK || err != nil || len(res.Records) != 0 || len(res.Coverage.Pending) != 0 {
		t.Fatalf("GET /search after the job = %d %s, want no records and nothing pending", code, b)
	}

	rows, err := csv.NewReader(bytes.NewReader([]byte(readList(t, s, uri)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][1] != masking.MaskAlternate(phone) || rows[1][1] == phone || rows[2][1] != "(646) 555-0100" || rows[2][0] != "C-2" {
		t.Fatalf("list after the job = %q, want row 1's phone %q and row 2 as uploaded", rows, masking.MaskAlternate(phone))
	}

	// Every version S3 keeps of the list, as the AWS CLI lists them: the
	// job's alone, without her number.
	var versions struct {
		Versions []struct{ Key, VersionId string }
	}
	if err := json.Unmarshal([]byte(stacktest.AWS(t, s, "s3api", "list-object-versions", "--bucket", s.Names["LeadsBucket"],
		"--prefix", "campaigns/erase/")), &versions); err != nil || len(versions.Versions) != 1 {
		t.Fatalf("list-object-versions = %+v (%v), want the job's version alone", versions, err)
	}

	// She is on the suppression list: a dialer's check says so, and the
	// same list uploaded again is scrubbed as IndexFunction reads it.
	code, b = apiCall(t, s, http.MethodPost, "/suppression/check", auth.Agent, `{"phones":["212.555.0147","(646) 555-0100"]}`)
	var check struct {
		Phones []struct {
			Suppressed bool
			Actions    []string
		}
	}
	if err := json.Unmarshal(b, &check); code != http.StatusOK || err != nil || len(check.Phones) != 2 || !check.Phones[0].Suppressed ||
		check.Phones[0].Actions[0] != "mask" || check.Phones[1].Suppressed {
		t.Fatalf("POST /suppression/check = %d %s, want her number suppressed (mask), the other not", code, b)
	}
	stacktest.AWS(t, s, "s3", "cp", file, uri)
	stacktest.WaitIdle(t, s)
	rows, err = csv.NewReader(bytes.NewReader([]byte(readList(t, s, uri)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][1] == phone || rows[1][1] != masking.MaskRedact(phone) || rows[2][1] != "(646) 555-0100" {
		t.Fatalf("re-uploaded list = %q, want her row masked (redact, the policy's default) and the other as uploaded", rows)
	}
	if err := json.Unmarshal([]byte(stacktest.AWS(t, s, "s3api", "list-object-versions", "--bucket", s.Names["LeadsBucket"],
		"--prefix", "campaigns/erase/")), &versions); err != nil || len(versions.Versions) != 2 {
		t.Fatalf("list-object-versions after the re-upload = %+v (%v), want the job's and the scrub's (the upload deleted)", versions, err)
	}
	for _, v := range versions.Versions {
		out := filepath.Join(dir, "version")
		stacktest.AWS(t, s, "s3api", "get-object", "--bucket", s.Names["LeadsBucket"], "--key", v.Key, "--version-id", v.VersionId, out)
		if b, _ := os.ReadFile(out); bytes.Contains(b, []byte(phone)) {
			t.Fatalf("version %s still holds her number", v.VersionId)
		}
	}
	code, b = apiCall(t, s, http.MethodGet, "/lists/campaigns/erase/list.csv/scrub", auth.Agent, "")
	var scrub struct {
		Status string
		Rows   []struct {
			Row    int64
			Masked bool
		}
		Masked int
	}
	if err := json.Unmarshal(b, &scrub); code != http.StatusOK || err != nil || scrub.Status != "checked" || len(scrub.Rows) != 1 ||
		scrub.Rows[0].Row != 1 || !scrub.Rows[0].Masked || scrub.Masked != 1 || bytes.Contains(b, []byte("555")) {
		t.Fatalf("GET /lists/…/scrub = %d %s, want row 1 masked, checked, no number", code, b)
	}
	if code, _ := apiCall(t, s, http.MethodGet, "/lists/campaigns/erase/list.csv/scrub", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("GET /lists/…/scrub anonymously = %d, want 401", code)
	}
}

// readList is the current version of the list at uri, through the AWS CLI.
func readList(t *testing.T, s *stack.Stack, uri string) string {
	t.Helper()
	return stacktest.AWS(t, s, "s3", "cp", uri, "-")
}

// download GETs a presigned URL and returns its body; any status but 200
// fails the test.
func download(t *testing.T, link string) []byte {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %.200s (%v), want 200", link, resp.StatusCode, b, err)
	}
	return b
}
