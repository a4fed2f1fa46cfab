package s3local

// Conditional writes (S3's If-Match and If-None-Match on PutObject) are
// checked here, by the wrapper, rather than by s3mem: S3 answers an If-Match
// on a key with no current version (none at all, or a delete marker) with 404
// NoSuchKey, where gofakes3 answers 412, and gofakes3 ignores an
// If-None-Match other than *, which would write what the caller meant not to.

import "github.com/johannesboyne/gofakes3"

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
