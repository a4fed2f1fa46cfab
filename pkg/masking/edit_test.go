package masking

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/veil-privacy/veil/pkg/veil"
)

var (
	rowHeader = []string{"Campaign", "First", "Last", "Mobile", "Email", "Notes", "Acct"}
	rowKinds  = []string{"business", "first_name", "last_name", "phone", "email", "business", "account_number"}
	rowFields = []string{"Spring =1+1", "Zoë", "Ångström", "1223334444", "someone@example.com", "called \xff twice", ""}
)

func TestMaskerEditRow(t *testing.T) {
	tests := []struct {
		name        string
		strategy    Strategy
		fields      []string
		wantFields  []string
		wantChanged []int
	}{
		{
			name:        "alternate",
			strategy:    Alternate,
			fields:      rowFields,
			wantFields:  []string{"Spring =1+1", "ZoX", "ÅnXXtrXX", "12XX33XX44", "soXXonXXexXXplXXcoX", "called \xff twice", ""},
			wantChanged: []int{1, 2, 3, 4},
		},
		{
			name:        "redact",
			strategy:    Redact,
			fields:      rowFields,
			wantFields:  []string{"Spring =1+1", "XXX", "XXXXXXXX", "XXXXXXXXXX", "XXXXXXXXXXXXXXXXXXX", "called \xff twice", ""},
			wantChanged: []int{1, 2, 3, 4},
		},
		{
			name:        "already masked: nothing changes",
			strategy:    Alternate,
			fields:      []string{"Spring", "ZoX", "ÅnXXtrXX", "12XX33XX44", "soXXonXXexXXplXXcoX", "", "00XX"},
			wantFields:  []string{"Spring", "ZoX", "ÅnXXtrXX", "12XX33XX44", "soXXonXXexXXplXXcoX", "", "00XX"},
			wantChanged: nil,
		},
		{
			name:        "short record: missing cells not added",
			strategy:    Redact,
			fields:      []string{"Spring", "Ann"},
			wantFields:  []string{"Spring", "XXX"},
			wantChanged: []int{1},
		},
		{
			name:        "ragged record: extra fields are business",
			strategy:    Redact,
			fields:      []string{"Spring", "Ann", "Lee", "", "", "", "", "extra 212-555-0147"},
			wantFields:  []string{"Spring", "XXX", "XXX", "", "", "", "", "extra 212-555-0147"},
			wantChanged: []int{1, 2},
		},
		{
			name:        "no fields",
			strategy:    Redact,
			fields:      nil,
			wantFields:  []string{},
			wantChanged: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.fields)
			e, err := newMasker(t, tc.strategy).EditRow(rowHeader, rowKinds, tc.fields)
			if err != nil {
				t.Fatalf("EditRow = %v", err)
			}
			if e.Deleted {
				t.Fatal("Deleted = true, want false")
			}
			if !slices.Equal(e.Fields, tc.wantFields) {
				t.Fatalf("Fields = %q, want %q", e.Fields, tc.wantFields)
			}
			if !slices.Equal(e.Changed, tc.wantChanged) {
				t.Fatalf("Changed = %v, want %v", e.Changed, tc.wantChanged)
			}
			if !slices.Equal(tc.fields, in) {
				t.Fatalf("input fields = %q after EditRow, want %q", tc.fields, in)
			}
		})
	}
}

func TestMaskerEditRowDeleteRow(t *testing.T) {
	e, err := newMasker(t, DeleteRow).EditRow(rowHeader, rowKinds, rowFields)
	if err != nil {
		t.Fatalf("EditRow = %v", err)
	}
	if !e.Deleted || e.Fields != nil || e.Changed != nil {
		t.Fatalf("EditRow = %+v, want Deleted and nothing else", e)
	}
}

func TestEditRowErrors(t *testing.T) {
	cr, err := NewCorrector(Correction{Set: map[string]string{"last_name": "Ortega"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		header, kinds []string
		field         string
	}{
		{"kinds shorter than header", []string{"a", "b"}, []string{"phone"}, "kinds"},
		{"kinds longer than header", []string{"a"}, []string{"phone", "email"}, "kinds"},
		{"unknown kind", []string{"a", "b"}, []string{"phone", "Phone"}, "kinds[1]"},
		{"invalid kind written out", []string{"a"}, []string{"kind(14)"}, "kinds[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range Strategies() {
				_, err := newMasker(t, s).EditRow(tc.header, tc.kinds, []string{"x", "y"})
				var ve *veil.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("%v: EditRow = %v, want a ValidationError for %q", s, err, tc.field)
				}
			}
			_, err := cr.EditRow(tc.header, tc.kinds, []string{"x", "y"})
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("Corrector.EditRow = %v, want a ValidationError for %q", err, tc.field)
			}
		})
	}
}

// TestConcurrentUse: a Masker and a Corrector are shared by the workers of
// one job; each goroutine's results are the ones a single caller gets.
func TestConcurrentUse(t *testing.T) {
	cr, err := NewCorrector(Correction{Set: map[string]string{"email": "new@example.com"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Strategies() {
		m := newMasker(t, s)
		want, err := m.EditRow(rowHeader, rowKinds, rowFields)
		if err != nil {
			t.Fatal(err)
		}
		wantC, err := cr.EditRow(rowHeader, rowKinds, rowFields)
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan string, 8)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 200 {
					got, err := m.EditRow(rowHeader, rowKinds, rowFields)
					if err != nil || !slices.Equal(got.Fields, want.Fields) || got.Deleted != want.Deleted {
						errs <- fmt.Sprintf("%v: EditRow = %+v, %v, want %+v", s, got, err, want)
						return
					}
					gotC, err := cr.EditRow(rowHeader, rowKinds, rowFields)
					if err != nil || !slices.Equal(gotC.Fields, wantC.Fields) {
						errs <- fmt.Sprintf("Corrector.EditRow = %+v, %v, want %+v", gotC, err, wantC)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Fatal(e)
		}
	}
}
