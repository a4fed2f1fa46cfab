package main

// catalog reads and replaces a campaign's disclosure catalog: where its
// data came from, why it is used, with whom it is shared and how long it
// is kept, as every export's report and JSON tell the consumer. The
// campaign "default" answers for campaigns without a catalog of their own;
// what neither says comes from export.DefaultCatalog.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/export"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Catalog limits: a disclosure is read by a person.
const (
	maxCatalogItems = 20
	maxCatalogText  = 500
)

func catalogCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	verb, fs, ok := subcommand("catalog", args, stderr, "set", "get")
	if !ok {
		return exitUsage
	}
	campaign := fs.String("campaign", "", `campaign ID (the <id> of campaigns/<id>/…), or "default" for every campaign without one`)
	table := fs.String("table", "veil-index", "the index table")
	file := ""
	if verb == "set" {
		fs.StringVar(&file, "file", "", `the catalog as JSON, {"sources":[…],"purposes":[…],"thirdParties":[…],"retention":"…"} ("-": standard input)`)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	err := validCampaign(*campaign)
	var c export.Catalog
	if err == nil && verb == "set" {
		c, err = readCatalog(file)
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "veil catalog %s: %v\n", verb, err)
		return exitUsage
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "veil catalog: aws config:", err)
		return exitUsage
	}
	store := indexstore.New(dynamodb.NewFromConfig(awsCfg), *table)
	if verb == "set" {
		err = store.PutCatalog(ctx, *campaign, c)
	} else {
		c, err = effectiveCatalog(ctx, store, *campaign)
	}
	if err != nil {
		fmt.Fprintf(stderr, "veil catalog %s: %v\n", verb, err)
		return exitUsage
	}
	b, _ := json.MarshalIndent(c.Complete(), "", "  ")
	fmt.Fprintf(stdout, "%s\n", b)
	return exitOK
}

// effectiveCatalog is what an export of campaign says: its catalog, else
// the default campaign's.
func effectiveCatalog(ctx context.Context, store *indexstore.Store, campaign string) (export.Catalog, error) {
	for _, id := range []string{campaign, export.DefaultCampaign} {
		c, ok, err := store.Catalog(ctx, id)
		if err != nil || ok {
			return c, err
		}
	}
	return export.DefaultCatalog, nil
}

// readCatalog reads and checks the catalog in file. It returns a
// *veil.ValidationError naming the field that is wrong.
func readCatalog(file string) (export.Catalog, error) {
	var r io.Reader
	switch file {
	case "":
		return export.Catalog{}, veil.Invalid("-file", "required: the catalog as JSON")
	case "-":
		r = os.Stdin
	default:
		f, err := os.Open(file)
		if err != nil {
			return export.Catalog{}, veil.Invalid("-file", "%v", err)
		}
		defer f.Close()
		r = f
	}
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	dec.DisallowUnknownFields()
	var c export.Catalog
	if err := dec.Decode(&c); err != nil {
		return export.Catalog{}, veil.Invalid("-file", "want {\"sources\":[…],\"purposes\":[…],\"thirdParties\":[…],\"retention\":\"…\"}: %v", err)
	}
	for name, items := range map[string][]string{"sources": c.Sources, "purposes": c.Purposes, "thirdParties": c.ThirdParties} {
		if len(items) > maxCatalogItems {
			return export.Catalog{}, veil.Invalid(name, "at most %d entries", maxCatalogItems)
		}
		for i, s := range items {
			if err := catalogText(fmt.Sprintf("%s[%d]", name, i), s); err != nil {
				return export.Catalog{}, err
			}
		}
	}
	if c.Retention != "" {
		if err := catalogText("retention", c.Retention); err != nil {
			return export.Catalog{}, err
		}
	}
	return c, nil
}

func catalogText(field, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return veil.Invalid(field, "empty")
	case len(s) > maxCatalogText:
		return veil.Invalid(field, "longer than %d bytes", maxCatalogText)
	}
	return nil
}
