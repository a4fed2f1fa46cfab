package benchmarks

// Decoding cost: the same generated list indexed as UTF-8 and as
// Windows-1252 (Excel's CSV) through the index function's own entry point,
// indexing.Service.Apply, with a store that keeps manifests and discards
// entries and an object source that serves the bytes from memory, so that
// the figure is the reader's and the indexer's, not dynalite's.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/veil"
)

// discardIndex is an indexing.Index that keeps manifests and counts
// entries without storing them.
type discardIndex struct {
	mu        sync.Mutex
	manifests map[string]indexing.Manifest
	entries   int64
}

var _ indexing.Index = (*discardIndex)(nil)

func (d *discardIndex) Manifest(_ context.Context, bucket, key string) (indexing.Manifest, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m, ok := d.manifests[bucket+"/"+key]
	if !ok {
		return indexing.Manifest{}, fmt.Errorf("manifest %s/%s: %w", bucket, key, veil.ErrNotFound)
	}
	return m, nil
}

func (d *discardIndex) put(m indexing.Manifest) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.manifests[m.Bucket+"/"+m.Key] = m
	return true, nil
}

func (d *discardIndex) Claim(_ context.Context, m indexing.Manifest, _ string) (bool, error) {
	return d.put(m)
}
func (d *discardIndex) Finish(_ context.Context, m indexing.Manifest) (bool, error) { return d.put(m) }

func (d *discardIndex) PutEntries(_ context.Context, es []indexing.Entry) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.entries += int64(len(es))
	return nil
}

func (d *discardIndex) DeleteEntries(context.Context, string, string, indexing.KeepFunc) (int, error) {
	return 0, nil
}

func (d *discardIndex) ColumnMap(context.Context, string) (indexing.ColumnMap, error) {
	return indexing.ColumnMap{Columns: map[string]string{}}, nil
}

// memObjects serves one version of every key from memory.
type memObjects struct{ data []byte }

func (o memObjects) Current(context.Context, string, string) (indexing.Version, bool, error) {
	return indexing.Version{ID: "v1", Size: int64(len(o.data))}, true, nil
}

func (o memObjects) Versions(context.Context, string, string) ([]string, error) {
	return []string{"v1"}, nil
}

func (o memObjects) Open(context.Context, string, string, string) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(o.data)), nil
}

// ApplyRate indexes data once through indexing.Service.Apply and returns
// the rows per second. It fails when Apply does or the manifest does not
// count wantRows rows.
func ApplyRate(data []byte, wantRows int) (float64, error) {
	idx := &discardIndex{manifests: map[string]indexing.Manifest{}}
	svc := &indexing.Service{Index: idx, Objects: memObjects{data}, Secret: benchSecret, BatchSize: 500,
		Logger: slog.New(slog.DiscardHandler)}
	c := indexing.ObjectChange{Bucket: "bench", Key: "campaigns/bench/list.csv", VersionID: "v1", Sequencer: "01",
		Size: int64(len(data)), EventName: "ObjectCreated:Put"}
	start := time.Now()
	if err := svc.Apply(context.Background(), c); err != nil {
		return 0, err
	}
	d := time.Since(start)
	m, err := idx.Manifest(context.Background(), c.Bucket, c.Key)
	if err != nil {
		return 0, err
	}
	if m.Status != indexing.StatusIndexed || m.Rows != int64(wantRows) {
		return 0, fmt.Errorf("benchmarks: indexed %d rows (%s), want %d", m.Rows, m.Status, wantRows)
	}
	return PerSecond(float64(wantRows), d)
}

// EncodingRates indexes the generated list of rows records as UTF-8 and as
// Windows-1252 on one core, alternating runs times, and returns the best
// rows per second of each. It fails as ApplyRate does, or when the list
// cannot be written in Windows-1252.
func EncodingRates(rows, runs int) (utf8Rate, cp1252Rate float64, err error) {
	data, err := GenerateFile(rows)
	if err != nil {
		return 0, 0, err
	}
	ansi, err := charmap.Windows1252.NewEncoder().Bytes(data)
	if err != nil {
		return 0, 0, fmt.Errorf("benchmarks: the list in Windows-1252: %w", err)
	}
	if bytes.Equal(ansi, data) {
		return 0, 0, fmt.Errorf("benchmarks: the generated list is ASCII, so Windows-1252 decoding would not be measured")
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	for range max(1, runs) {
		u, err := ApplyRate(data, rows)
		if err != nil {
			return 0, 0, err
		}
		w, err := ApplyRate(ansi, rows)
		if err != nil {
			return 0, 0, err
		}
		utf8Rate, cp1252Rate = max(utf8Rate, u), max(cp1252Rate, w)
	}
	return utf8Rate, cp1252Rate, nil
}
