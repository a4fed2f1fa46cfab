// Package benchmarks measures what `make bench` reports: indexing
// throughput against its floor, indexing memory as lists grow, search
// latency as the index grows and against a scan of the bucket, all on the
// local stack, the Step Functions interpreter, export and rewrite, and the
// cost of an erasure against rewriting every list. Every ratio is measured
// side by side in one run, so that the machine's speed cancels out.
package benchmarks

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"
)

// Config sizes a run.
type Config struct {
	// Root is the repository root the local stack starts from.
	Root string
	// Rows is the size of the generated list of the indexing figures
	// (index_floor_ratio is of record at one million or more).
	Rows int
	// AllCoreRuns is how many times the all-core run repeats (best kept).
	AllCoreRuns int
	// RSSRows is the smaller list of index_rss_growth; the larger one has
	// ten times as many records. RSSRuns children index the smaller list,
	// and as many the baseline list, the median peak kept.
	RSSRows, RSSRuns int
	// Child starts a process running ChildIndex (index_rss_growth).
	Child ChildCommand
	// DynaliteRows is the list index_entries_per_s_dynalite indexes.
	DynaliteRows int
	// LargeChunkRows is the chunk-sized list of index_large_list_ratio;
	// the large list has ten times as many records.
	LargeChunkRows int
	// CorpusRows records in CorpusFiles lists make the search corpus.
	CorpusRows, CorpusFiles int
	// Consumers known consumers have rows in the corpus.
	Consumers int
	// Entries is the size of the large index; the small one holds 1%.
	Entries int
	// Writers is how many BatchWriteItem calls the store keeps in flight
	// (indexstore.Store.Writers) when it indexes on dynalite and loads the
	// search index.
	Writers int
	// Searches is how many searches each latency percentile is taken
	// over; Warmup searches run before each set, untimed.
	Searches, Warmup int
	// ScanRuns scans and ScanSearches searches time one consumer's lookup.
	ScanRuns, ScanSearches int
	// SFNExecutions and SFNWaiting size the Step Functions figures.
	SFNExecutions, SFNWaiting int
	// ExportRecords is the export of the export figures; export_rss_growth
	// also writes ten times as many. ExportChild starts a process running
	// ChildExport.
	ExportRecords int
	ExportChild   ExportCommand
	// RewriteMB is the list of rewrite_mb_per_s; rewrite_rss_growth also
	// rewrites one ten times its size. RewriteChild starts a process
	// running ChildRewrite.
	RewriteMB    int
	RewriteChild RewriteCommand
	// EraseObjects lists of EraseObjectKB kilobytes (1000 bytes) each are
	// erase_cost_ratio's bucket; the consumer is in three of them.
	EraseObjects, EraseObjectKB int
	// Only, when set, names the one group of figures to measure (Groups);
	// only its goals are reported.
	Only string
	// Log receives progress notes.
	Log io.Writer

	started time.Time // when Run started, for the notes
}

// DefaultConfig is the run of record.
func DefaultConfig() Config {
	return Config{
		Rows: 1_000_000, AllCoreRuns: 3, RSSRows: 1500, RSSRuns: 5, DynaliteRows: 10_000, LargeChunkRows: 2000,
		CorpusRows: 1_000_000, CorpusFiles: 10, Consumers: 50,
		Entries: 1_000_000, Writers: 4, Searches: 2000, Warmup: 200,
		ScanRuns: 3, ScanSearches: 51,
		SFNExecutions: 20_000, SFNWaiting: 10_000,
		ExportRecords: 10_000, RewriteMB: 10,
		EraseObjects: 100, EraseObjectKB: 10_000,
	}
}

// QuickConfig is a smoke run with tiny sizes: every figure, none of them
// meaningful.
func QuickConfig() Config {
	return Config{
		Rows: 3000, AllCoreRuns: 1, RSSRows: 500, RSSRuns: 1, DynaliteRows: 300, LargeChunkRows: 100,
		CorpusRows: 2000, CorpusFiles: 2, Consumers: 4,
		Entries: 1500, Writers: 4, Searches: 20, Warmup: 2,
		ScanRuns: 1, ScanSearches: 3,
		SFNExecutions: 200, SFNWaiting: 200,
		ExportRecords: 200, RewriteMB: 1,
		EraseObjects: 10, EraseObjectKB: 100,
	}
}

// group is a set of figures measured together.
type group struct {
	name    string
	measure func(context.Context, Config, *Report) error
}

// groups are every figure, in the order Run measures them.
var groups = []group{
	{"index", indexFigures}, {"store", storeFigures}, {"sfn", stepFunctionFigures}, {"search", searchFigures},
	{"export", func(_ context.Context, cfg Config, r *Report) error { return exportFigures(cfg, r) }},
	{"rewrite", func(_ context.Context, cfg Config, r *Report) error { return rewriteFigures(cfg, r) }},
	{"erase", eraseFigures},
}

// Groups returns the names Config.Only takes, in the order Run measures
// them.
func Groups() []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g.name
	}
	return out
}

// Run measures every figure in turn (cfg.Only's group alone, when set),
// adding each to r as it is measured, then reports the goals:
// `goals_met N/len(Goals)` (of cfg.Only's goals) to r's output and one note
// per goal to cfg.Log. A missed goal is not an error; a failed measurement
// is, and so is an Only naming no group.
func Run(ctx context.Context, cfg Config, r *Report) error {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	cfg.started = time.Now()
	if cfg.Only != "" && !slices.Contains(Groups(), cfg.Only) {
		return fmt.Errorf("no group of figures %q (one of %v)", cfg.Only, Groups())
	}
	for _, g := range groups {
		if cfg.Only != "" && g.name != cfg.Only {
			continue
		}
		if err := g.measure(ctx, cfg, r); err != nil {
			return err
		}
	}
	met, goals := 0, 0
	for _, g := range Goals {
		v, ok := r.Value(g.Figure)
		if !ok && cfg.Only != "" {
			continue
		}
		goals++
		switch {
		case !ok:
			return fmt.Errorf("goal %s: figure not measured", g)
		case g.Met(v):
			met++
			fmt.Fprintf(cfg.Log, "goal %s: ok (%s)\n", g, FormatValue(v))
		default:
			fmt.Fprintf(cfg.Log, "goal %s: MISSED (%s)\n", g, FormatValue(v))
		}
	}
	_, err := fmt.Fprintf(r.out, "goals_met %d/%d\n", met, goals)
	return err
}

// logf writes a progress note, with the time since Run started.
func logf(cfg Config, format string, args ...any) {
	at := ""
	if !cfg.started.IsZero() {
		at = fmt.Sprintf("[%s] ", time.Since(cfg.started).Round(time.Second))
	}
	fmt.Fprintf(cfg.Log, "# "+at+format+"\n", args...)
}

// figure is one named value.
type figure struct {
	name  string
	value float64
}

// add adds figures in order, stopping at the first failure.
func add(r *Report, figures ...figure) error {
	for _, f := range figures {
		if err := r.Add(f.name, f.value); err != nil {
			return err
		}
	}
	return nil
}

func indexFigures(_ context.Context, cfg Config, r *Report) error {
	logf(cfg, "indexing %d generated rows through indexing.Service.Apply and its floor, GOMAXPROCS=1", cfg.Rows)
	one, err := MeasureOneCore(cfg.Rows, cfg.AllCoreRuns)
	if err != nil {
		return err
	}
	ratio, err := Ratio(one.ApplyRowsPerSec, one.FloorRowsPerSec)
	if err != nil {
		return fmt.Errorf("index_floor_ratio: %w", err)
	}
	data, err := GenerateFile(cfg.Rows)
	if err != nil {
		return err
	}
	bytesPerRow := float64(len(data)) / float64(cfg.Rows)
	if err := add(r,
		figure{"index_rows_per_sec_1core", one.ApplyRowsPerSec},
		figure{"floor_rows_per_sec_1core", one.FloorRowsPerSec},
		figure{"index_floor_ratio", ratio},
		figure{"index_mb_per_sec_1core", MB(one.ApplyRowsPerSec * bytesPerRow)},
	); err != nil {
		return err
	}
	logf(cfg, "indexing %d rows as UTF-8 and as Windows-1252 through indexing.Service.Apply, GOMAXPROCS=1", cfg.Rows)
	utf8Rate, ansiRate, err := EncodingRates(cfg.Rows, cfg.AllCoreRuns)
	if err != nil {
		return err
	}
	encRatio, err := Ratio(ansiRate, utf8Rate)
	if err != nil {
		return fmt.Errorf("index_cp1252_ratio: %w", err)
	}
	if err := add(r,
		figure{"index_apply_rows_per_sec_utf8", utf8Rate},
		figure{"index_apply_rows_per_sec_cp1252", ansiRate},
		figure{"index_cp1252_ratio", encRatio},
	); err != nil {
		return err
	}
	n := runtime.GOMAXPROCS(0)
	logf(cfg, "indexing through indexing.Service.Apply on %d goroutines at once, GOMAXPROCS=%d", n, n)
	rows, bytes, err := ConcurrentRate(data, cfg.Rows, n, cfg.AllCoreRuns)
	if err != nil {
		return err
	}
	return add(r,
		figure{"index_rows_per_sec_allcores", rows},
		figure{"index_mb_per_sec_allcores", MB(bytes)},
	)
}

// storeFigures are the figures of indexing into the Index table on a
// dynalite of their own: peak memory in child processes, and throughput.
func storeFigures(ctx context.Context, cfg Config, r *Report) error {
	logf(cfg, "dynalite: starting it with an Index table")
	table, err := StartIndexTable(ctx, cfg.Root)
	if err != nil {
		return err
	}
	defer table.Close()
	if err := rssFigures(cfg, table, r); err != nil {
		return err
	}
	logf(cfg, "dynalite: indexing %d generated rows through indexing.Service.Apply and indexstore, %d writers", cfg.DynaliteRows, cfg.Writers)
	l := NewListIndexer(table.Endpoint, table.Table, cfg.Writers)
	m, d, err := l.Put(ctx, "campaigns/bench/throughput.csv", cfg.DynaliteRows, 3)
	if err != nil {
		return err
	}
	rate, err := PerSecond(float64(m.Entries), d)
	if err != nil {
		return fmt.Errorf("index_entries_per_s_dynalite: %w", err)
	}
	if err := add(r,
		figure{"index_entries_per_s_dynalite", rate},
		figure{"index_writers", float64(l.Writers())},
	); err != nil {
		return err
	}
	logf(cfg, "dynalite: a list of %d rows in one pass, one of %d rows in chunks of its size", cfg.LargeChunkRows, 10*cfg.LargeChunkRows)
	large, err := MeasureLargeList(ctx, table, cfg.LargeChunkRows, cfg.Writers)
	if err != nil {
		return fmt.Errorf("index_large_list_ratio: %w", err)
	}
	return add(r,
		figure{"index_large_list_chunk_kib", float64(large.ChunkBytes) / 1024},
		figure{"index_large_list_chunks", float64(large.Chunks)},
		figure{"index_large_list_one_chunk_s", large.One.Seconds()},
		figure{"index_large_list_chunked_s", large.Ten.Seconds()},
		figure{"index_large_list_ratio", large.Ratio},
	)
}

// rssFigures measures index_rss_growth: the peak RSS of children indexing
// a list of 10×RSSRows and of RSSRows rows, less a baseline child's. The
// peaks are medians of RSSRuns children each (at most 3 of the larger
// list): a peak moves by a few hundred KiB from one run to the next with
// the garbage collector's timing. Children run with IndexFunction's GOGC.
func rssFigures(cfg Config, table *IndexTable, r *Report) error {
	gogc, err := FunctionGOGC(cfg.Root)
	if err != nil {
		return err
	}
	logf(cfg, "peak RSS of child processes (GOGC %q, IndexFunction's) creating, replacing and removing lists of %d (baseline), %d and %d streamed rows on dynalite",
		gogc, baselineRows, cfg.RSSRows, 10*cfg.RSSRows)
	peak := func(rows, runs int) (int64, error) {
		var kib []int64
		for range max(1, runs) {
			k, _, err := ChildPeakRSS(cfg.Child, ChildJob{Rows: rows, Endpoint: table.Endpoint, Table: table.Table, Writers: cfg.Writers, GOGC: gogc})
			if err != nil {
				return 0, err
			}
			kib = append(kib, k)
		}
		slices.Sort(kib)
		return kib[len(kib)/2], nil
	}
	base, err := peak(baselineRows, cfg.RSSRuns)
	if err != nil {
		return err
	}
	small, err := peak(cfg.RSSRows, cfg.RSSRuns)
	if err != nil {
		return err
	}
	// The larger list takes ten times as long: fewer runs of it.
	large, err := peak(10*cfg.RSSRows, min(cfg.RSSRuns, 3))
	if err != nil {
		return err
	}
	growth, err := Ratio(float64(large-base), float64(small-base))
	if err != nil {
		return fmt.Errorf("index_rss_growth (peaks %d and %d KiB over a baseline of %d KiB; more RSSRows?): %w", small, large, base, err)
	}
	return add(r,
		figure{"index_peak_rss_mib_baseline", float64(base) / 1024},
		figure{"index_peak_rss_mib_1x", float64(small) / 1024},
		figure{"index_peak_rss_mib_10x", float64(large) / 1024},
		figure{"index_rss_growth", growth},
	)
}

func stepFunctionFigures(_ context.Context, cfg Config, r *Report) error {
	logf(cfg, "Step Functions: %d 10-state executions, %d executions waiting", cfg.SFNExecutions, cfg.SFNWaiting)
	rate, err := ExecutionsPerSecond(cfg.SFNExecutions)
	if err != nil {
		return err
	}
	if err := r.Add("sfn_executions_per_sec_10state", rate); err != nil {
		return err
	}
	perExec, err := BytesPerWaitingExecution(cfg.SFNWaiting)
	if err != nil {
		return err
	}
	return r.Add("sfn_bytes_per_idle_waiting_execution", perExec)
}

func searchFigures(ctx context.Context, cfg Config, r *Report) error {
	logf(cfg, "search: starting the local stack")
	e, err := startSearchEnv(ctx, cfg.Root)
	if err != nil {
		return err
	}
	defer e.Close()
	logf(cfg, "search: uploading and indexing a corpus of %d rows in %d lists, %d known consumers", cfg.CorpusRows, cfg.CorpusFiles, cfg.Consumers)
	if err := e.loadCorpus(ctx, cfg.CorpusRows, cfg.CorpusFiles, cfg.Consumers); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(7, 11))
	if _, err := e.fillTo(ctx, max(cfg.Entries/100, e.entries), cfg.Writers, rng, nil); err != nil {
		return err
	}
	p50Small, p99Small, err := e.percentiles(ctx, cfg)
	if err != nil {
		return err
	}
	if err := add(r,
		figure{"search_p50_ms_10k", Milliseconds(p50Small)},
		figure{"search_p99_ms_10k", Milliseconds(p99Small)},
	); err != nil {
		return err
	}

	logf(cfg, "search: loading the index to %d entries, %d writers", cfg.Entries, cfg.Writers)
	start := time.Now()
	progress := func(done, total int) {
		if rate, err := PerSecond(float64(done), time.Since(start)); err == nil {
			logf(cfg, "search: %d/%d entries written, %.0f/s", done, total, rate)
		}
	}
	written, err := e.fillTo(ctx, cfg.Entries, cfg.Writers, rng, progress)
	if err != nil {
		return err
	}
	rate, err := PerSecond(float64(written), time.Since(start))
	if err != nil {
		return fmt.Errorf("index_items_written_per_sec_dynalite: %w", err)
	}
	if err := r.Add("index_items_written_per_sec_dynalite", rate); err != nil {
		return err
	}
	p50Large, p99Large, err := e.percentiles(ctx, cfg)
	if err != nil {
		return err
	}
	growth, err := Ratio(Milliseconds(p99Large), Milliseconds(p99Small))
	if err != nil {
		return fmt.Errorf("search_latency_growth: %w", err)
	}
	if err := add(r,
		figure{"search_p50_ms_1m", Milliseconds(p50Large)},
		figure{"search_p99_ms_1m", Milliseconds(p99Large)},
		figure{"search_latency_growth", growth},
	); err != nil {
		return err
	}

	logf(cfg, "search: one consumer by scanning all %d lists (%d runs) and through the index (%d searches)", len(e.files), cfg.ScanRuns, cfg.ScanSearches)
	scan, err := e.scanTime(ctx, consumerAt(0), cfg.ScanRuns)
	if err != nil {
		return err
	}
	lookup, err := e.searchTime(ctx, consumerAt(0), cfg.Warmup/10, cfg.ScanSearches)
	if err != nil {
		return err
	}
	speedup, err := Ratio(float64(scan), float64(lookup))
	if err != nil {
		return fmt.Errorf("search_vs_scan_speedup: %w", err)
	}
	return add(r,
		figure{"scan_ms_one_consumer", Milliseconds(scan)},
		figure{"search_ms_one_consumer", Milliseconds(lookup)},
		figure{"search_vs_scan_speedup", speedup},
	)
}
