package benchmarks

// erase_cost_ratio: what the index saves an erasure. One consumer is in
// eraseTargets of EraseObjects lead lists on the local stack. Erasing them
// through the service PseudonymizeFunction builds (search, the rewrite of
// the lists that hold the consumer, the purge of the versions read, the
// proof, the suppression list, the certificate) is timed against the
// scan-everything approach on the same stack and the same lists: every
// list read, rewritten with rewrite.Text and written back, one after the
// other, as a tool without an index must.
//
// The lists are indexed before, untimed, by indexing.Service.Apply on
// their held S3 notifications, writing every manifest but only the
// consumer's entries (keepOnly): the stack's dynalite writes 3,000 to 5,000
// entries a second, and a gigabyte of lists has 29 million, two hours of
// writes that the erasure never reads. Notifications stay held while both
// are timed: on this machine the index would otherwise re-read every list
// the scan writes on the other core, slowing the scan by work production
// does elsewhere.
//
// The scan is the scan-everything approach at its cheapest: every row of
// every list read (its edit is the last record, so rewrite.Text parses the
// whole list, as a tool looking for the consumer must), the list written
// back and the version read deleted; it never normalizes or keys a value.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/pseudonymizefn"
	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/local/s3local"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/rewrite"
)

// eraseTargets is how many of the lists hold the consumer, one row each.
const eraseTargets = 3

// eraseCampaign is the campaign the lists belong to.
const eraseCampaign = "erase"

// EraseCost is what erase_cost_ratio measures.
type EraseCost struct {
	// Objects lists of Bytes bytes in all were uploaded in Upload and
	// indexed by IndexFunction in Index.
	Objects       int
	Bytes         int64
	Upload, Index time.Duration
	// Erase is the erasure job's Start and Run; Scan the read, rewrite and
	// write back of every list.
	Erase, Scan time.Duration
}

// MeasureEraseCost starts a local stack, uploads objects generated lists
// of about kb kilobytes (1000 bytes) each, the consumer in eraseTargets of
// them, indexes them, and times the erasure of the consumer and the
// scan-everything rewrite. It fails if a step does, if
// the job does not end completed having rewritten eraseTargets lists, or
// if the scan does not edit one record of every list.
func MeasureEraseCost(ctx context.Context, cfg Config, objects, kb int) (EraseCost, error) {
	if objects < eraseTargets {
		return EraseCost{}, fmt.Errorf("erase_cost_ratio: %d lists, at least %d", objects, eraseTargets)
	}
	e, err := startSearchEnv(ctx, cfg.Root)
	if err != nil {
		return EraseCost{}, err
	}
	defer e.Close()
	rows, err := rowsFor(int64(kb) * 1000)
	if err != nil {
		return EraseCost{}, err
	}
	// The targets spread over the bucket, none first or last.
	target := map[int]bool{}
	for i := range eraseTargets {
		target[objects*(2*i+1)/(2*eraseTargets)] = true
	}
	c := consumerAt(0)
	var out EraseCost
	logf(cfg, "erase: uploading %d generated lists of %d rows (about %d kB), the consumer in %d", objects, rows, kb, eraseTargets)
	start := time.Now()
	keys := make([]string, objects)
	versions := make([]string, objects)
	for i := range objects {
		keys[i] = fmt.Sprintf("campaigns/%s/leads-%03d.csv", eraseCampaign, i)
		var rowsOf []planted
		if target[i] {
			rowsOf = []planted{{consumer: 0, variant: i}}
		}
		n, v, err := e.uploadList(ctx, keys[i], rows, uint64(1000+i), rowsOf)
		if err != nil {
			return out, err
		}
		out.Bytes += n
		versions[i] = v
	}
	out.Objects, out.Upload = objects, time.Since(start)
	logf(cfg, "erase: uploaded %.0f MB in %s; indexing them, the consumer's entries written", MB(float64(out.Bytes)), out.Upload.Round(time.Millisecond))
	keep := &keepOnly{Store: e.store, keys: map[string]bool{}}
	ks, err := c.keys(e.secret)
	if err != nil {
		return out, err
	}
	maps.Copy(keep.keys, ks)
	// As IndexFunction builds it, on the held notifications.
	idx := &indexing.Service{Index: keep, Objects: e.objects, Secret: e.secret, KeyID: indexkey.ID(e.secret),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	start = time.Now()
	if err := indexHeld(ctx, e.stack, idx, runtime.GOMAXPROCS(0)); err != nil {
		return out, err
	}
	out.Index = time.Since(start)
	if want := eraseTargets * len(ks); keep.kept != want {
		return out, fmt.Errorf("indexing kept %d entries of the consumer, want %d", keep.kept, want)
	}
	for i, key := range keys {
		m, err := e.store.Manifest(ctx, e.bucket, key)
		if err != nil {
			return out, fmt.Errorf("manifest of %s: %w", key, err)
		}
		if m.Status != indexing.StatusIndexed || m.VersionID != versions[i] {
			return out, fmt.Errorf("manifest of %s: %s@%s, want %s@%s", key, m.Status, m.VersionID, indexing.StatusIndexed, versions[i])
		}
	}
	logf(cfg, "erase: indexed in %s; erasing the consumer", out.Index.Round(time.Millisecond))

	// Built as PseudonymizeFunction builds it, before the clock starts.
	fcfg, err := pseudonymizefn.ConfigFromEnv(func(k string) string { return e.stack.FunctionEnv("PseudonymizeFunction", k) })
	if err != nil {
		return out, err
	}
	finder, err := lambdafn.SearchService(ctx, e.stack.AWS, fcfg.Search)
	if err != nil {
		return out, err
	}
	svc, err := lambdafn.ErasureService(e.stack.AWS, fcfg.Erasure, finder)
	if err != nil {
		return out, err
	}
	svc.TempDir = e.dataDir
	svc.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	req := erasure.Request{Operation: erasure.Erasure, Jurisdiction: "CCPA", Identifiers: c.request()}
	runtime.GC()
	start = time.Now()
	job, err := svc.Start(ctx, erasure.NewID(), req)
	if err == nil {
		job, err = svc.Run(ctx, job.ID)
	}
	out.Erase = time.Since(start)
	if err != nil {
		return out, fmt.Errorf("erasure job: %w", err)
	}
	if job.Status != erasure.StatusCompleted || job.Totals.ObjectsRewritten != eraseTargets {
		return out, fmt.Errorf("erasure job %s: %s (%s), %d lists rewritten; want %s, %d", job.ID, job.Status, job.Error,
			job.Totals.ObjectsRewritten, erasure.StatusCompleted, eraseTargets)
	}
	// The lists the job wrote stay unindexed: the scan reads the bucket.
	e.stack.HeldNotifications()

	logf(cfg, "erase: erased in %s; reading, rewriting and writing back all %d lists", out.Erase.Round(time.Millisecond), objects)
	runtime.GC()
	start = time.Now()
	if err := e.rewriteAll(ctx, keys, int64(rows)); err != nil {
		return out, err
	}
	out.Scan = time.Since(start)
	e.stack.HeldNotifications()
	return out, nil
}

// uploadList uploads a generated list of rows records (seeded by seed)
// with rowsOf planted among them as key, from a temporary file, and
// returns its size and version.
func (e *searchEnv) uploadList(ctx context.Context, key string, rows int, seed uint64, rowsOf []planted) (int64, string, error) {
	f, err := os.CreateTemp("", "veil-bench-erase-*.csv")
	if err != nil {
		return 0, "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if len(rowsOf) > 0 {
		body, err := corpusFile(rows, seed, rowsOf)
		if err != nil {
			return 0, "", err
		}
		if _, err := f.Write(body); err != nil {
			return 0, "", err
		}
	} else {
		w := bufio.NewWriterSize(f, 1<<20)
		if err := GenerateLeads(w, rows, seed); err != nil {
			return 0, "", err
		}
		if err := w.Flush(); err != nil {
			return 0, "", err
		}
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, "", err
	}
	res, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), Body: f,
		ContentLength: aws.Int64(size), ContentType: aws.String("text/csv")})
	if err != nil {
		return 0, "", fmt.Errorf("upload %s: %w", key, err)
	}
	return size, aws.ToString(res.VersionId), nil
}

// rewriteAll is the scan-everything erasure: each list in turn read,
// rewritten with rewrite.Text (every record parsed, the last one's phone
// masked) into a temporary file, written back conditionally on the version
// read, as the erasure writes, and the version read deleted, as the
// erasure purges it. It fails if a step does or a rewrite edits other than
// one record.
func (e *searchEnv) rewriteAll(ctx context.Context, keys []string, rows int64) error {
	edits := map[int64]rewrite.Edit{rows: {Record: rows, Cells: map[int]string{2: "XXX-XXX-XXXX"}}}
	for _, key := range keys {
		cur, ok, err := e.objects.Current(ctx, e.bucket, key)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("s3://%s/%s: gone", e.bucket, key)
		}
		if err := e.rewriteOne(ctx, key, cur, edits); err != nil {
			return err
		}
		if err := e.objects.DeleteVersion(ctx, e.bucket, key, cur.ID); err != nil {
			return err
		}
	}
	return nil
}

// rewriteOne rewrites version cur of key with edits and writes it back.
func (e *searchEnv) rewriteOne(ctx context.Context, key string, cur indexing.Version, edits map[int64]rewrite.Edit) error {
	src, err := e.objects.Open(ctx, e.bucket, key, cur.ID)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := os.CreateTemp(e.dataDir, "veil-bench-rewrite-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	res, err := rewrite.Text(f, src, leads.Options{}, edits)
	if err != nil {
		return fmt.Errorf("rewrite s3://%s/%s@%s: %w", e.bucket, key, cur.ID, err)
	}
	if res.Edited != 1 {
		return fmt.Errorf("rewrite s3://%s/%s@%s edited %d records, want 1", e.bucket, key, cur.ID, res.Edited)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err = e.objects.PutIfMatch(ctx, e.bucket, key, cur.ETag, f, res.BytesOut, "text/csv")
	return err
}

// indexHeld applies the held notifications' changes with svc, workers
// changes at once. It fails if an Apply does.
func indexHeld(ctx context.Context, s *stack.Stack, svc *indexing.Service, workers int) error {
	held := s.HeldNotifications()
	work := make(chan s3local.Notification)
	errs := make(chan error, len(held))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				c := indexing.ObjectChange{Bucket: n.Bucket, Key: n.Key, VersionID: n.VersionID, Sequencer: n.Sequencer,
					Size: n.Size, ETag: n.ETag, EventName: n.EventName, EventTime: n.Time}
				if err := svc.Apply(ctx, c); err != nil {
					errs <- fmt.Errorf("index %s: %w", n.Key, err)
				}
			}
		}()
	}
	for _, n := range held {
		work <- n
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

// rowsFor returns how many generated rows make a list of about size bytes,
// from the bytes per row of a sample.
func rowsFor(size int64) (int, error) {
	var sample countingWriter
	const sampleRows = 1000
	if err := GenerateLeads(&sample, sampleRows, 5); err != nil {
		return 0, err
	}
	return max(30, int(size*sampleRows/sample.n)), nil
}

// eraseFigures measures erase_cost_ratio.
func eraseFigures(ctx context.Context, cfg Config, r *Report) error {
	m, err := MeasureEraseCost(ctx, cfg, cfg.EraseObjects, cfg.EraseObjectKB)
	if err != nil {
		return err
	}
	ratio, err := Ratio(m.Erase.Seconds(), m.Scan.Seconds())
	if err != nil {
		return fmt.Errorf("erase_cost_ratio: %w", err)
	}
	logf(cfg, "erase: rewrote all %d lists in %s", m.Objects, m.Scan.Round(time.Millisecond))
	return add(r,
		figure{"erase_seconds", m.Erase.Seconds()},
		figure{"scan_rewrite_seconds", m.Scan.Seconds()},
		figure{"erase_cost_ratio", ratio},
	)
}
