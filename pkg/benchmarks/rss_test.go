package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestPeakRSSKiB reads the peak RSS of a child that touches 64 MiB: in KiB
// it is at least 64×1024 and far below what bytes would read as (or above
// what pages would).
func TestPeakRSSKiB(t *testing.T) {
	const mib = 64
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), touchEnv+"="+strconv.Itoa(mib))
	if err := cmd.Run(); err != nil {
		t.Fatalf("toucher: %v", err)
	}
	got, err := PeakRSSKiB(cmd.ProcessState)
	if err != nil {
		t.Fatalf("PeakRSSKiB error = %v", err)
	}
	if got < mib*1024 || got > 1<<20 {
		t.Fatalf("PeakRSSKiB = %d, want between %d (64 MiB) and %d (1 GiB)", got, mib*1024, 1<<20)
	}
	if _, err := PeakRSSKiB(nil); err == nil {
		t.Fatalf("PeakRSSKiB(nil) error = nil, want an error")
	}
}

func TestVmHWM(t *testing.T) {
	for _, tc := range []struct {
		name, status string
		want         int64
		ok           bool
	}{
		{"linux status", "Name:\tveil-bench\nVmPeak:\t  812340 kB\nVmHWM:\t   23456 kB\nVmRSS:\t   20000 kB\n", 23456, true},
		{"last line without newline", "VmRSS:\t 1 kB\nVmHWM:\t 77 kB", 77, true},
		{"missing", "Name:\tx\nVmRSS:\t 1 kB\n", 0, false},
		{"other unit", "VmHWM:\t 77 MB\n", 0, false},
		{"not a number", "VmHWM:\t lots kB\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := VmHWM([]byte(tc.status))
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("VmHWM = %d, %v; want %d (ok %v)", got, err, tc.want, tc.ok)
			}
		})
	}
}

// TestVmHWMOfSelf: this process's own peak is at least what it holds now.
func TestVmHWMOfSelf(t *testing.T) {
	b := make([]byte, 32<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	got, err := VmHWM(status)
	if err != nil || got < 32*1024 {
		t.Fatalf("VmHWM of self = %d, %v; want at least %d (32 MiB)", got, err, 32*1024)
	}
	runtime.KeepAlive(b)
}

// startTable starts an Index table on dynalite for the test.
func startTable(t *testing.T) *IndexTable {
	t.Helper()
	root, err := findRoot("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	table, err := StartIndexTable(ctx, root)
	if err != nil {
		t.Fatalf("StartIndexTable error = %v", err)
	}
	t.Cleanup(table.Close)
	return table
}

func TestChildIndex(t *testing.T) {
	table := startTable(t)
	var out bytes.Buffer
	job := ChildJob{Rows: 500, Endpoint: table.Endpoint, Table: table.Table, Writers: 2}
	if err := ChildIndex(context.Background(), job, &out); err != nil {
		t.Fatalf("ChildIndex error = %v", err)
	}
	var n, entries, gogc, peak int64
	if _, err := fmt.Sscanf(out.String(), childReport, &n, &entries, &gogc, &peak); err != nil || n != 500 || gogc <= 0 || peak <= 0 {
		t.Fatalf("ChildIndex printed %q (%v), want records 500, its GOGC and a positive peak", out.String(), err)
	}
	// Two versions of about four identifiers a row.
	if entries < 2*500*3 || entries > 2*500*4 {
		t.Fatalf("ChildIndex wrote %d entries, want between %d and %d", entries, 2*500*3, 2*500*4)
	}
}

// TestListIndexer creates, replaces and removes a generated list on
// dynalite: each version is indexed whole, the replaced version's entries
// go, and a removed key keeps none (Remove checks).
func TestListIndexer(t *testing.T) {
	table := startTable(t)
	ctx := context.Background()
	l := NewListIndexer(table.Endpoint, table.Table, 0)
	if got, want := l.Writers(), 4; got != want {
		t.Fatalf("Writers = %d, want the store's default %d", got, want)
	}
	first, d, err := l.Put(ctx, "campaigns/t/list.csv", 300, 1)
	if err != nil || d <= 0 || first.Entries == 0 {
		t.Fatalf("Put = %+v, %v, %v; want an indexed list with entries", first, d, err)
	}
	second, _, err := l.Put(ctx, "campaigns/t/list.csv", 300, 2)
	if err != nil || second.VersionID == first.VersionID {
		t.Fatalf("Put of a second version = %+v, %v; want another version indexed", second, err)
	}
	// Only the second version's entries are left. A rule that keeps every
	// entry deletes none and sees them all.
	versions := map[string]int64{}
	if _, err := l.store.DeleteEntries(ctx, generatedBucket, "campaigns/t/list.csv", func(context.Context) (func(string, string) bool, error) {
		return func(v, _ string) bool { versions[v]++; return true }, nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{second.VersionID: second.Entries}; !maps.Equal(versions, want) {
		t.Fatalf("entries by version = %v, want %v", versions, want)
	}
	if _, err := l.Remove(ctx, "campaigns/t/list.csv"); err != nil {
		t.Fatalf("Remove error = %v", err)
	}
	if _, _, err := l.Put(ctx, "campaigns/t/other.csv", 0, 1); err == nil {
		t.Fatalf("Put of a header-only list: error = nil, want an error")
	}
}

// TestChildPeakRSS runs the index child as veil-bench does, re-executing
// this binary with the hidden flags, after this process peaked far above
// what the child needs: the child's peak must be its own, not this
// process's high-water mark that ru_maxrss would carry over.
func TestChildPeakRSS(t *testing.T) {
	table := startTable(t)
	const parentMiB = 256
	b := make([]byte, parentMiB<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	runtime.KeepAlive(b)
	child := func(job ChildJob) *exec.Cmd { return exec.Command(os.Args[0], job.args()...) }
	job := ChildJob{Rows: 300, Endpoint: table.Endpoint, Table: table.Table}
	got, entries, err := ChildPeakRSS(child, job)
	if err != nil || got <= 0 || got >= parentMiB*1024 || entries <= 0 {
		t.Fatalf("ChildPeakRSS = %d KiB, %d entries, %v; want a positive size below this process's %d MiB", got, entries, err, parentMiB)
	}
	wrong := func(job ChildJob) *exec.Cmd {
		job.Rows++
		return child(job)
	}
	if _, _, err := ChildPeakRSS(wrong, job); err == nil {
		t.Fatalf("ChildPeakRSS of a child indexing another count: error = nil, want an error")
	}
	// The child runs with the function's collector setting, and says so.
	job.GOGC = "250"
	if _, _, err := ChildPeakRSS(child, job); err != nil {
		t.Fatalf("ChildPeakRSS with GOGC 250: %v", err)
	}
	// env(1) sets GOGC over the one ChildPeakRSS passes: the child's word
	// that it ran with another setting fails the measurement.
	other := func(job ChildJob) *exec.Cmd {
		return exec.Command("env", append([]string{"GOGC=300", os.Args[0]}, job.args()...)...)
	}
	if _, _, err := ChildPeakRSS(other, job); err == nil {
		t.Fatalf("ChildPeakRSS of a child run with GOGC 300, not 250: error = nil, want an error")
	}
}

// The children measure IndexFunction as deployed: with its GOGC.
func TestFunctionGOGC(t *testing.T) {
	got, err := FunctionGOGC("../..")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := strconv.Atoi(got); err != nil || n < 100 {
		t.Fatalf("IndexFunction's GOGC = %q, want a setting of at least 100", got)
	}
	if _, err := FunctionGOGC(t.TempDir()); err == nil {
		t.Fatalf("FunctionGOGC of a directory without template.yaml: error = nil, want an error")
	}
}
