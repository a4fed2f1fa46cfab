// Package s3local is the local stack's S3: gofakes3's versioned in-memory
// backend, made durable by a journal of every mutation (replayed at start
// with the same version-ID seed, so version IDs survive a restart), made to
// keep S3's version semantics where s3mem does not (versions.go) and to
// honour conditional writes as S3 does (conditions.go), and emitting the
// change notifications S3 sends to its event destinations.
package s3local

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Notification is one object change as S3 reports it to an event
// destination.
type Notification struct {
	EventName string // e.g. "ObjectCreated:Put", "ObjectRemoved:DeleteMarkerCreated"
	Bucket    string
	Key       string
	Size      int64
	ETag      string
	VersionID string
	// Sequencer orders the events of one key: a later change has a greater
	// sequencer (compare after left-padding to equal length).
	Sequencer string
	Time      time.Time
}

// Backend is a gofakes3 backend (with versioning) that journals mutations
// under Dir and calls Notify after every object change.
type Backend struct {
	*s3mem.Backend

	// mu is held to write by every mutation and to read by every read that
	// sees versions, so that a mutation of several s3mem steps (versions.go)
	// is seen whole.
	mu      sync.RWMutex
	aliases aliases
	dir     string
	journal *os.File
	clock   *replayClock
	// lockNow, when set, is the clock Object Lock retention is judged by.
	lockNow func() time.Time
	notify  func(Notification)
	lastSeq uint64
	// pause, when set (by tests), runs between the s3mem steps of one
	// mutation, with b.mu held.
	pause func()
	// completing hands the conditions of multipart completes to PutObject.
	completing completing
	// locks holds each Object Lock bucket's default retention, retained
	// each version's retention (lock.go); both under b.mu.
	locks    map[string]lockRule
	retained map[lockRef]retention
}

var (
	_ gofakes3.Backend          = (*Backend)(nil)
	_ gofakes3.VersionedBackend = (*Backend)(nil)
)

// Open loads the store under dir (created if missing; empty dir means memory
// only) and returns it; notify may be nil. It returns an error if the
// journal cannot be read or replayed.
func Open(dir string, notify func(Notification)) (*Backend, error) {
	b := &Backend{dir: dir, clock: &replayClock{}, notify: notify, aliases: newAliases(),
		locks: map[string]lockRule{}, retained: map[lockRef]retention{}}
	seed, err := b.loadSeed()
	if err != nil {
		return nil, err
	}
	b.Backend = s3mem.New(s3mem.WithVersionSeed(seed), s3mem.WithTimeSource(b.clock))
	if dir == "" {
		return b, nil
	}
	if err := b.replay(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "journal.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("s3 journal: %w", err)
	}
	b.journal = f
	return b, nil
}

// Close closes the journal.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.journal == nil {
		return nil
	}
	err := b.journal.Close()
	b.journal = nil
	return err
}

func (b *Backend) loadSeed() (int64, error) {
	var raw [8]byte
	if b.dir == "" {
		_, err := rand.Read(raw[:])
		return int64(binary.LittleEndian.Uint64(raw[:]) >> 1), err
	}
	if err := os.MkdirAll(filepath.Join(b.dir, "blobs"), 0o700); err != nil {
		return 0, fmt.Errorf("s3 store %s: %w", b.dir, err)
	}
	path := filepath.Join(b.dir, "seed")
	if s, err := os.ReadFile(path); err == nil {
		var seed int64
		if _, err := fmt.Sscan(string(s), &seed); err != nil {
			return 0, fmt.Errorf("s3 seed %s: %w", path, err)
		}
		return seed, nil
	}
	if _, err := rand.Read(raw[:]); err != nil {
		return 0, err
	}
	seed := int64(binary.LittleEndian.Uint64(raw[:]) >> 1)
	return seed, os.WriteFile(path, []byte(fmt.Sprint(seed)), 0o600)
}

// entry is one journaled mutation.
type entry struct {
	Op         string                            `json:"op"`
	Time       time.Time                         `json:"time"`
	Bucket     string                            `json:"bucket"`
	Key        string                            `json:"key,omitempty"`
	Meta       map[string]string                 `json:"meta,omitempty"`
	Blob       string                            `json:"blob,omitempty"`
	VersionID  string                            `json:"versionId,omitempty"`
	Keys       []string                          `json:"keys,omitempty"`
	Objects    []gofakes3.ObjectID               `json:"objects,omitempty"`
	Versioning *gofakes3.VersioningConfiguration `json:"versioning,omitempty"`
	// Lock is SetObjectLock's rule; Retention a version's, set by
	// SetRetention or by the PutObject that made it.
	Lock      *lockRule  `json:"lock,omitempty"`
	Retention *retention `json:"retention,omitempty"`
}

func (b *Backend) replay() error {
	f, err := os.Open(filepath.Join(b.dir, "journal.jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("s3 journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var whole int64 // bytes of the journal made of whole, applied lines
	for line := 1; sc.Scan(); line++ {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			if sc.Scan() {
				return fmt.Errorf("s3 journal line %d: %w", line, err)
			}
			// A torn last line from a crash: what came before it is whole.
			// Cut it off, or the next entry appended would be glued to it
			// and lost, with everything after it, at the next start.
			if err := os.Truncate(f.Name(), whole); err != nil {
				return fmt.Errorf("s3 journal: %w", err)
			}
			break
		}
		b.clock.set(e.Time)
		if err := b.apply(e); err != nil {
			return fmt.Errorf("s3 journal line %d (%s %s): %w", line, e.Op, e.Bucket, err)
		}
		whole += int64(len(sc.Bytes())) + 1
	}
	b.clock.set(time.Time{})
	return sc.Err()
}

func (b *Backend) apply(e entry) error {
	var err error
	switch e.Op {
	case "CreateBucket":
		err = b.Backend.CreateBucket(e.Bucket)
	case "DeleteBucket":
		err = b.Backend.DeleteBucket(e.Bucket)
	case "ForceDeleteBucket":
		err = b.forceDeleteBucket(e.Bucket)
	case "SetVersioning":
		err = b.Backend.SetVersioningConfiguration(e.Bucket, *e.Versioning)
	case "SetObjectLock":
		err = b.setLock(e.Bucket, *e.Lock)
	case "SetRetention":
		b.retained[lockRef{e.Bucket, e.Key, e.VersionID}] = *e.Retention
	case "PutObject":
		var body []byte
		if body, err = os.ReadFile(filepath.Join(b.dir, "blobs", e.Blob)); err == nil {
			var res gofakes3.PutObjectResult
			res, err = b.Backend.PutObject(e.Bucket, e.Key, e.Meta, bytes.NewReader(body), int64(len(body)), nil)
			if err == nil && e.Retention != nil {
				b.retained[lockRef{e.Bucket, e.Key, string(res.VersionID)}] = *e.Retention
			}
		}
	case "DeleteObject":
		_, err = b.Backend.DeleteObject(e.Bucket, e.Key)
	case "DeleteMulti":
		_, err = b.Backend.DeleteMulti(e.Bucket, e.Keys...)
	case "DeleteObjectVersion":
		_, err = b.removeVersion(e.Bucket, e.Key, gofakes3.VersionID(e.VersionID))
	case "DeleteMultiVersions":
		// Written by earlier versions of this package only; each object is
		// replayed as DeleteObject and DeleteObjectVersion are.
		for _, o := range e.Objects {
			if o.VersionID == "" {
				_, err = b.Backend.DeleteObject(e.Bucket, o.Key)
			} else {
				_, err = b.removeVersion(e.Bucket, o.Key, gofakes3.VersionID(o.VersionID))
			}
			if err != nil {
				break
			}
		}
	default:
		err = fmt.Errorf("unknown op %q", e.Op)
	}
	return err
}

// record appends e to the journal; the caller holds b.mu.
func (b *Backend) record(e entry) error {
	if b.journal == nil {
		return nil
	}
	e.Time = b.clock.Now()
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := b.journal.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("s3 journal: %w", err)
	}
	return nil
}

// sequencer returns a value greater than every earlier one, across restarts.
func (b *Backend) sequencer() string {
	n := uint64(time.Now().UnixNano())
	if n <= b.lastSeq {
		n = b.lastSeq + 1
	}
	b.lastSeq = n
	return fmt.Sprintf("%018X", n)
}

func (b *Backend) emit(n Notification) {
	if b.notify == nil {
		return
	}
	n.Sequencer = b.sequencer()
	n.Time = time.Now().UTC()
	b.notify(n)
}

// CreateBucket creates a bucket; see gofakes3.Backend.
func (b *Backend) CreateBucket(name string) error {
	return b.bucketOp("CreateBucket", name, b.Backend.CreateBucket)
}

// DeleteBucket deletes an empty bucket; see gofakes3.Backend.
func (b *Backend) DeleteBucket(name string) error {
	return b.bucketOp("DeleteBucket", name, b.Backend.DeleteBucket)
}

// ForceDeleteBucket deletes a bucket and its contents; see gofakes3.Backend.
func (b *Backend) ForceDeleteBucket(name string) error {
	return b.bucketOp("ForceDeleteBucket", name, b.forceDeleteBucket)
}

// forceDeleteBucket is ForceDeleteBucket; the caller holds b.mu.
func (b *Backend) forceDeleteBucket(name string) error {
	if err := b.Backend.ForceDeleteBucket(name); err != nil {
		return err
	}
	b.aliases.dropBucket(name)
	delete(b.locks, name)
	for ref := range b.retained {
		if ref.bucket == name {
			delete(b.retained, ref)
		}
	}
	return nil
}

// bucketOp runs one bucket mutation and journals it.
func (b *Backend) bucketOp(op, name string, fn func(string) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.freeze()()
	if err := fn(name); err != nil {
		return err
	}
	return b.record(entry{Op: op, Bucket: name})
}

// SetVersioningConfiguration sets a bucket's versioning; see
// gofakes3.VersionedBackend.
func (b *Backend) SetVersioningConfiguration(bucket string, v gofakes3.VersioningConfiguration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.freeze()()
	if err := b.Backend.SetVersioningConfiguration(bucket, v); err != nil {
		return err
	}
	return b.record(entry{Op: "SetVersioning", Bucket: bucket, Versioning: &v})
}

// PutObject stores an object and notifies ObjectCreated:Put; see
// gofakes3.Backend. A put whose conditions do not hold changes nothing and
// returns the error S3 answers (see checkPut).
func (b *Backend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	body, err := io.ReadAll(input)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	sum := sha256.Sum256(body)
	blob := hex.EncodeToString(sum[:])
	if b.dir != "" {
		path := filepath.Join(b.dir, "blobs", blob)
		if _, err := os.Stat(path); err != nil {
			if err := writeFileAtomic(path, body); err != nil {
				return gofakes3.PutObjectResult{}, err
			}
		}
	}
	if conditions == nil {
		conditions = b.completeConditions(bucket, key)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.freeze()()
	if conditions != nil {
		// Checked under b.mu, so no other write comes between the check and
		// this one; the journal then holds the put without its conditions,
		// which held and hold again at replay.
		if err := b.checkPut(bucket, key, conditions); err != nil {
			return gofakes3.PutObjectResult{}, err
		}
		b.step()
	}
	ret, retained, err := b.retentionFor(bucket, meta, b.clock.Now())
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	meta = withoutLockHeaders(withoutChecksums(meta))
	res, err := b.Backend.PutObject(bucket, key, meta, bytes.NewReader(body), int64(len(body)), nil)
	if err != nil {
		return res, err
	}
	e := entry{Op: "PutObject", Bucket: bucket, Key: key, Meta: meta, Blob: blob}
	if retained {
		b.retained[lockRef{bucket, key, string(res.VersionID)}] = ret
		e.Retention = &ret
	}
	if err := b.record(e); err != nil {
		return res, err
	}
	etag := md5.Sum(body)
	b.emit(Notification{EventName: "ObjectCreated:Put", Bucket: bucket, Key: key, Size: int64(len(body)),
		ETag: hex.EncodeToString(etag[:]), VersionID: string(res.VersionID)})
	return res, nil
}

// CopyObject copies an object through PutObject, so the copy is journaled
// and notified like any other write.
func (b *Backend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	return gofakes3.CopyObject(b, srcBucket, srcKey, dstBucket, dstKey, meta)
}

// DeleteObject deletes an object (a delete marker in a versioned bucket) and
// notifies ObjectRemoved; see gofakes3.Backend.
func (b *Backend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.freeze()()
	return b.deleteObject(bucket, key)
}

// deleteObject is DeleteObject; the caller holds b.mu.
func (b *Backend) deleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	existed := b.exists(bucket, key)
	res, err := b.Backend.DeleteObject(bucket, key)
	if err != nil {
		return res, err
	}
	if err := b.record(entry{Op: "DeleteObject", Bucket: bucket, Key: key}); err != nil {
		return res, err
	}
	if existed {
		b.emitRemoved(bucket, key, res)
	}
	return res, nil
}

// DeleteMulti deletes several objects and notifies each removal; see
// gofakes3.Backend.
func (b *Backend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	objects := make([]gofakes3.ObjectID, len(keys))
	for i, k := range keys {
		objects[i] = gofakes3.ObjectID{Key: k}
	}
	return b.DeleteMultiVersions(bucket, objects...)
}

// DeleteObjectVersion permanently deletes one version and notifies
// ObjectRemoved:Delete; see gofakes3.VersionedBackend. Deleting the current
// version makes the newest remaining one (perhaps a delete marker) current,
// as on S3.
func (b *Backend) DeleteObjectVersion(bucket, key string, version gofakes3.VersionID) (gofakes3.ObjectDeleteResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.freeze()()
	return b.deleteObjectVersion(bucket, key, version)
}

// deleteObjectVersion is DeleteObjectVersion; the caller holds b.mu.
func (b *Backend) deleteObjectVersion(bucket, key string, version gofakes3.VersionID) (gofakes3.ObjectDeleteResult, error) {
	if err := b.locked(bucket, key, string(version), false); err != nil {
		return gofakes3.ObjectDeleteResult{}, err
	}
	res, err := b.removeVersion(bucket, key, version)
	if err != nil {
		return res, err
	}
	if err := b.record(entry{Op: "DeleteObjectVersion", Bucket: bucket, Key: key, VersionID: string(version)}); err != nil {
		return res, err
	}
	// An empty VersionID in the result means there was no such version.
	if res.VersionID != "" {
		b.emit(Notification{EventName: "ObjectRemoved:Delete", Bucket: bucket, Key: key, VersionID: string(version)})
	}
	return res, nil
}

// DeleteMultiVersions deletes objects (a delete marker for an entry without
// a version in a versioned bucket) or permanently deletes versions, and
// notifies each removal as DeleteObject and DeleteObjectVersion do; see
// gofakes3.VersionedBackend. This is what gofakes3 serves DeleteObjects
// with.
func (b *Backend) DeleteMultiVersions(bucket string, objects ...gofakes3.ObjectID) (gofakes3.MultiDeleteResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.freeze()()
	if ok, err := b.Backend.BucketExists(bucket); err != nil || !ok {
		return gofakes3.MultiDeleteResult{}, gofakes3.BucketNotFound(bucket)
	}
	var res gofakes3.MultiDeleteResult
	for _, o := range objects {
		var err error
		if o.VersionID == "" {
			_, err = b.deleteObject(bucket, o.Key)
		} else {
			_, err = b.deleteObjectVersion(bucket, o.Key, gofakes3.VersionID(o.VersionID))
		}
		if err != nil {
			res.Error = append(res.Error, gofakes3.ErrorResultFromError(err))
			continue
		}
		res.Deleted = append(res.Deleted, o)
	}
	return res, nil
}

func (b *Backend) emitRemoved(bucket, key string, res gofakes3.ObjectDeleteResult) {
	name := "ObjectRemoved:Delete"
	if res.IsDeleteMarker {
		name = "ObjectRemoved:DeleteMarkerCreated"
	}
	b.emit(Notification{EventName: name, Bucket: bucket, Key: key, VersionID: string(res.VersionID)})
}

// exists reports whether key has a current (non-deleted) version; S3 sends
// no notification for deleting what is not there.
func (b *Backend) exists(bucket, key string) bool {
	obj, err := b.Backend.HeadObject(bucket, key)
	if err != nil {
		return false
	}
	obj.Contents.Close()
	return !obj.IsDeleteMarker
}

// writeFileAtomic writes through a temporary file of its own, so that two
// writers of the same blob never share (and truncate) one.
func writeFileAtomic(path string, body []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// replayClock is the backend's time: fixed while a mutation runs (the
// journaled time when replaying, the moment it began otherwise), so that
// the LastModified s3mem records and the journal's time are one value and
// survive a restart; the wall clock at other times.
type replayClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *replayClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() {
		return c.at
	}
	return time.Now().UTC()
}

// set fixes the time to t (zero: the wall clock again).
func (c *replayClock) set(t time.Time) {
	c.mu.Lock()
	c.at = t
	c.mu.Unlock()
}

// freeze fixes the time for one mutation; the caller holds b.mu and calls
// the returned func when the mutation is journaled.
func (b *Backend) freeze() func() {
	b.clock.set(time.Now().UTC())
	return func() { b.clock.set(time.Time{}) }
}

func (c *replayClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// withoutChecksums returns meta without the upload's checksum headers.
// gofakes3 keeps every X-Amz-* header of a PUT as the object's metadata,
// and carries the previous version's over into a new version that does
// not set them (S3 keeps neither): a list uploaded by a client that sends
// no checksum (AWS CLI v1) would be served with the checksum of the
// version before it, and the SDK would refuse the body. Served without
// one, a GET's body is not checked, as S3 serves an object uploaded
// without a checksum.
func withoutChecksums(meta map[string]string) map[string]string {
	out := make(map[string]string, len(meta))
	for k, v := range meta {
		if l := strings.ToLower(k); strings.HasPrefix(l, "x-amz-checksum") || strings.HasPrefix(l, "x-amz-sdk-checksum") {
			continue
		}
		out[k] = v
	}
	return out
}
