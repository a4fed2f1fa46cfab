package benchmarks

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
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

func TestChildIndex(t *testing.T) {
	var out bytes.Buffer
	if err := ChildIndex(500, &out); err != nil {
		t.Fatalf("ChildIndex error = %v", err)
	}
	var n, peak int64
	if _, err := fmt.Sscanf(out.String(), "records %d peak_rss_kib %d\n", &n, &peak); err != nil || n != 500 || peak <= 0 {
		t.Fatalf("ChildIndex printed %q (%v), want records 500 and a positive peak", out.String(), err)
	}
}

// TestChildPeakRSS runs the index child as veil-bench does, re-executing
// this binary with the hidden flag, after this process peaked far above
// what the child needs: the child's peak must be its own, not this
// process's high-water mark that ru_maxrss would carry over.
func TestChildPeakRSS(t *testing.T) {
	const parentMiB = 256
	b := make([]byte, parentMiB<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	runtime.KeepAlive(b)
	child := func(rows int) *exec.Cmd { return exec.Command(os.Args[0], "-"+childFlag, strconv.Itoa(rows)) }
	got, err := ChildPeakRSS(child, 300)
	if err != nil || got <= 0 || got >= parentMiB*1024 {
		t.Fatalf("ChildPeakRSS = %d KiB, %v; want a positive size below this process's %d MiB", got, err, parentMiB)
	}
	wrong := func(rows int) *exec.Cmd { return child(rows + 1) }
	if _, err := ChildPeakRSS(wrong, 300); err == nil {
		t.Fatalf("ChildPeakRSS of a child indexing another count: error = nil, want an error")
	}
}
