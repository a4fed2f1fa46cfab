package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/veil-privacy/veil/pkg/lambdafn/indexfn"
	"github.com/veil-privacy/veil/pkg/veil"
)

// fakeBucket is a pure fake of ListObjectsV2: sorted keys, S3's default
// page of 1,000, continuation tokens.
type fakeBucket struct {
	keys  []string
	err   error
	mu    sync.Mutex
	calls int
}

func newBucket(keys ...string) *fakeBucket {
	b := &fakeBucket{keys: append([]string(nil), keys...)}
	sort.Strings(b.keys)
	return b
}

func (b *fakeBucket) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	if b.err != nil {
		return nil, b.err
	}
	size := int(aws.ToInt32(in.MaxKeys))
	if size <= 0 || size > 1000 {
		size = 1000
	}
	start := 0
	if in.ContinuationToken != nil {
		start, _ = strconv.Atoi(*in.ContinuationToken)
	}
	out := &s3.ListObjectsV2Output{}
	i := start
	for ; i < len(b.keys) && len(out.Contents) < size; i++ {
		if !strings.HasPrefix(b.keys[i], aws.ToString(in.Prefix)) {
			continue
		}
		var n int64 = 100
		if strings.HasSuffix(b.keys[i], "/") {
			n = 0
		}
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(b.keys[i]), Size: aws.Int64(n), ETag: aws.String(`"e-` + b.keys[i] + `"`)})
	}
	if i < len(b.keys) {
		out.IsTruncated, out.NextContinuationToken = aws.Bool(true), aws.String(strconv.Itoa(i))
	}
	out.KeyCount = aws.Int32(int32(len(out.Contents)))
	return out, nil
}

// fakeFunction is a pure fake of IndexFunction behind the Lambda API: it
// decodes the backfill batch and answers with its function field.
type fakeFunction struct {
	answer func(ctx context.Context, b indexfn.BackfillBatch) (*lambda.InvokeOutput, error)

	mu      sync.Mutex
	batches []indexfn.BackfillBatch
}

func (f *fakeFunction) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	var ev indexfn.BackfillEvent
	if err := json.Unmarshal(in.Payload, &ev); err != nil {
		return nil, err
	}
	if aws.ToString(in.FunctionName) != "IndexFunction" {
		return nil, fmt.Errorf("ResourceNotFoundException: function %s", aws.ToString(in.FunctionName))
	}
	f.mu.Lock()
	f.batches = append(f.batches, ev.Backfill)
	f.mu.Unlock()
	if f.answer == nil {
		return result(indexfn.BatchResult{Indexed: len(ev.Backfill.Objects)}), nil
	}
	return f.answer(ctx, ev.Backfill)
}

func result(r indexfn.BatchResult) *lambda.InvokeOutput {
	if r.Failed == nil {
		r.Failed = []indexfn.KeyFailure{}
	}
	b, _ := json.Marshal(r)
	return &lambda.InvokeOutput{StatusCode: 200, Payload: b}
}

func functionError(typ, msg string) *lambda.InvokeOutput {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: b}
}

func keys(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%slist-%05d.csv", prefix, i)
	}
	return out
}

func (f *fakeFunction) invokedKeys() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, b := range f.batches {
		for _, o := range b.Objects {
			out[o.Key]++
		}
	}
	return out
}

// TestRunListsAndBatches: every object under the prefix, over several
// ListObjectsV2 pages, reaches IndexFunction exactly once, in batches of at
// most BatchSize with the listing's size and unquoted ETag; folder markers
// and other prefixes do not.
func TestRunListsAndBatches(t *testing.T) {
	tests := []struct {
		name          string
		objects       int
		opts          Options
		wantBatches   int
		wantListCalls int
	}{
		{"defaults over three pages", 2345, Options{}, 47, 3},
		{"small pages and batches", 120, Options{PageSize: 25, BatchSize: 7, Workers: 3}, 18, 5},
		{"one worker, one batch", 3, Options{Workers: 1}, 1, 1},
		{"empty prefix", 0, Options{}, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			all := append(keys("campaigns/a/", tc.objects), keys("archive/", 10)...)
			all = append(all, "campaigns/", "campaigns/a/")
			bucket := newBucket(all...)
			fn := &fakeFunction{}
			opts := tc.opts
			opts.Bucket, opts.Prefix, opts.RetryDelay = "veil-leads", "campaigns/", -1
			sum, err := Run(context.Background(), bucket, fn, opts)
			if err != nil {
				t.Fatalf("Run error = %v, want nil", err)
			}
			want := Summary{Bucket: "veil-leads", Prefix: "campaigns/", Listed: tc.objects + 2, Skipped: 2, Indexed: tc.objects, Invocations: tc.wantBatches}
			if !reflect.DeepEqual(sum, want) {
				t.Fatalf("summary = %+v, want %+v", sum, want)
			}
			if len(fn.batches) != tc.wantBatches {
				t.Fatalf("invocations = %d, want %d", len(fn.batches), tc.wantBatches)
			}
			if bucket.calls != tc.wantListCalls {
				t.Fatalf("ListObjectsV2 calls = %d, want %d", bucket.calls, tc.wantListCalls)
			}
			size := withDefaults(opts).BatchSize
			for _, b := range fn.batches {
				if b.Bucket != "veil-leads" || len(b.Objects) == 0 || len(b.Objects) > size {
					t.Fatalf("batch of %s with %d objects, want veil-leads with 1..%d", b.Bucket, len(b.Objects), size)
				}
				for _, o := range b.Objects {
					if o.Size != 100 || o.ETag != "e-"+o.Key {
						t.Fatalf("object %+v, want size 100 and ETag %q", o, "e-"+o.Key)
					}
				}
			}
			got := fn.invokedKeys()
			if len(got) != tc.objects {
				t.Fatalf("distinct keys invoked = %d, want %d", len(got), tc.objects)
			}
			for k, n := range got {
				if n != 1 || !strings.HasPrefix(k, "campaigns/a/list-") {
					t.Fatalf("key %s invoked %d times, want a list under the prefix, once", k, n)
				}
			}
		})
	}
}

// TestRunConcurrency: Workers invocations are in flight at once, never
// more. Each invocation waits until Workers of them have started, so a run
// with less concurrency would end on the context's deadline.
func TestRunConcurrency(t *testing.T) {
	for _, workers := range []int{1, 3, 8} {
		t.Run(strconv.Itoa(workers), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var (
				mu               sync.Mutex
				inFlight, maxIn  int
				started          int
				allStarted       = make(chan struct{})
				firstWaveStarted = workers
			)
			fn := &fakeFunction{answer: func(ctx context.Context, b indexfn.BackfillBatch) (*lambda.InvokeOutput, error) {
				mu.Lock()
				inFlight++
				started++
				maxIn = max(maxIn, inFlight)
				if started == firstWaveStarted {
					close(allStarted)
				}
				mu.Unlock()
				defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
				select {
				case <-allStarted:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				return result(indexfn.BatchResult{Indexed: len(b.Objects)}), nil
			}}
			sum, err := Run(ctx, newBucket(keys("campaigns/a/", 10*workers*5)...), fn,
				Options{Bucket: "veil-leads", Workers: workers, BatchSize: 5, RetryDelay: -1})
			if err != nil {
				t.Fatalf("Run error = %v, want nil (fewer than %d invocations ran at once?)", err, workers)
			}
			if maxIn != workers {
				t.Fatalf("most invocations in flight = %d, want %d", maxIn, workers)
			}
			if sum.Indexed != 10*workers*5 {
				t.Fatalf("indexed = %d, want %d", sum.Indexed, 10*workers*5)
			}
		})
	}
}

// TestRunFailures: failed objects are reported with their reason and the
// run goes on. A batch that keeps failing as a whole is retried, then its
// keys are tried alone, so only the object at fault is reported; a batch
// that fails once and then succeeds reports nothing.
func TestRunFailures(t *testing.T) {
	var mu sync.Mutex
	flaky := map[string]int{}
	fn := &fakeFunction{answer: func(_ context.Context, b indexfn.BackfillBatch) (*lambda.InvokeOutput, error) {
		var res indexfn.BatchResult
		for _, o := range b.Objects {
			switch {
			case strings.Contains(o.Key, "poison"):
				return functionError("wrapError", "backfill s3://veil-leads/"+o.Key+": ProvisionedThroughputExceededException"), nil
			case strings.Contains(o.Key, "flaky"):
				mu.Lock()
				flaky[o.Key]++
				n := flaky[o.Key]
				mu.Unlock()
				if n == 1 {
					return functionError("wrapError", "throttled"), nil
				}
			}
			if strings.HasSuffix(o.Key, ".bin") {
				res.Failed = append(res.Failed, indexfn.KeyFailure{Key: o.Key, Error: "lead list cannot be indexed: binary content (NUL byte)"})
				continue
			}
			res.Indexed++
		}
		return result(res), nil
	}}
	all := append(keys("campaigns/a/", 95), "campaigns/a/photo.bin", "campaigns/b/poison.csv", "campaigns/0/flaky.csv", "campaigns/c/z.bin")
	sum, err := Run(context.Background(), newBucket(all...), fn, Options{Bucket: "veil-leads", BatchSize: 10, Workers: 2, RetryDelay: -1})
	if err != nil {
		t.Fatalf("Run error = %v, want nil", err)
	}
	want := []Failure{
		{"campaigns/a/photo.bin", "lead list cannot be indexed: binary content (NUL byte)"},
		{"campaigns/b/poison.csv", "wrapError: backfill s3://veil-leads/campaigns/b/poison.csv: ProvisionedThroughputExceededException"},
		{"campaigns/c/z.bin", "lead list cannot be indexed: binary content (NUL byte)"},
	}
	if !reflect.DeepEqual(sum.Failed, want) {
		t.Fatalf("failed = %+v, want %+v", sum.Failed, want)
	}
	if sum.Indexed != 96 || sum.Listed != 99 {
		t.Fatalf("indexed, listed = %d, %d; want 96, 99", sum.Indexed, sum.Listed)
	}
	// 10 batches; the flaky one again; the poisoned one twice more, then
	// its 9 keys alone.
	if wantCalls := 10 + 1 + 2 + 9; sum.Invocations != wantCalls {
		t.Fatalf("invocations = %d, want %d", sum.Invocations, wantCalls)
	}
	if err := sum.Err(); !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "3 of 99 objects") {
		t.Fatalf("Summary.Err() = %v, want ErrFailed counting 3 of 99 objects", err)
	}
}

// TestRunProgress: progress reports never go back, and the last one says
// the listing is complete and every object is answered.
func TestRunProgress(t *testing.T) {
	fn := &fakeFunction{answer: func(_ context.Context, b indexfn.BackfillBatch) (*lambda.InvokeOutput, error) {
		res := indexfn.BatchResult{}
		for _, o := range b.Objects {
			if strings.HasSuffix(o.Key, "7.csv") {
				res.Failed = append(res.Failed, indexfn.KeyFailure{Key: o.Key, Error: "bad"})
			} else {
				res.Indexed++
			}
		}
		return result(res), nil
	}}
	var reports []Progress
	sum, err := Run(context.Background(), newBucket(keys("k/", 1234)...), fn, Options{
		Bucket: "veil-leads", PageSize: 100, BatchSize: 30, Workers: 4, RetryDelay: -1,
		Progress: func(p Progress) { reports = append(reports, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) < 13 {
		t.Fatalf("progress reports = %d, want one per page and batch (at least 13)", len(reports))
	}
	for i := 1; i < len(reports); i++ {
		a, b := reports[i-1], reports[i]
		if b.Listed < a.Listed || b.Done < a.Done || b.Failed < a.Failed || (!a.Listing && b.Listing) {
			t.Fatalf("progress went back: %+v then %+v", a, b)
		}
		if b.Done > b.Listed || b.Failed > b.Done {
			t.Fatalf("progress %+v: done beyond listed or failed beyond done", b)
		}
	}
	last := reports[len(reports)-1]
	if want := (Progress{Listed: 1234, Done: 1234, Failed: 123}); last != want {
		t.Fatalf("last progress = %+v, want %+v", last, want)
	}
	if len(sum.Failed) != 123 {
		t.Fatalf("failed = %d, want 123", len(sum.Failed))
	}
}

// TestRunDryRun lists and counts and invokes nothing.
func TestRunDryRun(t *testing.T) {
	fn := &fakeFunction{}
	var last Progress
	sum, err := Run(context.Background(), newBucket(append(keys("campaigns/a/", 1500), "campaigns/a/")...), fn,
		Options{Bucket: "veil-leads", Prefix: "campaigns/", DryRun: true, Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Bucket: "veil-leads", Prefix: "campaigns/", DryRun: true, Listed: 1501, Skipped: 1}
	if !reflect.DeepEqual(sum, want) || len(fn.batches) != 0 {
		t.Fatalf("summary = %+v with %d invocations, want %+v with none", sum, len(fn.batches), want)
	}
	if want := (Progress{Listed: 1500}); last != want {
		t.Fatalf("last progress = %+v, want %+v", last, want)
	}
}

// TestRunStops: what makes every further object fail ends the run with an
// error naming the bucket or the function; bad options are a
// ValidationError.
func TestRunStops(t *testing.T) {
	tests := []struct {
		name      string
		bucket    *fakeBucket
		opts      Options
		wantIn    string
		wantField string
	}{
		{"no bucket", newBucket("a"), Options{}, "", "bucket"},
		{"listing fails", &fakeBucket{err: errors.New("AccessDenied")}, Options{Bucket: "veil-leads", Prefix: "campaigns/"}, "list s3://veil-leads/campaigns/: AccessDenied", ""},
		{"unknown function", newBucket(keys("k/", 500)...), Options{Bucket: "veil-leads", Function: "Nope"}, "invoke Nope: ResourceNotFoundException", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.RetryDelay = -1
			_, err := Run(context.Background(), tc.bucket, &fakeFunction{}, tc.opts)
			if tc.wantField != "" {
				var ve *veil.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.wantField {
					t.Fatalf("error = %v, want a ValidationError on %s", err, tc.wantField)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
				t.Fatalf("error = %v, want one containing %q", err, tc.wantIn)
			}
		})
	}
}
