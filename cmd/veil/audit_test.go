package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

// TestAuditVerify: veil audit verify passes whole trails and names the
// request and the event a deleted event broke, exiting 1.
func TestAuditVerify(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	for _, kv := range append(s.Environment(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=") {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx := context.Background()
	ddb := dynamodb.NewFromConfig(s.AWS)
	table := s.Names["RequestsTable"]
	store := &audit.Store{API: ddb, Table: table}
	for _, id := range []string{"r-1", "r-2"} {
		for _, action := range []string{"received", "verified", "decided", "exported"} {
			if _, err := store.Append(ctx, audit.Event{RequestID: id, Actor: "system", Action: action}); err != nil {
				t.Fatal(err)
			}
		}
	}
	verify := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := run(ctx, append([]string{"audit", "verify", "-table", table}, args...), &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	if code, out := verify(); code != exitOK || !strings.Contains(out, "2 audit trails checked, 2 whole, 0 broken") {
		t.Fatalf("veil audit verify = %d %q, want both whole", code, out)
	}
	if _, err := ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{
		"PK": &ddbtypes.AttributeValueMemberS{Value: "REQ#r-2"}, "SK": &ddbtypes.AttributeValueMemberS{Value: "AUDIT#E#000000000002"}}}); err != nil {
		t.Fatal(err)
	}
	code, out := verify()
	if code != exitFailed || !strings.Contains(out, "request r-2: events 2 to 2 are missing") || strings.Contains(out, "request r-1") ||
		!strings.Contains(out, "2 audit trails checked, 1 whole, 1 broken") {
		t.Fatalf("veil audit verify after a deleted event = %d %q, want r-2's event 2 named, exit 1", code, out)
	}
	if code, out := verify("-request", "r-1", "-json"); code != exitOK || !strings.Contains(out, `"broken": 0`) {
		t.Fatalf("veil audit verify -request r-1 -json = %d %q", code, out)
	}
}

// TestAuditVerifyAnchors: a request filed through the API, its trail
// anchored by IntakeFunction's hourly schedule (invoked through the Lambda
// API, under the function's own role), then rewritten in the table at event 2 with
// every later event and the head re-chained as pkg/audit chains them:
// verify without the anchors finds nothing; with them it names event 2.
// The digest itself cannot be deleted, Object Lock refusing even the
// account.
func TestAuditVerifyAnchors(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	for _, kv := range append(s.Environment(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=") {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx := context.Background()
	ddb := dynamodb.NewFromConfig(s.AWS)
	table, bucket := s.Names["RequestsTable"], s.Names["AuditAnchorBucket"]
	store := &audit.Store{API: ddb, Table: table}

	resp, err := http.Post(s.APIURL+"/requests", "application/json",
		strings.NewReader(`{"type":"delete","jurisdiction":"CA","emails":["ana@example.com"],"phones":["415-555-0101"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var filed struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&filed)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || err != nil || filed.ID == "" {
		t.Fatalf("POST /requests = %d %+v %v, want 201 and an id", resp.StatusCode, filed, err)
	}
	// The workflow acknowledges and parks, awaiting verification.
	settle, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.StepFunctions.Engine().WaitIdle(settle); err != nil {
		t.Fatalf("the workflow did not settle: %v", err)
	}
	stacktest.WaitIdle(t, s)
	// Two more steps, as the desk records them.
	for _, action := range []string{"verified", "decided"} {
		if _, err := store.Append(ctx, audit.Event{RequestID: filed.ID, Actor: "sup-1", Role: "supervisor", Action: action}); err != nil {
			t.Fatal(err)
		}
	}
	events, err := store.Events(ctx, filed.ID)
	if err != nil || len(events) < 3 {
		t.Fatalf("trail of %s = %d events, %v; want at least 3 to rewrite the second of", filed.ID, len(events), err)
	}

	out, err := lambda.NewFromConfig(s.AWS).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(s.Names["IntakeFunction"]),
		Payload: lambdafntest.Event(t, "intake/schedule-anchor.json")})
	if err != nil || out.FunctionError != nil {
		t.Fatalf("the hourly anchoring = %s, %v", out.Payload, err)
	}
	var anchored struct{ Digest, Chains int }
	if err := json.Unmarshal(out.Payload, &anchored); err != nil || anchored.Digest != 1 || anchored.Chains < 1 {
		t.Fatalf("the hourly anchoring = %s, want digest 1 with the request's chain", out.Payload)
	}

	verify := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := run(ctx, append([]string{"audit", "verify", "-table", table}, args...), &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	if code, out := verify("-anchor-bucket", bucket); code != exitOK || !strings.Contains(out, "1 whole, 0 broken; against 1 anchor digests, 0 problems") {
		t.Fatalf("veil audit verify of an anchored, whole trail = %d %q", code, out)
	}

	// The rewrite: event 2 says another actor did it; it and every event
	// after it are sealed again, and the head follows.
	events[1].Actor = "someone-else"
	for i := 1; i < len(events); i++ {
		events[i].Seal(&events[i-1])
		key := map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "REQ#" + filed.ID},
			"SK": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("AUDIT#E#%012d", events[i].Seq)}}
		if _, err := ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
			UpdateExpression:         aws.String("SET actor = :a, prev = :p, #h = :h"),
			ExpressionAttributeNames: map[string]string{"#h": "hash"},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":a": &ddbtypes.AttributeValueMemberS{Value: events[i].Actor},
				":p": &ddbtypes.AttributeValueMemberS{Value: events[i].Prev}, ":h": &ddbtypes.AttributeValueMemberS{Value: events[i].Hash}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table),
		Key:              map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "REQ#" + filed.ID}, "SK": &ddbtypes.AttributeValueMemberS{Value: "AUDIT#HEAD"}},
		UpdateExpression: aws.String("SET #h = :h"), ExpressionAttributeNames: map[string]string{"#h": "hash"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":h": &ddbtypes.AttributeValueMemberS{Value: events[len(events)-1].Hash}}}); err != nil {
		t.Fatal(err)
	}
	if code, out := verify(); code != exitOK {
		t.Fatalf("veil audit verify without anchors of a re-chained trail = %d %q: the rewrite is not one the chain alone misses", code, out)
	}
	code, got := verify("-anchor-bucket", bucket)
	if code != exitFailed || !strings.Contains(got, "request "+filed.ID+": event 2 disagrees with its anchor in digest digests/000000000001-") ||
		strings.Contains(got, "event 3") {
		t.Fatalf("veil audit verify -anchor-bucket of a re-chained trail = %d %q, want event 2 named, and only it, exit 1", code, got)
	}

	// No one deletes the digest: Object Lock in compliance mode.
	c := s3.NewFromConfig(s.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	versions, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil || len(versions.Versions) != 1 {
		t.Fatalf("anchor bucket versions = %+v, %v; want the one digest", versions, err)
	}
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: versions.Versions[0].Key, VersionId: versions.Versions[0].VersionId})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("deleting the digest's version = %v, want AccessDenied", err)
	}
}
