package main

// columns reads and replaces a campaign's column map: the kinds the index
// gives named columns of the campaign's lists, over what classification
// guesses, and the text encoding of its lists, over what detection
// guesses. Lists already indexed keep their columns until re-indexed.

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/veil"
)

func columns(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	verb, fs, ok := subcommand("columns", args, stderr, "set", "get")
	if !ok {
		return exitUsage
	}
	campaign := fs.String("campaign", "", "campaign ID (the <id> of campaigns/<id>/…)")
	table := fs.String("table", "veil-index", "the index table")
	mapping, encoding := "", ""
	if verb == "set" {
		fs.StringVar(&mapping, "map", "", "the whole column map, 'Header=kind,…' (replaces the stored one); kinds: "+kindList())
		fs.StringVar(&encoding, "encoding", "", "the text encoding of the campaign's lists (windows-1252, iso-8859-1, shift_jis, utf-16le, … any WHATWG label); empty detects it")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	var cm indexing.ColumnMap
	err := validCampaign(*campaign)
	if err == nil && verb == "set" {
		cm, err = parseSettings(mapping, encoding)
	}
	if err != nil || fs.NArg() > 0 {
		if err == nil {
			err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		fmt.Fprintf(stderr, "veil columns %s: %v\n", verb, err)
		return exitUsage
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "veil columns: aws config:", err)
		return exitUsage
	}
	store := indexstore.New(dynamodb.NewFromConfig(awsCfg), *table)
	if verb == "set" {
		err = store.PutColumnMap(ctx, *campaign, cm)
	} else {
		cm, err = store.ColumnMap(ctx, *campaign)
	}
	if err != nil {
		fmt.Fprintf(stderr, "veil columns %s: %v\n", verb, err)
		return exitUsage
	}
	fmt.Fprint(stdout, formatColumnMap(cm))
	return exitOK
}

// parseSettings reads -map and -encoding; at least one must be given. The
// encoding is stored by its canonical name. It returns a
// *veil.ValidationError naming the flag that is wrong.
func parseSettings(mapping, encoding string) (indexing.ColumnMap, error) {
	cm := indexing.ColumnMap{Columns: map[string]string{}}
	if strings.TrimSpace(encoding) != "" {
		name, err := leads.LookupEncoding(encoding)
		if err != nil {
			return cm, veil.Invalid("-encoding", "unknown encoding %q; want a WHATWG label such as windows-1252, iso-8859-1, shift_jis or utf-16le", encoding)
		}
		cm.Encoding = name
		if strings.TrimSpace(mapping) == "" {
			return cm, nil
		}
	}
	cols, err := parseColumnMap(mapping)
	if err != nil {
		return cm, err
	}
	cm.Columns = cols
	return cm, nil
}

func validCampaign(id string) error {
	if id == "" || strings.Contains(id, "/") {
		return veil.Invalid("-campaign", "want a campaign ID without '/'")
	}
	return nil
}

// parseColumnMap reads 'Header=kind,…'. A header may hold '=' (the last one
// separates the kind) but not ','; surrounding spaces are dropped. It
// returns a *veil.ValidationError naming the entry that is wrong; an
// unknown kind is refused here rather than failing every list of the
// campaign at indexing.
func parseColumnMap(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return nil, veil.Invalid("-map", "want 'Header=kind,…'")
	}
	for i, entry := range strings.Split(s, ",") {
		at := strings.LastIndex(entry, "=")
		if at < 0 {
			return nil, veil.Invalid(fmt.Sprintf("-map entry %d", i+1), "want Header=kind")
		}
		header, kind := strings.TrimSpace(entry[:at]), strings.TrimSpace(entry[at+1:])
		if header == "" {
			return nil, veil.Invalid(fmt.Sprintf("-map entry %d", i+1), "empty header")
		}
		if _, err := identifiers.ParseKind(kind); err != nil {
			return nil, veil.Invalid(fmt.Sprintf("-map entry %d (%s)", i+1, header), "unknown kind %q; want one of %s", kind, kindList())
		}
		if _, dup := out[header]; dup {
			return nil, veil.Invalid(fmt.Sprintf("-map entry %d (%s)", i+1, header), "header given twice")
		}
		out[header] = kind
	}
	return out, nil
}

// formatColumnMap writes the pinned encoding, if any, as "encoding: name",
// then one 'Header=kind' line per column, by header.
func formatColumnMap(cm indexing.ColumnMap) string {
	headers := make([]string, 0, len(cm.Columns))
	for h := range cm.Columns {
		headers = append(headers, h)
	}
	sort.Strings(headers)
	var b strings.Builder
	if cm.Encoding != "" {
		fmt.Fprintf(&b, "encoding: %s\n", cm.Encoding)
	}
	for _, h := range headers {
		fmt.Fprintf(&b, "%s=%s\n", h, cm.Columns[h])
	}
	return b.String()
}

func kindList() string {
	names := make([]string, 0, len(identifiers.Kinds()))
	for _, k := range identifiers.Kinds() {
		names = append(names, k.String())
	}
	return strings.Join(names, ", ")
}
