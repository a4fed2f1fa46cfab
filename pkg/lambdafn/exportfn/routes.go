package exportfn

// The /exports routes: a staff export of a consumer's records, its status
// and links, its revocation, and the download redirect a consumer's link
// lands on.

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// ExportRequest is POST /exports's body: the consumer's identifiers.
type ExportRequest struct {
	Phones         []string `json:"phones"`
	Emails         []string `json:"emails"`
	CustomerIDs    []string `json:"customerIds"`
	AccountNumbers []string `json:"accountNumbers"`
	// Jurisdiction is the law the request is answered under ("CCPA",
	// "GDPR", …), printed on the report.
	Jurisdiction string `json:"jurisdiction"`
}

// ParseExportRequest reads POST /exports's body. It returns a
// *veil.ValidationError naming an unknown field, a body that is not such
// an object, or one with no identifiers or too many.
func ParseExportRequest(body string) (ExportRequest, []search.Identifier, error) {
	if len(body) > httpapi.MaxBody {
		return ExportRequest{}, nil, veil.Invalid("body", "larger than %d bytes", httpapi.MaxBody)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var r ExportRequest
	if err := dec.Decode(&r); err != nil {
		return ExportRequest{}, nil, veil.Invalid("body", "want a JSON object with phones, emails, customerIds, accountNumbers: %s", httpapi.JSONProblem(err))
	}
	if dec.More() {
		return ExportRequest{}, nil, veil.Invalid("body", "one JSON object, nothing after it")
	}
	ids, err := httpapi.IdentifierLists(r.Phones, r.Emails, r.CustomerIDs, r.AccountNumbers, "export")
	if err != nil {
		return ExportRequest{}, nil, err
	}
	if len(r.Jurisdiction) > 64 {
		return ExportRequest{}, nil, veil.Invalid("jurisdiction", "longer than 64 characters")
	}
	return r, ids, nil
}

// exportResponse is what POST /exports and GET /exports/{id} answer.
type exportResponse struct {
	access.Status
	Links *access.Links `json:"links,omitempty"`
}

// createExport serves POST /exports: search, export, links.
func (h *Handler) createExport(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	body := req.Body
	if req.IsBase64Encoded {
		return nil, veil.Invalid("body", "want a JSON object")
	}
	r, ids, err := ParseExportRequest(body)
	if err != nil {
		return nil, err
	}
	x, err := h.exports.Export(ctx, access.Input{Requester: "staff:" + c.Subject, Jurisdiction: r.Jurisdiction, Identifiers: ids})
	if err != nil {
		return nil, err
	}
	links, err := h.exports.LinksFor(x, httpapi.APIBase(req))
	if err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "staff export", "requestId", httpapi.RequestID(ctx), "caller", c.Subject, "exportId", x.ID,
		"identifiers", len(ids), "records", x.Records, "files", len(x.Files), "complete", x.Coverage.Complete())
	return httpapi.Reply{Status: http.StatusCreated, Body: exportResponse{Status: access.Status{Export: x, Downloads: []access.Download{}}, Links: &links}}, nil
}

// getExport serves GET /exports/{id}: status, counts, fresh links (none
// once revoked) and the download history.
func (h *Handler) getExport(ctx context.Context, _ auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	st, err := h.exports.Status(ctx, req.PathParameters["id"])
	if err != nil {
		return nil, err
	}
	out := exportResponse{Status: st}
	if st.RevokedAt.IsZero() {
		links, err := h.exports.LinksFor(st.Export, httpapi.APIBase(req))
		if err != nil {
			return nil, err
		}
		out.Links = &links
	}
	return out, nil
}

// revokeExport serves DELETE /exports/{id}: every link of the export
// stops working.
func (h *Handler) revokeExport(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	id := req.PathParameters["id"]
	if err := h.exports.Revoke(ctx, id, "staff:"+c.Subject); err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "export revoked", "requestId", httpapi.RequestID(ctx), "caller", c.Subject, "exportId", id)
	return map[string]any{"exportId": id, "revoked": true}, nil
}

// download serves GET /exports/{id}/{file}?token=: the link a consumer
// was sent. It answers 302 to a presigned URL of the file, 410 with a
// plain explanation for an expired or withdrawn link, 403 for a token that
// is not genuine or not this export's.
func (h *Handler) download(ctx context.Context, _ auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	id, file := req.PathParameters["id"], req.PathParameters["file"]
	url, err := h.exports.Download(ctx, id, file, req.QueryStringParameters["token"], req.RequestContext.HTTP.SourceIP)
	if err != nil {
		slog.InfoContext(ctx, "download refused", "requestId", httpapi.RequestID(ctx), "exportId", id, "file", file, "status", httpapi.Status(err))
		return nil, httpapi.PlainError{Err: err}
	}
	slog.InfoContext(ctx, "download", "requestId", httpapi.RequestID(ctx), "exportId", id, "file", file)
	return httpapi.Reply{Status: http.StatusFound, Headers: map[string]string{"Location": url}}, nil
}
