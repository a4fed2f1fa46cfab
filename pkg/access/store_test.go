package access

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// putRecorder is a pure fake of S3API: it keeps the PutObject input.
type putRecorder struct {
	S3API
	in   *s3.PutObjectInput
	body string
}

func (p *putRecorder) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	p.in = in
	b, err := io.ReadAll(in.Body)
	p.body = string(b)
	return &s3.PutObjectOutput{}, err
}

// Every export object is encrypted under the exports key and tagged with
// its request, whatever the bucket's defaults.
func TestFilesPutEncryptsAndTags(t *testing.T) {
	api := &putRecorder{}
	f := &Files{API: api, Bucket: "veil-exports", KMSKeyID: "arn:aws:kms:us-east-1:1:key/k"}
	if err := f.Put(context.Background(), "exports/req-1/records.csv", "req-1", "text/csv", strings.NewReader("a,b\r\n"), 5); err != nil {
		t.Fatal(err)
	}
	in := api.in
	if aws.ToString(in.Bucket) != "veil-exports" || aws.ToString(in.Key) != "exports/req-1/records.csv" || api.body != "a,b\r\n" ||
		aws.ToInt64(in.ContentLength) != 5 || aws.ToString(in.ContentType) != "text/csv" {
		t.Fatalf("PutObject %+v, want the file at its key", in)
	}
	if in.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(in.SSEKMSKeyId) != f.KMSKeyID {
		t.Fatalf("encryption %q under %q, want aws:kms under the exports key", in.ServerSideEncryption, aws.ToString(in.SSEKMSKeyId))
	}
	if got := aws.ToString(in.Tagging); got != "veil%3Arequest-id=req-1" {
		t.Fatalf("tagging %q, want veil:request-id=req-1", got)
	}
	if in.ACL != "" {
		t.Fatalf("ACL %q, want none: the bucket is private", in.ACL)
	}
}
