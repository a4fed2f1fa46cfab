package searchfn

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/veil"
)

// SuppressionChecker is what POST /suppression/check asks
// (suppression.Checker).
type SuppressionChecker interface {
	Check(ctx context.Context, kind identifiers.Kind, values []string) ([]suppression.Result, error)
}

// CheckRequest is POST /suppression/check's body: the numbers and
// addresses a dialer is about to contact, at most suppression.MaxCheck in
// all.
type CheckRequest struct {
	Phones []string `json:"phones"`
	Emails []string `json:"emails"`
}

// CheckAnswer is the answer for one value, by its place in the request:
// never the value itself.
type CheckAnswer struct {
	Index      int      `json:"index"`
	Suppressed bool     `json:"suppressed"`
	Actions    []string `json:"actions,omitempty"`
	// Since is when the value was first suppressed (the earliest action).
	Since time.Time `json:"since,omitzero"`
	// Invalid says why the value could not be checked: a dialer must not
	// call what it cannot check.
	Invalid string `json:"invalid,omitempty"`
}

// CheckResponse answers each list of the request in order.
type CheckResponse struct {
	Phones []CheckAnswer `json:"phones"`
	Emails []CheckAnswer `json:"emails"`
}

// ParseCheckRequest reads POST /suppression/check's body. It returns a
// *veil.ValidationError naming an unknown field, a body that is not such
// an object, or one with no values or too many.
func ParseCheckRequest(body string) (CheckRequest, error) {
	if len(body) > 4*httpapi.MaxBody {
		return CheckRequest{}, veil.Invalid("body", "larger than %d bytes", 4*httpapi.MaxBody)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var r CheckRequest
	if err := dec.Decode(&r); err != nil {
		return CheckRequest{}, veil.Invalid("body", "want a JSON object with phones and emails: %s", httpapi.JSONProblem(err))
	}
	if dec.More() {
		return CheckRequest{}, veil.Invalid("body", "one JSON object, nothing after it")
	}
	switch n := len(r.Phones) + len(r.Emails); {
	case n == 0:
		return CheckRequest{}, veil.Invalid("body", "at least one phone or email is required")
	case n > suppression.MaxCheck:
		return CheckRequest{}, veil.Invalid("body", "%d values, at most %d per check", n, suppression.MaxCheck)
	}
	return r, nil
}

// checkSuppression serves POST /suppression/check: which of a batch of
// phones and emails are suppressed (do not contact, erased), and why.
func (h *Handler) checkSuppression(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	if req.IsBase64Encoded {
		return nil, veil.Invalid("body", "want a JSON object")
	}
	r, err := ParseCheckRequest(req.Body)
	if err != nil {
		return nil, err
	}
	out := CheckResponse{Phones: []CheckAnswer{}, Emails: []CheckAnswer{}}
	suppressed := 0
	for _, part := range []struct {
		kind   identifiers.Kind
		values []string
		into   *[]CheckAnswer
	}{{identifiers.Phone, r.Phones, &out.Phones}, {identifiers.Email, r.Emails, &out.Emails}} {
		if len(part.values) == 0 {
			continue
		}
		results, err := h.suppression.Check(ctx, part.kind, part.values)
		if err != nil {
			return nil, fmt.Errorf("suppression check: %w", err)
		}
		for i, res := range results {
			a := CheckAnswer{Index: i, Suppressed: res.Suppressed(), Invalid: res.Invalid}
			for _, e := range res.Entries {
				a.Actions = append(a.Actions, string(e.Action))
				if a.Since.IsZero() || e.Added.Before(a.Since) {
					a.Since = e.Added
				}
			}
			if a.Suppressed {
				suppressed++
			}
			*part.into = append(*part.into, a)
		}
	}
	slog.InfoContext(ctx, "suppression check", "requestId", httpapi.RequestID(ctx), "caller", c.Subject,
		"phones", len(r.Phones), "emails", len(r.Emails), "suppressed", suppressed)
	return out, nil
}
