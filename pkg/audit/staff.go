package audit

// Staff actions outside a request's own trail: every search, export,
// erasure and correction a staff member runs, who ran it, in what role,
// on which identifiers (as hash prefixes, never values) and why. They sit
// in the Requests table by day, so a time range is a Query per day:
//
//	staff  PK STAFF#<yyyy-mm-dd>  SK <RFC 3339 nano time>#<random>  the action, expiresAt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/veil"
)

// StaffAction is one staff action on the record.
type StaffAction struct {
	At time.Time `json:"at"`
	// Actor is the staff subject, Role the role they acted in.
	Actor string `json:"actor"`
	Role  string `json:"role"`
	// Action names the action ("search", "export", "erasure",
	// "correction", "confirm").
	Action string `json:"action"`
	// Identifiers are "kind:hashPrefix" for each identifier acted on.
	Identifiers []string `json:"identifiers,omitempty"`
	// RequestID is the privacy request the action answers; Reason is why
	// it was taken without one. One of the two is always set.
	RequestID string `json:"requestId,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Detail holds IDs and counts (a job ID, records found); never
	// personal data.
	Detail map[string]string `json:"detail,omitempty"`
}

// MaxReason bounds a reason's length.
const MaxReason = 500

// Justify checks that a staff action names the request it answers or a
// reason. It returns a *veil.ValidationError on "reason" for neither, or
// a reason too long, and on "requestId" for one that is no ID (letters,
// digits, '-' and '_', at most 128).
func Justify(requestID, reason string) error {
	reason = strings.TrimSpace(reason)
	switch {
	case !validID(requestID):
		return veil.Invalid("requestId", "letters, digits, '-' and '_' only, at most 128")
	case requestID == "" && reason == "":
		return veil.Invalid("reason", "required: say why, or give the requestId the action answers")
	case len(reason) > MaxReason:
		return veil.Invalid("reason", "longer than %d characters", MaxReason)
	}
	return nil
}

func validID(id string) bool {
	if len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// StaffAPI is the part of the DynamoDB client StaffLog calls.
type StaffAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// StaffLog keeps staff actions on the Requests table.
type StaffLog struct {
	API   StaffAPI
	Table string
	Now   func() time.Time
}

const staffPrefix = "STAFF#"

// MaxStaffRange bounds the days one listing reads.
const MaxStaffRange = 31 * 24 * time.Hour

type staffItem struct {
	PK          string            `dynamodbav:"PK"`
	SK          string            `dynamodbav:"SK"`
	At          time.Time         `dynamodbav:"at"`
	Actor       string            `dynamodbav:"actor"`
	Role        string            `dynamodbav:"role,omitempty"`
	Action      string            `dynamodbav:"action"`
	Identifiers []string          `dynamodbav:"identifiers,omitempty"`
	RequestID   string            `dynamodbav:"requestId,omitempty"`
	Reason      string            `dynamodbav:"reason,omitempty"`
	Detail      map[string]string `dynamodbav:"detail,omitempty"`
	ExpiresAt   int64             `dynamodbav:"expiresAt"`
}

func staffPK(t time.Time) string { return staffPrefix + t.UTC().Format("2006-01-02") }

func (s *StaffLog) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Record writes a, at now when a.At is zero, and returns it. It returns a
// *veil.ValidationError when a names neither a request nor a reason, and
// the store's error.
func (s *StaffLog) Record(ctx context.Context, a StaffAction) (StaffAction, error) {
	if err := Justify(a.RequestID, a.Reason); err != nil {
		return a, err
	}
	if a.Actor == "" || a.Action == "" {
		return a, fmt.Errorf("staff action: actor and action are required")
	}
	if a.At.IsZero() {
		a.At = s.now()
	}
	a.At = a.At.UTC()
	var nonce [6]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return a, err
	}
	item, err := attributevalue.MarshalMap(staffItem{PK: staffPK(a.At), SK: a.At.Format(time.RFC3339Nano) + "#" + hex.EncodeToString(nonce[:]),
		At: a.At, Actor: a.Actor, Role: a.Role, Action: a.Action, Identifiers: a.Identifiers, RequestID: a.RequestID,
		Reason: a.Reason, Detail: a.Detail, ExpiresAt: a.At.Add(Retention).Unix()})
	if err != nil {
		return a, err
	}
	if _, err := s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}); err != nil {
		return a, fmt.Errorf("staff action %s by %s: %w", a.Action, a.Actor, err)
	}
	return a, nil
}

// List returns the staff actions from from up to to (inclusive), oldest
// first, only actor's when actor is set. It returns a
// *veil.ValidationError for to before from or a range over
// MaxStaffRange, and the store's error.
func (s *StaffLog) List(ctx context.Context, from, to time.Time, actor string) ([]StaffAction, error) {
	from, to = from.UTC(), to.UTC()
	switch {
	case to.Before(from):
		return nil, veil.Invalid("to", "before from")
	case to.Sub(from) > MaxStaffRange:
		return nil, veil.Invalid("to", "at most %d days after from", int(MaxStaffRange.Hours()/24))
	}
	out := []StaffAction{}
	lo, hi := from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano)+"~" // "~" sorts after the nonce
	for day := from.Truncate(24 * time.Hour); !day.After(to); day = day.Add(24 * time.Hour) {
		key := expression.Key("PK").Equal(expression.Value(staffPK(day))).And(expression.Key("SK").Between(expression.Value(lo), expression.Value(hi)))
		b := expression.NewBuilder().WithKeyCondition(key)
		if actor != "" {
			b = b.WithFilter(expression.Name("actor").Equal(expression.Value(actor)))
		}
		expr, err := b.Build()
		if err != nil {
			return nil, err
		}
		p := dynamodb.NewQueryPaginator(s.API, &dynamodb.QueryInput{TableName: aws.String(s.Table),
			KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("staff actions of %s: %w", day.Format("2006-01-02"), err)
			}
			for _, it := range page.Items {
				var si staffItem
				if err := attributevalue.UnmarshalMap(it, &si); err != nil {
					return nil, fmt.Errorf("staff actions of %s: %w", day.Format("2006-01-02"), err)
				}
				out = append(out, StaffAction{At: si.At, Actor: si.Actor, Role: si.Role, Action: si.Action,
					Identifiers: si.Identifiers, RequestID: si.RequestID, Reason: si.Reason, Detail: si.Detail})
			}
		}
	}
	return out, nil
}
