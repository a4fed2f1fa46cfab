package requests

// Deadlines: a jurisdiction's periods laid onto a receipt date. Every
// function here counts from the day something was received as day 0 and
// returns the due date, the last day on which a response is on time.

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veil-privacy/veil/pkg/veil"
)

// Period is a length of time as a statute states it: calendar months,
// then days (calendar days, or business days when Business is set). A
// statute names one unit, so in practice one of Months and Days is set;
// Business applies to Days only. The zero Period means "none".
type Period struct {
	Days     int
	Months   int
	Business bool
}

// Period bounds: far beyond any statute, near enough to keep a
// configuration typo from producing a century-long deadline or a
// business-day count that runs for seconds.
const (
	maxPeriodDays   = 3660
	maxPeriodMonths = 120
)

// ParsePeriod reads a period in the configuration's form: "45d" (calendar
// days), "15bd" (business days) or "1m" (calendar months), with a
// non-negative count; "0d" is the zero Period. It returns a
// *veil.ValidationError for field "period" otherwise.
func ParsePeriod(s string) (Period, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	var unit string
	switch {
	case strings.HasSuffix(s, "bd"):
		unit = "bd"
	case strings.HasSuffix(s, "d"):
		unit = "d"
	case strings.HasSuffix(s, "m"):
		unit = "m"
	default:
		return Period{}, veil.Invalid("period", `must be a count followed by "d" (days), "bd" (business days) or "m" (months)`)
	}
	digits := strings.TrimSuffix(s, unit)
	n, err := strconv.Atoi(digits)
	if err != nil || digits == "" || digits[0] < '0' || digits[0] > '9' {
		return Period{}, veil.Invalid("period", "must start with a whole number of days or months")
	}
	switch unit {
	case "m":
		if n > maxPeriodMonths {
			return Period{}, veil.Invalid("period", "must be at most %d months", maxPeriodMonths)
		}
		return Period{Months: n}, nil
	default:
		if n > maxPeriodDays {
			return Period{}, veil.Invalid("period", "must be at most %d days", maxPeriodDays)
		}
		return Period{Days: n, Business: unit == "bd" && n > 0}, nil
	}
}

// String returns the period in ParsePeriod's form ("45d", "15bd", "1m";
// "0d" for none). A period with both months and days, which no statute in
// the table has, prints as "1m+10d", which ParsePeriod does not read.
func (p Period) String() string {
	var parts []string
	if p.Months != 0 {
		parts = append(parts, strconv.Itoa(p.Months)+"m")
	}
	if p.Days != 0 || p.Months == 0 {
		unit := "d"
		if p.Business && p.Days != 0 {
			unit = "bd"
		}
		parts = append(parts, strconv.Itoa(p.Days)+unit)
	}
	return strings.Join(parts, "+")
}

// IsZero reports whether p is no period at all.
func (p Period) IsZero() bool { return p.Days == 0 && p.Months == 0 }

// From returns the due date of a period that starts on d (day 0): d plus
// Months (AddMonths), then plus Days (AddDays or AddBusinessDays).
func (p Period) From(d Date) Date {
	if p.Months != 0 {
		d = d.AddMonths(p.Months)
	}
	if p.Business {
		return d.AddBusinessDays(p.Days)
	}
	return d.AddDays(p.Days)
}

// After returns the instant a period that starts at from ends, in loc
// (from's own location when loc is nil): from's date in loc is day 0, the
// due date is p.From of it, and the period ends at the midnight that ends
// the due date in loc. A response at any instant before the returned one
// is on time. The due date, not this instant, is what a request stores;
// After is for timers.
func (p Period) After(from time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = from.Location()
	}
	return p.From(DateOf(from, loc)).AddDays(1).Time(loc)
}

// DueDate returns the date by which j's law requires a response to a
// request of type t received on received. An opt-out uses j.OptOut where
// the law sets one, and j.Respond otherwise.
func DueDate(j Jurisdiction, t Type, received Date) Date {
	return responsePeriod(j, t).From(received)
}

// ExtendedDue returns the due date once j's one extension is taken: the
// extension runs from the original due date (so CCPA's 45 + 45 days is 90
// days from receipt, and GDPR's one month + two months from 31 January is
// 28 April, the earlier of the two readings). Where the law allows no
// extension, or the request is an opt-out on its own shorter clock, it
// returns DueDate.
func ExtendedDue(j Jurisdiction, t Type, received Date) Date {
	due := DueDate(j, t, received)
	if t == OptOut && !j.OptOut.IsZero() {
		return due
	}
	return j.Extension.From(due)
}

// AppealDue returns the date by which j's law requires a decision on an
// appeal received on appealed, and false when j grants no appeal.
func AppealDue(j Jurisdiction, appealed Date) (Date, bool) {
	if j.Appeal == nil {
		return Date{}, false
	}
	return j.Appeal.From(appealed), true
}

// AppealExtendedDue returns AppealDue pushed out by j.AppealExtension
// (Colorado's and Minnesota's 60 days); it is AppealDue where the law
// allows no extension, and false when j grants no appeal.
func AppealExtendedDue(j Jurisdiction, appealed Date) (Date, bool) {
	due, ok := AppealDue(j, appealed)
	if !ok {
		return Date{}, false
	}
	return j.AppealExtension.From(due), true
}

// AcknowledgeDue returns the date by which j's law requires receipt of a
// request to be confirmed (CCPA: 10 business days), and false when the law
// sets no such deadline.
func AcknowledgeDue(j Jurisdiction, received Date) (Date, bool) {
	if j.Acknowledge.IsZero() {
		return Date{}, false
	}
	return j.Acknowledge.From(received), true
}

func responsePeriod(j Jurisdiction, t Type) Period {
	if t == OptOut && !j.OptOut.IsZero() {
		return j.OptOut
	}
	return j.Respond
}

// DaysLeft returns how many calendar days remain from today until due: 0
// on the due date itself, negative once it has passed.
func DaysLeft(due, today Date) int { return daysBetween(today, due) }

// Overdue reports whether today is past due. A request is not overdue on
// its due date.
func Overdue(due, today Date) bool { return today.After(due) }

// DefaultReminderOffsets are the days before a due date on which a
// reminder goes out.
var DefaultReminderOffsets = []int{14, 7, 2}

// Reminders returns the dates, earliest first and each once, that lie
// offsets days before due (DefaultReminderOffsets when offsets is nil).
// Dates before received are dropped, as are negative offsets: what happens
// after the due date is escalation, not a reminder.
func Reminders(received, due Date, offsets []int) []Date {
	if offsets == nil {
		offsets = DefaultReminderOffsets
	}
	var out []Date
	for _, o := range offsets {
		if o < 0 {
			continue
		}
		d := due.AddDays(-o)
		if d.Before(received) || slices.Contains(out, d) {
			continue
		}
		out = append(out, d)
	}
	slices.SortFunc(out, Date.Compare)
	return out
}
