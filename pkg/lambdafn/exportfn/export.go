// Package exportfn is ExportFunction: the export capability, for staff
// (the /exports routes), for the consumer's download link (the redirect
// to a short-lived presigned URL) and for the privacy-request workflow's
// Export task: the records a search left in the exports bucket (or
// identifiers to search for) in, the consumer's CSV, JSON and PDF export
// out.
//
// The workflow passes the request's ID alone: the function reads the
// request's search result from the Requests table, drops from its records
// the held rows a supervisor did not include, exports the rest and records
// the export, with its download links, in the request: the Complete step
// mails them from there, holding no link secret. It answers the export
// without its links (they are credentials, never Step Functions state).
// Invoked with a records key or identifiers instead, it answers the links
// too.
package exportfn

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/requeststore"
	fsearch "github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/tasks"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Exporter is the export the handler runs (access.Service).
type Exporter interface {
	Export(ctx context.Context, in access.Input) (access.Export, error)
	LinksFor(x access.Export, base string) (access.Links, error)
	Download(ctx context.Context, id, file, token, ip string) (string, error)
	Revoke(ctx context.Context, id, who string) error
	Status(ctx context.Context, id string) (access.Status, error)
}

var _ Exporter = (*access.Service)(nil)

// Config is ExportFunction's environment.
type Config struct {
	// Search finds a staff export's records (POST /exports names
	// identifiers).
	Search lambdafn.SearchConfig
	Access lambdafn.AccessConfig
	// PublicAPIURL is where the links the workflow records point (empty:
	// relative to the API).
	PublicAPIURL string
}

// ConfigFromEnv reads Config; it returns *lambdafn.MissingError for an
// unset variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	e := lambdafn.NewEnv(getenv)
	cfg := Config{Search: lambdafn.ReadSearchConfig(e), PublicAPIURL: e.Get("PUBLIC_API_URL")}
	var err error
	if cfg.Access, err = lambdafn.ReadAccessConfig(e); err != nil {
		return Config{}, err
	}
	return cfg, e.Err()
}

// Handler serves ExportFunction's invocations: the Export task and the
// /exports routes.
type Handler struct {
	exports Exporter
	// base is PUBLIC_API_URL: where the workflow's links point.
	base     string
	files    access.FileStore
	requests lambdafn.Requests
	router   *httpapi.Router
}

// New returns a Handler whose workflow links point at base, reading
// requests from reqs and filtering their records in files (nil reqs: it
// takes records keys and identifiers only).
func New(x Exporter, base string, files access.FileStore, reqs lambdafn.Requests) *Handler {
	h := &Handler{exports: x, base: base, files: files, requests: reqs}
	staff := []auth.Role{auth.Supervisor, auth.Admin}
	h.router = &httpapi.Router{Routes: map[string]httpapi.Route{
		"POST /exports":        {Roles: staff, Serve: h.createExport},
		"GET /exports/{id}":    {Roles: staff, Serve: h.getExport},
		"DELETE /exports/{id}": {Roles: staff, Serve: h.revokeExport},
		// The link mailed to a consumer: its token is the credential.
		"GET /exports/{id}/{file}": {Serve: h.download},
	}}
	return h
}

// RouteKeys returns the routes the handler serves and the roles allowed
// on each, for the template check.
func (h *Handler) RouteKeys() map[string][]auth.Role { return h.router.Keys() }

// Build is ExportFunction's lambdafn.Builder.
func Build(ctx context.Context, awsCfg aws.Config, getenv func(string) string) (any, error) {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	finder, err := lambdafn.SearchService(ctx, awsCfg, cfg.Search)
	if err != nil {
		return nil, err
	}
	svc, err := lambdafn.AccessService(ctx, awsCfg, cfg.Access, finder)
	if err != nil {
		return nil, err
	}
	return New(svc, cfg.PublicAPIURL, svc.Files, lambdafn.RequestStore(awsCfg, cfg.Access.RequestsTable)).Handle, nil
}

// Handle answers an API Gateway HTTP API (payload 2.0) request with an
// HTTP response, and runs the Export task for anything else.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	if resp, ok, err := h.router.Event(ctx, raw); ok {
		return resp, err
	}
	var in tasks.ExportInput
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, veil.Invalid("event", "not an Export task input")
	}
	return h.Task(ctx, in)
}

// Task exports. It returns a *veil.ValidationError (unwrapped, so the
// workflow's Catch matches its type name) for bad input; other errors are
// worth a retry, and a retry writes the same export once.
func (h *Handler) Task(ctx context.Context, in tasks.ExportInput) (tasks.ExportOutput, error) {
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
	// The Complete step mails these: it holds no link secret to sign them.
	links, err := h.exports.LinksFor(x, h.base)
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
		res.Links = &requeststore.Links{URLs: append([]string{links.CSV, links.JSON, links.PDF}, links.PDFVolumes...), Expires: links.Expires}
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
