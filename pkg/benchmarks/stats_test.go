package benchmarks

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Millisecond // descending: Percentile must sort
	}
	for _, tc := range []struct {
		name string
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		{"p1 of 1..100", hundred, 1, time.Millisecond},
		{"one sample", []time.Duration{7}, 99, 7},
		{"p99 of 10 is the max", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
		{"p50 of 4 is the 2nd", []time.Duration{4, 1, 3, 2}, 50, 2},
		{"tiny p is the min", []time.Duration{3, 1, 2}, 0.001, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.ds)
			got, err := Percentile(tc.ds, tc.p)
			if err != nil || got != tc.want {
				t.Fatalf("Percentile(p%v) = %v, %v; want %v", tc.p, got, err, tc.want)
			}
			if !slices.Equal(tc.ds, before) {
				t.Fatalf("Percentile reordered its input")
			}
		})
	}
	if _, err := Percentile(nil, 50); !errors.Is(err, ErrNoSamples) {
		t.Fatalf("Percentile(nil) error = %v, want ErrNoSamples", err)
	}
	for _, p := range []float64{0, -1, 100.5, math.NaN()} {
		if _, err := Percentile(hundred, p); err == nil {
			t.Fatalf("Percentile(p%v) error = nil, want an error", p)
		}
	}
	if got, err := Median([]time.Duration{5, 1, 9}); err != nil || got != 5 {
		t.Fatalf("Median = %v, %v; want 5", got, err)
	}
}

func TestRatio(t *testing.T) {
	for _, tc := range []struct {
		num, den, want float64
		ok             bool
	}{
		{3, 2, 1.5, true},
		{412345, 687241, 412345.0 / 687241, true},
		{1, 0, 0, false},
		{0, 1, 0, false},
		{-1, 2, 0, false},
		{math.Inf(1), 1, 0, false},
		{1, math.Inf(1), 0, false},
		{math.NaN(), 1, 0, false},
	} {
		got, err := Ratio(tc.num, tc.den)
		if (err == nil) != tc.ok || got != tc.want {
			t.Fatalf("Ratio(%v, %v) = %v, %v; want %v (ok %v)", tc.num, tc.den, got, err, tc.want, tc.ok)
		}
	}
}

func TestPerSecond(t *testing.T) {
	if got, err := PerSecond(1000, 2*time.Second); err != nil || got != 500 {
		t.Fatalf("PerSecond(1000, 2s) = %v, %v; want 500", got, err)
	}
	if got, err := PerSecond(3, 1500*time.Millisecond); err != nil || got != 2 {
		t.Fatalf("PerSecond(3, 1.5s) = %v, %v; want 2", got, err)
	}
	for _, tc := range []struct {
		n float64
		d time.Duration
	}{{0, time.Second}, {10, 0}, {10, -time.Second}} {
		if _, err := PerSecond(tc.n, tc.d); err == nil {
			t.Fatalf("PerSecond(%v, %v) error = nil, want an error", tc.n, tc.d)
		}
	}
}

func TestUnits(t *testing.T) {
	if got := Milliseconds(1500 * time.Microsecond); got != 1.5 {
		t.Fatalf("Milliseconds(1.5ms) = %v, want 1.5", got)
	}
	if got := MB(2_500_000); got != 2.5 {
		t.Fatalf("MB(2.5e6) = %v, want 2.5", got)
	}
	if got := HeapGrowth(100, 164); got != 64 {
		t.Fatalf("HeapGrowth(100, 164) = %v, want 64", got)
	}
	if got := HeapGrowth(164, 100); got != 0 {
		t.Fatalf("HeapGrowth(164, 100) = %v, want 0", got)
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{412345.4, "412345"},
		{1e7, "10000000"},
		{1234.5, "1235"},
		{999.5, "999.5"},
		{0.62271, "0.6227"},
		{1, "1"},
		{99.99999, "100"},
		{0.00004, "0"},
	} {
		if got := FormatValue(tc.v); got != tc.want {
			t.Fatalf("FormatValue(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestGoals(t *testing.T) {
	for _, tc := range []struct {
		g    Goal
		v    float64
		want bool
	}{
		{Goal{"f", true, 0.6}, 0.6, true},
		{Goal{"f", true, 0.6}, 0.59, false},
		{Goal{"f", false, 1.2}, 1.2, true},
		{Goal{"f", false, 1.2}, 1.21, false},
	} {
		if got := tc.g.Met(tc.v); got != tc.want {
			t.Fatalf("%s Met(%v) = %v, want %v", tc.g, tc.v, got, tc.want)
		}
	}
	if got, want := Goals[0].String(), "index_floor_ratio >= 0.6"; got != want {
		t.Fatalf("Goals[0] = %q, want %q", got, want)
	}
	if got, want := Goals[1].String(), "index_cp1252_ratio >= 0.8"; got != want {
		t.Fatalf("Goals[1] = %q, want %q", got, want)
	}
	if len(Goals) != 9 {
		t.Fatalf("len(Goals) = %d, want the issues' 9", len(Goals))
	}
}
