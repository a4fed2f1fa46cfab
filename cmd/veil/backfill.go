package main

// backfill indexes every list already under a prefix of the leads bucket by
// invoking IndexFunction with batches of keys (pkg/backfill), drawing its
// progress on stderr and printing a summary on stdout.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/backfill"
)

func backfillCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts backfill.Options
	fs.StringVar(&opts.Bucket, "bucket", "", "the leads bucket (required)")
	fs.StringVar(&opts.Prefix, "prefix", "", "index only the keys under this prefix, e.g. campaigns/")
	fs.IntVar(&opts.Workers, "workers", backfill.DefaultWorkers, "invocations at once")
	fs.IntVar(&opts.BatchSize, "batch", backfill.DefaultBatchSize, "keys per invocation")
	fs.StringVar(&opts.Function, "function", backfill.DefaultFunction, "IndexFunction's name or ARN")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "list and count, invoke nothing")
	fs.BoolVar(&opts.Force, "force", false, "reread lists already indexed (after changing a campaign's column map)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if opts.Bucket == "" || fs.NArg() > 0 || opts.Workers < 1 || opts.BatchSize < 1 {
		fmt.Fprintln(stderr, "veil backfill: -bucket is required; -workers and -batch must be at least 1")
		return exitUsage
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "veil backfill: aws config:", err)
		return exitUsage
	}
	bar := newProgressBar(stderr, isTerminal(stderr))
	opts.Progress = bar.update
	sum, err := backfill.Run(ctx, s3.NewFromConfig(awsCfg), lambda.NewFromConfig(awsCfg), opts)
	bar.finish()
	if *asJSON {
		if sum.Failed == nil {
			sum.Failed = []backfill.Failure{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(sum)
	} else {
		printSummary(stdout, sum)
	}
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "veil backfill:", err)
		return exitUsage
	case len(sum.Failed) > 0:
		return exitFailed
	}
	return exitOK
}

func printSummary(w io.Writer, s backfill.Summary) {
	where := fmt.Sprintf("s3://%s/%s", s.Bucket, s.Prefix)
	if s.DryRun {
		fmt.Fprintf(w, "dry run: %d objects under %s would be indexed (%d folder markers skipped)\n", s.Listed-s.Skipped, where, s.Skipped)
		return
	}
	fmt.Fprintf(w, "backfill %s: %d listed, %d indexed, %d failed, %d folder markers skipped, %d invocations\n",
		where, s.Listed, s.Indexed, len(s.Failed), s.Skipped, s.Invocations)
	for _, f := range s.Failed {
		fmt.Fprintf(w, "failed %s: %s\n", f.Key, f.Reason)
	}
}

// isTerminal reports whether w is a character device (a terminal), where
// the progress bar redraws one line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
