// Package anchorbucket is the audit anchor bucket on S3: digests of the
// audit chains go in (audit.Bucket) and come back out, every version of
// each, for verifying. The bucket is under S3 Object Lock in compliance
// mode; this package never deletes, and no Veil role may.
package anchorbucket

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/veil-privacy/veil/pkg/audit"
)

// Writer is the part of the S3 client that writes digests.
type Writer interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Reader is the part of the S3 client that reads them back.
type Reader interface {
	s3.ListObjectVersionsAPIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Bucket writes digests into Name.
type Bucket struct {
	API  Writer
	Name string
}

var _ audit.Bucket = (*Bucket)(nil)

// PutDigest stores body under key, with a SHA-256 checksum (S3 takes an
// object into an Object Lock bucket only with a checksum or Content-MD5);
// the bucket's default retention locks it. It returns S3's error.
func (b *Bucket) PutDigest(ctx context.Context, key string, body []byte) error {
	_, err := b.API.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"), ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", b.Name, key, err)
	}
	return nil
}

// Digests returns every version of every digest in bucket (an overwritten
// digest keeps its first version under Object Lock, and both are read).
// It returns S3's error.
func Digests(ctx context.Context, api Reader, bucket string) ([]audit.StoredDigest, error) {
	var out []audit.StoredDigest
	pages := s3.NewListObjectVersionsPaginator(api, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(audit.DigestPrefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, audit.DigestPrefix, err)
		}
		for _, v := range page.Versions {
			obj, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: v.Key, VersionId: v.VersionId})
			if err != nil {
				return nil, fmt.Errorf("get s3://%s/%s@%s: %w", bucket, aws.ToString(v.Key), aws.ToString(v.VersionId), err)
			}
			body, err := io.ReadAll(obj.Body)
			obj.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, aws.ToString(v.Key), err)
			}
			out = append(out, audit.StoredDigest{Key: aws.ToString(v.Key), VersionID: aws.ToString(v.VersionId), Body: body})
		}
	}
	return out, nil
}
