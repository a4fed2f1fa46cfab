package indexstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/veil-privacy/veil/pkg/indexing"
)

// throttlingAPI answers BatchWriteItem as a table at its limit would: the
// first calls fail with ProvisionedThroughputExceededException after the
// SDK's own retries, the next ones process half of each batch, and every
// item gets written in the end. Only BatchWriteItem is called.
type throttlingAPI struct {
	API
	mu        sync.Mutex
	throttles int
	calls     int
	written   map[string]bool
}

func (a *throttlingAPI) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	if a.throttles > 0 {
		a.throttles--
		return nil, &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "slow down"}
	}
	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]ddbtypes.WriteRequest{}}
	for table, reqs := range in.RequestItems {
		half := (len(reqs) + 1) / 2
		for _, r := range reqs[:half] {
			a.written[r.PutRequest.Item["SK"].(*ddbtypes.AttributeValueMemberS).Value+r.PutRequest.Item["PK"].(*ddbtypes.AttributeValueMemberS).Value] = true
		}
		if half < len(reqs) {
			out.UnprocessedItems[table] = reqs[half:]
		}
	}
	return out, nil
}

// TestThrottlingSlowsAListDown: throttling errors and unprocessed items are
// waited out, never failing the list; an error that is not throttling
// fails at once.
func TestThrottlingSlowsAListDown(t *testing.T) {
	api := &throttlingAPI{throttles: 12, written: map[string]bool{}}
	s := &Store{api: api, table: "t", Writers: 3, Backoff: time.Millisecond}
	var es []indexing.Entry
	for i := range 200 {
		es = append(es, indexing.Entry{Key: "k", Kind: "phone", Bucket: "b", ObjectKey: "o", VersionID: "v", Row: int64(i + 1)})
	}
	if err := s.PutEntries(context.Background(), es); err != nil {
		t.Fatalf("PutEntries under throttling = %v, want nil", err)
	}
	if len(api.written) != len(es) || api.calls <= 12+len(es)/maxBatch {
		t.Fatalf("written %d of %d in %d calls; want all, after the throttles and partial batches", len(api.written), len(es), api.calls)
	}

	// A throttle that outlasts the caller's patience ends with its error.
	api = &throttlingAPI{throttles: 1 << 30, written: map[string]bool{}}
	s = &Store{api: api, table: "t", Writers: 1, Backoff: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.PutEntries(ctx, es[:1])
	var apiErr smithy.APIError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &apiErr) {
		t.Fatalf("PutEntries throttled past the deadline = %v, want the throttle and the deadline", err)
	}
}

func TestThrottledTellsThrottlesApart(t *testing.T) {
	for code, want := range map[string]bool{
		"ProvisionedThroughputExceededException": true, "ThrottlingException": true, "RequestLimitExceeded": true,
		"ValidationException": false, "ResourceNotFoundException": false,
	} {
		if got := throttled(&smithy.GenericAPIError{Code: code}); got != want {
			t.Errorf("throttled(%s) = %v, want %v", code, got, want)
		}
	}
	if throttled(errors.New("connection reset")) {
		t.Error("throttled(a network error) = true")
	}
}
