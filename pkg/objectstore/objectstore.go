// Package objectstore reads the leads bucket on S3: which version of a key
// is current, one version as a stream, and byte ranges of a version.
package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/veil"
)

// API is the part of the S3 client the store calls.
type API interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, optFns ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// ErrChanged says a conditional write found the key's current version
// changed since it was read (S3's 412 Precondition Failed).
var ErrChanged = errors.New("the object changed since it was read")

var _ API = (*s3.Client)(nil)

// Store reads objects.
type Store struct {
	api API
	// MultipartThreshold is the size from which PutIfMatch uploads in
	// parts of PartSize (of a body it can read at offsets: a file).
	MultipartThreshold, PartSize int64
}

// Default multipart settings: S3 allows parts of 5 MiB to 5 GiB, 10,000
// of them, and one PUT up to 5 GiB.
const (
	DefaultMultipartThreshold = 64 << 20
	DefaultPartSize           = 16 << 20
)

var _ indexing.Objects = (*Store)(nil)

// ClientOptions are the S3 client options the store wants: ranged GETs
// carry no whole-object checksum, so the SDK's note that it skipped
// validation would be logged on every row read.
func ClientOptions(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true }

// New returns a Store.
func New(api API) *Store {
	return &Store{api: api, MultipartThreshold: DefaultMultipartThreshold, PartSize: DefaultPartSize}
}

// versionParam returns the VersionId to send: none for an unversioned
// object.
func versionParam(v string) *string {
	if v == "" || v == "null" {
		return nil
	}
	return aws.String(v)
}

// notFound reports whether err is S3 saying the key or version is not
// there (a delete marker included).
func notFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NotFound", "NoSuchKey", "NoSuchVersion", "MethodNotAllowed":
			return true
		}
	}
	return false
}

// Current returns the current version of bucket/key; see indexing.Objects.
func (s *Store) Current(ctx context.Context, bucket, key string) (indexing.Version, bool, error) {
	out, err := s.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if notFound(err) {
		return indexing.Version{}, false, nil
	}
	if err != nil {
		return indexing.Version{}, false, fmt.Errorf("head s3://%s/%s: %w", bucket, key, err)
	}
	if aws.ToBool(out.DeleteMarker) {
		return indexing.Version{}, false, nil
	}
	return indexing.Version{ID: aws.ToString(out.VersionId), ETag: strings.Trim(aws.ToString(out.ETag), `"`),
		Size: aws.ToInt64(out.ContentLength)}, true, nil
}

// PutIfMatch writes body (size bytes) as the new current version of
// bucket/key if the current version's ETag is still etag, and returns the
// new version's ID; an error wrapping ErrChanged when it is not (another
// upload came first: nothing was written).
func (s *Store) PutIfMatch(ctx context.Context, bucket, key, etag string, body io.Reader, size int64, contentType string) (string, error) {
	if at, ok := body.(io.ReaderAt); ok && s.MultipartThreshold > 0 && size >= s.MultipartThreshold {
		return s.putParts(ctx, bucket, key, etag, at, size, contentType)
	}
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: body, ContentLength: aws.Int64(size),
		IfMatch: aws.String(`"` + strings.Trim(etag, `"`) + `"`)}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	out, err := s.api.PutObject(ctx, in)
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "ConditionalRequestConflict" || ae.ErrorCode() == "NoSuchKey") {
		return "", fmt.Errorf("put s3://%s/%s: %w", bucket, key, ErrChanged)
	}
	if err != nil {
		return "", fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return aws.ToString(out.VersionId), nil
}

// putParts is PutIfMatch as a multipart upload: the parts read from body
// at their offsets, the upload completed with If-Match (aborted when it
// fails, so that no part is left behind).
func (s *Store) putParts(ctx context.Context, bucket, key, etag string, body io.ReaderAt, size int64, contentType string) (string, error) {
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	up, err := s.api.CreateMultipartUpload(ctx, in)
	if err != nil {
		return "", fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	abort := func(err error) (string, error) {
		_, _ = s.api.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket),
			Key: aws.String(key), UploadId: up.UploadId})
		return "", err
	}
	partSize := max(s.PartSize, 5<<20, (size+9999)/10000)
	var parts []s3types.CompletedPart
	for n, off := int32(1), int64(0); off < size; n, off = n+1, off+partSize {
		length := min(partSize, size-off)
		out, err := s.api.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: io.NewSectionReader(body, off, length), ContentLength: aws.Int64(length)})
		if err != nil {
			return abort(fmt.Errorf("put s3://%s/%s part %d: %w", bucket, key, n, err))
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32,
			ChecksumCRC32C: out.ChecksumCRC32C, ChecksumSHA1: out.ChecksumSHA1, ChecksumSHA256: out.ChecksumSHA256})
	}
	out, err := s.api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts},
		IfMatch: aws.String(`"` + strings.Trim(etag, `"`) + `"`)})
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "ConditionalRequestConflict" || ae.ErrorCode() == "NoSuchKey") {
		return abort(fmt.Errorf("put s3://%s/%s: %w", bucket, key, ErrChanged))
	}
	if err != nil {
		return abort(fmt.Errorf("put s3://%s/%s: %w", bucket, key, err))
	}
	return aws.ToString(out.VersionId), nil
}

// DeleteVersion deletes one version (or delete marker) of bucket/key for
// good; one already gone is no error.
func (s *Store) DeleteVersion(ctx context.Context, bucket, key, version string) error {
	_, err := s.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(version)})
	if err != nil && !notFound(err) {
		return fmt.Errorf("delete s3://%s/%s@%s: %w", bucket, key, version, err)
	}
	return nil
}

// Versions returns the IDs of every version of exactly bucket/key, delete
// markers left out; see indexing.Objects. Keys that merely start with key
// are skipped, and the listing stops at the first key past it.
func (s *Store) Versions(ctx context.Context, bucket, key string) ([]string, error) {
	var ids []string
	err := s.EachVersion(ctx, bucket, key, func(v ObjectVersion) error {
		if !v.DeleteMarker {
			ids = append(ids, v.ID)
		}
		return nil
	})
	return ids, err
}

// ObjectVersion is one version of a key, or one of its delete markers.
type ObjectVersion struct {
	ID           string
	ETag         string
	Size         int64
	IsLatest     bool
	DeleteMarker bool
	LastModified time.Time
}

// EachVersion calls fn for every version and delete marker of exactly
// bucket/key, newest first as S3 lists them, and returns fn's first error.
func (s *Store) EachVersion(ctx context.Context, bucket, key string, fn func(ObjectVersion) error) error {
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)}
	for {
		out, err := s.api.ListObjectVersions(ctx, in)
		if err != nil {
			return fmt.Errorf("list versions of s3://%s/%s: %w", bucket, key, err)
		}
		var page []ObjectVersion
		past := false
		for _, v := range out.Versions {
			switch k := aws.ToString(v.Key); {
			case k == key:
				page = append(page, ObjectVersion{ID: aws.ToString(v.VersionId), ETag: strings.Trim(aws.ToString(v.ETag), `"`),
					Size: aws.ToInt64(v.Size), IsLatest: aws.ToBool(v.IsLatest), LastModified: aws.ToTime(v.LastModified)})
			case k > key:
				past = true
			}
		}
		for _, d := range out.DeleteMarkers {
			switch k := aws.ToString(d.Key); {
			case k == key:
				page = append(page, ObjectVersion{ID: aws.ToString(d.VersionId), IsLatest: aws.ToBool(d.IsLatest),
					DeleteMarker: true, LastModified: aws.ToTime(d.LastModified)})
			case k > key:
				past = true
			}
		}
		for _, v := range page {
			if err := fn(v); err != nil {
				return err
			}
		}
		if past || !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

// Open streams one version; a missing version is an error wrapping
// veil.ErrNotFound.
func (s *Store) Open(ctx context.Context, bucket, key, version string) (io.ReadCloser, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: versionParam(version)})
	if notFound(err) {
		return nil, fmt.Errorf("s3://%s/%s@%s: %w", bucket, key, version, veil.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s@%s: %w", bucket, key, version, err)
	}
	return out.Body, nil
}

// ReadRange returns bytes [start, end) of one version; a missing version is
// an error wrapping veil.ErrNotFound.
func (s *Store) ReadRange(ctx context.Context, bucket, key, version string, start, end int64) ([]byte, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), VersionId: versionParam(version),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", start, end-1)),
	})
	if notFound(err) {
		return nil, fmt.Errorf("s3://%s/%s@%s: %w", bucket, key, version, veil.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s@%s bytes %d-%d: %w", bucket, key, version, start, end-1, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s@%s: %w", bucket, key, version, err)
	}
	if int64(len(b)) != end-start {
		return nil, fmt.Errorf("s3://%s/%s@%s: range %d-%d returned %d bytes", bucket, key, version, start, end-1, len(b))
	}
	return b, nil
}

// LastModified returns when one version was uploaded; a missing version is
// an error wrapping veil.ErrNotFound.
func (s *Store) LastModified(ctx context.Context, bucket, key, version string) (time.Time, error) {
	out, err := s.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: versionParam(version)})
	if notFound(err) {
		return time.Time{}, fmt.Errorf("s3://%s/%s@%s: %w", bucket, key, version, veil.ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("head s3://%s/%s@%s: %w", bucket, key, version, err)
	}
	return aws.ToTime(out.LastModified).UTC(), nil
}
