package erasure

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/dynamo"

	"github.com/veil-privacy/veil/pkg/veil"
)

// DynamoAPI is the part of the DynamoDB client Jobs calls.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Jobs keeps jobs in the Requests table, one item each:
//
//	job   PK JOB#<id>  SK JOB   status, requestId, the job as JSON
type Jobs struct {
	API   DynamoAPI
	Table string
}

var _ JobStore = (*Jobs)(nil)

const (
	jobPrefix = "JOB#"
	jobSK     = "JOB"
)

type jobItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Status    string    `dynamodbav:"status"`
	RequestID string    `dynamodbav:"requestId,omitempty"`
	Updated   time.Time `dynamodbav:"updated"`
	Job       string    `dynamodbav:"job"`
}

func (s *Jobs) item(j Job) (map[string]ddbtypes.AttributeValue, error) {
	body, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	return attributevalue.MarshalMap(jobItem{PK: jobPrefix + j.ID, SK: jobSK, Status: j.Status, RequestID: j.RequestID,
		Updated: time.Now().UTC(), Job: string(body)})
}

// Create records j unless a job with its ID exists (veil.ErrConflict).
func (s *Jobs) Create(ctx context.Context, j Job) error {
	item, err := s.item(j)
	if err != nil {
		return err
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if dynamo.ConditionFailed(err) {
		return fmt.Errorf("job %s: %w", j.ID, veil.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("job %s: %w", j.ID, err)
	}
	return nil
}

// Put records j as it is now. A job that ended is never written over.
func (s *Jobs) Put(ctx context.Context, j Job) error {
	item, err := s.item(j)
	if err != nil {
		return err
	}
	vals, err := attributevalue.MarshalMap(map[string]any{":c": StatusCompleted, ":g": StatusCompletedWithGaps, ":f": StatusFailed})
	if err != nil {
		return err
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR NOT (#s IN (:c, :g, :f))"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: vals})
	if dynamo.ConditionFailed(err) {
		return fmt.Errorf("job %s has ended: %w", j.ID, veil.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("job %s: %w", j.ID, err)
	}
	return nil
}

// Advance records j only while the stored job's status is still from: of
// two callers moving a job on at once (two confirmations), one wins and
// the other's error wraps veil.ErrConflict.
func (s *Jobs) Advance(ctx context.Context, j Job, from string) error {
	item, err := s.item(j)
	if err != nil {
		return err
	}
	vals, err := attributevalue.MarshalMap(map[string]any{":from": from})
	if err != nil {
		return err
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item,
		ConditionExpression:       aws.String("#s = :from"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: vals})
	if dynamo.ConditionFailed(err) {
		return fmt.Errorf("job %s is no longer %s: %w", j.ID, from, veil.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("job %s: %w", j.ID, err)
	}
	return nil
}

// Get returns job id; an unknown one wraps veil.ErrNotFound.
func (s *Jobs) Get(ctx context.Context, id string) (Job, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true),
		Key: dynamo.Key(jobPrefix+id, jobSK)})
	if err != nil {
		return Job{}, fmt.Errorf("job %s: %w", id, err)
	}
	if out.Item == nil {
		return Job{}, fmt.Errorf("job %s: %w", id, veil.ErrNotFound)
	}
	var it jobItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Job{}, fmt.Errorf("job %s: %w", id, err)
	}
	var j Job
	if err := json.Unmarshal([]byte(it.Job), &j); err != nil {
		return Job{}, fmt.Errorf("job %s: %w", id, err)
	}
	return j, nil
}

// input is a job's input file.
type input struct {
	Request
}

func marshalInput(r Request) ([]byte, error) { return json.Marshal(input{r}) }

// loadInput reads job id's input file.
func (s *Service) loadInput(ctx context.Context, id string) (Request, error) {
	rc, err := s.Files.Open(ctx, InputKey(id))
	if err != nil {
		return Request{}, err
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return Request{}, err
	}
	var in input
	if err := json.Unmarshal(body, &in); err != nil {
		return Request{}, fmt.Errorf("input of job %s: %w", id, err)
	}
	return in.Request, nil
}

// BucketFiles is the exports bucket as a job uses it: access.Files, and
// deletes of the input once the job ends.
type BucketFiles struct {
	*access.Files
	API interface {
		DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	}
}

// Delete deletes key; a missing one is no error.
func (f BucketFiles) Delete(ctx context.Context, key string) error {
	if _, err := f.API.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("s3://%s/%s: %w", f.Bucket, key, err)
	}
	return nil
}

// MaskKey derives the hmac strategy's key from the index's key: tokens
// that the index key alone cannot reproduce, and no secret more to keep.
func MaskKey(indexSecret []byte) []byte {
	m := hmac.New(sha256.New, indexSecret)
	m.Write([]byte("veil masking token key v1"))
	return m.Sum(nil)
}
