package indexfn

// Chunked indexing: the index-list state machine calls IndexFunction with
// {"chunked": {"step": "plan"|"chunk"|"finish"|"fail", "job": {…}, …}} for
// each step of a list too large for one invocation (indexing.Service's
// Plan, Chunk, FinishChunked, FailChunked). Its payloads carry references
// and counts, never rows.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/veil"
)

// ChunkedEvent is a step of the index-list state machine.
type ChunkedEvent struct {
	Chunked ChunkedStep `json:"chunked"`
}

// ChunkedStep is one step: plan (Job), chunk (Job, Chunk), finish (Job,
// Results) or fail (Job, Error, Cause).
type ChunkedStep struct {
	Step    string                 `json:"step"`
	Job     indexing.ChunkJob      `json:"job"`
	Chunk   *indexing.Chunk        `json:"chunk,omitempty"`
	Results []indexing.ChunkResult `json:"results,omitempty"`
	Error   string                 `json:"error,omitempty"`
	Cause   string                 `json:"cause,omitempty"`
}

// ChunkSteps are the steps of a chunked job (indexing.Service).
type ChunkSteps interface {
	Plan(ctx context.Context, job indexing.ChunkJob) (indexing.Plan, error)
	Chunk(ctx context.Context, job indexing.ChunkJob, c indexing.Chunk) (indexing.ChunkResult, error)
	FinishChunked(ctx context.Context, job indexing.ChunkJob, results []indexing.ChunkResult) error
	FailChunked(ctx context.Context, job indexing.ChunkJob, reason string) error
}

var _ ChunkSteps = (*indexing.Service)(nil)

// StepDone is the answer of the finish and fail steps.
type StepDone struct {
	Done bool `json:"done"`
}

// HandleChunked runs one step. It returns a *veil.ValidationError for a
// malformed step, an *indexing.InputError (unwrapped, so that the workflow
// sees its type name) from plan for a list that cannot be indexed, and
// other errors for the workflow to retry.
func (h *Handler) HandleChunked(ctx context.Context, st ChunkedStep) (any, error) {
	if h.chunks == nil {
		return nil, veil.Invalid("chunked", "this function does not index in chunks")
	}
	j := st.Job
	if j.Bucket == "" || j.Key == "" || j.VersionID == "" || j.Sequencer == "" {
		return nil, veil.Invalid("chunked.job", "bucket, key, versionId and sequencer are required")
	}
	switch st.Step {
	case "plan":
		p, err := h.chunks.Plan(ctx, j)
		if ie := (*indexing.InputError)(nil); errors.As(err, &ie) {
			return nil, ie
		}
		return p, err
	case "chunk":
		if st.Chunk == nil {
			return nil, veil.Invalid("chunked.chunk", "required")
		}
		return h.chunks.Chunk(ctx, j, *st.Chunk)
	case "finish":
		return StepDone{Done: true}, h.chunks.FinishChunked(ctx, j, st.Results)
	case "fail":
		reason := st.Error
		if reason == "" {
			reason = "chunked indexing failed"
		}
		return StepDone{Done: true}, h.chunks.FailChunked(ctx, j, "chunked indexing failed: "+reason)
	}
	return nil, veil.Invalid("chunked.step", "one of plan, chunk, finish, fail")
}

// SFNAPI is the Step Functions call the chunker makes.
type SFNAPI interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// Chunker starts the index-list state machine, one execution per job,
// named by the job so that starting it twice starts it once.
type Chunker struct {
	API             SFNAPI
	StateMachineARN string
}

var _ indexing.Chunker = (*Chunker)(nil)

// StartChunked starts the job's execution; one already started (whatever
// its state) is success. It returns the API's other errors.
func (c *Chunker) StartChunked(ctx context.Context, job indexing.ChunkJob) error {
	input, _ := jsonString(map[string]any{"job": job})
	_, err := c.API.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(c.StateMachineARN), Name: aws.String(job.Name()), Input: aws.String(input),
	})
	if ae := (*sfntypes.ExecutionAlreadyExists)(nil); errors.As(err, &ae) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", job.Name(), err)
	}
	return nil
}

// S3PutAPI is the S3 call the work store makes.
type S3PutAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// WorkStore writes chunk plans to the work bucket.
type WorkStore struct{ API S3PutAPI }

var _ indexing.WorkStore = WorkStore{}

// PutObject writes body as bucket/key; it returns S3's error, wrapped.
func (w WorkStore) PutObject(ctx context.Context, bucket, key string, body []byte, contentType string) error {
	_, err := w.API.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String(contentType)})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
