package benchmarks

import (
	"runtime"
	"testing"
)

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
	one, err := MeasureOneCore(300)
	if err != nil || one.PipelineRowsPerSec <= 0 || one.FloorRowsPerSec <= 0 {
		t.Fatalf("MeasureOneCore = %+v, %v; want positive rates", one, err)
	}
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Fatalf("GOMAXPROCS after = %d, want %d", got, before)
	}
}
