package stack

// EventBridge's schedules: a function's Schedule events (rate expressions)
// invoke it asynchronously, as EventBridge does, with a "Scheduled Event"
// on every tick, so that `make run` anchors the audit chains hourly as the
// deployed stack does.

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// ParseRate returns the period of an EventBridge rate expression
// ("rate(1 hour)", "rate(5 minutes)", "rate(2 days)"). It returns an error
// for a cron expression, which the local stack does not run, and for a
// rate EventBridge refuses (a value below 1, "1 hours", "2 hour").
func ParseRate(expr string) (time.Duration, error) {
	inner, ok := strings.CutPrefix(expr, "rate(")
	if inner, ok = strings.CutSuffix(inner, ")"); !ok {
		return 0, fmt.Errorf("schedule %q: the local stack runs rate(…) expressions only", expr)
	}
	num, unit, _ := strings.Cut(inner, " ")
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("schedule %q: the value must be a whole number of at least 1", expr)
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	base, plural := strings.CutSuffix(unit, "s")
	d, ok := units[base]
	if !ok || plural != (n != 1) {
		return 0, fmt.Errorf("schedule %q: the unit must be minute, hour or day, plural for a value above 1", expr)
	}
	return time.Duration(n) * d, nil
}

// scheduledEvent is what EventBridge sends a target of a schedule.
func scheduledEvent(rule string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{"version": "0", "id": uuid.NewString(), "detail-type": "Scheduled Event", "source": "aws.events",
		"account": AccountID, "time": at.UTC().Format(time.RFC3339), "region": Region,
		"resources": []string{"arn:aws:events:" + Region + ":" + AccountID + ":rule/" + rule}, "detail": map[string]any{}})
	return b
}

// wireSchedules starts a ticker for each Schedule event of each function;
// Close stops them.
func (s *Stack) wireSchedules(res *samtemplate.Resolver) error {
	for _, f := range s.Template.Functions() {
		for _, e := range f.Events {
			if e.Type != "Schedule" {
				continue
			}
			expr, err := res.String(e.Properties["Schedule"])
			if err != nil {
				return fmt.Errorf("function %s schedule %s: %w", f.LogicalID, e.Name, err)
			}
			every, err := ParseRate(expr)
			if err != nil {
				return fmt.Errorf("function %s: %w", f.LogicalID, err)
			}
			id, rule := f.LogicalID, f.LogicalID+e.Name
			tick := time.NewTicker(every)
			stop := make(chan struct{})
			go func() {
				for {
					select {
					case at := <-tick.C:
						if err := s.Runtime.InvokeAsync(id, scheduledEvent(rule, at)); err != nil {
							s.log.Error("scheduled invoke", "function", id, "rule", rule, slog.Any("error", err))
						}
					case <-stop:
						return
					}
				}
			}()
			s.closers = append(s.closers, func() { tick.Stop(); close(stop) })
		}
	}
	return nil
}
