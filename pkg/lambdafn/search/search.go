// Package search is SearchFunction, a task of the privacy-request workflow:
// a request's proven identifiers in, every lead-list record holding them
// written to the exports bucket, and a pointer to them out: Step Functions
// passes at most 256 KB between states, and one consumer can have
// thousands of rows.
package search

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Identifier is one identifier a consumer named, as written; Kind is phone,
// email, customerId or accountNumber.
type Identifier struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// Input is the workflow's Search task input.
type Input struct {
	RequestID   string       `json:"requestId"`
	Identifiers []Identifier `json:"identifiers"`
}

// Output is the Search task's result: where the records are, how many,
// and what the search could not see.
type Output struct {
	RequestID string `json:"requestId"`
	// RecordsKey is the records in the exports bucket, one search.Record
	// a line (access.RecordsFile).
	RecordsKey string            `json:"recordsKey"`
	Records    int               `json:"records"`
	Stale      int               `json:"stale"`
	Coverage   indexing.Coverage `json:"coverage"`
}

// Searcher is the search the handler calls (search.Service).
type Searcher interface {
	Search(ctx context.Context, ids []search.Identifier) (search.Result, error)
}

// Validate checks the input and returns its identifiers; it returns a
// *veil.ValidationError naming the first bad field.
func (in Input) Validate() ([]search.Identifier, error) {
	if in.RequestID == "" {
		return nil, veil.Invalid("requestId", "required")
	}
	if len(in.Identifiers) == 0 {
		return nil, veil.Invalid("identifiers", "at least one identifier is required")
	}
	ids := make([]search.Identifier, len(in.Identifiers))
	for i, id := range in.Identifiers {
		kind, ok := search.ParseKind(id.Kind)
		if !ok {
			return nil, veil.Invalid(fmt.Sprintf("identifiers[%d].kind", i), "must be phone, email, customerId or accountNumber")
		}
		ids[i] = search.Identifier{Field: fmt.Sprintf("identifiers[%d].value", i), Kind: kind, Value: id.Value}
	}
	return ids, nil
}

// Handler runs the Search task.
type Handler struct {
	search Searcher
	files  access.FileStore
}

// New returns a Handler writing records to files.
func New(s Searcher, files access.FileStore) *Handler { return &Handler{search: s, files: files} }

// Build is SearchFunction's lambdafn.Builder.
func Build(ctx context.Context, awsCfg aws.Config, getenv func(string) string) (any, error) {
	v, err := lambdafn.Require(getenv, "EXPORTS_BUCKET")
	if err != nil {
		return nil, err
	}
	svc, err := lambdafn.SearchService(ctx, awsCfg, getenv)
	if err != nil {
		return nil, err
	}
	files := &access.Files{API: s3.NewFromConfig(awsCfg), Bucket: v[0], KMSKeyID: getenv("EXPORTS_KEY_ARN")}
	return New(svc, files).Handle, nil
}

// Handle searches. It returns a *veil.ValidationError (unwrapped, so the
// workflow's Catch matches its type name) for bad input; other errors are
// worth a retry.
func (h *Handler) Handle(ctx context.Context, in Input) (Output, error) {
	ids, err := in.Validate()
	if err != nil {
		return Output{}, err
	}
	res, err := h.search.Search(ctx, ids)
	if err != nil {
		return Output{}, err
	}
	// The workflow answers the consumer: never with a row matched only on
	// an identifier that belongs to nobody (and never deletes one).
	res = res.ForConsumer()
	key, err := access.PutRecords(ctx, h.files, in.RequestID, res.Records)
	if err != nil {
		return Output{}, err
	}
	requestID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	slog.InfoContext(ctx, "search", "requestId", requestID, "privacyRequest", in.RequestID,
		"identifiers", len(ids), "records", len(res.Records), "stale", len(res.Stale), "coverageObjects", res.Coverage.Objects,
		"unreadable", len(res.Coverage.Unreadable), "pending", len(res.Coverage.Pending), "partial", len(res.Coverage.Partial))
	return Output{RequestID: in.RequestID, RecordsKey: key, Records: len(res.Records), Stale: len(res.Stale), Coverage: res.Coverage}, nil
}
