package requestflow_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/requestflow"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/veil"
)

// TestSeparationOfDuties: the filer never attests; the filer or an
// attester never decides; none of them, nor the first decision's maker,
// decides the appeal. Waived, each refused check is allowed and is an
// event of the request's trail naming the check and who acted.
func TestSeparationOfDuties(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	svc, _ := newService(t, &now)
	ctx := context.Background()
	staff := func(subject, role string) requeststore.Actor {
		return requeststore.Actor{Subject: subject, Role: role, Source: "console"}
	}
	tests := []struct {
		name string
		// step is attest, decide (the first decision) or appeal (its
		// appeal's decision).
		step string
		// filer files the request, attester attests its email before the
		// step, decider made the first decision (appeal).
		filer, attester, decider string
		by                       requeststore.Actor
		// refused is the check enforced refuses ("" allowed); waived the
		// checks the trail records when waived.
		refused string
		waived  []string
	}{
		{"the filing agent attests", "attest", "agent-ana", "", "", staff("agent-ana", "agent"), "filer_attests", []string{"filer_attests"}},
		{"another agent attests", "attest", "agent-ana", "", "", staff("agent-ben", "agent"), "", nil},
		{"a supervisor who filed decides", "decide", "sup-fay", "agent-ben", "", staff("sup-fay", "supervisor"), "filer_decides", []string{"filer_decides"}},
		{"the attesting supervisor decides", "decide", "agent-ana", "sup-sam", "", staff("sup-sam", "supervisor"), "attester_decides", []string{"attester_decides"}},
		{"a supervisor who filed and attested decides", "decide", "sup-fay", "sup-fay", "", staff("sup-fay", "supervisor"),
			"filer_decides", []string{"filer_decides", "attester_decides"}},
		{"another supervisor decides", "decide", "agent-ana", "sup-sam", "", staff("sup-tom", "supervisor"), "", nil},
		{"the filing admin decides the appeal", "appeal", "adm-fay", "agent-ben", "sup-tom", staff("adm-fay", "admin"),
			"filer_decides_appeal", []string{"filer_decides_appeal"}},
		{"the attesting admin decides the appeal", "appeal", "agent-ana", "adm-ali", "sup-tom", staff("adm-ali", "admin"),
			"attester_decides_appeal", []string{"attester_decides_appeal"}},
		{"the first decision's maker decides the appeal", "appeal", "agent-ana", "agent-ben", "adm-dee", staff("adm-dee", "admin"),
			"decider_decides_appeal", []string{"decider_decides_appeal"}},
		{"an uninvolved admin decides the appeal", "appeal", "agent-ana", "agent-ben", "sup-tom", staff("adm-eve", "admin"), "", nil},
	}
	n := 0
	// prepare files a request as tc's filer and brings it to tc's step.
	prepare := func(t *testing.T, filer, attester, decider, step string) requeststore.Request {
		t.Helper()
		n++
		f := requests.Filing{Type: "delete", Jurisdiction: "CO", Emails: []string{fmt.Sprintf("person%d@example.com", n)}, Declaration: true}
		rc, err := svc.File(ctx, f, requestflow.Filer{Channel: requests.Agent, Actor: staff(filer, "agent")}, "")
		if err != nil {
			t.Fatal(err)
		}
		// Through the statuses the store allows, one write each.
		moves := []func(r *requeststore.Request){func(r *requeststore.Request) { r.Status = requests.Verifying }}
		if step != "attest" {
			moves = append(moves, func(r *requeststore.Request) {
				r.Status = requests.AwaitingDecision
				r.Proofs = []requests.Proof{{Kind: identifiers.Email, Value: r.Emails[0], Method: requests.ByAttestation, By: attester, At: now}}
			})
		}
		if step == "appeal" {
			moves = append(moves, func(r *requeststore.Request) {
				r.Status, r.Closed = requests.Denied, now
				r.Decision = &requeststore.Decision{Decision: "deny", Reason: "a litigation hold", By: decider, Role: "supervisor", At: now}
			}, func(r *requeststore.Request) {
				r.Status, r.Closed = requests.Appealed, time.Time{}
				r.Appeal = &requeststore.Appeal{At: now, Due: requests.DateOf(now, time.UTC).AddDays(45)}
			})
		}
		var r requeststore.Request
		for _, move := range moves {
			var err error
			r, err = svc.Store.Update(ctx, rc.ID, staff("setup", "admin"), "setup", nil, func(r *requeststore.Request) error {
				move(r)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if r.FiledBy != filer {
			t.Fatalf("FiledBy = %q, want %q", r.FiledBy, filer)
		}
		return r
	}
	act := func(r requeststore.Request, by requeststore.Actor, step string) error {
		if step == "attest" {
			_, err := svc.Attest(ctx, r.ID, by, requestflow.Attestation{Identifiers: []string{r.Emails[0]}, Method: "knowledge-based questions on a call"})
			return err
		}
		_, err := svc.Decide(ctx, r.ID, by, "approve", "")
		return err
	}
	// acted reports whether by's step is on the request.
	acted := func(r requeststore.Request, by requeststore.Actor, step string) bool {
		switch step {
		case "attest":
			return slices.ContainsFunc(r.Proofs, func(p requests.Proof) bool { return p.By == by.Subject })
		case "decide":
			return r.Decision != nil && r.Decision.By == by.Subject
		default:
			return r.Appeal != nil && r.Appeal.Decision != nil && r.Appeal.Decision.By == by.Subject
		}
	}
	waivedOn := func(t *testing.T, id string) (checks []string) {
		t.Helper()
		evs, err := svc.Store.Audit.Events(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Action == "separation_of_duties_waived" {
				checks = append(checks, e.Detail["check"]+" by "+e.Actor)
			}
		}
		return checks
	}
	t.Run("a request filed before its filer was recorded", func(t *testing.T) {
		r := prepare(t, "agent-ana", "", "", "attest")
		r, err := svc.Store.Update(ctx, r.ID, staff("setup", "admin"), "setup", nil, func(r *requeststore.Request) error {
			r.FiledBy = ""
			return nil
		})
		if err != nil || r.FiledBy != "" {
			t.Fatalf("clearing FiledBy = %q, %v", r.FiledBy, err)
		}
		var de *requestflow.DutyError
		if err := act(r, staff("agent-ana", "agent"), "attest"); !errors.As(err, &de) || de.Check != "filer_attests" {
			t.Fatalf("the filer attests = %v, want filer_attests refused: the trail's received event names the filer", err)
		}
	})
	for _, tc := range tests {
		t.Run(tc.name+"/enforced", func(t *testing.T) {
			svc.WaiveDuties = false
			r := prepare(t, tc.filer, tc.attester, tc.decider, tc.step)
			err := act(r, tc.by, tc.step)
			after, gerr := svc.Store.Get(ctx, r.ID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tc.refused == "" {
				if err != nil || !acted(after, tc.by, tc.step) {
					t.Fatalf("%s = %v, want it taken", tc.step, err)
				}
				if got := waivedOn(t, r.ID); len(got) != 0 {
					t.Fatalf("waived = %v, want none", got)
				}
				return
			}
			var de *requestflow.DutyError
			if !errors.As(err, &de) || de.Check != tc.refused || !errors.Is(err, veil.ErrForbidden) {
				t.Fatalf("%s = %v, want a forbidden %s", tc.step, err, tc.refused)
			}
			if strings.Contains(err.Error(), tc.by.Subject) || strings.Contains(err.Error(), "@") {
				t.Fatalf("refusal %q names a person", err)
			}
			if after.Version != r.Version || acted(after, tc.by, tc.step) {
				t.Fatalf("request version %d → %d, want the refused %s unwritten", r.Version, after.Version, tc.step)
			}
		})
		t.Run(tc.name+"/waived", func(t *testing.T) {
			svc.WaiveDuties = true
			defer func() { svc.WaiveDuties = false }()
			r := prepare(t, tc.filer, tc.attester, tc.decider, tc.step)
			if err := act(r, tc.by, tc.step); err != nil {
				t.Fatalf("%s = %v, want it taken (waived)", tc.step, err)
			}
			after, err := svc.Store.Get(ctx, r.ID)
			if err != nil || !acted(after, tc.by, tc.step) {
				t.Fatalf("request after the waived %s = %+v, %v; want the step on it", tc.step, after, err)
			}
			var want []string
			for _, c := range tc.waived {
				want = append(want, c+" by "+tc.by.Subject)
			}
			if got := waivedOn(t, r.ID); !slices.Equal(got, want) {
				t.Fatalf("waived events = %v, want %v", got, want)
			}
		})
	}
}
