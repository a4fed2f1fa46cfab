// Package export is ExportFunction, the privacy-request workflow's access
// task: the records a search left in the exports bucket (or identifiers to
// search for) in, the consumer's CSV, JSON and PDF export out.
//
// The workflow passes the request's ID alone: the function reads the
// request's search result from the Requests table, drops from its records
// the held rows a supervisor did not include, exports the rest and records
// the export in the request. It answers the export without its links
// (they are credentials: the workflow's next step mails them). Invoked
// with a records key or identifiers instead, it answers the links too.
package exportfn

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/requeststore"
	fsearch "github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/tasks"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Exporter is the export the handler runs (access.Service).
type Exporter interface {
	Export(ctx context.Context, in access.Input) (access.Export, error)
	LinksFor(x access.Export, base string) (access.Links, error)
}

// Handler runs the Export task.
type Handler struct {
	exports Exporter
	// base is PUBLIC_API_URL: where the links point.
	base     string
	files    access.FileStore
	requests lambdafn.Requests
}

// New returns a Handler whose links point at base, reading requests from
// reqs and filtering their records in files (nil reqs: it takes records
// keys and identifiers only).
func New(x Exporter, base string, files access.FileStore, reqs lambdafn.Requests) *Handler {
	return &Handler{exports: x, base: base, files: files, requests: reqs}
}

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
	// AccessService required REQUESTS_TABLE.
	return New(svc, getenv("PUBLIC_API_URL"), svc.Files, lambdafn.RequestStore(awsCfg, getenv("REQUESTS_TABLE"))).Handle, nil
}

// Handle exports. It returns a *veil.ValidationError (unwrapped, so the
// workflow's Catch matches its type name) for bad input; other errors are
// worth a retry, and a retry writes the same export once.
func (h *Handler) Handle(ctx context.Context, in tasks.ExportInput) (tasks.ExportOutput, error) {
	if in.OnlyRequest() && h.requests != nil {
		return h.request(ctx, in.RequestID)
	}
	if in.RequestID == "" {
		return tasks.ExportOutput{}, veil.Invalid("requestId", "required")
	}
	ai := access.Input{ID: in.RequestID, Requester: in.Requester, Jurisdiction: in.Jurisdiction, Received: in.Received, RecordsKey: in.RecordsKey}
	if in.Coverage != nil {
		ai.Coverage = *in.Coverage
	}
	if in.RecordsKey == "" {
		ids, err := tasks.SearchInput{RequestID: in.RequestID, Identifiers: in.Identifiers}.Validate()
		if err != nil {
			return tasks.ExportOutput{}, err
		}
		ai.Identifiers = ids
	}
	x, err := h.exports.Export(ctx, ai)
	if err != nil {
		return tasks.ExportOutput{}, err
	}
	links, err := h.exports.LinksFor(x, h.base)
	if err != nil {
		return tasks.ExportOutput{}, err
	}
	logExport(ctx, x)
	return tasks.ExportOutput{Export: x, Links: &links}, nil
}

// request exports request id's search result, the held rows a supervisor
// did not include left out.
func (h *Handler) request(ctx context.Context, id string) (tasks.ExportOutput, error) {
	r, err := h.requests.Get(ctx, id)
	if err != nil {
		return tasks.ExportOutput{}, err
	}
	if r.Result == nil || r.Result.RecordsKey == "" {
		return tasks.ExportOutput{}, veil.Invalid("result", "the request has no search result to export")
	}
	drop := map[string]bool{}
	for _, held := range r.Result.Review {
		if held.Include == nil || !*held.Include {
			drop[held.Ref] = true
		}
	}
	if len(drop) > 0 {
		if _, err := access.FilterRecords(ctx, h.files, r.Result.RecordsKey, func(rec fsearch.Record) bool { return !drop[rec.Ref()] }); err != nil {
			return tasks.ExportOutput{}, err
		}
	}
	ai := access.Input{ID: r.ID, Requester: "workflow", Jurisdiction: r.Jurisdiction, Received: r.Received, RecordsKey: r.Result.RecordsKey}
	if r.Result.Coverage != nil {
		ai.Coverage = *r.Result.Coverage
	}
	x, err := h.exports.Export(ctx, ai)
	if err != nil {
		return tasks.ExportOutput{}, err
	}
	detail := map[string]string{"exportId": x.ID, "records": strconv.Itoa(x.Records)}
	_, err = h.requests.Update(ctx, id, lambdafn.Workflow, "exported", detail, func(r *requeststore.Request) error {
		if r.Result == nil {
			return veil.Invalid("result", "the request has no search result to export")
		}
		res := *r.Result
		res.ExportID = x.ID
		r.Result = &res
		return nil
	})
	if err != nil {
		return tasks.ExportOutput{}, err
	}
	logExport(ctx, x)
	return tasks.ExportOutput{Export: x}, nil
}

func logExport(ctx context.Context, x access.Export) {
	requestID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	slog.InfoContext(ctx, "export", "requestId", requestID, "privacyRequest", x.ID, "records", x.Records,
		"files", len(x.Files), "complete", x.Coverage.Complete())
}
