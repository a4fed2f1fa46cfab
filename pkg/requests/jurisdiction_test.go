package requests

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/veil"
)

func TestTableRows(t *testing.T) {
	want := []string{"CA", "CO", "CT", "DE", "EU", "IA", "IN", "KY", "MD", "MN", "MT", "NE", "NH", "NJ", "OR", "RI", "TN", "TX", "UK", "UT", "VA"}
	var got []string
	for _, j := range Default().Jurisdictions() {
		got = append(got, j.Code)
		t.Run(j.Code, func(t *testing.T) {
			if strings.TrimSpace(j.Source) == "" {
				t.Fatalf("Source is empty: every row cites its law")
			}
			if j.Name == "" || j.Law == "" || j.AppealContact == "" {
				t.Fatalf("Name %q, Law %q, AppealContact %q: want all set", j.Name, j.Law, j.AppealContact)
			}
			if j.Respond.IsZero() {
				t.Fatalf("Respond is zero")
			}
			if j.Appeal == nil && !j.AppealExtension.IsZero() {
				t.Fatalf("AppealExtension %v without an appeal right", j.AppealExtension)
			}
		})
	}
	if !slices.Equal(got, want) {
		t.Fatalf("codes = %v, want %v", got, want)
	}
}

func TestCaliforniaRow(t *testing.T) {
	ca := mustLookup(t, "CA")
	want := Jurisdiction{
		Acknowledge: businessDays(10), Respond: days(45), Extension: days(45),
		ExtensionNeedsNotice: true, OptOut: businessDays(15),
	}
	if ca.Acknowledge != want.Acknowledge || ca.Respond != want.Respond || ca.Extension != want.Extension ||
		ca.ExtensionNeedsNotice != want.ExtensionNeedsNotice || ca.OptOut != want.OptOut || ca.Appeal != nil {
		t.Fatalf("CA = %+v, want periods %+v and no appeal", ca, want)
	}
	for _, cite := range []string{"1798.130(a)(2)", "7021", "7026(f)"} {
		if !strings.Contains(ca.Source, cite) {
			t.Fatalf("CA Source %q does not cite %s", ca.Source, cite)
		}
	}
}

func TestLookup(t *testing.T) {
	cases := []struct {
		code    string
		want    string
		wantErr bool
	}{
		{"CA", "CA", false},
		{" ca ", "CA", false},
		{"eu", "EU", false},
		{"IA", "IA", false},
		{"FL", "", true}, // Florida's law is not in the table
		{"", "", true},
		{"California", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			j, err := Lookup(tc.code)
			if tc.wantErr {
				var ve *veil.ValidationError
				if !errors.As(err, &ve) || ve.Field != "jurisdiction" {
					t.Fatalf("Lookup = %v, want a *veil.ValidationError for jurisdiction", err)
				}
				return
			}
			if err != nil || j.Code != tc.want {
				t.Fatalf("Lookup = %v, %v; want code %s", j.Code, err, tc.want)
			}
		})
	}
	if _, err := (Table{}).Lookup("CA"); err == nil {
		t.Fatalf("zero Table Lookup = nil error, want one")
	}
}

func TestLookupReturnsACopy(t *testing.T) {
	va := mustLookup(t, "VA")
	*va.Appeal = days(1)
	if got := mustLookup(t, "VA"); *got.Appeal != days(60) {
		t.Fatalf("VA appeal after a caller's write = %v, want 60d", *got.Appeal)
	}
}

func TestParseOverrides(t *testing.T) {
	tab, err := ParseOverrides(" CA.respond=30d, CA.extension=0d,EU.respond=2m,va.appeal=30d,CA.optout=10bd,UT.appeal=30d,TX.appeal=none,CO.appealextension=0d,CA.acknowledge=5bd, ")
	if err != nil {
		t.Fatalf("ParseOverrides = %v", err)
	}
	get := func(code string) Jurisdiction {
		t.Helper()
		j, err := tab.Lookup(code)
		if err != nil {
			t.Fatalf("Lookup(%s) = %v", code, err)
		}
		return j
	}
	checks := []struct {
		name      string
		got, want Period
	}{
		{"CA.respond", get("CA").Respond, days(30)},
		{"CA.extension", get("CA").Extension, Period{}},
		{"CA.optout", get("CA").OptOut, businessDays(10)},
		{"CA.acknowledge", get("CA").Acknowledge, businessDays(5)},
		{"EU.respond", get("EU").Respond, months(2)},
		{"EU.extension untouched", get("EU").Extension, months(2)},
		{"VA.appeal", *get("VA").Appeal, days(30)},
		{"UT.appeal granted", *get("UT").Appeal, days(30)},
		{"CO.appealextension", get("CO").AppealExtension, Period{}},
		{"UK untouched", get("UK").Respond, months(1)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Fatalf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if get("TX").Appeal != nil {
		t.Fatalf("TX.appeal=none left an appeal right")
	}
	// The default table is untouched.
	if ca := mustLookup(t, "CA"); ca.Respond != days(45) || ca.Extension != days(45) {
		t.Fatalf("Default CA changed: %+v", ca)
	}
	if va := mustLookup(t, "VA"); *va.Appeal != days(60) {
		t.Fatalf("Default VA appeal changed: %v", *va.Appeal)
	}
	// Overridden deadlines flow into the arithmetic.
	if got := DueDate(get("CA"), Access, d(t, "2026-01-15")); got != d(t, "2026-02-14") {
		t.Fatalf("overridden CA DueDate = %v, want 2026-02-14", got)
	}
}

func TestParseOverridesEmpty(t *testing.T) {
	for _, s := range []string{"", " ", ",", " , ,"} {
		tab, err := ParseOverrides(s)
		if err != nil {
			t.Fatalf("ParseOverrides(%q) = %v", s, err)
		}
		if got, want := tab.Jurisdictions(), Default().Jurisdictions(); len(got) != len(want) {
			t.Fatalf("ParseOverrides(%q) has %d rows, want %d", s, len(got), len(want))
		}
	}
}

func TestParseOverridesErrors(t *testing.T) {
	cases := []struct {
		name, in string
		mention  []string // what the error must name
	}{
		{"no equals", "CA.respond", []string{"item 1"}},
		{"no field", "CA=45d", []string{"item 1"}},
		{"no code", ".respond=45d", []string{"item 1"}},
		{"unknown code", "CA.respond=45d,ZZ.respond=45d", []string{"item 2", "ZZ.respond"}},
		{"unknown field", "CA.deadline=45d", []string{"item 1", "CA.deadline"}},
		{"bad unit", "CA.respond=45w", []string{"item 1", "CA.respond"}},
		{"negative", "CA.respond=-1d", []string{"CA.respond"}},
		{"missing number", "CA.respond=d", []string{"CA.respond"}},
		{"too long", "CA.respond=9999d", []string{"CA.respond"}},
		{"zero respond", "EU.respond=0m", []string{"EU.respond", "zero"}},
		{"zero appeal", "VA.appeal=0d", []string{"VA.appeal", "none"}},
		{"none outside appeal", "CA.respond=none", []string{"CA.respond"}},
		{"twice", "CA.respond=45d,ca.RESPOND=30d", []string{"item 2", "CA.respond", "more than once"}},
		{"counts items after empty ones", ",,CA.respond=45d,,EU.respond=x", []string{"item 2", "EU.respond"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseOverrides(tc.in)
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != "overrides" {
				t.Fatalf("ParseOverrides(%q) = %v, want a *veil.ValidationError for overrides", tc.in, err)
			}
			for _, m := range tc.mention {
				if !strings.Contains(ve.Reason, m) {
					t.Fatalf("reason %q does not mention %q", ve.Reason, m)
				}
			}
		})
	}
}

func TestWith(t *testing.T) {
	base := Default()
	cases := []struct {
		name    string
		o       Override
		wantErr bool
	}{
		{"ok", Override{"CA", "respond", days(30)}, false},
		{"appeal zero withdraws", Override{"VA", "appeal", Period{}}, false},
		{"unknown code", Override{"ZZ", "respond", days(30)}, true},
		{"unknown field", Override{"CA", "bogus", days(30)}, true},
		{"negative", Override{"CA", "extension", Period{Days: -1}}, true},
		{"business months", Override{"CA", "extension", Period{Months: 1, Business: true}}, true},
		{"too many months", Override{"EU", "respond", months(1000)}, true},
		{"zero respond", Override{"EU", "respond", Period{}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := base.With(tc.o)
			if tc.wantErr {
				var ve *veil.ValidationError
				if !errors.As(err, &ve) || ve.Field != "overrides" || !strings.Contains(ve.Reason, "item 1") {
					t.Fatalf("With = %v, want a *veil.ValidationError for overrides naming item 1", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("With = %v", err)
			}
			if _, err := tab.Lookup(tc.o.Code); err != nil {
				t.Fatalf("Lookup after With = %v", err)
			}
		})
	}
	if va, _ := base.Lookup("VA"); va.Appeal == nil {
		t.Fatalf("With changed the table it was called on")
	}
}

func FuzzParseOverrides(f *testing.F) {
	for _, s := range []string{
		"", ",", "CA.respond=45d,CA.extension=45d,EU.respond=1m,VA.appeal=60d,CA.optout=15bd",
		"TX.appeal=none", "CA.respond=0d", "CA.respond=45d,CA.respond=45d", "ZZ.x=1d", "=,.=", "CA.respond=3660bd",
		"EU.respond=120m", "CA.optout=99999999999999999999d", "é.ü=1d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tab, err := ParseOverrides(s)
		if err != nil {
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != "overrides" {
				t.Fatalf("ParseOverrides(%q) = %v, want a *veil.ValidationError for overrides", s, err)
			}
			return
		}
		rows := tab.Jurisdictions()
		if len(rows) != len(Default().Jurisdictions()) {
			t.Fatalf("ParseOverrides(%q) has %d rows", s, len(rows))
		}
		received := Date{2026, 1, 31}
		for _, j := range rows {
			if j.Respond.IsZero() {
				t.Fatalf("ParseOverrides(%q) left %s with no response period", s, j.Code)
			}
			for _, typ := range []Type{Access, OptOut} {
				due := DueDate(j, typ, received)
				if due.Before(received) || ExtendedDue(j, typ, received).Before(due) {
					t.Fatalf("ParseOverrides(%q): %s deadlines run backwards", s, j.Code)
				}
			}
		}
	})
}
