package benchmarks

import (
	"fmt"
	"io"
	"math"
	"strconv"
)

// Report prints each figure as one `name value` line the moment it is
// measured and keeps it for the goals.
type Report struct {
	out     io.Writer
	figures map[string]float64
}

// NewReport returns a Report printing to out.
func NewReport(out io.Writer) *Report { return &Report{out: out, figures: map[string]float64{}} }

// Add prints and records one figure; it fails if out does.
func (r *Report) Add(name string, v float64) error {
	r.figures[name] = v
	_, err := fmt.Fprintf(r.out, "%s %s\n", name, FormatValue(v))
	return err
}

// Value returns a recorded figure.
func (r *Report) Value(name string) (float64, bool) {
	v, ok := r.figures[name]
	return v, ok
}

// FormatValue writes v as a plain decimal number, never in exponent form:
// whole numbers from 1000 up, four decimals below.
func FormatValue(v float64) string {
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(math.Round(v*1e4)/1e4, 'f', -1, 64)
}

// Goal is a target one figure must reach.
type Goal struct {
	Figure string
	// AtLeast is true for a floor (figure >= Target), false for a ceiling.
	AtLeast bool
	Target  float64
}

// Met reports whether v reaches the goal.
func (g Goal) Met(v float64) bool {
	if g.AtLeast {
		return v >= g.Target
	}
	return v <= g.Target
}

// String states the goal, e.g. "index_rss_growth <= 1.2".
func (g Goal) String() string {
	op := "<="
	if g.AtLeast {
		op = ">="
	}
	return g.Figure + " " + op + " " + FormatValue(g.Target)
}

// Goals are the issues' goals, in the order they are reported.
var Goals = []Goal{
	{Figure: "index_floor_ratio", AtLeast: true, Target: 0.6},
	{Figure: "index_cp1252_ratio", AtLeast: true, Target: 0.8},
	{Figure: "index_rss_growth", AtLeast: false, Target: 1.2},
	{Figure: "index_large_list_ratio", AtLeast: false, Target: 1.3},
	{Figure: "search_latency_growth", AtLeast: false, Target: 1.5},
	{Figure: "export_rss_growth", AtLeast: false, Target: 1.5},
	{Figure: "rewrite_rss_growth", AtLeast: false, Target: 1.2},
	{Figure: "search_vs_scan_speedup", AtLeast: true, Target: 100},
	{Figure: "erase_cost_ratio", AtLeast: false, Target: 0.05},
}
