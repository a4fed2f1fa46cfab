package requests

import (
	"errors"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/veil"
)

func TestParseType(t *testing.T) {
	cases := []struct {
		in      string
		want    Type
		wantErr bool
	}{
		{"access", Access, false},
		{"delete", Delete, false},
		{"correct", Correct, false},
		{"opt_out", OptOut, false},
		{" Opt_Out ", OptOut, false},
		{"opt-out", "", true},
		{"", "", true},
		{"erase", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseType(tc.in)
			checkParse(t, "type", got, tc.want, err, tc.wantErr)
		})
	}
}

func TestParseChannel(t *testing.T) {
	cases := []struct {
		in      string
		want    Channel
		wantErr bool
	}{
		{"web", Web, false},
		{"agent", Agent, false},
		{"IVR", IVR, false},
		{"api", API, false},
		{"phone", "", true},
		{"", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseChannel(tc.in)
			checkParse(t, "channel", got, tc.want, err, tc.wantErr)
		})
	}
}

func TestParseStatus(t *testing.T) {
	cases := []struct {
		in      string
		want    Status
		wantErr bool
	}{
		{"received", Received, false},
		{"verifying", Verifying, false},
		{"awaiting_decision", AwaitingDecision, false},
		{"processing", Processing, false},
		{"completed", Completed, false},
		{"completed_with_gaps", CompletedWithGaps, false},
		{"denied", Denied, false},
		{"appealed", Appealed, false},
		{"closed_unverified", ClosedUnverified, false},
		{"failed", Failed, false},
		{"Completed ", Completed, false},
		{"approved", "", true},
		{"", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseStatus(tc.in)
			checkParse(t, "status", got, tc.want, err, tc.wantErr)
		})
	}
}

func checkParse[T comparable](t *testing.T, field string, got, want T, err error, wantErr bool) {
	t.Helper()
	if !wantErr {
		if err != nil || got != want {
			t.Fatalf("got %v, %v; want %v, nil", got, err, want)
		}
		return
	}
	var ve *veil.ValidationError
	if !errors.As(err, &ve) || ve.Field != field {
		t.Fatalf("err = %v, want a *veil.ValidationError for %q", err, field)
	}
}

// allowed is the graph written out independently of the package's table.
var allowed = map[[2]Status]bool{
	{Received, Verifying}:           true,
	{Verifying, AwaitingDecision}:   true,
	{Verifying, ClosedUnverified}:   true,
	{AwaitingDecision, Processing}:  true,
	{AwaitingDecision, Denied}:      true,
	{Processing, Completed}:         true,
	{Processing, CompletedWithGaps}: true,
	{Processing, Failed}:            true,
	{Denied, Appealed}:              true,
	{Appealed, Processing}:          true,
	{Appealed, Denied}:              true,
	{Failed, Processing}:            true,
}

var everyStatus = []Status{
	"received", "verifying", "awaiting_decision", "processing", "completed",
	"completed_with_gaps", "denied", "appealed", "closed_unverified", "failed",
}

func TestTransitionMatrix(t *testing.T) {
	for _, from := range everyStatus {
		for _, to := range everyStatus {
			t.Run(string(from)+"->"+string(to), func(t *testing.T) {
				want := allowed[[2]Status{from, to}]
				if got := from.CanMoveTo(to); got != want {
					t.Fatalf("CanMoveTo = %v, want %v", got, want)
				}
				err := Transition(from, to)
				if want {
					if err != nil {
						t.Fatalf("Transition = %v, want nil", err)
					}
					return
				}
				if !errors.Is(err, veil.ErrConflict) {
					t.Fatalf("Transition = %v, want ErrConflict", err)
				}
				if msg := err.Error(); !strings.Contains(msg, string(from)) || !strings.Contains(msg, string(to)) {
					t.Fatalf("Transition error %q does not name both statuses", msg)
				}
			})
		}
	}
}

func TestTransitionUnknownStatus(t *testing.T) {
	cases := []struct{ from, to Status }{
		{"approved", Processing},
		{AwaitingDecision, "approved"},
		{"", ""},
	}
	for _, tc := range cases {
		t.Run(string(tc.from)+"->"+string(tc.to), func(t *testing.T) {
			err := Transition(tc.from, tc.to)
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != "status" {
				t.Fatalf("Transition = %v, want a *veil.ValidationError for status", err)
			}
			if tc.from.CanMoveTo(tc.to) {
				t.Fatalf("CanMoveTo = true, want false")
			}
		})
	}
}

func TestTerminal(t *testing.T) {
	terminal := map[Status]bool{Completed: true, CompletedWithGaps: true, ClosedUnverified: true}
	for _, s := range everyStatus {
		t.Run(string(s), func(t *testing.T) {
			if got := s.Terminal(); got != terminal[s] {
				t.Fatalf("Terminal = %v, want %v", got, terminal[s])
			}
		})
	}
	if Status("nonsense").Terminal() {
		t.Fatalf("unknown status Terminal = true, want false")
	}
}
