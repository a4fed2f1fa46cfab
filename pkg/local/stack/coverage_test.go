package stack_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/search"
)

// waitFinal waits until the stack has handled every notification (retries
// included) and returns the manifest of key, which must then be indexed or
// failed.
func waitFinal(t *testing.T, s *stack.Stack, store *indexstore.Store, bucket, key string) indexing.Manifest {
	t.Helper()
	stacktest.WaitIdle(t, s)
	m, err := store.Manifest(context.Background(), bucket, key)
	if err != nil {
		t.Fatalf("manifest of %s: %v", key, err)
	}
	if m.Status != indexing.StatusIndexed && m.Status != indexing.StatusFailed {
		t.Fatalf("manifest of %s is %q once the stack is idle, want indexed or failed", key, m.Status)
	}
	return m
}

// searchAs calls GET /search?query as role, wants 200, and returns the
// answer.
func searchAs(t *testing.T, s *stack.Stack, role auth.Role, query string) search.Result {
	t.Helper()
	code, body := getSearch(t, s, role, query)
	if code != 200 {
		t.Fatalf("GET /search as %s = %d %s, want 200", role, code, body)
	}
	var res search.Result
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("GET /search body %s: %v", body, err)
	}
	return res
}

// TestSearchStatesCoverage is the path: a list that cannot be
// indexed and a list being indexed are named in the coverage of a search
// that finds a row of a good list, uploaded beside them with the AWS CLI.
func TestSearchStatesCoverage(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	ctx := context.Background()
	bucket := s.Names["LeadsBucket"]
	store := indexstore.New(dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"])
	dir := t.TempDir()
	lists := map[string]string{
		"good.csv":       "Mobile No.,E-mail\n(646) 555-0199,kim@example.com\n",
		"no-ids.csv":     "City,Notes\nQueens,called twice\nBronx,no answer\n",
		"in-flight.csv":  "Phone\n6465550100\n", // uploaded, then claimed below as an indexer would
		"other-good.csv": "Email\nlee@example.com\n",
	}
	for name, body := range lists {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stacktest.AWS(t, s, "s3", "cp", dir, "s3://"+bucket+"/campaigns/cov/", "--recursive")
	for name := range lists {
		waitFinal(t, s, store, bucket, "campaigns/cov/"+name)
	}
	bad := waitFinal(t, s, store, bucket, "campaigns/cov/no-ids.csv")
	if bad.Status != indexing.StatusFailed || bad.Error == "" {
		t.Fatalf("manifest of no-ids.csv = %s %q, want failed with a reason", bad.Status, bad.Error)
	}
	// The indexer of a later S3 event (a later sequencer: same prefix,
	// one digit more) has claimed in-flight.csv and not finished.
	flight := waitFinal(t, s, store, bucket, "campaigns/cov/in-flight.csv")
	over := flight.Sequencer
	flight.Status, flight.Sequencer, flight.UpdatedAt = indexing.StatusIndexing, flight.Sequencer+"1", time.Now().UTC()
	if ok, err := store.Claim(ctx, flight, over); err != nil || !ok {
		t.Fatalf("Claim(in-flight.csv) = %v, %v; want true", ok, err)
	}

	res := searchAs(t, s, auth.Supervisor, "phone=%2B1+646+555+0199")
	if len(res.Records) != 1 || res.Records[0].Key != "campaigns/cov/good.csv" || res.Records[0].Fields["E-mail"] != "kim@example.com" {
		t.Fatalf("records = %+v, want the row of good.csv", res.Records)
	}
	want := indexing.Coverage{
		Objects:    2, // good.csv, other-good.csv
		Unreadable: []indexing.Unreadable{{Bucket: bucket, Key: "campaigns/cov/no-ids.csv", VersionID: bad.VersionID, Reason: bad.Error}},
		Pending:    []indexing.Pending{{Bucket: bucket, Key: "campaigns/cov/in-flight.csv"}},
		Partial:    []indexing.Partial{},
	}
	if !reflect.DeepEqual(res.Coverage, want) {
		t.Fatalf("coverage = %+v, want %+v", res.Coverage, want)
	}

	// Removing the bad list takes it out of the coverage; the others stay.
	if _, err := s3.NewFromConfig(s.AWS).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("campaigns/cov/no-ids.csv")}); err != nil {
		t.Fatal(err)
	}
	stacktest.WaitIdle(t, s)
	res = searchAs(t, s, auth.Admin, "email=nobody%40example.com")
	want.Unreadable = []indexing.Unreadable{}
	if len(res.Records) != 0 || !reflect.DeepEqual(res.Coverage, want) {
		t.Fatalf("after removing no-ids.csv: %d records, coverage %+v; want none and %+v", len(res.Records), res.Coverage, want)
	}
}

// TestOlderIndexTableIsRebuilt: a `.local/` whose Index table was created
// before ByCoverage (and whose manifests carry no coverage) is rebuilt on
// start with every item kept, also when a start crashed half-way through
// the rebuild.
func TestOlderIndexTableIsRebuilt(t *testing.T) {
	tests := []struct {
		name string
		// crashed leaves the state of a start that died after copying the
		// table aside and dropping it.
		crashed bool
	}{
		{"older table", false},
		{"crashed mid-rebuild", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := stacktest.Options(t)
			s := stacktest.Start(t, opts)
			ctx := context.Background()
			bucket, table := s.Names["LeadsBucket"], s.Names["IndexTable"]
			ddb := dynamodb.NewFromConfig(s.AWS)
			if _, err := s3.NewFromConfig(s.AWS).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("campaigns/old/list.csv"),
				Body: strings.NewReader("Phone,Name\n2125550111,Ola\n")}); err != nil {
				t.Fatal(err)
			}
			stacktest.WaitIdle(t, s)
			// An item of another kind than entries and manifests (a column
			// map), which the rebuild keeps as it is.
			other := map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "CAMPAIGN#old"},
				"SK": &ddbtypes.AttributeValueMemberS{Value: "COLUMNS"}, "x": &ddbtypes.AttributeValueMemberN{Value: "7"}}
			if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: other}); err != nil {
				t.Fatal(err)
			}
			items := scanAll(t, ddb, table)

			// The table as the template before ByCoverage made it, holding
			// what code of then wrote.
			target := table
			if tc.crashed {
				target = table + "-upgrade"
				if err := os.WriteFile(filepath.Join(opts.DataDir, "upgrading-"+table), []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			deleteTable(t, ddb, table)
			createOldTable(t, ddb, target)
			for _, it := range items {
				delete(it, "coverage")
				delete(it, "coverageRef")
				if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(target), Item: it}); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()

			s2 := stacktest.Start(t, opts)
			ddb = dynamodb.NewFromConfig(s2.AWS)
			store := indexstore.New(ddb, table)
			cov, err := store.Coverage(ctx)
			if err != nil || cov.Objects != 1 {
				t.Fatalf("Coverage after restart = %+v, %v; want the one list", cov, err)
			}
			if got := searchAs(t, s2, auth.Supervisor, "phone=2125550111"); len(got.Records) != 1 || got.Records[0].Fields["Name"] != "Ola" {
				t.Fatalf("search after restart = %+v, want the row", got.Records)
			}
			got, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
				Key: map[string]ddbtypes.AttributeValue{"PK": other["PK"], "SK": other["SK"]}, ConsistentRead: aws.Bool(true)})
			if err != nil || !reflect.DeepEqual(got.Item, other) {
				t.Fatalf("column map item after restart = %v, %v; want %v kept", got.Item, err, other)
			}
			tables, err := ddb.ListTables(ctx, &dynamodb.ListTablesInput{})
			if err != nil || !reflect.DeepEqual(tables.TableNames, []string{"veil-index", "veil-requests"}) {
				t.Fatalf("tables after the rebuild = %v, %v; want the copy gone", tables.TableNames, err)
			}
			if _, err := os.Stat(filepath.Join(opts.DataDir, "upgrading-"+table)); !os.IsNotExist(err) {
				t.Fatalf("rebuild marker left behind (%v)", err)
			}
		})
	}
}

func scanAll(t *testing.T, ddb *dynamodb.Client, table string) []map[string]ddbtypes.AttributeValue {
	t.Helper()
	var items []map[string]ddbtypes.AttributeValue
	pages := dynamodb.NewScanPaginator(ddb, &dynamodb.ScanInput{TableName: aws.String(table)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, page.Items...)
	}
	return items
}

func deleteTable(t *testing.T, ddb *dynamodb.Client, table string) {
	t.Helper()
	ctx := context.Background()
	if _, err := ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableNotExistsWaiter(ddb, func(o *dynamodb.TableNotExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

// createOldTable creates the Index table as template.yaml declared it
// before ByCoverage.
func createOldTable(t *testing.T, ddb *dynamodb.Client, name string) {
	t.Helper()
	str := func(n string) ddbtypes.AttributeDefinition {
		return ddbtypes.AttributeDefinition{AttributeName: aws.String(n), AttributeType: ddbtypes.ScalarAttributeTypeS}
	}
	key := func(n string, kt ddbtypes.KeyType) ddbtypes.KeySchemaElement {
		return ddbtypes.KeySchemaElement{AttributeName: aws.String(n), KeyType: kt}
	}
	_, err := ddb.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{str("PK"), str("SK"), str("GSI1PK"), str("GSI1SK")},
		KeySchema:            []ddbtypes.KeySchemaElement{key("PK", ddbtypes.KeyTypeHash), key("SK", ddbtypes.KeyTypeRange)},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{
			IndexName:  aws.String("ByObject"),
			KeySchema:  []ddbtypes.KeySchemaElement{key("GSI1PK", ddbtypes.KeyTypeHash), key("GSI1SK", ddbtypes.KeyTypeRange)},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(ddb, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}
