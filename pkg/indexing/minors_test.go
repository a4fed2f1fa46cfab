package indexing_test

import (
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/indexing"
)

// layouts are the date-of-birth layouts ParseBirthDate documents reading.
var layouts = []string{"2006-01-02", "01/02/2006", "1/2/2006", "20060102", "2006/01/02", "01-02-2006", "Jan 2, 2006", "2 Jan 2006"}

func TestParseBirthDate(t *testing.T) {
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		in     string
		want   time.Time
		wantOK bool
	}{
		{"2010-05-19", date(2010, 5, 19), true},
		{"  2010-05-19  ", date(2010, 5, 19), true},
		{"2010-05-19T00:00:00Z", date(2010, 5, 19), true},
		{"2010-05-19 13:45", date(2010, 5, 19), true},
		{"05/19/2010", date(2010, 5, 19), true},
		{"5/9/2010", date(2010, 5, 9), true},
		{"20100519", date(2010, 5, 19), true},
		{"2010/05/19", date(2010, 5, 19), true},
		{"05-19-2010", date(2010, 5, 19), true},
		{"May 19, 2010", date(2010, 5, 19), true},
		{"19 May 2010", date(2010, 5, 19), true},
		{"2008-02-29", date(2008, 2, 29), true},
		{"2009-02-29", time.Time{}, false}, // no such day
		{"19/05/2010", time.Time{}, false}, // day first: not read
		{"13/01/2010", time.Time{}, false},
		{"2010-13-01", time.Time{}, false},
		{"10-05-19", time.Time{}, false}, // two-digit year
		{"", time.Time{}, false},
		{"unknown", time.Time{}, false},
		{"2010-05-19junk", time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := indexing.ParseBirthDate(tc.in)
			if ok != tc.wantOK || !got.Equal(tc.want) {
				t.Fatalf("ParseBirthDate(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// FuzzParseBirthDate: any string is read or refused without a panic, and a
// date that is read is a whole UTC day that reads back the same in every
// layout.
func FuzzParseBirthDate(f *testing.F) {
	for _, s := range []string{"2010-05-19", "05/19/2010", "5/9/2010", "20100519", "2010/05/19", "05-19-2010",
		"May 19, 2010", "19 May 2010", "2010-05-19T00:00:00Z", "0000-01-01", "9999-12-31", "x", "2010-05-19 ", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := indexing.ParseBirthDate(s)
		if !ok {
			if !d.IsZero() {
				t.Fatalf("ParseBirthDate(%q) = %v, false; want the zero time", s, d)
			}
			return
		}
		if d.Location() != time.UTC || !d.Equal(d.Truncate(24*time.Hour)) {
			t.Fatalf("ParseBirthDate(%q) = %v, want midnight UTC", s, d)
		}
		for _, l := range layouts {
			again, ok := indexing.ParseBirthDate(d.Format(l))
			if !ok || !again.Equal(d) {
				t.Fatalf("ParseBirthDate(%q) = %v; in layout %q it is %q, which reads as %v, %v", s, d, l, d.Format(l), again, ok)
			}
		}
	})
}

func TestCampaign(t *testing.T) {
	tests := []struct{ key, want string }{
		{"campaigns/spring-refi/leads.csv", "spring-refi"},
		{"campaigns/spring refi/2026/03/leads.csv", "spring refi"},
		{"campaigns/a/b", "a"},
		{"campaigns/leads.csv", ""}, // no campaign folder
		{"campaigns//leads.csv", ""},
		{"campaigns/", ""},
		{"Campaigns/x/leads.csv", ""},
		{"inbox/campaigns/x/leads.csv", ""},
		{"leads.csv", ""},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			if got := indexing.Campaign(tc.key); got != tc.want {
				t.Fatalf("Campaign(%q) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}
