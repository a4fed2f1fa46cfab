package indexfn

import (
	"context"

	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/indexing"
)

// Scrubbing is the indexing service IndexFunction runs: every change
// applied, and every chunked job finished, is followed by the suppression
// scrub of the key's indexed version (erasure.Scrubber). A scrub that
// fails fails the change, which is retried; both are idempotent.
type Scrubbing struct {
	*indexing.Service
	Scrubber *erasure.Scrubber
}

// Apply applies c, then scrubs its key.
func (s Scrubbing) Apply(ctx context.Context, c indexing.ObjectChange) error {
	if err := s.Service.Apply(ctx, c); err != nil {
		return err
	}
	if indexing.FolderMarker(c.Key) {
		return nil
	}
	return s.Scrubber.Scrub(ctx, c.Bucket, c.Key)
}

// FinishChunked finishes a chunked job, then scrubs its key.
func (s Scrubbing) FinishChunked(ctx context.Context, job indexing.ChunkJob, results []indexing.ChunkResult) error {
	if err := s.Service.FinishChunked(ctx, job, results); err != nil {
		return err
	}
	return s.Scrubber.Scrub(ctx, job.Bucket, job.Key)
}
