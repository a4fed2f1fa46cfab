// Package backfill indexes every object already under a prefix of the leads
// bucket: it lists the prefix and invokes IndexFunction with batches of
// keys from a few concurrent workers, carrying on past objects that fail,
// and reports progress and a summary. It is what `veil backfill` runs; on
// AWS the backfill state machine's Distributed Map does the same in
// parallel. Applying a key the index already holds costs one read, so a
// backfill can be run again at any time.
package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/lambdafn/indexfn"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Lister is the part of the S3 client a backfill calls.
type Lister interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Invoker is the part of the Lambda client a backfill calls.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var (
	_ Lister  = (*s3.Client)(nil)
	_ Invoker = (*lambda.Client)(nil)
)

// Defaults of Options.
const (
	DefaultFunction   = "IndexFunction"
	DefaultWorkers    = 8
	DefaultBatchSize  = 50
	DefaultAttempts   = 3
	DefaultRetryDelay = time.Second
)

// Options says what to backfill and how.
type Options struct {
	Bucket string
	Prefix string
	// Function is IndexFunction's name or ARN (default "IndexFunction",
	// its name on the local stack).
	Function string
	// Workers is how many invocations run at once (default 8).
	Workers int
	// BatchSize is how many keys one invocation gets (default 50).
	BatchSize int
	// PageSize is how many keys one ListObjectsV2 call asks for (0: S3's
	// default, 1,000).
	PageSize int32
	// DryRun lists and counts, and invokes nothing.
	DryRun bool
	// Force rereads objects already indexed at their current version (after
	// a campaign's column map changed).
	Force bool
	// Attempts is how often a batch whose invocation fails with a function
	// error is tried before its keys are tried one by one, once each
	// (default 3).
	Attempts int
	// RetryDelay is the wait before the second attempt; it doubles after
	// each (default 1s; negative: no wait).
	RetryDelay time.Duration
	// Progress, when set, is called after every listed page and every
	// answered batch, from one goroutine at a time; its counts never
	// decrease.
	Progress func(Progress)
}

// Progress is how far a backfill is.
type Progress struct {
	// Listed is how many objects have been listed so far; it is the total
	// once Listing is false.
	Listed  int
	Listing bool
	// Done is how many listed objects have an answer (indexed or failed).
	Done   int
	Failed int
}

// Summary is what a backfill did. It names objects, never their content.
type Summary struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
	DryRun bool   `json:"dryRun,omitempty"`
	// Listed counts the objects under the prefix, Skipped the folder
	// markers among them (keys ending in "/" with no content), which are
	// not lists.
	Listed  int `json:"listed"`
	Skipped int `json:"skipped"`
	// Indexed counts the objects whose index is current: indexed now, or
	// already indexed before.
	Indexed int `json:"indexed"`
	// Failed lists the objects that could not be indexed and why, by key.
	Failed []Failure `json:"failed"`
	// Invocations counts calls of IndexFunction, retries included.
	Invocations int `json:"invocations"`
}

// Failure is one object that could not be indexed.
type Failure struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// Run backfills opts.Prefix of opts.Bucket. Objects that fail (a list
// IndexFunction cannot index, or a batch still failing after its attempts)
// are in Summary.Failed and do not stop the run. It returns the summary so
// far and an error when the run cannot go on: a *veil.ValidationError for
// bad options, an error naming the bucket when listing fails, or the
// function when the Lambda API refuses the invocation (unknown function,
// no permission, throttling beyond the SDK's retries), or ctx's error.
func Run(ctx context.Context, objects Lister, fn Invoker, opts Options) (Summary, error) {
	opts = withDefaults(opts)
	sum := Summary{Bucket: opts.Bucket, Prefix: opts.Prefix, DryRun: opts.DryRun}
	if opts.Bucket == "" {
		return sum, veil.Invalid("bucket", "required")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &runner{opts: opts, fn: fn}
	var (
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}

	work := make(chan []indexfn.BackfillObject)
	updates := make(chan update, opts.Workers)
	var wg sync.WaitGroup
	wg.Add(1 + opts.Workers)
	go func() {
		defer wg.Done()
		defer close(work)
		if err := r.list(ctx, objects, work, updates); err != nil {
			fail(err)
		}
	}()
	for range opts.Workers {
		go func() {
			defer wg.Done()
			for batch := range work {
				if ctx.Err() != nil {
					continue // drain: the run is ending
				}
				u, err := r.process(ctx, batch)
				if err != nil {
					fail(err)
				}
				updates <- u
			}
		}()
	}
	go func() {
		wg.Wait()
		close(updates)
	}()

	var p Progress
	p.Listing = true
	for u := range updates {
		sum.Listed += u.listed
		sum.Skipped += u.skipped
		sum.Indexed += u.indexed
		sum.Failed = append(sum.Failed, u.failed...)
		sum.Invocations += u.invocations
		p.Listed = sum.Listed - sum.Skipped
		p.Done += u.indexed + len(u.failed)
		p.Failed += len(u.failed)
		if u.listingDone {
			p.Listing = false
		}
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	sort.Slice(sum.Failed, func(i, j int) bool { return sum.Failed[i].Key < sum.Failed[j].Key })
	if firstErr == nil && ctx.Err() != nil {
		firstErr = context.Cause(ctx)
	}
	return sum, firstErr
}

func withDefaults(o Options) Options {
	if o.Function == "" {
		o.Function = DefaultFunction
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.RetryDelay == 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	return o
}

// update is what the lister or one worker adds to the summary.
type update struct {
	listed, skipped int
	listingDone     bool
	indexed         int
	failed          []Failure
	invocations     int
}

type runner struct {
	opts Options
	fn   Invoker
}

// list pages through the prefix and hands out batches of keys.
func (r *runner) list(ctx context.Context, api Lister, work chan<- []indexfn.BackfillObject, updates chan<- update) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(r.opts.Bucket)}
	if r.opts.Prefix != "" {
		in.Prefix = aws.String(r.opts.Prefix)
	}
	if r.opts.PageSize > 0 {
		in.MaxKeys = aws.Int32(r.opts.PageSize)
	}
	send := func(batch []indexfn.BackfillObject) error {
		select {
		case work <- batch:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	var batch []indexfn.BackfillObject
	pages := s3.NewListObjectsV2Paginator(api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", r.opts.Bucket, r.opts.Prefix, err)
		}
		// The page is counted before its keys go out, so that progress
		// never has more objects done than listed.
		u := update{listed: len(page.Contents)}
		lists := make([]indexfn.BackfillObject, 0, len(page.Contents))
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") && aws.ToInt64(o.Size) == 0 {
				u.skipped++
				continue
			}
			lists = append(lists, indexfn.BackfillObject{Key: key, Size: aws.ToInt64(o.Size), ETag: strings.Trim(aws.ToString(o.ETag), `"`)})
		}
		updates <- u
		if r.opts.DryRun {
			continue
		}
		for _, o := range lists {
			batch = append(batch, o)
			if len(batch) == r.opts.BatchSize {
				if err := send(batch); err != nil {
					return err
				}
				batch = nil
			}
		}
	}
	if len(batch) > 0 {
		if err := send(batch); err != nil {
			return err
		}
	}
	updates <- update{listingDone: true}
	return nil
}

// process indexes one batch. When the batch keeps failing as a whole, its
// keys are tried one by one, once each, so that only the objects at fault
// are reported. It returns an error only when the run cannot go on.
func (r *runner) process(ctx context.Context, batch []indexfn.BackfillObject) (update, error) {
	return r.processAttempts(ctx, batch, r.opts.Attempts)
}

func (r *runner) processAttempts(ctx context.Context, batch []indexfn.BackfillObject, attempts int) (update, error) {
	var u update
	res, reason, err := r.invoke(ctx, batch, attempts, &u)
	if err != nil {
		return u, err
	}
	if reason == "" {
		u.indexed, u.failed = res.Indexed, res.Failed
		return u, nil
	}
	if len(batch) == 1 {
		u.failed = []Failure{{Key: batch[0].Key, Reason: reason}}
		return u, nil
	}
	for _, o := range batch {
		one, err := r.processAttempts(ctx, []indexfn.BackfillObject{o}, 1)
		u.indexed += one.indexed
		u.failed = append(u.failed, one.failed...)
		u.invocations += one.invocations
		if err != nil {
			return u, err
		}
	}
	return u, nil
}

// batchResult is IndexFunction's answer, as this package reports it.
type batchResult struct {
	Indexed int
	Failed  []Failure
}

// invoke calls IndexFunction with batch, up to attempts times while it
// fails with a function error. It
// returns the function's answer, or the reason the batch failed as a whole
// (the last function error), or an error that ends the run.
func (r *runner) invoke(ctx context.Context, batch []indexfn.BackfillObject, attempts int, u *update) (batchResult, string, error) {
	payload, err := json.Marshal(indexfn.BackfillEvent{Backfill: indexfn.BackfillBatch{Bucket: r.opts.Bucket, Objects: batch, Force: r.opts.Force}})
	if err != nil {
		return batchResult{}, "", err
	}
	delay := r.opts.RetryDelay
	var reason string
	for attempt := 1; attempt <= attempts; attempt++ {
		if attempt > 1 && delay > 0 {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return batchResult{}, "", context.Cause(ctx)
			}
			delay *= 2
		}
		u.invocations++
		out, err := r.fn.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(r.opts.Function), Payload: payload})
		if err != nil {
			return batchResult{}, "", fmt.Errorf("invoke %s: %w", r.opts.Function, err)
		}
		var res batchResult
		if reason = answer(out, len(batch), &res); reason == "" {
			return res, "", nil
		}
	}
	return batchResult{}, reason, nil
}

// answer reads an invocation's output into res, or returns why the batch
// failed as a whole.
func answer(out *lambda.InvokeOutput, n int, res *batchResult) string {
	if out.FunctionError != nil {
		var fe struct {
			Type    string `json:"errorType"`
			Message string `json:"errorMessage"`
		}
		if err := json.Unmarshal(out.Payload, &fe); err != nil || fe.Type == "" {
			return "IndexFunction failed (" + aws.ToString(out.FunctionError) + ")"
		}
		return fe.Type + ": " + fe.Message
	}
	var br indexfn.BatchResult
	if err := json.Unmarshal(out.Payload, &br); err != nil {
		return "IndexFunction's answer is not a backfill result"
	}
	if br.Indexed < 0 || br.Indexed+len(br.Failed) != n {
		return fmt.Sprintf("IndexFunction answered for %d of %d objects", br.Indexed+len(br.Failed), n)
	}
	res.Indexed = br.Indexed
	for _, f := range br.Failed {
		res.Failed = append(res.Failed, Failure{Key: f.Key, Reason: f.Error})
	}
	return ""
}

// ErrFailed is returned by Summary.Err when an object failed.
var ErrFailed = errors.New("objects failed")

// Err returns an error wrapping ErrFailed that counts the failed objects,
// or nil when none failed.
func (s Summary) Err() error {
	if len(s.Failed) == 0 {
		return nil
	}
	return fmt.Errorf("backfill s3://%s/%s: %d of %d objects: %w", s.Bucket, s.Prefix, len(s.Failed), s.Listed-s.Skipped, ErrFailed)
}
