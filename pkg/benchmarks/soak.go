package benchmarks

// The soak (make soak, not part of make test): a list of 500,000 rows
// indexed on the local stack through the chunked path, then replaced by a
// version without every other row while searches run, every answer
// checked exactly: until the new version is indexed a consumer is found in
// the old one (the list named pending), afterwards in the new one or, if
// their row was dropped, nowhere.

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/search"
)

// SoakConfig sizes a soak.
type SoakConfig struct {
	Root       string
	Rows       int   // records of the first version
	ChunkBytes int64 // IndexFunction's INDEX_CHUNK_BYTES (0: a tenth of the list)
	Searchers  int   // goroutines searching while the list is replaced
	Log        io.Writer
}

// DefaultSoak is the soak of record.
func DefaultSoak() SoakConfig {
	return SoakConfig{Rows: 500_000, Searchers: 2}
}

// Soak runs the soak and writes its figures, `name value` lines, to r. It
// fails on the first wrong answer, or if a version is not indexed whole.
func Soak(ctx context.Context, cfg SoakConfig, r *Report) error {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	var v1 bytes.Buffer
	if err := GenerateLeads(&v1, cfg.Rows, 7); err != nil {
		return err
	}
	v2, err := everyOtherRow(v1.Bytes())
	if err != nil {
		return err
	}
	if cfg.ChunkBytes <= 0 {
		cfg.ChunkBytes = int64(v1.Len()/10 + 1)
	}
	dir, err := os.MkdirTemp("", "veil-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := stack.Start(ctx, stack.Options{Root: cfg.Root, DataDir: dir, EdgeAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0",
		FunctionEnv: map[string]map[string]string{"IndexFunction": {"INDEX_CHUNK_BYTES": strconv.FormatInt(cfg.ChunkBytes, 10)}},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return fmt.Errorf("local stack: %w", err)
	}
	defer s.Close()
	bucket, key := s.Names["LeadsBucket"], "campaigns/soak/leads.csv"
	objects := s3.NewFromConfig(s.AWS)
	store := indexstore.New(dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"])
	finder, err := lambdafn.SearchService(ctx, s.AWS, lambdafn.SearchConfig{IndexTable: s.Names["IndexTable"], IndexKeySecretARN: s.Names["IndexKeySecret"]})
	if err != nil {
		return err
	}

	logf(Config{Log: cfg.Log}, "soak: uploading %d rows (%.1f MiB), chunks of %.1f MiB", cfg.Rows, float64(v1.Len())/(1<<20), float64(cfg.ChunkBytes)/(1<<20))
	start := time.Now()
	first, err := putObject(ctx, objects, bucket, key, v1.Bytes())
	if err != nil {
		return err
	}
	m1, err := waitIndexed(ctx, store, bucket, key, first)
	if err != nil {
		return err
	}
	t1 := time.Since(start)
	if !m1.Chunked || m1.Rows != int64(cfg.Rows) {
		return fmt.Errorf("soak: first version: chunked %v, %d rows; want chunked, %d rows", m1.Chunked, m1.Rows, cfg.Rows)
	}
	for i := 0; i < cfg.Rows; i += max(1, cfg.Rows/500) {
		res, err := finder.Search(ctx, []search.Identifier{{Field: "customerId", Kind: identifiers.CustomerID, Value: "C-" + strconv.Itoa(100000+i)}})
		if err == nil {
			err = checkSoakAnswer(res, i, m1, m1, first, key)
		}
		if err != nil {
			return err
		}
	}
	logf(Config{Log: cfg.Log}, "soak: first version indexed in %s (%d entries); replacing it with %d rows while searching", t1.Round(time.Millisecond), m1.Entries, cfg.Rows/2+cfg.Rows%2)

	// Searches while the second version is indexed: each checks its answer
	// against the version the manifest said answered before and after it.
	var (
		stop     atomic.Bool
		mu       sync.Mutex
		lat      []time.Duration
		checked  atomic.Int64
		pendings atomic.Int64
		wrong    error
	)
	var wg sync.WaitGroup
	for g := range cfg.Searchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			for !stop.Load() {
				i := rng.IntN(cfg.Rows)
				before, err := store.Manifest(ctx, bucket, key)
				t := time.Now()
				res, serr := finder.Search(ctx, []search.Identifier{{Field: "customerId", Kind: identifiers.CustomerID, Value: "C-" + strconv.Itoa(100000+i)}})
				d := time.Since(t)
				after, aerr := store.Manifest(ctx, bucket, key)
				if err = errors.Join(err, serr, aerr); err == nil {
					err = checkSoakAnswer(res, i, before, after, first, key)
				}
				mu.Lock()
				lat = append(lat, d)
				if err != nil && wrong == nil {
					wrong = err
					stop.Store(true)
				}
				mu.Unlock()
				checked.Add(1)
				if len(res.Coverage.Pending) > 0 {
					pendings.Add(1)
				}
			}
		}()
	}
	start = time.Now()
	second, err := putObject(ctx, objects, bucket, key, v2)
	if err == nil {
		var m2 indexing.Manifest
		m2, err = waitIndexed(ctx, store, bucket, key, second)
		if err == nil && m2.Rows != int64(cfg.Rows/2+cfg.Rows%2) {
			err = fmt.Errorf("soak: second version has %d rows, want %d", m2.Rows, cfg.Rows/2+cfg.Rows%2)
		}
	}
	t2 := time.Since(start)
	stop.Store(true)
	wg.Wait()
	if err = errors.Join(err, wrong); err != nil {
		return err
	}
	// After: every consumer of a sample is where the second version says.
	after, err := store.Manifest(ctx, bucket, key)
	if err != nil {
		return err
	}
	for i := 0; i < cfg.Rows; i += max(1, cfg.Rows/500) {
		res, err := finder.Search(ctx, []search.Identifier{{Field: "customerId", Kind: identifiers.CustomerID, Value: "C-" + strconv.Itoa(100000+i)}})
		if err == nil {
			err = checkSoakAnswer(res, i, after, after, first, key)
		}
		if err != nil {
			return err
		}
	}
	p50, err := Percentile(lat, 50)
	if err != nil {
		return fmt.Errorf("soak: no search ran during the replacement: %w", err)
	}
	p99, _ := Percentile(lat, 99)
	return add(r,
		figure{"soak_rows", float64(cfg.Rows)},
		figure{"soak_chunk_mib", float64(cfg.ChunkBytes) / (1 << 20)},
		figure{"soak_first_version_s", t1.Seconds()},
		figure{"soak_first_version_rows_per_s", float64(cfg.Rows) / t1.Seconds()},
		figure{"soak_replacement_s", t2.Seconds()},
		figure{"soak_searches_checked", float64(checked.Load())},
		figure{"soak_searches_naming_pending", float64(pendings.Load())},
		figure{"soak_wrong_answers", 0},
		figure{"soak_search_p50_ms", float64(p50) / 1e6},
		figure{"soak_search_p99_ms", float64(p99) / 1e6},
	)
}

// checkSoakAnswer checks the answer for record i (0-based) of the first
// version: while neither manifest read around the search says the second
// version is indexed, its row in the first (record i+1); once both do, its
// row in the second (record i/2+1) or, for an odd i, nothing; between,
// either.
func checkSoakAnswer(res search.Result, i int, before, after indexing.Manifest, first, key string) error {
	id := "C-" + strconv.Itoa(100000+i)
	// Once the second version is indexed, the first one's entries are
	// stale until deleted; before, nothing may be.
	if len(res.Stale) != 0 && !(after.Status == indexing.StatusIndexed && after.VersionID != first) {
		return fmt.Errorf("soak: record %d: stale entries %+v with the manifest %s@%s before and %s@%s after", i+1, res.Stale,
			before.Status, before.VersionID, after.Status, after.VersionID)
	}
	inFirst := len(res.Records) == 1 && res.Records[0].VersionID == first && res.Records[0].Row == int64(i+1) &&
		res.Records[0].Fields["Cust ID"] == id
	inSecond := i%2 == 0 && len(res.Records) == 1 && res.Records[0].VersionID != first &&
		res.Records[0].Row == int64(i/2+1) && res.Records[0].Fields["Cust ID"] == id
	gone := i%2 == 1 && len(res.Records) == 0
	secondBefore := before.Status == indexing.StatusIndexed && before.VersionID != first
	secondAfter := after.Status == indexing.StatusIndexed && after.VersionID != first
	var ok bool
	switch {
	case !secondBefore && !secondAfter:
		ok = inFirst
		if before.Status == indexing.StatusIndexing && after.Status == indexing.StatusIndexing && !pendingNames(res, key) {
			return fmt.Errorf("soak: record %d: the list is being indexed, but coverage.pending does not name it", i+1)
		}
	case secondBefore && secondAfter:
		ok = inSecond || gone
	default:
		ok = inFirst || inSecond || gone
	}
	if !ok {
		return fmt.Errorf("soak: record %d of the first version: %d records (%+v), stale %+v, with the manifest %s@%s (previous %+v) before and %s@%s after",
			i+1, len(res.Records), res.Records, res.Stale, before.Status, before.VersionID, before.Previous, after.Status, after.VersionID)
	}
	return nil
}

func pendingNames(res search.Result, key string) bool {
	for _, p := range res.Coverage.Pending {
		if p.Key == key {
			return true
		}
	}
	return false
}

// everyOtherRow returns list without its even-numbered records (it keeps
// records 1, 3, 5, …: the 0-based ones a soak expects to stay).
func everyOtherRow(list []byte) ([]byte, error) {
	rd := csv.NewReader(bytes.NewReader(list))
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	for n := -1; ; n++ {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if n < 0 || n%2 == 0 {
			if err := w.Write(rec); err != nil {
				return nil, err
			}
		}
	}
	w.Flush()
	return out.Bytes(), w.Error()
}

func putObject(ctx context.Context, api *s3.Client, bucket, key string, body []byte) (string, error) {
	out, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		return "", fmt.Errorf("soak: put %s: %w", key, err)
	}
	return aws.ToString(out.VersionId), nil
}

// waitIndexed polls the manifest of key (a command's wait, every half
// second) until version is indexed, and fails if it fails.
func waitIndexed(ctx context.Context, store *indexstore.Store, bucket, key, version string) (indexing.Manifest, error) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		m, err := store.Manifest(ctx, bucket, key)
		switch {
		case err == nil && m.VersionID == version && m.Status == indexing.StatusIndexed:
			return m, nil
		case err == nil && m.VersionID == version && m.Status == indexing.StatusFailed:
			return m, fmt.Errorf("soak: %s@%s failed: %s", key, version, m.Error)
		}
		select {
		case <-ctx.Done():
			return indexing.Manifest{}, fmt.Errorf("soak: waiting for %s@%s to be indexed: %w", key, version, ctx.Err())
		case <-tick.C:
		}
	}
}
