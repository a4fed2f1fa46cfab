package indexstore

// Coverage is read from ByCoverage, a sparse secondary index of the
// manifests by coverage state:
//
//	ByCoverage   coverage complete|incomplete   coverageRef OBJ#<object ref>
//
// Only manifest items carry the two attributes, and a removed object's
// manifest has neither, so the two partitions hold exactly the current
// objects: "complete" the indexed ones read in full, "incomplete" the ones
// a search must name (failed, being indexed, or with unreadable rows; their
// status tells which). A search answers its coverage with two concurrent
// Queries, never a Scan: one counts, the other reads the few that need
// naming. The sort key is the hashed object reference rather than PK: an
// index sort key is limited to 1,024 bytes, and OBJ#<bucket>/<key> can be
// longer.
//
// ByCoverage is a global secondary index, so it is eventually consistent:
// a list whose state changed in the last moments may be reported in its
// previous state (pending for a list just indexed, say). Nothing here reads
// it to decide a write.

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/veil-privacy/veil/pkg/indexing"
)

// ByCoverage lists the current objects' manifests by coverage state.
const ByCoverage = "ByCoverage"

// Coverage partitions, the partition keys of ByCoverage.
const (
	coverageComplete   = "complete"   // indexed, every row read
	coverageIncomplete = "incomplete" // failed, being indexed, or indexed with unreadable rows
)

// coverageStates are every partition, in the order Lists reads them.
var coverageStates = []string{coverageComplete, coverageIncomplete}

// coverageOf is the one place a manifest's coverage state is derived: ""
// (in no state, so not in ByCoverage) for a removed object.
func coverageOf(m indexing.Manifest) string {
	switch m.Status {
	case indexing.StatusIndexed:
		if m.UnreadableRows > 0 {
			return coverageIncomplete
		}
		return coverageComplete
	case indexing.StatusIndexing, indexing.StatusFailed:
		return coverageIncomplete
	}
	return ""
}

func coverageRefOf(m indexing.Manifest) string {
	if coverageOf(m) == "" {
		return ""
	}
	return objectRef(m.Bucket, m.Key)
}

// coverageItem is what ByCoverage projects of a manifest (see
// template.yaml): what a Coverage names, and the table key.
type coverageItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Bucket     string `dynamodbav:"bucket"`
	Key        string `dynamodbav:"key"`
	VersionID  string `dynamodbav:"versionId"`
	Status     string `dynamodbav:"status"`
	Error      string `dynamodbav:"error"`
	Unreadable int64  `dynamodbav:"unreadableRows"`
}

// Coverage returns how complete an answer drawn from the index is: how many
// current objects are indexed (wholly or partly), and which could not be
// indexed, are being indexed, or were indexed with unreadable rows, each
// sorted by bucket and key and never nil. It runs two Queries, all pages,
// concurrently: one per partition; counting the indexed objects reads every one's
// projection (Select COUNT still reads the items), which is small. A state
// changed in the last moments may be reported one state late (ByCoverage is
// eventually consistent). It returns the first Query error.
func (s *Store) Coverage(ctx context.Context) (indexing.Coverage, error) {
	cov := indexing.Coverage{Unreadable: []indexing.Unreadable{}, Pending: []indexing.Pending{}, Partial: []indexing.Partial{}}
	var complete int64
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		n, err := s.completeCount(gctx)
		complete = n
		return err
	})
	g.Go(func() error {
		return s.eachCoverage(gctx, coverageIncomplete, func(it coverageItem) {
			switch it.Status {
			case indexing.StatusIndexed:
				cov.Partial = append(cov.Partial, indexing.Partial{Bucket: it.Bucket, Key: it.Key, UnreadableRows: it.Unreadable})
			case indexing.StatusIndexing:
				cov.Pending = append(cov.Pending, indexing.Pending{Bucket: it.Bucket, Key: it.Key})
			case indexing.StatusFailed:
				cov.Unreadable = append(cov.Unreadable, indexing.Unreadable{Bucket: it.Bucket, Key: it.Key, VersionID: it.VersionID, Reason: it.Error})
			}
		})
	})
	if err := g.Wait(); err != nil {
		return indexing.Coverage{}, err
	}
	// The partial objects are indexed too; they were read in full above, so
	// counting them again would cost a Query and could disagree with it.
	cov.Objects = complete + int64(len(cov.Partial))
	sort.Slice(cov.Partial, func(i, j int) bool {
		return less(cov.Partial[i].Bucket, cov.Partial[i].Key, cov.Partial[j].Bucket, cov.Partial[j].Key)
	})
	sort.Slice(cov.Pending, func(i, j int) bool {
		return less(cov.Pending[i].Bucket, cov.Pending[i].Key, cov.Pending[j].Bucket, cov.Pending[j].Key)
	})
	sort.Slice(cov.Unreadable, func(i, j int) bool {
		return less(cov.Unreadable[i].Bucket, cov.Unreadable[i].Key, cov.Unreadable[j].Bucket, cov.Unreadable[j].Key)
	})
	return cov, nil
}

func less(bucketA, keyA, bucketB, keyB string) bool {
	if bucketA != bucketB {
		return bucketA < bucketB
	}
	return keyA < keyB
}

// coverageQuery is the Query of one ByCoverage partition, projecting what
// coverageItem holds.
func (s *Store) coverageQuery(state string, count bool) (*dynamodb.QueryInput, error) {
	b := expression.NewBuilder().WithKeyCondition(expression.Key("coverage").Equal(expression.Value(state)))
	if !count {
		b = b.WithProjection(expression.NamesList(expression.Name("PK"), expression.Name("SK"), expression.Name("bucket"),
			expression.Name("key"), expression.Name("versionId"), expression.Name("status"), expression.Name("error"),
			expression.Name("unreadableRows")))
	}
	expr, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("coverage %s: %w", state, err)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(ByCoverage),
		KeyConditionExpression: expr.KeyCondition(), ProjectionExpression: expr.Projection(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}
	if count {
		in.Select = ddbtypes.SelectCount
	}
	return in, nil
}

// completeCount returns how many objects are indexed in full, counted
// anew when the last count is older than CountMaxAge. The count is the one
// figure of a coverage a moment's age does not falsify (every list that
// needs naming is read fresh); reading it costs what the number of lists
// costs.
func (s *Store) completeCount(ctx context.Context) (int64, error) {
	if s.CountMaxAge > 0 {
		s.countMu.Lock()
		n, at := s.count, s.countAt
		s.countMu.Unlock()
		if !at.IsZero() && time.Since(at) < s.CountMaxAge {
			return n, nil
		}
	}
	n, err := s.countCoverage(ctx, coverageComplete)
	if err == nil && s.CountMaxAge > 0 {
		s.countMu.Lock()
		s.count, s.countAt = n, time.Now()
		s.countMu.Unlock()
	}
	return n, err
}

// countCoverage counts the manifests in one state, across all pages.
func (s *Store) countCoverage(ctx context.Context, state string) (int64, error) {
	in, err := s.coverageQuery(state, true)
	if err != nil {
		return 0, err
	}
	var n int64
	pages := dynamodb.NewQueryPaginator(s.api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("coverage %s: %w", state, err)
		}
		n += int64(page.Count)
	}
	return n, nil
}

// eachCoverage calls fn with each manifest in one state, across all pages.
func (s *Store) eachCoverage(ctx context.Context, state string, fn func(coverageItem)) error {
	in, err := s.coverageQuery(state, false)
	if err != nil {
		return err
	}
	pages := dynamodb.NewQueryPaginator(s.api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("coverage %s: %w", state, err)
		}
		for _, raw := range page.Items {
			var it coverageItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return fmt.Errorf("coverage %s: %w", state, err)
			}
			fn(it)
		}
	}
	return nil
}

// Lists returns the manifest of every current object (indexed, failed or
// being indexed; never removed), or with onlyFailed those that failed,
// sorted by bucket and key. The objects are found through ByCoverage and
// their manifests then read whole from the table with strongly consistent
// BatchGetItem calls, so each is as it is now, and one whose state moved
// while the index was read is listed once. It is for operators: it reads
// every current manifest.
func (s *Store) Lists(ctx context.Context, onlyFailed bool) ([]indexing.Manifest, error) {
	states := coverageStates
	if onlyFailed {
		states = []string{coverageIncomplete}
	}
	seen := map[string]bool{}
	var pks []string
	for _, state := range states {
		err := s.eachCoverage(ctx, state, func(it coverageItem) {
			if !seen[it.PK] {
				seen[it.PK] = true
				pks = append(pks, it.PK)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	all, err := s.manifestsOf(ctx, pks)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, m := range all {
		if coverageOf(m) != "" && (!onlyFailed || m.Status == indexing.StatusFailed) {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i].Bucket, out[i].Key, out[j].Bucket, out[j].Key) })
	return out, nil
}

// Manifests returns the manifests of objects ({bucket, key} pairs) that
// have one, in BatchGetItem calls of up to 100 keys, strongly consistent;
// an object without a manifest is left out. It returns the first error of
// a call.
func (s *Store) Manifests(ctx context.Context, objects [][2]string) ([]indexing.Manifest, error) {
	pks := make([]string, len(objects))
	for i, o := range objects {
		pks[i] = ObjectPK(o[0], o[1])
	}
	return s.manifestsOf(ctx, pks)
}

// manifestsOf reads the manifests of the partition keys pks, maxBatchGet
// at a time; a manifest that is not there is left out.
func (s *Store) manifestsOf(ctx context.Context, pks []string) ([]indexing.Manifest, error) {
	out := make([]indexing.Manifest, 0, len(pks))
	for i := 0; i < len(pks); i += maxBatchGet {
		items, err := s.getManifests(ctx, pks[i:min(i+maxBatchGet, len(pks))])
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			out = append(out, fromItem(it))
		}
	}
	return out, nil
}

// maxBatchGet is BatchGetItem's limit of keys per call.
const maxBatchGet = 100

// maxReadAttempts bounds how often a search resends unprocessed keys: an
// answer late by seconds is better than one that never comes.
const maxReadAttempts = 10

// getManifests reads the manifests of pks (at most maxBatchGet), resending
// UnprocessedKeys with exponential backoff; a manifest gone meanwhile is
// left out.
func (s *Store) getManifests(ctx context.Context, pks []string) ([]manifestItem, error) {
	keys := make([]map[string]ddbtypes.AttributeValue, len(pks))
	for i, pk := range pks {
		keys[i] = keyOf(pk, manifestSK)
	}
	pending := map[string]ddbtypes.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	var out []manifestItem
	wait := s.Backoff
	for attempt := 1; ; attempt++ {
		res, err := s.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return nil, fmt.Errorf("batch get %s: %w", s.table, err)
		}
		for _, raw := range res.Responses[s.table] {
			var it manifestItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, fmt.Errorf("batch get %s: %w", s.table, err)
			}
			out = append(out, it)
		}
		left := res.UnprocessedKeys[s.table]
		if len(left.Keys) == 0 {
			return out, nil
		}
		if attempt == maxReadAttempts {
			return nil, fmt.Errorf("batch get %s: %d keys still unprocessed after %d attempts", s.table, len(left.Keys), attempt)
		}
		pending = res.UnprocessedKeys
		if err := pause(ctx, jitter(wait)); err != nil {
			return nil, err
		}
		wait = min(wait*2, maxWait)
	}
}

// StampCoverage gives every manifest written before ByCoverage existed (so
// without a coverage attribute) its coverage state, and returns how many it
// stamped. Until then such an object is missing from every Coverage and
// from Lists. It Scans the whole table, so it is an operator's step, run
// once after upgrading (veil lists -migrate), never on a request path. A
// manifest written meanwhile is left alone: every write since the upgrade
// carries its state. It returns the first error of the Scan or an update.
func (s *Store) StampCoverage(ctx context.Context) (int, error) {
	filter := expression.Name("SK").Equal(expression.Value(manifestSK)).And(expression.AttributeNotExists(expression.Name("coverage")))
	expr, err := expression.NewBuilder().WithFilter(filter).Build()
	if err != nil {
		return 0, fmt.Errorf("stamp coverage: %w", err)
	}
	pages := dynamodb.NewScanPaginator(s.api, &dynamodb.ScanInput{
		TableName: aws.String(s.table), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true),
	})
	stamped := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return stamped, fmt.Errorf("stamp coverage: scan %s: %w", s.table, err)
		}
		for _, raw := range page.Items {
			var it manifestItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return stamped, fmt.Errorf("stamp coverage: %w", err)
			}
			ok, err := s.stamp(ctx, fromItem(it))
			if err != nil {
				return stamped, err
			}
			if ok {
				stamped++
			}
		}
	}
	return stamped, nil
}

// stamp sets m's coverage attributes unless it is in no state or its
// manifest changed since it was read.
func (s *Store) stamp(ctx context.Context, m indexing.Manifest) (bool, error) {
	state := coverageOf(m)
	if state == "" {
		return false, nil
	}
	cond := expression.AttributeNotExists(expression.Name("coverage")).
		And(expression.Name("status").Equal(expression.Value(m.Status))).
		And(expression.Name("sequencer").Equal(expression.Value(m.Sequencer))) // as stored: padded
	update := expression.Set(expression.Name("coverage"), expression.Value(state)).
		Set(expression.Name("coverageRef"), expression.Value(coverageRefOf(m)))
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(update).Build()
	if err != nil {
		return false, fmt.Errorf("stamp coverage of %s/%s: %w", m.Bucket, m.Key, err)
	}
	_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: keyOf(ObjectPK(m.Bucket, m.Key), manifestSK),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	return conditional(err, fmt.Sprintf("stamp coverage of %s/%s", m.Bucket, m.Key))
}
