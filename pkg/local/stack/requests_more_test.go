package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
)

// TestIVRRequestAndLockout: the toll-free line files a deletion for the
// caller's number through `aws lambda invoke` with the sample Connect
// event; five wrong codes lock that number, and then even the right code
// is refused.
func TestIVRRequestAndLockout(t *testing.T) {
	d := newDesk(t)
	out := filepath.Join(t.TempDir(), "out.json")
	stacktest.AWS(t, d.s, "lambda", "invoke", "--function-name", "IntakeFunction",
		"--payload", "fileb://"+filepath.Join(stacktest.Root(t), "events", "intake", "connect-file-request.json"), out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var said map[string]string
	if err := json.Unmarshal(b, &said); err != nil || said["status"] != "filed" || !strings.HasPrefix(said["reference"], "VR-") {
		t.Fatalf("contact flow answer = %s, want filed with a reference", b)
	}
	id := said["requestId"]
	r := d.waiting(id, requeststore.WaitVerification)
	if r.Channel != requests.IVR || r.Type != requests.Delete || !slices.Equal(r.Phones, []string{"+14155550167"}) {
		t.Fatalf("request = %+v, want an IVR deletion for the caller's number", r)
	}
	tok := "?token=" + d.token(id)
	// The code went moments ago: a resend now is too soon.
	if code, body := d.call(http.MethodPost, "/requests/"+id+"/resend"+tok, "", `{"identifier":"+14155550167"}`); code != http.StatusTooManyRequests {
		t.Fatalf("resend at once = %d %v, want 429", code, body)
	}
	if code, body := d.call(http.MethodPost, "/requests/"+id+"/resend"+tok, "", `{"identifier":"+14155550199"}`); code != http.StatusNotFound {
		t.Fatalf("resend to a number the request does not name = %d %v, want 404", code, body)
	}
	right := d.code("+14155550167")
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	for i := 1; i <= 5; i++ {
		code, body := d.call(http.MethodPost, "/requests/"+id+"/verify"+tok, "", `{"identifier":"(415) 555-0167","code":"`+wrong+`"}`)
		want := http.StatusBadRequest
		if i == 5 {
			want = http.StatusLocked
		}
		if code != want {
			t.Fatalf("wrong code %d = %d %v, want %d", i, code, body, want)
		}
	}
	if code, body := d.call(http.MethodPost, "/requests/"+id+"/verify"+tok, "", `{"identifier":"+14155550167","code":"`+right+`"}`); code != http.StatusLocked {
		t.Fatalf("the right code after five wrong ones = %d %v, want 423", code, body)
	}
	if r, _ := d.store.Get(context.Background(), id); len(r.Proofs) != 0 || r.Status != requests.Verifying {
		t.Fatalf("locked request = %+v, want verifying with no proof", r)
	}
}

// TestAppeal: a Colorado deletion denied by a supervisor is appealed with
// the status token and approved by an admin, then carried out; the
// supervisor cannot decide the appeal.
func TestAppeal(t *testing.T) {
	d := newDesk(t)
	d.leads("campaigns/spring/leads.csv", household)
	id, token := file(t, d, auth.Agent, "/requests/agent", `{"type":"delete","jurisdiction":"CO","name":"Ana Lopez","emails":["ana@example.com"]}`)
	d.waiting(id, requeststore.WaitVerification)
	d.verify(id, "ana@example.com")
	d.waiting(id, requeststore.WaitDecision)
	if code, _ := d.call(http.MethodPost, "/requests/"+id+"/decision", auth.Supervisor, `{"decision":"deny"}`); code != 400 {
		t.Fatalf("deny without a reason = %d, want 400", code)
	}
	if code, out := d.call(http.MethodPost, "/requests/"+id+"/decision", auth.Supervisor, `{"decision":"deny","reason":"the lists are under a litigation hold"}`); code != 200 || out["status"] != "denied" {
		t.Fatalf("deny = %d %v, want 200 denied", code, out)
	}
	d.waiting(id, requeststore.WaitAppeal)
	mails := d.messages("ana@example.com")
	if last := mails[len(mails)-1].Body; !strings.Contains(last, "litigation hold") || !strings.Contains(last, "appeal") {
		t.Fatalf("denial notice = %q, want the reason and the appeal right", last)
	}
	if code, _ := d.call(http.MethodPost, "/requests/"+id+"/appeal", "", `{"token":"wrong","reason":"I want it deleted"}`); code != 404 {
		t.Fatalf("appeal with a wrong token = %d, want 404", code)
	}
	if code, out := d.call(http.MethodPost, "/requests/"+id+"/appeal", "", `{"token":"`+token+`","reason":"I want it deleted"}`); code != 202 {
		t.Fatalf("appeal = %d %v, want 202", code, out)
	}
	d.waiting(id, requeststore.WaitAppealDecision)
	if code, _ := d.call(http.MethodPost, "/requests/"+id+"/decision", auth.Supervisor, `{"decision":"approve"}`); code != 403 {
		t.Fatalf("appeal decided by a supervisor = %d, want 403", code)
	}
	// Colorado allows an appeal 45 days, and 60 more once, with notice.
	before, _ := d.store.Get(context.Background(), id)
	d.decide(id, auth.Admin, `{"decision":"extend","reason":"the archive must be restored"}`)
	after, _ := d.store.Get(context.Background(), id)
	if after.Appeal.Due != before.Appeal.Due.AddDays(60) || !after.Appeal.Extended {
		t.Fatalf("appeal due %s → %s, want 60 days later", before.Appeal.Due, after.Appeal.Due)
	}
	if code, _ := d.call(http.MethodPost, "/requests/"+id+"/decision", auth.Admin, `{"decision":"extend","reason":"again"}`); code != 409 {
		t.Fatalf("a second appeal extension = %d, want 409", code)
	}
	d.mailed(id, "ana@example.com", "decide your appeal")
	d.decide(id, auth.Admin, `{"decision":"approve"}`)
	r := d.until(id, "completed", func(r requeststore.Request) bool { return r.Status == requests.Completed })
	if r.Appeal == nil || r.Appeal.Decision == nil || r.Appeal.Decision.By != "dev-admin" || r.Result == nil || r.Result.JobID == "" {
		t.Fatalf("request = %+v, want the admin's appeal decision and the erasure", r)
	}
	code, body := d.call(http.MethodGet, "/requests/"+id+"/audit", auth.Auditor, "")
	evs, _ := body["events"].([]any)
	if code != 200 || len(evs) < 8 {
		t.Fatalf("audit = %d with %d events, want the whole trail", code, len(evs))
	}
	csvCode, csv := rawCall(t, d.s, http.MethodGet, "/requests/"+id+"/audit?format=csv", "Bearer "+auditorToken(t, d), "")
	if csvCode != 200 || !strings.HasPrefix(string(csv), "seq,time,requestId") || !strings.Contains(string(csv), ",appealed,denied,appealed,") {
		t.Fatalf("audit CSV = %d\n%s\nwant the trail with the appeal", csvCode, csv)
	}
	if !strings.Contains(string(csv), ",dev-auditor,auditor,console,audit_read,") {
		t.Fatalf("audit CSV:\n%s\nwant the auditor's first read of the trail in it", csv)
	}
	csvCode, csv = rawCall(t, d.s, http.MethodGet, "/requests?status=completed&format=csv", "Bearer "+auditorToken(t, d), "")
	if csvCode != 200 || !strings.Contains(string(csv), id+","+r.Reference+",delete,CO,agent,completed,") || strings.Contains(string(csv), "ana@") {
		t.Fatalf("queue CSV = %d\n%s\nwant the request's row and no identifier", csvCode, csv)
	}
	noIdentifierInHistory(t, d, id, "ana@example.com", "Ana", "litigation")
}

// TestWebFormRateLimit: the anonymous web form answers 429, with
// Retry-After, once one address has filed its hourly allowance.
func TestWebFormRateLimit(t *testing.T) {
	d := newDesk(t)
	for i := 1; i <= 10; i++ {
		if code, out := d.call(http.MethodPost, "/requests", "", `{"type":"opt_out","jurisdiction":"CA"}`); code != 400 {
			t.Fatalf("filing %d = %d %v, want 400 (no identifier)", i, code, out)
		}
	}
	code, out := d.call(http.MethodPost, "/requests", "", `{"type":"opt_out","jurisdiction":"CA","emails":["a@example.com"]}`)
	if code != http.StatusTooManyRequests || !strings.Contains(out["error"].(string), "retry in") {
		t.Fatalf("the 11th filing within the hour = %d %v, want 429", code, out)
	}
	// Staff filings are not the web form's.
	if code, out := d.call(http.MethodPost, "/requests/agent", auth.Agent, `{"type":"opt_out","jurisdiction":"CA","emails":["a@example.com"]}`); code != 201 {
		t.Fatalf("agent filing = %d %v, want 201", code, out)
	}
}

// TestDeletionSparesHousehold: an authorized agent files a deletion; the
// consumer proves the shared landline and their email. The household row
// under another name is held, excluded, and left as it was; the
// consumer's row is masked, no copy of it stays in the exports bucket,
// and every status change was published.
func TestDeletionSparesHousehold(t *testing.T) {
	d := newDesk(t)
	d.leads("campaigns/spring/leads.csv", household)
	id, _ := file(t, d, "", "/requests", `{"type":"delete","jurisdiction":"CA","name":"Ana Lopez","emails":["ana@example.com"],
		"phones":["415-555-0101"],"authorizedAgent":{"name":"Carla Ruiz","email":"carla@agents.example","relationship":"attorney"}}`)
	d.waiting(id, requeststore.WaitVerification)
	if len(d.messages("carla@agents.example")) == 0 || codeRE.MatchString(d.messages("carla@agents.example")[0].Body) {
		t.Fatal("the authorized agent got no acknowledgement, or got a code that belongs to the consumer")
	}
	d.verify(id, "ana@example.com", "+14155550101")
	d.waiting(id, requeststore.WaitDecision)
	d.decide(id, auth.Admin, `{"decision":"approve"}`)
	r := d.waiting(id, requeststore.WaitReview)
	if r.Result == nil || len(r.Result.Review) != 1 || r.Result.Review[0].Reason != "different_name" || r.Result.RecordsKey != "" {
		t.Fatalf("search result = %+v, want the household row held and no records file", r.Result)
	}
	if code, out := d.call(http.MethodPost, "/requests/"+id+"/review", auth.Supervisor, `{"rows":{"no-such-row":true}}`); code != 400 {
		t.Fatalf("review of an unknown row = %d %v, want 400", code, out)
	}
	d.review(id, r.Result.Review[0].Ref, false)
	d.until(id, "completed", func(r requeststore.Request) bool { return r.Status == requests.Completed })
	b := d.list("campaigns/spring/leads.csv")
	if !strings.Contains(string(b), "Ben Lopez,(415) 555-0101,ben@example.com,C-200") || strings.Contains(string(b), "ana@example.com") {
		t.Fatalf("list after the erasure:\n%s\nwant Ben's row as it was and Ana's masked", b)
	}
	if !strings.Contains(string(b), "Ana Lopez,(415) 555-0199,,C-300") {
		t.Fatalf("list after the erasure:\n%s\nwant the row of the number Ana never proved left alone", b)
	}
	// The event of a status goes out just after the status is written.
	want := []string{"received", "verifying", "awaiting_decision", "processing", "completed"}
	var statuses []string
	d.until(id, "published every status", func(requeststore.Request) bool {
		statuses = nil
		for _, m := range d.messages(d.s.Names["RequestEvents"]) {
			var ev struct{ RequestID, Status string }
			if json.Unmarshal([]byte(m.Body), &ev) == nil && ev.RequestID == id {
				statuses = append(statuses, ev.Status)
			}
		}
		return len(statuses) >= len(want)
	})
	// Files in one millisecond sort by their random suffix: compare sets.
	slices.SortFunc(statuses, func(a, b string) int { return slices.Index(want, a) - slices.Index(want, b) })
	if !slices.Equal(statuses, want) {
		t.Fatalf("published statuses = %v, want %v", statuses, want)
	}
}

// TestUnverifiedAndOptOut: a deletion nobody verifies is closed on day 10
// and becomes an opt-out; an opt-out needs no code and ends on the
// do-not-contact list once approved. A repeated filing with the same
// Idempotency-Key is the first one.
func TestUnverifiedAndOptOut(t *testing.T) {
	d := newDesk(t)
	id, _ := file(t, d, "", "/requests", `{"type":"delete","jurisdiction":"VA","emails":["zoe@example.com"]}`)
	r := d.waiting(id, requeststore.WaitVerification)
	d.advanceTo(r.Received.AddDate(0, 0, 10).Add(-time.Minute))
	if r, _ = d.store.Get(context.Background(), id); r.Status != requests.Verifying {
		t.Fatalf("status a minute before day 10 = %s, want verifying", r.Status)
	}
	d.advanceTo(r.Received.AddDate(0, 0, 10).Add(time.Minute))
	r = d.until(id, "closed unverified", func(r requeststore.Request) bool { return r.Status == requests.ClosedUnverified })
	d.mailed(id, "zoe@example.com", "treated it as a request to opt out")
	// PseudonymizeFunction, which holds the suppression list, suppresses
	// in the workflow's next step.
	d.until(id, "suppressed", func(r requeststore.Request) bool { return r.Result != nil && r.Result.Suppressed > 0 })
	check := func(email string) bool {
		code, out := d.call(http.MethodPost, "/suppression/check", auth.Agent, `{"emails":["`+email+`"]}`)
		if code != 200 {
			t.Fatalf("suppression check = %d %v", code, out)
		}
		b, _ := json.Marshal(out)
		return strings.Contains(string(b), "do-not-contact")
	}
	if !check("zoe@example.com") {
		t.Fatal("the unverified deletion's email is not on the do-not-contact list")
	}

	body := `{"type":"opt_out","jurisdiction":"CA","phones":["212-555-0147"]}`
	code, first := rawFile(t, d, "key-1", body)
	again, second := rawFile(t, d, "key-1", body)
	if code != 201 || again != 200 || first["id"] != second["id"] || first["statusToken"] != second["statusToken"] {
		t.Fatalf("filings with one Idempotency-Key = %d %v, %d %v; want the first request twice", code, first, again, second)
	}
	oid := first["id"].(string)
	d.waiting(oid, requeststore.WaitDecision) // nothing to verify
	d.decide(oid, auth.Supervisor, `{"decision":"approve"}`)
	r = d.until(oid, "completed", func(r requeststore.Request) bool { return r.Status == requests.Completed })
	if r.Result == nil || r.Result.Suppressed == 0 {
		t.Fatalf("opt-out result = %+v, want suppression entries", r.Result)
	}
	code, out := d.call(http.MethodPost, "/suppression/check", auth.Agent, `{"phones":["(212) 555-0147"]}`)
	if b, _ := json.Marshal(out); code != 200 || !strings.Contains(string(b), "do-not-contact") {
		t.Fatalf("suppression check of the opted-out phone = %d %s", code, b)
	}
	// The §7102 figures of the year: the unverifiable deletion counts as
	// denied, the opt-out as complied with, both answered on their day.
	year := requests.DateOf(r.Received, d.zone).Year
	if code, _ := d.call(http.MethodGet, fmt.Sprintf("/reports/metrics?year=%d", year), auth.Supervisor, ""); code != 403 {
		t.Fatalf("metrics as supervisor = %d, want 403", code)
	}
	code, out = d.call(http.MethodGet, fmt.Sprintf("/reports/metrics?year=%d", year), auth.Auditor, "")
	got := map[string]string{}
	types, _ := out["types"].([]any)
	for _, ty := range types {
		m := ty.(map[string]any)
		got[m["type"].(string)] = fmt.Sprint(m["received"], "/", m["compliedWholeOrPart"], "/", m["denied"], "/", m["open"])
	}
	if code != 200 || got["delete"] != "1/0/1/0" || got["opt_out"] != "1/1/0/0" || got["access"] != "0/0/0/0" {
		t.Fatalf("metrics = %d %v, want delete 1 received 1 denied, opt_out 1 received 1 complied", code, got)
	}
	csvCode, csv := rawCall(t, d.s, http.MethodGet, fmt.Sprintf("/reports/metrics?year=%d&format=csv", year), "Bearer "+auditorToken(t, d), "")
	if csvCode != 200 || !strings.HasPrefix(string(csv), "type,label,received") {
		t.Fatalf("metrics CSV = %d %q", csvCode, csv)
	}
}

func auditorToken(t *testing.T, d *desk) string {
	t.Helper()
	tok, err := d.s.TokenKey.Issue("dev-auditor", []string{string(auth.Auditor)}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// rawFile files body on the web form with an Idempotency-Key.
func rawFile(t *testing.T, d *desk, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, d.s.APIURL+"/requests", strings.NewReader(body))
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestProcessingFailure: a task that fails after its retries (the
// records gone from the exports bucket before the export) marks the
// request failed for an operator, and the execution fails visibly.
func TestProcessingFailure(t *testing.T) {
	d := newDesk(t)
	d.leads("campaigns/spring/leads.csv", household)
	id, _ := file(t, d, auth.Agent, "/requests/agent", `{"type":"access","jurisdiction":"CA","name":"Ana Lopez","declaration":true,
		"emails":["ana@example.com"],"phones":["415-555-0101"]}`)
	d.waiting(id, requeststore.WaitVerification)
	d.verify(id, "ana@example.com", "+14155550101")
	d.waiting(id, requeststore.WaitDecision)
	d.decide(id, auth.Supervisor, `{"decision":"approve"}`)
	r := d.waiting(id, requeststore.WaitReview)
	stacktest.AWS(t, d.s, "s3", "rm", "s3://"+d.s.Names["ExportsBucket"]+"/"+r.Result.RecordsKey)
	d.review(id, r.Result.Review[0].Ref, false)
	d.until(id, "failed", func(r requeststore.Request) bool { return r.Status == requests.Failed })
	arn := strings.Replace(d.s.Names["PrivacyRequestStateMachine"], ":stateMachine:", ":execution:", 1) + ":" + id
	waitStopped(t, d.s, arn)
	var desc struct{ Status, Error string }
	_ = json.Unmarshal([]byte(stacktest.AWS(t, d.s, "stepfunctions", "describe-execution", "--execution-arn", arn)), &desc)
	if desc.Status != "FAILED" || desc.Error != "RequestFailed" {
		t.Fatalf("execution = %+v, want FAILED RequestFailed", desc)
	}
	code, out := d.call(http.MethodGet, "/requests?status=failed", auth.Auditor, "")
	if list, _ := out["requests"].([]any); code != 200 || len(list) != 1 {
		t.Fatalf("queue of failed requests = %d %v, want this one", code, out)
	}
}

// TestCorrection: a correction of the email proves the phone, since a
// proof by the value being corrected does not count; approved, the
// consumer's row gets the new email and the household row keeps its own.
func TestCorrection(t *testing.T) {
	d := newDesk(t)
	d.leads("campaigns/spring/leads.csv", household)
	id, _ := file(t, d, "", "/requests", `{"type":"correct","jurisdiction":"CA","name":"Ana Lopez","emails":["ana@example.com"],
		"phones":["415-555-0101"],"corrections":{"email":"ana.lopez@example.com"}}`)
	d.waiting(id, requeststore.WaitVerification)
	if out := d.verify(id, "ana@example.com"); out["policyMet"] != false {
		t.Fatalf("verify by the email being corrected = %v, want the policy not met", out)
	}
	if out := d.verify(id, "+14155550101"); out["policyMet"] != true {
		t.Fatalf("verify by phone = %v, want the policy met", out)
	}
	d.waiting(id, requeststore.WaitDecision)
	d.decide(id, auth.Supervisor, `{"decision":"approve"}`)
	r := d.waiting(id, requeststore.WaitReview)
	d.review(id, r.Result.Review[0].Ref, false)
	d.until(id, "completed", func(r requeststore.Request) bool { return r.Status == requests.Completed })
	b := d.list("campaigns/spring/leads.csv")
	if !strings.Contains(string(b), "Ana Lopez,(415) 555-0101,ana.lopez@example.com,C-100") ||
		!strings.Contains(string(b), "Ben Lopez,(415) 555-0101,ben@example.com,C-200") {
		t.Fatalf("list after the correction:\n%s\nwant Ana's email corrected and Ben's row as it was", b)
	}
	noIdentifierInHistory(t, d, id, "ana@example.com", "ana.lopez", "Ana", "5550101")
}

// TestIVRDeletionCompletes: a caller's deletion, verified by the code the
// number received, is carried out like any other.
func TestIVRDeletionCompletes(t *testing.T) {
	d := newDesk(t)
	d.leads("campaigns/spring/leads.csv", "Name,Phone\r\nLee Park,(415) 555-0167\r\n")
	out := filepath.Join(t.TempDir(), "out.json")
	stacktest.AWS(t, d.s, "lambda", "invoke", "--function-name", "IntakeFunction",
		"--payload", "fileb://"+filepath.Join(stacktest.Root(t), "events", "intake", "connect-file-request.json"), out)
	b, _ := os.ReadFile(out)
	var said map[string]string
	_ = json.Unmarshal(b, &said)
	id := said["requestId"]
	d.waiting(id, requeststore.WaitVerification)
	d.verify(id, "+14155550167")
	d.waiting(id, requeststore.WaitDecision)
	d.decide(id, auth.Supervisor, `{"decision":"approve"}`)
	r := d.until(id, "completed", func(r requeststore.Request) bool { return r.Status == requests.Completed })
	if r.Channel != requests.IVR || r.Result == nil || r.Result.JobID == "" {
		t.Fatalf("request = %+v, want an IVR request erased", r)
	}
	d.mailed(id, "+14155550167", "deleted")
	noIdentifierInHistory(t, d, id, "5550167", "Lee")
}

// TestAppealDeadline: an appeal nobody decides is reminded before its own
// due date (Colorado: 45 days from the appeal) and escalates on it.
func TestAppealDeadline(t *testing.T) {
	d := newDesk(t)
	id, token := file(t, d, "", "/requests", `{"type":"delete","jurisdiction":"CO","emails":["kim@example.com"]}`)
	d.waiting(id, requeststore.WaitVerification)
	d.verify(id, "kim@example.com")
	d.waiting(id, requeststore.WaitDecision)
	d.decide(id, auth.Supervisor, `{"decision":"deny","reason":"not our data"}`)
	d.waiting(id, requeststore.WaitAppeal)
	if code, out := d.call(http.MethodPost, "/requests/"+id+"/appeal", "", `{"token":"`+token+`"}`); code != 202 {
		t.Fatalf("appeal = %d %v", code, out)
	}
	r := d.waiting(id, requeststore.WaitAppealDecision)
	due := r.Appeal.Due
	if want := requests.DateOf(r.Appeal.At, d.zone).AddDays(45); due != want {
		t.Fatalf("appeal due %s, want %s (Colorado: 45 days)", due, want)
	}
	r = d.advance(id, requeststore.WaitAppealDecision, d.reminderAt(due).Add(-time.Minute))
	want := []string{"appeal:reminder:" + due.AddDays(-14).String(), "appeal:reminder:" + due.AddDays(-7).String(), "appeal:reminder:" + due.AddDays(-2).String()}
	if !slices.Equal(r.Reminded, want) {
		t.Fatalf("reminded before the appeal's due date = %v, want %v", r.Reminded, want)
	}
	r = d.advance(id, requeststore.WaitAppealDecision, d.reminderAt(due).Add(time.Minute))
	if !slices.Contains(r.Reminded, "appeal:escalated:"+due.String()) || r.Status != requests.Appealed {
		t.Fatalf("reminded on the appeal's due date = %v (%s), want the escalation, still appealed", r.Reminded, r.Status)
	}
}
