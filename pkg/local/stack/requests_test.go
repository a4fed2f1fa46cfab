package stack_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/anchorbucket"
	"github.com/veil-privacy/veil/pkg/asl"
	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/local/outbox"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
)

// desk is a stack with a manual workflow clock, and what a test of the
// request path reads: the Requests table and the outbox.
type desk struct {
	t     *testing.T
	s     *stack.Stack
	clock *asl.ManualClock
	store *requeststore.Store
	zone  *time.Location
	// tokens are the status tokens filings answered, by request ID.
	tokens map[string]string
}

func newDesk(t *testing.T) *desk {
	t.Helper()
	return newDeskEnv(t, nil)
}

// newDeskEnv is newDesk with env over the template's function
// environment, by function logical ID.
func newDeskEnv(t *testing.T, env map[string]map[string]string) *desk {
	t.Helper()
	opts := stacktest.Options(t)
	opts.FunctionEnv = env
	clock := asl.NewManualClock(time.Now().UTC())
	opts.Clock = clock
	s := stacktest.Start(t, opts)
	ddb := dynamodb.NewFromConfig(s.AWS)
	table := s.Names["RequestsTable"]
	zone, err := time.LoadLocation("America/Los_Angeles") // the template's BusinessTimeZone
	if err != nil {
		t.Fatal(err)
	}
	return &desk{t: t, s: s, clock: clock, store: &requeststore.Store{API: ddb, Table: table, Audit: &audit.Store{API: ddb, Table: table}},
		zone: zone, tokens: map[string]string{}}
}

// leads uploads a lead list and waits for it to be indexed.
func (d *desk) leads(key, body string) {
	d.t.Helper()
	_, err := s3.NewFromConfig(d.s.AWS, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(context.Background(),
		&s3.PutObjectInput{Bucket: aws.String(d.s.Names["LeadsBucket"]), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		d.t.Fatal(err)
	}
	stacktest.WaitIdle(d.t, d.s)
}

// call calls the API as role ("" anonymous; auth.API for a client).
func (d *desk) call(method, path string, role auth.Role, body string) (int, map[string]any) {
	d.t.Helper()
	var code int
	var b []byte
	if role == auth.API {
		tok, err := d.s.TokenKey.IssueClient("crm", []string{auth.RequestsScope}, time.Minute)
		if err != nil {
			d.t.Fatal(err)
		}
		code, b = rawCall(d.t, d.s, method, path, "Bearer "+tok, body)
	} else {
		code, b = apiCall(d.t, d.s, method, path, role, body)
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return code, out
}

// until waits, on the workflow's own progress, for cond on request id.
func (d *desk) until(id, what string, cond func(requeststore.Request) bool) requeststore.Request {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var r requeststore.Request
	err := d.s.StepFunctions.Engine().WaitFor(ctx, func() bool {
		var err error
		r, err = d.store.Get(context.Background(), id)
		return err == nil && cond(r)
	})
	if err != nil {
		h := executionHistory(d.s, strings.Replace(d.s.Names["PrivacyRequestStateMachine"], ":stateMachine:", ":execution:", 1)+":"+id)
		d.t.Fatalf("request %s never %s: last %+v wait %+v now %v\nhistory tail: %v", id, what, r, r.Wait, d.clock.Now(), h[max(0, len(h)-6):])
	}
	return r
}

// rearmed waits until the workflow waits for what again, since the clock's
// last move (a wake that sends what is due and sleeps again). The
// state's entered time is kept to the millisecond.
func (d *desk) rearmed(id, what string) requeststore.Request {
	d.t.Helper()
	now := d.clock.Now()
	return d.until(id, "waited again for "+what, func(r requeststore.Request) bool {
		return r.Wait != nil && r.Wait.For == what && !r.Wait.Since.Before(now.Add(-time.Second))
	})
}

func (d *desk) waiting(id, what string) requeststore.Request {
	d.t.Helper()
	return d.until(id, "waited for "+what, func(r requeststore.Request) bool { return r.Wait != nil && r.Wait.For == what })
}

// messages returns the outbox's messages to to.
func (d *desk) messages(to string) []outbox.Message {
	d.t.Helper()
	all, err := d.s.Outbox.Messages()
	if err != nil {
		d.t.Fatal(err)
	}
	return slices.DeleteFunc(all, func(m outbox.Message) bool { return m.To != to })
}

// verify enters the code each of who received, failing the test unless
// each is taken, and returns the last answer.
func (d *desk) verify(id string, who ...string) map[string]any {
	d.t.Helper()
	var out map[string]any
	for _, w := range who {
		var code int
		if code, out = d.call(http.MethodPost, "/requests/"+id+"/verify?token="+d.token(id), "", `{"identifier":"`+w+`","code":"`+d.code(w)+`"}`); code != 200 {
			d.t.Fatalf("verify = %d %v, want 200", code, out)
		}
	}
	return out
}

// token returns request id's status token: the one its filing answered,
// else (a filing that answers none, the IVR's) the token as the design
// defines it, computed here from the request key secret:
// HMAC(HMAC(secret, "veil:status-tokens"), "veil-status-token:" id), its
// first 48 hex digits.
func (d *desk) token(id string) string {
	d.t.Helper()
	if tok, ok := d.tokens[id]; ok {
		return tok
	}
	ring, err := indexkey.LoadKeyring(context.Background(), secretsmanager.NewFromConfig(d.s.AWS), d.s.Names["RequestKeySecret"])
	if err != nil {
		d.t.Fatal(err)
	}
	m := hmac.New(sha256.New, ring.Active.Secret)
	m.Write([]byte("veil:status-tokens"))
	m = hmac.New(sha256.New, m.Sum(nil))
	m.Write([]byte("veil-status-token:" + id))
	return hex.EncodeToString(m.Sum(nil))[:48]
}

// decide posts body as role's decision, failing the test unless it is
// taken.
func (d *desk) decide(id string, role auth.Role, body string) {
	d.t.Helper()
	if code, out := d.call(http.MethodPost, "/requests/"+id+"/decision", role, body); code != 200 {
		d.t.Fatalf("decision %s as %s = %d %v, want 200", body, role, code, out)
	}
}

// review includes or excludes the held row ref, failing the test unless
// the review is taken.
func (d *desk) review(id, ref string, include bool) {
	d.t.Helper()
	if code, out := d.call(http.MethodPost, "/requests/"+id+"/review", auth.Supervisor, fmt.Sprintf(`{"rows":{%q:%t}}`, ref, include)); code != 200 {
		d.t.Fatalf("review = %d %v, want 200", code, out)
	}
}

// list returns the lead list at key as it is now.
func (d *desk) list(key string) string {
	d.t.Helper()
	obj, err := s3.NewFromConfig(d.s.AWS, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(context.Background(),
		&s3.GetObjectInput{Bucket: aws.String(d.s.Names["LeadsBucket"]), Key: aws.String(key)})
	if err != nil {
		d.t.Fatal(err)
	}
	defer obj.Body.Close()
	b, err := io.ReadAll(obj.Body)
	if err != nil {
		d.t.Fatal(err)
	}
	return string(b)
}

var codeRE = regexp.MustCompile(`request VR-[0-9A-Z-]+ is (\d{6})\.`)

// code returns the last code sent to to.
func (d *desk) code(to string) string {
	d.t.Helper()
	code := ""
	for _, m := range d.messages(to) {
		if c := codeRE.FindStringSubmatch(m.Body); c != nil {
			code = c[1]
		}
	}
	if code == "" {
		d.t.Fatalf("no code was sent to the test identifier")
	}
	return code
}

// mailed waits for a message to to that holds text, sent by request id's
// workflow (a status is written before the notice of it goes out).
func (d *desk) mailed(id, to, text string) string {
	d.t.Helper()
	body := ""
	d.until(id, "mailed "+to, func(requeststore.Request) bool {
		for _, m := range d.messages(to) {
			if strings.Contains(m.Body, text) {
				body = m.Body
				return true
			}
		}
		return false
	})
	return body
}

// advance moves the workflow clock to t one timer at a time, waiting after
// each for request id's workflow to wait for what again: a timer's work
// then runs at the timer's own instant, as it would on AWS, not at t.
func (d *desk) advance(id, what string, t time.Time) requeststore.Request {
	d.t.Helper()
	for {
		next, ok := d.clock.NextDeadline()
		if !ok || next.After(t) {
			d.advanceTo(t)
			r, _ := d.store.Get(context.Background(), id)
			return r
		}
		d.advanceTo(next)
		d.rearmed(id, what)
	}
}

// advanceTo moves the workflow clock to t.
func (d *desk) advanceTo(t time.Time) {
	if dt := t.Sub(d.clock.Now()); dt > 0 {
		d.clock.Advance(dt)
	}
}

// reminderAt is when the reminders of day date go out (09:00 in the
// business's zone).
func (d *desk) reminderAt(date requests.Date) time.Time { return date.Time(d.zone).Add(9 * time.Hour) }

func file(t *testing.T, d *desk, role auth.Role, path, body string) (id, token string) {
	t.Helper()
	code, out := d.call(http.MethodPost, path, role, body)
	if code != http.StatusCreated {
		t.Fatalf("POST %s = %d %v, want 201", path, code, out)
	}
	id, _ = out["id"].(string)
	token, _ = out["statusToken"].(string)
	if id == "" || token == "" || !strings.HasPrefix(out["reference"].(string), "VR-") {
		t.Fatalf("POST %s = %v, want an id, a reference and a status token", path, out)
	}
	d.tokens[id] = token
	return id, token
}

const household = "Name,Phone,Email,Customer ID\r\n" +
	"Ana Lopez,(415) 555-0101,ana@example.com,C-100\r\n" +
	"Ben Lopez,(415) 555-0101,ben@example.com,C-200\r\n" +
	"Ana Lopez,(415) 555-0199,,C-300\r\n"

// TestRequestReminders: a deletion nobody decides gets its reminders on
// days 31, 38 and 43 and escalates on day 45, its due date; once approved
// it is erased and completed, and nothing of the consumer is in the
// execution's history.
func TestRequestReminders(t *testing.T) {
	d := newDesk(t)
	d.leads("campaigns/spring/leads.csv", household)
	id, token := file(t, d, "", "/requests", `{"type":"delete","jurisdiction":"CA","name":"Ana Lopez","emails":["Ana@Example.com"]}`)
	d.waiting(id, requeststore.WaitVerification)
	if out := d.verify(id, "ana@example.com"); out["policyMet"] != true {
		t.Fatalf("verify = %v, want the policy met", out)
	}
	r := d.waiting(id, requeststore.WaitDecision)
	if r.Status != requests.AwaitingDecision {
		t.Fatalf("status = %s, want awaiting_decision", r.Status)
	}
	received := requests.DateOf(r.Received, d.zone)
	due := received.AddDays(45)
	if r.Due != due {
		t.Fatalf("due = %s, want %s (45 days from %s)", r.Due, due, received)
	}
	for _, day := range []int{31, 38, 43} {
		date := received.AddDays(day)
		r = d.advance(id, requeststore.WaitDecision, d.reminderAt(date).Add(-time.Minute))
		if slices.Contains(r.Reminded, "reminder:"+date.String()) {
			t.Fatalf("reminder of day %d went before its morning: %v", day, r.Reminded)
		}
		r = d.advance(id, requeststore.WaitDecision, d.reminderAt(date).Add(time.Minute))
		if !slices.Contains(r.Reminded, "reminder:"+date.String()) {
			t.Fatalf("no reminder on day %d: %v", day, r.Reminded)
		}
	}
	if r.Escalated {
		t.Fatal("escalated before the due date")
	}
	r = d.advance(id, requeststore.WaitDecision, d.reminderAt(due).Add(time.Minute))
	if !slices.Contains(r.Reminded, "escalated:"+due.String()) || len(r.Reminded) != 4 {
		t.Fatalf("reminded = %v, want three reminders and the escalation on %s", r.Reminded, due)
	}
	// An extension is too late once the due date has come and gone.
	if r = d.advance(id, requeststore.WaitDecision, d.reminderAt(due.AddDays(1)).Add(time.Minute)); !slices.Contains(r.Reminded, "overdue:"+due.AddDays(1).String()) {
		t.Fatalf("reminded = %v, want the daily overdue reminder of %s", r.Reminded, due.AddDays(1))
	}

	if code, out := d.call(http.MethodPost, "/requests/"+id+"/decision", auth.Agent, `{"decision":"approve"}`); code != 403 {
		t.Fatalf("decision as agent = %d %v, want 403", code, out)
	}
	d.decide(id, auth.Supervisor, `{"decision":"approve"}`)
	r = d.until(id, "completed", func(r requeststore.Request) bool { return r.Status == requests.Completed })
	if r.Result == nil || r.Result.JobID == "" {
		t.Fatalf("result = %+v, want the erasure job", r.Result)
	}
	if code, out := d.call(http.MethodGet, "/requests/"+id+"/status?token="+token, "", ""); code != 200 || out["status"] != "completed" {
		t.Fatalf("status by token = %d %v, want completed", code, out)
	}
	if code, _ := d.call(http.MethodGet, "/requests/"+id+"/status?token=wrong", "", ""); code != 404 {
		t.Fatalf("status by a wrong token = %d, want 404", code)
	}
	noIdentifierInHistory(t, d, id, "ana@example.com", "Ana", "555-0101", "5550101")
	d.closedAndAnchored(id)
}

// closedAndAnchored waits for the workflow to settle (the closing step,
// which anchors the request's chain, is a Lambda invocation the engine
// counts until it returns) and checks the digest against the trail in the
// table.
func (d *desk) closedAndAnchored(id string) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := d.s.StepFunctions.Engine().WaitIdle(ctx); err != nil {
		d.t.Fatalf("workflow never settled: %v", err)
	}
	c := s3.NewFromConfig(d.s.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	stored, err := anchorbucket.Digests(ctx, c, d.s.Names["AuditAnchorBucket"])
	if err != nil {
		d.t.Fatal(err)
	}
	anchored := audit.ReadAnchors(stored)
	if !slices.Contains(anchored.Requests(), id) {
		d.t.Fatalf("request %s closed, and no digest anchors its trail (%d digests)", id, anchored.Digests)
	}
	events, err := d.store.Audit.Events(ctx, id)
	if err != nil {
		d.t.Fatal(err)
	}
	f := audit.Finding{RequestID: id}
	anchored.Check(&f, events)
	if len(anchored.Problems) > 0 || !f.OK() {
		d.t.Fatalf("the closed request's anchors: %v %v", anchored.Problems, f.Problems)
	}
}

// noIdentifierInHistory greps the execution's history, as the AWS CLI
// gives it, for any of values.
func noIdentifierInHistory(t *testing.T, d *desk, id string, values ...string) {
	t.Helper()
	arn := strings.Replace(d.s.Names["PrivacyRequestStateMachine"], ":stateMachine:", ":execution:", 1) + ":" + id
	hist := stacktest.AWS(t, d.s, "stepfunctions", "get-execution-history", "--execution-arn", arn)
	desc := stacktest.AWS(t, d.s, "stepfunctions", "describe-execution", "--execution-arn", arn)
	if !strings.Contains(hist, "TaskStateEntered") && !strings.Contains(hist, "ExecutionStarted") {
		t.Fatalf("history is empty:\n%s", hist)
	}
	for _, v := range values {
		if strings.Contains(strings.ToLower(hist+desc), strings.ToLower(v)) {
			t.Fatalf("the execution's history or description holds an identifier of the consumer")
		}
	}
}

// rawCall calls the API with an Authorization header ("" for none).
func rawCall(t *testing.T, s *stack.Stack, method, path, authorization, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.APIURL+path, strings.NewReader(body))
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestAccessRequest: an access request proves its email by code and its
// customer ID by an agent's attestation, is extended (due on day 90, and
// escalated then), and approved. The row matching only the phone it never
// proved is not found; the household row found through a proven phone,
// under another name, is held for review and excluded; the consumer is
// mailed links to exactly their own row.
func TestAccessRequest(t *testing.T) {
	d := newDesk(t)
	d.leads("campaigns/spring/leads.csv", household)
	id, _ := file(t, d, auth.API, "/requests/api", `{"type":"access","jurisdiction":"CA","name":"Ana Lopez","declaration":true,
		"emails":["ana@example.com"],"phones":["415-555-0101","415-555-0199"],"customerId":"C-100"}`)
	d.waiting(id, requeststore.WaitVerification)
	r, _ := d.store.Get(context.Background(), id)
	if r.Channel != requests.API {
		t.Fatalf("channel = %s, want api", r.Channel)
	}
	// One code is not enough for access: the policy wants two proofs.
	if out := d.verify(id, "ana@example.com"); out["policyMet"] != false {
		t.Fatalf("verify email = %v, want policy not met", out)
	}
	if out := d.verify(id, "+14155550101"); out["policyMet"] != true {
		t.Fatalf("verify phone = %v, want the policy met", out)
	}
	if code, out := d.call(http.MethodPost, "/requests/"+id+"/attest", auth.Auditor, `{"identifiers":["customerId"],"method":"call"}`); code != 403 {
		t.Fatalf("attest as auditor = %d %v, want 403", code, out)
	}
	if code, out := d.call(http.MethodPost, "/requests/"+id+"/attest", auth.Agent, `{"identifiers":["customerId"],"method":"knowledge-based questions on a call"}`); code != 200 {
		t.Fatalf("attest = %d %v, want 200", code, out)
	}
	r = d.waiting(id, requeststore.WaitDecision)
	if code, out := d.call(http.MethodPost, "/requests/"+id+"/decision", auth.Supervisor, `{"decision":"extend"}`); code != 400 {
		t.Fatalf("extend without a reason = %d %v, want 400", code, out)
	}
	if code, out := d.call(http.MethodPost, "/requests/"+id+"/decision", auth.Supervisor, `{"decision":"extend","reason":"lists in archive storage"}`); code != 200 || out["dueAt"] != requests.DateOf(r.Received, d.zone).AddDays(90).String() {
		t.Fatalf("extend = %d %v, want 200 and due on day 90", code, out)
	}
	if code, _ := d.call(http.MethodPost, "/requests/"+id+"/decision", auth.Supervisor, `{"decision":"extend","reason":"again"}`); code != 409 {
		t.Fatalf("a second extension = %d, want 409", code)
	}
	due := requests.DateOf(r.Received, d.zone).AddDays(90)
	// Day 31's wake finds nothing due under the new date, and sleeps to
	// day 76.
	r = d.advance(id, requeststore.WaitDecision, d.reminderAt(due).Add(-time.Minute))
	if len(r.Reminded) != 3 {
		t.Fatalf("reminded = %v, want the three reminders before day 90", r.Reminded)
	}
	if r.Escalated {
		t.Fatalf("escalated before day 90: %v", r.Reminded)
	}
	if r = d.advance(id, requeststore.WaitDecision, d.reminderAt(due).Add(time.Minute)); !r.Escalated {
		t.Fatalf("not escalated on day 90: %v", r.Reminded)
	}

	d.decide(id, auth.Supervisor, `{"decision":"approve"}`)
	r = d.waiting(id, requeststore.WaitReview)
	if r.Result == nil || r.Result.Records != 1 || len(r.Result.Review) != 1 || r.Result.Review[0].Reason != "different_name" {
		t.Fatalf("search result = %+v, want one row of Ana's and the household row held", r.Result)
	}
	ref := r.Result.Review[0].Ref
	if code, out := d.call(http.MethodPost, "/requests/"+id+"/review", auth.Supervisor, `{"rows":{"`+ref+`":false}}`); code != 200 {
		t.Fatalf("review = %d %v, want 200", code, out)
	}
	r = d.until(id, "completed", func(r requeststore.Request) bool { return r.Status == requests.Completed })
	last := d.mailed(id, "ana@example.com", "/exports/"+id+"/records.csv?token=")
	link := ""
	for _, line := range strings.Split(last, "\n") {
		if strings.Contains(line, "records.csv?token=") {
			link = strings.TrimSpace(line)
		}
	}
	if !strings.HasPrefix(link, "http") {
		link = d.s.APIURL + link
	}
	csv := curl(t, link, "")
	if !strings.Contains(string(csv), "C-100") || strings.Contains(string(csv), "C-200") || strings.Contains(string(csv), "C-300") {
		t.Fatalf("the export holds rows that are not the requester's proven own:\n%s", csv)
	}
	noIdentifierInHistory(t, d, id, "ana@example.com", "Ana", "555-0101", "5550101", "5550199", "C-100")
}
