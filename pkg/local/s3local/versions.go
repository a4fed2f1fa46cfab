package s3local

// Deleting the current version of a key that has older ones makes the newest
// older one current again on S3. s3mem cannot: it drops the current version
// and leaves the key with none, then panics on the key's next read, and it
// has no way to make a stored version current or to choose a new version's
// ID. So the wrapper stores a copy of that older version (its body, metadata
// and time) as the key's newest s3mem version, removes the original and the
// deleted one, and names the copy, to clients, by the original's version ID:
// aliases maps one to the other, and every read that returns version IDs
// goes through it. s3mem's version IDs increase with each write, and the
// copy is written when it is the key's newest version, so its order among
// the key's versions stays that of the original.
//
// The journal holds only the DeleteObjectVersion, with the ID clients know;
// replaying it repeats these steps on the same state, so the copy gets the
// same s3mem ID and the version IDs s3mem hands out afterwards are the same
// as before the restart.

import (
	"bytes"
	"io"
	"maps"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// versionRef is one version ID in one bucket (s3mem's version IDs are
// unique across buckets, but a bucket deleted and made again starts afresh).
type versionRef struct {
	bucket string
	id     gofakes3.VersionID
}

// aliases maps the version IDs clients know to the s3mem IDs of the copies
// that hold those versions now, and back. A version never copied is under
// its own ID and has no entry. The caller holds Backend.mu.
type aliases struct {
	inner map[versionRef]gofakes3.VersionID // client's ID → s3mem's
	outer map[versionRef]gofakes3.VersionID // s3mem's ID → client's
}

func newAliases() aliases {
	return aliases{inner: map[versionRef]gofakes3.VersionID{}, outer: map[versionRef]gofakes3.VersionID{}}
}

// toInner returns the s3mem ID of the version clients call id; false when
// id is the s3mem ID of a copy, which no client has been told.
func (a aliases) toInner(bucket string, id gofakes3.VersionID) (gofakes3.VersionID, bool) {
	if in, ok := a.inner[versionRef{bucket, id}]; ok {
		return in, true
	}
	if _, ok := a.outer[versionRef{bucket, id}]; ok {
		return "", false
	}
	return id, true
}

// toOuter returns the ID clients know the s3mem version id by.
func (a aliases) toOuter(bucket string, id gofakes3.VersionID) gofakes3.VersionID {
	if out, ok := a.outer[versionRef{bucket, id}]; ok {
		return out
	}
	return id
}

// set names the s3mem version inner, to clients, outer.
func (a aliases) set(bucket string, inner, outer gofakes3.VersionID) {
	if inner == outer {
		return
	}
	a.inner[versionRef{bucket, outer}] = inner
	a.outer[versionRef{bucket, inner}] = outer
}

// drop forgets the name of the s3mem version inner, which is gone.
func (a aliases) drop(bucket string, inner gofakes3.VersionID) {
	if out, ok := a.outer[versionRef{bucket, inner}]; ok {
		delete(a.outer, versionRef{bucket, inner})
		delete(a.inner, versionRef{bucket, out})
	}
}

// dropBucket forgets every name in bucket, which is gone.
func (a aliases) dropBucket(bucket string) {
	for ref, out := range a.outer {
		if ref.bucket == bucket {
			delete(a.outer, ref)
			delete(a.inner, versionRef{bucket, out})
		}
	}
}

// storedVersion is one s3mem version of a key, delete markers included.
type storedVersion struct {
	id       gofakes3.VersionID // s3mem's
	latest   bool
	marker   bool
	modified time.Time
}

// keyVersions returns the s3mem versions of key, exactly that key; the
// caller holds b.mu. It returns gofakes3's NoSuchBucket error for a missing
// bucket.
func (b *Backend) keyVersions(bucket, key string) ([]storedVersion, error) {
	prefix := gofakes3.NewPrefix(&key, nil)
	res, err := b.Backend.ListBucketVersions(bucket, &prefix, nil)
	if err != nil {
		return nil, err
	}
	var out []storedVersion
	for _, v := range res.Versions {
		switch x := v.(type) {
		case *gofakes3.Version:
			if x.Key == key {
				out = append(out, storedVersion{id: x.VersionID, latest: x.IsLatest, modified: x.LastModified.Time})
			}
		case *gofakes3.DeleteMarker:
			if x.Key == key {
				out = append(out, storedVersion{id: x.VersionID, latest: x.IsLatest, marker: true, modified: x.LastModified.Time})
			}
		}
	}
	return out, nil
}

// removeVersion permanently deletes the version of key that clients call
// version, as S3 does: when it is the current version and older ones
// remain, the newest of those (a delete marker, perhaps) becomes current.
// The caller holds b.mu and has frozen the clock. It returns an empty
// result, and no error, when there is no such version, and gofakes3's
// NoSuchBucket error for a missing bucket.
func (b *Backend) removeVersion(bucket, key string, version gofakes3.VersionID) (gofakes3.ObjectDeleteResult, error) {
	cfg, err := b.Backend.VersioningConfiguration(bucket)
	if err != nil {
		return gofakes3.ObjectDeleteResult{}, err
	}
	inner, ok := b.aliases.toInner(bucket, version)
	if !ok {
		return gofakes3.ObjectDeleteResult{}, nil
	}
	if cfg.Status == gofakes3.VersioningNone {
		// Never versioned: one version a key, which s3mem deletes right
		// (and lists without IDs, so there is nothing to look up).
		return b.Backend.DeleteObjectVersion(bucket, key, inner)
	}
	versions, err := b.keyVersions(bucket, key)
	if err != nil {
		return gofakes3.ObjectDeleteResult{}, err
	}
	var target, prev *storedVersion
	for i := range versions {
		v := &versions[i]
		switch {
		case v.id == inner:
			target = v
		case !v.latest && (prev == nil || v.id > prev.id):
			prev = v
		}
	}
	if target == nil {
		return gofakes3.ObjectDeleteResult{}, nil
	}
	res := gofakes3.ObjectDeleteResult{VersionID: version, IsDeleteMarker: target.marker}
	if !target.latest || prev == nil {
		// Not current, or the key's only version: s3mem removes it right.
		if _, err := b.Backend.DeleteObjectVersion(bucket, key, inner); err != nil {
			return gofakes3.ObjectDeleteResult{}, err
		}
		b.aliases.drop(bucket, inner)
		return res, nil
	}
	if err := b.promote(bucket, key, *target, *prev, cfg.Status); err != nil {
		return gofakes3.ObjectDeleteResult{}, err
	}
	return res, nil
}

// promote makes prev, an older version of key, current under its own
// (client's) version ID, and removes cur, the current version; the caller
// holds b.mu.
func (b *Backend) promote(bucket, key string, cur, prev storedVersion, status gofakes3.VersioningStatus) error {
	if status != gofakes3.VersioningEnabled {
		// s3mem keeps a key's older versions only while versioning is on.
		if err := b.Backend.SetVersioningConfiguration(bucket, gofakes3.VersioningConfiguration{Status: gofakes3.VersioningEnabled}); err != nil {
			return err
		}
		defer b.Backend.SetVersioningConfiguration(bucket, gofakes3.VersioningConfiguration{Status: status})
	}
	at := b.clock.Now()
	defer b.clock.set(at)

	gone := []gofakes3.VersionID{cur.id, prev.id}
	var copyID gofakes3.VersionID
	if prev.marker {
		b.clock.set(prev.modified)
		res, err := b.Backend.DeleteObject(bucket, key)
		if err != nil {
			return err
		}
		copyID = res.VersionID
		b.step()
	} else {
		obj, err := b.Backend.GetObjectVersion(bucket, key, prev.id, nil)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(obj.Contents)
		obj.Contents.Close()
		if err != nil {
			return err
		}
		// A delete marker over cur first: s3mem's PutObject carries the
		// current version's metadata over into the new one, and the copy
		// must have prev's alone.
		hide, err := b.Backend.DeleteObject(bucket, key)
		if err != nil {
			return err
		}
		gone = append(gone, hide.VersionID)
		b.step()
		b.clock.set(prev.modified)
		res, err := b.Backend.PutObject(bucket, key, maps.Clone(obj.Metadata), bytes.NewReader(body), int64(len(body)), nil)
		if err != nil {
			return err
		}
		copyID = res.VersionID
		b.step()
	}
	// All of these are older than the copy now, so s3mem removes them
	// right.
	for _, id := range gone {
		if _, err := b.Backend.DeleteObjectVersion(bucket, key, id); err != nil {
			return err
		}
		b.step()
	}
	name := b.aliases.toOuter(bucket, prev.id)
	b.aliases.drop(bucket, prev.id)
	b.aliases.drop(bucket, cur.id)
	b.aliases.set(bucket, copyID, name)
	return nil
}

// step runs the test pause, if any, between two steps of a mutation.
func (b *Backend) step() {
	if b.pause != nil {
		b.pause()
	}
}

// The reads below are s3mem's, under b.mu and with s3mem's version IDs
// given as clients know them.

// ListBucket lists a bucket's current objects; see gofakes3.Backend. It
// returns gofakes3's NoSuchBucket error for a missing bucket.
func (b *Backend) ListBucket(bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.Backend.ListBucket(bucket, prefix, page)
}

// VersioningConfiguration returns a bucket's versioning; see
// gofakes3.VersionedBackend. It returns gofakes3's NoSuchBucket error for a
// missing bucket.
func (b *Backend) VersioningConfiguration(bucket string) (gofakes3.VersioningConfiguration, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.Backend.VersioningConfiguration(bucket)
}

// GetObject returns key's current version; see gofakes3.Backend. It
// returns gofakes3's NoSuchBucket error for a missing bucket, and NoSuchKey
// when key has no current version (none, or a delete marker).
func (b *Backend) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	obj, err := b.Backend.GetObject(bucket, key, rng)
	return b.named(bucket, obj), err
}

// HeadObject returns key's current version without its body; see
// gofakes3.Backend. It fails as GetObject does.
func (b *Backend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	obj, err := b.Backend.HeadObject(bucket, key)
	return b.named(bucket, obj), err
}

// GetObjectVersion returns one version of key (the current one for an
// empty version); see gofakes3.VersionedBackend. It returns
// gofakes3.ErrNoSuchVersion for a version key does not have, and
// gofakes3's NoSuchBucket or NoSuchKey error for a missing bucket or key.
func (b *Backend) GetObjectVersion(bucket, key string, version gofakes3.VersionID, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	inner, ok := b.aliases.toInner(bucket, version)
	if !ok {
		return nil, gofakes3.ErrNoSuchVersion
	}
	obj, err := b.Backend.GetObjectVersion(bucket, key, inner, rng)
	return b.named(bucket, obj), err
}

// HeadObjectVersion returns one version of key without its body; see
// gofakes3.VersionedBackend. It fails as GetObjectVersion does.
func (b *Backend) HeadObjectVersion(bucket, key string, version gofakes3.VersionID) (*gofakes3.Object, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	inner, ok := b.aliases.toInner(bucket, version)
	if !ok {
		return nil, gofakes3.ErrNoSuchVersion
	}
	obj, err := b.Backend.HeadObjectVersion(bucket, key, inner)
	return b.named(bucket, obj), err
}

// ListBucketVersions lists versions and delete markers; see
// gofakes3.VersionedBackend. It returns gofakes3's NoSuchBucket error for a
// missing bucket.
func (b *Backend) ListBucketVersions(bucket string, prefix *gofakes3.Prefix, page *gofakes3.ListBucketVersionsPage) (*gofakes3.ListBucketVersionsResult, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var marker gofakes3.VersionID
	if page != nil && page.HasVersionIDMarker {
		marker = page.VersionIDMarker
		p := *page
		if inner, ok := b.aliases.toInner(bucket, marker); ok {
			p.VersionIDMarker = inner
		}
		page = &p
	}
	res, err := b.Backend.ListBucketVersions(bucket, prefix, page)
	if res == nil {
		return res, err
	}
	if marker != "" {
		res.VersionIDMarker = marker
	}
	res.NextVersionIDMarker = b.aliases.toOuter(bucket, res.NextVersionIDMarker)
	for _, v := range res.Versions {
		switch x := v.(type) {
		case *gofakes3.Version:
			x.VersionID = b.aliases.toOuter(bucket, x.VersionID)
		case *gofakes3.DeleteMarker:
			x.VersionID = b.aliases.toOuter(bucket, x.VersionID)
		}
	}
	return res, err
}

// named gives obj the version ID clients know it by.
func (b *Backend) named(bucket string, obj *gofakes3.Object) *gofakes3.Object {
	if obj != nil {
		obj.VersionID = b.aliases.toOuter(bucket, obj.VersionID)
	}
	return obj
}
