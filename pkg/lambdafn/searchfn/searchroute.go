package searchfn

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// searchRows serves GET /search?phone=&email=&customerId=&accountNumber=,
// each parameter repeatable, with a reason= or the requestId= the search
// answers. The search is on the record (the staff log) before it answers.
func (h *Handler) searchRows(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	ids, err := SearchQuery(req.RawQueryString)
	if err != nil {
		return nil, err
	}
	requestID, reason, err := Purpose(req.RawQueryString)
	if err != nil {
		return nil, err
	}
	res, err := h.search.Search(ctx, ids)
	if err != nil {
		return nil, err
	}
	if h.staff != nil {
		hashed, err := h.staff.prefixes(ids)
		if err != nil {
			return nil, err
		}
		if _, err := h.staff.log.Record(ctx, lambdafn.StaffAction(c, "search", requestID, reason, hashed,
			map[string]string{"records": fmt.Sprint(len(res.Records))})); err != nil {
			return nil, err
		}
	}
	prefixes := make([]string, 0, len(ids))
	for _, id := range ids {
		prefixes = append(prefixes, search.KindNames[id.Kind])
	}
	slog.InfoContext(ctx, "staff search", "requestId", httpapi.RequestID(ctx), "caller", c.Subject,
		"kinds", prefixes, "records", len(res.Records), "stale", len(res.Stale), "coverageObjects", res.Coverage.Objects,
		"unreadable", len(res.Coverage.Unreadable), "pending", len(res.Coverage.Pending), "partial", len(res.Coverage.Partial))
	return res, nil
}

// SearchQuery reads GET /search's query string. API Gateway joins repeated
// parameters with commas in queryStringParameters, so the raw query string
// is parsed instead. It returns a *veil.ValidationError naming an unknown
// parameter, a query without identifiers, or one with too many.
func SearchQuery(raw string) ([]search.Identifier, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, veil.Invalid("query", "malformed query string")
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	var ids []search.Identifier
	for _, name := range names {
		if name == "reason" || name == "requestId" {
			continue // Purpose reads them
		}
		kind, ok := search.ParseKind(name)
		if !ok {
			return nil, veil.Invalid(name, "unknown parameter; use phone, email, customerId, accountNumber, reason or requestId")
		}
		for i, v := range q[name] {
			ids = append(ids, search.Identifier{Field: fmt.Sprintf("%s[%d]", name, i), Kind: kind, Value: v})
		}
	}
	if len(ids) == 0 {
		return nil, veil.Invalid("query", "at least one of phone, email, customerId or accountNumber is required")
	}
	if len(ids) > httpapi.MaxIdentifiers {
		return nil, veil.Invalid("query", "at most %d identifiers per search", httpapi.MaxIdentifiers)
	}
	return ids, nil
}

// Purpose reads why a staff search runs from its query string: the
// requestId= it answers or a reason=. It returns a *veil.ValidationError
// on "reason" for neither, on "requestId" for one that is malformed
// (audit.Justify).
func Purpose(raw string) (requestID, reason string, err error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", "", veil.Invalid("query", "malformed query string")
	}
	requestID, reason = q.Get("requestId"), strings.TrimSpace(q.Get("reason"))
	return requestID, reason, audit.Justify(requestID, reason)
}
