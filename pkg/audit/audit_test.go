package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

// trail returns n sealed events of request r-1.
func trail(n int) []audit.Event {
	var out []audit.Event
	var prev *audit.Event
	for i := range n {
		e := audit.Event{RequestID: "r-1", At: time.Date(2026, 12, 1, 9, i, 0, 0, time.UTC), Actor: "sup-1", Role: "supervisor",
			Action: "decided", From: "awaiting_decision", To: "processing", Detail: map[string]string{"step": fmt.Sprint(i)}}
		e.Seal(prev)
		out = append(out, e)
		prev = &out[len(out)-1]
	}
	return out
}

// TestCheck: a whole trail passes; a removed, altered, reordered or
// foreign event, and a head that says more or other than the events, is
// named.
func TestCheck(t *testing.T) {
	head := func(es []audit.Event) *audit.Head { l := es[len(es)-1]; return &audit.Head{Seq: l.Seq, Hash: l.Hash} }
	whole := trail(5)
	if f := audit.Check("r-1", whole, head(whole)); !f.OK() || f.Events != 5 {
		t.Fatalf("whole trail: %+v", f)
	}
	type broken struct {
		events []audit.Event
		head   *audit.Head
		want   string
	}
	cases := map[string]broken{}
	removed := append(append([]audit.Event{}, whole[:2]...), whole[3:]...)
	cases["removed"] = broken{removed, head(whole), "events 3 to 3 are missing"}
	altered := append([]audit.Event{}, whole...)
	altered[1].Action = "erased"
	cases["altered"] = broken{altered, head(whole), "event 2 was altered"}
	detail := append([]audit.Event{}, whole...)
	detail[3].Detail = map[string]string{"step": "3", "extra": "x"}
	cases["detail added"] = broken{detail, head(whole), "event 4 was altered"}
	cases["newest removed"] = broken{whole[:4], head(whole), "events 5 to 5, the newest, are missing"}
	cases["head missing"] = broken{whole, nil, "head is missing"}
	cases["all removed"] = broken{nil, head(whole), "all 5 events are missing"}
	// A forged event in place of a removed one: its hash is its own, but
	// the next event does not follow it.
	forged := append([]audit.Event{}, whole...)
	forged[2] = audit.Event{RequestID: "r-1", At: whole[2].At, Actor: "sup-2", Action: "decided"}
	forged[2].Seal(&whole[1])
	cases["forged"] = broken{forged, head(whole), "event 4 does not follow the one before it"}
	for name, tc := range cases {
		f := audit.Check("r-1", tc.events, tc.head)
		if f.OK() || !strings.Contains(strings.Join(f.Problems, "; "), tc.want) {
			t.Errorf("%s: problems %q, want one saying %q", name, f.Problems, tc.want)
		}
	}
}

// TestStoreOnDynalite: appends from many goroutines at once each get their
// own place in one chain; deleting an event in the middle, or the newest,
// or altering one in the table, is found by Verify.
func TestStoreOnDynalite(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	ctx := context.Background()
	ddb := dynamodb.NewFromConfig(s.AWS)
	table := s.Names["RequestsTable"]
	store := &audit.Store{API: ddb, Table: table}
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := store.Append(ctx, audit.Event{RequestID: "r-7", Actor: fmt.Sprintf("agent-%d", i), Role: "agent", Action: "attested"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	f, err := store.Verify(ctx, "r-7")
	if err != nil || !f.OK() || f.Events != 12 {
		t.Fatalf("after 12 concurrent appends: %+v, %v; want a whole trail of 12", f, err)
	}
	if _, err := store.Append(ctx, audit.Event{RequestID: "r-8", Actor: "system", Action: "received", To: "received"}); err != nil {
		t.Fatal(err)
	}
	ids, err := store.Requests(ctx)
	if err != nil || len(ids) != 2 {
		t.Fatalf("requests with a trail = %v, %v; want r-7 and r-8", ids, err)
	}

	del := func(seq int) {
		t.Helper()
		if _, err := ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{
			"PK": &ddbtypes.AttributeValueMemberS{Value: "REQ#r-7"}, "SK": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("AUDIT#E#%012d", seq)}}}); err != nil {
			t.Fatal(err)
		}
	}
	del(12)
	if f, _ := store.Verify(ctx, "r-7"); f.OK() || !strings.Contains(strings.Join(f.Problems, ";"), "the newest, are missing") {
		t.Fatalf("newest event deleted: %+v, want it found", f)
	}
	del(5)
	if f, _ := store.Verify(ctx, "r-7"); !strings.Contains(strings.Join(f.Problems, ";"), "events 5 to 5 are missing") {
		t.Fatalf("event 5 deleted: %+v, want it found", f)
	}
	if _, err := ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{
		"PK": &ddbtypes.AttributeValueMemberS{Value: "REQ#r-7"}, "SK": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("AUDIT#E#%012d", 2)}},
		UpdateExpression: aws.String("SET actor = :a"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":a": &ddbtypes.AttributeValueMemberS{Value: "someone-else"}}}); err != nil {
		t.Fatal(err)
	}
	if f, _ := store.Verify(ctx, "r-7"); !strings.Contains(strings.Join(f.Problems, ";"), "event 2 was altered") {
		t.Fatalf("event 2 altered: %+v, want it found", f)
	}
	if f, _ := store.Verify(ctx, "r-8"); !f.OK() {
		t.Fatalf("the other request's trail: %+v, want it whole", f)
	}
}
