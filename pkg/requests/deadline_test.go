package requests

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/veil"
)

func mustLookup(t *testing.T, code string) Jurisdiction {
	t.Helper()
	j, err := Lookup(code)
	if err != nil {
		t.Fatalf("Lookup(%q) = %v", code, err)
	}
	return j
}

func TestDueDate(t *testing.T) {
	cases := []struct {
		name        string
		code        string
		typ         Type
		received    string
		due, extDue string
	}{
		{"CCPA 45 days, +45 is 90 from receipt", "CA", Access, "2026-01-15", "2026-03-01", "2026-04-15"},
		{"CCPA counts from receipt", "CA", Delete, "2026-02-01", "2026-03-18", "2026-05-02"},
		{"CCPA opt-out 15 business days over Thanksgiving, no extension", "CA", OptOut, "2026-11-20", "2026-12-14", "2026-12-14"},
		{"GDPR 31 Jan to 28 Feb", "EU", Access, "2026-01-31", "2026-02-28", "2026-04-28"},
		{"GDPR leap year", "EU", Delete, "2028-01-31", "2028-02-29", "2028-04-29"},
		{"GDPR 31 Mar", "EU", Access, "2026-03-31", "2026-04-30", "2026-06-30"},
		{"GDPR opt-out runs on the month", "EU", OptOut, "2026-03-05", "2026-04-05", "2026-06-05"},
		{"UK GDPR 30 Nov", "UK", Correct, "2026-11-30", "2026-12-30", "2027-02-28"},
		{"Iowa 90 days, +45", "IA", Access, "2026-01-15", "2026-04-15", "2026-05-30"},
		{"Virginia 45, +45", "VA", Delete, "2026-01-15", "2026-03-01", "2026-04-15"},
		{"Virginia opt-out on the 45 days", "VA", OptOut, "2026-01-15", "2026-03-01", "2026-04-15"},
		{"Utah 45, +45", "UT", Access, "2026-06-01", "2026-07-16", "2026-08-30"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := mustLookup(t, tc.code)
			received := d(t, tc.received)
			if got := DueDate(j, tc.typ, received); got != d(t, tc.due) {
				t.Fatalf("DueDate = %v, want %s", got, tc.due)
			}
			if got := ExtendedDue(j, tc.typ, received); got != d(t, tc.extDue) {
				t.Fatalf("ExtendedDue = %v, want %s", got, tc.extDue)
			}
		})
	}
}

func TestUSStatesFortyFiveDays(t *testing.T) {
	received := d(t, "2026-01-15")
	for _, code := range []string{"VA", "CO", "CT", "UT", "TX", "OR", "MT", "DE", "NJ", "NH", "NE", "TN", "MN", "MD", "IN", "KY", "RI"} {
		t.Run(code, func(t *testing.T) {
			j := mustLookup(t, code)
			if got, want := DaysLeft(DueDate(j, Access, received), received), 45; got != want {
				t.Fatalf("days to respond = %d, want %d", got, want)
			}
			if got, want := DaysLeft(ExtendedDue(j, Access, received), received), 90; got != want {
				t.Fatalf("days with extension = %d, want %d", got, want)
			}
			if !j.ExtensionNeedsNotice {
				t.Fatalf("ExtensionNeedsNotice = false, want true")
			}
		})
	}
}

func TestAppealDue(t *testing.T) {
	cases := []struct {
		code        string
		ok          bool
		days, total int // to decide, and with the extension
	}{
		{"VA", true, 60, 60},
		{"CT", true, 60, 60},
		{"TX", true, 60, 60},
		{"MT", true, 60, 60},
		{"DE", true, 60, 60},
		{"NJ", true, 60, 60},
		{"NH", true, 60, 60},
		{"NE", true, 60, 60},
		{"TN", true, 60, 60},
		{"MD", true, 60, 60},
		{"IN", true, 60, 60},
		{"KY", true, 60, 60},
		{"RI", true, 60, 60},
		{"IA", true, 60, 60},
		{"CO", true, 45, 105},
		{"MN", true, 45, 105},
		{"OR", true, 45, 45},
		{"UT", false, 0, 0},
		{"CA", false, 0, 0},
		{"EU", false, 0, 0},
		{"UK", false, 0, 0},
	}
	appealed := d(t, "2026-03-01")
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			j := mustLookup(t, tc.code)
			due, ok := AppealDue(j, appealed)
			ext, extOK := AppealExtendedDue(j, appealed)
			if ok != tc.ok || extOK != tc.ok {
				t.Fatalf("AppealDue ok = %v, AppealExtendedDue ok = %v, want %v", ok, extOK, tc.ok)
			}
			if !tc.ok {
				if !due.IsZero() || !ext.IsZero() {
					t.Fatalf("no appeal right, got dates %v, %v; want zero", due, ext)
				}
				return
			}
			if got := DaysLeft(due, appealed); got != tc.days {
				t.Fatalf("days to decide = %d, want %d", got, tc.days)
			}
			if got := DaysLeft(ext, appealed); got != tc.total {
				t.Fatalf("days with extension = %d, want %d", got, tc.total)
			}
			if j.AppealContact == "" {
				t.Fatalf("AppealContact is empty")
			}
		})
	}
	// A concrete date: Virginia, appealed 1 March 2026, decided by 30 April.
	if got, _ := AppealDue(mustLookup(t, "VA"), appealed); got != d(t, "2026-04-30") {
		t.Fatalf("VA AppealDue = %v, want 2026-04-30", got)
	}
}

func TestAcknowledgeDue(t *testing.T) {
	got, ok := AcknowledgeDue(mustLookup(t, "CA"), d(t, "2026-11-20"))
	if !ok || got != d(t, "2026-12-07") { // 10 business days over Thanksgiving
		t.Fatalf("CA AcknowledgeDue = %v, %v; want 2026-12-07, true", got, ok)
	}
	if got, ok := AcknowledgeDue(mustLookup(t, "EU"), d(t, "2026-11-20")); ok {
		t.Fatalf("EU AcknowledgeDue = %v, true; want false", got)
	}
}

func TestDaysLeftAndOverdue(t *testing.T) {
	cases := []struct {
		due, today string
		left       int
		overdue    bool
	}{
		{"2026-03-18", "2026-02-01", 45, false},
		{"2026-03-18", "2026-03-17", 1, false},
		{"2026-03-18", "2026-03-18", 0, false},
		{"2026-03-18", "2026-03-19", -1, true},
		{"2026-03-18", "2027-03-18", -365, true},
		{"2028-03-01", "2028-02-28", 2, false}, // leap day between
	}
	for _, tc := range cases {
		t.Run(tc.due+"/"+tc.today, func(t *testing.T) {
			due, today := d(t, tc.due), d(t, tc.today)
			if got := DaysLeft(due, today); got != tc.left {
				t.Fatalf("DaysLeft = %d, want %d", got, tc.left)
			}
			if got := Overdue(due, today); got != tc.overdue {
				t.Fatalf("Overdue = %v, want %v", got, tc.overdue)
			}
		})
	}
}

func TestReminders(t *testing.T) {
	cases := []struct {
		name          string
		received, due string
		offsets       []int
		want          []string
	}{
		{"default offsets", "2026-01-15", "2026-03-01", nil, []string{"2026-02-15", "2026-02-22", "2026-02-27"}},
		{"short period drops what falls before receipt", "2026-02-20", "2026-03-01", nil, []string{"2026-02-22", "2026-02-27"}},
		{"a reminder on the receipt day is kept", "2026-02-15", "2026-03-01", nil, []string{"2026-02-15", "2026-02-22", "2026-02-27"}},
		{"custom, unordered, duplicated, negative", "2026-01-15", "2026-03-01", []int{1, 30, 1, -3, 0}, []string{"2026-01-30", "2026-02-28", "2026-03-01"}},
		{"empty offsets, no reminders", "2026-01-15", "2026-03-01", []int{}, nil},
		{"received after due", "2026-03-05", "2026-03-01", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []Date
			for _, s := range tc.want {
				want = append(want, d(t, s))
			}
			if got := Reminders(d(t, tc.received), d(t, tc.due), tc.offsets); !slices.Equal(got, want) {
				t.Fatalf("Reminders = %v, want %v", got, want)
			}
		})
	}
}

func TestPeriodAfter(t *testing.T) {
	pst := time.FixedZone("PST", -8*3600)
	cet := time.FixedZone("CET", 1*3600)
	cases := []struct {
		name string
		p    Period
		from time.Time
		loc  *time.Location
		want time.Time
	}{
		{"CCPA 45 days end at midnight ending the due date",
			days(45), time.Date(2026, 1, 15, 10, 0, 0, 0, pst), pst,
			time.Date(2026, 3, 2, 0, 0, 0, 0, pst)},
		{"receipt date is taken in loc, not UTC",
			days(45), time.Date(2026, 1, 16, 5, 0, 0, 0, time.UTC), pst, // 15 Jan, 21:00 PST
			time.Date(2026, 3, 2, 0, 0, 0, 0, pst)},
		{"GDPR month",
			months(1), time.Date(2026, 1, 31, 23, 30, 0, 0, cet), cet,
			time.Date(2026, 3, 1, 0, 0, 0, 0, cet)},
		{"business days",
			businessDays(15), time.Date(2026, 11, 20, 9, 0, 0, 0, pst), nil,
			time.Date(2026, 12, 15, 0, 0, 0, 0, pst)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.After(tc.from, tc.loc); !got.Equal(tc.want) {
				t.Fatalf("After = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParsePeriod(t *testing.T) {
	cases := []struct {
		in      string
		want    Period
		wantErr bool
	}{
		{"45d", Period{Days: 45}, false},
		{"15bd", Period{Days: 15, Business: true}, false},
		{"1m", Period{Months: 1}, false},
		{" 2M ", Period{Months: 2}, false},
		{"0d", Period{}, false},
		{"0bd", Period{}, false},
		{"3660d", Period{Days: 3660}, false},
		{"3661d", Period{}, true},
		{"121m", Period{}, true},
		{"-5d", Period{}, true},
		{"+5d", Period{}, true},
		{"d", Period{}, true},
		{"bd", Period{}, true},
		{"45", Period{}, true},
		{"45w", Period{}, true},
		{"4 5d", Period{}, true},
		{"99999999999999999999d", Period{}, true},
		{"", Period{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePeriod(tc.in)
			if tc.wantErr {
				var ve *veil.ValidationError
				if !errors.As(err, &ve) || ve.Field != "period" {
					t.Fatalf("ParsePeriod = %v, %v; want a *veil.ValidationError for period", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParsePeriod = %+v, %v; want %+v", got, err, tc.want)
			}
			if back, err := ParsePeriod(got.String()); err != nil || back != got {
				t.Fatalf("ParsePeriod(String()) = %+v, %v; want %+v", back, err, got)
			}
		})
	}
}

func TestPeriodString(t *testing.T) {
	cases := []struct {
		p    Period
		want string
	}{
		{Period{}, "0d"},
		{days(45), "45d"},
		{businessDays(15), "15bd"},
		{months(1), "1m"},
		{Period{Months: 1, Days: 10}, "1m+10d"},
	}
	for _, tc := range cases {
		if got := tc.p.String(); got != tc.want {
			t.Fatalf("%+v.String() = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func ExampleDueDate() {
	ca, _ := Lookup("CA")
	received := Date{2026, time.January, 15}
	fmt.Println(DueDate(ca, Access, received), ExtendedDue(ca, Access, received))
	fmt.Println(DueDate(ca, OptOut, received))
	// Output:
	// 2026-03-01 2026-04-15
	// 2026-02-06
}
