package stack

// Tables are created from template.yaml on every start; a table that
// `.local/` kept from an older template is brought up to the template's
// secondary indexes by rebuilding it. AWS adds a GSI to a live table (one
// per CloudFormation update) and fills it from the items; dynalite 4.0.0
// accepts UpdateTable's GlobalSecondaryIndexUpdates but ignores a Create, so
// locally the table is copied aside, created anew and copied back, and its
// new indexes fill from the items as they are written.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// afterRebuild brings the items of a rebuilt table up to what its new
// indexes need, by logical ID: manifests written before ByCoverage get
// their coverage state, as `veil lists -migrate` does on AWS.
var afterRebuild = map[string]func(ctx context.Context, client *dynamodb.Client, table string) error{
	"IndexTable": func(ctx context.Context, client *dynamodb.Client, table string) error {
		_, err := indexstore.New(client, table).StampCoverage(ctx)
		return err
	},
}

// CreateTable creates the template's table logicalID (template.yaml under
// root) through client, as Start creates it, and returns its local name
// (what Names holds): a table of the stack's schema in a DynamoDB of the
// caller's, such as a dynalite of its own. It fails when the template
// cannot be read, has no such table, or the table cannot be created (it
// exists, say).
func CreateTable(ctx context.Context, client *dynamodb.Client, root, logicalID string) (string, error) {
	t, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return "", err
	}
	if r, ok := t.Resources[logicalID]; !ok || r.Type != "AWS::DynamoDB::Table" {
		return "", fmt.Errorf("template.yaml declares no table %s", logicalID)
	}
	refs, attrs := physicalNames(t, Region, AccountID)
	res := &samtemplate.Resolver{Template: t, Refs: refs, Attrs: attrs, Pseudo: pseudoParameters(), Params: Parameters}
	in, err := tableInput(res, logicalID, refs[logicalID])
	if err != nil {
		return "", err
	}
	return refs[logicalID], createTable(ctx, client, in)
}

// pseudoParameters are the values of the template's pseudo parameters on
// the local stack.
func pseudoParameters() map[string]string {
	return map[string]string{
		"AWS::Region": Region, "AWS::AccountId": AccountID, "AWS::StackName": "veil", "AWS::Partition": "aws",
		"AWS::URLSuffix": "amazonaws.com", "AWS::StackId": "local",
	}
}

// ensureTable creates the table in, or rebuilds it when it lacks a
// secondary index in declares. A rebuild survives a crash at any step: the
// items are first copied into <name>-upgrade, then a marker file under
// DataDir says the copy is whole, and only then is the table dropped; a
// start that finds the marker finishes the rebuild from the copy.
func (s *Stack) ensureTable(ctx context.Context, client *dynamodb.Client, id string, in *dynamodb.CreateTableInput) error {
	name := aws.ToString(in.TableName)
	marker := filepath.Join(s.opts.DataDir, "upgrading-"+name)
	if _, err := os.Stat(marker); err == nil {
		return s.finishRebuild(ctx, client, id, in, marker)
	}
	_, err := client.CreateTable(ctx, in)
	var inUse *ddbtypes.ResourceInUseException
	switch {
	case err == nil:
		// dynalite answers ResourceNotFound while a table is CREATING:
		// the stack is ready once the table is ACTIVE.
		return waitActive(ctx, client, in.TableName)
	case !errors.As(err, &inUse):
		return fmt.Errorf("create table %s: %w", name, err)
	}
	missing, err := missingIndexes(ctx, client, in)
	if err != nil || len(missing) == 0 {
		return err
	}
	s.log.Warn("table from an older template.yaml: rebuilding it with its items", "table", name, "missingIndexes", missing)
	tmp := name + "-upgrade"
	if err := dropTable(ctx, client, tmp); err != nil {
		return err
	}
	if err := createTable(ctx, client, primaryOnly(in, tmp)); err != nil {
		return err
	}
	if err := copyItems(ctx, client, name, tmp); err != nil {
		return err
	}
	if err := os.WriteFile(marker, []byte("rebuilding "+name+" from "+tmp+"; the next start finishes it\n"), 0o600); err != nil {
		return err
	}
	return s.finishRebuild(ctx, client, id, in, marker)
}

// finishRebuild recreates the table from in and fills it from the copy.
// Every step may be run again.
func (s *Stack) finishRebuild(ctx context.Context, client *dynamodb.Client, id string, in *dynamodb.CreateTableInput, marker string) error {
	name := aws.ToString(in.TableName)
	tmp := name + "-upgrade"
	if err := dropTable(ctx, client, name); err != nil {
		return err
	}
	if err := createTable(ctx, client, in); err != nil {
		return err
	}
	if err := copyItems(ctx, client, tmp, name); err != nil {
		return err
	}
	if fix := afterRebuild[id]; fix != nil {
		if err := fix(ctx, client, name); err != nil {
			return fmt.Errorf("rebuild table %s: %w", name, err)
		}
	}
	if err := os.Remove(marker); err != nil {
		return err
	}
	s.log.Info("table rebuilt", "table", name)
	return dropTable(ctx, client, tmp)
}

// missingIndexes returns the global secondary indexes in declares that the
// existing table lacks, sorted.
func missingIndexes(ctx context.Context, client *dynamodb.Client, in *dynamodb.CreateTableInput) ([]string, error) {
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
	if err != nil {
		return nil, fmt.Errorf("describe table %s: %w", aws.ToString(in.TableName), err)
	}
	have := map[string]bool{}
	for _, g := range out.Table.GlobalSecondaryIndexes {
		have[aws.ToString(g.IndexName)] = true
	}
	var missing []string
	for _, g := range in.GlobalSecondaryIndexes {
		if !have[aws.ToString(g.IndexName)] {
			missing = append(missing, aws.ToString(g.IndexName))
		}
	}
	sort.Strings(missing)
	return missing, nil
}

// primaryOnly is in's table without its secondary indexes, named name.
func primaryOnly(in *dynamodb.CreateTableInput, name string) *dynamodb.CreateTableInput {
	keys := map[string]bool{}
	for _, k := range in.KeySchema {
		keys[aws.ToString(k.AttributeName)] = true
	}
	var defs []ddbtypes.AttributeDefinition
	for _, d := range in.AttributeDefinitions {
		if keys[aws.ToString(d.AttributeName)] {
			defs = append(defs, d)
		}
	}
	return &dynamodb.CreateTableInput{TableName: aws.String(name), AttributeDefinitions: defs, KeySchema: in.KeySchema,
		BillingMode: ddbtypes.BillingModePayPerRequest}
}

// tableWait bounds a wait for a local table to appear or go.
const tableWait = 30 * time.Second

func createTable(ctx context.Context, client *dynamodb.Client, in *dynamodb.CreateTableInput) error {
	name := aws.ToString(in.TableName)
	if _, err := client.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	return waitActive(ctx, client, in.TableName)
}

// waitActive waits until table name is ACTIVE.
func waitActive(ctx context.Context, client *dynamodb.Client, name *string) error {
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: name}, tableWait); err != nil {
		return fmt.Errorf("create table %s: %w", aws.ToString(name), err)
	}
	return nil
}

// dropTable deletes a table and waits until it is gone; a table that is
// not there is not an error.
func dropTable(ctx context.Context, client *dynamodb.Client, name string) error {
	_, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	var notFound *ddbtypes.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete table %s: %w", name, err)
	}
	w := dynamodb.NewTableNotExistsWaiter(client, func(o *dynamodb.TableNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, tableWait); err != nil {
		return fmt.Errorf("delete table %s: %w", name, err)
	}
	return nil
}

// copyItems writes every item of from into to (a Scan: local data, at
// start, never on a request path).
func copyItems(ctx context.Context, client *dynamodb.Client, from, to string) error {
	pages := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: aws.String(from), ConsistentRead: aws.Bool(true)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("copy %s to %s: %w", from, to, err)
		}
		for i := 0; i < len(page.Items); i += 25 {
			var reqs []ddbtypes.WriteRequest
			for _, it := range page.Items[i:min(i+25, len(page.Items))] {
				reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: it}})
			}
			for attempt := 1; len(reqs) > 0; attempt++ {
				if attempt > 10 {
					return fmt.Errorf("copy %s to %s: %d items still unprocessed", from, to, len(reqs))
				}
				out, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{to: reqs}})
				if err != nil {
					return fmt.Errorf("copy %s to %s: %w", from, to, err)
				}
				reqs = out.UnprocessedItems[to]
			}
		}
	}
	return nil
}
