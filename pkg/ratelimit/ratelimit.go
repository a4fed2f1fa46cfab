// Package ratelimit limits how often an anonymous caller (the web form's
// POST /requests, keyed by source address) may act: a fixed window
// counted by one atomic DynamoDB update per call, so that concurrent
// Lambdas share one count without a read or a lock.
//
// The key is an IP address, which is personal data: it is hashed before
// it reaches the table, and neither the table, an error nor a log ever
// holds it.
package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/veil"
)

// API is the DynamoDB call a Limiter makes.
type API interface {
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Key layout. A counter item is PK "RATE#<hash>", SK "W#<window start,
// Unix seconds>"; it carries no GSI attribute, so no index sees it.
const (
	keyPrefix    = "RATE#"
	windowPrefix = "W#"
	hitsAttr     = "hits"
	// ttlAttr is the table's TimeToLiveSpecification attribute.
	ttlAttr = "expiresAt"
	// ttlGrace keeps a window's item an hour past its end: DynamoDB
	// deletes expired items late, and an early deletion would only reset
	// a window already over.
	ttlGrace = time.Hour
)

// Limiter allows at most Limit calls per key in each fixed window of
// length Window, windows aligned on the Unix epoch. Now is the clock
// (time.Now when nil). A Limiter is safe for concurrent use.
type Limiter struct {
	API    API
	Table  string
	Limit  int
	Window time.Duration
	Now    func() time.Time
	// Secret keys the hash the table holds in place of a key. Without
	// one, an IPv4 address's plain SHA-256 is undone by trying all 2^32.
	Secret []byte
}

// Decision is the answer to one call. RetryAfter is how long until the
// window ends when the call is refused (zero when allowed); Remaining is
// how many more calls the window allows.
type Decision struct {
	Allowed    bool
	RetryAfter time.Duration
	Remaining  int
}

// hashKey returns the form of key the table holds: the first 32 hex
// digits of its HMAC-SHA256 under secret (its SHA-256 without one).
func hashKey(secret []byte, key string) string {
	if len(secret) == 0 {
		sum := sha256.Sum256([]byte(key))
		return hex.EncodeToString(sum[:16])
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Allow counts one call by key in the current window and says whether it
// is within the limit. A refused call still counts, so a caller that keeps
// trying stays refused until the window ends.
//
// It returns a *veil.ValidationError when the Limiter is misconfigured
// (Limit below 1, Window not a positive whole number of seconds, no
// table), and the DynamoDB error, wrapped with the hashed key, when the
// update fails; callers choose whether a failed count lets the call
// through.
func (l *Limiter) Allow(ctx context.Context, key string) (Decision, error) {
	if err := l.check(); err != nil {
		return Decision{}, err
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	t := now()
	w := int64(l.Window / time.Second)
	start := t.Unix() - mod(t.Unix(), w)
	end := time.Unix(start+w, 0)
	pk, sk := keyPrefix+hashKey(l.Secret, key), windowPrefix+strconv.FormatInt(start, 10)
	update := expression.Add(expression.Name(hitsAttr), expression.Value(1)).
		Set(expression.Name(ttlAttr), expression.Value(end.Add(ttlGrace).Unix()))
	expr, err := expression.NewBuilder().WithUpdate(update).Build()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit %s: %w", pk, err)
	}
	out, err := l.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.Table),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk},
			"SK": &types.AttributeValueMemberS{Value: sk},
		},
		UpdateExpression:          expr.Update(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit %s %s: %w", pk, sk, err)
	}
	var hits int
	if err := attributevalue.Unmarshal(out.Attributes[hitsAttr], &hits); err != nil || hits < 1 {
		return Decision{}, fmt.Errorf("ratelimit %s %s: update returned no count", pk, sk)
	}
	d := Decision{Allowed: hits <= l.Limit, Remaining: max(0, l.Limit-hits)}
	if !d.Allowed {
		d.RetryAfter = end.Sub(t)
	}
	return d, nil
}

func (l *Limiter) check() error {
	switch {
	case l.Limit < 1:
		return veil.Invalid("Limit", "must be at least 1")
	case l.Window < time.Second || l.Window%time.Second != 0:
		return veil.Invalid("Window", "must be a positive whole number of seconds")
	case l.Table == "":
		return veil.Invalid("Table", "empty")
	}
	return nil
}

// mod is the floor modulus, so that windows before the epoch align too.
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
