package suppression

// The list lives in the Index table, next to the entries it keeps out:
//
//	entry  PK SUP#<hmac>  SK SUP#<action>  kind origin reason added keyId
//
// One identifier can be on it for several actions (erased and
// do-not-contact), one item each. Add reads which entries are there
// (consistent reads) and writes only the others, so that writing an
// entry again keeps its first origin and time. Two Adds of the same new
// entry at the same moment can both find it absent; the later write's
// origin and time then stand. The entry is on the list either way: only
// its provenance is one of the two. Conditional puts would close that
// window, at one call per entry (a tenth of batch writes' throughput,
// measured on the local stack).

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

// prefix starts both keys of every suppression item.
const prefix = "SUP#"

// PK returns the partition key of an identifier's suppression entries.
func PK(hmacKey string) string { return prefix + hmacKey }

func sk(a Action) string { return prefix + string(a) }

// maxGet is BatchGetItem's limit of keys per call.
const maxGet = 100

// maxAttempts bounds the sends of one BatchGetItem's unprocessed keys.
const maxAttempts = 10

// maxWait caps the backoff between two sends.
const maxWait = 2 * time.Second

// maxReason is the longest Reason stored; longer ones are cut.
const maxReason = 500

// API is the part of the DynamoDB client the store calls.
type API interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store is the suppression list in the Index table.
type Store struct {
	api   API
	table string
	// Writers is how many BatchWriteItem (and BatchGetItem) calls run at
	// once (default 8).
	Writers int
	// Backoff is the first wait before resending unprocessed keys.
	Backoff time.Duration
}

// New returns a Store on table (the Index table).
func New(api API, table string) *Store {
	return &Store{api: api, table: table, Writers: 8, Backoff: 25 * time.Millisecond}
}

// item is an entry as stored.
type item struct {
	PK     string    `dynamodbav:"PK"`
	SK     string    `dynamodbav:"SK"`
	Kind   string    `dynamodbav:"kind"`
	Origin string    `dynamodbav:"origin"`
	Reason string    `dynamodbav:"reason,omitempty"`
	Added  time.Time `dynamodbav:"added"`
	KeyID  string    `dynamodbav:"keyId,omitempty"`
}

type ref struct {
	key    string
	action Action
}

// validEntry refuses what must never be stored: a key that is not an HMAC
// in hex (a raw value, say), an unknown action or kind, no origin.
func validEntry(e Entry) error {
	if !isKey(e.Key) {
		return veil.Invalid("key", "not an index key (%d hex digits)", identifiers.KeyLen)
	}
	if _, err := ParseAction(string(e.Action)); err != nil {
		return err
	}
	if !e.Kind.IsIdentifier() {
		return veil.Invalid("kind", "%s is not an identifier kind", e.Kind)
	}
	if e.Origin == "" {
		return veil.Invalid("origin", "empty")
	}
	return nil
}

func isKey(s string) bool {
	if len(s) != identifiers.KeyLen || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Add puts entries on the list and returns how many were not on it yet.
// An entry already there (same key and action) keeps its origin, reason
// and time (but see the race above). It fails with a *veil.ValidationError for an entry that is
// not valid (before writing any), and with DynamoDB's errors.
func (s *Store) Add(ctx context.Context, entries []Entry) (int, error) {
	seen := make(map[ref]bool, len(entries))
	todo := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if err := validEntry(e); err != nil {
			return 0, err
		}
		if r := (ref{e.Key, e.Action}); !seen[r] {
			seen[r] = true
			todo = append(todo, e)
		}
	}
	// Most of a re-import is already there: reading 100 keys a call is
	// far cheaper than a failed conditional put each.
	refs := make([]ref, len(todo))
	for i, e := range todo {
		refs[i] = ref{e.Key, e.Action}
	}
	existing, err := s.get(ctx, refs, true)
	if err != nil {
		return 0, err
	}
	var missing []Entry
	for _, e := range todo {
		if _, ok := existing[ref{e.Key, e.Action}]; !ok {
			missing = append(missing, e)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, s.Writers))
	for i := 0; i < len(missing); i += maxWrite {
		chunk := missing[i:min(i+maxWrite, len(missing))]
		g.Go(func() error { return s.writeBatch(gctx, chunk) })
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return len(missing), nil
}

// maxWrite is BatchWriteItem's limit of requests per call.
const maxWrite = 25

// writeBatch puts up to 25 entries, resending unprocessed items with
// full-jitter exponential backoff for as long as ctx lasts.
func (s *Store) writeBatch(ctx context.Context, entries []Entry) error {
	reqs := make([]ddbtypes.WriteRequest, len(entries))
	for i, e := range entries {
		reason := e.Reason
		if len(reason) > maxReason {
			reason = strings.ToValidUTF8(reason[:maxReason], "")
		}
		av, err := attributevalue.MarshalMap(item{PK: PK(e.Key), SK: sk(e.Action), Kind: e.Kind.String(), Origin: e.Origin,
			Reason: reason, Added: e.Added.UTC(), KeyID: e.KeyID})
		if err != nil {
			return fmt.Errorf("suppression %s: %w", identifiers.HashPrefix(e.Key), err)
		}
		reqs[i] = ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: av}}
	}
	pending := map[string][]ddbtypes.WriteRequest{s.table: reqs}
	wait := s.Backoff
	for {
		out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return fmt.Errorf("suppression batch write %s: %w", s.table, err)
		}
		if len(out.UnprocessedItems[s.table]) == 0 {
			return nil
		}
		pending = out.UnprocessedItems
		if err := pause(ctx, rand.N(wait)+1); err != nil {
			return fmt.Errorf("suppression batch write %s: %d items unprocessed: %w", s.table, len(pending[s.table]), err)
		}
		wait = min(wait*2, maxWait)
	}
}

// Check returns the entries of every key that is on the list, by key, each
// key's entries in the order of Actions. A key not on the list is not in
// the map. It fails with DynamoDB's errors.
func (s *Store) Check(ctx context.Context, keys []string) (map[string][]Entry, error) {
	seen := map[string]bool{}
	var refs []ref
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		for _, a := range Actions() {
			refs = append(refs, ref{k, a})
		}
	}
	found, err := s.get(ctx, refs, false)
	if err != nil {
		return nil, err
	}
	out := map[string][]Entry{}
	for _, r := range refs {
		if e, ok := found[r]; ok {
			out[r.key] = append(out[r.key], e)
		}
	}
	return out, nil
}

// get reads the items of refs, 100 a call, Writers calls at once;
// keysOnly reads their keys alone.
func (s *Store) get(ctx context.Context, refs []ref, keysOnly bool) (map[ref]Entry, error) {
	var mu sync.Mutex
	out := map[ref]Entry{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, s.Writers))
	for i := 0; i < len(refs); i += maxGet {
		chunk := refs[i:min(i+maxGet, len(refs))]
		g.Go(func() error {
			items, err := s.batchGet(gctx, chunk, keysOnly)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, av := range items {
				var it item
				if err := attributevalue.UnmarshalMap(av, &it); err != nil {
					return fmt.Errorf("suppression table %s: %w", s.table, err)
				}
				e := fromItem(it)
				out[ref{e.Key, e.Action}] = e
			}
			return nil
		})
	}
	return out, g.Wait()
}

func fromItem(it item) Entry {
	e := Entry{Key: strings.TrimPrefix(it.PK, prefix), Action: Action(strings.TrimPrefix(it.SK, prefix)),
		Origin: it.Origin, Reason: it.Reason, Added: it.Added, KeyID: it.KeyID}
	if k, err := identifiers.ParseKind(it.Kind); err == nil {
		e.Kind = k
	}
	return e
}

// batchGet reads up to 100 refs, resending unprocessed keys with
// full-jitter exponential backoff, at most maxAttempts sends.
func (s *Store) batchGet(ctx context.Context, refs []ref, keysOnly bool) ([]map[string]ddbtypes.AttributeValue, error) {
	ka := ddbtypes.KeysAndAttributes{ConsistentRead: aws.Bool(true)}
	for _, r := range refs {
		ka.Keys = append(ka.Keys, map[string]ddbtypes.AttributeValue{
			"PK": &ddbtypes.AttributeValueMemberS{Value: PK(r.key)}, "SK": &ddbtypes.AttributeValueMemberS{Value: sk(r.action)}})
	}
	if keysOnly {
		ka.ProjectionExpression = aws.String("PK, SK")
	}
	pending := map[string]ddbtypes.KeysAndAttributes{s.table: ka}
	var items []map[string]ddbtypes.AttributeValue
	wait := s.Backoff
	for attempt := 1; ; attempt++ {
		out, err := s.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return nil, fmt.Errorf("suppression batch get %s: %w", s.table, err)
		}
		items = append(items, out.Responses[s.table]...)
		left, ok := out.UnprocessedKeys[s.table]
		if !ok || len(left.Keys) == 0 {
			return items, nil
		}
		if attempt == maxAttempts {
			return nil, fmt.Errorf("suppression batch get %s: %d keys unprocessed after %d attempts", s.table, len(left.Keys), attempt)
		}
		pending = out.UnprocessedKeys
		if err := pause(ctx, rand.N(wait)+1); err != nil {
			return nil, fmt.Errorf("suppression batch get %s: %w", s.table, err)
		}
		wait = min(wait*2, maxWait)
	}
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

// sortEntries orders entries as Actions does, earliest first within one.
func sortEntries(es []Entry) {
	rank := map[Action]int{}
	for i, a := range Actions() {
		rank[a] = i
	}
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Action != es[j].Action {
			return rank[es[i].Action] < rank[es[j].Action]
		}
		return es[i].Added.Before(es[j].Added)
	})
}

// CountByKeyID returns how many entries are stored under each HMAC key of
// the keyring, by key ID: what a key rotation must not drop, since no raw
// value is kept to key an entry again. It scans the table.
func (s *Store) CountByKeyID(ctx context.Context) (map[string]int, error) {
	p := dynamodb.NewScanPaginator(s.api, &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		FilterExpression:          aws.String("begins_with(PK, :p)"),
		ProjectionExpression:      aws.String("keyId"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": &ddbtypes.AttributeValueMemberS{Value: prefix}},
	})
	out := map[string]int{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("suppression entries: %w", err)
		}
		for _, it := range page.Items {
			id := ""
			if v, ok := it["keyId"].(*ddbtypes.AttributeValueMemberS); ok {
				id = v.Value
			}
			out[id]++
		}
	}
	return out, nil
}
