package main

// audit verify checks the audit trails of privacy requests: every event
// in sequence, each following the one before it by hash, none altered,
// and the newest the head recorded. It reports each break and exits 1.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/audit"
)

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_, fs, ok := subcommand("audit", args, stderr, "verify")
	if !ok {
		return exitUsage
	}
	request := fs.String("request", "", "one request's trail (default: every request's)")
	table := fs.String("table", "veil-requests", "the requests table")
	asJSON := fs.Bool("json", false, "one JSON report instead of text")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "veil audit verify: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "veil audit: aws config:", err)
		return exitUsage
	}
	store := &audit.Store{API: dynamodb.NewFromConfig(awsCfg), Table: *table}
	ids := []string{*request}
	if *request == "" {
		if ids, err = store.Requests(ctx); err != nil {
			fmt.Fprintln(stderr, "veil audit verify:", err)
			return exitUsage
		}
	}
	report := struct {
		Checked  int             `json:"checked"`
		Broken   int             `json:"broken"`
		Findings []audit.Finding `json:"findings"`
	}{Findings: []audit.Finding{}}
	for _, id := range ids {
		f, err := store.Verify(ctx, id)
		if err != nil {
			fmt.Fprintln(stderr, "veil audit verify:", err)
			return exitUsage
		}
		report.Checked++
		if !f.OK() {
			report.Broken++
			report.Findings = append(report.Findings, f)
		}
	}
	if *asJSON {
		b, _ := json.MarshalIndent(report, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		for _, f := range report.Findings {
			for _, p := range f.Problems {
				fmt.Fprintf(stdout, "request %s: %s\n", f.RequestID, p)
			}
		}
		fmt.Fprintf(stdout, "%d audit trails checked, %d whole, %d broken\n", report.Checked, report.Checked-report.Broken, report.Broken)
	}
	if report.Broken > 0 {
		return exitFailed
	}
	return exitOK
}
