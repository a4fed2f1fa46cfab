package benchmarks

// The search a bucket without an index would need: read every lead list
// and key every identifier in it as the index function does, through its
// own entry point (indexing.Service.Apply: the same reader, classification,
// normalization and keys, the same rows skipped), and compare each key
// with the consumer's instead of writing it.

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/search"
)

// Scanner finds a consumer's rows by reading whole lead lists.
type Scanner struct {
	// Objects reads the bucket (objectstore.Store on S3).
	Objects indexing.Objects
	Bucket  string
	// Secret keys the identifiers, as the index's secret does.
	Secret []byte
	// Concurrency is how many lists are read at once (default GOMAXPROCS).
	Concurrency int
}

// Scan reads the current version of every object of keys and returns how
// many rows hold one of ids, in any spelling. It fails with the
// normalizer's error for an identifier that does not normalize, with
// Apply's for a list that cannot be read, and when an object has no
// current version.
func (s *Scanner) Scan(ctx context.Context, keys []string, ids []search.Identifier) (int, error) {
	norm, err := identifiers.NewNormalizer("")
	if err != nil {
		return 0, err
	}
	idx := &matchIndex{discardIndex: discardIndex{manifests: map[string]indexing.Manifest{}}, want: map[string]bool{},
		rows: map[rowRef]bool{}}
	for _, id := range ids {
		n, err := norm.Normalize(id.Kind, id.Value)
		if err != nil {
			return 0, fmt.Errorf("scan %s: %w", id.Field, err)
		}
		idx.want[identifiers.Key(s.Secret, id.Kind, n)] = true
	}
	svc := &indexing.Service{Index: idx, Objects: s.Objects, Secret: s.Secret, Logger: slog.New(slog.DiscardHandler)}
	g, gctx := errgroup.WithContext(ctx)
	limit := s.Concurrency
	if limit <= 0 {
		limit = runtime.GOMAXPROCS(0)
	}
	g.SetLimit(limit)
	for _, key := range keys {
		g.Go(func() error {
			c := indexing.ObjectChange{Bucket: s.Bucket, Key: key, Sequencer: "01", EventName: "ObjectCreated:Put"}
			if err := svc.Apply(gctx, c); err != nil {
				return fmt.Errorf("scan s3://%s/%s: %w", s.Bucket, key, err)
			}
			if m, err := idx.Manifest(gctx, s.Bucket, key); err != nil || m.Status != indexing.StatusIndexed {
				return fmt.Errorf("scan s3://%s/%s: not read (%s, %v)", s.Bucket, key, m.Status, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return len(idx.rows), nil
}

// rowRef names one row of one list.
type rowRef struct {
	key, sheet string
	row        int64
}

// matchIndex is a discardIndex that remembers the rows of the entries whose
// key it wants.
type matchIndex struct {
	discardIndex
	want map[string]bool
	rows map[rowRef]bool
}

func (m *matchIndex) PutEntries(_ context.Context, es []indexing.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range es {
		if m.want[e.Key] {
			m.rows[rowRef{e.ObjectKey, e.Sheet, e.Row}] = true
		}
	}
	return nil
}
