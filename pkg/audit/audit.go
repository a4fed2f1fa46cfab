// Package audit is a request's audit trail: every state change and every
// staff action on a privacy request, as events a regulator can read, kept
// 24 months (CCPA regulations §7101; Colorado's 24 months covers appeals).
//
// The trail is append-only: the Store has no method that updates or
// deletes an event, and each event carries the hash of the one before it,
// so Verify finds an event removed, altered or inserted. The trail's head
// (its last sequence number and hash) is kept apart, so that removing the
// newest events is found too. Events hold IDs, roles, statuses and counts:
// never an identifier or a value of a row.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Retention is how long an event is kept before it expires.
const Retention = 731 * 24 * time.Hour // 24 months, however long the months

// Event is one entry of a request's trail.
type Event struct {
	RequestID string `json:"requestId"`
	// Seq numbers the request's events from 1, without a gap.
	Seq int64     `json:"seq"`
	At  time.Time `json:"at"`
	// Actor is who acted (a staff subject, "consumer", "system"), Role
	// the role they acted in ("" for the consumer and the system).
	Actor string `json:"actor"`
	Role  string `json:"role,omitempty"`
	// Action names what happened ("received", "verified", "decided",
	// "exported", "erased", …); From and To are the statuses of a state
	// change.
	Action string `json:"action"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	// Source is where it came from: a channel (web, agent, ivr, api), or
	// the function that acted.
	Source string `json:"source,omitempty"`
	// Detail holds what else an auditor needs (a job ID, a reason, a
	// count); never personal data.
	Detail map[string]string `json:"detail,omitempty"`
	// Prev is the hash of the event before (empty for the first); Hash is
	// this event's, over every field above.
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// sum returns the hash of e: SHA-256 over its fields in a fixed order
// (Detail by sorted key), every field length-prefixed, so that no two
// events hash alike by moving bytes between fields.
func (e Event) sum() string {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	field(e.RequestID)
	field(fmt.Sprint(e.Seq))
	field(e.At.UTC().Format(time.RFC3339Nano))
	field(e.Actor)
	field(e.Role)
	field(e.Action)
	field(e.From)
	field(e.To)
	field(e.Source)
	keys := make([]string, 0, len(e.Detail))
	for k := range e.Detail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	field(fmt.Sprint(len(keys)))
	for _, k := range keys {
		field(k)
		field(e.Detail[k])
	}
	field(e.Prev)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal sets e's place after prev (nil for the first event) and its hash.
func (e *Event) Seal(prev *Event) {
	e.Seq, e.Prev = 1, ""
	if prev != nil {
		e.Seq, e.Prev = prev.Seq+1, prev.Hash
	}
	e.At = e.At.UTC()
	e.Hash = e.sum()
}

// Head is the trail's last event as the store recorded it.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Finding is what verifying one request's trail found.
type Finding struct {
	RequestID string `json:"requestId"`
	Events    int    `json:"events"`
	// Problems name each break: the sequence number and what is wrong.
	// None means the trail is whole.
	Problems []string `json:"problems"`
}

// OK reports whether the trail is whole.
func (f Finding) OK() bool { return len(f.Problems) == 0 }

// Check verifies events (one request's, in sequence order) against head
// (nil when none was recorded).
func Check(requestID string, events []Event, head *Head) Finding {
	f := Finding{RequestID: requestID, Events: len(events), Problems: []string{}}
	bad := func(format string, args ...any) { f.Problems = append(f.Problems, fmt.Sprintf(format, args...)) }
	var prev *Event
	for i := range events {
		e := events[i]
		want := int64(1)
		if prev != nil {
			want = prev.Seq + 1
		}
		switch {
		case e.Seq > want:
			bad("events %d to %d are missing", want, e.Seq-1)
		case e.Seq < want:
			bad("event %d is out of order", e.Seq)
		}
		wantPrev := ""
		if prev != nil {
			wantPrev = prev.Hash
		}
		if e.Prev != wantPrev && e.Seq == want {
			bad("event %d does not follow the one before it", e.Seq)
		}
		if e.RequestID != requestID {
			bad("event %d belongs to another request", e.Seq)
		}
		if e.sum() != e.Hash {
			bad("event %d was altered", e.Seq)
		}
		prev = &events[i]
	}
	switch {
	case head == nil && len(events) > 0:
		bad("the trail's head is missing")
	case head == nil:
	case prev == nil && head.Seq > 0:
		bad("all %d events are missing", head.Seq)
	case prev != nil && head.Seq > prev.Seq:
		bad("events %d to %d, the newest, are missing", prev.Seq+1, head.Seq)
	case prev != nil && head.Seq == prev.Seq && head.Hash != prev.Hash:
		bad("event %d is not the one the head recorded", prev.Seq)
	case prev != nil && head.Seq < prev.Seq-1:
		bad("events %d to %d are past the head", head.Seq+1, prev.Seq)
	}
	return f
}

// marshalDetail is Detail as the store keeps it.
func marshalDetail(d map[string]string) (string, error) {
	if len(d) == 0 {
		return "", nil
	}
	b, err := json.Marshal(d)
	return string(b), err
}
