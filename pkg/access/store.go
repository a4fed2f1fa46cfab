package access

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/veil-privacy/veil/pkg/dynamo"
	"github.com/veil-privacy/veil/pkg/veil"
)

// PresignLife is the longest a redirect's presigned URL works: long
// enough to start a download, too short to be worth forwarding.
const PresignLife = 300 * time.Second

// S3API is the part of the S3 client Files calls.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Files is the exports bucket: every object private, encrypted under the
// exports key (KMSKeyID; the bucket's default when empty) and tagged with
// its request ID, expired by the bucket's lifecycle.
type Files struct {
	API      S3API
	Presign  *s3.PresignClient
	Bucket   string
	KMSKeyID string
}

// Put writes body (size bytes) to key, tagged with requestID.
func (f *Files) Put(ctx context.Context, key, requestID, contentType string, body io.Reader, size int64) error {
	in := &s3.PutObjectInput{
		Bucket: aws.String(f.Bucket), Key: aws.String(key), Body: body, ContentLength: aws.Int64(size),
		ContentType: aws.String(contentType), ServerSideEncryption: s3types.ServerSideEncryptionAwsKms,
		Tagging: aws.String(url.Values{"veil:request-id": {requestID}}.Encode()),
	}
	if f.KMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(f.KMSKeyID)
	}
	if _, err := f.API.PutObject(ctx, in); err != nil {
		return fmt.Errorf("s3://%s/%s: %w", f.Bucket, key, err)
	}
	return nil
}

// Open streams key; a missing key wraps veil.ErrNotFound.
func (f *Files) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := f.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(key)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound") {
			return nil, fmt.Errorf("s3://%s/%s: %w", f.Bucket, key, veil.ErrNotFound)
		}
		return nil, fmt.Errorf("s3://%s/%s: %w", f.Bucket, key, err)
	}
	return out.Body, nil
}

// URL returns a presigned GET of key valid for PresignLife, served as a
// download named name.
func (f *Files) URL(ctx context.Context, key, name string) (string, error) {
	req, err := f.Presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(f.Bucket), Key: aws.String(key),
		ResponseContentDisposition: aws.String(`attachment; filename="` + name + `"`),
	}, s3.WithPresignExpires(PresignLife))
	if err != nil {
		return "", fmt.Errorf("presign s3://%s/%s: %w", f.Bucket, key, err)
	}
	return req.URL, nil
}

// DynamoAPI is the part of the DynamoDB client Exports calls.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Exports keeps each export's record and download history in the Requests
// table:
//
//	export     PK EXPORT#<id>  SK EXPORT
//	download   PK EXPORT#<id>  SK DOWNLOAD#<time>#<nonce>
type Exports struct {
	API   DynamoAPI
	Table string
}

const (
	exportPrefix   = "EXPORT#"
	exportSK       = "EXPORT"
	downloadPrefix = "DOWNLOAD#"
)

// exportItem is an export as stored; Coverage is its JSON.
type exportItem struct {
	PK, SK       string
	Status       string     `dynamodbav:"status"`
	Requester    string     `dynamodbav:"requester"`
	Jurisdiction string     `dynamodbav:"jurisdiction,omitempty"`
	Received     time.Time  `dynamodbav:"received"`
	Answered     time.Time  `dynamodbav:"answered"`
	Records      int        `dynamodbav:"records"`
	Files        []string   `dynamodbav:"files"`
	Coverage     string     `dynamodbav:"coverage"`
	RevokedAt    *time.Time `dynamodbav:"revokedAt,omitempty"` // nil until revoked
	RevokedBy    string     `dynamodbav:"revokedBy,omitempty"`
}

// Get returns export id; an unknown one wraps veil.ErrNotFound.
func (e *Exports) Get(ctx context.Context, id string) (Export, error) {
	out, err := e.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.Table), Key: dynamo.Key(exportPrefix+id, exportSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Export{}, fmt.Errorf("export %s: %w", id, err)
	}
	if out.Item == nil {
		return Export{}, fmt.Errorf("export %s: %w", id, veil.ErrNotFound)
	}
	var it exportItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Export{}, fmt.Errorf("export %s: %w", id, err)
	}
	x := Export{ID: id, Status: it.Status, Requester: it.Requester, Jurisdiction: it.Jurisdiction, Received: it.Received,
		Answered: it.Answered, Records: it.Records, Files: it.Files, RevokedBy: it.RevokedBy}
	if it.RevokedAt != nil {
		x.RevokedAt = *it.RevokedAt
	}
	if it.Coverage != "" {
		if err := json.Unmarshal([]byte(it.Coverage), &x.Coverage); err != nil {
			return Export{}, fmt.Errorf("export %s: coverage: %w", id, err)
		}
	}
	return x, nil
}

// Put records x as written. An export is written once: a second Put of the
// same ID keeps the first (its files are the same) and wraps
// veil.ErrConflict.
func (e *Exports) Put(ctx context.Context, x Export) error {
	cov, err := json.Marshal(x.Coverage)
	if err != nil {
		return err
	}
	item, err := attributevalue.MarshalMap(exportItem{PK: exportPrefix + x.ID, SK: exportSK, Status: x.Status, Requester: x.Requester,
		Jurisdiction: x.Jurisdiction, Received: x.Received, Answered: x.Answered, Records: x.Records, Files: x.Files, Coverage: string(cov)})
	if err != nil {
		return err
	}
	_, err = e.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.Table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if dynamo.ConditionFailed(err) {
		return fmt.Errorf("export %s: %w", x.ID, veil.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", x.ID, err)
	}
	return nil
}

// Revoke marks export id revoked by who at; revoking twice keeps the first.
// An unknown export wraps veil.ErrNotFound.
func (e *Exports) Revoke(ctx context.Context, id, who string, at time.Time) error {
	vals, err := attributevalue.MarshalMap(map[string]any{":at": at, ":by": who})
	if err != nil {
		return err
	}
	_, err = e.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(e.Table), Key: dynamo.Key(exportPrefix+id, exportSK),
		UpdateExpression:          aws.String("SET revokedAt = if_not_exists(revokedAt, :at), revokedBy = if_not_exists(revokedBy, :by)"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: vals})
	if dynamo.ConditionFailed(err) {
		return fmt.Errorf("export %s: %w", id, veil.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", id, err)
	}
	return nil
}

// downloadItem is one download as stored.
type downloadItem struct {
	PK, SK string
	File   string    `dynamodbav:"file"`
	At     time.Time `dynamodbav:"at"`
	By     string    `dynamodbav:"by"`
	IPHash string    `dynamodbav:"ipHash,omitempty"`
}

// AddDownload records d in export id's history.
func (e *Exports) AddDownload(ctx context.Context, id string, d Download) error {
	var nonce [4]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return err
	}
	item, err := attributevalue.MarshalMap(downloadItem{PK: exportPrefix + id,
		SK:   downloadPrefix + d.At.UTC().Format(time.RFC3339Nano) + "#" + hex.EncodeToString(nonce[:]),
		File: d.File, At: d.At, By: d.By, IPHash: d.IPHash})
	if err != nil {
		return err
	}
	if _, err := e.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.Table), Item: item}); err != nil {
		return fmt.Errorf("export %s: download: %w", id, err)
	}
	return nil
}

// Downloads returns export id's history, oldest first.
func (e *Exports) Downloads(ctx context.Context, id string) ([]Download, error) {
	vals, err := attributevalue.MarshalMap(map[string]string{":pk": exportPrefix + id, ":sk": downloadPrefix})
	if err != nil {
		return nil, err
	}
	p := dynamodb.NewQueryPaginator(e.API, &dynamodb.QueryInput{TableName: aws.String(e.Table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"), ExpressionAttributeValues: vals, ConsistentRead: aws.Bool(true)})
	out := []Download{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("export %s: downloads: %w", id, err)
		}
		for _, it := range page.Items {
			var d downloadItem
			if err := attributevalue.UnmarshalMap(it, &d); err != nil {
				return nil, err
			}
			out = append(out, Download{File: d.File, At: d.At, By: d.By, IPHash: d.IPHash})
		}
	}
	return out, nil
}
