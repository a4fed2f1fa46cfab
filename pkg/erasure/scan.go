package erasure

// Reading a version the index has not read yet: after a race with another
// upload, or after a crash that left the index behind the job's own write,
// the rows to edit are found in the current version itself, read as the
// index would read it, into memory that holds only the entries of the
// job's identifiers.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// errUnreadable says a version the job must edit cannot be read as a
// list: retrying does not help, the job fails naming it.
var errUnreadable = errors.New("the list cannot be read")

// scan returns the rows of bucket/key's current version holding ids, and
// how the version is read (nil when the key has no current version).
func (s *Service) scan(ctx context.Context, ids []search.Identifier, bucket, key string) ([]search.Record, *indexing.Manifest, error) {
	norm, err := identifiers.NewNormalizer(s.Region)
	if err != nil {
		return nil, nil, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		if n, err := norm.Normalize(id.Kind, id.Value); err == nil {
			want[identifiers.Key(s.Secret, id.Kind, n)] = true
		}
	}
	mem := &memIndex{columns: s.Index, want: want}
	// Read from the key's manifest, as the index would: a version with
	// the header of the last indexed one keeps its columns' classes.
	ms, err := s.Index.Manifests(ctx, [][2]string{{bucket, key}})
	if err != nil {
		return nil, nil, err
	}
	if len(ms) == 1 {
		mem.m = &ms[0]
	}
	ix := &indexing.Service{Index: mem, Objects: s.Bucket, Secret: s.Secret, KeyID: s.KeyID, Region: s.Region,
		Logger: slog.New(slog.DiscardHandler)}
	err = ix.Apply(ctx, indexing.ObjectChange{Bucket: bucket, Key: key, Reconcile: true, Force: true, EventName: "Erasure"})
	var ie *indexing.InputError
	if errors.As(err, &ie) {
		return nil, nil, fmt.Errorf("s3://%s/%s@%s cannot be read to erase it: %s: %w", bucket, key, ie.VersionID, ie.Reason, errUnreadable)
	}
	if err != nil {
		return nil, nil, err
	}
	if mem.m == nil || mem.m.Status != indexing.StatusIndexed {
		return nil, nil, nil
	}
	sr := &search.Service{Index: mem, Objects: s.Bucket, Secret: s.Secret, Region: s.Region}
	res, err := sr.Search(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	var recs []search.Record
	for _, r := range res.Records {
		if !r.PlaceholderOnly {
			recs = append(recs, r)
		}
	}
	m := *mem.m
	return recs, &m, nil
}

// memIndex is one object's index in memory, as indexing.Service writes it
// and search.Service reads it, keeping only the entries of want.
type memIndex struct {
	columns interface {
		ColumnMap(ctx context.Context, campaign string) (indexing.ColumnMap, error)
	}
	want map[string]bool

	mu      sync.Mutex
	m       *indexing.Manifest
	entries []indexing.Entry
}

var (
	_ indexing.Index = (*memIndex)(nil)
	_ search.Index   = (*memIndex)(nil)
)

func (x *memIndex) Manifest(_ context.Context, bucket, key string) (indexing.Manifest, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.m == nil {
		return indexing.Manifest{}, fmt.Errorf("s3://%s/%s: %w", bucket, key, veil.ErrNotFound)
	}
	return *x.m, nil
}

func (x *memIndex) Claim(_ context.Context, m indexing.Manifest, _ string) (bool, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.m = &m
	return true, nil
}

func (x *memIndex) Finish(ctx context.Context, m indexing.Manifest) (bool, error) {
	return x.Claim(ctx, m, "")
}

func (x *memIndex) PutEntries(_ context.Context, entries []indexing.Entry) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, e := range entries {
		if x.want[e.Key] {
			x.entries = append(x.entries, e)
		}
	}
	return nil
}

func (x *memIndex) DeleteEntries(context.Context, string, string, indexing.KeepFunc) (int, error) {
	return 0, nil
}

func (x *memIndex) ColumnMap(ctx context.Context, campaign string) (indexing.ColumnMap, error) {
	return x.columns.ColumnMap(ctx, campaign)
}

func (x *memIndex) Lookup(_ context.Context, key string, _ bool) ([]indexing.Entry, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []indexing.Entry
	for _, e := range x.entries {
		if e.Key == key {
			out = append(out, e)
		}
	}
	return out, nil
}

func (x *memIndex) Manifests(context.Context, [][2]string) ([]indexing.Manifest, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.m == nil {
		return nil, nil
	}
	return []indexing.Manifest{*x.m}, nil
}

func (x *memIndex) DeleteEntry(context.Context, indexing.Entry) error { return nil }

func (x *memIndex) Coverage(context.Context) (indexing.Coverage, error) {
	return indexing.Coverage{}, nil
}
