package requestflow

// Decisions: the supervisor approves, denies or extends; a consumer whose
// request was denied appeals where the law gives an appeal, and an admin
// who did not make the first decision decides it; held rows are reviewed
// before anything is sent.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Decisions.
const (
	Approve = "approve"
	Deny    = "deny"
	Extend  = "extend"
)

// MaxReason bounds a decision's or appeal's reason.
const MaxReason = 2000

// Decide records a supervisor's decision on request id (or an admin's on
// its appeal). It returns a *veil.ValidationError for a bad decision or a
// missing reason, an error wrapping veil.ErrConflict when the request is
// not awaiting one, the policy is not met (approve), or the extension was
// taken or is too late, veil.ErrForbidden when an appeal's decider is not
// an admin, and a *DutyError (a veil.ErrForbidden) when by filed the
// request or attested for it, or, on appeal, made the first decision
// (unless the separation of duties is waived).
func (s *Service) Decide(ctx context.Context, id string, by requeststore.Actor, decision, reason string) (requeststore.Request, error) {
	decision = strings.ToLower(strings.TrimSpace(decision))
	reason = strings.TrimSpace(reason)
	switch {
	case decision != Approve && decision != Deny && decision != Extend:
		return requeststore.Request{}, veil.Invalid("decision", "must be approve, deny or extend")
	case decision != Approve && reason == "":
		return requeststore.Request{}, veil.Invalid("reason", "a denial or an extension needs a reason, which the consumer is told")
	case len(reason) > MaxReason:
		return requeststore.Request{}, veil.Invalid("reason", "at most %d characters", MaxReason)
	}
	cur, err := s.Store.Get(ctx, id)
	if err != nil {
		return requeststore.Request{}, err
	}
	if cur.Status == requests.Appealed {
		return s.decideAppeal(ctx, cur, by, decision, reason)
	}
	j, err := s.jurisdiction(cur)
	if err != nil {
		return requeststore.Request{}, err
	}
	guard, err := s.separate(ctx, cur, by, stepDecide)
	if err != nil {
		return requeststore.Request{}, err
	}
	if decision == Extend {
		return s.extend(ctx, id, by, j, reason, guard)
	}
	return s.settle(ctx, id, by, j, decision, reason, false, guard)
}

// settle records an approval or a denial, of a request awaiting its
// decision or (appeal) of its appeal, and resumes the workflow's wait for
// it. An approval needs the verification policy met; a denial closes the
// request and tells the consumer why (and, for an appeal, where to
// complain). guard is the separation of duties' check of the request
// written.
func (s *Service) settle(ctx context.Context, id string, by requeststore.Actor, j requests.Jurisdiction, decision, reason string, appeal bool,
	guard func(requeststore.Request) error) (requeststore.Request, error) {
	action, want, wait := "decided", requests.AwaitingDecision, requeststore.WaitDecision
	if appeal {
		action, want, wait = "appeal_decided", requests.Appealed, requeststore.WaitAppealDecision
	}
	var token string
	r, err := s.update(ctx, id, by, action, map[string]string{"decision": decision}, func(r *requeststore.Request) error {
		if r.Status != want || (appeal && r.Appeal == nil) {
			return fmt.Errorf("request %s is %s, not %s: %w", id, r.Status, want, veil.ErrConflict)
		}
		if err := guard(*r); err != nil {
			return err
		}
		if decision == Approve {
			if err := s.Policy.Check(r.Type, r.Proofs, r.Declaration, r.Corrections); err != nil {
				return err
			}
			r.Status = requests.Processing
		} else {
			r.Status, r.Closed = requests.Denied, s.now()
		}
		d := &requeststore.Decision{Decision: decision, Reason: reason, By: by.Subject, Role: by.Role, At: s.now()}
		if appeal {
			r.Appeal.Decision = d
		} else {
			r.Decision = d
		}
		if r.Wait != nil && r.Wait.For == wait {
			token, r.Wait = r.Wait.Token, nil
		}
		return nil
	})
	if err != nil {
		return requeststore.Request{}, err
	}
	if decision == Deny {
		if err := s.tell(ctx, r, deniedMessage(r, j, appeal)); err != nil {
			return r, err
		}
	}
	return r, s.resume(ctx, token, decision)
}

func (s *Service) resume(ctx context.Context, token, decision string) error {
	if token == "" {
		return nil
	}
	return s.Runs.Resume(ctx, token, map[string]any{"decision": decision})
}

// extend takes the one extension the law allows, before the due date,
// and tells the consumer why.
func (s *Service) extend(ctx context.Context, id string, by requeststore.Actor, j requests.Jurisdiction, reason string,
	guard func(requeststore.Request) error) (requeststore.Request, error) {
	today := s.today()
	r, err := s.update(ctx, id, by, "extended", map[string]string{"reason": reason}, func(r *requeststore.Request) error {
		switch {
		case r.Status != requests.Verifying && r.Status != requests.AwaitingDecision && r.Status != requests.Received:
			return fmt.Errorf("request %s is %s: %w", id, r.Status, veil.ErrConflict)
		case r.Extended:
			return fmt.Errorf("request %s was extended once already: %w", id, veil.ErrConflict)
		case today.After(r.Due):
			return fmt.Errorf("request %s is past its due date; an extension must be noticed before it: %w", id, veil.ErrConflict)
		}
		due := requests.ExtendedDue(j, r.Type, requests.DateOf(r.Received, s.zone()))
		if !due.After(r.Due) {
			return fmt.Errorf("the law of %s allows this request no extension: %w", j.Code, veil.ErrConflict)
		}
		if err := guard(*r); err != nil {
			return err
		}
		r.Due, r.Extended, r.ExtendReason = due, true, reason
		return nil
	})
	if err != nil {
		return requeststore.Request{}, err
	}
	return r, s.tell(ctx, r, extendedMessage(r))
}

// Appeal files the consumer's appeal of a denied request, with its status
// token. It returns veil.ErrNotFound for a wrong token and veil.ErrConflict
// when the request is not denied or its law gives no appeal.
func (s *Service) Appeal(ctx context.Context, id, token, reason string) (requeststore.Request, error) {
	if len(reason) > MaxReason {
		return requeststore.Request{}, veil.Invalid("reason", "at most %d characters", MaxReason)
	}
	cur, err := s.CheckToken(ctx, id, token)
	if err != nil {
		return requeststore.Request{}, err
	}
	j, err := s.jurisdiction(cur)
	if err != nil {
		return requeststore.Request{}, err
	}
	today := s.today()
	due, ok := requests.AppealDue(j, today)
	if !ok {
		return requeststore.Request{}, fmt.Errorf("the law of %s gives no appeal: %w", j.Code, veil.ErrConflict)
	}
	var wait string
	r, err := s.update(ctx, id, consumer, "appealed", nil, func(r *requeststore.Request) error {
		if r.Status != requests.Denied || r.Appeal != nil {
			return fmt.Errorf("request %s is %s; only a denied request is appealed, once: %w", id, r.Status, veil.ErrConflict)
		}
		r.Status, r.Closed = requests.Appealed, time.Time{}
		r.Appeal = &requeststore.Appeal{Reason: strings.TrimSpace(reason), At: s.now(), Due: due}
		if r.Wait != nil && r.Wait.For == requeststore.WaitAppeal {
			wait, r.Wait = r.Wait.Token, nil
		}
		return nil
	})
	if err != nil {
		return requeststore.Request{}, err
	}
	if err := s.notifyStaff(ctx, s.Supervisors, "Appeal filed: "+r.Reference,
		fmt.Sprintf("Request %s (%s) was appealed. An admin who did not make the first decision decides it by %s.", r.Reference, r.ID, due)); err != nil {
		return r, err
	}
	if wait != "" {
		return r, s.Runs.Resume(ctx, wait, map[string]any{"appealed": true})
	}
	return r, nil
}

func (s *Service) decideAppeal(ctx context.Context, cur requeststore.Request, by requeststore.Actor, decision, reason string) (requeststore.Request, error) {
	if by.Role != string(auth.Admin) {
		return requeststore.Request{}, fmt.Errorf("an appeal is decided by an admin: %w", veil.ErrForbidden)
	}
	j, err := s.jurisdiction(cur)
	if err != nil {
		return requeststore.Request{}, err
	}
	guard, err := s.separate(ctx, cur, by, stepAppeal)
	if err != nil {
		return requeststore.Request{}, err
	}
	if decision == Extend {
		return s.extendAppeal(ctx, cur.ID, by, j, reason, guard)
	}
	return s.settle(ctx, cur.ID, by, j, decision, reason, true, guard)
}

// extendAppeal takes the appeal extension the law allows (Colorado's and
// Minnesota's 60 days), once, before the appeal's due date, and tells the
// consumer why.
func (s *Service) extendAppeal(ctx context.Context, id string, by requeststore.Actor, j requests.Jurisdiction, reason string,
	guard func(requeststore.Request) error) (requeststore.Request, error) {
	today := s.today()
	r, err := s.update(ctx, id, by, "appeal_extended", map[string]string{"reason": reason}, func(r *requeststore.Request) error {
		switch {
		case r.Status != requests.Appealed || r.Appeal == nil:
			return fmt.Errorf("request %s is %s: %w", id, r.Status, veil.ErrConflict)
		case r.Appeal.Extended:
			return fmt.Errorf("the appeal of request %s was extended once already: %w", id, veil.ErrConflict)
		case today.After(r.Appeal.Due):
			return fmt.Errorf("the appeal of request %s is past its due date: %w", id, veil.ErrConflict)
		case j.AppealExtension.IsZero():
			return fmt.Errorf("the law of %s allows an appeal no extension: %w", j.Code, veil.ErrConflict)
		}
		if err := guard(*r); err != nil {
			return err
		}
		r.Appeal.Due, r.Appeal.Extended, r.Appeal.ExtendReason = j.AppealExtension.From(r.Appeal.Due), true, reason
		return nil
	})
	if err != nil {
		return requeststore.Request{}, err
	}
	return r, s.tell(ctx, r, notice{Subject: "Your appeal of privacy request " + r.Reference + " needs more time",
		Body: fmt.Sprintf("We need more time to decide your appeal of request %s. Reason: %s. We will decide it by %s.",
			r.Reference, strings.TrimSuffix(reason, "."), r.Appeal.Due)})
}

// Review records a supervisor's choice for held rows (ref → include).
// Once every held row is decided the workflow goes on. It returns a
// *veil.ValidationError for a ref the review does not hold.
func (s *Service) Review(ctx context.Context, id string, by requeststore.Actor, choices map[string]bool) (requeststore.Request, error) {
	if len(choices) == 0 {
		return requeststore.Request{}, veil.Invalid("rows", "name at least one held row")
	}
	var token string
	included := 0
	r, err := s.update(ctx, id, by, "reviewed", nil, func(r *requeststore.Request) error {
		if r.Status != requests.Processing || r.Result == nil || len(r.Result.Review) == 0 {
			return fmt.Errorf("request %s holds no rows for review: %w", id, veil.ErrConflict)
		}
		seen := 0
		for i := range r.Result.Review {
			h := &r.Result.Review[i]
			if inc, ok := choices[h.Ref]; ok {
				h.Include = &inc
				seen++
			}
		}
		if seen != len(choices) {
			return veil.Invalid("rows", "names a row this request does not hold")
		}
		included = 0
		for _, h := range r.Result.Review {
			if h.Include == nil {
				return nil // more to review
			}
			if *h.Include {
				included++
			}
		}
		if r.Wait != nil && r.Wait.For == requeststore.WaitReview {
			token, r.Wait = r.Wait.Token, nil
		}
		return nil
	})
	if err != nil {
		return requeststore.Request{}, err
	}
	if token != "" {
		return r, s.Runs.Resume(ctx, token, map[string]any{"reviewed": true, "included": included})
	}
	return r, nil
}

// reviewed reports whether every held row of r has been decided.
func reviewed(r requeststore.Request) bool {
	if r.Result == nil {
		return true
	}
	for _, h := range r.Result.Review {
		if h.Include == nil {
			return false
		}
	}
	return true
}
