package benchmarks

// Indexing throughput: the pipeline against its floor on one core (the
// figure of record, from pkg/identifiers/bench), and the pipeline on every
// core, each goroutine indexing its own reader over the same bytes.

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers/bench"
)

// benchSecret keys the identifiers of the throughput runs.
var benchSecret = []byte("veil-bench-secret-0123456789abcdef")

// OneCore is what MeasureOneCore measured.
type OneCore struct {
	PipelineRowsPerSec, FloorRowsPerSec float64
}

// MeasureOneCore runs bench.MeasureIndexFloorRatio over rows records with
// GOMAXPROCS=1, restoring the setting after. It fails as that does.
func MeasureOneCore(rows int) (OneCore, error) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	p, f, err := bench.MeasureIndexFloorRatio(rows)
	if err != nil {
		return OneCore{}, err
	}
	return OneCore{PipelineRowsPerSec: p, FloorRowsPerSec: f}, nil
}

// GenerateFile returns the lead list bench.MeasureIndexFloorRatio indexes
// (rows records, seed 1), for the figures that need its bytes.
func GenerateFile(rows int) ([]byte, error) {
	var data bytes.Buffer
	if err := bench.GenerateLeads(&data, rows, 1); err != nil {
		return nil, err
	}
	return data.Bytes(), nil
}

// ConcurrentRate runs bench.Pipeline over data on n goroutines at once,
// each with its own reader, runs times, and returns the best total records
// per second and bytes per second. It fails if a pipeline fails or counts
// a different number of records than wantRows.
func ConcurrentRate(data []byte, wantRows, n, runs int) (rowsPerSec, bytesPerSec float64, err error) {
	if n < 1 || runs < 1 {
		return 0, 0, fmt.Errorf("benchmarks: %d goroutines, %d runs; want at least 1 of each", n, runs)
	}
	for range runs {
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := time.Now()
		for g := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rows, _, err := bench.Pipeline(bytes.NewReader(data), benchSecret)
				if err == nil && rows != wantRows {
					err = fmt.Errorf("pipeline indexed %d records, want %d", rows, wantRows)
				}
				errs[g] = err
			}()
		}
		wg.Wait()
		d := time.Since(start)
		for _, err := range errs {
			if err != nil {
				return 0, 0, err
			}
		}
		r, err := PerSecond(float64(n*wantRows), d)
		if err != nil {
			return 0, 0, err
		}
		b, err := PerSecond(float64(n*len(data)), d)
		if err != nil {
			return 0, 0, err
		}
		rowsPerSec, bytesPerSec = max(rowsPerSec, r), max(bytesPerSec, b)
	}
	return rowsPerSec, bytesPerSec, nil
}
