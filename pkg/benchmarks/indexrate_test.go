package benchmarks

import (
	"flag"
	"runtime"
	"testing"
)

var benchRows = flag.Int("rows", 1_000_000, "records in the generated lead list of BenchmarkIndexFloorRatio and BenchmarkApply")

func TestConcurrentRate(t *testing.T) {
	data, err := GenerateFile(400)
	if err != nil {
		t.Fatal(err)
	}
	rows, bytes, err := ConcurrentRate(data, 400, 2, 1)
	if err != nil || rows <= 0 || bytes <= 0 {
		t.Fatalf("ConcurrentRate = %v rows/s, %v B/s, %v; want positive rates", rows, bytes, err)
	}
	// Bytes per row is the file's, whatever the speed.
	if got, want := bytes/rows, float64(len(data))/400; got < want*0.999 || got > want*1.001 {
		t.Fatalf("bytes/rows = %v, want %v", got, want)
	}
	if _, _, err := ConcurrentRate(data, 401, 2, 1); err == nil {
		t.Fatalf("ConcurrentRate with the wrong row count: error = nil, want an error")
	}
	if _, _, err := ConcurrentRate(data, 400, 0, 1); err == nil {
		t.Fatalf("ConcurrentRate on 0 goroutines: error = nil, want an error")
	}
}

func TestMeasureOneCoreRestoresGOMAXPROCS(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	one, err := MeasureOneCore(300, 2)
	if err != nil || one.ApplyRowsPerSec <= 0 || one.FloorRowsPerSec <= 0 {
		t.Fatalf("MeasureOneCore = %+v, %v; want positive rates", one, err)
	}
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Fatalf("GOMAXPROCS after = %d, want %d", got, before)
	}
	if _, err := MeasureOneCore(0, 1); err == nil {
		t.Fatalf("MeasureOneCore(0 rows) error = nil, want an error")
	}
}

// BenchmarkIndexFloorRatio reports the records/s of indexing.Service.Apply
// and of its floor over a generated list of -rows records (default one
// million), and their ratio, as `make bench` measures index_floor_ratio.
// Run with -benchtime=1x.
func BenchmarkIndexFloorRatio(b *testing.B) {
	for b.Loop() {
		one, err := MeasureOneCore(*benchRows, 3)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(one.ApplyRowsPerSec, "apply_rows/s")
		b.ReportMetric(one.FloorRowsPerSec, "floor_rows/s")
		b.ReportMetric(one.ApplyRowsPerSec/one.FloorRowsPerSec, "index_floor_ratio")
	}
}

// BenchmarkApply indexes a generated list of -rows records through
// indexing.Service.Apply with a store that discards entries, for profiles
// of the production path: go test -run '^$' -bench Apply -cpu 1
// -rows 200000 -cpuprofile cpu.prof ./pkg/benchmarks.
func BenchmarkApply(b *testing.B) {
	data, err := GenerateFile(*benchRows)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ApplyRate(data, *benchRows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(*benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
