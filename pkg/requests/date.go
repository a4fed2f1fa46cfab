package requests

// Civil dates: the unit statutes count in. A Date has no time zone and no
// clock; it becomes an instant only through Time (or Period.After), in the
// location the caller names.

import (
	"slices"
	"time"

	"github.com/veil-privacy/veil/pkg/veil"
)

// Date is a calendar date. The zero Date is "no date".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

const dateLayout = "2006-01-02"

// DateOf returns the date t falls on in loc (t's own location when loc is
// nil).
func DateOf(t time.Time, loc *time.Location) Date {
	if loc != nil {
		t = t.In(loc)
	}
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate reads "YYYY-MM-DD". It returns a *veil.ValidationError for
// field "date" when s is not a real date in that form.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, veil.Invalid("date", "must be a date in the form YYYY-MM-DD")
	}
	return DateOf(t, nil), nil
}

// String returns "YYYY-MM-DD", or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.utc().Format(dateLayout)
}

// MarshalText returns d as String does.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads what MarshalText writes (empty text is the zero
// Date); it returns ParseDate's error otherwise.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	parsed, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d names a real calendar day (31 April does not).
func (d Date) Valid() bool { return DateOf(d.utc(), nil) == d }

// Time returns the first instant of d in loc (UTC when loc is nil).
func (d Date) Time(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Weekday returns d's day of the week.
func (d Date) Weekday() time.Weekday { return d.utc().Weekday() }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int { return d.utc().Compare(e.utc()) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// AddDays returns the date n calendar days after d (before it when n is
// negative).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC), nil)
}

// AddMonths returns the same day of the month n months after d or, when
// that month is too short, its last day: 31 January + 1 month is 28 (or
// 29) February, 31 March + 2 months is 31 May. This is GDPR's reckoning
// (Regulation (EEC, Euratom) No 1182/71, Art. 3(2)(c)).
func (d Date) AddMonths(n int) Date {
	first := time.Date(d.Year, d.Month+time.Month(n), 1, 12, 0, 0, 0, time.UTC)
	day := min(d.Day, daysIn(first.Year(), first.Month()))
	return Date{first.Year(), first.Month(), day}
}

// AddBusinessDays returns the nth business day after d (before it when n is
// negative), skipping Saturdays, Sundays and US federal holidays on their
// observed dates. d itself is day 0 and need not be a business day: one
// business day after a Saturday is the Monday (or the Tuesday after a
// Monday holiday). n == 0 returns d.
func (d Date) AddBusinessDays(n int) Date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDays(step)
		if d.IsBusinessDay() {
			n--
		}
	}
	return d
}

// IsBusinessDay reports whether d is a weekday that is not a US federal
// holiday (as observed).
func (d Date) IsBusinessDay() bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	// New Year's Day of the next year can be observed on 31 December.
	return !slices.Contains(FederalHolidays(d.Year), d) &&
		!slices.Contains(FederalHolidays(d.Year+1), d)
}

// FederalHolidays returns the observed dates of year's eleven US federal
// holidays (5 U.S.C. § 6103), in order: a holiday falling on a Saturday is
// observed the Friday before, one on a Sunday the Monday after. So
// New Year's Day of a year that starts on a Saturday is observed on
// 31 December of the year before, and is listed under the year it belongs
// to, not the year it falls in. Juneteenth is included from 2021, when it
// became a holiday; earlier years otherwise use today's rules.
func FederalHolidays(year int) []Date {
	fixed := func(m time.Month, day int) Date { return observed(Date{year, m, day}) }
	hs := []Date{
		fixed(time.January, 1),
		nthWeekday(year, time.January, time.Monday, 3),    // Birthday of Martin Luther King, Jr.
		nthWeekday(year, time.February, time.Monday, 3),   // Washington's Birthday
		lastWeekday(year, time.May, time.Monday),          // Memorial Day
		fixed(time.July, 4),                               // Independence Day
		nthWeekday(year, time.September, time.Monday, 1),  // Labor Day
		nthWeekday(year, time.October, time.Monday, 2),    // Columbus Day
		fixed(time.November, 11),                          // Veterans Day
		nthWeekday(year, time.November, time.Thursday, 4), // Thanksgiving Day
		fixed(time.December, 25),                          // Christmas Day
	}
	if year >= 2021 {
		hs = append(hs, fixed(time.June, 19)) // Juneteenth National Independence Day
	}
	slices.SortFunc(hs, Date.Compare)
	return hs
}

func observed(d Date) Date {
	switch d.Weekday() {
	case time.Saturday:
		return d.AddDays(-1)
	case time.Sunday:
		return d.AddDays(1)
	}
	return d
}

func nthWeekday(year int, m time.Month, wd time.Weekday, n int) Date {
	first := Date{year, m, 1}
	offset := (int(wd) - int(first.Weekday()) + 7) % 7
	return first.AddDays(offset + 7*(n-1))
}

func lastWeekday(year int, m time.Month, wd time.Weekday) Date {
	last := Date{year, m, daysIn(year, m)}
	offset := (int(last.Weekday()) - int(wd) + 7) % 7
	return last.AddDays(-offset)
}

func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

// utc is d at noon UTC, far from any day boundary, for arithmetic.
func (d Date) utc() time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC) }

// daysBetween returns how many calendar days e is after d.
func daysBetween(d, e Date) int {
	return int(e.utc().Sub(d.utc()) / (24 * time.Hour))
}
