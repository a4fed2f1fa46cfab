package benchmarks

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// figureNames is every figure `make bench` prints, as the issue names them.
var figureNames = []string{
	"index_floor_ratio", "index_cp1252_ratio", "index_rss_growth", "search_latency_growth", "search_vs_scan_speedup",
	"index_apply_rows_per_sec_utf8", "index_apply_rows_per_sec_cp1252",
	"search_p50_ms_10k", "search_p99_ms_10k", "search_p50_ms_1m", "search_p99_ms_1m",
	"index_items_written_per_sec_dynalite", "index_entries_per_s_dynalite", "index_writers",
	"index_large_list_chunks", "index_large_list_ratio",
	"index_peak_rss_mib_baseline", "index_peak_rss_mib_1x", "index_peak_rss_mib_10x",
	"index_rows_per_sec_1core", "index_mb_per_sec_1core", "index_rows_per_sec_allcores", "index_mb_per_sec_allcores",
	"floor_rows_per_sec_1core",
	"sfn_executions_per_sec_10state", "sfn_bytes_per_idle_waiting_execution",
	"export_rows_per_s_csv", "export_rows_per_s_json", "export_rows_per_s_pdf",
	"export_peak_rss_mib_csv", "export_peak_rss_mib_json", "export_peak_rss_mib_pdf",
	"export_peak_rss_mib_all_1x", "export_peak_rss_mib_all_10x", "export_rss_growth",
	"rewrite_mb_per_s", "rewrite_peak_rss_mib_1x", "rewrite_peak_rss_mib_10x", "rewrite_rss_growth",
	"erase_seconds", "scan_rewrite_seconds", "erase_cost_ratio",
}

// TestQuickRun runs veil-bench -quick, local stack and child processes
// included, and checks that every figure is printed once as a positive
// plain number and that the goals line ends the output. It checks no
// figure's value: tiny sizes measure nothing.
func TestQuickRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	if code := Main(ctx, []string{"-quick"}, &out, &log); code != 0 {
		t.Fatalf("veil-bench -quick exit status = %d, want 0; stderr:\n%s", code, log.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	figures := map[string]float64{}
	plain := regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	for _, line := range lines[:len(lines)-1] {
		name, value, ok := strings.Cut(line, " ")
		if !ok || !plain.MatchString(value) {
			t.Fatalf("line %q, want `name value` with a plain number", line)
		}
		if _, dup := figures[name]; dup {
			t.Fatalf("figure %s printed twice", name)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		figures[name] = v
	}
	for _, name := range figureNames {
		v, ok := figures[name]
		if !ok {
			t.Fatalf("figure %s missing from:\n%s", name, out.String())
		}
		if v <= 0 {
			t.Fatalf("figure %s = %v, want a positive number", name, v)
		}
	}
	if last := lines[len(lines)-1]; !regexp.MustCompile(`^goals_met [0-9]/9$`).MatchString(last) {
		t.Fatalf("last line = %q, want goals_met N/9", last)
	}
	for _, g := range Goals {
		if !regexp.MustCompile(`(?m)^goal ` + regexp.QuoteMeta(g.String()) + `: (ok|MISSED) `).MatchString(log.String()) {
			t.Fatalf("stderr has no ok/MISSED note for %s:\n%s", g, log.String())
		}
	}
}

// TestOnly runs veil-bench -quick -only erase: the erase figures alone,
// then their one goal; and -only of no group is a usage error.
func TestOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	if code := Main(ctx, []string{"-quick", "-only", "erase"}, &out, &log); code != 0 {
		t.Fatalf("veil-bench -quick -only erase exit status = %d, want 0; stderr:\n%s", code, log.String())
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		name, _, _ := strings.Cut(line, " ")
		names = append(names, name)
	}
	if got, want := strings.Join(names, " "), "erase_seconds scan_rewrite_seconds erase_cost_ratio goals_met"; got != want {
		t.Fatalf("lines = %s, want %s:\n%s", got, want, out.String())
	}
	if !regexp.MustCompile(`(?m)^goals_met [01]/1$`).MatchString(out.String()) {
		t.Fatalf("output %q, want goals_met N/1", out.String())
	}
	if code := Main(ctx, []string{"-quick", "-only", "nothing"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("veil-bench -only nothing exit status = %d, want 2", code)
	}
}
