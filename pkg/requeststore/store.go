// Package requeststore keeps privacy requests in the Requests table, the
// pattern of indexstore: one item per request, the queue through the
// ByStatusDue index, every change conditional on the version read and
// recorded in the request's audit trail (pkg/audit).
//
//	request      PK REQ#<id>      SK REQUEST   GSI1PK STATUS#<status>  GSI1SK <due date>#<id>
//	idempotency  PK IDEM#<key>    SK IDEM      requestId bodyHash
//
// A request holds the identifiers its requester named (they are what it
// is about); it expires 24 months after receipt, with its audit trail.
package requeststore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/dynamo"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Request is one privacy request as stored.
type Request struct {
	ID           string            `dynamodbav:"id"`
	Reference    string            `dynamodbav:"reference"`
	Type         requests.Type     `dynamodbav:"type"`
	Jurisdiction string            `dynamodbav:"jurisdiction"`
	Channel      requests.Channel  `dynamodbav:"channel"`
	Status       requests.Status   `dynamodbav:"status"`
	Name         string            `dynamodbav:"name,omitempty"`
	Phones       []string          `dynamodbav:"phones,omitempty"`
	Emails       []string          `dynamodbav:"emails,omitempty"`
	CustomerID   string            `dynamodbav:"customerId,omitempty"`
	Account      string            `dynamodbav:"accountNumber,omitempty"`
	Corrections  map[string]string `dynamodbav:"corrections,omitempty"`
	Comments     string            `dynamodbav:"comments,omitempty"`
	CampaignID   string            `dynamodbav:"campaignId,omitempty"`
	Declaration  bool              `dynamodbav:"declaration,omitempty"`
	Received     time.Time         `dynamodbav:"received"`
	Due          requests.Date     `dynamodbav:"due"`
	Extended     bool              `dynamodbav:"extended,omitempty"`
	// FiledBy is the subject who filed the request: a staff member, an
	// API client, "consumer" for the web form. Attestations record their
	// own (Proof.By) and decisions theirs (Decision.By); the separation of
	// duties (requestflow) compares them. Empty on requests filed before it
	// was recorded: their trail's "received" event names the filer.
	FiledBy string `dynamodbav:"filedBy,omitempty"`
	// AuthorizedAgent filed for the consumer (CCPA regulations §7063).
	AuthorizedAgent *requests.AuthorizedAgent `dynamodbav:"authorizedAgent,omitempty"`
	// Proofs are the identifiers the requester proved, and how: a
	// requester only ever receives rows matching one of them.
	Proofs []requests.Proof `dynamodbav:"proofs,omitempty"`
	// Decision is the supervisor's; Appeal the consumer's appeal of a
	// denial and, once made, its decision.
	Decision *Decision `dynamodbav:"decision,omitempty"`
	Appeal   *Appeal   `dynamodbav:"appeal,omitempty"`
	// ExtendReason is why the due date was extended (told the consumer).
	ExtendReason string `dynamodbav:"extendReason,omitempty"`
	// Wait is what the workflow waits for now, and the task token that
	// resumes it: the one thing a route needs to move an execution on.
	Wait *Wait `dynamodbav:"wait,omitempty"`
	// Reminded lists the dates (YYYY-MM-DD) a reminder went out for;
	// Escalated is set once the compliance contact was told.
	Reminded  []string `dynamodbav:"reminded,omitempty"`
	Escalated bool     `dynamodbav:"escalated,omitempty"`
	// Result is what carrying the request out found and did.
	Result *Result `dynamodbav:"result,omitempty"`
	// Closed is when the request reached a status nothing follows but an
	// appeal (completed, completed_with_gaps, denied, closed_unverified);
	// zero while it is open. Closed minus Received is the days to respond
	// that §7102's report counts.
	Closed time.Time `dynamodbav:"closed,omitempty"`
	// StatusTokenHash is the hash of the token the requester follows the
	// request with; the token itself is never stored.
	StatusTokenHash string    `dynamodbav:"statusTokenHash,omitempty"`
	Updated         time.Time `dynamodbav:"updated"`
	// Version counts the request's writes; every write is conditional on
	// the one read.
	Version int64 `dynamodbav:"ver"`
}

// Decision is a supervisor's (or, on appeal, an admin's) decision.
type Decision struct {
	Decision string    `dynamodbav:"decision" json:"decision"`
	Reason   string    `dynamodbav:"reason,omitempty" json:"reason,omitempty"`
	By       string    `dynamodbav:"by" json:"by"`
	Role     string    `dynamodbav:"role" json:"role"`
	At       time.Time `dynamodbav:"at" json:"at"`
}

// Appeal is a consumer's appeal of a denied request.
type Appeal struct {
	Reason string        `dynamodbav:"reason,omitempty" json:"reason,omitempty"`
	At     time.Time     `dynamodbav:"at" json:"at"`
	Due    requests.Date `dynamodbav:"due" json:"due"`
	// Extended is set once the law's appeal extension was taken
	// (Colorado's and Minnesota's 60 days), ExtendReason why.
	Extended     bool      `dynamodbav:"extended,omitempty" json:"extended,omitempty"`
	ExtendReason string    `dynamodbav:"extendReason,omitempty" json:"extendReason,omitempty"`
	Decision     *Decision `dynamodbav:"decision,omitempty" json:"decision,omitempty"`
}

// Wait is a workflow task waiting on a task token.
type Wait struct {
	// For is what it waits for: WaitVerification, WaitDecision,
	// WaitReview, WaitAppeal or WaitAppealDecision.
	For   string    `dynamodbav:"for" json:"for"`
	Token string    `dynamodbav:"token" json:"-"`
	Since time.Time `dynamodbav:"since" json:"since"`
}

// What a Wait waits for.
const (
	WaitVerification   = "verification"
	WaitDecision       = "decision"
	WaitReview         = "review"
	WaitAppeal         = "appeal"
	WaitAppealDecision = "appeal_decision"
)

// Result is what carrying a request out found and did: pointers and
// counts, no personal data.
type Result struct {
	// RecordsKey is the records the search found (the exports bucket),
	// HeldKey the ones held for review; Records and Held count them.
	RecordsKey string `dynamodbav:"recordsKey,omitempty" json:"recordsKey,omitempty"`
	HeldKey    string `dynamodbav:"heldKey,omitempty" json:"-"`
	Records    int    `dynamodbav:"records" json:"records"`
	// Review is the held rows, each with why and, once reviewed, the
	// supervisor's choice.
	Review []Held `dynamodbav:"review,omitempty" json:"review,omitempty"`
	// Complete says the search saw every list; Coverage is what it saw
	// (list keys and counts: the lists it could not read are named).
	Complete bool               `dynamodbav:"complete" json:"complete"`
	Coverage *indexing.Coverage `dynamodbav:"coverage,omitempty" json:"coverage,omitempty"`
	ExportID string             `dynamodbav:"exportId,omitempty" json:"exportId,omitempty"`
	JobID    string             `dynamodbav:"jobId,omitempty" json:"jobId,omitempty"`
	// Suppressed counts the suppression entries an opt-out (or erasure)
	// added.
	Suppressed int `dynamodbav:"suppressed,omitempty" json:"suppressed,omitempty"`
	// Links are the download links of the export ExportFunction recorded
	// for the Complete step to mail: credentials, so never Step Functions
	// state and never shown (json "-"), and the step needs no link secret.
	Links *Links `dynamodbav:"links,omitempty" json:"-"`
}

// Links are an export's download links (CSV, JSON, PDF and its volumes)
// and when they stop working.
type Links struct {
	URLs    []string  `dynamodbav:"urls"`
	Expires time.Time `dynamodbav:"expires"`
}

// Held is one row held for a supervisor's review before anything is sent.
type Held struct {
	Ref    string `dynamodbav:"ref" json:"ref"`
	Key    string `dynamodbav:"key" json:"key"`
	Row    int64  `dynamodbav:"row" json:"row"`
	Sheet  string `dynamodbav:"sheet,omitempty" json:"sheet,omitempty"`
	Reason string `dynamodbav:"reason" json:"reason"`
	// Include is the supervisor's choice; nil until reviewed.
	Include *bool `dynamodbav:"include,omitempty" json:"include,omitempty"`
}

// Actor is who changes a request, as its audit trail names them.
type Actor struct {
	Subject, Role, Source string
}

// API is the part of the DynamoDB client the store calls.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Store is the Requests table's requests.
type Store struct {
	API   API
	Table string
	Audit *audit.Store
	Now   func() time.Time
}

const (
	requestPrefix = "REQ#"
	requestSK     = "REQUEST"
	idemPrefix    = "IDEM#"
	statusPrefix  = "STATUS#"
	// ByStatusDue is the queue index: a status's requests by due date.
	ByStatusDue = "ByStatusDue"
	// Retention is how long a request is kept after receipt.
	Retention = audit.Retention
)

type item struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	GSI1PK    string `dynamodbav:"GSI1PK"`
	GSI1SK    string `dynamodbav:"GSI1SK"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
	Request
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Store) itemOf(r Request) (map[string]ddbtypes.AttributeValue, error) {
	return marshal(item{PK: requestPrefix + r.ID, SK: requestSK, GSI1PK: statusPrefix + string(r.Status),
		GSI1SK: r.Due.String() + "#" + r.ID, ExpiresAt: r.Received.Add(Retention).Unix(), Request: r})
}

// Create records r (status received) and the "received" event of its
// trail, and returns it with created true. With an idempotency key that
// was used before, it returns the request the key made, created false.
// The key is taken as made from the filing itself (a fingerprint): no
// body is compared; a client's key goes through CreateIdempotent.
func (s *Store) Create(ctx context.Context, r Request, idempotencyKey string, by Actor) (Request, bool, error) {
	return s.CreateIdempotent(ctx, r, idempotencyKey, "", by)
}

// ErrKeyReused is wrapped by CreateIdempotent's error for a client's
// idempotency key used before with another body; it matches
// veil.ErrConflict.
var ErrKeyReused = fmt.Errorf("this Idempotency-Key was used for another filing; file with a new key: %w", veil.ErrConflict)

// CreateIdempotent is Create under a client's idempotency key, stored with
// bodyHash (a hash of the filing's body): the key's request is returned
// only to the same body. A key used before with another body, or stored
// without one, wraps ErrKeyReused, and nothing of its request is returned.
// An empty bodyHash compares nothing (Create).
func (s *Store) CreateIdempotent(ctx context.Context, r Request, idempotencyKey, bodyHash string, by Actor) (Request, bool, error) {
	if r.ID == "" || r.Status != requests.Received {
		return Request{}, false, veil.Invalid("request", "a new request needs an ID and the status received")
	}
	if idempotencyKey != "" {
		item, err := attributevalue.MarshalMap(map[string]any{"PK": idemPrefix + idempotencyKey, "SK": "IDEM", "requestId": r.ID,
			"bodyHash": bodyHash, "expiresAt": r.Received.Add(24 * time.Hour).Unix()})
		if err != nil {
			return Request{}, false, err
		}
		_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item,
			ConditionExpression: aws.String("attribute_not_exists(PK)")})
		switch {
		case dynamo.ConditionFailed(err):
			id, stored, err := s.idempotent(ctx, idempotencyKey)
			if err != nil {
				return Request{}, false, err
			}
			if bodyHash != "" && stored != bodyHash {
				return Request{}, false, ErrKeyReused
			}
			if prev, err := s.Get(ctx, id); err == nil || !errors.Is(err, veil.ErrNotFound) {
				return prev, false, err
			}
			// The key's first use stopped before its request was written:
			// this one writes it, under the first one's ID.
			r.ID = id
		case err != nil:
			return Request{}, false, fmt.Errorf("request %s: %w", r.ID, err)
		}
	}
	r.Version, r.Updated = 1, s.now()
	it, err := s.itemOf(r)
	if err != nil {
		return Request{}, false, err
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: it,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if dynamo.ConditionFailed(err) {
		prev, gerr := s.Get(ctx, r.ID)
		if gerr != nil {
			return Request{}, false, gerr
		}
		return prev, false, nil
	}
	if err != nil {
		return Request{}, false, fmt.Errorf("request %s: %w", r.ID, err)
	}
	if _, err := s.Audit.Append(ctx, audit.Event{RequestID: r.ID, At: r.Updated, Actor: by.Subject, Role: by.Role, Source: by.Source,
		Action: "received", To: string(r.Status), Detail: map[string]string{"type": string(r.Type), "jurisdiction": r.Jurisdiction,
			"channel": string(r.Channel), "due": r.Due.String()}}); err != nil {
		return r, true, err
	}
	return r, true, nil
}

// idempotent returns the request ID an idempotency key made, and the
// hash of the body it was made with ("" when none was stored).
func (s *Store) idempotent(ctx context.Context, k string) (string, string, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: dynamo.Key(idemPrefix+k, "IDEM"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", "", fmt.Errorf("idempotency key: %w", err)
	}
	var v struct {
		RequestID string `dynamodbav:"requestId"`
		BodyHash  string `dynamodbav:"bodyHash"`
	}
	if out.Item == nil {
		return "", "", fmt.Errorf("idempotency key: %w", veil.ErrNotFound)
	}
	if err := attributevalue.UnmarshalMap(out.Item, &v); err != nil {
		return "", "", err
	}
	return v.RequestID, v.BodyHash, nil
}

// Get returns request id; an unknown one wraps veil.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Request, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: dynamo.Key(requestPrefix+id, requestSK),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Request{}, fmt.Errorf("request %s: %w", id, err)
	}
	if out.Item == nil {
		return Request{}, fmt.Errorf("request %s: %w", id, veil.ErrNotFound)
	}
	var it item
	if err := unmarshal(out.Item, &it); err != nil {
		return Request{}, fmt.Errorf("request %s: %w", id, err)
	}
	return it.Request, nil
}

// maxRaces bounds how often Update rereads a request another write
// changed meanwhile.
const maxRaces = 10

// Update applies change to request id as it is now and writes the result
// if nobody wrote meanwhile (else it reads again and reapplies). A change
// of status must be a transition the request's statuses allow
// (requests.Transition); it is the trail's event action, with detail.
// change returns an error to refuse (returned as is, nothing written).
func (s *Store) Update(ctx context.Context, id string, by Actor, action string, detail map[string]string, change func(*Request) error) (Request, error) {
	for range maxRaces {
		cur, err := s.Get(ctx, id)
		if err != nil {
			return Request{}, err
		}
		next := cur
		if err := change(&next); err != nil {
			return Request{}, err
		}
		if next.Status != cur.Status {
			if err := requests.Transition(cur.Status, next.Status); err != nil {
				return Request{}, err
			}
		}
		next.ID, next.Version, next.Updated = cur.ID, cur.Version+1, s.now()
		it, err := s.itemOf(next)
		if err != nil {
			return Request{}, err
		}
		vals, err := attributevalue.MarshalMap(map[string]any{":v": cur.Version})
		if err != nil {
			return Request{}, err
		}
		_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: it,
			ConditionExpression: aws.String("ver = :v"), ExpressionAttributeValues: vals})
		if dynamo.ConditionFailed(err) {
			continue
		}
		if err != nil {
			return Request{}, fmt.Errorf("request %s: %w", id, err)
		}
		ev := audit.Event{RequestID: id, At: next.Updated, Actor: by.Subject, Role: by.Role, Source: by.Source, Action: action, Detail: detail}
		if next.Status != cur.Status {
			ev.From, ev.To = string(cur.Status), string(next.Status)
		}
		if _, err := s.Audit.Append(ctx, ev); err != nil {
			return next, err
		}
		return next, nil
	}
	return Request{}, fmt.Errorf("request %s: %d other writes raced this one: %w", id, maxRaces, veil.ErrConflict)
}

// Queue returns up to limit requests in status, soonest due first, and the
// token of the next page ("" after the last).
func (s *Store) Queue(ctx context.Context, status requests.Status, limit int32, next string) ([]Request, string, error) {
	in := &dynamodb.QueryInput{TableName: aws.String(s.Table), IndexName: aws.String(ByStatusDue),
		KeyConditionExpression:    aws.String("GSI1PK = :s"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": &ddbtypes.AttributeValueMemberS{Value: statusPrefix + string(status)}},
		Limit:                     aws.Int32(limit)}
	if next != "" {
		start, err := decodeToken(next)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	out, err := s.API.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("queue %s: %w", status, err)
	}
	reqs := make([]Request, 0, len(out.Items))
	for _, raw := range out.Items {
		var it item
		if err := unmarshal(raw, &it); err != nil {
			return nil, "", err
		}
		reqs = append(reqs, it.Request)
	}
	token := ""
	if len(out.LastEvaluatedKey) > 0 {
		token = encodeToken(out.LastEvaluatedKey)
	}
	return reqs, token, nil
}

// marshal and unmarshal write a request's kinds and dates by name
// ("email", "2027-01-15"), never by their Go encoding: stored names are
// never renamed, and a reordered constant must not change a stored kind.
func marshal(v any) (map[string]ddbtypes.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) { o.UseEncodingMarshalers = true })
}

func unmarshal(m map[string]ddbtypes.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(m, v, func(o *attributevalue.DecoderOptions) { o.UseEncodingUnmarshalers = true })
}
