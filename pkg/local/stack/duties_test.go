package stack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
)

// callAs calls the API with a dev token for subject in role: the
// separation of duties tells people apart, not roles.
func (d *desk) callAs(subject string, role auth.Role, method, path, body string) (int, map[string]any) {
	d.t.Helper()
	tok, err := d.s.TokenKey.Issue(subject, []string{string(role)}, time.Minute)
	if err != nil {
		d.t.Fatal(err)
	}
	code, b := rawCall(d.t, d.s, method, path, "Bearer "+tok, body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return code, out
}

// TestSeparationOfDutiesWaived: a deployment that sets
// SeparationOfDuties=waive lets the filing agent attest, and the trail
// says which check was waived and by whom.
func TestSeparationOfDutiesWaived(t *testing.T) {
	d := newDeskEnv(t, map[string]map[string]string{"IntakeFunction": {"SEPARATION_OF_DUTIES": "waive"}})
	code, out := d.callAs("agent-ana", auth.Agent, http.MethodPost, "/requests/agent",
		`{"type":"access","jurisdiction":"CA","name":"Ana Lopez","declaration":true,"emails":["ana@example.com"],"customerId":"C-100"}`)
	if code != http.StatusCreated {
		t.Fatalf("agent filing = %d %v, want 201", code, out)
	}
	id := out["id"].(string)
	d.waiting(id, requeststore.WaitVerification)
	if code, out := d.callAs("agent-ana", auth.Agent, http.MethodPost, "/requests/"+id+"/attest",
		`{"identifiers":["customerId"],"method":"knowledge-based questions on a call"}`); code != http.StatusOK {
		t.Fatalf("the filer attests, waived = %d %v, want 200", code, out)
	}
	evs, err := d.store.Audit.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var waived []string
	for _, e := range evs {
		if e.Action == "separation_of_duties_waived" {
			waived = append(waived, e.Detail["check"]+" by "+e.Actor+" ("+e.Role+")")
		}
	}
	if len(waived) != 1 || waived[0] != "filer_attests by agent-ana (agent)" {
		t.Fatalf("waived events = %v, want [filer_attests by agent-ana (agent)]", waived)
	}
}

// TestSeparationOfDuties, through the API with the template's default
// (SeparationOfDuties=enforce): an agent who filed a request cannot
// attest it; another agent can; a supervisor who attested cannot decide
// it, another supervisor can. A refusal names the rule, not the person.
func TestSeparationOfDuties(t *testing.T) {
	d := newDesk(t)
	if got := d.s.FunctionEnv("IntakeFunction", "SEPARATION_OF_DUTIES"); got != "enforce" {
		t.Fatalf("IntakeFunction's SEPARATION_OF_DUTIES = %q, want the template's default enforce", got)
	}
	code, out := d.callAs("agent-ana", auth.Agent, http.MethodPost, "/requests/agent",
		`{"type":"access","jurisdiction":"CA","name":"Ana Lopez","declaration":true,"emails":["ana@example.com"],"customerId":"C-100"}`)
	if code != http.StatusCreated {
		t.Fatalf("agent filing = %d %v, want 201", code, out)
	}
	id := out["id"].(string)
	d.tokens[id] = out["statusToken"].(string)
	d.waiting(id, requeststore.WaitVerification)
	if code, out := d.callAs("agent-ben", auth.Agent, http.MethodGet, "/requests/"+id, ""); code != http.StatusOK || out["filedBy"] != "agent-ana" {
		t.Fatalf("GET the request = %d filedBy %v, want 200 agent-ana: staff see who may not attest", code, out["filedBy"])
	}

	attest := `{"identifiers":["customerId"],"method":"knowledge-based questions on a call"}`
	code, out = d.callAs("agent-ana", auth.Agent, http.MethodPost, "/requests/"+id+"/attest", attest)
	msg, _ := out["error"].(string)
	if code != http.StatusForbidden || !strings.Contains(msg, "separation of duties") || !strings.Contains(msg, "filed") {
		t.Fatalf("the filer attests = %d %v, want 403 naming the rule", code, out)
	}
	if strings.Contains(msg, "agent-ana") || strings.Contains(msg, "ana@example.com") || strings.Contains(msg, "C-100") {
		t.Fatalf("refusal %q names a person", msg)
	}
	if code, out := d.callAs("agent-ben", auth.Agent, http.MethodPost, "/requests/"+id+"/attest", attest); code != http.StatusOK {
		t.Fatalf("another agent attests = %d %v, want 200", code, out)
	}
	if code, out := d.callAs("sup-sam", auth.Supervisor, http.MethodPost, "/requests/"+id+"/attest",
		`{"identifiers":["ana@example.com"],"method":"called back on the number on file"}`); code != http.StatusOK {
		t.Fatalf("a supervisor attests = %d %v, want 200", code, out)
	}
	d.verify(id, "ana@example.com")
	d.waiting(id, requeststore.WaitDecision)

	code, out = d.callAs("sup-sam", auth.Supervisor, http.MethodPost, "/requests/"+id+"/decision", `{"decision":"approve"}`)
	if msg, _ := out["error"].(string); code != http.StatusForbidden || !strings.Contains(msg, "attested") {
		t.Fatalf("the attesting supervisor decides = %d %v, want 403 naming the rule", code, out)
	}
	if code, out := d.callAs("sup-tom", auth.Supervisor, http.MethodPost, "/requests/"+id+"/decision", `{"decision":"approve"}`); code != http.StatusOK {
		t.Fatalf("another supervisor decides = %d %v, want 200", code, out)
	}
	r, err := d.store.Get(context.Background(), id)
	if err != nil || r.FiledBy != "agent-ana" || r.Decision == nil || r.Decision.By != "sup-tom" || r.Status == requests.AwaitingDecision {
		t.Fatalf("request = %+v, %v; want filed by agent-ana, decided by sup-tom", r, err)
	}
	evs, err := d.store.Audit.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if strings.Contains(e.Action, "waived") {
			t.Fatalf("audit event %+v, want no waiver: the template enforces by default", e)
		}
	}
}
