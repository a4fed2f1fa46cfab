package stack

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// loadSamples uploads samples/ into the leads bucket on the first start,
// through the edge like any upload, so the index function sees them as S3
// events. A marker under DataDir keeps a restart from uploading them again.
func (s *Stack) loadSamples(ctx context.Context) error {
	marker := filepath.Join(s.opts.DataDir, "samples-loaded")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	dir := filepath.Join(s.opts.Root, "samples")
	client := s3.NewFromConfig(s.AWS)
	bucket := s.Names["LeadsBucket"]
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(filepath.ToSlash(rel)), Body: f}); err != nil {
			return fmt.Errorf("sample %s: %w", rel, err)
		}
		s.log.Info("sample uploaded", "bucket", bucket, "key", filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return err
	}
	return os.WriteFile(marker, []byte("samples uploaded; delete this file to upload them again\n"), 0o600)
}
