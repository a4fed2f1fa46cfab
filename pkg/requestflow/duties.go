package requestflow

// Separation of duties: a request's identifiers are never attested by
// whoever filed it; its decision is never made by whoever filed it or
// attested for it; its appeal is decided by none of them, nor by whoever
// made the first decision. One person could otherwise file a request in a
// consumer's name, vouch for the identity and approve the export of their
// records. A deployment too small to staff it waives it
// (SEPARATION_OF_DUTIES=waive); each check it would have refused is then
// an event of the request's audit trail, naming the check and who acted.

import (
	"context"
	"fmt"
	"slices"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/veil"
)

// The separation-of-duties checks, as DutyError and the audit trail name
// them.
const (
	FilerAttests          = "filer_attests"
	FilerDecides          = "filer_decides"
	AttesterDecides       = "attester_decides"
	FilerDecidesAppeal    = "filer_decides_appeal"
	AttesterDecidesAppeal = "attester_decides_appeal"
	DeciderDecidesAppeal  = "decider_decides_appeal"
)

// ActionDutyWaived is the audit action of a check waived.
const ActionDutyWaived = "separation_of_duties_waived"

var dutyRules = map[string]string{
	FilerAttests:          "whoever filed a request does not attest its identifiers",
	FilerDecides:          "whoever filed a request does not decide it",
	AttesterDecides:       "whoever attested a request's identifiers does not decide it",
	FilerDecidesAppeal:    "whoever filed a request does not decide its appeal",
	AttesterDecidesAppeal: "whoever attested a request's identifiers does not decide its appeal",
	DeciderDecidesAppeal:  "whoever made a request's decision does not decide its appeal",
}

// DutyError is a separation-of-duties check the actor failed. It matches
// veil.ErrForbidden; its text names the rule, never a person.
type DutyError struct{ Check string }

func (e *DutyError) Error() string {
	return "separation of duties: " + dutyRules[e.Check] + "; someone else must"
}

// Is makes a *DutyError match veil.ErrForbidden.
func (e *DutyError) Is(target error) bool { return target == veil.ErrForbidden }

// The steps the checks guard.
const (
	stepAttest = "attest"
	stepDecide = "decide"
	stepAppeal = "decide_appeal"
)

// conflicts returns the checks subject fails in taking step on r, filed
// by filer.
func conflicts(r requeststore.Request, filer, subject, step string) []string {
	var attested bool
	for _, p := range r.Proofs {
		if p.Method == requests.ByAttestation && p.By == subject {
			attested = true
		}
	}
	filed := filer != "" && filer == subject
	var out []string
	add := func(ok bool, check string) {
		if ok {
			out = append(out, check)
		}
	}
	switch step {
	case stepAttest:
		add(filed, FilerAttests)
	case stepDecide:
		add(filed, FilerDecides)
		add(attested, AttesterDecides)
	case stepAppeal:
		add(filed, FilerDecidesAppeal)
		add(attested, AttesterDecidesAppeal)
		add(r.Decision != nil && r.Decision.By == subject, DeciderDecidesAppeal)
	}
	return out
}

// separate checks by's step on r. Enforced, it returns a *DutyError for
// the first check failed; waived, it records each failed check on r's
// trail before the step is taken (so no waived step goes unrecorded) and
// returns the guard the step's update runs on the request it writes: a
// check failed there that was not recorded here (an attestation raced
// in) is refused.
func (s *Service) separate(ctx context.Context, r requeststore.Request, by requeststore.Actor, step string) (func(requeststore.Request) error, error) {
	filer, err := s.filer(ctx, r)
	if err != nil {
		return nil, err
	}
	failed := conflicts(r, filer, by.Subject, step)
	if len(failed) > 0 && !s.WaiveDuties {
		return nil, &DutyError{Check: failed[0]}
	}
	for _, c := range failed {
		_, err := s.Store.Audit.Append(ctx, audit.Event{RequestID: r.ID, At: s.now(), Actor: by.Subject, Role: by.Role,
			Source: by.Source, Action: ActionDutyWaived, Detail: map[string]string{"check": c, "step": step}})
		if err != nil {
			return nil, fmt.Errorf("request %s: recording the waived check %s: %w", r.ID, c, err)
		}
	}
	return func(now requeststore.Request) error {
		for _, c := range conflicts(now, filer, by.Subject, step) {
			if !slices.Contains(failed, c) {
				return &DutyError{Check: c}
			}
		}
		return nil
	}, nil
}

// filer returns who filed r: FiledBy, or for a request filed before it
// was recorded, the actor of its trail's "received" event ("" if none).
func (s *Service) filer(ctx context.Context, r requeststore.Request) (string, error) {
	if r.FiledBy != "" {
		return r.FiledBy, nil
	}
	evs, err := s.Store.Audit.Events(ctx, r.ID)
	if err != nil {
		return "", fmt.Errorf("request %s: its filer: %w", r.ID, err)
	}
	for _, e := range evs {
		if e.Action == "received" {
			return e.Actor, nil
		}
	}
	return "", nil
}
