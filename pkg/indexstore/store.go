// Package indexstore is the Index table on DynamoDB: object manifests now,
// identifier entries as they come. Key builders and prefixes live here and
// nowhere else.
package indexstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Key prefixes of the Index table.
const (
	objectPrefix = "OBJ#"
	manifestSK   = "MANIFEST"
)

// Manifest statuses.
const (
	StatusPending = "pending"
	StatusRemoved = "removed"
)

// ObjectPK returns the partition key of an object's manifest.
func ObjectPK(bucket, key string) string { return objectPrefix + bucket + "/" + key }

// API is the part of the DynamoDB client the store calls.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store is the Index table.
type Store struct {
	api   API
	table string
	now   func() time.Time
}

var _ indexing.Recorder = (*Store)(nil)

// New returns a Store on table.
func New(api API, table string) *Store {
	return &Store{api: api, table: table, now: time.Now}
}

// Manifest is what the index knows about one object.
type Manifest struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Bucket    string    `dynamodbav:"bucket"`
	Key       string    `dynamodbav:"key"`
	VersionID string    `dynamodbav:"versionId,omitempty"`
	Sequencer string    `dynamodbav:"sequencer"`
	Status    string    `dynamodbav:"status"`
	Size      int64     `dynamodbav:"size"`
	ETag      string    `dynamodbav:"etag,omitempty"`
	EventName string    `dynamodbav:"eventName"`
	EventTime time.Time `dynamodbav:"eventTime"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
}

// RecordChange writes the object's manifest if c is later than what is
// recorded; see indexing.Recorder.
func (s *Store) RecordChange(ctx context.Context, c indexing.ObjectChange) (bool, error) {
	status := StatusPending
	if c.Removed {
		status = StatusRemoved
	}
	m := Manifest{
		PK: ObjectPK(c.Bucket, c.Key), SK: manifestSK,
		Bucket: c.Bucket, Key: c.Key, VersionID: c.VersionID,
		Sequencer: indexing.PadSequencer(c.Sequencer), Status: status,
		Size: c.Size, ETag: c.ETag, EventName: c.EventName, EventTime: c.EventTime,
		UpdatedAt: s.now().UTC(),
	}
	item, err := attributevalue.MarshalMap(m)
	if err != nil {
		return false, fmt.Errorf("manifest %s: %w", m.PK, err)
	}
	cond := expression.AttributeNotExists(expression.Name("PK")).
		Or(expression.LessThan(expression.Name("sequencer"), expression.Value(m.Sequencer)))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return false, fmt.Errorf("manifest %s: %w", m.PK, err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	var ccf *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("manifest %s@%s: %w", m.PK, c.VersionID, err)
	}
	return true, nil
}

// Manifest returns the manifest of one object, or an error wrapping
// veil.ErrNotFound if the object was never seen.
func (s *Store) Manifest(ctx context.Context, bucket, key string) (Manifest, error) {
	pk := ObjectPK(bucket, key)
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: pk}, "SK": &ddbtypes.AttributeValueMemberS{Value: manifestSK}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest %s: %w", pk, err)
	}
	if out.Item == nil {
		return Manifest{}, fmt.Errorf("manifest %s: %w", pk, veil.ErrNotFound)
	}
	var m Manifest
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		return Manifest{}, fmt.Errorf("manifest %s: %w", pk, err)
	}
	return m, nil
}
