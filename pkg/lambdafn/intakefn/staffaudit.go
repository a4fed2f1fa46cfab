package intakefn

// GET /audit: the staff actions on the record (searches, exports,
// erasures, corrections and their confirmations) over a time range, for
// auditors.

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/veil"
)

// StaffActions lists staff actions (audit.StaffLog). List returns a
// *veil.ValidationError for a range it does not read.
type StaffActions interface {
	List(ctx context.Context, from, to time.Time, actor string) ([]audit.StaffAction, error)
}

var _ StaffActions = (*audit.StaffLog)(nil)

// staffAudit serves GET /audit?from=&to=&actor=: from and to are RFC 3339
// times or dates (to a date: through its end); to defaults to now and
// from to a day before to.
func (h *Handler) staffAudit(ctx context.Context, _ auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	if h.Staff == nil {
		return nil, errors.New("the staff log is not configured")
	}
	q := req.QueryStringParameters
	to := time.Now().UTC()
	if v := q["to"]; v != "" {
		t, err := auditTime(v, true)
		if err != nil {
			return nil, veil.Invalid("to", "an RFC 3339 time or a date (2026-12-08)")
		}
		to = t
	}
	from := to.Add(-24 * time.Hour)
	if v := q["from"]; v != "" {
		t, err := auditTime(v, false)
		if err != nil {
			return nil, veil.Invalid("from", "an RFC 3339 time or a date (2026-12-08)")
		}
		from = t
	}
	actions, err := h.Staff.List(ctx, from, to, q["actor"])
	if err != nil {
		return nil, err
	}
	return map[string]any{"from": from, "to": to, "actions": actions}, nil
}

// auditTime reads an RFC 3339 time or a date; a date ends its day when
// end is set.
func auditTime(v string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, err
	}
	if end {
		return d.Add(24*time.Hour - time.Nanosecond), nil
	}
	return d, nil
}
