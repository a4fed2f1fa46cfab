package benchmarks

// Peak memory of indexing, measured in child processes: each child streams
// a generated lead list through bench.Pipeline (the generator writes into
// a pipe, so the list is never held) and reports its peak RSS.
//
// The peak is the child's VmHWM, the high-water mark of its own address
// space, not the ru_maxrss its parent reads from wait4: Go starts children
// with vfork semantics (CLONE_VM), so the kernel records the parent's
// high-water mark in the child's ru_maxrss at exec, and every child of a
// parent that once held a large list would report the parent's peak. The
// parent still reads ru_maxrss, which must be at least the child's VmHWM,
// to check the child's word.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/veil-privacy/veil/pkg/identifiers/bench"
)

// ChildIndex is the child's work: it indexes a generated list of rows
// records streamed through a pipe and writes "records N peak_rss_kib K" to
// out. It fails if generating or indexing does, if the count is not rows,
// or if the peak cannot be read.
func ChildIndex(rows int, out io.Writer) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(bench.GenerateLeads(pw, rows, 1)) }()
	n, _, err := bench.Pipeline(pr, benchSecret)
	pr.CloseWithError(io.ErrClosedPipe) // stops the generator if indexing failed early
	if err != nil {
		return fmt.Errorf("child index: %w", err)
	}
	if n != rows {
		return fmt.Errorf("child index: %d records, want %d", n, rows)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return fmt.Errorf("child index: %w", err)
	}
	peak, err := VmHWM(status)
	if err != nil {
		return fmt.Errorf("child index: %w", err)
	}
	_, err = fmt.Fprintf(out, "records %d peak_rss_kib %d\n", n, peak)
	return err
}

// VmHWM returns the peak resident set in KiB from the text of
// /proc/<pid>/status. It fails if the line is missing or malformed.
func VmHWM(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		num, ok := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		if !ok {
			return 0, fmt.Errorf("benchmarks: VmHWM line %q, want a size in kB", sc.Text())
		}
		return strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	}
	return 0, errors.New("benchmarks: no VmHWM in the process status")
}

// PeakRSSKiB returns ru_maxrss of an exited process (KiB on Linux). It
// fails if the process has not exited or the platform keeps no rusage.
func PeakRSSKiB(ps *os.ProcessState) (int64, error) {
	if ps == nil {
		return 0, errors.New("benchmarks: process has not exited")
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0, errors.New("benchmarks: no rusage for the child process")
	}
	return int64(ru.Maxrss), nil
}

// ChildCommand returns the command that runs ChildIndex over rows records
// in a new process.
type ChildCommand func(rows int) *exec.Cmd

// ChildPeakRSS runs one child over rows records and returns its peak RSS in
// KiB. It fails if the child fails, does not report rows records, or
// reports a peak above its ru_maxrss.
func ChildPeakRSS(child ChildCommand, rows int) (int64, error) {
	cmd := child(rows)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("index child over %d rows: %w (stderr: %s)", rows, err, bytes.TrimSpace(errOut.Bytes()))
	}
	var n, peak int64
	if _, err := fmt.Sscanf(out.String(), "records %d peak_rss_kib %d\n", &n, &peak); err != nil || n != int64(rows) || peak <= 0 {
		return 0, fmt.Errorf("index child over %d rows printed %q, want records %d and a positive peak", rows, out.String(), rows)
	}
	maxRSS, err := PeakRSSKiB(cmd.ProcessState)
	if err != nil {
		return 0, err
	}
	if peak > maxRSS {
		return 0, fmt.Errorf("index child over %d rows: VmHWM %d KiB above ru_maxrss %d KiB", rows, peak, maxRSS)
	}
	return peak, nil
}
