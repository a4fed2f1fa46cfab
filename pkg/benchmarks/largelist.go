package benchmarks

// index_large_list_ratio: a list of ten times the chunk threshold indexed
// through the chunked path, against ten times the time of one list of the
// threshold's size indexed in one pass, both through Apply on dynalite in
// the same run. The chunked job runs in process the way
// IndexListStateMachine runs it (Plan, the chunks MaxConcurrency at a
// time, FinishChunked), so the figure is the chunked path's own cost, not
// the Step Functions interpreter's.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/veil-privacy/veil/pkg/indexing"
)

// memWork is an indexing.WorkStore in memory.
type memWork struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (w *memWork) PutObject(_ context.Context, bucket, key string, body []byte, _ string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.objects[bucket+"/"+key] = append([]byte(nil), body...)
	return nil
}

func (w *memWork) get(bucket, key string) ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.objects[bucket+"/"+key]
	return b, ok
}

// inProcessChunker runs a chunked job to its end in StartChunked, as the
// state machine would: Apply returns with the list indexed.
type inProcessChunker struct {
	svc         *indexing.Service
	work        *memWork
	concurrency int
	chunks      int // chunks of the last job
}

func (c *inProcessChunker) StartChunked(ctx context.Context, job indexing.ChunkJob) error {
	plan, err := c.svc.Plan(ctx, job)
	if err != nil {
		return err
	}
	body, ok := c.work.get(plan.Bucket, plan.Key)
	if !ok {
		return fmt.Errorf("benchmarks: no plan at %s/%s", plan.Bucket, plan.Key)
	}
	var chunks []indexing.Chunk
	if err := json.Unmarshal(body, &chunks); err != nil {
		return fmt.Errorf("benchmarks: plan %s: %w", plan.Key, err)
	}
	c.chunks = len(chunks)
	results := make([]indexing.ChunkResult, len(chunks))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.concurrency)
	for i, ch := range chunks {
		g.Go(func() (err error) {
			results[i], err = c.svc.Chunk(gctx, job, ch)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return c.svc.FinishChunked(ctx, job, results)
}

// ReadRange returns bytes [start, end) of a generated version, generating
// it up to end: a chunk costs the generator what comes before it, which is
// far below what indexing the chunk costs.
func (o *generatedObjects) ReadRange(ctx context.Context, bucket, key, versionID string, start, end int64) ([]byte, error) {
	r, err := o.Open(ctx, bucket, key, versionID)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if _, err := io.CopyN(io.Discard, r, start); err != nil {
		return nil, err
	}
	b := make([]byte, end-start)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// LargeList is what index_large_list_ratio measured.
type LargeList struct {
	ChunkBytes     int64
	Chunks         int
	One, Ten       time.Duration // one chunk-sized list in one pass; ten times it, chunked
	Ratio          float64       // Ten / (10 × One)
	ChunkedEntries int64
}

// MeasureLargeList indexes a list of rows records in one pass, then one of
// ten times as many with the chunk threshold at the first list's size, on
// table, and returns the times and their ratio. It fails if either list is
// not indexed whole.
func MeasureLargeList(ctx context.Context, table *IndexTable, rows, writers int) (LargeList, error) {
	l := NewListIndexer(table.Endpoint, table.Table, writers)
	m, one, err := l.Put(ctx, "campaigns/bench/one-chunk.csv", rows, 11)
	if err != nil {
		return LargeList{}, err
	}
	work := &memWork{objects: map[string][]byte{}}
	chunker := &inProcessChunker{svc: l.svc, work: work, concurrency: max(2, runtime.GOMAXPROCS(0))}
	l.svc.ChunkBytes, l.svc.Chunker, l.svc.Work, l.svc.WorkBucket = m.Size, chunker, work, "veil-bench-work"
	big, ten, err := l.Put(ctx, "campaigns/bench/ten-chunks.csv", 10*rows, 12)
	if err != nil {
		return LargeList{}, err
	}
	if !big.Chunked || chunker.chunks < 9 {
		return LargeList{}, fmt.Errorf("benchmarks: the large list was indexed in %d chunks (chunked %v), want about 10", chunker.chunks, big.Chunked)
	}
	ratio, err := Ratio(float64(ten), 10*float64(one))
	if err != nil {
		return LargeList{}, err
	}
	return LargeList{ChunkBytes: m.Size, Chunks: chunker.chunks, One: one, Ten: ten, Ratio: ratio, ChunkedEntries: big.Entries}, nil
}
