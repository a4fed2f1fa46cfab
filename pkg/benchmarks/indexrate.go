package benchmarks

// Indexing throughput of the index function's own entry point,
// indexing.Service.Apply (ApplyRate): against its floor on one core (the
// figure of record), and on every core, each goroutine applying its own
// change over the same bytes.

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// benchSecret keys the identifiers of the throughput runs.
var benchSecret = []byte("veil-bench-secret-0123456789abcdef")

// OneCore is what MeasureOneCore measured.
type OneCore struct {
	ApplyRowsPerSec, FloorRowsPerSec float64
}

// MeasureOneCore generates a lead list of rows records and returns the
// records per second of ApplyRate and of Floor over it, each the best of
// runs alternating runs, with GOMAXPROCS=1 (restored after). The
// index_floor_ratio is Apply's rate over the floor's. It fails if rows or
// runs is below 1, or a run fails.
func MeasureOneCore(rows, runs int) (OneCore, error) {
	if rows < 1 || runs < 1 {
		return OneCore{}, fmt.Errorf("benchmarks: %d rows, %d runs; want at least 1 of each", rows, runs)
	}
	data, err := GenerateFile(rows)
	if err != nil {
		return OneCore{}, err
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	var one OneCore
	for range runs {
		runtime.GC() // neither run pays for the other's garbage
		start := time.Now()
		n, _, err := Floor(bytes.NewReader(data), benchSecret, floorColumns)
		if err != nil {
			return OneCore{}, fmt.Errorf("benchmarks: floor: %w", err)
		}
		if n != rows {
			return OneCore{}, fmt.Errorf("benchmarks: floor read %d records, want %d", n, rows)
		}
		f, err := PerSecond(float64(n), time.Since(start))
		if err != nil {
			return OneCore{}, err
		}
		runtime.GC()
		a, err := ApplyRate(data, rows)
		if err != nil {
			return OneCore{}, err
		}
		one.FloorRowsPerSec, one.ApplyRowsPerSec = max(one.FloorRowsPerSec, f), max(one.ApplyRowsPerSec, a)
	}
	return one, nil
}

// GenerateFile returns the lead list the indexing figures index (rows
// records, seed 1), held in memory.
func GenerateFile(rows int) ([]byte, error) {
	var data bytes.Buffer
	if err := GenerateLeads(&data, rows, 1); err != nil {
		return nil, err
	}
	return data.Bytes(), nil
}

// ConcurrentRate runs ApplyRate over data on n goroutines at once, each
// applying its own change, runs times, and returns the best total records
// per second and bytes per second. It fails if an Apply fails or indexes
// another number of records than wantRows.
func ConcurrentRate(data []byte, wantRows, n, runs int) (rowsPerSec, bytesPerSec float64, err error) {
	if n < 1 || runs < 1 {
		return 0, 0, fmt.Errorf("benchmarks: %d goroutines, %d runs; want at least 1 of each", n, runs)
	}
	for range runs {
		runtime.GC()
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := time.Now()
		for g := range n {
			wg.Go(func() {
				_, errs[g] = ApplyRate(data, wantRows)
			})
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
