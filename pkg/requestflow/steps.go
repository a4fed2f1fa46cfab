package requestflow

// The workflow's steps. Each takes the request ID and the instant the
// workflow entered the state ($$.State.EnteredTime), never the wall clock,
// so that a retried step decides the same and a test can move the
// workflow's clock by weeks. Each returns only what the workflow branches
// on: no identifier ever reaches the execution's history.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/otp"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/veil"
)

var workflow = requeststore.Actor{Subject: "workflow", Role: "system", Source: "stepfunctions"}

// Schedule is when the workflow next wakes: Seconds from the step's
// instant (at least 1).
type Schedule struct {
	Seconds int64 `json:"seconds"`
}

func until(at, t time.Time) Schedule {
	s := int64(math.Ceil(t.Sub(at).Seconds()))
	return Schedule{Seconds: max(s, 1)}
}

// Acknowledged is Acknowledge's answer: how long verification may take,
// and the request's type, which the workflow branches on.
type Acknowledged struct {
	Seconds int64         `json:"seconds"`
	Type    requests.Type `json:"type"`
}

// Acknowledge confirms receipt of request id at once (every law's
// acknowledgement deadline is met on day 0), sends a code to every phone
// and email it named, and moves it to verifying. It returns when the
// verification period ends. A retry sends nothing twice.
func (s *Service) Acknowledge(ctx context.Context, id string, at time.Time) (Acknowledged, error) {
	r, err := s.update(ctx, id, workflow, "acknowledged", nil, func(r *requeststore.Request) error {
		if r.Status != requests.Received {
			return errUnchanged
		}
		r.Status = requests.Verifying
		return nil
	})
	switch {
	case errors.Is(err, errUnchanged):
		if r, err = s.Store.Get(ctx, id); err != nil {
			return Acknowledged{}, err
		}
	case err != nil:
		return Acknowledged{}, err
	default:
		if err := s.tell(ctx, r, acknowledgement(r)); err != nil {
			return Acknowledged{}, err
		}
		if err := s.sendCodes(ctx, r); err != nil {
			return Acknowledged{}, err
		}
	}
	return Acknowledged{Seconds: until(at, r.Received.AddDate(0, 0, s.verifyDays())).Seconds, Type: r.Type}, nil
}

func (s *Service) verifyDays() int {
	if s.VerifyDays > 0 {
		return s.VerifyDays
	}
	return 10
}

// sendCodes issues and sends a code to each phone and email of r. The
// codes go to the consumer's own identifiers, also when an authorized
// agent filed. An identifier locked by wrong codes gets none.
func (s *Service) sendCodes(ctx context.Context, r requeststore.Request) error {
	if s.Policy.Check(r.Type, nil, r.Declaration, r.Corrections) == nil {
		return nil // nothing to prove (an opt-out)
	}
	send := func(kind identifiers.Kind, v string) error {
		code, err := s.Codes.Issue(ctx, r.ID, kind, v)
		if errors.Is(err, otp.ErrLocked) {
			// Wrong codes on another request locked it: no code now (its
			// owner was told when it locked); a resend after the lock
			// passes sends one.
			return nil
		}
		if err != nil {
			return err
		}
		return s.sendCode(ctx, r, kind, v, code)
	}
	for _, p := range r.Phones {
		if err := send(identifiers.Phone, p); err != nil {
			return err
		}
	}
	for _, e := range r.Emails {
		if err := send(identifiers.Email, e); err != nil {
			return err
		}
	}
	return nil
}

// wait stores token as what request id waits for, and reports whether
// the wait is over already (done returns true for the request as it is).
func (s *Service) wait(ctx context.Context, id, what, token string, at time.Time, done func(requeststore.Request) bool) (requeststore.Request, bool, error) {
	var over bool
	r, err := s.update(ctx, id, workflow, "waiting", map[string]string{"for": what}, func(r *requeststore.Request) error {
		over = done(*r)
		if over {
			r.Wait = nil
			return nil
		}
		r.Wait = &requeststore.Wait{For: what, Token: token, Since: at}
		return nil
	})
	return r, over, err
}

// AwaitVerification stores the verification wait's token; when the policy
// is met already (an opt-out, or codes entered quickly) it resumes the
// wait itself.
func (s *Service) AwaitVerification(ctx context.Context, id, token string, at time.Time) error {
	r, over, err := s.wait(ctx, id, requeststore.WaitVerification, token, at, func(r requeststore.Request) bool {
		return r.Status != requests.Verifying
	})
	if err != nil {
		return err
	}
	if over {
		return s.Runs.Resume(ctx, token, map[string]any{"verified": true})
	}
	if s.Policy.Check(r.Type, r.Proofs, r.Declaration, r.Corrections) == nil {
		_, err = s.verified(ctx, id)
	}
	return err
}

// Closed is CloseUnverified's answer: Closed is false when the request was
// verified meanwhile and goes on to its decision; Suppress says the
// closed request is an unverifiable deletion, which the workflow's next
// step treats as an opt-out (OptOuts.OptOut, in the function that holds
// the suppression list). Neither names anything of the consumer's.
type Closed struct {
	Closed   bool `json:"closed"`
	Suppress bool `json:"suppress"`
}

// CloseUnverified closes a request nothing verified in time, with a
// notice; an unverifiable deletion request is to be treated as an opt-out
// (CCPA regulations §7062(d)): the answer's Suppress asks the workflow for
// it.
func (s *Service) CloseUnverified(ctx context.Context, id string, at time.Time) (Closed, error) {
	r, err := s.update(ctx, id, workflow, "closed_unverified", nil, func(r *requeststore.Request) error {
		if r.Status != requests.Verifying {
			return errUnchanged
		}
		r.Status, r.Closed, r.Wait = requests.ClosedUnverified, at, nil
		return nil
	})
	if errors.Is(err, errUnchanged) {
		r, err = s.Store.Get(ctx, id)
		if err != nil {
			return Closed{}, err
		}
		closed := r.Status == requests.ClosedUnverified
		return Closed{Closed: closed, Suppress: closed && r.Type == requests.Delete}, nil
	}
	if err != nil {
		return Closed{}, err
	}
	return Closed{Closed: true, Suppress: r.Type == requests.Delete}, s.tell(ctx, r, unverifiedMessage(r))
}

// AwaitDecision stores the decision wait's token, or resumes at once with
// the decision already made.
func (s *Service) AwaitDecision(ctx context.Context, id, token string, at time.Time) error {
	r, over, err := s.wait(ctx, id, requeststore.WaitDecision, token, at, func(r requeststore.Request) bool {
		return r.Status != requests.AwaitingDecision
	})
	if err != nil || !over {
		return err
	}
	return s.Runs.Resume(ctx, token, map[string]any{"decision": outcome(r)})
}

func outcome(r requeststore.Request) string {
	if r.Status == requests.Denied || r.Status == requests.ClosedUnverified {
		return Deny
	}
	return Approve
}

// AwaitAppeal stores the wait for the consumer's appeal.
func (s *Service) AwaitAppeal(ctx context.Context, id, token string, at time.Time) error {
	_, over, err := s.wait(ctx, id, requeststore.WaitAppeal, token, at, func(r requeststore.Request) bool {
		return r.Status != requests.Denied
	})
	if err != nil || !over {
		return err
	}
	return s.Runs.Resume(ctx, token, map[string]any{"appealed": true})
}

// AwaitAppealDecision stores the wait for an admin's appeal decision.
func (s *Service) AwaitAppealDecision(ctx context.Context, id, token string, at time.Time) error {
	r, over, err := s.wait(ctx, id, requeststore.WaitAppealDecision, token, at, func(r requeststore.Request) bool {
		return r.Status != requests.Appealed
	})
	if err != nil || !over {
		return err
	}
	return s.Runs.Resume(ctx, token, map[string]any{"decision": outcome(r)})
}

// AwaitReview stores the wait for the review of held rows, or resumes at
// once when none is held or all are decided.
func (s *Service) AwaitReview(ctx context.Context, id, token string, at time.Time) error {
	r, over, err := s.wait(ctx, id, requeststore.WaitReview, token, at, reviewed)
	if err != nil || !over {
		return err
	}
	if err := s.notifyStaff(ctx, s.Supervisors, "Rows held for review: "+r.Reference,
		fmt.Sprintf("Request %s (%s) found rows held for your review before anything is sent.", r.Reference, r.ID)); err != nil {
		return err
	}
	return s.Runs.Resume(ctx, token, map[string]any{"reviewed": true})
}

// Appealable is Denied's answer: whether the law gives an appeal, and how
// long the workflow waits for one.
type Appealable struct {
	Appeal  bool  `json:"appeal"`
	Seconds int64 `json:"seconds"`
}

// Denied answers whether request id's law gives an appeal of its denial.
func (s *Service) Denied(ctx context.Context, id string, at time.Time) (Appealable, error) {
	r, err := s.Store.Get(ctx, id)
	if err != nil {
		return Appealable{}, err
	}
	j, err := s.jurisdiction(r)
	if err != nil {
		return Appealable{}, err
	}
	if j.Appeal == nil || r.Appeal != nil {
		return Appealable{}, nil
	}
	days := s.AppealDays
	if days <= 0 {
		days = 60
	}
	return Appealable{Appeal: true, Seconds: int64(days) * 86400}, nil
}

// at is the instant a reminder for day d goes out: ReminderHour in Zone.
func (s *Service) at(d requests.Date) time.Time {
	h := s.ReminderHour
	if h <= 0 || h > 23 {
		h = 9
	}
	return d.Time(s.zone()).Add(time.Duration(h) * time.Hour)
}

// Remind sends whatever reminders are due at `at` for request id (or its
// appeal): one at each ReminderOffsets day before the due date, an
// escalation to the compliance contact on the due date, and a daily
// reminder once it has passed. It returns when the next is due. Each
// reminder is marked on the request once sent, so a later wake does not
// send it again.
func (s *Service) Remind(ctx context.Context, id string, at time.Time) (Schedule, error) {
	r, err := s.Store.Get(ctx, id)
	if err != nil {
		return Schedule{}, err
	}
	prefix, due, from := "", r.Due, r.Received
	switch {
	case r.Status == requests.Appealed && r.Appeal != nil:
		prefix, due, from = "appeal:", r.Appeal.Due, r.Appeal.At
	case r.Status != requests.AwaitingDecision:
		return Schedule{Seconds: 1}, nil // decided: the wait resumes at once
	}
	today := requests.DateOf(at, s.zone())
	var next time.Time
	later := func(t time.Time) {
		if t.After(at) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	var send []string // markers of what goes out now
	for _, d := range requests.Reminders(requests.DateOf(from, s.zone()), due, s.ReminderOffsets) {
		m := prefix + "reminder:" + d.String()
		switch {
		case slices.Contains(r.Reminded, m):
		case at.Before(s.at(d)):
			later(s.at(d))
		default:
			send = append(send, m)
		}
	}
	escalated := prefix + "escalated:" + due.String()
	if !slices.Contains(r.Reminded, escalated) {
		if at.Before(s.at(due)) {
			later(s.at(due))
		} else {
			send = append(send, escalated)
		}
	}
	if today.After(due) {
		m := prefix + "overdue:" + today.String()
		if !slices.Contains(r.Reminded, m) && !at.Before(s.at(today)) {
			send = append(send, m)
		}
	}
	if !today.Before(due) {
		later(s.at(today.AddDays(1)))
		later(s.at(today))
	}
	if len(send) > 0 {
		// Sent, then marked: a failure between the two sends again on the
		// retry, rather than never.
		if err := s.sendReminders(ctx, r, send, escalated, due, today); err != nil {
			return Schedule{}, err
		}
		_, err = s.update(ctx, id, workflow, "reminded", map[string]string{"sent": strings.Join(send, ",")}, func(r *requeststore.Request) error {
			for _, m := range send {
				if !slices.Contains(r.Reminded, m) {
					r.Reminded = append(r.Reminded, m)
				}
			}
			if slices.Contains(send, escalated) && prefix == "" {
				r.Escalated = true
			}
			return nil
		})
		if err != nil {
			return Schedule{}, err
		}
	}
	if next.IsZero() {
		next = at.Add(24 * time.Hour)
	}
	return until(at, next), nil
}

// Outcome is Complete's answer.
type Outcome struct {
	Status string `json:"status"`
}

// Complete closes a processed request: completed, or completed_with_gaps
// when the search could not see every list, and tells the consumer (with
// the download links of an access request's export).
func (s *Service) Complete(ctx context.Context, id string, at time.Time) (Outcome, error) {
	r, err := s.update(ctx, id, workflow, "completed", nil, func(r *requeststore.Request) error {
		if r.Status != requests.Processing {
			return errUnchanged
		}
		r.Status, r.Closed, r.Wait = requests.Completed, at, nil
		if r.Result != nil && !r.Result.Complete {
			r.Status = requests.CompletedWithGaps
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		r, err = s.Store.Get(ctx, id)
		if err != nil {
			return Outcome{}, err
		}
		return Outcome{Status: string(r.Status)}, nil
	}
	if err != nil {
		return Outcome{}, err
	}
	msg := completion(r)
	// ExportFunction recorded the links: this step holds no link secret.
	if r.Type == requests.Access && r.Result != nil && r.Result.Links != nil {
		msg = withLinks(msg, *r.Result.Links)
	}
	return Outcome{Status: string(r.Status)}, s.tell(ctx, r, msg)
}

// Fail marks a request whose processing failed, for an operator, and tells
// the compliance contact. errorName is the workflow's error name (never a
// cause, which may quote a list).
func (s *Service) Fail(ctx context.Context, id, errorName string, at time.Time) error {
	r, err := s.update(ctx, id, workflow, "failed", map[string]string{"error": errorName}, func(r *requeststore.Request) error {
		if r.Status != requests.Processing {
			return errUnchanged
		}
		r.Status, r.Wait = requests.Failed, nil
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.notifyStaff(ctx, s.Compliance, "Request failed: "+r.Reference,
		fmt.Sprintf("Processing request %s (%s) failed (%s). An operator must look at it before %s.", r.Reference, r.ID, errorName, r.Due))
}

// ValidateStep checks a step event's request ID, returning a
// *veil.ValidationError.
func ValidateStep(id string) error {
	if id == "" {
		return veil.Invalid("requestId", "required")
	}
	return nil
}
