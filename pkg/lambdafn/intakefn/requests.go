package intakefn

// Privacy requests: filing from the web form, an agent or an external
// system; the consumer's verification, status and appeal with the status
// token; the supervisor's decision and review; the staff queue, a
// request's audit trail and the yearly report; and the workflow's steps.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/reports"
	"github.com/veil-privacy/veil/pkg/requestflow"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/tasks"
	"github.com/veil-privacy/veil/pkg/veil"
)

// requestRoutes are the request routes, added to the handler's table.
func (h *Handler) requestRoutes() map[string]httpapi.Route {
	filers := []auth.Role{auth.Agent, auth.Supervisor, auth.Admin}
	deciders := []auth.Role{auth.Supervisor, auth.Admin}
	readers := []auth.Role{auth.Agent, auth.Supervisor, auth.Admin, auth.Auditor}
	auditors := []auth.Role{auth.Auditor, auth.Admin}
	return map[string]httpapi.Route{
		// The web form: anonymous, rate-limited per source address.
		"POST /requests": {Serve: h.fileWeb},
		// An agent on a call, and an external system with the
		// client-credentials grant: API Gateway's JWT authorizer is all
		// or nothing per route, so the authenticated doors have their own.
		"POST /requests/agent": {Roles: filers, Serve: h.fileAs(requests.Agent)},
		"POST /requests/api":   {Roles: []auth.Role{auth.API}, Serve: h.fileAs(requests.API)},
		// The consumer, with the request's ID and its status token (as
		// ?token= or the body's "token"); verify, resend and appeal answer
		// an unknown request, a wrong token and an identifier the request
		// does not name alike.
		"GET /requests/{id}/status":  {Serve: h.requestStatus},
		"POST /requests/{id}/verify": {Serve: h.verify},
		"POST /requests/{id}/resend": {Serve: h.resend},
		"POST /requests/{id}/appeal": {Serve: h.appeal},
		// Staff.
		"POST /requests/{id}/attest":   {Roles: filers, Serve: h.attest},
		"POST /requests/{id}/decision": {Roles: deciders, Serve: h.decide},
		"POST /requests/{id}/review":   {Roles: deciders, Serve: h.review},
		"GET /requests":                {Roles: readers, Serve: h.queue},
		"GET /requests/{id}":           {Roles: readers, Serve: h.getRequest},
		"GET /requests/{id}/audit":     {Roles: auditors, Serve: h.requestAudit},
		"GET /reports/metrics":         {Roles: auditors, Serve: h.metrics},
	}
}

func actor(c auth.Caller, source string) requeststore.Actor {
	role := ""
	for _, r := range []auth.Role{auth.Admin, auth.Supervisor, auth.Agent, auth.Auditor, auth.API} {
		if c.Has(r) {
			role = string(r)
			break
		}
	}
	return requeststore.Actor{Subject: c.Subject, Role: role, Source: source}
}

const filingFields = "type, jurisdiction, name, phones, emails, customerId, accountNumber, corrections, comments, campaignId, declaration, authorizedAgent"

func (h *Handler) file(ctx context.Context, req events.APIGatewayV2HTTPRequest, by requestflow.Filer) (any, error) {
	var f requests.Filing
	if err := httpapi.DecodeStrict(req.Body, &f, filingFields); err != nil {
		return nil, err
	}
	rc, err := h.desk.File(ctx, f, by, httpapi.Header(req, "Idempotency-Key"))
	if err != nil {
		return nil, err
	}
	status := 201
	if !rc.Created {
		status = 200
	}
	return httpapi.Reply{Status: status, Body: rc}, nil
}

func (h *Handler) fileWeb(ctx context.Context, _ auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	return h.file(ctx, req, requestflow.Filer{Channel: requests.Web, Source: req.RequestContext.HTTP.SourceIP,
		Actor: requeststore.Actor{Subject: "consumer", Role: "consumer", Source: "web"}})
}

func (h *Handler) fileAs(ch requests.Channel) func(context.Context, auth.Caller, events.APIGatewayV2HTTPRequest) (any, error) {
	return func(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
		return h.file(ctx, req, requestflow.Filer{Channel: ch, Actor: actor(c, string(ch))})
	}
}

// ConsumerView is what the status token shows: where the request stands,
// never an identifier.
type ConsumerView struct {
	Reference  string `json:"reference"`
	Type       string `json:"type"`
	Status     string `json:"status"`
	ReceivedAt string `json:"receivedAt"`
	DueAt      string `json:"dueAt"`
	Extended   bool   `json:"extended"`
	Verified   int    `json:"verifiedIdentifiers"`
	PolicyMet  bool   `json:"verificationComplete"`
	CanAppeal  bool   `json:"canAppeal"`
}

func (h *Handler) requestStatus(ctx context.Context, _ auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	r, err := h.desk.CheckToken(ctx, req.PathParameters["id"], req.QueryStringParameters["token"])
	if err != nil {
		return nil, err
	}
	j, _ := h.desk.Table.Lookup(r.Jurisdiction)
	return ConsumerView{Reference: r.Reference, Type: string(r.Type), Status: string(r.Status),
		ReceivedAt: r.Received.Format(time.RFC3339), DueAt: r.Due.String(), Extended: r.Extended,
		Verified:  len(requests.Proven(r.Proofs)),
		PolicyMet: h.desk.Policy.Check(r.Type, r.Proofs, r.Declaration, r.Corrections) == nil,
		CanAppeal: r.Status == requests.Denied && r.Appeal == nil && j.Appeal != nil}, nil
}

// VerifyBody is the body of POST /requests/{id}/verify. The status token
// may come in it or, as the status route takes it, as ?token=.
type VerifyBody struct {
	Token      string `json:"token"`
	Identifier string `json:"identifier"`
	Code       string `json:"code"`
}

// DecodeVerify decodes a verify body; the status token is the body's, else
// query's "token". It returns a *veil.ValidationError for a body that is
// not one JSON object of those fields, or that gives a token in both places
// and they differ.
func DecodeVerify(body string, query map[string]string) (VerifyBody, error) {
	var b VerifyBody
	if err := httpapi.DecodeStrict(body, &b, "token, identifier, code"); err != nil {
		return VerifyBody{}, err
	}
	token, err := statusToken(b.Token, query)
	if err != nil {
		return VerifyBody{}, err
	}
	b.Token = token
	return b, nil
}

// statusToken is the token a consumer route was given: in the body or as
// ?token=, the same if both.
func statusToken(body string, query map[string]string) (string, error) {
	q := query["token"]
	switch {
	case body == "":
		return q, nil
	case q != "" && q != body:
		return "", veil.Invalid("token", "give the status token once, in the body or as ?token=")
	}
	return body, nil
}

func (h *Handler) verify(ctx context.Context, _ auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	b, err := DecodeVerify(req.Body, req.QueryStringParameters)
	if err != nil {
		return nil, err
	}
	return h.desk.Verify(ctx, req.PathParameters["id"], b.Token, b.Identifier, b.Code)
}

func (h *Handler) resend(ctx context.Context, _ auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	var b struct {
		Token      string `json:"token"`
		Identifier string `json:"identifier"`
	}
	if err := httpapi.DecodeStrict(req.Body, &b, "token, identifier"); err != nil {
		return nil, err
	}
	token, err := statusToken(b.Token, req.QueryStringParameters)
	if err != nil {
		return nil, err
	}
	return h.desk.Resend(ctx, req.PathParameters["id"], token, b.Identifier)
}

func (h *Handler) appeal(ctx context.Context, _ auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	var b struct {
		Token  string `json:"token"`
		Reason string `json:"reason"`
	}
	if err := httpapi.DecodeStrict(req.Body, &b, "token, reason"); err != nil {
		return nil, err
	}
	token, err := statusToken(b.Token, req.QueryStringParameters)
	if err != nil {
		return nil, err
	}
	r, err := h.desk.Appeal(ctx, req.PathParameters["id"], token, b.Reason)
	if err != nil {
		return nil, err
	}
	return httpapi.Reply{Status: 202, Body: map[string]any{"reference": r.Reference, "status": r.Status, "appealDueAt": r.Appeal.Due.String()}}, nil
}

func (h *Handler) attest(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	var a requestflow.Attestation
	if err := httpapi.DecodeStrict(req.Body, &a, "identifiers, method, note"); err != nil {
		return nil, err
	}
	return h.desk.Attest(ctx, req.PathParameters["id"], actor(c, "console"), a)
}

func (h *Handler) decide(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	var b struct {
		Decision string `json:"decision"`
		Reason   string `json:"reason"`
	}
	if err := httpapi.DecodeStrict(req.Body, &b, "decision, reason"); err != nil {
		return nil, err
	}
	r, err := h.desk.Decide(ctx, req.PathParameters["id"], actor(c, "console"), b.Decision, b.Reason)
	if err != nil {
		return nil, err
	}
	return h.staffView(r), nil
}

func (h *Handler) review(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	var b struct {
		Rows map[string]bool `json:"rows"`
	}
	if err := httpapi.DecodeStrict(req.Body, &b, "rows (ref → include)"); err != nil {
		return nil, err
	}
	r, err := h.desk.Review(ctx, req.PathParameters["id"], actor(c, "console"), b.Rows)
	if err != nil {
		return nil, err
	}
	return h.staffView(r), nil
}

// staffView is a request as staff read it: everything, times in RFC
// 3339, its verification state against the policy and its result.
func (h *Handler) staffView(r requeststore.Request) map[string]any {
	v := map[string]any{
		"id": r.ID, "reference": r.Reference, "type": r.Type, "jurisdiction": r.Jurisdiction, "channel": r.Channel,
		"status": r.Status, "name": r.Name, "phones": r.Phones, "emails": r.Emails, "customerId": r.CustomerID,
		"accountNumber": r.Account, "corrections": r.Corrections, "comments": r.Comments, "campaignId": r.CampaignID,
		"declaration": r.Declaration, "authorizedAgent": r.AuthorizedAgent, "filedBy": r.FiledBy,
		"receivedAt": r.Received.Format(time.RFC3339), "dueAt": r.Due.String(), "daysLeft": h.desk.DaysLeft(r),
		"extended": r.Extended, "extendReason": r.ExtendReason, "decision": r.Decision, "appeal": r.Appeal,
		"reminded": r.Reminded, "escalated": r.Escalated, "result": r.Result, "updatedAt": r.Updated.Format(time.RFC3339),
	}
	if !r.Closed.IsZero() {
		v["closedAt"] = r.Closed.Format(time.RFC3339)
	}
	if r.Wait != nil {
		v["waitingFor"] = r.Wait.For
	}
	proofs := make([]map[string]any, len(r.Proofs))
	for i, p := range r.Proofs {
		proofs[i] = map[string]any{"kind": p.Kind.String(), "value": p.Value, "method": p.Method, "by": p.By, "at": p.At.Format(time.RFC3339)}
	}
	ver := map[string]any{"proofs": proofs, "policyMet": true}
	if err := h.desk.Policy.Check(r.Type, r.Proofs, r.Declaration, r.Corrections); err != nil {
		ver["policyMet"], ver["missing"] = false, err.Error()
	}
	v["verification"] = ver
	return v
}

func (h *Handler) getRequest(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	r, err := h.desk.Get(ctx, req.PathParameters["id"], actor(c, "console"))
	if err != nil {
		return nil, err
	}
	return h.staffView(r), nil
}

func (h *Handler) queue(ctx context.Context, _ auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	q := req.QueryStringParameters
	var f requestflow.Filter
	var errs veil.ValidationErrors
	for _, s := range strings.FieldsFunc(q["status"], func(r rune) bool { return r == ',' }) {
		st, err := requests.ParseStatus(s)
		if err != nil {
			errs = append(errs, veil.Invalid("status", "unknown status"))
			continue
		}
		f.Statuses = append(f.Statuses, st)
	}
	if v := q["type"]; v != "" {
		t, err := requests.ParseType(v)
		if err != nil {
			errs = append(errs, veil.Invalid("type", "must be access, delete, correct or opt_out"))
		}
		f.Type = t
	}
	if v := q["channel"]; v != "" {
		c, err := requests.ParseChannel(v)
		if err != nil {
			errs = append(errs, veil.Invalid("channel", "must be web, agent, ivr or api"))
		}
		f.Channel = c
	}
	f.Jurisdiction = strings.ToUpper(strings.TrimSpace(q["jurisdiction"]))
	if v := q["limit"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			errs = append(errs, veil.Invalid("limit", "a number from 1 to 500"))
		}
		f.Limit = n
	}
	f.Next = q["nextToken"]
	if err := errs.Err(); err != nil {
		return nil, err
	}
	page, next, err := h.desk.List(ctx, f)
	if err != nil {
		return nil, err
	}
	if q["format"] == "csv" {
		var b bytes.Buffer
		if err := reports.WriteQueueCSV(&b, reports.QueueRows(page, h.desk.Today())); err != nil {
			return nil, err
		}
		return httpapi.CSV("queue.csv", b.String(), next), nil
	}
	out := make([]map[string]any, len(page))
	for i, r := range page {
		out[i] = map[string]any{"id": r.ID, "reference": r.Reference, "type": r.Type, "jurisdiction": r.Jurisdiction,
			"channel": r.Channel, "status": r.Status, "receivedAt": r.Received.Format(time.RFC3339), "dueAt": r.Due.String(),
			"daysLeft": h.desk.DaysLeft(r), "extended": r.Extended}
	}
	return map[string]any{"requests": out, "nextToken": next}, nil
}

func (h *Handler) requestAudit(ctx context.Context, c auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	evs, err := h.desk.Audit(ctx, req.PathParameters["id"], actor(c, "console"))
	if err != nil {
		return nil, err
	}
	if req.QueryStringParameters["format"] == "csv" {
		var b bytes.Buffer
		if err := reports.WriteAuditCSV(&b, evs); err != nil {
			return nil, err
		}
		return httpapi.CSV("audit-"+req.PathParameters["id"]+".csv", b.String(), ""), nil
	}
	return map[string]any{"events": evs}, nil
}

func (h *Handler) metrics(ctx context.Context, _ auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	year := h.desk.Today().Year - 1
	if v := req.QueryStringParameters["year"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, veil.Invalid("year", "a year such as 2026")
		}
		year = n
	}
	rep, err := h.desk.Metrics(ctx, year)
	if err != nil {
		return nil, err
	}
	if req.QueryStringParameters["format"] == "csv" {
		var b bytes.Buffer
		if err := rep.WriteCSV(&b); err != nil {
			return nil, err
		}
		return httpapi.CSV(fmt.Sprintf("ccpa-metrics-%d.csv", year), b.String(), ""), nil
	}
	return rep, nil
}

// HandleStep runs one workflow step. It returns a *veil.ValidationError
// (unwrapped) for an unknown step or a missing request ID.
func (h *Handler) HandleStep(ctx context.Context, s tasks.StepInput) (any, error) {
	if err := requestflow.ValidateStep(s.RequestID); err != nil {
		return nil, err
	}
	if s.At.IsZero() {
		return nil, veil.Invalid("at", "the state's entered time is required")
	}
	d := h.desk
	token := func() error {
		if s.TaskToken == "" {
			return veil.Invalid("taskToken", "required")
		}
		return nil
	}
	var out any
	var err error
	switch s.Step {
	case "acknowledge":
		out, err = d.Acknowledge(ctx, s.RequestID, s.At)
	case "closeUnverified":
		out, err = d.CloseUnverified(ctx, s.RequestID, s.At)
	case "remind":
		out, err = d.Remind(ctx, s.RequestID, s.At)
	case "denied":
		out, err = d.Denied(ctx, s.RequestID, s.At)
	case "complete":
		out, err = d.Complete(ctx, s.RequestID, s.At)
	case "fail":
		out, err = struct{}{}, d.Fail(ctx, s.RequestID, s.Error, s.At)
	case "awaitVerification", "awaitDecision", "awaitReview", "awaitAppeal", "awaitAppealDecision":
		if err = token(); err != nil {
			return nil, err
		}
		wait := map[string]func(context.Context, string, string, time.Time) error{
			"awaitVerification": d.AwaitVerification, "awaitDecision": d.AwaitDecision, "awaitReview": d.AwaitReview,
			"awaitAppeal": d.AwaitAppeal, "awaitAppealDecision": d.AwaitAppealDecision}[s.Step]
		out, err = struct{}{}, wait(ctx, s.RequestID, s.TaskToken, s.At)
	default:
		return nil, veil.Invalid("step", "not a step of the privacy-request workflow")
	}
	if err != nil {
		return nil, err
	}
	switch s.Step {
	case "complete", "denied", "closeUnverified", "fail":
		h.anchorClosed(ctx, s.RequestID)
	}
	return out, nil
}

func decodeStep(raw json.RawMessage) (tasks.StepInput, error) {
	var s tasks.StepInput
	if err := json.Unmarshal(raw, &s); err != nil {
		return tasks.StepInput{}, veil.Invalid("event", "malformed workflow step")
	}
	return s, nil
}
