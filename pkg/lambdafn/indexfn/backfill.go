package indexfn

// Backfill: objects that were in the leads bucket before its notifications
// reached the index (years of lists) are indexed by invoking IndexFunction
// directly with a batch of keys, either from `veil backfill` or from the
// backfill state machine's Distributed Map. Each key is applied as a
// synthetic change with the lowest sequencer, so a key the index already
// knows is skipped after one read of its manifest and any real S3 event is
// later than the backfill.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/veil"
)

// BackfillEventName is the EventName of a backfill change.
const BackfillEventName = "Backfill"

// BackfillEvent is the payload `veil backfill` invokes IndexFunction with:
// {"backfill":{"bucket":"veil-leads","objects":[{"key":"…","size":365,"etag":"…"}]}}.
type BackfillEvent struct {
	Backfill BackfillBatch `json:"backfill"`
}

// BackfillBatch is one bucket's keys to index.
type BackfillBatch struct {
	Bucket  string           `json:"bucket"`
	Objects []BackfillObject `json:"objects"`
	// Force rereads objects already indexed at their current version.
	Force bool `json:"force,omitempty"`
}

// BackfillObject is one listed object. Size and ETag are what the listing
// said; they are recorded in the manifest, as an S3 event's are.
type BackfillObject struct {
	Key  string `json:"key"`
	Size int64  `json:"size,omitempty"`
	ETag string `json:"etag,omitempty"`
}

// MapBatch is what a Distributed Map with an S3 ListObjectsV2 ItemReader and
// an ItemBatcher hands each child execution:
// {"Items":[{"Key":"…","Size":365,…}],"BatchInput":{"bucket":"veil-leads"}}.
type MapBatch struct {
	Items      []MapItem     `json:"Items"`
	BatchInput MapBatchInput `json:"BatchInput"`
}

// MapItem is one object as the ListObjectsV2 ItemReader describes it.
type MapItem struct {
	Key          string `json:"Key"`
	Size         int64  `json:"Size"`
	Etag         string `json:"Etag,omitempty"`
	LastModified any    `json:"LastModified,omitempty"`
	StorageClass string `json:"StorageClass,omitempty"`
}

// MapBatchInput is the ItemBatcher's BatchInput the backfill state machine
// sets: the bucket the items were listed from (items do not name it).
type MapBatchInput struct {
	Bucket string `json:"bucket"`
}

// BatchResult is IndexFunction's answer to a backfill batch. Failed is never
// null, so that a state machine can select it.
type BatchResult struct {
	Indexed int          `json:"indexed"`
	Failed  []KeyFailure `json:"failed"`
}

// KeyFailure is one key that cannot be indexed and why (never its content).
type KeyFailure struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}

// Batch returns the backfill batch a Distributed Map batch stands for.
func (m MapBatch) Batch() BackfillBatch {
	b := BackfillBatch{Bucket: m.BatchInput.Bucket, Objects: make([]BackfillObject, len(m.Items))}
	for i, it := range m.Items {
		b.Objects[i] = BackfillObject{Key: it.Key, Size: it.Size, ETag: it.Etag}
	}
	return b
}

// Validate returns a *veil.ValidationError naming the first missing field.
func (b BackfillBatch) Validate(prefix string) error {
	if b.Bucket == "" {
		return veil.Invalid(prefix+"bucket", "required")
	}
	if len(b.Objects) == 0 {
		return veil.Invalid(prefix+"objects", "no objects")
	}
	for i, o := range b.Objects {
		if o.Key == "" {
			return veil.Invalid(fmt.Sprintf("%sobjects[%d].key", prefix, i), "required")
		}
	}
	return nil
}

// HandleBackfill applies every object of the batch as a backfill change. A
// list that cannot be indexed (*indexing.InputError) is reported in
// BatchResult.Failed and the batch goes on; any other error stops the batch
// and is returned, naming the key, so that the caller retries the whole
// batch (applying is idempotent, and cheap for the keys already done). It
// returns a *veil.ValidationError for a malformed batch.
func (h *Handler) HandleBackfill(ctx context.Context, b BackfillBatch) (BatchResult, error) {
	return h.backfill(ctx, b, "backfill.")
}

// HandleMapBatch is HandleBackfill for a Distributed Map child execution.
func (h *Handler) HandleMapBatch(ctx context.Context, m MapBatch) (BatchResult, error) {
	if m.BatchInput.Bucket == "" {
		return BatchResult{}, veil.Invalid("BatchInput.bucket", "required")
	}
	for i, it := range m.Items {
		if it.Key == "" {
			return BatchResult{}, veil.Invalid(fmt.Sprintf("Items[%d].Key", i), "required")
		}
	}
	return h.backfill(ctx, m.Batch(), "")
}

func (h *Handler) backfill(ctx context.Context, b BackfillBatch, prefix string) (BatchResult, error) {
	res := BatchResult{Failed: []KeyFailure{}}
	if err := b.Validate(prefix); err != nil {
		return res, err
	}
	requestID := requestID(ctx)
	for _, o := range b.Objects {
		if indexing.FolderMarker(o.Key) {
			continue
		}
		c := indexing.ObjectChange{Bucket: b.Bucket, Key: o.Key, Reconcile: true, Force: b.Force,
			Size: o.Size, ETag: strings.Trim(o.ETag, `"`), EventName: BackfillEventName}
		err := h.changes.Apply(ctx, c)
		var ie *indexing.InputError
		switch {
		case err == nil:
			res.Indexed++
		case errors.As(err, &ie):
			res.Failed = append(res.Failed, KeyFailure{Key: o.Key, Error: ie.Error()})
		default:
			return res, fmt.Errorf("backfill s3://%s/%s: %w", b.Bucket, o.Key, err)
		}
	}
	slog.InfoContext(ctx, "backfill batch", "requestId", requestID, "bucket", b.Bucket,
		"objects", len(b.Objects), "indexed", res.Indexed, "failed", len(res.Failed))
	return res, nil
}

// Dispatch is IndexFunction's entry: it tells the four payloads apart by
// shape. An SQS event (Records) is answered by Handle, a backfill batch
// (backfill) by HandleBackfill, a Distributed Map batch (Items) by
// HandleMapBatch, a chunked indexing step (chunked) by HandleChunked. It returns a *veil.ValidationError for a payload of none
// of these shapes.
func (h *Handler) Dispatch(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records  json.RawMessage `json:"Records"`
		Backfill json.RawMessage `json:"backfill"`
		Items    json.RawMessage `json:"Items"`
		Chunked  json.RawMessage `json:"chunked"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, veil.Invalid("event", "not a JSON object")
	}
	switch {
	case probe.Chunked != nil:
		var ev ChunkedEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, veil.Invalid("chunked", "malformed chunked indexing step")
		}
		return h.HandleChunked(ctx, ev.Chunked)
	case probe.Backfill != nil:
		var ev BackfillEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, veil.Invalid("backfill", "malformed backfill batch")
		}
		return h.HandleBackfill(ctx, ev.Backfill)
	case probe.Items != nil:
		var m MapBatch
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, veil.Invalid("Items", "malformed Distributed Map batch")
		}
		return h.HandleMapBatch(ctx, m)
	case probe.Records != nil:
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, veil.Invalid("Records", "malformed SQS event")
		}
		return h.Handle(ctx, ev)
	}
	return nil, veil.Invalid("event", "neither an SQS event, a backfill batch nor a Distributed Map batch")
}
