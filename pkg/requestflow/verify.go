package requestflow

// Verification: codes to the phones and emails a requester named, an
// agent's attestation for the identifiers that cannot receive one, and the
// move to the supervisor once the policy for the request's type is met.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/otp"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/veil"
)

var consumer = requeststore.Actor{Subject: "consumer", Role: "consumer", Source: "status-token"}

// verifiable reports whether the request is at a stage where proofs count.
func verifiable(st requests.Status) bool {
	return st == requests.Verifying || st == requests.AwaitingDecision
}

// errNotOurs is how a verify, resend or appeal answers a request that is
// not there, a wrong status token and an identifier the request does not
// name, all alike: the answer tells a stranger nothing.
func errNotOurs(id string) error { return fmt.Errorf("request %s: %w", id, veil.ErrNotFound) }

// own returns the kind and normalized value of raw when it is one of r's
// phones or emails; anything else wraps veil.ErrNotFound, as an unknown
// request does.
func (s *Service) own(r requeststore.Request, raw string) (identifiers.Kind, string, error) {
	n, err := identifiers.NewNormalizer(s.Region)
	if err != nil {
		return 0, "", err
	}
	kind, list := identifiers.Phone, r.Phones
	if strings.Contains(raw, "@") {
		kind, list = identifiers.Email, r.Emails
	}
	v, err := n.Normalize(kind, raw)
	if err != nil || !slices.Contains(list, v) {
		return 0, "", errNotOurs(r.ID)
	}
	return kind, v, nil
}

// Verification is a verify or resend answer.
type Verification struct {
	Status   string `json:"status"`
	Verified bool   `json:"verified"`
	// PolicyMet says the request has all the proof its type needs.
	PolicyMet bool `json:"policyMet"`
}

// Verify checks code for identifier (a phone or email the request named)
// on request id, whose status token is token. An unknown request, a wrong
// token and an identifier the request does not name all wrap
// veil.ErrNotFound alike. It returns a *veil.ValidationError for a wrong
// or expired code (saying how many tries are left), an error wrapping
// otp.ErrLocked once the identifier has had five wrong codes within a
// day over every request (the one that locks it also sends its owner a
// notice), and veil.ErrConflict when the request no longer verifies.
func (s *Service) Verify(ctx context.Context, id, token, identifier, code string) (Verification, error) {
	r, err := s.CheckToken(ctx, id, token)
	if err != nil {
		return Verification{}, err
	}
	kind, v, err := s.own(r, identifier)
	if err != nil {
		return Verification{}, err
	}
	if !verifiable(r.Status) {
		return Verification{}, fmt.Errorf("request %s is %s: %w", id, r.Status, veil.ErrConflict)
	}
	if err := s.Codes.Verify(ctx, id, kind, v, code); err != nil {
		var wrong *otp.WrongCodeError
		switch {
		case errors.As(err, &wrong) && wrong.TriesLeft <= 0:
			s.tellLocked(ctx, r, kind, v)
			return Verification{}, err
		case errors.As(err, &wrong):
			return Verification{}, veil.Invalid("code", "wrong code; %d tries left", wrong.TriesLeft)
		case errors.Is(err, otp.ErrExpired):
			return Verification{}, veil.Invalid("code", "expired; ask for a new code")
		case errors.Is(err, otp.ErrUsed):
			return Verification{}, veil.Invalid("code", "already used")
		}
		return Verification{}, err
	}
	r, err = s.prove(ctx, id, consumer, requests.Proof{Kind: kind, Value: v, Method: requests.ByCode, By: "consumer", At: s.now()})
	if err != nil {
		return Verification{}, err
	}
	return s.verification(ctx, r)
}

// Resend sends identifier's code again on request id, whose status token
// is token, within the resend limits (an error wrapping otp.ErrTooSoon, a
// *otp.TooSoonError, when asked too soon). It fails as Verify does for an
// unknown request, a wrong token or an identifier not named; wraps
// veil.ErrConflict once the identifier's code was used (nothing is left
// to send) or the request no longer verifies; and wraps otp.ErrLocked for
// an identifier locked by wrong codes.
func (s *Service) Resend(ctx context.Context, id, token, identifier string) (Verification, error) {
	r, err := s.CheckToken(ctx, id, token)
	if err != nil {
		return Verification{}, err
	}
	kind, v, err := s.own(r, identifier)
	if err != nil {
		return Verification{}, err
	}
	if !verifiable(r.Status) {
		return Verification{}, fmt.Errorf("request %s is %s: %w", id, r.Status, veil.ErrConflict)
	}
	code, err := s.Codes.Resend(ctx, id, kind, v)
	if errors.Is(err, veil.ErrNotFound) {
		code, err = s.Codes.Issue(ctx, id, kind, v)
	}
	if errors.Is(err, otp.ErrUsed) {
		// A fresh error: otp's text names the identifier's hash prefix.
		return Verification{}, fmt.Errorf("request %s: this identifier is verified already; no new code is needed: %w", id, veil.ErrConflict)
	}
	if err != nil {
		return Verification{}, err
	}
	if err := s.sendCode(ctx, r, kind, v, code); err != nil {
		return Verification{}, err
	}
	return Verification{Status: string(r.Status), PolicyMet: s.Policy.Check(r.Type, r.Proofs, r.Declaration, r.Corrections) == nil}, nil
}

// Attestation is an agent's recorded verification of identifiers that
// cannot receive a code (or of any, on a call).
type Attestation struct {
	// Identifiers are "customerId", "accountNumber", or a phone or email
	// the request named.
	Identifiers []string `json:"identifiers"`
	Method      string   `json:"method"`
	Note        string   `json:"note"`
}

// Attest records an agent's verification. It returns a
// veil.ValidationErrors naming every bad field, and a *DutyError when by
// filed the request (unless the separation of duties is waived).
func (s *Service) Attest(ctx context.Context, id string, by requeststore.Actor, a Attestation) (Verification, error) {
	r, err := s.Store.Get(ctx, id)
	if err != nil {
		return Verification{}, err
	}
	if !verifiable(r.Status) {
		return Verification{}, fmt.Errorf("request %s is %s: %w", id, r.Status, veil.ErrConflict)
	}
	var errs veil.ValidationErrors
	var proofs []requests.Proof
	if len(a.Identifiers) == 0 {
		errs = append(errs, veil.Invalid("identifiers", "name at least one identifier"))
	}
	for i, raw := range a.Identifiers {
		p := requests.Proof{Method: requests.ByAttestation, By: by.Subject, At: s.now()}
		switch {
		case raw == "customerId" && r.CustomerID != "":
			p.Kind, p.Value = identifiers.CustomerID, r.CustomerID
		case raw == "accountNumber" && r.Account != "":
			p.Kind, p.Value = identifiers.AccountNumber, r.Account
		default:
			kind, v, err := s.own(r, raw)
			if err != nil {
				errs = append(errs, veil.Invalid(fmt.Sprintf("identifiers[%d]", i), "not an identifier this request named"))
				continue
			}
			p.Kind, p.Value = kind, v
		}
		proofs = append(proofs, p)
	}
	if strings.TrimSpace(a.Method) == "" || len(a.Method) > 100 {
		errs = append(errs, veil.Invalid("method", "say how the identity was checked (at most 100 characters)"))
	}
	if len(a.Note) > 1000 {
		errs = append(errs, veil.Invalid("note", "at most 1000 characters"))
	}
	if err := errs.Err(); err != nil {
		return Verification{}, err
	}
	guard, err := s.separate(ctx, r, by, stepAttest)
	if err != nil {
		return Verification{}, err
	}
	kinds := make([]string, len(proofs))
	for i, p := range proofs {
		kinds[i] = p.Kind.String()
	}
	r, err = s.update(ctx, id, by, "attested", map[string]string{"identifiers": strings.Join(kinds, ","), "method": a.Method, "note": a.Note},
		func(r *requeststore.Request) error {
			if !verifiable(r.Status) {
				return fmt.Errorf("request %s is %s: %w", id, r.Status, veil.ErrConflict)
			}
			if err := guard(*r); err != nil {
				return err
			}
			r.Proofs = append(r.Proofs, proofs...)
			return nil
		})
	if err != nil {
		return Verification{}, err
	}
	return s.verification(ctx, r)
}

// prove adds p to request id's proofs.
func (s *Service) prove(ctx context.Context, id string, by requeststore.Actor, p requests.Proof) (requeststore.Request, error) {
	return s.update(ctx, id, by, "verified", map[string]string{"kind": p.Kind.String(), "method": string(p.Method)},
		func(r *requeststore.Request) error {
			if !verifiable(r.Status) {
				return fmt.Errorf("request %s is %s: %w", id, r.Status, veil.ErrConflict)
			}
			r.Proofs = append(r.Proofs, p)
			return nil
		})
}

// verification moves r to the supervisor once its policy is met, and
// resumes the workflow's wait for it.
func (s *Service) verification(ctx context.Context, r requeststore.Request) (Verification, error) {
	met := s.Policy.Check(r.Type, r.Proofs, r.Declaration, r.Corrections) == nil
	if met && r.Status == requests.Verifying {
		var err error
		if r, err = s.verified(ctx, r.ID); err != nil {
			return Verification{}, err
		}
	}
	return Verification{Status: string(r.Status), Verified: true, PolicyMet: met}, nil
}

// verified moves request id from verifying to awaiting_decision when its
// policy is met, and resumes the verification wait if the workflow is in
// it. A request already moved is returned as it is.
func (s *Service) verified(ctx context.Context, id string) (requeststore.Request, error) {
	var token string
	r, err := s.update(ctx, id, workflow, "verification_complete", nil, func(r *requeststore.Request) error {
		if r.Status != requests.Verifying || s.Policy.Check(r.Type, r.Proofs, r.Declaration, r.Corrections) != nil {
			return errUnchanged
		}
		r.Status = requests.AwaitingDecision
		if r.Wait != nil && r.Wait.For == requeststore.WaitVerification {
			token, r.Wait = r.Wait.Token, nil
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return s.Store.Get(ctx, id)
	}
	if err != nil {
		return requeststore.Request{}, err
	}
	if token != "" {
		if err := s.Runs.Resume(ctx, token, map[string]any{"verified": true}); err != nil {
			return r, err
		}
	}
	return r, nil
}
