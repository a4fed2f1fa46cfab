// Package index is IndexFunction: S3 change notifications of the leads
// bucket, delivered through SQS, become object changes applied in S3's
// order. A failed record is reported alone (SQS partial batch response), so
// only it is retried and, after the queue's last try, dead-lettered. The
// same function indexes backfill batches (see backfill.go).
package indexfn

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/masking"
	"github.com/veil-privacy/veil/pkg/objectstore"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Config is IndexFunction's environment.
type Config struct {
	IndexTable   string
	KeySecretARN string
	PhoneRegion  string
	// ChunkBytes is INDEX_CHUNK_BYTES (0: never chunk); lists larger are
	// indexed by ListStateMachineARN in chunks planned in WorkBucket.
	ChunkBytes          int64
	ListStateMachineARN string
	WorkBucket          string
	// Writers is INDEX_WRITERS, else AWS_LAMBDA_FUNCTION_MEMORY_SIZE/256
	// clamped to [4, 16]: each writer holds a batch in flight.
	Writers int
	// MaskingPolicy is MASKING_POLICY (the strategy of the policy's
	// default rule masks a suppressed row); FlagOnly is SUPPRESSION_POLICY
	// "flag" (record a suppressed row in the scrub report, mask nothing)
	// rather than "mask", the default.
	MaskingPolicy string
	FlagOnly      bool
}

// ConfigFromEnv reads Config; it returns *lambdafn.MissingError for an unset
// variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	e := lambdafn.NewEnv(getenv)
	cfg := Config{IndexTable: e.Need("INDEX_TABLE"), KeySecretARN: e.Need("INDEX_KEY_SECRET_ARN"), PhoneRegion: e.Get("PHONE_REGION"),
		ListStateMachineARN: e.Get("INDEX_LIST_STATE_MACHINE_ARN"), WorkBucket: e.Get("INDEX_WORK_BUCKET"),
		MaskingPolicy: e.Get(masking.PolicyEnv)}
	if err := e.Err(); err != nil {
		return Config{}, err
	}
	switch p := e.Get("SUPPRESSION_POLICY"); p {
	case "", "mask":
	case "flag":
		cfg.FlagOnly = true
	default:
		return Config{}, veil.Invalid("SUPPRESSION_POLICY", "must be mask or flag")
	}
	if s := e.Get("INDEX_CHUNK_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return Config{}, veil.Invalid("INDEX_CHUNK_BYTES", "not a byte count")
		}
		cfg.ChunkBytes = n
	}
	if cfg.ChunkBytes > 0 && (cfg.ListStateMachineARN == "" || cfg.WorkBucket == "") {
		return Config{}, veil.Invalid("INDEX_CHUNK_BYTES", "needs INDEX_LIST_STATE_MACHINE_ARN and INDEX_WORK_BUCKET")
	}
	cfg.Writers = 4
	if mb, err := strconv.Atoi(e.Get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")); err == nil {
		cfg.Writers = min(max(mb/256, 4), 16)
	}
	if s := e.Get("INDEX_WRITERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return Config{}, veil.Invalid("INDEX_WRITERS", "not a positive number")
		}
		cfg.Writers = n
	}
	return cfg, nil
}

// Build is IndexFunction's lambdafn.Builder.
func Build(ctx context.Context, awsCfg aws.Config, getenv func(string) string) (any, error) {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	// New entries are written under the active key only; the keyring's
	// others are searched, never written.
	ring, err := indexkey.LoadKeyring(ctx, secretsmanager.NewFromConfig(awsCfg), cfg.KeySecretARN)
	if err != nil {
		return nil, err
	}
	store := indexstore.New(dynamodb.NewFromConfig(awsCfg), cfg.IndexTable)
	store.Writers = cfg.Writers
	s3c := s3.NewFromConfig(awsCfg, objectstore.ClientOptions)
	svc := &indexing.Service{
		Index:   store,
		Objects: objectstore.New(s3c),
		Secret:  ring.Active.Secret,
		KeyID:   ring.Active.ID,
		Region:  cfg.PhoneRegion,
	}
	if cfg.ChunkBytes > 0 {
		svc.ChunkBytes, svc.WorkBucket, svc.Work = cfg.ChunkBytes, cfg.WorkBucket, WorkStore{API: s3c}
		svc.Chunker = &Chunker{API: sfn.NewFromConfig(awsCfg), StateMachineARN: cfg.ListStateMachineARN}
	}
	scrubber, err := NewScrubber(awsCfg, cfg, store, ring)
	if err != nil {
		return nil, err
	}
	return New(Scrubbing{Service: svc, Scrubber: scrubber}).Dispatch, nil
}

// NewScrubber builds IndexFunction's suppression scrub on store, from
// cfg's Index table, phone region, masking policy and suppression policy.
// It returns a *veil.ValidationError for a bad masking policy.
func NewScrubber(awsCfg aws.Config, cfg Config, store *indexstore.Store, ring indexkey.Keyring) (*erasure.Scrubber, error) {
	policy, err := masking.PolicyFromEnv(func(string) string { return cfg.MaskingPolicy })
	if err != nil {
		return nil, err
	}
	ddb := dynamodb.NewFromConfig(awsCfg)
	objects := objectstore.New(s3.NewFromConfig(awsCfg, objectstore.ClientOptions))
	region := cfg.PhoneRegion
	svc := &erasure.Service{
		Search: &search.Service{Index: store, Objects: objects, Secret: ring.Active.Secret, Secrets: ring.Secrets(), Region: region},
		Index:  store, Bucket: objects, Suppression: suppression.New(ddb, cfg.IndexTable),
		Secret: ring.Active.Secret, KeyID: ring.Active.ID, MaskKey: erasure.MaskKey(ring.Active.Secret), Region: region, Policy: policy,
	}
	return &erasure.Scrubber{Service: svc, Entries: store, Reports: &suppression.Reports{API: ddb, Table: cfg.IndexTable},
		FlagOnly: cfg.FlagOnly}, nil
}

// Applier applies one object change to the index (indexing.Service).
type Applier interface {
	Apply(ctx context.Context, c indexing.ObjectChange) error
}

// Handler applies the object changes of SQS-delivered S3 events.
type Handler struct {
	changes Applier
	chunks  ChunkSteps // nil when a does not index in chunks
}

// New returns a Handler applying changes with a (and running the steps of
// chunked jobs with it, when it is also ChunkSteps).
func New(a Applier) *Handler {
	h := &Handler{changes: a}
	h.chunks, _ = a.(ChunkSteps)
	return h
}

// Handle applies every record of the batch and reports the ones that failed.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	requestID := requestID(ctx)
	for _, msg := range ev.Records {
		if err := h.message(ctx, msg.Body); err != nil {
			slog.ErrorContext(ctx, "index record failed", "requestId", requestID, "messageId", msg.MessageId, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
		}
	}
	return resp, nil
}

func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

func (h *Handler) message(ctx context.Context, body string) error {
	changes, err := Changes(body)
	if err != nil {
		return err
	}
	for _, c := range changes {
		slog.DebugContext(ctx, "object change", "bucket", c.Bucket, "key", c.Key, "versionId", c.VersionID,
			"event", c.EventName, "sequencer", c.Sequencer)
		if err := h.changes.Apply(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// Changes reads an SQS message body holding an S3 event notification. S3's
// test event (sent when notifications are configured) yields no change. It
// returns a *veil.ValidationError for a body that is not an S3 event.
func Changes(body string) ([]indexing.ObjectChange, error) {
	var probe struct {
		Event string `json:"Event"`
	}
	if err := json.Unmarshal([]byte(body), &probe); err != nil {
		return nil, veil.Invalid("body", "not JSON")
	}
	if probe.Event == "s3:TestEvent" {
		return nil, nil
	}
	var ev events.S3Event
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		return nil, veil.Invalid("body", "not an S3 event notification")
	}
	if len(ev.Records) == 0 {
		return nil, veil.Invalid("Records", "no records")
	}
	out := make([]indexing.ObjectChange, 0, len(ev.Records))
	for i, r := range ev.Records {
		// events.S3Object decodes S3's form-encoded key while unmarshalling
		// (a bad encoding fails above).
		key := r.S3.Object.URLDecodedKey
		if r.S3.Bucket.Name == "" || key == "" || r.S3.Object.Sequencer == "" {
			return nil, veil.Invalid(fmt.Sprintf("Records[%d].s3", i), "bucket, key and sequencer are required")
		}
		out = append(out, indexing.ObjectChange{
			Bucket: r.S3.Bucket.Name, Key: key, VersionID: r.S3.Object.VersionID,
			Sequencer: r.S3.Object.Sequencer, Removed: removed(r.EventName),
			Size: r.S3.Object.Size, ETag: r.S3.Object.ETag, EventName: r.EventName, EventTime: r.EventTime,
		})
	}
	return out, nil
}

// removed reports whether an S3 event name says a version or the key went:
// a delete (a version deleted, or a delete marker made) or a lifecycle
// expiration (a noncurrent version expired, or a marker made by expiry).
func removed(eventName string) bool {
	name := strings.TrimPrefix(eventName, "s3:")
	return strings.HasPrefix(name, "ObjectRemoved") || strings.HasPrefix(name, "LifecycleExpiration")
}
