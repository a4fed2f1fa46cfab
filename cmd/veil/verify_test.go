package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

// entryItems returns the table keys and version of every entry item of
// bucket/key, read by a Scan of the table itself (not ByObject, which is
// what the code under test counts with).
func entryItems(t *testing.T, ctx context.Context, ddb *dynamodb.Client, table, bucket, key string) []struct{ PK, SK, VersionID string } {
	t.Helper()
	filter := expression.Name("bucket").Equal(expression.Value(bucket)).And(expression.Name("key").Equal(expression.Value(key))).
		And(expression.Name("SK").BeginsWith("ROW#"))
	expr, err := expression.NewBuilder().WithFilter(filter).Build()
	if err != nil {
		t.Fatal(err)
	}
	pages := dynamodb.NewScanPaginator(ddb, &dynamodb.ScanInput{TableName: aws.String(table), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true)})
	var out []struct{ PK, SK, VersionID string }
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range page.Items {
			var it struct {
				PK, SK    string
				VersionID string `dynamodbav:"versionId"`
			}
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				t.Fatal(err)
			}
			out = append(out, struct{ PK, SK, VersionID string }{it.PK, it.SK, it.VersionID})
		}
	}
	return out
}

// itemCounts counts entryItems by version.
func itemCounts(t *testing.T, ctx context.Context, ddb *dynamodb.Client, table, bucket, key string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, it := range entryItems(t, ctx, ddb, table, bucket, key) {
		out[it.VersionID]++
	}
	return out
}

// TestVerifyOnTheLocalStack indexes lists from their S3 events, then breaks
// the index the ways it can break: an object loses entries, one gains a
// stray entry of an old version, a removed one keeps an entry. veil verify
// names exactly those; veil verify -repair fixes them, as counted
// independently from the table's items, without rereading the objects that
// were fine. The steps run in order.
func TestVerifyOnTheLocalStack(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	for _, kv := range append(s.Environment(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=") {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bucket, table := s.Names["LeadsBucket"], s.Names["IndexTable"]
	api := s3.NewFromConfig(s.AWS)
	ddb := dynamodb.NewFromConfig(s.AWS)
	store := indexstore.New(ddb, table)
	const (
		okKey, lostKey, strayKey, goneKey, badKey = "campaigns/a/ok.csv", "campaigns/a/lost.csv", "campaigns/a/stray.csv", "campaigns/b/gone.csv", "campaigns/b/bad.bin"
		outsideKey                                = "archive/x.csv"
	)
	list := func(first int) string {
		return fmt.Sprintf("Phone,Email\n212555%04d,a%d@example.com\n212555%04d,b%d@example.com\n", first, first, first+1, first)
	}
	for key, body := range map[string]string{
		okKey: list(100), lostKey: list(200), strayKey: list(300), goneKey: list(400), badKey: "\x00\x01\x02", outsideKey: list(500),
	} {
		if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	stacktest.WaitIdle(t, s)
	manifest := func(key string) indexing.Manifest {
		t.Helper()
		m, err := store.Manifest(ctx, bucket, key)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	gone := manifest(goneKey)
	if _, err := api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(goneKey)}); err != nil {
		t.Fatal(err)
	}
	stacktest.WaitIdle(t, s)
	for key, want := range map[string]string{okKey: "indexed", lostKey: "indexed", strayKey: "indexed", goneKey: "removed", badKey: "failed", outsideKey: "indexed"} {
		if m := manifest(key); m.Status != want || (want == "indexed" && m.Entries != 4) {
			t.Fatalf("manifest of %s = %+v, want %s (with 4 entries when indexed)", key, m, want)
		}
	}

	// Break the index.
	for _, key := range []string{lostKey, outsideKey} {
		items := entryItems(t, ctx, ddb, table, bucket, key)
		for _, it := range items[:2] {
			if _, err := ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{
				"PK": &ddbtypes.AttributeValueMemberS{Value: it.PK}, "SK": &ddbtypes.AttributeValueMemberS{Value: it.SK}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	stray := indexing.Entry{Key: fmt.Sprintf("%064x", 7), Kind: "phone", Bucket: bucket, ObjectKey: strayKey, VersionID: "an-old-version",
		Row: 1, Offset: 12, Length: 26}
	// The removed key's version is noncurrent, its entries kept; an entry
	// of a version S3 no longer has is a stray.
	left := indexing.Entry{Key: fmt.Sprintf("%064x", 8), Kind: "email", Bucket: bucket, ObjectKey: goneKey, VersionID: "a-deleted-version",
		Row: 2, Offset: 38, Length: 26}
	if err := store.PutEntries(ctx, []indexing.Entry{stray, left}); err != nil {
		t.Fatal(err)
	}
	fine := map[string]indexing.Manifest{okKey: manifest(okKey), badKey: manifest(badKey)}
	lost, strayed := manifest(lostKey), manifest(strayKey)

	brokenLines := []string{
		"STATUS OBJECT ANSWERING WANT GOT\n",
		fmt.Sprintf("indexed s3://veil-leads/%s %s 4 2@%s\n", lostKey, lost.VersionID, lost.VersionID),
		fmt.Sprintf("indexed s3://veil-leads/%s %s 4 4@%s 1@an-old-version\n", strayKey, strayed.VersionID, strayed.VersionID),
		fmt.Sprintf("removed s3://veil-leads/%s - 0 4@%s 1@a-deleted-version\n", goneKey, gone.VersionID),
	}
	campaignsFine := []string{okKey, badKey, outsideKey}
	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // lines, or substrings of lines, in order
		wantStderr string
		notNamed   []string // keys of objects that must not be named
	}{
		{name: "broken", args: []string{"verify", "-prefix", "campaigns/", "-table", table}, wantCode: exitFailed, notNamed: campaignsFine,
			wantStdout: append(brokenLines, `verify every bucket, prefix "campaigns/": 5 objects checked, 2 ok, 3 differing, 0 in progress`+"\n")},
		{name: "broken in the bucket", args: []string{"verify", "-bucket", bucket, "-prefix", "campaigns/", "-table", table}, wantCode: exitFailed, notNamed: campaignsFine,
			wantStdout: append(brokenLines, "verify s3://veil-leads/campaigns/: 5 objects checked, 2 ok, 3 differing, 0 in progress\n")},
		{name: "one campaign", args: []string{"verify", "-bucket", bucket, "-prefix", "campaigns/b/", "-table", table}, wantCode: exitFailed, notNamed: []string{badKey, lostKey, strayKey},
			wantStdout: []string{"removed s3://veil-leads/campaigns/b/gone.csv", "\nverify s3://veil-leads/campaigns/b/: 2 objects checked, 1 ok, 1 differing, 0 in progress\n"}},
		{name: "no such function", args: []string{"verify", "-prefix", "archive/", "-repair", "-function", "Nope", "-table", table}, wantCode: exitUsage,
			wantStderr: "invoke Nope"},
		{name: "repair", args: []string{"verify", "-prefix", "campaigns/", "-repair", "-table", table}, wantCode: exitOK, notNamed: campaignsFine, wantStdout: []string{
			"STATUS OBJECT ANSWERING WANT GOT REPAIR\n",
			fmt.Sprintf("indexed s3://veil-leads/%s %s 4 2@%s fixed\n", lostKey, lost.VersionID, lost.VersionID),
			fmt.Sprintf("indexed s3://veil-leads/%s %s 4 4@%s 1@an-old-version fixed\n", strayKey, strayed.VersionID, strayed.VersionID),
			fmt.Sprintf("removed s3://veil-leads/%s - 0 4@%s 1@a-deleted-version fixed\n", goneKey, gone.VersionID),
			`verify every bucket, prefix "campaigns/": 5 objects checked, 2 ok, 3 differing (3 fixed, 0 still differing), 0 in progress` + "\n",
		}},
		{name: "repaired", args: []string{"verify", "-prefix", "campaigns/", "-repair", "-table", table}, wantCode: exitOK, notNamed: campaignsFine, wantStdout: []string{
			`verify every bucket, prefix "campaigns/": 5 objects checked, 5 ok, 0 differing, 0 in progress` + "\n",
		}},
		{name: "outside the prefix, still broken", args: []string{"verify", "-prefix", "archive/", "-table", table}, wantCode: exitFailed,
			wantStdout: []string{"indexed s3://veil-leads/archive/x.csv ", " 4 2@", "\nverify every bucket, prefix \"archive/\": 1 objects checked, 0 ok, 1 differing, 0 in progress\n"}},
		{name: "bad flag", args: []string{"verify", "-fix"}, wantCode: exitUsage, wantStderr: "flag provided but not defined"},
		{name: "argument", args: []string{"verify", "campaigns/"}, wantCode: exitUsage, wantStderr: `unexpected argument "campaigns/"`},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(ctx, st.args, &stdout, &stderr)
			out := squeeze(stdout.String())
			if code != st.wantCode || !containsInOrder(out, st.wantStdout) || !strings.Contains(stderr.String(), st.wantStderr) {
				t.Fatalf("veil %s = %d\nstdout:\n%s\nstderr: %s\nwant %d, stdout with %q, stderr with %q",
					strings.Join(st.args, " "), code, stdout.String(), stderr.String(), st.wantCode, st.wantStdout, st.wantStderr)
			}
			for _, key := range st.notNamed {
				if strings.Contains(out, key+" ") {
					t.Fatalf("veil %s named %s, which is fine or outside the prefix:\n%s", strings.Join(st.args, " "), key, stdout.String())
				}
			}
		})
		if st.name == "repair" {
			// Counted from the table's items: each object holds exactly
			// its manifest's entries of its version and of the noncurrent
			// versions it keeps, and no other.
			for _, key := range []string{okKey, lostKey, strayKey, goneKey, badKey} {
				m := manifest(key)
				want := map[string]int64{}
				if m.Status == indexing.StatusIndexed {
					want[m.VersionID] = m.Entries
				}
				for _, r := range m.Noncurrent {
					want[r.VersionID] = r.Entries
				}
				if got := itemCounts(t, ctx, ddb, table, bucket, key); !reflect.DeepEqual(got, want) {
					t.Errorf("after repair, items of %s = %v, want %v (manifest %+v)", key, got, want, m)
				}
			}
			for key, before := range fine {
				if after := manifest(key); !reflect.DeepEqual(after, before) {
					t.Errorf("manifest of %s changed by the repair:\n got %+v\nwant %+v", key, after, before)
				}
			}
			if after := manifest(lostKey); !after.UpdatedAt.After(lost.UpdatedAt) || after.VersionID != lost.VersionID {
				t.Errorf("manifest of %s after repair = %+v, want the same version reread (UpdatedAt after %v)", lostKey, after, lost.UpdatedAt)
			}
		}
	}

	t.Run("json", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run(ctx, []string{"verify", "-bucket", bucket, "-json", "-table", table}, &stdout, &stderr); code != exitFailed {
			t.Fatalf("veil verify -json = %d, want %d (archive/x.csv differs)\n%s", code, exitFailed, stderr.String())
		}
		var got verifyReport
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("output %s: %v", stdout.String(), err)
		}
		outside := manifest(outsideKey)
		want := verifyReport{Bucket: bucket, Checked: 6, OK: 5, Differing: 1, Objects: []verifiedObject{{Finding: indexstore.Finding{
			Bucket: bucket, Key: outsideKey, Status: "indexed", Answers: true, Answering: outside.VersionID, Want: 4,
			Got: map[string]int64{outside.VersionID: 2}, Verdict: indexstore.VerdictDiffers}}}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("report = %+v, want %+v", got, want)
		}
		if !bytes.Contains(stdout.Bytes(), []byte(`"answering": "`+outside.VersionID+`"`)) {
			t.Fatalf("JSON %s does not name the answering version", stdout.String())
		}
	})
}

// TestPrintVerify: what each outcome of a repair reads as, and the summary
// line, without a stack.
func TestPrintVerify(t *testing.T) {
	differs := indexstore.Finding{Bucket: "veil-leads", Key: "campaigns/a/x.csv", Status: "indexed", Answers: true, Answering: "v2", Want: 4,
		Got: map[string]int64{"v1": 1, "v2": 3, "": 2}, Verdict: indexstore.VerdictDiffers}
	failed := indexstore.Finding{Bucket: "veil-leads", Key: "campaigns/a/bad.bin", Status: "failed", Got: map[string]int64{"v1": 2},
		Verdict: indexstore.VerdictDiffers}
	ok := func(f indexstore.Finding) *indexstore.Finding {
		f.Got, f.Verdict = map[string]int64{f.Answering: f.Want}, indexstore.VerdictOK
		return &f
	}
	inProgress := func(f indexstore.Finding) *indexstore.Finding {
		f.Status, f.Got, f.Verdict = "indexing", nil, indexstore.VerdictInProgress
		return &f
	}
	still := differs
	still.Got = map[string]int64{"v2": 2}
	tests := []struct {
		name string
		rep  verifyReport
		want string
	}{
		{"found", verifyReport{Bucket: "veil-leads", Prefix: "campaigns/", Checked: 9, OK: 6, Differing: 2, InProgress: 1,
			Objects: []verifiedObject{{Finding: failed}, {Finding: differs}}},
			"STATUS OBJECT ANSWERING WANT GOT\n" +
				"failed s3://veil-leads/campaigns/a/bad.bin - 0 2@v1\n" +
				"indexed s3://veil-leads/campaigns/a/x.csv v2 4 3@v2 2@null 1@v1\n" +
				"verify s3://veil-leads/campaigns/: 9 objects checked, 6 ok, 2 differing, 1 in progress\n"},
		{"repaired", verifyReport{Bucket: "veil-leads", Checked: 4, OK: 0, Differing: 4, Repaired: true, Fixed: 3, Objects: []verifiedObject{
			{Finding: failed, After: &indexstore.Finding{Status: "failed", Got: map[string]int64{}, Verdict: indexstore.VerdictOK},
				RepairError: "lead list s3://veil-leads/campaigns/a/bad.bin@v1 cannot be indexed:\nbinary"},
			{Finding: differs, After: ok(differs)},
			{Finding: differs, After: inProgress(differs)},
			{Finding: differs, After: &still},
		}},
			"STATUS OBJECT ANSWERING WANT GOT REPAIR\n" +
				"failed s3://veil-leads/campaigns/a/bad.bin - 0 2@v1 fixed; lead list s3://veil-leads/campaigns/a/bad.bin@v1 cannot be indexed: binary\n" +
				"indexed s3://veil-leads/campaigns/a/x.csv v2 4 3@v2 2@null 1@v1 fixed\n" +
				"indexed s3://veil-leads/campaigns/a/x.csv v2 4 3@v2 2@null 1@v1 in progress (a change claimed it meanwhile)\n" +
				"indexed s3://veil-leads/campaigns/a/x.csv v2 4 3@v2 2@null 1@v1 still differs: want 4, got 2@v2\n" +
				"verify s3://veil-leads/: 4 objects checked, 0 ok, 4 differing (3 fixed, 1 still differing), 0 in progress\n"},
		{"nothing", verifyReport{Prefix: "campaigns/", Repaired: true}, `verify every bucket, prefix "campaigns/": 0 objects checked, 0 ok, 0 differing, 0 in progress` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			printVerify(&buf, tc.rep)
			if got := squeeze(buf.String()); got != tc.want {
				t.Fatalf("printVerify wrote\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
