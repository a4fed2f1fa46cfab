package indexstore

// Verify checks the index against its own manifests. After every change,
// the table holds exactly the entries an object's manifest counts, of the
// version that answers searches and of each noncurrent version it keeps
// (as many as it counted for each), and none of any other version: a
// removed object, or one that failed with no earlier version to answer,
// holds only its noncurrent versions'. An object whose version is being indexed is in progress and is not
// compared (its count is still growing).

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/indexing"
)

// Verdicts of a Finding.
const (
	VerdictOK         = "ok"
	VerdictDiffers    = "differs"
	VerdictInProgress = "in progress"
)

// Finding is what verifying one object found. It names the object and its
// versions and holds counts, never an entry's key or content.
type Finding struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// Status is the manifest's status.
	Status string `json:"status"`
	// Answers says a version answers searches, Answering which one: the
	// indexed version, or the manifest's Previous while a newer version is
	// being indexed or after it failed. A removed object, or a failed one
	// without Previous, answers from none.
	Answers   bool   `json:"answers"`
	Answering string `json:"answering"`
	// Want is how many entries the manifest says Answering has (0 when no
	// version answers; every other version must have none).
	Want int64 `json:"want"`
	// Got counts the object's entries in the table by version ID (versions
	// without entries are absent); nil when the object is in progress and
	// was not counted.
	Got map[string]int64 `json:"got"`
	// Noncurrent is how many entries the manifest says each noncurrent
	// version it keeps has (see indexing.Retained); each must have exactly
	// as many.
	Noncurrent map[string]int64 `json:"noncurrent,omitempty"`
	// Verdict is VerdictOK, VerdictDiffers or VerdictInProgress.
	Verdict string `json:"verdict"`
}

// Strays returns how many entries belong to versions other than the one
// answering and the noncurrent ones kept: the entries a reconcile deletes.
func (f Finding) Strays() int64 {
	var n int64
	for v, c := range f.Got {
		if _, kept := f.Noncurrent[v]; !kept && (!f.Answers || v != f.Answering) {
			n += c
		}
	}
	return n
}

// findingOf compares the manifest m with the entries got of its object.
func findingOf(m indexing.Manifest, got map[string]int64) Finding {
	f := Finding{Bucket: m.Bucket, Key: m.Key, Status: m.Status, Got: got}
	if a, ok := m.Answering(); ok {
		f.Answers, f.Answering, f.Want = true, a.VersionID, a.Entries
	}
	noncurrentDiffer := false
	for _, r := range m.Noncurrent {
		if f.Noncurrent == nil {
			f.Noncurrent = map[string]int64{}
		}
		f.Noncurrent[r.VersionID] = r.Entries
		noncurrentDiffer = noncurrentDiffer || got != nil && got[r.VersionID] != r.Entries
	}
	switch {
	case m.Status == indexing.StatusIndexing:
		f.Verdict = VerdictInProgress
	case f.Strays() != 0 || f.Answers && got[f.Answering] != f.Want || noncurrentDiffer:
		f.Verdict = VerdictDiffers
	default:
		f.Verdict = VerdictOK
	}
	return f
}

// CountEntries returns how many entries of bucket/key the table holds, by
// version ID; a version without entries is absent, and an object without
// any gives an empty map. It Queries ByObject a page at a time projecting
// versionId alone, so that it holds nothing but the counts however many
// entries there are. ByObject is eventually consistent: entries written or
// deleted in the last moments may be counted as they were. It returns the
// first Query error, naming the object.
func (s *Store) CountEntries(ctx context.Context, bucket, key string) (map[string]int64, error) {
	kc := expression.Key("GSI1PK").Equal(expression.Value(objectRef(bucket, key)))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).WithProjection(expression.NamesList(expression.Name("versionId"))).Build()
	if err != nil {
		return nil, fmt.Errorf("count entries of %s/%s: %w", bucket, key, err)
	}
	pages := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(ByObject),
		KeyConditionExpression: expr.KeyCondition(), ProjectionExpression: expr.Projection(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	counts := map[string]int64{}
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("count entries of %s/%s: %w", bucket, key, err)
		}
		for _, it := range page.Items {
			// An entry of an unversioned object has an empty versionId.
			v, _ := it["versionId"].(*ddbtypes.AttributeValueMemberS)
			if v != nil {
				counts[v.Value]++
			} else {
				counts[""]++
			}
		}
	}
	return counts, nil
}

// VerifyObject returns what verifying bucket/key finds: its manifest,
// read strongly consistent, against its entries counted through ByObject.
// When they differ, the manifest is read and the entries counted once
// more, so that a change applied between the two reads (or entries ByObject
// had not shown yet) is not reported as a difference; an object a change
// claimed meanwhile is then in progress. It returns an error wrapping
// veil.ErrNotFound for an object without a manifest, or the first read's
// error.
func (s *Store) VerifyObject(ctx context.Context, bucket, key string) (Finding, error) {
	m, err := s.Manifest(ctx, bucket, key)
	if err != nil {
		return Finding{}, err
	}
	return s.verify(ctx, m)
}

// verify checks m, and checks again from a fresh read of the manifest
// when m and the table differ.
func (s *Store) verify(ctx context.Context, m indexing.Manifest) (Finding, error) {
	f, err := s.check(ctx, m)
	if err != nil || f.Verdict != VerdictDiffers {
		return f, err
	}
	if m, err = s.Manifest(ctx, m.Bucket, m.Key); err != nil {
		return Finding{}, err
	}
	return s.check(ctx, m)
}

func (s *Store) check(ctx context.Context, m indexing.Manifest) (Finding, error) {
	if m.Status == indexing.StatusIndexing {
		return findingOf(m, nil), nil
	}
	got, err := s.CountEntries(ctx, m.Bucket, m.Key)
	if err != nil {
		return Finding{}, err
	}
	return findingOf(m, got), nil
}

// Verify calls fn with a Finding for every object of bucket (of every
// bucket when bucket is "") whose key starts with prefix, in no particular
// order, one object at a time. An error of fn stops it and is returned as
// is; otherwise it returns the first error reading the table.
//
// It is for operators, never a request path: the manifests are found by a
// Scan of the table, filtered to manifests under the prefix. No index
// lists every manifest: ByCoverage holds only current objects, and a
// removed object's manifest (whose leftover entries Verify must find) is
// in no index, so a Scan, which reads every item once, is the one complete
// way; Querying ByCoverage as well would only add to its cost. The Scan
// holds one page at a time; each object's entries are then counted through
// ByObject (CountEntries).
func (s *Store) Verify(ctx context.Context, bucket, prefix string, fn func(Finding) error) error {
	filter := expression.Name("SK").Equal(expression.Value(manifestSK))
	if bucket != "" {
		filter = filter.And(expression.Name("bucket").Equal(expression.Value(bucket)))
	}
	if prefix != "" {
		filter = filter.And(expression.Name("key").BeginsWith(prefix))
	}
	// What findingOf and Answering read of a manifest, no more.
	proj := expression.NamesList(expression.Name("PK"), expression.Name("SK"), expression.Name("bucket"), expression.Name("key"),
		expression.Name("versionId"), expression.Name("sequencer"), expression.Name("status"), expression.Name("entries"),
		expression.Name("previous"), expression.Name("updatedAt"))
	expr, err := expression.NewBuilder().WithFilter(filter).WithProjection(proj).Build()
	if err != nil {
		return fmt.Errorf("verify %s/%s: %w", bucket, prefix, err)
	}
	pages := dynamodb.NewScanPaginator(s.api, &dynamodb.ScanInput{
		TableName: aws.String(s.table), FilterExpression: expr.Filter(), ProjectionExpression: expr.Projection(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("verify %s/%s: scan %s: %w", bucket, prefix, s.table, err)
		}
		for _, raw := range page.Items {
			var it manifestItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return fmt.Errorf("verify %s/%s: %w", bucket, prefix, err)
			}
			f, err := s.verify(ctx, fromItem(it))
			if err != nil {
				return err
			}
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}
