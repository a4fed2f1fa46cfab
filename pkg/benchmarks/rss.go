package benchmarks

// Peak memory of indexing, measured in child processes: each child indexes
// a generated lead list through indexing.Service.Apply into the Index
// table on a dynalite the parent started, replaces it with another version
// of as many different rows, removes it (so that the store's deletes are
// measured with its writes), and reports its peak RSS. The list is
// generated as it is read, never held. A baseline child does the same with
// a list of one row: what every child holds whatever the list, subtracted
// before the ratio is taken.
//
// The peak is the child's VmHWM, the high-water mark of its own address
// space, not the ru_maxrss its parent reads from wait4: Go starts children
// with vfork semantics (CLONE_VM), so the kernel records the parent's
// high-water mark in the child's ru_maxrss at exec, and every child of a
// parent that once held a large list would report the parent's peak. The
// parent still reads ru_maxrss, which must be at least the child's VmHWM
// (give or take the kernel's counting slack), to check the child's word.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// baselineRows is the list of the baseline child: a list needs a row.
const baselineRows = 1

// ChildJob is what one child of index_rss_growth indexes, and where.
type ChildJob struct {
	// Rows is the size of each version of the list.
	Rows int
	// Endpoint and Table locate the Index table (see StartIndexTable).
	Endpoint, Table string
	// Writers is indexstore.Store.Writers (below 1: the default).
	Writers int
	// GOGC is the child's GOGC, as IndexFunction's environment sets it
	// (FunctionGOGC); empty leaves the runtime's default.
	GOGC string
}

// FunctionGOGC returns the GOGC IndexFunction's environment sets in root's
// template.yaml, or "" if it sets none: the children measure the memory of
// the function as deployed, its collector's setting included.
func FunctionGOGC(root string) (string, error) {
	t, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return "", err
	}
	for _, f := range t.Functions() {
		if f.LogicalID == "IndexFunction" {
			v, _ := f.Environment["GOGC"].(string)
			return v, nil
		}
	}
	return "", errors.New("benchmarks: no IndexFunction in template.yaml")
}

// childReport is the line a child prints, and its parent parses.
const childReport = "records %d entries %d gogc %d peak_rss_kib %d\n"

// ChildIndex is the child's work: it creates, replaces and removes a
// generated list of job.Rows records per version (ListIndexer) and writes
// "records N entries E gogc G peak_rss_kib K" to out: the rows of each
// version, the entries of both, the collector's setting and its peak RSS. It fails if indexing does, or if
// the peak cannot be read.
func ChildIndex(ctx context.Context, job ChildJob, out io.Writer) error {
	l := NewListIndexer(job.Endpoint, job.Table, job.Writers)
	// Children share the table: each has a key of its own.
	key := fmt.Sprintf("campaigns/rss/list-%d-%d.csv", job.Rows, os.Getpid())
	first, _, err := l.Put(ctx, key, job.Rows, 1)
	if err != nil {
		return fmt.Errorf("child index: %w", err)
	}
	second, _, err := l.Put(ctx, key, job.Rows, 2)
	if err != nil {
		return fmt.Errorf("child index: replace: %w", err)
	}
	if _, err := l.Remove(ctx, key); err != nil {
		return fmt.Errorf("child index: remove: %w", err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return fmt.Errorf("child index: %w", err)
	}
	peak, err := VmHWM(status)
	if err != nil {
		return fmt.Errorf("child index: %w", err)
	}
	// SetGCPercent returns the setting the child ran with; it is put back.
	gogc := debug.SetGCPercent(100)
	debug.SetGCPercent(gogc)
	_, err = fmt.Fprintf(out, childReport, job.Rows, first.Entries+second.Entries, gogc, peak)
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

// rssSlackKiB is how far a child's VmHWM may exceed its ru_maxrss: the
// kernel sums its per-CPU RSS counters exactly for /proc but
// approximately at exit, so the two differ by a few pages either way.
const rssSlackKiB = 1024

// ChildCommand returns the command that runs ChildIndex over job in a new
// process.
type ChildCommand func(job ChildJob) *exec.Cmd

// ChildPeakRSS runs one child over job, with job.GOGC in its environment,
// and returns its peak RSS in KiB and the entries it wrote. It fails if the
// child fails, does not report job.Rows records and job.GOGC, or reports a
// peak above its ru_maxrss.
func ChildPeakRSS(child ChildCommand, job ChildJob) (peakKiB, entries int64, err error) {
	cmd := child(job)
	wantGOGC := 100
	if job.GOGC != "" {
		if wantGOGC, err = strconv.Atoi(job.GOGC); err != nil {
			return 0, 0, fmt.Errorf("index child: GOGC %q: %w", job.GOGC, err)
		}
		cmd.Env = append(cmd.Environ(), "GOGC="+job.GOGC)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("index child over %d rows: %w (stderr: %s)", job.Rows, err, bytes.TrimSpace(errOut.Bytes()))
	}
	var n, gogc int64
	if _, err := fmt.Sscanf(out.String(), childReport, &n, &entries, &gogc, &peakKiB); err != nil || n != int64(job.Rows) || gogc != int64(wantGOGC) || peakKiB <= 0 {
		return 0, 0, fmt.Errorf("index child over %d rows printed %q, want records %d, gogc %d and a positive peak", job.Rows, out.String(), job.Rows, wantGOGC)
	}
	maxRSS, err := PeakRSSKiB(cmd.ProcessState)
	if err != nil {
		return 0, 0, err
	}
	if peakKiB > maxRSS+rssSlackKiB {
		return 0, 0, fmt.Errorf("index child over %d rows: VmHWM %d KiB above ru_maxrss %d KiB", job.Rows, peakKiB, maxRSS)
	}
	return peakKiB, entries, nil
}
