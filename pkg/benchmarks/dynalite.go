package benchmarks

// Indexing on dynalite: the index function's entry point,
// indexing.Service.Apply, writing through indexstore.Store into an Index
// table created as the local stack creates it, over lead lists generated
// as they are read, never held. index_rss_growth's children and
// index_entries_per_s_dynalite run on it; a figure of larger lists needs
// nothing more than other sizes (ListIndexer.Put).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/local/dynalite"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/veil"
)

// IndexTable is a dynalite of its own holding an Index table.
type IndexTable struct {
	// Endpoint is dynalite's URL; Table the table's name.
	Endpoint, Table string

	proc *dynalite.Process
}

// StartIndexTable starts dynalite (root's node_modules) on a free port,
// its data in memory (the local stack keeps it on disk, a quarter slower
// to write: these figures run lists of tens of thousands of rows through
// it), and creates the Index table of root's template.yaml. Close stops
// it. It fails if dynalite does not start or the table cannot be created.
func StartIndexTable(ctx context.Context, root string) (*IndexTable, error) {
	script, err := dynalite.FindScript(root)
	if err != nil {
		return nil, err
	}
	proc, err := dynalite.Start(ctx, dynalite.Options{Script: script})
	if err != nil {
		return nil, err
	}
	t := &IndexTable{Endpoint: proc.URL, proc: proc}
	if t.Table, err = stack.CreateTable(ctx, dynamoClient(proc.URL), root, "IndexTable"); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// Close stops dynalite.
func (t *IndexTable) Close() { t.proc.Stop() }

// dynamoClient is a DynamoDB client of endpoint with the local stack's
// region and credentials.
func dynamoClient(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(aws.Config{Region: stack.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

// generatedBucket is the bucket ListIndexer's lists are in.
const generatedBucket = "veil-bench-leads"

// generatedList is one version of an object: a generated lead list.
type generatedList struct {
	version indexing.Version
	rows    int
	seed    uint64
}

// generatedObjects is an indexing.Objects whose objects are generated lead
// lists: Open streams GenerateLeads through a pipe, so that a list of any
// size costs the reader's memory, never the list's.
type generatedObjects struct {
	mu       sync.Mutex
	current  map[string]generatedList // by key; absent when removed
	versions map[string]generatedList // by key "@" version ID
}

var _ indexing.Objects = (*generatedObjects)(nil)

func newGeneratedObjects() *generatedObjects {
	return &generatedObjects{current: map[string]generatedList{}, versions: map[string]generatedList{}}
}

// put makes a list of rows records of seed the current version of key and
// returns its version. Its size is counted by generating it once.
func (o *generatedObjects) put(key string, rows int, seed uint64) (indexing.Version, error) {
	var size countingWriter
	if err := GenerateLeads(&size, rows, seed); err != nil {
		return indexing.Version{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	v := indexing.Version{ID: fmt.Sprintf("v%d", len(o.versions)+1), Size: size.n}
	l := generatedList{version: v, rows: rows, seed: seed}
	o.current[key], o.versions[key+"@"+v.ID] = l, l
	return v, nil
}

// remove deletes key: it has no current version from then on.
func (o *generatedObjects) remove(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.current, key)
}

func (o *generatedObjects) Current(_ context.Context, _, key string) (indexing.Version, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	l, ok := o.current[key]
	return l.version, ok, nil
}

// Versions returns the current version alone: the generated bucket keeps
// no noncurrent versions (as if they expired at once), so that replacing
// and removing a list leave only the current version's entries, the
// figures the benchmarks compare.
func (o *generatedObjects) Versions(_ context.Context, _, key string) ([]string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if l, ok := o.current[key]; ok {
		return []string{l.version.ID}, nil
	}
	return nil, nil
}

func (o *generatedObjects) Open(_ context.Context, bucket, key, versionID string) (io.ReadCloser, error) {
	o.mu.Lock()
	l, ok := o.versions[key+"@"+versionID]
	o.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("s3://%s/%s@%s: %w", bucket, key, versionID, veil.ErrNotFound)
	}
	pr, pw := io.Pipe()
	// Closing the reader stops the generator: its next write fails.
	go func() { pw.CloseWithError(GenerateLeads(pw, l.rows, l.seed)) }()
	return pr, nil
}

// countingWriter counts the bytes written to it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// ListIndexer applies the changes of generated lists to an Index table with
// indexing.Service.Apply, the index function's entry point, and
// indexstore.Store, its store: each change as S3 would notify it, in order.
type ListIndexer struct {
	store   *indexstore.Store
	objects *generatedObjects
	svc     *indexing.Service
	seq     int
}

// NewListIndexer returns a ListIndexer writing to table at endpoint with
// writers BatchWriteItem calls in flight (indexstore.Store.Writers; below 1
// keeps the store's default).
func NewListIndexer(endpoint, table string, writers int) *ListIndexer {
	store := indexstore.New(dynamoClient(endpoint), table)
	if writers > 0 {
		store.Writers = writers
	}
	objects := newGeneratedObjects()
	return &ListIndexer{store: store, objects: objects, svc: &indexing.Service{Index: store, Objects: objects,
		Secret: benchSecret, Logger: slog.New(slog.DiscardHandler)}}
}

// Writers returns how many BatchWriteItem calls the store keeps in flight.
func (l *ListIndexer) Writers() int { return l.store.Writers }

// Put creates key, or replaces it, with a generated list of rows records
// of seed, applies the change and returns the key's manifest and how long
// Apply took. It fails if Apply does, or if the manifest does not say the
// list's rows are indexed.
func (l *ListIndexer) Put(ctx context.Context, key string, rows int, seed uint64) (indexing.Manifest, time.Duration, error) {
	v, err := l.objects.put(key, rows, seed)
	if err != nil {
		return indexing.Manifest{}, 0, err
	}
	d, err := l.apply(ctx, indexing.ObjectChange{Bucket: generatedBucket, Key: key, VersionID: v.ID, Size: v.Size,
		EventName: "ObjectCreated:Put"})
	if err != nil {
		return indexing.Manifest{}, 0, err
	}
	m, err := l.store.Manifest(ctx, generatedBucket, key)
	if err != nil {
		return indexing.Manifest{}, 0, err
	}
	if m.Status != indexing.StatusIndexed || m.VersionID != v.ID || m.Rows != int64(rows) {
		return m, 0, fmt.Errorf("benchmarks: %s@%s is %s at %s with %d rows, want indexed with %d", key, v.ID, m.Status, m.VersionID, m.Rows, rows)
	}
	return m, d, nil
}

// Remove deletes key, applies the change and returns how long Apply took.
// It fails if Apply does, if the manifest does not say the key is removed,
// or if an entry of the key is left.
func (l *ListIndexer) Remove(ctx context.Context, key string) (time.Duration, error) {
	l.objects.remove(key)
	d, err := l.apply(ctx, indexing.ObjectChange{Bucket: generatedBucket, Key: key, Removed: true,
		EventName: "ObjectRemoved:Delete"})
	if err != nil {
		return 0, err
	}
	m, err := l.store.Manifest(ctx, generatedBucket, key)
	if err != nil {
		return 0, err
	}
	if m.Status != indexing.StatusRemoved {
		return 0, fmt.Errorf("benchmarks: %s is %s after its removal, want removed", key, m.Status)
	}
	// A rule that keeps every version deletes nothing and sees every entry
	// left: the store's own query of an object's entries.
	left := 0
	if _, err := l.store.DeleteEntries(ctx, generatedBucket, key, func(context.Context) (func(string, string) bool, error) {
		return func(string, string) bool { left++; return true }, nil
	}); err != nil {
		return 0, err
	}
	if left != 0 {
		return 0, fmt.Errorf("benchmarks: %s has %d entries after its removal, want none", key, left)
	}
	return d, nil
}

// apply applies c with the key's next sequencer and returns how long it
// took.
func (l *ListIndexer) apply(ctx context.Context, c indexing.ObjectChange) (time.Duration, error) {
	l.seq++
	c.Sequencer = fmt.Sprintf("%016X", l.seq)
	start := time.Now()
	if err := l.svc.Apply(ctx, c); err != nil {
		return 0, fmt.Errorf("apply %s of %s: %w", c.EventName, c.Key, err)
	}
	return time.Since(start), nil
}
