// Package indexstore is the Index table on DynamoDB. Key builders and
// prefixes live here and nowhere else:
//
//	manifest   PK OBJ#<bucket>/<key>        SK MANIFEST                  coverage complete|incomplete  coverageRef OBJ#<object ref>
//	entry      PK ID#<hmac>                 SK ROW#<version ref>#<row>   GSI1PK OBJ#<object ref>  GSI1SK <version ref>#<row>
//	column map PK CAMPAIGN#<id>             SK COLUMNS
//
// An entry's key is the identifier's HMAC, never its value; object and
// version references are hashes, so a 1,024-byte S3 key cannot overflow a
// DynamoDB key.
package indexstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/veil-privacy/veil/pkg/dynamo"
	"github.com/veil-privacy/veil/pkg/export"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Key prefixes and the secondary index of the Index table.
const (
	objectPrefix   = "OBJ#"
	identPrefix    = "ID#"
	rowPrefix      = "ROW#"
	campaignPrefix = "CAMPAIGN#"
	manifestSK     = "MANIFEST"
	columnsSK      = "COLUMNS"
	// ByObject lists the entries of one object, all versions.
	ByObject = "ByObject"
)

// ObjectPK returns the partition key of an object's manifest.
func ObjectPK(bucket, key string) string { return objectPrefix + bucket + "/" + key }

// IdentifierPK returns the partition key of an identifier's entries.
func IdentifierPK(hmacKey string) string { return identPrefix + hmacKey }

func ref(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func objectRef(bucket, key string) string { return objectPrefix + ref(bucket, key) }

// rowSK is an entry's sort key. A workbook's rows are numbered per sheet,
// so the sheet is part of the version reference; a text list's key is
// the one entries always had.
func rowSK(bucket, key, version, sheet string, row int64) string {
	r := ref(bucket, key, version)
	if sheet != "" {
		r = ref(bucket, key, version, sheet)
	}
	return fmt.Sprintf("%s%s#%012d", rowPrefix, r, row)
}

// API is the part of the DynamoDB client the store calls.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store is the Index table.
type Store struct {
	api   API
	table string
	// Writers is how many BatchWriteItem calls run at once (default 4).
	Writers int
	// Backoff is the first wait before resending unprocessed items.
	Backoff time.Duration
	// CountMaxAge is how long Coverage may reuse its count of the objects
	// indexed in full (0: count every time). Searches set it
	// (SearchCountMaxAge) so that a burst of them counts once.
	CountMaxAge time.Duration

	countMu sync.Mutex
	count   int64
	countAt time.Time
}

// SearchCountMaxAge is the CountMaxAge of the stores searches read.
const SearchCountMaxAge = 30 * time.Second

var _ indexing.Index = (*Store)(nil)

// New returns a Store on table.
func New(api API, table string) *Store {
	return &Store{api: api, table: table, Writers: 4, Backoff: 25 * time.Millisecond}
}

// manifestItem is a manifest as stored.
type manifestItem struct {
	PK            string            `dynamodbav:"PK"`
	SK            string            `dynamodbav:"SK"`
	Bucket        string            `dynamodbav:"bucket"`
	Key           string            `dynamodbav:"key"`
	VersionID     string            `dynamodbav:"versionId,omitempty"`
	Sequencer     string            `dynamodbav:"sequencer"`
	Status        string            `dynamodbav:"status"`
	Campaign      string            `dynamodbav:"campaign,omitempty"`
	Format        string            `dynamodbav:"format,omitempty"`
	Encoding      string            `dynamodbav:"encoding,omitempty"`
	HeaderLine    int               `dynamodbav:"headerLine,omitempty"`
	Header        []string          `dynamodbav:"header,omitempty"`
	Delimiter     string            `dynamodbav:"delimiter,omitempty"`
	CRLineEnds    bool              `dynamodbav:"crLineEnds,omitempty"`
	Columns       []indexing.Column `dynamodbav:"columns,omitempty"`
	Sheets        []indexing.Sheet  `dynamodbav:"sheets,omitempty"`
	Rows          int64             `dynamodbav:"rows"`
	Entries       int64             `dynamodbav:"entries"`
	Unreadable    int64             `dynamodbav:"unreadableRows"`
	UnreadableAt  []int             `dynamodbav:"unreadableLines,omitempty"`
	Invalid       int64             `dynamodbav:"invalid"`
	MinorsUnder16 int64             `dynamodbav:"minorsUnder16"`
	Error         string            `dynamodbav:"error,omitempty"`
	Size          int64             `dynamodbav:"size"`
	ETag          string            `dynamodbav:"etag,omitempty"`
	IndexedAt     time.Time         `dynamodbav:"indexedAt,omitempty"`
	UpdatedAt     time.Time         `dynamodbav:"updatedAt"`
	// Coverage and CoverageRef are the manifest's ByCoverage key, derived
	// from Status and UnreadableRows (coverageOf); both are absent for a
	// removed object, which is then in no coverage state.
	Coverage    string              `dynamodbav:"coverage,omitempty"`
	CoverageRef string              `dynamodbav:"coverageRef,omitempty"`
	Previous    *indexing.Readable  `dynamodbav:"previous,omitempty"`
	Chunked     bool                `dynamodbav:"chunked,omitempty"`
	KeyID       string              `dynamodbav:"keyId,omitempty"`
	Noncurrent  []indexing.Retained `dynamodbav:"noncurrent,omitempty"`
}

// entryItem is an index entry as stored.
type entryItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	GSI1PK    string `dynamodbav:"GSI1PK"`
	GSI1SK    string `dynamodbav:"GSI1SK"`
	Kind      string `dynamodbav:"kind"`
	Bucket    string `dynamodbav:"bucket"`
	Key       string `dynamodbav:"key"`
	VersionID string `dynamodbav:"versionId"`
	Sheet     string `dynamodbav:"sheet,omitempty"`
	Row       int64  `dynamodbav:"row"`
	Offset    int64  `dynamodbav:"offset"`
	Length    int64  `dynamodbav:"length"`
	// Placeholder entries live under PlaceholderShards partitions of
	// their key (entryPK), not one.
	Placeholder bool `dynamodbav:"placeholder,omitempty"`
	// KeyID names the HMAC key the PK's identifier key was computed under.
	KeyID string `dynamodbav:"keyId,omitempty"`
}

// PlaceholderShards is how many partitions a placeholder value's entries
// are spread over: test@test.com may be typed into millions of rows, and
// one partition of them would be hot for every write and every lookup.
const PlaceholderShards = 16

// entryPK is the partition key of an entry: its identifier's, or for a
// placeholder value one of PlaceholderShards partitions of it, chosen by
// row so that a list's rows spread evenly and the entry's key is
// computed again from the entry alone.
func entryPK(e indexing.Entry) string {
	if e.Placeholder {
		return shardPK(e.Key, int(e.Row%PlaceholderShards))
	}
	return IdentifierPK(e.Key)
}

func shardPK(hmacKey string, shard int) string {
	return fmt.Sprintf("%s#%02d", IdentifierPK(hmacKey), shard)
}

func keyOf(pk, sk string) map[string]ddbtypes.AttributeValue { return dynamo.Key(pk, sk) }

// Manifest returns the manifest of bucket/key; see indexing.Index.
func (s *Store) Manifest(ctx context.Context, bucket, key string) (indexing.Manifest, error) {
	pk := ObjectPK(bucket, key)
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: keyOf(pk, manifestSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return indexing.Manifest{}, fmt.Errorf("manifest %s: %w", pk, err)
	}
	if out.Item == nil {
		return indexing.Manifest{}, fmt.Errorf("manifest %s: %w", pk, veil.ErrNotFound)
	}
	var it manifestItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return indexing.Manifest{}, fmt.Errorf("manifest %s: %w", pk, err)
	}
	return fromItem(it), nil
}

func fromItem(it manifestItem) indexing.Manifest {
	return indexing.Manifest{
		Bucket: it.Bucket, Key: it.Key, VersionID: it.VersionID, Sequencer: it.Sequencer, Status: it.Status,
		Campaign: it.Campaign, Format: it.Format, Encoding: it.Encoding, HeaderLine: it.HeaderLine, Header: it.Header,
		Delimiter: it.Delimiter, CRLineEnds: it.CRLineEnds, Columns: it.Columns, Sheets: it.Sheets, Rows: it.Rows, Entries: it.Entries,
		UnreadableRows: it.Unreadable, UnreadableLines: it.UnreadableAt, Invalid: it.Invalid,
		MinorsUnder16: it.MinorsUnder16, Error: it.Error, Size: it.Size, ETag: it.ETag, IndexedAt: it.IndexedAt,
		UpdatedAt: it.UpdatedAt, Previous: it.Previous, Chunked: it.Chunked, KeyID: it.KeyID, Noncurrent: it.Noncurrent,
	}
}

func toItem(m indexing.Manifest) manifestItem {
	return manifestItem{
		PK: ObjectPK(m.Bucket, m.Key), SK: manifestSK,
		Bucket: m.Bucket, Key: m.Key, VersionID: m.VersionID, Sequencer: indexing.PadSequencer(m.Sequencer), Status: m.Status,
		Campaign: m.Campaign, Format: m.Format, Encoding: m.Encoding, HeaderLine: m.HeaderLine, Header: m.Header,
		Delimiter: m.Delimiter, CRLineEnds: m.CRLineEnds, Columns: m.Columns, Sheets: m.Sheets, Rows: m.Rows, Entries: m.Entries,
		Unreadable: m.UnreadableRows, UnreadableAt: m.UnreadableLines, Invalid: m.Invalid,
		MinorsUnder16: m.MinorsUnder16, Error: m.Error, Size: m.Size, ETag: m.ETag, IndexedAt: m.IndexedAt,
		UpdatedAt: m.UpdatedAt, Previous: m.Previous, Chunked: m.Chunked, KeyID: m.KeyID, Noncurrent: m.Noncurrent,
		Coverage: coverageOf(m), CoverageRef: coverageRefOf(m),
	}
}

// Claim writes m over the manifest with sequencer over; see
// indexing.Index.
func (s *Store) Claim(ctx context.Context, m indexing.Manifest, over string) (bool, error) {
	if over == "" {
		return s.putManifest(ctx, m, expression.AttributeNotExists(expression.Name("PK")))
	}
	return s.putManifest(ctx, m, expression.Equal(expression.Name("sequencer"), expression.Value(indexing.PadSequencer(over))))
}

// Finish writes m if its sequencer is still the recorded one; see
// indexing.Index.
func (s *Store) Finish(ctx context.Context, m indexing.Manifest) (bool, error) {
	seq := indexing.PadSequencer(m.Sequencer)
	return s.putManifest(ctx, m, expression.Equal(expression.Name("sequencer"), expression.Value(seq)))
}

func (s *Store) putManifest(ctx context.Context, m indexing.Manifest, cond expression.ConditionBuilder) (bool, error) {
	it := toItem(m)
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return false, fmt.Errorf("manifest %s: %w", it.PK, err)
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return false, fmt.Errorf("manifest %s: %w", it.PK, err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	return conditional(err, fmt.Sprintf("manifest %s@%s", it.PK, m.VersionID))
}

// conditional reads the result of a conditional write: whether it was
// made, false without error when its condition failed.
func conditional(err error, what string) (bool, error) {
	if dynamo.ConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return true, nil
}

// pause waits d, or until ctx is done (its error).
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PutEntries writes entries in BatchWriteItem calls; see indexing.Index.
func (s *Store) PutEntries(ctx context.Context, entries []indexing.Entry) error {
	// Items are built a batch at a time as writers take them, so that a
	// call holds writers+1 batches of items, not all of entries'.
	return s.write(ctx, len(entries), func(i, j int) []ddbtypes.WriteRequest {
		reqs := make([]ddbtypes.WriteRequest, 0, j-i)
		for _, e := range entries[i:j] {
			reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: entryAttributes(e)}})
		}
		return reqs
	})
}

// entryAttributes is e as stored: what attributevalue.MarshalMap makes of
// its entryItem (TestEntryAttributesAreEntryItem), built without
// reflection, which was a fifth of indexing's allocations.
func entryAttributes(e indexing.Entry) map[string]ddbtypes.AttributeValue {
	sk := rowSK(e.Bucket, e.ObjectKey, e.VersionID, e.Sheet, e.Row)
	str := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	num := func(v int64) ddbtypes.AttributeValue {
		return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	item := make(map[string]ddbtypes.AttributeValue, 15)
	item["PK"], item["SK"] = str(entryPK(e)), str(sk)
	item["GSI1PK"], item["GSI1SK"] = str(objectRef(e.Bucket, e.ObjectKey)), str(sk[len(rowPrefix):])
	item["kind"], item["bucket"], item["key"], item["versionId"] = str(e.Kind), str(e.Bucket), str(e.ObjectKey), str(e.VersionID)
	item["row"], item["offset"], item["length"] = num(e.Row), num(e.Offset), num(e.Length)
	if e.Sheet != "" {
		item["sheet"] = str(e.Sheet)
	}
	if e.Placeholder {
		item["placeholder"] = &ddbtypes.AttributeValueMemberBOOL{Value: true}
	}
	if e.KeyID != "" {
		item["keyId"] = str(e.KeyID)
	}
	return item
}

// DeleteEntries deletes the entries of bucket/key a page at a time, asking
// keep for each page's rule once the page is read; see indexing.Index.
func (s *Store) DeleteEntries(ctx context.Context, bucket, key string, keep indexing.KeepFunc) (int, error) {
	kc := expression.Key("GSI1PK").Equal(expression.Value(objectRef(bucket, key)))
	proj := expression.NamesList(expression.Name("PK"), expression.Name("SK"), expression.Name("versionId"), expression.Name("keyId"))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).WithProjection(proj).Build()
	if err != nil {
		return 0, err
	}
	pages := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(ByObject),
		KeyConditionExpression: expr.KeyCondition(), ProjectionExpression: expr.Projection(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		// A page is held while it is deleted: 250 keys, not DynamoDB's
		// 1 MB, keeps that memory flat and small (index_rss_growth).
		Limit: aws.Int32(deletePage),
	})
	deleted := 0
	var reqs []ddbtypes.WriteRequest
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return deleted, fmt.Errorf("entries of %s/%s: %w", bucket, key, err)
		}
		rule, err := keep(ctx)
		if err != nil {
			return deleted, err
		}
		reqs = reqs[:0]
		for _, it := range page.Items {
			if !rule(stringAttr(it, "versionId"), stringAttr(it, "keyId")) {
				// The page's own PK and SK values are the key to delete.
				reqs = append(reqs, ddbtypes.WriteRequest{DeleteRequest: &ddbtypes.DeleteRequest{
					Key: map[string]ddbtypes.AttributeValue{"PK": it["PK"], "SK": it["SK"]}}})
			}
		}
		if err := s.write(ctx, len(reqs), func(i, j int) []ddbtypes.WriteRequest { return reqs[i:j] }); err != nil {
			return deleted, err
		}
		deleted += len(reqs)
	}
	return deleted, nil
}

// stringAttr is item's string attribute name, or "" if it has none.
func stringAttr(item map[string]ddbtypes.AttributeValue, name string) string {
	if v, ok := item[name].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// deletePage is how many entries DeleteEntries reads and deletes at a time.
const deletePage = 250

// maxBatch is BatchWriteItem's limit of requests per call.
const maxBatch = 25

// write sends n requests in batches of up to 25 from Writers goroutines,
// each batch made by batch(i, j) (requests i to j-1) as a writer is free
// to take it; see writeBatch for what a throttle does.
func (s *Store) write(ctx context.Context, n int, batch func(i, j int) []ddbtypes.WriteRequest) error {
	if n == 0 {
		return nil
	}
	writers := max(1, s.Writers)
	batches := make(chan []ddbtypes.WriteRequest)
	errs := make(chan error, writers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range writers {
		go func() {
			var first error
			for b := range batches {
				if first != nil {
					continue
				}
				if err := s.writeBatch(ctx, b); err != nil {
					first = err
					cancel()
				}
			}
			errs <- first
		}()
	}
send:
	for i := 0; i < n; i += maxBatch {
		select {
		case batches <- batch(i, min(i+maxBatch, n)):
		case <-ctx.Done():
			break send
		}
	}
	close(batches)
	var err error
	for range writers {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return err
}

// maxWait caps the backoff between two sends of a batch.
const maxWait = 5 * time.Second

// writeBatch sends one batch until every item is written. Throttling (an
// error DynamoDB's retryer gave up on, or UnprocessedItems) is waited out
// with full-jitter exponential backoff for as long as ctx lasts: a busy
// table slows a list down, it never fails it. Other errors are returned.
func (s *Store) writeBatch(ctx context.Context, batch []ddbtypes.WriteRequest) error {
	pending := map[string][]ddbtypes.WriteRequest{s.table: batch}
	wait := s.Backoff
	for {
		out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		switch {
		case err != nil && !throttled(err):
			return fmt.Errorf("batch write %s: %w", s.table, err)
		case err == nil && len(out.UnprocessedItems[s.table]) == 0:
			return nil
		case err == nil:
			pending = out.UnprocessedItems
		}
		if perr := pause(ctx, jitter(wait)); perr != nil {
			if err != nil {
				return fmt.Errorf("batch write %s: %w (throttled until %w)", s.table, err, perr)
			}
			return fmt.Errorf("batch write %s: %d items unprocessed: %w", s.table, len(pending[s.table]), perr)
		}
		wait = min(wait*2, maxWait)
	}
}

// jitter returns a wait drawn uniformly from (0, wait]: "full jitter", so
// that writers throttled together do not come back together.
func jitter(wait time.Duration) time.Duration {
	return time.Duration(rand.Int64N(int64(max(wait, 1)))) + 1
}

// throttled reports whether err is DynamoDB asking the caller to slow down.
func throttled(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "LimitExceededException":
		return true
	}
	return false
}

// Lookup returns every entry of one identifier key, across all pages; for
// a placeholder value (placeholder), of every partition it is spread over
// too, read concurrently.
func (s *Store) Lookup(ctx context.Context, hmacKey string, placeholder bool) ([]indexing.Entry, error) {
	if !placeholder {
		return s.lookupPK(ctx, hmacKey, IdentifierPK(hmacKey))
	}
	parts := make([][]indexing.Entry, PlaceholderShards+1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range parts {
		pk := IdentifierPK(hmacKey) // entries written before placeholders were told apart
		if i < PlaceholderShards {
			pk = shardPK(hmacKey, i)
		}
		g.Go(func() (err error) {
			parts[i], err = s.lookupPK(gctx, hmacKey, pk)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []indexing.Entry
	for _, p := range parts {
		out = append(out, p...)
	}
	return out, nil
}

func (s *Store) lookupPK(ctx context.Context, hmacKey, pk string) ([]indexing.Entry, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key("PK").Equal(expression.Value(pk))).Build()
	if err != nil {
		return nil, err
	}
	pages := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	var out []indexing.Entry
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("lookup %s: %w", pk[:len(identPrefix)+12], err)
		}
		for _, it := range page.Items {
			var h entryItem
			if err := attributevalue.UnmarshalMap(it, &h); err != nil {
				return nil, err
			}
			out = append(out, indexing.Entry{Key: hmacKey, Kind: h.Kind, Bucket: h.Bucket, ObjectKey: h.Key,
				VersionID: h.VersionID, Sheet: h.Sheet, Row: h.Row, Offset: h.Offset, Length: h.Length, Placeholder: h.Placeholder, KeyID: h.KeyID})
		}
	}
	return out, nil
}

// DeleteEntry removes one entry (a stale one search found); deleting what
// is gone is not an error.
func (s *Store) DeleteEntry(ctx context.Context, e indexing.Entry) error {
	return s.write(ctx, 1, func(int, int) []ddbtypes.WriteRequest {
		return []ddbtypes.WriteRequest{{DeleteRequest: &ddbtypes.DeleteRequest{
			Key: keyOf(entryPK(e), rowSK(e.Bucket, e.ObjectKey, e.VersionID, e.Sheet, e.Row)),
		}}}
	})
}

type columnMapItem struct {
	PK       string            `dynamodbav:"PK"`
	SK       string            `dynamodbav:"SK"`
	Columns  map[string]string `dynamodbav:"columns"`
	Encoding string            `dynamodbav:"encoding,omitempty"`
}

// ColumnMap returns a campaign's column map; see indexing.Index.
func (s *Store) ColumnMap(ctx context.Context, campaign string) (indexing.ColumnMap, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: keyOf(campaignPrefix+campaign, columnsSK)})
	if err != nil {
		return indexing.ColumnMap{}, fmt.Errorf("column map of %s: %w", campaign, err)
	}
	var it columnMapItem
	if out.Item != nil {
		if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
			return indexing.ColumnMap{}, fmt.Errorf("column map of %s: %w", campaign, err)
		}
	}
	if it.Columns == nil {
		it.Columns = map[string]string{}
	}
	return indexing.ColumnMap{Columns: it.Columns, Encoding: it.Encoding}, nil
}

// PutColumnMap replaces a campaign's column map.
func (s *Store) PutColumnMap(ctx context.Context, campaign string, cm indexing.ColumnMap) error {
	if cm.Columns == nil {
		cm.Columns = map[string]string{}
	}
	item, err := attributevalue.MarshalMap(columnMapItem{PK: campaignPrefix + campaign, SK: columnsSK, Columns: cm.Columns, Encoding: cm.Encoding})
	if err != nil {
		return err
	}
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("column map of %s: %w", campaign, err)
	}
	return nil
}

// catalogSK is the sort key of a campaign's disclosure catalog, beside its
// column map.
const catalogSK = "CATALOG"

type catalogItem struct {
	PK, SK string
	export.Catalog
}

// Catalog returns a campaign's disclosure catalog; ok is false when the
// campaign has none.
func (s *Store) Catalog(ctx context.Context, campaign string) (export.Catalog, bool, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: keyOf(campaignPrefix+campaign, catalogSK)})
	if err != nil {
		return export.Catalog{}, false, fmt.Errorf("catalog of %s: %w", campaign, err)
	}
	if out.Item == nil {
		return export.Catalog{}, false, nil
	}
	var it catalogItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return export.Catalog{}, false, fmt.Errorf("catalog of %s: %w", campaign, err)
	}
	return it.Catalog, true, nil
}

// PutCatalog replaces a campaign's disclosure catalog.
func (s *Store) PutCatalog(ctx context.Context, campaign string, c export.Catalog) error {
	item, err := attributevalue.MarshalMap(catalogItem{PK: campaignPrefix + campaign, SK: catalogSK, Catalog: c})
	if err != nil {
		return err
	}
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("catalog of %s: %w", campaign, err)
	}
	return nil
}

// EachEntry calls fn with every entry of one version of bucket/key, page
// by page through ByObject (in constant memory), and returns fn's first
// error or the first Query error. ByObject is eventually consistent: an
// entry written in the last moments may be missed.
func (s *Store) EachEntry(ctx context.Context, bucket, key, version string, fn func(indexing.Entry) error) error {
	kc := expression.Key("GSI1PK").Equal(expression.Value(objectRef(bucket, key)))
	filter := expression.Name("versionId").Equal(expression.Value(version))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).WithFilter(filter).Build()
	if err != nil {
		return fmt.Errorf("entries of %s/%s: %w", bucket, key, err)
	}
	pages := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(ByObject),
		KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("entries of %s/%s: %w", bucket, key, err)
		}
		for _, it := range page.Items {
			var h entryItem
			if err := attributevalue.UnmarshalMap(it, &h); err != nil {
				return err
			}
			hmacKey := strings.TrimPrefix(h.PK, identPrefix)
			if h.Placeholder {
				hmacKey, _, _ = strings.Cut(hmacKey, "#")
			}
			if err := fn(indexing.Entry{Key: hmacKey, Kind: h.Kind, Bucket: h.Bucket, ObjectKey: h.Key, VersionID: h.VersionID,
				Sheet: h.Sheet, Row: h.Row, Offset: h.Offset, Length: h.Length, Placeholder: h.Placeholder, KeyID: h.KeyID}); err != nil {
				return err
			}
		}
	}
	return nil
}
