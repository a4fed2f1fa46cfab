package benchmarks

// The search a bucket without an index would need: read every lead list,
// classify its columns as the index does, normalize every identifier cell
// and compare it with the consumer's normalized identifiers.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/search"
)

// GetObjectAPI is the part of the S3 client a scan calls.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ GetObjectAPI = (*s3.Client)(nil)

// Scanner finds a consumer's rows by reading whole lead lists.
type Scanner struct {
	S3     GetObjectAPI
	Bucket string
	// Concurrency is how many lists are read at once (default GOMAXPROCS).
	Concurrency int
}

// Scan reads every object of keys and returns how many rows hold one of
// ids, in any spelling. It fails with the normalizer's error for an
// identifier that does not normalize, and with S3's or the reader's.
func (s *Scanner) Scan(ctx context.Context, keys []string, ids []search.Identifier) (int, error) {
	norm, err := identifiers.NewNormalizer("")
	if err != nil {
		return 0, err
	}
	want := map[identifiers.Kind][][]byte{}
	for _, id := range ids {
		n, err := norm.Append(nil, id.Kind, id.Value)
		if err != nil {
			return 0, fmt.Errorf("scan %s: %w", id.Field, err)
		}
		want[id.Kind] = append(want[id.Kind], n)
	}
	var found atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	limit := s.Concurrency
	if limit <= 0 {
		limit = runtime.GOMAXPROCS(0)
	}
	g.SetLimit(limit)
	for _, key := range keys {
		g.Go(func() error {
			n, err := s.scanObject(gctx, key, norm, want)
			found.Add(int64(n))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return int(found.Load()), nil
}

// sampleRecords is how many records classification looks at, as the index
// function does.
const sampleRecords = 100

func (s *Scanner) scanObject(ctx context.Context, key string, norm *identifiers.Normalizer, want map[identifiers.Kind][][]byte) (int, error) {
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return 0, fmt.Errorf("scan s3://%s/%s: %w", s.Bucket, key, err)
	}
	defer out.Body.Close()
	rd, err := leads.NewReader(out.Body, leads.Options{})
	if err != nil {
		return 0, fmt.Errorf("scan s3://%s/%s: %w", s.Bucket, key, err)
	}
	var sample [][]string
	for len(sample) < sampleRecords {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("scan s3://%s/%s: %w", s.Bucket, key, err)
		}
		sample = append(sample, append([]string(nil), rec.Fields...))
	}
	schema, err := identifiers.Classify(rd.Header(), sample, identifiers.ClassifyOptions{})
	if err != nil {
		return 0, fmt.Errorf("scan s3://%s/%s: %w", s.Bucket, key, err)
	}
	cols := schema.Identifiers()
	var buf []byte
	matches := func(fields []string) bool {
		hit := false
		// Every identifier cell is normalized: a scan cannot know which
		// one will match, nor stop at the first.
		for _, c := range cols {
			if c.Index >= len(fields) {
				continue
			}
			var err error
			buf, err = norm.Append(buf[:0], c.Kind, fields[c.Index])
			if err != nil {
				continue
			}
			for _, w := range want[c.Kind] {
				if bytes.Equal(buf, w) {
					hit = true
				}
			}
		}
		return hit
	}
	n := 0
	for _, rec := range sample {
		if matches(rec) {
			n++
		}
	}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return n, nil
		}
		var perr *leads.ParseError
		if errors.As(err, &perr) && rec.Number > 0 {
			continue // a bad record is skipped, as the index skips it
		}
		if err != nil {
			return n, fmt.Errorf("scan s3://%s/%s: %w", s.Bucket, key, err)
		}
		if matches(rec.Fields) {
			n++
		}
	}
}
