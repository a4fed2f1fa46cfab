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
	"strconv"
)

// childFlag makes the binary a child of index_rss_growth: it indexes that
// many streamed rows and exits. It is left out of the usage.
const childFlag = "child-index-rows"

// Main is veil-bench: it parses args (without the program name), runs
// every measurement, prints figures to stdout and notes to stderr, and
// returns the exit status: 0 when every figure was measured (goals missed
// or not), 1 when a measurement failed, 2 for bad flags.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("veil-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "a smoke run with tiny sizes (seconds; the figures mean nothing)")
	rows := fs.Int("rows", 0, "records of the indexing figures' list and of the search corpus (default 1000000)")
	rssRows := fs.Int("rss-rows", 0, "records of index_rss_growth's smaller list; the larger has 10x (default 200000)")
	entries := fs.Int("entries", 0, "index entries of the large search index; the small one holds 1% (default 1000000)")
	searches := fs.Int("searches", 0, "searches per latency percentile (default 500)")
	root := fs.String("root", "", "repository root (default: the nearest directory up from here holding template.yaml)")
	childRows := fs.Int(childFlag, 0, "")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: veil-bench [flags]\n\nPrints one `name value` line per figure to stdout.\n\n")
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name != childFlag {
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
	if *childRows > 0 {
		if err := ChildIndex(*childRows, stdout); err != nil {
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
	cfg.Log = stderr
	var err error
	if cfg.Root, err = findRoot(*root); err != nil {
		fmt.Fprintf(stderr, "veil-bench: %v\n", err)
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "veil-bench: %v\n", err)
		return 1
	}
	cfg.Child = func(rows int) *exec.Cmd {
		return exec.CommandContext(ctx, exe, "-"+childFlag, strconv.Itoa(rows))
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
