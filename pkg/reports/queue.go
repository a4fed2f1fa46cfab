package reports

// The queue export: the open requests as a spreadsheet for the team that
// works them. It carries no personal data, so it can be mailed and kept
// like any other work sheet.

import (
	"fmt"
	"io"
	"time"

	"github.com/veil-privacy/veil/pkg/formula"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
)

// QueueRow is one request as the queue export shows it. It has no column
// for the requester's name, phones, emails, customer ID, account or
// comments: a queue export carries no personal data.
type QueueRow struct {
	ID           string `csv:"id"`
	Reference    string `csv:"reference"`
	Type         string `csv:"type"`
	Jurisdiction string `csv:"jurisdiction"`
	Channel      string `csv:"channel"`
	Status       string `csv:"status"`
	// Received is RFC 3339 in UTC, to the second.
	Received string `csv:"received"`
	// Due is YYYY-MM-DD, "" when the request has no due date.
	Due string `csv:"due"`
	// DaysLeft is the days from today to Due, negative when overdue; nil
	// (an empty cell) when there is no due date.
	DaysLeft *int `csv:"daysLeft"`
	Extended bool `csv:"extended"`
}

// QueueRows returns one row per request of reqs, in their order, with
// the days left counted from today.
func QueueRows(reqs []requeststore.Request, today requests.Date) []QueueRow {
	rows := make([]QueueRow, 0, len(reqs))
	for _, r := range reqs {
		row := QueueRow{
			ID:           r.ID,
			Reference:    r.Reference,
			Type:         string(r.Type),
			Jurisdiction: r.Jurisdiction,
			Channel:      string(r.Channel),
			Status:       string(r.Status),
			Received:     r.Received.UTC().Format(time.RFC3339),
			Due:          r.Due.String(),
			Extended:     r.Extended,
		}
		if !r.Due.IsZero() {
			left := requests.DaysLeft(r.Due, today)
			row.DaysLeft = &left
		}
		rows = append(rows, row)
	}
	return rows
}

// WriteQueueCSV writes rows as CSV: a header line
// "id,reference,type,jurisdiction,channel,status,received,due,daysLeft,extended"
// then one line per row. Every text cell is passed through
// formula.Neutralize; DaysLeft is left a number (a negative count is how
// a spreadsheet sorts the overdue first, and an int cannot hold a
// formula). It returns the error of w, wrapped.
func WriteQueueCSV(w io.Writer, rows []QueueRow) error {
	safe := make([]QueueRow, len(rows))
	for i, r := range rows {
		r.ID = formula.Neutralize(r.ID)
		r.Reference = formula.Neutralize(r.Reference)
		r.Type = formula.Neutralize(r.Type)
		r.Jurisdiction = formula.Neutralize(r.Jurisdiction)
		r.Channel = formula.Neutralize(r.Channel)
		r.Status = formula.Neutralize(r.Status)
		r.Received = formula.Neutralize(r.Received)
		r.Due = formula.Neutralize(r.Due)
		safe[i] = r
	}
	if err := writeCSV(w, safe); err != nil {
		return fmt.Errorf("queue CSV: %w", err)
	}
	return nil
}
