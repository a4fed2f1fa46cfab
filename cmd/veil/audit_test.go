package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/audit"
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
