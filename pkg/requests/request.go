// Package requests is the privacy request as the law sees it: what was
// asked (Type), through which door (Channel), where it stands (Status) and
// which moves between statuses are allowed, the jurisdictions whose laws
// set its deadlines, and the civil-date arithmetic those deadlines need.
//
// Deadlines are dates, not instants: statutes count days and months, and a
// due date is met by a response at any moment of that day. Day 0 is the day
// the request (or appeal) was received, so 45 days from 1 February is
// 18 March. Period.After turns a due date into the instant it ends in a
// given time zone, for the one place that needs an instant (a timer).
//
// Nothing here touches AWS or a clock: every function takes the dates it
// needs.
package requests

// The vocabulary of a request and the one graph its status moves along.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/veil-privacy/veil/pkg/veil"
)

// Type is what a consumer asked for.
type Type string

// Request types. The values are stored and sent to the workflow; never
// rename them.
const (
	Access  Type = "access"
	Delete  Type = "delete"
	Correct Type = "correct"
	OptOut  Type = "opt_out"
)

var types = []Type{Access, Delete, Correct, OptOut}

// ParseType returns the Type s names (case and surrounding space ignored),
// or a *veil.ValidationError for field "type".
func ParseType(s string) (Type, error) { return parse("type", s, types) }

// Channel is the door a request came in through.
type Channel string

// Channels. The values are stored; never rename them.
const (
	Web   Channel = "web"
	Agent Channel = "agent"
	IVR   Channel = "ivr"
	API   Channel = "api"
)

var channels = []Channel{Web, Agent, IVR, API}

// ParseChannel returns the Channel s names (case and surrounding space
// ignored), or a *veil.ValidationError for field "channel".
func ParseChannel(s string) (Channel, error) { return parse("channel", s, channels) }

// Status is where a request stands.
type Status string

// Statuses. The values are stored and queried by (the Requests table's
// status index); never rename them.
const (
	Received          Status = "received"
	Verifying         Status = "verifying"
	AwaitingDecision  Status = "awaiting_decision"
	Processing        Status = "processing"
	Completed         Status = "completed"
	CompletedWithGaps Status = "completed_with_gaps"
	Denied            Status = "denied"
	Appealed          Status = "appealed"
	ClosedUnverified  Status = "closed_unverified"
	Failed            Status = "failed"
)

var statuses = []Status{
	Received, Verifying, AwaitingDecision, Processing, Completed,
	CompletedWithGaps, Denied, Appealed, ClosedUnverified, Failed,
}

// moves is the whole graph. Denied is a dead end unless the consumer
// appeals; Failed is retried by moving back to Processing. Whether the
// jurisdiction grants an appeal at all is the caller's check
// (Jurisdiction.Appeal), not the graph's.
var moves = map[Status][]Status{
	Received:         {Verifying},
	Verifying:        {AwaitingDecision, ClosedUnverified},
	AwaitingDecision: {Processing, Denied},
	Processing:       {Completed, CompletedWithGaps, Failed},
	Denied:           {Appealed},
	Appealed:         {Processing, Denied},
	Failed:           {Processing},
}

// ParseStatus returns the Status s names (case and surrounding space
// ignored), or a *veil.ValidationError for field "status".
func ParseStatus(s string) (Status, error) { return parse("status", s, statuses) }

func (s Status) valid() bool {
	for _, known := range statuses {
		if s == known {
			return true
		}
	}
	return false
}

// CanMoveTo reports whether a request in s may move to t. Staying in the
// same status is not a move, so s.CanMoveTo(s) is false; an unknown status
// moves nowhere.
func (s Status) CanMoveTo(t Status) bool {
	for _, next := range moves[s] {
		if next == t {
			return true
		}
	}
	return false
}

// Terminal reports whether nothing can follow s: completed,
// completed_with_gaps and closed_unverified. Denied is not terminal, since
// an appeal can follow it.
func (s Status) Terminal() bool {
	return s.valid() && len(moves[s]) == 0
}

// Transition returns nil when from may move to to. It returns a
// *veil.ValidationError (field "status") when either status is unknown,
// and an error wrapping veil.ErrConflict, naming both statuses, when the
// move is not allowed.
func Transition(from, to Status) error {
	if !from.valid() || !to.valid() {
		return veil.Invalid("status", "unknown status in move (must be one of %s)", join(statuses))
	}
	if !from.CanMoveTo(to) {
		return fmt.Errorf("request status %s cannot move to %s: %w", from, to, veil.ErrConflict)
	}
	return nil
}

func normalize(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// parse returns the one of known that s names (case and surrounding space
// ignored), or a *veil.ValidationError for field.
func parse[T ~string](field, s string, known []T) (T, error) {
	v := T(normalize(s))
	if slices.Contains(known, v) {
		return v, nil
	}
	return "", veil.Invalid(field, "must be one of %s", join(known))
}

func join[T ~string](vs []T) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = string(v)
	}
	return strings.Join(parts, ", ")
}
