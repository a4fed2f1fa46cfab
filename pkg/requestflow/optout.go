package requestflow

// The opt-out step puts a request's identifiers on the suppression list,
// in the Index table beside the keys it is checked against. It runs in the
// function that holds the index's keys (PseudonymizeFunction), never in
// the desk, which reaches no Index table item and no index key.

import (
	"context"
	"fmt"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Suppressions adds suppression entries (suppression.Store).
type Suppressions interface {
	Add(ctx context.Context, entries []suppression.Entry) (int, error)
}

// RequestStore is the part of the Requests table the opt-out step reads
// and records in (requeststore.Store).
type RequestStore interface {
	Get(ctx context.Context, id string) (requeststore.Request, error)
	Update(ctx context.Context, id string, by requeststore.Actor, action string, detail map[string]string,
		change func(*requeststore.Request) error) (requeststore.Request, error)
}

// OptOuts is the workflow's opt-out step.
type OptOuts struct {
	Store        RequestStore
	Suppressions Suppressions
	Hasher       *suppression.Hasher
}

// Opt-out reasons, recorded on each suppression entry.
const (
	// ReasonOptOut: the consumer asked to opt out.
	ReasonOptOut = "opt-out"
	// ReasonUnverifiedDeletion: a deletion nobody verified, treated as an
	// opt-out (CCPA regulations §7062(d)).
	ReasonUnverifiedDeletion = "unverified-deletion"
)

// OptOut puts the identifiers of request id on the do-not-contact list and
// records how many entries it added in the request: an opt-out needs no
// verification (CCPA regulations §7026), so every identifier the consumer
// named goes on it, and so do those of a deletion closed unverified. It
// returns a *veil.ValidationError (on "type") for any other request; a
// retry adds the same entries again, which the list keeps once.
func (o *OptOuts) OptOut(ctx context.Context, id string, at time.Time) (int, error) {
	r, err := o.Store.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	var reason string
	switch {
	case r.Type == requests.OptOut:
		reason = ReasonOptOut
	case r.Type == requests.Delete && r.Status == requests.ClosedUnverified:
		reason = ReasonUnverifiedDeletion
	default:
		return 0, veil.Invalid("type", "only an opt-out, or a deletion closed unverified, goes on the do-not-contact list")
	}
	n, err := o.add(ctx, r, at, reason)
	if err != nil {
		return 0, err
	}
	_, err = o.Store.Update(ctx, id, workflow, "suppressed", map[string]string{"entries": fmt.Sprint(n), "reason": reason},
		func(r *requeststore.Request) error {
			if r.Result == nil {
				r.Result = &requeststore.Result{Complete: true}
			}
			r.Result.Suppressed = n
			return nil
		})
	return n, err
}

func (o *OptOuts) add(ctx context.Context, r requeststore.Request, at time.Time, reason string) (int, error) {
	var entries []suppression.Entry
	add := func(kind identifiers.Kind, v string) error {
		es, err := o.Hasher.Entries(kind, v, suppression.DoNotContact, "request:"+r.ID, reason, at)
		if err != nil {
			return err
		}
		entries = append(entries, es...)
		return nil
	}
	for _, p := range r.Phones {
		if err := add(identifiers.Phone, p); err != nil {
			return 0, err
		}
	}
	for _, e := range r.Emails {
		if err := add(identifiers.Email, e); err != nil {
			return 0, err
		}
	}
	if r.CustomerID != "" {
		if err := add(identifiers.CustomerID, r.CustomerID); err != nil {
			return 0, err
		}
	}
	if r.Account != "" {
		if err := add(identifiers.AccountNumber, r.Account); err != nil {
			return 0, err
		}
	}
	if len(entries) == 0 {
		return 0, nil
	}
	return o.Suppressions.Add(ctx, entries)
}
