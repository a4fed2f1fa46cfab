package requests

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/veil"
)

// d parses a date for a test table; a typo in a table fails the test.
func d(t *testing.T, s string) Date {
	t.Helper()
	got, err := ParseDate(s)
	if err != nil {
		t.Fatalf("ParseDate(%q) = %v", s, err)
	}
	return got
}

func TestAddDays(t *testing.T) {
	cases := []struct {
		from string
		n    int
		want string
	}{
		{"2026-02-01", 45, "2026-03-18"}, // day 0 is the receipt date
		{"2026-01-15", 45, "2026-03-01"},
		{"2026-01-15", 90, "2026-04-15"},
		{"2026-12-31", 1, "2027-01-01"},
		{"2028-02-28", 1, "2028-02-29"},
		{"2026-03-01", -1, "2026-02-28"},
		{"2026-03-08", 1, "2026-03-09"}, // a US DST change is no concern of a date
		{"2026-05-05", 0, "2026-05-05"},
	}
	for _, tc := range cases {
		t.Run(tc.from, func(t *testing.T) {
			if got := d(t, tc.from).AddDays(tc.n); got != d(t, tc.want) {
				t.Fatalf("%s.AddDays(%d) = %v, want %s", tc.from, tc.n, got, tc.want)
			}
		})
	}
}

func TestAddMonths(t *testing.T) {
	cases := []struct {
		from string
		n    int
		want string
	}{
		{"2026-01-31", 1, "2026-02-28"},
		{"2028-01-31", 1, "2028-02-29"}, // leap year
		{"2026-03-31", 2, "2026-05-31"},
		{"2026-03-31", 1, "2026-04-30"},
		{"2026-11-30", 3, "2027-02-28"},
		{"2027-11-30", 3, "2028-02-29"},
		{"2026-03-05", 1, "2026-04-05"},
		{"2026-12-15", 1, "2027-01-15"},
		{"2026-08-31", 1, "2026-09-30"},
		{"2026-05-31", -3, "2026-02-28"},
		{"2026-05-31", 0, "2026-05-31"},
	}
	for _, tc := range cases {
		t.Run(tc.from, func(t *testing.T) {
			if got := d(t, tc.from).AddMonths(tc.n); got != d(t, tc.want) {
				t.Fatalf("%s.AddMonths(%d) = %v, want %s", tc.from, tc.n, got, tc.want)
			}
		})
	}
}

func TestAddBusinessDays(t *testing.T) {
	cases := []struct {
		name string
		from string
		n    int
		want string
	}{
		// Fri 20 Nov 2026: Thanksgiving (Thu 26) skipped, Fri 27 counts.
		{"over Thanksgiving", "2026-11-20", 15, "2026-12-14"},
		{"to the day after Thanksgiving", "2026-11-20", 4, "2026-11-27"},
		// Fri 18 Dec 2026: Christmas (Fri 25) and New Year (Fri 1 Jan) skipped.
		{"over Christmas and New Year", "2026-12-18", 10, "2027-01-05"},
		// 2027: Christmas observed Fri 24 Dec, New Year 2028 observed Fri 31 Dec.
		{"Christmas 2027 observed on the 24th", "2027-12-22", 1, "2027-12-23"},
		{"skips observed Christmas 2027", "2027-12-22", 2, "2027-12-27"},
		{"skips New Year 2028 observed in 2027", "2027-12-22", 6, "2028-01-03"},
		{"from a Saturday", "2026-11-21", 1, "2026-11-23"},
		{"over a Monday holiday", "2026-01-16", 1, "2026-01-20"}, // MLK Day, Mon 19 Jan
		{"July 4 2026 observed Friday 3rd", "2026-07-02", 1, "2026-07-06"},
		{"zero is the day itself", "2026-11-21", 0, "2026-11-21"},
		{"backwards", "2026-11-30", -2, "2026-11-25"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := d(t, tc.from).AddBusinessDays(tc.n); got != d(t, tc.want) {
				t.Fatalf("%s.AddBusinessDays(%d) = %v, want %s", tc.from, tc.n, got, tc.want)
			}
		})
	}
}

// TestAddBusinessDaysCounts checks every result against a count made by
// walking the calendar against the literal holiday lists below.
func TestAddBusinessDaysCounts(t *testing.T) {
	holidays := map[Date]bool{}
	for _, list := range [][]string{holidays2026, holidays2027, holidays2028} {
		for _, s := range list {
			holidays[d(t, s)] = true
		}
	}
	off := func(x Date) bool {
		wd := x.Weekday()
		return wd == time.Saturday || wd == time.Sunday || holidays[x]
	}
	for start := d(t, "2026-01-02"); start.Before(d(t, "2027-11-01")); start = start.AddDays(3) {
		for _, n := range []int{1, 5, 10, 15, 45} {
			got := start.AddBusinessDays(n)
			count := 0
			for x := start.AddDays(1); !x.After(got); x = x.AddDays(1) {
				if !off(x) {
					count++
				}
			}
			if count != n || off(got) {
				t.Fatalf("%v.AddBusinessDays(%d) = %v: %d business days in between, on a day off %v", start, n, got, count, off(got))
			}
		}
	}
}

var (
	holidays2026 = []string{
		"2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03",
		"2026-09-07", "2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25",
	}
	holidays2027 = []string{
		"2027-01-01", "2027-01-18", "2027-02-15", "2027-05-31", "2027-06-18", "2027-07-05",
		"2027-09-06", "2027-10-11", "2027-11-11", "2027-11-25", "2027-12-24",
	}
	holidays2028 = []string{
		"2027-12-31", "2028-01-17", "2028-02-21", "2028-05-29", "2028-06-19", "2028-07-04",
		"2028-09-04", "2028-10-09", "2028-11-10", "2028-11-23", "2028-12-25",
	}
)

func TestFederalHolidays(t *testing.T) {
	cases := []struct {
		year int
		want []string
	}{
		{2026, holidays2026},
		{2027, holidays2027},
		{2028, holidays2028},
		{2021, []string{ // Juneteenth's first year, observed Fri 18 June
			"2021-01-01", "2021-01-18", "2021-02-15", "2021-05-31", "2021-06-18", "2021-07-05",
			"2021-09-06", "2021-10-11", "2021-11-11", "2021-11-25", "2021-12-24",
		}},
		{2020, []string{ // before Juneteenth
			"2020-01-01", "2020-01-20", "2020-02-17", "2020-05-25", "2020-07-03",
			"2020-09-07", "2020-10-12", "2020-11-11", "2020-11-26", "2020-12-25",
		}},
	}
	for _, tc := range cases {
		t.Run(time.Date(tc.year, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006"), func(t *testing.T) {
			var want []Date
			for _, s := range tc.want {
				want = append(want, d(t, s))
			}
			if got := FederalHolidays(tc.year); !slices.Equal(got, want) {
				t.Fatalf("FederalHolidays(%d) = %v, want %v", tc.year, got, want)
			}
		})
	}
}

func TestIsBusinessDay(t *testing.T) {
	cases := []struct {
		day  string
		want bool
	}{
		{"2026-11-26", false}, // Thanksgiving
		{"2026-11-27", true},  // the day after is not a federal holiday
		{"2026-07-03", false}, // Independence Day observed
		{"2026-07-04", false}, // Saturday
		{"2027-12-31", false}, // New Year's Day 2028 observed
		{"2026-12-31", true},
		{"2026-06-19", false},
		{"2026-06-22", true},
	}
	for _, tc := range cases {
		t.Run(tc.day, func(t *testing.T) {
			if got := d(t, tc.day).IsBusinessDay(); got != tc.want {
				t.Fatalf("IsBusinessDay = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	cases := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{"2026-01-31", Date{2026, time.January, 31}, false},
		{"2028-02-29", Date{2028, time.February, 29}, false},
		{"2026-02-29", Date{}, true},
		{"2026-04-31", Date{}, true},
		{"31/01/2026", Date{}, true},
		{"", Date{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDate(tc.in)
			if tc.wantErr {
				var ve *veil.ValidationError
				if !errors.As(err, &ve) || ve.Field != "date" {
					t.Fatalf("err = %v, want a *veil.ValidationError for date", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseDate = %v, %v; want %v", got, err, tc.want)
			}
			if got.String() != tc.in {
				t.Fatalf("String = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		Due  Date `json:"due"`
		None Date `json:"none"`
	}
	in := doc{Due: Date{2026, time.March, 18}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"due":"2026-03-18","none":""}`; got != want {
		t.Fatalf("json = %s, want %s", got, want)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("round trip = %+v, %v; want %+v", out, err, in)
	}
	if err := json.Unmarshal([]byte(`{"due":"2026-13-01"}`), &out); err == nil {
		t.Fatalf("Unmarshal of month 13 = nil, want an error")
	}
}

func TestDateOf(t *testing.T) {
	la := time.FixedZone("PST", -8*3600)
	instant := time.Date(2026, time.January, 16, 5, 0, 0, 0, time.UTC)
	if got, want := DateOf(instant, la), (Date{2026, time.January, 15}); got != want {
		t.Fatalf("DateOf in PST = %v, want %v", got, want)
	}
	if got, want := DateOf(instant, nil), (Date{2026, time.January, 16}); got != want {
		t.Fatalf("DateOf in its own zone = %v, want %v", got, want)
	}
}

func TestDateValid(t *testing.T) {
	cases := []struct {
		d    Date
		want bool
	}{
		{Date{2026, time.April, 30}, true},
		{Date{2026, time.April, 31}, false},
		{Date{2026, 13, 1}, false},
		{Date{}, false},
	}
	for _, tc := range cases {
		if got := tc.d.Valid(); got != tc.want {
			t.Fatalf("%+v.Valid() = %v, want %v", tc.d, got, tc.want)
		}
	}
}
