package main

// audit verify checks the audit trails of privacy requests: every event
// in sequence, each following the one before it by hash, none altered,
// and the newest the head recorded; and, given the anchor bucket, every
// event anchored there still the one anchored (a trail rewritten and
// re-chained in the table passes the first checks, not this one), and the
// digests chained. It reports each break and exits 1.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/anchorbucket"
	"github.com/veil-privacy/veil/pkg/audit"
)

// union returns a and every ID of b not in a.
func union(a, b []string) []string {
	seen := map[string]bool{}
	for _, id := range a {
		seen[id] = true
	}
	for _, id := range b {
		if !seen[id] {
			seen[id] = true
			a = append(a, id)
		}
	}
	return a
}

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_, fs, ok := subcommand("audit", args, stderr, "verify")
	if !ok {
		return exitUsage
	}
	request := fs.String("request", "", "one request's trail (default: every request's)")
	table := fs.String("table", "veil-requests", "the requests table")
	asJSON := fs.Bool("json", false, "one JSON report instead of text")
	anchorBucket := fs.String("anchor-bucket", "", "the audit anchor bucket (the stack's AuditAnchorBucketName); without it the anchors are not checked")
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
	report := struct {
		Checked  int             `json:"checked"`
		Broken   int             `json:"broken"`
		Findings []audit.Finding `json:"findings"`
		// Anchors is null when no anchor bucket was given.
		Anchors *struct {
			Digests  int      `json:"digests"`
			Problems []string `json:"problems"`
		} `json:"anchors"`
	}{Findings: []audit.Finding{}}
	var anchored *audit.Anchored
	if *anchorBucket != "" {
		stored, err := anchorbucket.Digests(ctx, s3.NewFromConfig(awsCfg), *anchorBucket)
		if err != nil {
			fmt.Fprintln(stderr, "veil audit verify:", err)
			return exitUsage
		}
		a := audit.ReadAnchors(stored)
		anchored = &a
		report.Anchors = &struct {
			Digests  int      `json:"digests"`
			Problems []string `json:"problems"`
		}{a.Digests, a.Problems}
	}
	ids := []string{*request}
	if *request == "" {
		if ids, err = store.Requests(ctx); err != nil {
			fmt.Fprintln(stderr, "veil audit verify:", err)
			return exitUsage
		}
		if anchored != nil {
			// A request anchored whose trail is gone from the table is
			// checked too: all its events are missing.
			ids = union(ids, anchored.Requests())
		}
	}
	for _, id := range ids {
		f, events, err := store.VerifyEvents(ctx, id)
		if err != nil {
			fmt.Fprintln(stderr, "veil audit verify:", err)
			return exitUsage
		}
		if anchored != nil {
			anchored.Check(&f, events)
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
		if a := report.Anchors; a != nil {
			for _, p := range a.Problems {
				fmt.Fprintf(stdout, "anchors: %s\n", p)
			}
		}
		fmt.Fprintf(stdout, "%d audit trails checked, %d whole, %d broken", report.Checked, report.Checked-report.Broken, report.Broken)
		if a := report.Anchors; a != nil {
			fmt.Fprintf(stdout, "; against %d anchor digests, %d problems\n", a.Digests, len(a.Problems))
		} else {
			fmt.Fprintf(stdout, "; anchors not checked (no -anchor-bucket)\n")
		}
	}
	if report.Broken > 0 || (report.Anchors != nil && len(report.Anchors.Problems) > 0) {
		return exitFailed
	}
	return exitOK
}
