package reports

// The audit export: one request's trail (or several) as a spreadsheet for
// an auditor, with each event's hash and the hash before it, so the chain
// can be followed row to row.

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/formula"
)

// AuditRow is one audit.Event as the audit export shows it.
type AuditRow struct {
	Seq int64 `csv:"seq"`
	// Time is the event's time in UTC, RFC 3339 with the fraction of a
	// second the event has (audit.Event's hash covers it to the
	// nanosecond).
	Time      string `csv:"time"`
	RequestID string `csv:"requestId"`
	Actor     string `csv:"actor"`
	Role      string `csv:"role"`
	Source    string `csv:"source"`
	Action    string `csv:"action"`
	From      string `csv:"from"`
	To        string `csv:"to"`
	// Detail is the event's detail as "k=v; k=v", keys sorted.
	Detail   string `csv:"detail"`
	Hash     string `csv:"hash"`
	PrevHash string `csv:"prevHash"`
}

// WriteAuditCSV writes events as CSV, in their order: a header line
// "seq,time,requestId,actor,role,source,action,from,to,detail,hash,prevHash"
// then one line per event. Every text cell is passed through
// formula.Neutralize, so a cell that starts with a single quote followed
// by =, +, -, @, a tab or a carriage return (after any spaces) holds the
// event's value after that quote. It returns the error of w, wrapped.
func WriteAuditCSV(w io.Writer, events []audit.Event) error {
	rows := make([]AuditRow, 0, len(events))
	for _, e := range events {
		n := formula.Neutralize
		rows = append(rows, AuditRow{
			Seq:       e.Seq,
			Time:      n(e.At.UTC().Format(time.RFC3339Nano)),
			RequestID: n(e.RequestID),
			Actor:     n(e.Actor),
			Role:      n(e.Role),
			Source:    n(e.Source),
			Action:    n(e.Action),
			From:      n(e.From),
			To:        n(e.To),
			Detail:    n(detail(e.Detail)),
			Hash:      n(e.Hash),
			PrevHash:  n(e.Prev),
		})
	}
	if err := writeCSV(w, rows); err != nil {
		return fmt.Errorf("audit CSV: %w", err)
	}
	return nil
}

// detail returns d as "k=v; k=v" by sorted key, "" when d is empty.
func detail(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + d[k]
	}
	return strings.Join(parts, "; ")
}
