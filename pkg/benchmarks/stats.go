package benchmarks

// The arithmetic of the figures: percentiles, rates and ratios, each
// refusing the inputs that would print a meaningless number.

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ErrNoSamples is returned by Percentile and Median for an empty sample.
var ErrNoSamples = errors.New("benchmarks: no samples")

// Percentile returns the p-th percentile (0 < p <= 100) of ds by the
// nearest-rank method: the smallest sample with at least p% of the samples
// at or below it. ds is not modified. It fails with ErrNoSamples or for p
// out of range.
func Percentile(ds []time.Duration, p float64) (time.Duration, error) {
	if len(ds) == 0 {
		return 0, ErrNoSamples
	}
	if !(p > 0 && p <= 100) {
		return 0, fmt.Errorf("benchmarks: percentile %v, want 0 < p <= 100", p)
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1], nil
}

// Median returns the 50th percentile of ds; it fails with ErrNoSamples.
func Median(ds []time.Duration) (time.Duration, error) { return Percentile(ds, 50) }

// Ratio returns num/den; it fails unless both are positive and finite, so
// that a broken measurement never passes for a ratio.
func Ratio(num, den float64) (float64, error) {
	if !(num > 0 && den > 0) || math.IsInf(num, 0) || math.IsInf(den, 0) {
		return 0, fmt.Errorf("benchmarks: ratio %v / %v, want both positive and finite", num, den)
	}
	return num / den, nil
}

// PerSecond returns n per second over d; it fails for n < 1 or d <= 0.
func PerSecond(n float64, d time.Duration) (float64, error) {
	if n < 1 || d <= 0 {
		return 0, fmt.Errorf("benchmarks: rate of %v in %v, want n >= 1 and a positive duration", n, d)
	}
	return n / d.Seconds(), nil
}

// Milliseconds returns d in milliseconds, fractions kept.
func Milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MiB is bytes in mebibytes.
func MiB(bytes float64) float64 { return bytes / (1 << 20) }

// MB is bytes in megabytes (10^6 bytes).
func MB(bytes float64) float64 { return bytes / 1e6 }
