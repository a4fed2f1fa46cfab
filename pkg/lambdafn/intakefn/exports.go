package intakefn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Exporter is what the /exports routes run (access.Service).
type Exporter interface {
	Export(ctx context.Context, in access.Input) (access.Export, error)
	LinksFor(x access.Export, base string) (access.Links, error)
	Download(ctx context.Context, id, file, token, ip string) (string, error)
	Revoke(ctx context.Context, id, who string) error
	Status(ctx context.Context, id string) (access.Status, error)
}

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

// maxBody bounds POST /exports's body.
const maxBody = 64 << 10

// ParseExportRequest reads POST /exports's body. It returns a
// *veil.ValidationError naming an unknown field, a body that is not such
// an object, or one with no identifiers or too many.
func ParseExportRequest(body string) (ExportRequest, []search.Identifier, error) {
	if len(body) > maxBody {
		return ExportRequest{}, nil, veil.Invalid("body", "larger than %d bytes", maxBody)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var r ExportRequest
	if err := dec.Decode(&r); err != nil {
		return ExportRequest{}, nil, veil.Invalid("body", "want a JSON object with phones, emails, customerIds, accountNumbers: %s", jsonProblem(err))
	}
	if dec.More() {
		return ExportRequest{}, nil, veil.Invalid("body", "one JSON object, nothing after it")
	}
	ids, err := identifierLists(r.Phones, r.Emails, r.CustomerIDs, r.AccountNumbers, "export")
	if err != nil {
		return ExportRequest{}, nil, err
	}
	if len(r.Jurisdiction) > 64 {
		return ExportRequest{}, nil, veil.Invalid("jurisdiction", "longer than 64 characters")
	}
	return r, ids, nil
}

// identifierLists reads a body's phones, emails, customerIds and
// accountNumbers as search identifiers, each Field naming its place
// ("phones[0]"), for POST /exports, /pseudonymize and /corrections. It
// returns a *veil.ValidationError naming an empty value, or "body" for no
// identifiers or more than maxSearchIdentifiers per what ("export").
func identifierLists(phones, emails, customerIDs, accountNumbers []string, what string) ([]search.Identifier, error) {
	var ids []search.Identifier
	for _, f := range []struct {
		name   string
		kind   identifiers.Kind
		values []string
	}{
		{"phones", identifiers.Phone, phones},
		{"emails", identifiers.Email, emails},
		{"customerIds", identifiers.CustomerID, customerIDs},
		{"accountNumbers", identifiers.AccountNumber, accountNumbers},
	} {
		for i, v := range f.values {
			field := fmt.Sprintf("%s[%d]", f.name, i)
			if strings.TrimSpace(v) == "" {
				return nil, veil.Invalid(field, "empty")
			}
			ids = append(ids, search.Identifier{Field: field, Kind: f.kind, Value: v})
		}
	}
	if len(ids) == 0 {
		return nil, veil.Invalid("body", "at least one of phones, emails, customerIds or accountNumbers is required")
	}
	if len(ids) > maxSearchIdentifiers {
		return nil, veil.Invalid("body", "at most %d identifiers per %s", maxSearchIdentifiers, what)
	}
	return ids, nil
}

// jsonProblem describes a decoding error without quoting the body: its
// kind, and the field for an unknown or mistyped one.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "malformed JSON"
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
	links, err := h.exports.LinksFor(x, apiBase(req))
	if err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "staff export", "requestId", requestID(ctx), "caller", c.Subject, "exportId", x.ID,
		"identifiers", len(ids), "records", x.Records, "files", len(x.Files), "complete", x.Coverage.Complete())
	return reply{status: http.StatusCreated, body: exportResponse{Status: access.Status{Export: x, Downloads: []access.Download{}}, Links: &links}}, nil
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
		links, err := h.exports.LinksFor(st.Export, apiBase(req))
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
	slog.InfoContext(ctx, "export revoked", "requestId", requestID(ctx), "caller", c.Subject, "exportId", id)
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
		slog.InfoContext(ctx, "download refused", "requestId", requestID(ctx), "exportId", id, "file", file, "status", Status(err))
		return nil, plainError{err}
	}
	slog.InfoContext(ctx, "download", "requestId", requestID(ctx), "exportId", id, "file", file)
	return reply{status: http.StatusFound, headers: map[string]string{"Location": url}}, nil
}

// apiBase is the URL the request came in on: links point back to it.
func apiBase(req events.APIGatewayV2HTTPRequest) string {
	host := req.RequestContext.DomainName
	if host == "" {
		return ""
	}
	proto := req.Headers["x-forwarded-proto"]
	if proto == "" {
		proto = "https"
	}
	base := proto + "://" + host
	if st := req.RequestContext.Stage; st != "" && st != "$default" {
		base += "/" + st
	}
	return base
}

// reply is a route's answer with a status other than 200, or headers.
type reply struct {
	status  int
	headers map[string]string
	body    any
}

// plainError is an error a person reads in a browser: answered as text,
// with its own words for a link that no longer works.
type plainError struct{ err error }

func (p plainError) Error() string { return p.err.Error() }
func (p plainError) Unwrap() error { return p.err }

// plainText is what a browser shows for err.
func plainText(err error, status int) string {
	var b bytes.Buffer
	switch {
	case errors.Is(err, veil.ErrGone):
		// The error's own text is written for the consumer.
		b.WriteString(err.Error())
	case status == http.StatusForbidden:
		b.WriteString("This download link is not valid. Use the link exactly as you received it, or ask for a new one.")
	case status == http.StatusNotFound:
		b.WriteString("There is no such file in this export.")
	default:
		b.WriteString(http.StatusText(status))
	}
	b.WriteString("\n")
	return b.String()
}
