package audit

// The trail in the Requests table:
//
//	event  PK REQ#<id>  SK AUDIT#E#<seq, 12 digits>  the event's fields, expiresAt
//	head   PK REQ#<id>  SK AUDIT#HEAD                seq, hash, expiresAt
//	moved  PK AUDIT#MOVED#<hour>  SK REQ#<id>        expiresAt (3 days): the chains the hour's anchoring reads
//	anchor PK AUDIT#ANCHOR  SK AUDIT#ANCHOR          seq, hash, key of the last digest written
//
// An event is written once (attribute_not_exists): two appends racing for
// one sequence number cannot both win, and the loser appends after the
// winner. The head is moved forward after its event is written, never back.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/dynamo"
)

// API is the part of the DynamoDB client the store calls.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Store is the audit trail on the Requests table. It appends and reads;
// it has no way to change or remove an event.
type Store struct {
	API   API
	Table string
	Now   func() time.Time
}

const (
	requestPrefix = "REQ#"
	eventPrefix   = "AUDIT#E#"
	headSK        = "AUDIT#HEAD"
	movedPrefix   = "AUDIT#MOVED#"
	anchorKey     = "AUDIT#ANCHOR"
	// movedKept is how long a moved marker is kept: past the anchorings
	// that read it.
	movedKept = 72 * time.Hour
	// maxRaces bounds how often Append starts over after another append
	// took its sequence number.
	maxRaces = 20
)

type eventItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	RequestID string    `dynamodbav:"requestId"`
	Seq       int64     `dynamodbav:"seq"`
	At        time.Time `dynamodbav:"at"`
	Actor     string    `dynamodbav:"actor"`
	Role      string    `dynamodbav:"role,omitempty"`
	Action    string    `dynamodbav:"action"`
	From      string    `dynamodbav:"from,omitempty"`
	To        string    `dynamodbav:"to,omitempty"`
	Source    string    `dynamodbav:"source,omitempty"`
	Detail    string    `dynamodbav:"detail,omitempty"`
	Prev      string    `dynamodbav:"prev"`
	Hash      string    `dynamodbav:"hash"`
	ExpiresAt int64     `dynamodbav:"expiresAt"`
}

func eventSK(seq int64) string { return fmt.Sprintf("%s%012d", eventPrefix, seq) }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Append adds e to its request's trail (e.RequestID), after the last
// event, and returns it sealed. e.At defaults to now.
func (s *Store) Append(ctx context.Context, e Event) (Event, error) {
	if e.RequestID == "" || e.Action == "" || e.Actor == "" {
		return Event{}, fmt.Errorf("audit event: request, action and actor are required")
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	for range maxRaces {
		last, err := s.last(ctx, e.RequestID)
		if err != nil {
			return Event{}, err
		}
		e.Seal(last)
		ok, err := s.put(ctx, e)
		if err != nil {
			return Event{}, err
		}
		if !ok {
			continue // another append took the number: follow it
		}
		return e, s.moveHead(ctx, e)
	}
	return Event{}, fmt.Errorf("audit of request %s: %d other appends raced this one", e.RequestID, maxRaces)
}

func (s *Store) put(ctx context.Context, e Event) (bool, error) {
	detail, err := marshalDetail(e.Detail)
	if err != nil {
		return false, err
	}
	item, err := attributevalue.MarshalMap(eventItem{PK: requestPrefix + e.RequestID, SK: eventSK(e.Seq), RequestID: e.RequestID,
		Seq: e.Seq, At: e.At, Actor: e.Actor, Role: e.Role, Action: e.Action, From: e.From, To: e.To, Source: e.Source,
		Detail: detail, Prev: e.Prev, Hash: e.Hash, ExpiresAt: e.At.Add(Retention).Unix()})
	if err != nil {
		return false, err
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if dynamo.ConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("audit of request %s: %w", e.RequestID, err)
	}
	return true, nil
}

// moveHead records e as the head unless the head is already past it. It
// marks the chain moved first, so that no head moves unseen by the
// anchoring: a crash between leaves a mark whose chain anchors as it was.
func (s *Store) moveHead(ctx context.Context, e Event) error {
	now := s.now()
	_, err := s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: map[string]ddbtypes.AttributeValue{
		"PK":        &ddbtypes.AttributeValueMemberS{Value: movedPK(now)},
		"SK":        &ddbtypes.AttributeValueMemberS{Value: requestPrefix + e.RequestID},
		"expiresAt": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(now.Add(movedKept).Unix())}}})
	if err != nil {
		return fmt.Errorf("audit of request %s: mark moved: %w", e.RequestID, err)
	}
	vals, err := attributevalue.MarshalMap(map[string]any{":s": e.Seq, ":h": e.Hash, ":x": e.At.Add(Retention).Unix()})
	if err != nil {
		return err
	}
	_, err = s.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.Table), Key: dynamo.Key(requestPrefix+e.RequestID, headSK),
		UpdateExpression:          aws.String("SET seq = :s, #h = :h, expiresAt = :x"),
		ConditionExpression:       aws.String("attribute_not_exists(seq) OR seq < :s"),
		ExpressionAttributeNames:  map[string]string{"#h": "hash"},
		ExpressionAttributeValues: vals})
	if err != nil && !dynamo.ConditionFailed(err) {
		return fmt.Errorf("audit head of request %s: %w", e.RequestID, err)
	}
	return nil
}

// last returns the request's newest event (nil for none), read strongly.
func (s *Store) last(ctx context.Context, requestID string) (*Event, error) {
	out, err := s.API.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :e)"), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(1),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":pk": &ddbtypes.AttributeValueMemberS{Value: requestPrefix + requestID}, ":e": &ddbtypes.AttributeValueMemberS{Value: eventPrefix}}})
	if err != nil {
		return nil, fmt.Errorf("audit of request %s: %w", requestID, err)
	}
	if len(out.Items) == 0 {
		return nil, nil
	}
	e, err := fromItem(out.Items[0])
	return &e, err
}

func fromItem(item map[string]ddbtypes.AttributeValue) (Event, error) {
	var it eventItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return Event{}, err
	}
	e := Event{RequestID: it.RequestID, Seq: it.Seq, At: it.At, Actor: it.Actor, Role: it.Role, Action: it.Action, From: it.From,
		To: it.To, Source: it.Source, Prev: it.Prev, Hash: it.Hash}
	if it.Detail != "" {
		if err := json.Unmarshal([]byte(it.Detail), &e.Detail); err != nil {
			return Event{}, fmt.Errorf("audit event %s %d: detail: %w", it.RequestID, it.Seq, err)
		}
	}
	return e, nil
}

// Events returns the request's trail in sequence order.
func (s *Store) Events(ctx context.Context, requestID string) ([]Event, error) {
	var out []Event
	pages := dynamodb.NewQueryPaginator(s.API, &dynamodb.QueryInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :e)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":pk": &ddbtypes.AttributeValueMemberS{Value: requestPrefix + requestID}, ":e": &ddbtypes.AttributeValueMemberS{Value: eventPrefix}}})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("audit of request %s: %w", requestID, err)
		}
		for _, it := range page.Items {
			e, err := fromItem(it)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// head returns the request's recorded head (nil for none).
func (s *Store) head(ctx context.Context, requestID string) (*Head, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: dynamo.Key(requestPrefix+requestID, headSK),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("audit head of request %s: %w", requestID, err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var h Head
	if err := attributevalue.UnmarshalMap(out.Item, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// Verify checks one request's trail.
func (s *Store) Verify(ctx context.Context, requestID string) (Finding, error) {
	f, _, err := s.VerifyEvents(ctx, requestID)
	return f, err
}

// VerifyEvents checks one request's trail and returns the events it read,
// for checking against the anchors too.
func (s *Store) VerifyEvents(ctx context.Context, requestID string) (Finding, []Event, error) {
	events, err := s.Events(ctx, requestID)
	if err != nil {
		return Finding{}, nil, err
	}
	h, err := s.head(ctx, requestID)
	if err != nil {
		return Finding{}, nil, err
	}
	return Check(requestID, events, h), events, nil
}

// Requests returns the IDs of every request with a trail (events or a
// head), by a Scan of the table: for operators, never a request path.
func (s *Store) Requests(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	pages := dynamodb.NewScanPaginator(s.API, &dynamodb.ScanInput{TableName: aws.String(s.Table),
		FilterExpression:          aws.String("begins_with(PK, :r) AND begins_with(SK, :a)"),
		ProjectionExpression:      aws.String("PK"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":r": &ddbtypes.AttributeValueMemberS{Value: requestPrefix}, ":a": &ddbtypes.AttributeValueMemberS{Value: "AUDIT#"}}})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("audit scan: %w", err)
		}
		for _, it := range page.Items {
			pk, _ := it["PK"].(*ddbtypes.AttributeValueMemberS)
			if pk == nil {
				continue
			}
			id := pk.Value[len(requestPrefix):]
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

func movedPK(t time.Time) string { return movedPrefix + t.UTC().Format("2006-01-02T15") }

// moved returns the IDs of the requests whose chains moved in hour's hour.
func (s *Store) moved(ctx context.Context, hour time.Time) ([]string, error) {
	var ids []string
	pages := dynamodb.NewQueryPaginator(s.API, &dynamodb.QueryInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: movedPK(hour)}}})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("audit chains moved in %s: %w", movedPK(hour), err)
		}
		for _, it := range page.Items {
			if sk, ok := it["SK"].(*ddbtypes.AttributeValueMemberS); ok {
				ids = append(ids, strings.TrimPrefix(sk.Value, requestPrefix))
			}
		}
	}
	return ids, nil
}

// anchorPointer names the last digest written (zero for none). It only
// says what the next digest follows; nothing trusts it for verifying.
type anchorPointer struct {
	Seq  int64  `dynamodbav:"seq"`
	Hash string `dynamodbav:"hash"`
	Key  string `dynamodbav:"key"`
}

func (s *Store) lastAnchor(ctx context.Context) (anchorPointer, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: dynamo.Key(anchorKey, anchorKey), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return anchorPointer{}, fmt.Errorf("audit anchor: %w", err)
	}
	var p anchorPointer
	if out.Item != nil {
		err = attributevalue.UnmarshalMap(out.Item, &p)
	}
	return p, err
}

// moveAnchor points at next if the pointer is still at prev; false when
// another anchoring moved it first.
func (s *Store) moveAnchor(ctx context.Context, prev, next anchorPointer) (bool, error) {
	vals, err := attributevalue.MarshalMap(map[string]any{":s": next.Seq, ":h": next.Hash, ":k": next.Key, ":p": prev.Seq})
	if err != nil {
		return false, err
	}
	cond := "seq = :p"
	if prev.Seq == 0 {
		cond = "attribute_not_exists(seq)"
		delete(vals, ":p")
	}
	_, err = s.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.Table), Key: dynamo.Key(anchorKey, anchorKey),
		UpdateExpression: aws.String("SET seq = :s, #h = :h, #k = :k"), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#h": "hash", "#k": "key"}, ExpressionAttributeValues: vals})
	if dynamo.ConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("audit anchor: %w", err)
	}
	return true, nil
}
