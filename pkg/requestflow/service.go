// Package requestflow carries a privacy request from intake to close: it
// files requests from every channel, verifies the requester, takes the
// supervisor's decision and the consumer's appeal, and runs the steps the
// privacy-request workflow (statemachine/privacy_request.asl.json) calls
// between them. Every change goes through requeststore, so it is
// versioned and in the request's audit trail; every status change is
// published for CRMs and ticketing systems to follow.
//
// The workflow waits on task tokens. A wait's step stores its token on
// the request; a route that satisfies the wait (a verified code, a
// decision, an appeal) resumes it. Both sides write through one versioned
// update, so whichever comes second sees the other: a route that finds no
// token leaves the step to see the change and resume itself.
package requestflow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/notify"
	"github.com/veil-privacy/veil/pkg/ratelimit"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Codes issues and checks one-time codes (otp.Service).
type Codes interface {
	Issue(ctx context.Context, requestID string, kind identifiers.Kind, raw string) (string, error)
	Resend(ctx context.Context, requestID string, kind identifiers.Kind, raw string) (string, error)
	Verify(ctx context.Context, requestID string, kind identifiers.Kind, raw, code string) error
}

// Runs starts and resumes the workflow's executions (workflowrun.Runs).
type Runs interface {
	// Start starts request id's execution; starting it again is no error.
	Start(ctx context.Context, requestID string) error
	// Resume completes the task waiting on token with output; a token
	// that no longer waits is no error.
	Resume(ctx context.Context, token string, output any) error
}

// Publisher publishes status changes (busevents.Publisher).
type Publisher interface {
	Publish(ctx context.Context, detailType string, detail any) error
}

// Limiter limits anonymous filings per source address (ratelimit.Limiter).
type Limiter interface {
	Allow(ctx context.Context, key string) (ratelimit.Decision, error)
}

// Config is the request policy a deployment sets.
type Config struct {
	// Table is the jurisdictions (requests.Default() with overrides).
	Table requests.Table
	// Policy is the verification policy per request type.
	Policy requests.Policy
	// Region is the default region of phone numbers.
	Region string
	// Zone is the business's time zone: the day a request is received in,
	// and the morning a reminder goes out.
	Zone *time.Location
	// ReminderOffsets are the days before a due date supervisors are
	// reminded (requests.DefaultReminderOffsets when nil).
	ReminderOffsets []int
	// VerifyDays is how long a requester has to verify (10).
	VerifyDays int
	// AppealDays is how long after a denial the workflow waits for an
	// appeal (60).
	AppealDays int
	// Supervisors and Compliance are the addresses reminders and
	// escalations go to.
	Supervisors, Compliance string
	// AgentIntakeOff lists the campaigns whose agents may not file
	// requests (campaigns that target no covered jurisdiction).
	AgentIntakeOff []string
	// StatusSecret keys the status tokens.
	StatusSecret []byte
	// ReminderHour is the local hour reminders go out at (9).
	ReminderHour int
	// WaiveDuties waives the separation of duties (SEPARATION_OF_DUTIES
	// =waive), for a deployment too small for it: every check it would
	// have refused is then allowed and recorded on the request's trail.
	WaiveDuties bool
}

// Service is the request desk.
type Service struct {
	Config
	Store   *requeststore.Store
	Codes   Codes
	Notify  notify.Notifier
	Events  Publisher
	Runs    Runs
	Limiter Limiter
	Now     func() time.Time
	Rand    io.Reader
	Log     *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) zone() *time.Location {
	if s.Zone != nil {
		return s.Zone
	}
	return time.UTC
}

func (s *Service) today() requests.Date { return requests.DateOf(s.now(), s.zone()) }

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Receipt is what a filing answers (POST /requests' 201 body).
type Receipt struct {
	ID          string `json:"id"`
	Reference   string `json:"reference"`
	Status      string `json:"status"`
	ReceivedAt  string `json:"receivedAt"`
	DueAt       string `json:"dueAt"`
	StatusToken string `json:"statusToken,omitempty"`
	// Created is false when the filing returned an earlier request.
	Created bool `json:"-"`
}

// RateLimitedError is an anonymous source that filed too often.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many requests from this address; retry in %d seconds", int(e.RetryAfter.Seconds()+0.999))
}

// Is makes a *RateLimitedError match ErrRateLimited.
func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }

// ErrRateLimited is matched by a *RateLimitedError.
var ErrRateLimited = errors.New("rate limited")

// Filer is who files: the channel, the actor, and for the anonymous web
// form the source address the rate limit counts.
type Filer struct {
	Channel requests.Channel
	Actor   requeststore.Actor
	Source  string
}

// File files f. It returns a veil.ValidationErrors naming every wrong
// field, a *RateLimitedError for an anonymous source over its limit, and
// the earlier request (Created false) for an Idempotency-Key repeated with
// the same filing (its status token too) or an identical open request filed
// within 24 hours (no token). A key repeated with another filing wraps
// requeststore.ErrKeyReused (a veil.ErrConflict): no request, no token.
func (s *Service) File(ctx context.Context, f requests.Filing, by Filer, idempotencyKey string) (Receipt, error) {
	if by.Channel == requests.Web && s.Limiter != nil {
		d, err := s.Limiter.Allow(ctx, "file:"+by.Source)
		if err != nil {
			return Receipt{}, err
		}
		if !d.Allowed {
			return Receipt{}, &RateLimitedError{RetryAfter: d.RetryAfter}
		}
	}
	filed, err := f.Check(s.Table, s.Region)
	if err != nil {
		return Receipt{}, err
	}
	if by.Channel == requests.Agent && slices.Contains(s.AgentIntakeOff, strings.TrimSpace(f.CampaignID)) {
		return Receipt{}, veil.Invalid("campaignId", "agent intake is switched off for this campaign")
	}
	now := s.now()
	ref, err := requests.NewReference(s.Rand)
	if err != nil {
		return Receipt{}, err
	}
	r := requeststore.Request{ID: uuid.NewString(), Reference: ref, Type: filed.Kind, Jurisdiction: filed.Jurisdiction.Code,
		Channel: by.Channel, Status: requests.Received, Name: strings.TrimSpace(f.Name), Corrections: f.Corrections,
		Comments: f.Comments, CampaignID: strings.TrimSpace(f.CampaignID), Declaration: f.Declaration,
		AuthorizedAgent: f.AuthorizedAgent, FiledBy: by.Actor.Subject, Received: now,
		Due: requests.DueDate(filed.Jurisdiction, filed.Kind, requests.DateOf(now, s.zone()))}
	for _, id := range filed.Identifiers {
		switch id.Kind {
		case identifiers.Phone:
			r.Phones = appendOnce(r.Phones, id.Value)
		case identifiers.Email:
			r.Emails = appendOnce(r.Emails, id.Value)
		case identifiers.CustomerID:
			r.CustomerID = id.Value
		case identifiers.AccountNumber:
			r.Account = id.Value
		}
	}
	// A client's key is scoped to the client, and returns its request
	// only to the same body: every anonymous filer is the one subject
	// "consumer", so a stranger who sent another body under the same key
	// would otherwise get the first filer's request and status token.
	// Without a key, the filing's fingerprint finds an identical request
	// filed within 24 hours (and gives no token back).
	key, bodyHash, byClient := "", "", idempotencyKey != ""
	if byClient {
		key = "K#" + digest(by.Actor.Subject, idempotencyKey)
		b, err := json.Marshal(f)
		if err != nil {
			return Receipt{}, err
		}
		bodyHash = digest(string(b))
	} else {
		key = "F#" + fingerprint(r)
	}
	r.StatusTokenHash = requests.TokenHash(s.statusToken(r.ID))
	got, created, err := s.Store.CreateIdempotent(ctx, r, key, bodyHash, by.Actor)
	if err != nil {
		return Receipt{}, err
	}
	if !created && !byClient && (got.Status.Terminal() || got.Status == requests.Denied || now.Sub(got.Received) > 24*time.Hour) {
		got, created, err = s.Store.Create(ctx, r, "", by.Actor)
		if err != nil {
			return Receipt{}, err
		}
	}
	if created {
		s.published(ctx, got)
	}
	// Started on every filing: a retry after a failed start starts it.
	if got.Status == requests.Received {
		if err := s.Runs.Start(ctx, got.ID); err != nil {
			return Receipt{}, err
		}
	}
	rc := s.receipt(got)
	rc.Created = created
	if created || byClient {
		rc.StatusToken = s.statusToken(got.ID)
	}
	return rc, nil
}

func (s *Service) receipt(r requeststore.Request) Receipt {
	return Receipt{ID: r.ID, Reference: r.Reference, Status: string(r.Status), ReceivedAt: r.Received.Format(time.RFC3339),
		DueAt: r.Due.String()}
}

func appendOnce(vs []string, v string) []string {
	if slices.Contains(vs, v) {
		return vs
	}
	return append(vs, v)
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fingerprint is what makes two filings the same request.
func fingerprint(r requeststore.Request) string {
	ids := append(append([]string{}, r.Phones...), r.Emails...)
	ids = append(ids, "c:"+r.CustomerID, "a:"+r.Account)
	slices.Sort(ids)
	return digest(append([]string{string(r.Type), r.Jurisdiction, identifiers.FoldName(r.Name)}, ids...)...)
}

// statusToken is the token a requester follows request id with: derived,
// so that a client's retried filing gets the same one back, and stored
// only as its hash.
func (s *Service) statusToken(id string) string {
	m := hmac.New(sha256.New, s.StatusSecret)
	m.Write([]byte("veil-status-token:" + id))
	return hex.EncodeToString(m.Sum(nil))[:48]
}

// published publishes r's status; a failure is logged, not returned: the
// request moved whether or not a subscriber hears of it.
func (s *Service) published(ctx context.Context, r requeststore.Request) {
	if s.Events == nil {
		return
	}
	err := s.Events.Publish(ctx, "Privacy Request Status Changed", map[string]any{
		"requestId": r.ID, "reference": r.Reference, "type": r.Type, "jurisdiction": r.Jurisdiction,
		"channel": r.Channel, "status": r.Status, "dueAt": r.Due.String(), "at": s.now().Format(time.RFC3339)})
	if err != nil {
		s.log().ErrorContext(ctx, "status event not published", "privacyRequest", r.ID, "status", r.Status, "error", err)
	}
}

// update is Store.Update plus the status event when the status moved.
func (s *Service) update(ctx context.Context, id string, by requeststore.Actor, action string, detail map[string]string, change func(*requeststore.Request) error) (requeststore.Request, error) {
	var before requests.Status
	r, err := s.Store.Update(ctx, id, by, action, detail, func(r *requeststore.Request) error {
		before = r.Status
		return change(r)
	})
	if err == nil && r.Status != before {
		s.published(ctx, r)
	}
	return r, err
}

// errUnchanged refuses an update that has nothing to do; callers treat it
// as success.
var errUnchanged = errors.New("unchanged")

// CheckToken returns request id when token is its status token; any
// mismatch wraps veil.ErrNotFound, so a guess learns nothing.
func (s *Service) CheckToken(ctx context.Context, id, token string) (requeststore.Request, error) {
	r, err := s.Store.Get(ctx, id)
	if err != nil {
		return requeststore.Request{}, err
	}
	if token == "" || !hmac.Equal([]byte(requests.TokenHash(token)), []byte(r.StatusTokenHash)) {
		return requeststore.Request{}, fmt.Errorf("request %s: %w", id, veil.ErrNotFound)
	}
	return r, nil
}

// Get returns request id for staff, and records that by read it: a
// request holds the consumer's identifiers, and who saw them is part of
// its trail.
func (s *Service) Get(ctx context.Context, id string, by requeststore.Actor) (requeststore.Request, error) {
	r, err := s.Store.Get(ctx, id)
	if err != nil {
		return requeststore.Request{}, err
	}
	return r, s.readBy(ctx, id, by, "viewed")
}

// Audit returns request id's audit trail, and records that by read it.
func (s *Service) Audit(ctx context.Context, id string, by requeststore.Actor) ([]audit.Event, error) {
	if _, err := s.Store.Get(ctx, id); err != nil {
		return nil, err
	}
	evs, err := s.Store.Audit.Events(ctx, id)
	if err != nil {
		return nil, err
	}
	return evs, s.readBy(ctx, id, by, "audit_read")
}

func (s *Service) readBy(ctx context.Context, id string, by requeststore.Actor, action string) error {
	_, err := s.Store.Audit.Append(ctx, audit.Event{RequestID: id, At: s.now(), Actor: by.Subject, Role: by.Role, Source: by.Source, Action: action})
	return err
}

// jurisdiction returns r's jurisdiction from the configured table.
func (s *Service) jurisdiction(r requeststore.Request) (requests.Jurisdiction, error) {
	return s.Table.Lookup(r.Jurisdiction)
}
