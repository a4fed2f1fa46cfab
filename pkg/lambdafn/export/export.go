// Package export is ExportFunction, the privacy-request workflow's access
// task: the records a search left in the exports bucket (or identifiers to
// search for) in, the consumer's CSV, JSON and PDF export and its download
// links out.
package export

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Input is the workflow's Export task input: the request, and the
// pointer to its search's records with their coverage, or identifiers.
type Input struct {
	RequestID    string    `json:"requestId"`
	Requester    string    `json:"requester,omitempty"`
	Jurisdiction string    `json:"jurisdiction,omitempty"`
	Received     time.Time `json:"received,omitzero"`
	// RecordsKey is where SearchFunction wrote the records
	// (exports/<requestId>/records.jsonl), Coverage what it could see.
	RecordsKey string             `json:"recordsKey,omitempty"`
	Coverage   *indexing.Coverage `json:"coverage,omitempty"`
	// Identifiers are searched for when there is no RecordsKey.
	Identifiers []search.Identifier `json:"identifiers,omitempty"`
}

// Output is the Export task's result.
type Output struct {
	access.Export
	Links access.Links `json:"links"`
}

// Exporter is the export the handler runs (access.Service).
type Exporter interface {
	Export(ctx context.Context, in access.Input) (access.Export, error)
	LinksFor(x access.Export, base string) (access.Links, error)
}

// Handler runs the Export task.
type Handler struct {
	exports Exporter
	// base is PUBLIC_API_URL: where the links point.
	base string
}

// New returns a Handler whose links point at base.
func New(x Exporter, base string) *Handler { return &Handler{exports: x, base: base} }

// Build is ExportFunction's lambdafn.Builder.
func Build(ctx context.Context, awsCfg aws.Config, getenv func(string) string) (any, error) {
	finder, err := lambdafn.SearchService(ctx, awsCfg, getenv)
	if err != nil {
		return nil, err
	}
	svc, err := lambdafn.AccessService(ctx, awsCfg, getenv, finder)
	if err != nil {
		return nil, err
	}
	return New(svc, getenv("PUBLIC_API_URL")).Handle, nil
}

// Handle exports. It returns a *veil.ValidationError (unwrapped, so the
// workflow's Catch matches its type name) for bad input; other errors are
// worth a retry, and a retry writes the same export once.
func (h *Handler) Handle(ctx context.Context, in Input) (Output, error) {
	if in.RequestID == "" {
		return Output{}, veil.Invalid("requestId", "required")
	}
	ai := access.Input{ID: in.RequestID, Requester: in.Requester, Jurisdiction: in.Jurisdiction, Received: in.Received, RecordsKey: in.RecordsKey}
	if in.Coverage != nil {
		ai.Coverage = *in.Coverage
	}
	if in.RecordsKey == "" {
		ids, err := search.Input{RequestID: in.RequestID, Identifiers: in.Identifiers}.Validate()
		if err != nil {
			return Output{}, err
		}
		ai.Identifiers = ids
	}
	x, err := h.exports.Export(ctx, ai)
	if err != nil {
		return Output{}, err
	}
	links, err := h.exports.LinksFor(x, h.base)
	if err != nil {
		return Output{}, err
	}
	requestID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	slog.InfoContext(ctx, "export", "requestId", requestID, "privacyRequest", in.RequestID, "records", x.Records,
		"files", len(x.Files), "complete", x.Coverage.Complete())
	return Output{Export: x, Links: links}, nil
}
