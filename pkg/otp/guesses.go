package otp

// Wrong codes are counted per identifier as well as per challenge: a
// guesser who files several requests naming one phone gets a fresh
// challenge with each, but one count of guesses at that phone.
//
//	guesses  PK OTPID#<kind>#<identifierKey>  SK GUESSES
//	         kind identifierKey tries ver expiresAt
//
// The key is the identifier's HMAC (identifiers.Key), never its value.
// tries are the times of the guesses counted within the last Retention.
// A guess is counted before its code is compared (reserved), and the
// reservation is given back when the code was right or no code was
// compared: so however many guesses arrive at once, over however many
// requests, no more than MaxTries are ever compared in a Retention.

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	guessPrefix = "OTPID#"
	guessSK     = "GUESSES"
)

// guessItem is an identifier's count of wrong codes as stored.
type guessItem struct {
	PK            string      `dynamodbav:"PK"`
	SK            string      `dynamodbav:"SK"`
	Kind          string      `dynamodbav:"kind"`
	IdentifierKey string      `dynamodbav:"identifierKey"`
	Tries         []time.Time `dynamodbav:"tries"`
	Version       int64       `dynamodbav:"ver"`
	// ExpiresAt (epoch seconds) is the table's TTL: Retention after the
	// last try.
	ExpiresAt int64 `dynamodbav:"expiresAt"`
}

// guesses is one identifier's tries within Retention, and the stored
// version they were read at (0 when none is stored).
type guesses struct {
	tries   []time.Time
	version int64
}

// locked reports whether MaxTries tries fall within Retention before now.
func (g guesses) locked() bool { return len(g.tries) >= MaxTries }

func guessKey(kind identifiers.Kind, identifierKey string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"PK": &ddbtypes.AttributeValueMemberS{Value: guessPrefix + kind.String() + "#" + identifierKey},
		"SK": &ddbtypes.AttributeValueMemberS{Value: guessSK},
	}
}

// getGuesses reads the identifier's tries within Retention before now,
// consistently; none stored is no error.
func (s *Store) getGuesses(ctx context.Context, kind identifiers.Kind, identifierKey string, now time.Time) (guesses, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table),
		Key: guessKey(kind, identifierKey), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return guesses{}, fmt.Errorf("otp %s %s guesses: %w", kind, identifiers.HashPrefix(identifierKey), err)
	}
	if out.Item == nil {
		return guesses{}, nil
	}
	var it guessItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return guesses{}, fmt.Errorf("otp %s %s guesses: %w", kind, identifiers.HashPrefix(identifierKey), err)
	}
	g := guesses{version: it.Version}
	for _, t := range it.Tries {
		if now.Sub(t) < Retention {
			g.tries = append(g.tries, t)
		}
	}
	slices.SortFunc(g.tries, time.Time.Compare)
	return g, nil
}

// putGuesses writes tries over version g.version (a new item when 0); a
// lost condition wraps veil.ErrConflict.
func (s *Store) putGuesses(ctx context.Context, kind identifiers.Kind, identifierKey string, g guesses, tries []time.Time) error {
	last := time.Unix(0, 0)
	stored := make([]time.Time, len(tries))
	for i, t := range tries {
		stored[i] = t.UTC()
		if t.After(last) {
			last = t
		}
	}
	av, err := attributevalue.MarshalMap(guessItem{PK: guessPrefix + kind.String() + "#" + identifierKey, SK: guessSK,
		Kind: kind.String(), IdentifierKey: identifierKey, Tries: stored, Version: g.version + 1,
		ExpiresAt: last.Add(Retention).Unix()})
	if err != nil {
		return err
	}
	cond := expression.AttributeNotExists(expression.Name("PK"))
	if g.version > 0 {
		cond = expression.Equal(expression.Name("ver"), expression.Value(g.version))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: av,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if dynamo.ConditionFailed(err) {
		return fmt.Errorf("otp %s %s guesses: version %d is no longer stored: %w", kind, identifiers.HashPrefix(identifierKey), g.version, veil.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("otp %s %s guesses: %w", kind, identifiers.HashPrefix(identifierKey), err)
	}
	return nil
}

// Locked reports whether MaxTries wrong codes were given for the
// identifier keyed identifierKey, over every request, within Retention
// before now; it returns ErrLocked then, nil otherwise, and wraps
// DynamoDB's errors.
func (s *Store) Locked(ctx context.Context, kind identifiers.Kind, identifierKey string, now time.Time) error {
	g, err := s.getGuesses(ctx, kind, identifierKey, now)
	if err != nil {
		return err
	}
	if g.locked() {
		return fmt.Errorf("otp %s %s: %w", kind, identifiers.HashPrefix(identifierKey), ErrLocked)
	}
	return nil
}

// reserve counts a try at now for the identifier, before its code is
// compared, and returns how many tries it has left after this one. It
// wraps ErrLocked when MaxTries are counted already.
func (s *Store) reserve(ctx context.Context, kind identifiers.Kind, identifierKey string, now time.Time) (int, error) {
	for range maxAttempts {
		g, err := s.getGuesses(ctx, kind, identifierKey, now)
		if err != nil {
			return 0, err
		}
		if g.locked() {
			return 0, fmt.Errorf("otp %s %s: %w", kind, identifiers.HashPrefix(identifierKey), ErrLocked)
		}
		tries := append(slices.Clone(g.tries), now)
		err = s.putGuesses(ctx, kind, identifierKey, g, tries)
		if errors.Is(err, veil.ErrConflict) {
			continue
		}
		if err != nil {
			return 0, err
		}
		return MaxTries - len(tries), nil
	}
	return 0, fmt.Errorf("otp %s %s guesses: %d concurrent writes won: %w", kind, identifiers.HashPrefix(identifierKey), maxAttempts, veil.ErrConflict)
}

// release gives back the try reserved at at: the code was right, or none
// was compared.
func (s *Store) release(ctx context.Context, kind identifiers.Kind, identifierKey string, at time.Time) error {
	for range maxAttempts {
		g, err := s.getGuesses(ctx, kind, identifierKey, at)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(g.tries, at.Equal)
		if i < 0 {
			return nil
		}
		err = s.putGuesses(ctx, kind, identifierKey, g, slices.Delete(slices.Clone(g.tries), i, i+1))
		if errors.Is(err, veil.ErrConflict) {
			continue
		}
		return err
	}
	return fmt.Errorf("otp %s %s guesses: %d concurrent writes won: %w", kind, identifiers.HashPrefix(identifierKey), maxAttempts, veil.ErrConflict)
}
