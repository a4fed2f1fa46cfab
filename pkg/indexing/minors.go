package indexing

import (
	"strings"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
)

// minorCounter counts rows whose date of birth makes the consumer younger
// than 16: they need a parent's consent before they are dialed.
type minorCounter struct {
	col    int // -1: the list has no date-of-birth column
	cutoff time.Time
	n      int64
}

func newMinorCounter(schema identifiers.Schema, now time.Time) *minorCounter {
	mc := &minorCounter{col: -1, cutoff: now.AddDate(-16, 0, 0)}
	for _, c := range schema.Columns {
		if c.Kind == identifiers.DateOfBirth {
			mc.col = c.Index
			break
		}
	}
	return mc
}

func (mc *minorCounter) add(fields []string) {
	if mc.col < 0 || mc.col >= len(fields) {
		return
	}
	if dob, ok := ParseBirthDate(fields[mc.col]); ok && dob.After(mc.cutoff) {
		mc.n++
	}
}

func (mc *minorCounter) count() int64 {
	if mc.col < 0 {
		return -1
	}
	return mc.n
}

// birthLayouts are the ways lead lists write a date of birth; day-first
// forms are not read, since 03/04/2010 would be ambiguous.
var birthLayouts = []string{"2006-01-02", "01/02/2006", "1/2/2006", "20060102", "2006/01/02", "01-02-2006", "Jan 2, 2006", "2 Jan 2006"}

// ParseBirthDate reads a date of birth in one of the common layouts; ok is
// false for anything else.
func ParseBirthDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "T "); i == 10 {
		s = s[:10] // 2010-05-19T00:00:00Z, 2010-05-19 00:00
	}
	for _, l := range birthLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
