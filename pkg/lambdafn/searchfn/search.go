// Package searchfn is SearchFunction: the search capability, for staff
// (GET /search), for dialers (the suppression checks and a list's scrub
// report) and for the privacy-request workflow's Search task: a request's
// proven identifiers in, every lead-list record holding them
// written to the exports bucket, and a pointer to them out: Step Functions
// passes at most 256 KB between states, and one consumer can have
// thousands of rows.
//
// The workflow passes the request's ID alone (no identifier ever passes
// through Step Functions state): the function reads the request from the
// Requests table, searches the identifiers its requester proved, and
// records what it found, and which rows a supervisor must review, in the
// request. Invoked with identifiers instead, it searches those.
package searchfn

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/objectstore"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/tasks"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Searcher is the search the handler calls (search.Service).
type Searcher interface {
	Search(ctx context.Context, ids []search.Identifier) (search.Result, error)
}

// Reasons a row is held for review.
const (
	// HeldPlaceholder: every identifier the row matched on belongs to
	// nobody (search.Record.PlaceholderOnly).
	HeldPlaceholder = "placeholder"
	// HeldDifferentName: the row names someone other than the requester
	// (a household landline shared by several people, say).
	HeldDifferentName = "different_name"
)

// HoldReason returns why rec must be reviewed before a requester named
// name is sent it ("" when it need not be): a row matched only on
// placeholders, or one naming someone else.
func HoldReason(name string, rec search.Record) string {
	switch {
	case rec.PlaceholderOnly:
		return HeldPlaceholder
	case name != "" && rec.Name() != "" && identifiers.FoldName(name) != identifiers.FoldName(rec.Name()):
		return HeldDifferentName
	}
	return ""
}

// Config is SearchFunction's environment.
type Config struct {
	Search lambdafn.SearchConfig
	// Exports is where the Search task writes the records it found.
	Exports lambdafn.ExportsConfig
	// RequestsTable is where the workflow's requests are read and their
	// search recorded.
	RequestsTable string
	// LeadsBucket is the bucket GET /lists/{key}/scrub answers for.
	LeadsBucket string
	// Dialers are the IAM roles POST /dialer/suppression/check admits
	// (DIALER_ROLE_ARNS, comma-separated role ARNs; none: no one).
	Dialers auth.DialerRoles
}

// ConfigFromEnv reads Config; it returns *lambdafn.MissingError for an
// unset variable and a *veil.ValidationError for a DIALER_ROLE_ARNS entry
// that is not a role ARN.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	e := lambdafn.NewEnv(getenv)
	cfg := Config{Search: lambdafn.ReadSearchConfig(e), Exports: lambdafn.ReadExportsConfig(e),
		RequestsTable: e.Need("REQUESTS_TABLE"), LeadsBucket: e.Need("LEADS_BUCKET")}
	if err := e.Err(); err != nil {
		return cfg, err
	}
	dialers, err := auth.ParseDialerRoles(e.Get("DIALER_ROLE_ARNS"))
	cfg.Dialers = dialers
	return cfg, err
}

// Handler serves SearchFunction's invocations: the Search task and the
// search routes (GET /search, the suppression checks, the scrub report).
type Handler struct {
	search   Searcher
	files    access.FileStore
	requests lambdafn.Requests
	// The routes'.
	suppression SuppressionChecker
	leadsBucket string
	scrub       ScrubReports
	router      *httpapi.Router
	// staff, when set, records each staff search (nil: tests of other
	// parts).
	staff *staffLog
}

// staffLog is where staff searches are recorded, and how their
// identifiers are hashed for the record.
type staffLog struct {
	log      lambdafn.StaffLog
	prefixes func([]search.Identifier) ([]string, error)
}

// WithStaffLog records each staff search in log, its identifiers as
// prefixes gives them (search.Service.HashPrefixes), and returns h.
func (h *Handler) WithStaffLog(log lambdafn.StaffLog, prefixes func([]search.Identifier) ([]string, error)) *Handler {
	h.staff = &staffLog{log: log, prefixes: prefixes}
	return h
}

// New returns a Handler writing records to files and reading requests
// from reqs (nil: it takes identifiers only); its routes answer once
// WithRoutes gives them what they read.
func New(s Searcher, files access.FileStore, reqs lambdafn.Requests) *Handler {
	h := &Handler{search: s, files: files, requests: reqs}
	agents := []auth.Role{auth.Agent, auth.Supervisor, auth.Admin}
	h.router = &httpapi.Router{Routes: map[string]httpapi.Route{
		"GET /search": {Roles: []auth.Role{auth.Supervisor, auth.Admin}, Serve: h.searchRows},
		// A dialer's check before it calls: agents dial too.
		"POST /suppression/check": {Roles: agents, Serve: h.checkSuppression},
		// The same check for a dialer's service role, signed with its IAM
		// credentials (AWS_IAM authorization on the route).
		"POST /dialer/suppression/check": {Roles: []auth.Role{auth.Dialer}, IAM: true, Serve: h.checkSuppression},
		// A list's scrub report, the rows a dialer skips: dialers are agents too.
		"GET /lists/{key+}": {Roles: agents, Serve: h.scrubReport},
	}}
	return h
}

// WithRoutes makes the suppression checks ask checker and the scrub
// report answer for the lists of bucket from reports, and returns h.
func (h *Handler) WithRoutes(checker SuppressionChecker, bucket string, reports ScrubReports) *Handler {
	h.suppression, h.leadsBucket, h.scrub = checker, bucket, reports
	return h
}

// RouteKeys returns the routes the handler serves and the roles allowed
// on each, for the template check.
func (h *Handler) RouteKeys() map[string][]auth.Role { return h.router.Keys() }

// Build is SearchFunction's lambdafn.Builder.
func Build(ctx context.Context, awsCfg aws.Config, getenv func(string) string) (any, error) {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	svc, err := lambdafn.SearchService(ctx, awsCfg, cfg.Search)
	if err != nil {
		return nil, err
	}
	checker, err := lambdafn.SuppressionChecker(awsCfg, cfg.Search.IndexTable, svc.Secrets, svc.Region)
	if err != nil {
		return nil, err
	}
	ddb := dynamodb.NewFromConfig(awsCfg)
	reports := Reports{Manifests: indexstore.New(ddb, cfg.Search.IndexTable), Scrubs: &suppression.Reports{API: ddb, Table: cfg.Search.IndexTable}}
	files := cfg.Exports.Files(s3.NewFromConfig(awsCfg, objectstore.ClientOptions))
	h := New(svc, files, lambdafn.RequestStore(awsCfg, cfg.RequestsTable)).WithRoutes(checker, cfg.LeadsBucket, reports).
		WithStaffLog(lambdafn.StaffAuditLog(awsCfg, cfg.RequestsTable), svc.HashPrefixes)
	h.router.Dialers = cfg.Dialers
	return h.Handle, nil
}

// Handle answers an API Gateway HTTP API (payload 2.0) request with an
// HTTP response, and runs the Search task for anything else.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	if resp, ok, err := h.router.Event(ctx, raw); ok {
		return resp, err
	}
	var in tasks.SearchInput
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, veil.Invalid("event", "not a Search task input")
	}
	return h.Task(ctx, in)
}

// Task runs the Search task. It returns a *veil.ValidationError (unwrapped, so the
// workflow's Catch matches its type name) for bad input; other errors are
// worth a retry, and a retry writes the same records and result.
func (h *Handler) Task(ctx context.Context, in tasks.SearchInput) (tasks.SearchOutput, error) {
	if in.RequestID != "" && len(in.Identifiers) == 0 && h.requests != nil {
		return h.request(ctx, in.RequestID)
	}
	ids, err := in.Validate()
	if err != nil {
		return tasks.SearchOutput{}, err
	}
	res, err := h.search.Search(ctx, ids)
	if err != nil {
		return tasks.SearchOutput{}, err
	}
	// The workflow answers the consumer: never with a row matched only on
	// an identifier that belongs to nobody (and never deletes one).
	res = res.ForConsumer()
	key, err := access.PutRecords(ctx, h.files, in.RequestID, res.Records)
	if err != nil {
		return tasks.SearchOutput{}, err
	}
	out := tasks.SearchOutput{RequestID: in.RequestID, RecordsKey: key, Records: len(res.Records), Stale: len(res.Stale), Coverage: res.Coverage}
	h.log(ctx, out, len(ids))
	return out, nil
}

// request searches request id's proven identifiers and records the result
// in the request: every record goes to the records file, and the ones to
// review are named there, never dropped unseen.
func (h *Handler) request(ctx context.Context, id string) (tasks.SearchOutput, error) {
	r, err := h.requests.Get(ctx, id)
	if err != nil {
		return tasks.SearchOutput{}, err
	}
	ids, err := lambdafn.Proven(r)
	if err != nil {
		return tasks.SearchOutput{}, err
	}
	res, err := h.search.Search(ctx, ids)
	if err != nil {
		return tasks.SearchOutput{}, err
	}
	// An erasure never touches a placeholder-only row, so only an answer
	// holds those for review.
	var held []requeststore.Held
	for _, rec := range res.Records {
		reason := HoldReason(r.Name, rec)
		if reason == "" || (r.Type != requests.Access && rec.PlaceholderOnly) {
			continue
		}
		held = append(held, requeststore.Held{Ref: rec.Ref(), Key: rec.Key, Row: rec.Row, Sheet: rec.Sheet, Reason: reason})
	}
	// Only an answer needs the rows themselves: a copy of the rows an
	// erasure is about to mask would outlive the erasure.
	key := ""
	if r.Type == requests.Access {
		if key, err = access.PutRecords(ctx, h.files, id, res.Records); err != nil {
			return tasks.SearchOutput{}, err
		}
	}
	out := tasks.SearchOutput{RequestID: id, RecordsKey: key, Records: len(res.Records) - len(held), Held: len(held), Stale: len(res.Stale),
		Coverage: res.Coverage}
	cov := res.Coverage
	detail := map[string]string{"records": strconv.Itoa(out.Records), "held": strconv.Itoa(out.Held)}
	_, err = h.requests.Update(ctx, id, lambdafn.Workflow, "searched", detail, func(r *requeststore.Request) error {
		next := &requeststore.Result{RecordsKey: key, Records: out.Records, Review: reviewed(r.Result, held),
			Complete: cov.Complete(), Coverage: &cov}
		if r.Result != nil {
			next.ExportID, next.JobID = r.Result.ExportID, r.Result.JobID
		}
		r.Result = next
		return nil
	})
	if err != nil {
		return tasks.SearchOutput{}, err
	}
	h.log(ctx, out, len(ids))
	return out, nil
}

// reviewed returns held with the choices a supervisor already made on the
// same rows kept (a search run again, on appeal say, asks only about rows
// nobody has looked at).
func reviewed(prev *requeststore.Result, held []requeststore.Held) []requeststore.Held {
	held = slices.Clone(held)
	if prev == nil {
		return held
	}
	chose := map[string]*bool{}
	for _, h := range prev.Review {
		if h.Include != nil {
			chose[h.Ref+"\x00"+h.Reason] = h.Include
		}
	}
	for i := range held {
		held[i].Include = chose[held[i].Ref+"\x00"+held[i].Reason]
	}
	return held
}

func (h *Handler) log(ctx context.Context, out tasks.SearchOutput, ids int) {
	requestID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	slog.InfoContext(ctx, "search", "requestId", requestID, "privacyRequest", out.RequestID,
		"identifiers", ids, "records", out.Records, "held", out.Held, "stale", out.Stale, "coverageObjects", out.Coverage.Objects,
		"unreadable", len(out.Coverage.Unreadable), "pending", len(out.Coverage.Pending), "partial", len(out.Coverage.Partial))
}
