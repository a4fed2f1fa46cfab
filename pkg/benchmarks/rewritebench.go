package benchmarks

// Rewrite figures: the splice pass of erasure (rewrite.Text) over a
// generated list streamed through it, in a child process of its own so
// that its peak RSS is its own. rewrite_mb_per_s is the pass over a list of
// RewriteMB megabytes with three records edited (near its start, middle
// and end, so that the whole list is parsed); rewrite_rss_growth is the
// peak RSS of the pass over ten times that list ÷ over the list.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/rewrite"
)

// rewriteReport is the line a rewrite child prints.
const rewriteReport = "megabytes %d bytes %d seconds %f peak_rss_kib %d\n"

// RewriteList rewrites a generated list of about mb megabytes, written to
// a temporary file first (so that the generator is not timed, and its
// bytes are never held), editing three records, and returns the bytes read
// and how long the pass took. It fails if the pass does, or edits other
// than three records.
func RewriteList(mb int) (int64, time.Duration, error) {
	rows, err := rowsFor(int64(mb) * 1e6)
	if err != nil {
		return 0, 0, err
	}
	f, err := os.CreateTemp("", "veil-bench-rewrite-*.csv")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	if err := GenerateLeads(w, rows, 5); err != nil {
		return 0, 0, err
	}
	if err := w.Flush(); err != nil {
		return 0, 0, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, 0, err
	}
	edits := map[int64]rewrite.Edit{}
	for _, n := range []int64{10, int64(rows / 2), int64(rows - 10)} {
		edits[n] = rewrite.Edit{Record: n, Cells: map[int]string{1: "XXXX XXXX"}}
	}
	start := time.Now()
	res, err := rewrite.Text(io.Discard, f, leads.Options{}, edits)
	d := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	if res.Edited != 3 {
		return 0, 0, fmt.Errorf("rewrite of %d rows edited %d records, want 3", rows, res.Edited)
	}
	return res.BytesIn, d, nil
}

// ChildRewrite is a rewrite child's work: it rewrites a list of mb
// megabytes and prints its report to out.
func ChildRewrite(mb int, out io.Writer) error {
	n, d, err := RewriteList(mb)
	if err != nil {
		return err
	}
	peak, err := ownPeakRSS()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, rewriteReport, mb, n, d.Seconds(), peak)
	return err
}

// ownPeakRSS is this process's VmHWM in KiB.
func ownPeakRSS() (int64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	return VmHWM(status)
}

// RewriteCommand returns the command that runs ChildRewrite over mb.
type RewriteCommand func(mb int) *exec.Cmd

// rewriteArgs are the flags that make veil-bench the rewrite child of mb.
func rewriteArgs(mb int) []string { return []string{"-" + rewriteChildFlag, strconv.Itoa(mb)} }

// RewriteChild runs one rewrite child and returns the bytes it read, how
// long the pass took and its peak RSS in KiB.
func RewriteChild(child RewriteCommand, mb int) (int64, time.Duration, int64, error) {
	out, err := runChild(child(mb))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("rewrite child %d MB: %w", mb, err)
	}
	var got int
	var n, peak int64
	var secs float64
	if _, err := fmt.Sscanf(out, rewriteReport, &got, &n, &secs, &peak); err != nil || got != mb || n <= 0 || peak <= 0 {
		return 0, 0, 0, fmt.Errorf("rewrite child printed %q, want megabytes %d", out, mb)
	}
	return n, time.Duration(secs * float64(time.Second)), peak, nil
}

// rewriteFigures measures the rewrite figures.
func rewriteFigures(cfg Config, r *Report) error {
	logf(cfg, "rewrite: the splice pass over generated lists of %d and %d MB, three records edited, in child processes", cfg.RewriteMB, 10*cfg.RewriteMB)
	n, d, small, err := RewriteChild(cfg.RewriteChild, cfg.RewriteMB)
	if err != nil {
		return err
	}
	rate, err := PerSecond(float64(n), d)
	if err != nil {
		return fmt.Errorf("rewrite_mb_per_s: %w", err)
	}
	rate = MB(rate)
	_, _, large, err := RewriteChild(cfg.RewriteChild, 10*cfg.RewriteMB)
	if err != nil {
		return err
	}
	growth, err := Ratio(float64(large), float64(small))
	if err != nil {
		return fmt.Errorf("rewrite_rss_growth: %w", err)
	}
	return add(r,
		figure{"rewrite_mb_per_s", rate},
		figure{"rewrite_peak_rss_mib_1x", float64(small) / 1024},
		figure{"rewrite_peak_rss_mib_10x", float64(large) / 1024},
		figure{"rewrite_rss_growth", growth},
	)
}
