package s3local

// Conditional writes (S3's If-Match and If-None-Match on PutObject) are
// checked here, by the wrapper, rather than by s3mem: S3 answers an If-Match
// on a key with no current version (none at all, or a delete marker) with 404
// NoSuchKey, where gofakes3 answers 412, and gofakes3 ignores an
// If-None-Match other than *, which would write what the caller meant not to.

import (
	"sync"

	"github.com/johannesboyne/gofakes3"
)

// checkPut returns nil when a PutObject of key under conditions may write;
// the caller holds b.mu. Otherwise it returns gofakes3's error for what S3
// answers: NoSuchBucket; PreconditionFailed (412) for If-None-Match: * on a
// key with a current version, or an If-Match ETag that is not the current
// version's; NoSuchKey (404) for If-Match on a key without a current
// version; NotImplemented for an If-None-Match other than *.
func (b *Backend) checkPut(bucket, key string, conditions *gofakes3.PutConditions) error {
	if ok, err := b.Backend.BucketExists(bucket); err != nil || !ok {
		return gofakes3.BucketNotFound(bucket)
	}
	if c := conditions.IfNoneMatch; c != nil && *c != "*" {
		return gofakes3.ErrorMessage(gofakes3.ErrNotImplemented, "If-None-Match on a write takes only *")
	}
	current := &gofakes3.ConditionalObjectInfo{}
	obj, err := b.Backend.HeadObject(bucket, key)
	switch {
	case err == nil:
		obj.Contents.Close()
		current.Exists, current.Hash = true, obj.Hash
	case !gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey):
		return err
	}
	if conditions.IfMatch != nil && !current.Exists {
		return gofakes3.KeyNotFound(key)
	}
	return gofakes3.CheckPutConditions(conditions, current)
}

// completing holds the conditions of the CompleteMultipartUpload requests
// being served, by bucket and key: gofakes3 assembles the parts and writes
// the object through PutObject without them, so Server hands them over
// here, one complete of a key at a time.
type completing struct {
	mu    sync.Mutex
	keys  map[string]*gofakes3.PutConditions
	locks map[string]*sync.Mutex
}

// withConditions runs serve, a CompleteMultipartUpload of bucket/key, with
// the write it makes checked against conditions.
func (b *Backend) withConditions(bucket, key string, conditions *gofakes3.PutConditions, serve func()) {
	c := &b.completing
	id := bucket + "/" + key
	c.mu.Lock()
	if c.locks == nil {
		c.locks, c.keys = map[string]*sync.Mutex{}, map[string]*gofakes3.PutConditions{}
	}
	l, ok := c.locks[id]
	if !ok {
		l = &sync.Mutex{}
		c.locks[id] = l
	}
	c.mu.Unlock()
	l.Lock()
	defer l.Unlock()
	c.mu.Lock()
	c.keys[id] = conditions
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.keys, id)
		c.mu.Unlock()
	}()
	serve()
}

// completeConditions returns the conditions of a CompleteMultipartUpload
// of bucket/key being served (nil for none).
func (b *Backend) completeConditions(bucket, key string) *gofakes3.PutConditions {
	c := &b.completing
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keys[bucket+"/"+key]
}
