// Package reports turns stored requests and their audit trails into what
// people outside the app read: the yearly request metrics CCPA regulations
// §7102 have large businesses publish, the queue as a spreadsheet, and an
// audit trail as a spreadsheet for an auditor. Every report is computed
// from values the caller passes; nothing here reads a store or a clock.
package reports

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
)

// Report is one calendar year's §7102(a)(1) metrics: what a business that
// handles the personal information of 10,000,000 or more consumers
// publishes by 1 July for the year before.
type Report struct {
	Year int `json:"year"`
	// Types always holds the four request types, in the order access,
	// delete, correct, opt_out.
	Types []TypeMetrics `json:"types"`
}

// TypeMetrics is one request type's line of a Report. Received equals
// CompliedWholeOrPart + Denied + Open.
type TypeMetrics struct {
	Type requests.Type `json:"type" csv:"type"`
	// Label is the type as §7102 names it ("Requests to know", …).
	Label               string `json:"label" csv:"label"`
	Received            int    `json:"received" csv:"received"`
	CompliedWholeOrPart int    `json:"compliedWholeOrPart" csv:"compliedWholeOrPart"`
	Denied              int    `json:"denied" csv:"denied"`
	Open                int    `json:"open" csv:"open"`
	// MedianDaysToRespond and MeanDaysToRespond are calendar days from
	// receipt to response, rounded to one decimal, over the type's
	// requests that have a Closed time; nil when none has.
	MedianDaysToRespond *float64 `json:"medianDaysToRespond" csv:"medianDaysToRespond"`
	MeanDaysToRespond   *float64 `json:"meanDaysToRespond" csv:"meanDaysToRespond"`
}

// reportTypes are the request types §7102(a)(1) counts, in report order,
// with its names for them.
var reportTypes = []struct {
	t     requests.Type
	label string
}{
	{requests.Access, "Requests to know"},
	{requests.Delete, "Requests to delete"},
	{requests.Correct, "Requests to correct"},
	{requests.OptOut, "Requests to opt-out of sale/sharing"},
}

// Metrics returns the §7102(a)(1) metrics of year over reqs: for each
// request type, the requests received in year (by the date of Received in
// loc; UTC when loc is nil), how many of them were complied with in whole
// or in part (completed, completed_with_gaps), denied, or are still open,
// and the median and mean days to respond. A request received in another
// year does not count, wherever it closed; one of a type §7102 does not
// name is left out.
//
// Unverifiable requests (closed_unverified) count as denied: the
// regulations let a business deny a request it cannot verify, and
// §7102(a)(2) lists "not verifiable" among the grounds of a denial the
// business may break out, so they are denials, not requests the business
// never answered. A request with a Closed time whose status is none of
// those four was denied and is under appeal (only a denial moves on), so
// it counts as denied too, with the days to that denial.
//
// Days to respond are the calendar days in loc from the date of Received
// to the date of Closed (a response the same day is 0), counted over the
// year's requests that have a Closed time. A request whose status is
// final but whose Closed time is zero (one closed before the time was
// recorded) counts as complied with or denied, but not in the days.
func Metrics(year int, reqs []requeststore.Request, loc *time.Location) Report {
	if loc == nil {
		loc = time.UTC
	}
	type tally struct {
		m    TypeMetrics
		days []int
	}
	tallies := make(map[requests.Type]*tally, len(reportTypes))
	for _, rt := range reportTypes {
		tallies[rt.t] = &tally{m: TypeMetrics{Type: rt.t, Label: rt.label}}
	}
	for _, r := range reqs {
		t, ok := tallies[r.Type]
		received := requests.DateOf(r.Received, loc)
		if !ok || received.Year != year {
			continue
		}
		t.m.Received++
		switch {
		case r.Status == requests.Completed || r.Status == requests.CompletedWithGaps:
			t.m.CompliedWholeOrPart++
		case r.Status == requests.Denied || r.Status == requests.ClosedUnverified || !r.Closed.IsZero():
			t.m.Denied++
		default:
			t.m.Open++
		}
		if !r.Closed.IsZero() {
			// DaysLeft(b, a) counts the days from a to b.
			t.days = append(t.days, requests.DaysLeft(requests.DateOf(r.Closed, loc), received))
		}
	}
	rep := Report{Year: year, Types: make([]TypeMetrics, 0, len(reportTypes))}
	for _, rt := range reportTypes {
		t := tallies[rt.t]
		t.m.MedianDaysToRespond, t.m.MeanDaysToRespond = median(t.days), mean(t.days)
		rep.Types = append(rep.Types, t.m)
	}
	return rep
}

// median returns the median of days rounded to one decimal (the mean of
// the middle two for an even count), or nil for none. It sorts days.
func median(days []int) *float64 {
	if len(days) == 0 {
		return nil
	}
	slices.Sort(days)
	n := len(days)
	m := float64(days[n/2])
	if n%2 == 0 {
		m = float64(days[n/2-1]+days[n/2]) / 2
	}
	return oneDecimal(m)
}

// mean returns the mean of days rounded to one decimal, or nil for none.
func mean(days []int) *float64 {
	if len(days) == 0 {
		return nil
	}
	sum := 0
	for _, d := range days {
		sum += d
	}
	return oneDecimal(float64(sum) / float64(len(days)))
}

func oneDecimal(x float64) *float64 {
	r := math.Round(x*10) / 10
	return &r
}

// WriteCSV writes r as CSV: a header line
// "type,label,received,compliedWholeOrPart,denied,open,medianDaysToRespond,meanDaysToRespond"
// then one line per type, in r's order, a nil median or mean as an empty
// cell. The year is not a column: it names the file. Every cell is a
// value the package chose or a number, so none needs neutralizing. It
// returns the error of w, wrapped.
func (r Report) WriteCSV(w io.Writer) error {
	if err := writeCSV(w, r.Types); err != nil {
		return fmt.Errorf("metrics %d CSV: %w", r.Year, err)
	}
	return nil
}
