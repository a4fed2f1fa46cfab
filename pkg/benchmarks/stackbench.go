package benchmarks

// Search on the local stack: the real search.Service against dynalite and
// gofakes3, over a corpus whose known consumers were indexed by the real
// indexing.Service, with filler entries for other identifiers loaded
// around them.

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/objectstore"
	"github.com/veil-privacy/veil/pkg/search"
)

// corpusCampaign is the campaign the corpus files belong to.
const corpusCampaign = "bench"

// rowsPerConsumer is how many corpus rows each known consumer has.
const rowsPerConsumer = 2

// searchEnv is a local stack holding the corpus, with the services built
// on it as the functions build them.
type searchEnv struct {
	stack   *stack.Stack
	dataDir string
	bucket  string
	s3      *s3.Client
	ddb     *dynamodb.Client
	table   string
	store   *indexstore.Store
	objects *objectstore.Store
	search  *search.Service
	secret  []byte
	files   []corpusObject
	// entries is how many entries the index holds.
	entries int
}

// corpusObject is one uploaded corpus file.
type corpusObject struct{ key, version string }

// startSearchEnv starts a local stack in a temporary directory, with S3
// notifications held so that nothing but the benchmark touches the index.
func startSearchEnv(ctx context.Context, root string) (*searchEnv, error) {
	dir, err := os.MkdirTemp("", "veil-bench-")
	if err != nil {
		return nil, err
	}
	s, err := stack.Start(ctx, stack.Options{Root: root, DataDir: dir, EdgeAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0",
		HoldNotifications: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("local stack: %w", err)
	}
	e := &searchEnv{stack: s, dataDir: dir, bucket: s.Names["LeadsBucket"]}
	secret, err := indexkey.Load(ctx, secretsmanager.NewFromConfig(s.AWS), s.Names["IndexKeySecret"])
	if err != nil {
		e.Close()
		return nil, err
	}
	e.secret = secret
	e.s3 = s3.NewFromConfig(s.AWS, objectstore.ClientOptions)
	e.ddb, e.table = dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"]
	e.store = indexstore.New(e.ddb, e.table)
	e.objects = objectstore.New(e.s3)
	// Searched as SearchFunction searches: the same wiring, on the stack.
	e.search, err = lambdafn.SearchService(ctx, s.AWS, lambdafn.SearchConfig{IndexTable: e.table, IndexKeySecretARN: s.Names["IndexKeySecret"]})
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Close stops the stack and removes its data.
func (e *searchEnv) Close() {
	e.stack.Close()
	os.RemoveAll(e.dataDir)
}

// keepOnly is the Index table with PutEntries writing only the entries of
// the known consumers: the corpus's other rows stand for lists the filler
// entries index, so the index's size is what the benchmark says.
type keepOnly struct {
	*indexstore.Store
	keys map[string]bool
	mu   sync.Mutex
	kept int
}

func (k *keepOnly) PutEntries(ctx context.Context, entries []indexing.Entry) error {
	var out []indexing.Entry
	for _, e := range entries {
		if k.keys[e.Key] {
			out = append(out, e)
		}
	}
	k.mu.Lock()
	k.kept += len(out)
	k.mu.Unlock()
	return k.Store.PutEntries(ctx, out)
}

// loadCorpus uploads files lead lists of rows records in all, with
// consumers known consumers planted rowsPerConsumer times each, and indexes
// each list with indexing.Service.Apply, keeping the known consumers'
// entries.
func (e *searchEnv) loadCorpus(ctx context.Context, rows, files, consumers int) error {
	if consumers > maxConsumers {
		return fmt.Errorf("%d consumers, at most %d", consumers, maxConsumers)
	}
	keep := &keepOnly{Store: e.store, keys: map[string]bool{}}
	for c := range consumers {
		ks, err := consumerAt(c).keys(e.secret)
		if err != nil {
			return err
		}
		for k := range ks {
			keep.keys[k] = true
		}
	}
	svc := &indexing.Service{Index: keep, Objects: e.objects, Secret: e.secret,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	layout := plan(consumers, rowsPerConsumer, files)
	for f := range files {
		n := rows / files
		if f < rows%files {
			n++
		}
		body, err := corpusFile(n, uint64(f+1), layout[f])
		if err != nil {
			return err
		}
		key := fmt.Sprintf("campaigns/%s/leads-%03d.csv", corpusCampaign, f)
		out, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
		if err != nil {
			return fmt.Errorf("upload %s: %w", key, err)
		}
		e.files = append(e.files, corpusObject{key: key, version: aws.ToString(out.VersionId)})
		for _, n := range e.stack.HeldNotifications() {
			c := indexing.ObjectChange{Bucket: n.Bucket, Key: n.Key, VersionID: n.VersionID, Sequencer: n.Sequencer,
				Size: n.Size, ETag: n.ETag, EventName: n.EventName, EventTime: n.Time}
			if err := svc.Apply(ctx, c); err != nil {
				return fmt.Errorf("index %s: %w", key, err)
			}
		}
	}
	if want := consumers * rowsPerConsumer * 4; keep.kept != want {
		return fmt.Errorf("indexing kept %d entries of the known consumers, want %d", keep.kept, want)
	}
	e.entries += keep.kept
	return nil
}

// fillTo writes filler entries until the index holds total entries,
// writers BatchWriteItem calls at a time, and returns how many it wrote.
// A filler entry is an entry of some other identifier: a random key, a
// kind, a corpus list and a row. No search names its key, so its byte
// range is never read. progress, if not nil, hears of every 100,000
// entries written, and of how many are to be.
func (e *searchEnv) fillTo(ctx context.Context, total, writers int, rng *rand.Rand, progress func(done, of int)) (int, error) {
	const chunk = 5000
	const every = 100_000
	toWrite := total - e.entries
	store := indexstore.New(e.ddb, e.table)
	store.Writers = writers
	kinds := []string{identifiers.Phone.String(), identifiers.Email.String(), identifiers.CustomerID.String(), identifiers.AccountNumber.String()}
	written := 0
	batch := make([]indexing.Entry, 0, chunk)
	var raw [identifiers.HashSize]byte
	for e.entries < total {
		batch = batch[:0]
		for len(batch) < chunk && e.entries+len(batch) < total {
			for i := range raw {
				raw[i] = byte(rng.Uint32())
			}
			f := e.files[rng.IntN(len(e.files))]
			row := 1 + rng.Int64N(100000)
			batch = append(batch, indexing.Entry{Key: hex.EncodeToString(raw[:]), Kind: kinds[rng.IntN(len(kinds))],
				Bucket: e.bucket, ObjectKey: f.key, VersionID: f.version, Row: row, Offset: row * 130, Length: 130})
		}
		if err := store.PutEntries(ctx, batch); err != nil {
			return written, err
		}
		e.entries += len(batch)
		written += len(batch)
		if progress != nil && written%every < len(batch) {
			progress(written, toWrite)
		}
	}
	return written, nil
}

// percentiles times cfg.Searches searches of the known consumers, after
// cfg.Warmup untimed ones, and returns the 50th and 99th percentiles. It
// collects this process's garbage first (the corpus, the load), so that
// neither set pays for what came before it.
func (e *searchEnv) percentiles(ctx context.Context, cfg Config) (p50, p99 time.Duration, err error) {
	runtime.GC()
	if _, err := e.latencies(ctx, cfg.Consumers, cfg.Warmup); err != nil {
		return 0, 0, err
	}
	ds, err := e.latencies(ctx, cfg.Consumers, cfg.Searches)
	if err != nil {
		return 0, 0, err
	}
	if p50, err = Percentile(ds, 50); err != nil {
		return 0, 0, err
	}
	p99, err = Percentile(ds, 99)
	return p50, p99, err
}

// scanTime scans the whole corpus for c runs times and returns the median
// duration; every scan must find c's rows. Like every timed set, each scan
// starts from a collected heap.
func (e *searchEnv) scanTime(ctx context.Context, c consumer, runs int) (time.Duration, error) {
	sc := &Scanner{Objects: e.objects, Bucket: e.bucket, Secret: e.secret}
	keys := make([]string, len(e.files))
	for i, f := range e.files {
		keys[i] = f.key
	}
	var ds []time.Duration
	for range runs {
		runtime.GC()
		start := time.Now()
		n, err := sc.Scan(ctx, keys, c.request())
		if err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
		if n != rowsPerConsumer {
			return 0, fmt.Errorf("scan for %s found %d rows, want %d", c.customerID, n, rowsPerConsumer)
		}
	}
	return Median(ds)
}

// searchTime searches for c warmup times untimed, then n times, and
// returns the median duration, starting from a collected heap.
func (e *searchEnv) searchTime(ctx context.Context, c consumer, warmup, n int) (time.Duration, error) {
	runtime.GC()
	ds := make([]time.Duration, 0, n)
	for i := range warmup + n {
		d, err := e.timedSearch(ctx, c)
		if err != nil {
			return 0, err
		}
		if i >= warmup {
			ds = append(ds, d)
		}
	}
	return Median(ds)
}

// latencies searches for the known consumers in turn, n times, one search
// at a time, and returns each search's duration. Every search must find
// exactly the consumer's rows.
func (e *searchEnv) latencies(ctx context.Context, consumers, n int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := range n {
		c := consumerAt(i % consumers)
		d, err := e.timedSearch(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// timedSearch runs one search for c and checks that it found c's rows.
func (e *searchEnv) timedSearch(ctx context.Context, c consumer) (time.Duration, error) {
	start := time.Now()
	res, err := e.search.Search(ctx, c.request())
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("search %s: %w", c.customerID, err)
	}
	if len(res.Records) != rowsPerConsumer {
		return 0, fmt.Errorf("search %s found %d rows, want %d", c.customerID, len(res.Records), rowsPerConsumer)
	}
	for _, r := range res.Records {
		if r.Fields["Cust ID"] != c.customerID {
			return 0, fmt.Errorf("search %s found row %d of %s, of customer %q", c.customerID, r.Row, r.Key, r.Fields["Cust ID"])
		}
	}
	return d, nil
}
