package otp

// Challenges live in the Requests table, beside their request:
//
//	challenge  PK REQ#<requestId>  SK OTP#<kind>#<identifierKey>
//	           requestId kind identifierKey codeHash created expires
//	           tries locked used sends ver expiresAt
//
// Every write is conditional on the version it read (ver), so two
// verifications at once cannot both start from the same count of tries,
// nor both accept one code: the loser reads again and checks again.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/dynamo"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

const (
	requestPrefix = "REQ#"
	otpPrefix     = "OTP#"
)

// pk is the partition key of request requestID's items.
func pk(requestID string) string { return requestPrefix + requestID }

// sk is the sort key of the challenge of one identifier.
func sk(kind identifiers.Kind, identifierKey string) string {
	return otpPrefix + kind.String() + "#" + identifierKey
}

// maxAttempts bounds the read-check-write rounds of one operation that
// keeps losing to concurrent writes.
const maxAttempts = 8

// API is the part of the DynamoDB client Store calls.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store keeps challenges in the Requests table (Table).
type Store struct {
	API   API
	Table string
}

// item is a challenge as stored.
type item struct {
	PK            string      `dynamodbav:"PK"`
	SK            string      `dynamodbav:"SK"`
	RequestID     string      `dynamodbav:"requestId"`
	Kind          string      `dynamodbav:"kind"`
	IdentifierKey string      `dynamodbav:"identifierKey"`
	CodeHash      string      `dynamodbav:"codeHash"`
	Created       time.Time   `dynamodbav:"created"`
	Expires       time.Time   `dynamodbav:"expires"`
	Tries         int         `dynamodbav:"tries"`
	Locked        bool        `dynamodbav:"locked"`
	Used          bool        `dynamodbav:"used"`
	Sends         []time.Time `dynamodbav:"sends"`
	Version       int64       `dynamodbav:"ver"`
	// ExpiresAt (epoch seconds) is the table's TTL: Retention after the
	// code expired.
	ExpiresAt int64 `dynamodbav:"expiresAt"`
}

func (s *Store) key(requestID string, kind identifiers.Kind, identifierKey string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"PK": &ddbtypes.AttributeValueMemberS{Value: pk(requestID)},
		"SK": &ddbtypes.AttributeValueMemberS{Value: sk(kind, identifierKey)},
	}
}

// name is how errors name a challenge: never the identifier, only its
// key's prefix.
func name(requestID string, kind identifiers.Kind, identifierKey string) string {
	return fmt.Sprintf("otp %s %s %s", requestID, kind, identifiers.HashPrefix(identifierKey))
}

// validate refuses what must never be stored: a raw value where a key or a
// hash belongs, a kind no code is sent to, no request.
func validate(c Challenge) error {
	switch {
	case c.RequestID == "":
		return veil.Invalid("requestId", "empty")
	case c.Kind != identifiers.Phone && c.Kind != identifiers.Email:
		return veil.Invalid("kind", "codes go to phones and emails, not %s", c.Kind)
	case !isHMAC(c.IdentifierKey):
		return veil.Invalid("identifierKey", "not an identifier key (%d hex digits)", identifiers.KeyLen)
	case !isHMAC(c.CodeHash):
		return veil.Invalid("codeHash", "not a code HMAC (%d hex digits)", identifiers.KeyLen)
	case c.Version < 0:
		return veil.Invalid("version", "negative")
	}
	return nil
}

// isHMAC reports whether s is an HMAC-SHA256 in lower-case hex.
func isHMAC(s string) bool {
	if len(s) != identifiers.KeyLen || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Get returns the challenge of the identifier keyed identifierKey of
// request requestID, read consistently, with its Version. A missing one
// wraps veil.ErrNotFound.
func (s *Store) Get(ctx context.Context, requestID string, kind identifiers.Kind, identifierKey string) (Challenge, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table),
		Key: s.key(requestID, kind, identifierKey), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Challenge{}, fmt.Errorf("%s: %w", name(requestID, kind, identifierKey), err)
	}
	if out.Item == nil {
		return Challenge{}, fmt.Errorf("%s: %w", name(requestID, kind, identifierKey), veil.ErrNotFound)
	}
	var it item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Challenge{}, fmt.Errorf("%s: %w", name(requestID, kind, identifierKey), err)
	}
	k, err := identifiers.ParseKind(it.Kind)
	if err != nil {
		return Challenge{}, fmt.Errorf("%s: %w", name(requestID, kind, identifierKey), err)
	}
	return Challenge{RequestID: it.RequestID, Kind: k, IdentifierKey: it.IdentifierKey, CodeHash: it.CodeHash,
		Created: it.Created, Expires: it.Expires, Tries: it.Tries, Locked: it.Locked, Used: it.Used,
		Sends: it.Sends, Version: it.Version}, nil
}

// Put writes c: a new challenge when c.Version is 0, otherwise over the
// stored version c.Version (as Get returned it), the stored version then
// being c.Version+1. It fails with a *veil.ValidationError for a challenge
// that must not be stored (a raw value as its key or hash, a kind no code
// goes to), wraps veil.ErrConflict when the stored version is not
// c.Version (or a new challenge exists), and wraps DynamoDB's errors.
func (s *Store) Put(ctx context.Context, c Challenge) error {
	if err := validate(c); err != nil {
		return err
	}
	sends := make([]time.Time, len(c.Sends))
	for i, t := range c.Sends {
		sends[i] = t.UTC()
	}
	av, err := attributevalue.MarshalMap(item{PK: pk(c.RequestID), SK: sk(c.Kind, c.IdentifierKey),
		RequestID: c.RequestID, Kind: c.Kind.String(), IdentifierKey: c.IdentifierKey, CodeHash: c.CodeHash,
		Created: c.Created.UTC(), Expires: c.Expires.UTC(), Tries: c.Tries, Locked: c.Locked, Used: c.Used,
		Sends: sends, Version: c.Version + 1, ExpiresAt: c.Expires.Add(Retention).Unix()})
	if err != nil {
		return fmt.Errorf("%s: %w", name(c.RequestID, c.Kind, c.IdentifierKey), err)
	}
	cond := expression.AttributeNotExists(expression.Name("PK"))
	if c.Version > 0 {
		cond = expression.Equal(expression.Name("ver"), expression.Value(c.Version))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: av,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if dynamo.ConditionFailed(err) {
		return fmt.Errorf("%s: version %d is no longer stored: %w", name(c.RequestID, c.Kind, c.IdentifierKey), c.Version, veil.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name(c.RequestID, c.Kind, c.IdentifierKey), err)
	}
	return nil
}

// Verify tries code against the stored challenge at now: it reads the
// challenge, checks the code and writes what the check changed over the
// version it read, reading and checking again when another write came
// first. So every wrong code is counted once and a code is accepted once,
// however many arrive at once; a check whose write keeps losing is not
// answered (it wraps veil.ErrConflict), right code or wrong.
//
// A code is compared only when the identifier has a try left over every
// request (MaxTries within Retention, see guesses.go): otherwise Verify
// wraps ErrLocked, right code or wrong. A wrong code counts against both
// the challenge and the identifier, and its *WrongCodeError's TriesLeft
// is the fewer of the two (0 also matches ErrLocked).
//
// It returns nil when the code was right, and otherwise what Check
// returns, wrapped (the *veil.ValidationError unwrapped, before any read);
// a missing challenge wraps veil.ErrNotFound.
func (s *Store) Verify(ctx context.Context, secret []byte, requestID string, kind identifiers.Kind, identifierKey, code string, now time.Time) error {
	if err := ValidateCode(code); err != nil {
		return err
	}
	// A challenge that takes no code spends no try of the identifier.
	c, err := s.Get(ctx, requestID, kind, identifierKey)
	if err != nil {
		return err
	}
	if err := c.accepting(now); err != nil {
		return wrap(requestID, kind, identifierKey, err)
	}
	left, err := s.reserve(ctx, kind, identifierKey, now)
	if err != nil {
		return err
	}
	err = s.check(ctx, secret, requestID, kind, identifierKey, code, now)
	var wrong *WrongCodeError
	if errors.As(err, &wrong) {
		wrong.TriesLeft = min(wrong.TriesLeft, left)
		return err
	}
	// A right code, or none compared: the try is given back. A failed
	// release costs the owner one try of the day and no more, so it
	// does not turn a right code into an error.
	if rerr := s.release(ctx, kind, identifierKey, now); rerr != nil && err != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// check is Verify's read-check-write of the challenge alone.
func (s *Store) check(ctx context.Context, secret []byte, requestID string, kind identifiers.Kind, identifierKey, code string, now time.Time) error {
	for range maxAttempts {
		c, err := s.Get(ctx, requestID, kind, identifierKey)
		if err != nil {
			return err
		}
		tries, used, locked := c.Tries, c.Used, c.Locked
		checked := c.Check(secret, code, now)
		if c.Tries == tries && c.Used == used && c.Locked == locked {
			return wrap(requestID, kind, identifierKey, checked)
		}
		err = s.Put(ctx, c)
		if errors.Is(err, veil.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		return wrap(requestID, kind, identifierKey, checked)
	}
	return fmt.Errorf("%s: %d concurrent writes won over this check: %w", name(requestID, kind, identifierKey), maxAttempts, veil.ErrConflict)
}

// wrap adds the challenge's name to err (nil stays nil).
func wrap(requestID string, kind identifiers.Kind, identifierKey string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name(requestID, kind, identifierKey), err)
}
