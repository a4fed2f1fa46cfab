package main

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

// TestListsOnTheLocalStack runs veil lists as an operator would, over lists
// indexed from their S3 events, a list that failed, one with unreadable
// rows, one being indexed, and one written before ByCoverage. The steps
// run in order: later ones change what earlier ones listed.
func TestListsOnTheLocalStack(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	for _, kv := range append(s.Environment(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=") {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bucket, table := s.Names["LeadsBucket"], s.Names["IndexTable"]
	api := s3.NewFromConfig(s.AWS)
	for key, body := range map[string]string{
		"campaigns/a/one.csv": "Phone,Email,City\n2125550147,a@example.com,Queens\n2125550148,b@example.com,Bronx\n",
		"campaigns/b/bad.bin": "\x00\x01\x02",
	} {
		if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	stacktest.WaitIdle(t, s)
	ddb := dynamodb.NewFromConfig(s.AWS)
	store := indexstore.New(ddb, table)
	bad, err := store.Manifest(ctx, bucket, "campaigns/b/bad.bin")
	if err != nil || bad.Status != indexing.StatusFailed || bad.Error == "" {
		t.Fatalf("manifest of bad.bin = %+v, %v; want failed with a reason", bad, err)
	}
	// What an indexer leaves of a list with unreadable rows, and of one it
	// is reading now.
	partial := indexing.Manifest{Bucket: bucket, Key: "campaigns/c/partial.csv", VersionID: "v1", Sequencer: "10", Status: indexing.StatusIndexed,
		Format: indexing.FormatCSV, Encoding: "windows-1252", HeaderLine: 3, Rows: 8, Entries: 8, UnreadableRows: 2,
		Columns: []indexing.Column{{Header: "Cust ID", Kind: "customer_id", By: "header"}, {Header: "Name", Kind: "full_name", By: "header"}}}
	busy := indexing.Manifest{Bucket: bucket, Key: "campaigns/c/busy.csv", VersionID: "v1", Sequencer: "11", Status: indexing.StatusIndexing}
	for _, m := range []indexing.Manifest{partial, busy} {
		if ok, err := store.Claim(ctx, m, ""); err != nil || !ok {
			t.Fatalf("Claim(%s) = %v, %v", m.Key, ok, err)
		}
	}
	// A manifest as code from before ByCoverage wrote it: no coverage.
	old, err := attributevalue.MarshalMap(map[string]any{"PK": indexstore.ObjectPK(bucket, "campaigns/d/old.csv"), "SK": "MANIFEST",
		"bucket": bucket, "key": "campaigns/d/old.csv", "versionId": "v0", "sequencer": indexing.PadSequencer("1"), "status": "indexed",
		"rows": 1, "entries": 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: old}); err != nil {
		t.Fatal(err)
	}
	removeBad := func() {
		if _, err := api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("campaigns/b/bad.bin")}); err != nil {
			t.Fatal(err)
		}
		stacktest.WaitIdle(t, s)
	}

	steps := []struct {
		name       string
		before     func()
		args       []string
		wantCode   int
		wantStdout []string // lines, or substrings of lines, in order
		wantStderr string
	}{
		{name: "every list", args: []string{"lists", "-table", table}, wantCode: exitFailed, wantStdout: []string{
			"STATUS OBJECT FORMAT ENCODING HEADER ROWS ENTRIES UNREADABLE IDENTIFIER COLUMNS REASON\n",
			"indexed s3://veil-leads/campaigns/a/one.csv csv ", " 2 4 0 Phone=phone, Email=email\n",
			"failed s3://veil-leads/campaigns/b/bad.bin ", " 0 0 0 - " + oneLine(bad.Error) + "\n",
			"indexing s3://veil-leads/campaigns/c/busy.csv - - - 0 0 0 -\n",
			"indexed s3://veil-leads/campaigns/c/partial.csv csv windows-1252 3 8 8 2 Cust ID=customer_id\n",
			"4 lists: 2 indexed (1 with unreadable rows), 1 failed, 1 being indexed\n",
		}},
		{name: "failed only", args: []string{"lists", "-failed", "-table", table}, wantCode: exitFailed, wantStdout: []string{
			"STATUS OBJECT", "\nfailed s3://veil-leads/campaigns/b/bad.bin ", "\n1 lists: 0 indexed (0 with unreadable rows), 1 failed, 0 being indexed\n",
		}},
		{name: "migrate", args: []string{"lists", "-migrate", "-table", table}, wantCode: exitFailed,
			wantStdout: []string{"s3://veil-leads/campaigns/d/old.csv", "5 lists:"}, wantStderr: "1 manifests given their coverage state"},
		{name: "nothing failed", before: removeBad, args: []string{"lists", "-failed", "-table", table}, wantCode: exitOK,
			wantStdout: []string{"no lists"}},
		{name: "bad flag", args: []string{"lists", "-fail"}, wantCode: exitUsage, wantStderr: "flag provided but not defined"},
		{name: "argument", args: []string{"lists", "campaigns/"}, wantCode: exitUsage, wantStderr: `unexpected argument "campaigns/"`},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before()
			}
			var stdout, stderr bytes.Buffer
			code := run(ctx, st.args, &stdout, &stderr)
			if code != st.wantCode || !containsInOrder(squeeze(stdout.String()), st.wantStdout) || !strings.Contains(stderr.String(), st.wantStderr) {
				t.Fatalf("veil %s = %d\nstdout:\n%s\nstderr: %s\nwant %d, stdout with %q, stderr with %q",
					strings.Join(st.args, " "), code, stdout.String(), stderr.String(), st.wantCode, st.wantStdout, st.wantStderr)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run(ctx, []string{"lists", "-json", "-table", table}, &stdout, &stderr); code != exitOK {
			t.Fatalf("veil lists -json = %d, want %d (nothing failed now)\n%s", code, exitOK, stderr.String())
		}
		var got []listed
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("output %s: %v", stdout.String(), err)
		}
		var keys []string
		for _, l := range got {
			keys = append(keys, l.Key)
		}
		if want := []string{"campaigns/a/one.csv", "campaigns/c/busy.csv", "campaigns/c/partial.csv", "campaigns/d/old.csv"}; !reflect.DeepEqual(keys, want) {
			t.Fatalf("listed %v, want %v", keys, want)
		}
		wantPartial := listed{Bucket: bucket, Key: partial.Key, VersionID: "v1", Status: "indexed", Format: "csv", Encoding: "windows-1252",
			HeaderLine: 3, Rows: 8, Entries: 8, UnreadableRows: 2, IdentifierColumns: []identifierColumn{{Header: "Cust ID", Kind: "customer_id"}}}
		if !reflect.DeepEqual(got[2], wantPartial) {
			t.Fatalf("partial.csv = %+v, want %+v", got[2], wantPartial)
		}
		one := got[0]
		if one.Status != "indexed" || one.Rows != 2 || one.VersionID == "" ||
			!reflect.DeepEqual(one.IdentifierColumns, []identifierColumn{{Header: "Phone", Kind: "phone"}, {Header: "Email", Kind: "email"}}) {
			t.Fatalf("one.csv = %+v, want indexed, 2 rows, Phone and Email as identifier columns", one)
		}
		if !bytes.Contains(stdout.Bytes(), []byte(`"identifierColumns": []`)) {
			t.Fatalf("a list without identifier columns shows %s, want []", stdout.String())
		}
	})
}

// squeeze collapses the runs of spaces tabwriter aligns columns with, and
// drops trailing ones, so that lines compare whatever the column widths.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// containsInOrder reports whether each of parts occurs in s, one after the
// other.
func containsInOrder(s string, parts []string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}
