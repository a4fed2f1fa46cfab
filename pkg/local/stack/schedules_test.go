package stack_test

import (
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/local/stack"
)

// TestParseRate: EventBridge's rate expressions, from its user guide's
// "Rate expressions": a positive whole value, minute(s), hour(s) or
// day(s), singular for 1 and plural above; cron is not run locally.
func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want time.Duration
	}{
		{"rate(1 hour)", time.Hour},
		{"rate(5 minutes)", 5 * time.Minute},
		{"rate(1 minute)", time.Minute},
		{"rate(2 days)", 48 * time.Hour},
		{"rate(1 hours)", 0},
		{"rate(2 hour)", 0},
		{"rate(0 minutes)", 0},
		{"rate(1 week)", 0},
		{"cron(0 * * * ? *)", 0},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := stack.ParseRate(tc.expr)
			if got != tc.want || (err == nil) != (tc.want != 0) {
				t.Fatalf("ParseRate(%q) = %v, %v; want %v", tc.expr, got, err, tc.want)
			}
		})
	}
}
