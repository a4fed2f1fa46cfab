package benchmarks

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// childFlag makes the binary a child of index_rss_growth: it indexes that
// many streamed rows into the table of the other child flags and exits.
// The child flags are left out of the usage.
const (
	childFlag         = "child-index-rows"
	childEndpointFlag = "child-endpoint"
	childTableFlag    = "child-table"
	childWritersFlag  = "child-writers"
	// exportChildFlag makes it a child of the export figures.
	exportChildFlag  = "child-export-records"
	exportFormatFlag = "child-export-format"
	// rewriteChildFlag makes it a child of the rewrite figures.
	rewriteChildFlag = "child-rewrite-mb"
)

// childFlags are left out of the usage.
var childFlags = map[string]bool{childFlag: true, childEndpointFlag: true, childTableFlag: true, childWritersFlag: true,
	exportChildFlag: true, exportFormatFlag: true, rewriteChildFlag: true}

// Main is veil-bench: it parses args (without the program name), runs
// every measurement, prints figures to stdout and notes to stderr, and
// returns the exit status: 0 when every figure was measured (goals missed
// or not), 1 when a measurement failed, 2 for bad flags.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("veil-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "a smoke run with tiny sizes (seconds; the figures mean nothing)")
	rows := fs.Int("rows", 0, "records of the indexing figures' list and of the search corpus (default 1000000)")
	rssRows := fs.Int("rss-rows", 0, "records of index_rss_growth's smaller list; the larger has 10x (default 1500)")
	entries := fs.Int("entries", 0, "index entries of the large search index; the small one holds 1% (default 1000000)")
	searches := fs.Int("searches", 0, "searches per latency percentile (default 2000)")
	only := fs.String("only", "", "measure one group of figures and report its goals alone: one of "+strings.Join(Groups(), ", "))
	eraseObjects := fs.Int("erase-objects", 0, "lists in erase_cost_ratio's bucket, the consumer in 3 (default 100)")
	eraseKB := fs.Int("erase-kb", 0, "kilobytes of each list of erase_cost_ratio (default 10000)")
	soak := fs.Bool("soak", false, "the soak instead of the figures: 500,000 rows chunked on the local stack, replaced while searches run (make soak)")
	root := fs.String("root", "", "repository root (default: the nearest directory up from here holding template.yaml)")
	var job ChildJob
	fs.IntVar(&job.Rows, childFlag, 0, "")
	fs.StringVar(&job.Endpoint, childEndpointFlag, "", "")
	fs.StringVar(&job.Table, childTableFlag, "", "")
	fs.IntVar(&job.Writers, childWritersFlag, 0, "")
	var exportJob ExportJob
	fs.IntVar(&exportJob.Records, exportChildFlag, 0, "")
	fs.StringVar(&exportJob.Format, exportFormatFlag, "all", "")
	rewriteMB := fs.Int(rewriteChildFlag, 0, "")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: veil-bench [flags]\n\nPrints one `name value` line per figure to stdout.\n\n")
		fs.VisitAll(func(f *flag.Flag) {
			if !childFlags[f.Name] {
				fmt.Fprintf(stderr, "  -%s\n    \t%s\n", f.Name, f.Usage)
			}
		})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if job.Rows > 0 {
		if err := ChildIndex(ctx, job, stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	if exportJob.Records > 0 {
		if err := ChildExport(exportJob, stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	if *rewriteMB > 0 {
		if err := ChildRewrite(*rewriteMB, stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}

	cfg := DefaultConfig()
	if *quick {
		cfg = QuickConfig()
	}
	if *rows > 0 {
		cfg.Rows, cfg.CorpusRows = *rows, *rows
	}
	if *rssRows > 0 {
		cfg.RSSRows = *rssRows
	}
	if *entries > 0 {
		cfg.Entries = *entries
	}
	if *searches > 0 {
		cfg.Searches = *searches
	}
	if *eraseObjects > 0 {
		cfg.EraseObjects = *eraseObjects
	}
	if *eraseKB > 0 {
		cfg.EraseObjectKB = *eraseKB
	}
	if *only != "" && !slices.Contains(Groups(), *only) {
		fmt.Fprintf(stderr, "veil-bench: -only %q: want one of %s\n", *only, strings.Join(Groups(), ", "))
		return 2
	}
	cfg.Only = *only
	cfg.Log = stderr
	var err error
	if cfg.Root, err = findRoot(*root); err != nil {
		fmt.Fprintf(stderr, "veil-bench: %v\n", err)
		return 2
	}
	if *soak {
		sc := DefaultSoak()
		sc.Root, sc.Log = cfg.Root, stderr
		if *rows > 0 {
			sc.Rows = *rows
		}
		if err := Soak(ctx, sc, NewReport(stdout)); err != nil {
			fmt.Fprintf(stderr, "veil-bench: %v\n", err)
			return 1
		}
		return 0
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "veil-bench: %v\n", err)
		return 1
	}
	cfg.Child = func(job ChildJob) *exec.Cmd {
		return exec.CommandContext(ctx, exe, job.args()...)
	}
	cfg.ExportChild = func(job ExportJob) *exec.Cmd {
		return exec.CommandContext(ctx, exe, job.args()...)
	}
	cfg.RewriteChild = func(mb int) *exec.Cmd {
		return exec.CommandContext(ctx, exe, rewriteArgs(mb)...)
	}
	if err := Run(ctx, cfg, NewReport(stdout)); err != nil {
		fmt.Fprintf(stderr, "veil-bench: %v\n", err)
		return 1
	}
	return 0
}

// findRoot returns dir if given, else the nearest directory up from the
// working directory that holds template.yaml.
func findRoot(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "template.yaml")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no template.yaml above %s: run from the repository or pass -root", wd)
		}
	}
}

// args are the flags that make veil-bench the child of job.
func (job ChildJob) args() []string {
	return []string{"-" + childFlag, strconv.Itoa(job.Rows), "-" + childEndpointFlag, job.Endpoint,
		"-" + childTableFlag, job.Table, "-" + childWritersFlag, strconv.Itoa(job.Writers)}
}
