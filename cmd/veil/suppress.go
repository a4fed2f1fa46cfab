package main

// suppress keeps the suppression list from the command line: import
// loads a CSV of kind,value[,reason] (an opt-out list, a do-not-call
// extract) hashed on the way in, and check tells an operator whether
// values are on the list. Neither prints, logs or stores a value: rows
// are named by line, values by their position on the command line.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/suppression"
)

func suppress(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	verb, fs, ok := subcommand("suppress", args, stderr, "import", "check")
	if !ok {
		return exitUsage
	}
	secret := fs.String("secret", "", "the IndexKeySecret's name or ARN (required)")
	table := fs.String("table", "veil-index", "the index table")
	region := fs.String("region", "US", "the region of phones written without a country code")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	action, origin, kindName := "", "", ""
	if verb == "import" {
		fs.StringVar(&action, "action", string(suppression.DoNotContact), "do-not-contact, mask or flag")
		fs.StringVar(&origin, "origin", "", "the origin recorded, import:NAME (default: the file's base name)")
	} else {
		fs.StringVar(&kindName, "kind", "", "phone, email, customer_id or account_number (required)")
	}
	positional, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return exitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "veil suppress %s: %s\n", verb, fmt.Sprintf(format, a...))
		return exitUsage
	}
	if *secret == "" {
		return fail("-secret is required")
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fail("aws config: %v", err)
	}
	ring, err := indexkey.LoadKeyring(ctx, secretsmanager.NewFromConfig(awsCfg), *secret)
	if err != nil {
		return fail("%v", err)
	}
	hasher, err := suppression.NewHasher(ring.Secrets(), *region)
	if err != nil {
		return fail("-region: %v", err)
	}
	store := suppression.New(dynamodb.NewFromConfig(awsCfg), *table)
	if verb == "check" {
		kind, err := suppression.ParseKind(kindName)
		if err != nil || len(positional) == 0 {
			return fail("-kind phone|email|customer_id|account_number and at least one VALUE are required")
		}
		return suppressCheck(ctx, &suppression.Checker{Lookup: store, Hasher: hasher}, kind, positional, *asJSON, stdout, stderr)
	}
	if len(positional) != 1 {
		return fail("want one FILE")
	}
	a, err := suppression.ParseAction(action)
	if err != nil {
		return fail("-action: want do-not-contact, mask or flag")
	}
	path := positional[0]
	if origin == "" {
		origin = filepath.Base(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fail("%v", err)
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	bar := &importBar{w: stderr, tty: isTerminal(stderr), width: barWidth, size: size}
	im := &suppression.Importer{Hasher: hasher, Adder: store, Action: a, Origin: "import:" + origin, Progress: bar.update}
	start := time.Now()
	sum, err := im.Import(ctx, f)
	bar.finish()
	elapsed := time.Since(start)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(importReport{ImportSummary: sum, File: filepath.Base(path), Action: a, Origin: im.Origin,
			KeyIDs: hasher.KeyIDs(), Seconds: elapsed.Seconds()})
	} else {
		printImport(stdout, filepath.Base(path), sum, a, im.Origin, len(ring.Keys), elapsed)
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "veil suppress import: %v\n", err)
		return exitUsage
	case sum.Invalid > 0:
		return exitFailed
	}
	return exitOK
}

// parseInterspersed parses fs over args with flags before, between and
// after the positional arguments (`import FILE -action mask`), which
// flag.Parse alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// importReport is import's JSON summary.
type importReport struct {
	File   string             `json:"file"`
	Action suppression.Action `json:"action"`
	Origin string             `json:"origin"`
	KeyIDs []string           `json:"keyIds"`
	suppression.ImportSummary
	Seconds float64 `json:"seconds"`
}

func printImport(w io.Writer, file string, s suppression.ImportSummary, a suppression.Action, origin string, keys int, elapsed time.Duration) {
	fmt.Fprintf(w, "suppress import %s: %d rows read, %d valid, %d invalid; %d entries written (%d new) under %d HMAC key(s), action %s, origin %s, %.1fs\n",
		file, s.Rows, s.Valid, s.Invalid, s.Entries, s.New, keys, a, origin, elapsed.Seconds())
	for _, p := range s.Problems {
		fmt.Fprintf(w, "line %d: %s\n", p.Line, p.Reason)
	}
	if more := s.Invalid - len(s.Problems); more > 0 {
		fmt.Fprintf(w, "… and %d more invalid rows\n", more)
	}
}

// checkResult is one value's answer in check's JSON: by position, never
// the value.
type checkResult struct {
	Value      int          `json:"value"` // 1-based position on the command line
	Suppressed bool         `json:"suppressed"`
	Entries    []checkEntry `json:"entries,omitempty"`
	Invalid    string       `json:"invalid,omitempty"`
}

type checkEntry struct {
	Action suppression.Action `json:"action"`
	Origin string             `json:"origin"`
	Added  time.Time          `json:"added"`
	Reason string             `json:"reason,omitempty"`
}

func suppressCheck(ctx context.Context, c *suppression.Checker, kind identifiers.Kind, values []string, asJSON bool, stdout, stderr io.Writer) int {
	res, err := c.Check(ctx, kind, values)
	if err != nil {
		fmt.Fprintf(stderr, "veil suppress check: %v\n", err)
		return exitUsage
	}
	out := make([]checkResult, len(res))
	code := exitOK
	for i, r := range res {
		out[i] = checkResult{Value: i + 1, Suppressed: r.Suppressed(), Invalid: r.Invalid}
		for _, e := range r.Entries {
			out[i].Entries = append(out[i].Entries, checkEntry{Action: e.Action, Origin: e.Origin, Added: e.Added, Reason: e.Reason})
		}
		if r.Invalid != "" {
			code = exitFailed
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
		return code
	}
	for _, r := range out {
		switch {
		case r.Invalid != "":
			fmt.Fprintf(stdout, "value %d: invalid: %s\n", r.Value, r.Invalid)
		case !r.Suppressed:
			fmt.Fprintf(stdout, "value %d: not suppressed\n", r.Value)
		default:
			why := make([]string, len(r.Entries))
			for j, e := range r.Entries {
				why[j] = fmt.Sprintf("%s since %s (%s)", e.Action, e.Added.Format(time.RFC3339), e.Origin)
			}
			fmt.Fprintf(stdout, "value %d: suppressed: %s\n", r.Value, strings.Join(why, "; "))
		}
	}
	return code
}

// importBar is import's progress on stderr, drawn as the backfill's is
// (one redrawn line on a terminal, a plain line per tenth otherwise), in
// bytes of the file and rows rather than objects.
type importBar struct {
	w        io.Writer
	tty      bool
	width    int
	size     int64
	drawn    int
	reported int64 // tenths reported in plain lines
	started  bool
}

func (b *importBar) update(p suppression.ImportProgress) {
	b.started = true
	pct := int64(100)
	if b.size > 0 {
		pct = min(100, 100*p.Bytes/b.size)
	}
	counts := fmt.Sprintf("%d rows  %d%%", p.Rows, pct)
	if p.Invalid > 0 {
		counts += fmt.Sprintf("  %d invalid", p.Invalid)
	}
	if !b.tty {
		if pct/10 > b.reported {
			fmt.Fprintln(b.w, counts)
			b.reported = pct / 10
		}
		return
	}
	filled := int(int64(b.width) * pct / 100)
	bar := strings.Repeat("=", filled)
	if filled < b.width {
		if filled > 0 {
			bar = bar[:filled-1] + ">"
		}
		bar += strings.Repeat(" ", b.width-filled)
	}
	line := "[" + bar + "] " + counts
	fmt.Fprint(b.w, "\r"+line+strings.Repeat(" ", max(0, b.drawn-len(line))))
	b.drawn = len(line)
}

func (b *importBar) finish() {
	if b.tty && b.started {
		fmt.Fprintln(b.w)
	}
}
