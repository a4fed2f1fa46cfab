package main

// lists prints what the index made of every current object of the leads
// bucket (indexed, failed, being indexed; removed ones are gone): status,
// format, encoding, header line, counts, identifier columns, unreadable
// rows and the reason a list failed. It reads the manifests through the
// Index table's ByCoverage index, the one searches answer their coverage
// from, so what it lists is what a search says it could and could not see.
// Exit status 1 says some listed object failed, so `veil lists -failed`
// is a check a script or an alarm can run.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
)

// listed is one object as `veil lists -json` prints it.
type listed struct {
	Bucket     string `json:"bucket"`
	Key        string `json:"key"`
	VersionID  string `json:"versionId"`
	Status     string `json:"status"`
	Format     string `json:"format"`
	Encoding   string `json:"encoding"`
	HeaderLine int    `json:"headerLine"`
	// Sheets are a workbook's, with the header row of each.
	Sheets            []listedSheet      `json:"sheets,omitempty"`
	Rows              int64              `json:"rows"`
	Entries           int64              `json:"entries"`
	IdentifierColumns []identifierColumn `json:"identifierColumns"`
	UnreadableRows    int64              `json:"unreadableRows"`
	Reason            string             `json:"reason,omitempty"`
}

type listedSheet struct {
	Name      string `json:"name"`
	HeaderRow int    `json:"headerRow"`
	Rows      int64  `json:"rows"`
	Skipped   string `json:"skipped,omitempty"`
}

// identifierColumn is a column the index reads identifiers from.
type identifierColumn struct {
	Sheet  string `json:"sheet,omitempty"`
	Header string `json:"header"`
	Kind   string `json:"kind"`
}

func lists(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lists", flag.ContinueOnError)
	fs.SetOutput(stderr)
	table := fs.String("table", "veil-index", "the index table")
	onlyFailed := fs.Bool("failed", false, "only the lists that could not be indexed")
	asJSON := fs.Bool("json", false, "print a JSON array")
	migrate := fs.Bool("migrate", false, "first give manifests written before the ByCoverage index their coverage state (a table Scan: once, after upgrading)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "veil lists: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "veil lists: aws config:", err)
		return exitUsage
	}
	store := indexstore.New(dynamodb.NewFromConfig(awsCfg), *table)
	if *migrate {
		n, err := store.StampCoverage(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "veil lists:", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "veil lists: %d manifests given their coverage state\n", n)
	}
	ms, err := store.Lists(ctx, *onlyFailed)
	if err != nil {
		fmt.Fprintln(stderr, "veil lists:", err)
		return exitUsage
	}
	out := make([]listed, len(ms))
	failed := 0
	for i, m := range ms {
		out[i] = listedOf(m)
		if m.Status == indexing.StatusFailed {
			failed++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else {
		printLists(stdout, out)
	}
	if failed > 0 {
		return exitFailed
	}
	return exitOK
}

func listedOf(m indexing.Manifest) listed {
	l := listed{Bucket: m.Bucket, Key: m.Key, VersionID: m.VersionID, Status: m.Status, Format: m.Format, Encoding: m.Encoding,
		HeaderLine: m.HeaderLine, Rows: m.Rows, Entries: m.Entries, UnreadableRows: m.UnreadableRows, Reason: m.Error,
		IdentifierColumns: []identifierColumn{}}
	if len(m.Sheets) == 0 {
		l.IdentifierColumns = identifierColumns("", m.Columns)
	}
	// A workbook's columns are its sheets', named with their sheet.
	for _, sh := range m.Sheets {
		l.Sheets = append(l.Sheets, listedSheet{Name: sh.Name, HeaderRow: sh.HeaderRow, Rows: sh.Rows, Skipped: sh.Skipped})
		l.IdentifierColumns = append(l.IdentifierColumns, identifierColumns(sh.Name, sh.Columns)...)
	}
	return l
}

// identifierColumns returns the columns whose kind is an identifier kind,
// never nil.
func identifierColumns(sheet string, cols []indexing.Column) []identifierColumn {
	out := []identifierColumn{}
	for _, c := range cols {
		if k, err := identifiers.ParseKind(c.Kind); err == nil && k.IsIdentifier() {
			out = append(out, identifierColumn{Sheet: sheet, Header: c.Header, Kind: c.Kind})
		}
	}
	return out
}

// printLists writes one aligned line per object and a summary line.
func printLists(w io.Writer, ls []listed) {
	if len(ls) == 0 {
		fmt.Fprintln(w, "no lists")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tOBJECT\tFORMAT\tENCODING\tHEADER\tROWS\tENTRIES\tUNREADABLE\tIDENTIFIER COLUMNS\tREASON")
	var indexed, partial, failed, pending int
	for _, l := range ls {
		switch l.Status {
		case indexing.StatusIndexed:
			indexed++
			if l.UnreadableRows > 0 {
				partial++
			}
		case indexing.StatusFailed:
			failed++
		case indexing.StatusIndexing:
			pending++
		}
		cols := make([]string, len(l.IdentifierColumns))
		for i, c := range l.IdentifierColumns {
			cols[i] = c.Header + "=" + c.Kind
			if c.Sheet != "" {
				cols[i] = c.Sheet + "!" + cols[i]
			}
		}
		fmt.Fprintf(tw, "%s\ts3://%s/%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", l.Status, l.Bucket, l.Key, dash(l.Format), dash(l.Encoding),
			headerOf(l), l.Rows, l.Entries, l.UnreadableRows, dash(strings.Join(cols, ", ")), oneLine(l.Reason))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "%d lists: %d indexed (%d with unreadable rows), %d failed, %d being indexed\n", len(ls), indexed, partial, failed, pending)
}

// headerOf is a text list's header line, or each sheet's header row.
func headerOf(l listed) string {
	if len(l.Sheets) == 0 {
		if l.HeaderLine == 0 {
			return "-"
		}
		return strconv.Itoa(l.HeaderLine)
	}
	var parts []string
	for _, sh := range l.Sheets {
		if sh.HeaderRow > 0 {
			parts = append(parts, sh.Name+":"+strconv.Itoa(sh.HeaderRow))
		}
	}
	return dash(strings.Join(parts, " "))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a reason on its line of the table.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
