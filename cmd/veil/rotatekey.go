package main

// rotate-key replaces the index's HMAC key without a moment when a list
// cannot be found. -begin puts a new random key in the secret as the
// active key of a keyring that keeps the old one: indexers write under the
// new key, searches look under both (once the functions load the secret
// again, at their next cold start). `veil backfill -force` then rereads
// every list under the new key, its old entries answering until the new
// ones are written. -status counts the current lists under each key, and
// -finish drops the old keys once no list answers from them.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/suppression"
)

// keySecret is the part of the Secrets Manager client rotate-key calls.
type keySecret interface {
	indexkey.API
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

var _ keySecret = (*secretsmanager.Client)(nil)

// newKeyBytes is how many random bytes a new key holds; it is written in
// hex, as long (64 characters) as the key the stack generates.
const newKeyBytes = 32

// unrecorded names the lists whose manifest records no key ID: indexed
// before keys had IDs (under the plain key of that time), or in chunks
// under different keys.
const unrecorded = "(unrecorded)"

func rotateKey(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rotate-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	secret := fs.String("secret", "", "the IndexKeySecret's name or ARN (required)")
	table := fs.String("table", "veil-index", "the index table")
	begin := fs.Bool("begin", false, "make a new key active, keeping the old one for searches")
	status := fs.Bool("status", false, "count the current lists under each key")
	finish := fs.Bool("finish", false, "drop the old keys once no list is indexed under one")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	n := 0
	for _, b := range []bool{*begin, *status, *finish} {
		if b {
			n++
		}
	}
	if *secret == "" || n != 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "veil rotate-key: -secret and one of -begin, -status, -finish are required")
		return exitUsage
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "veil rotate-key: aws config:", err)
		return exitUsage
	}
	r := rotation{secrets: secretsmanager.NewFromConfig(awsCfg), arn: *secret,
		store: indexstore.New(dynamodb.NewFromConfig(awsCfg), *table), stdout: stdout,
		suppression: suppression.New(dynamodb.NewFromConfig(awsCfg), *table)}
	switch {
	case *begin:
		err = r.begin(ctx)
	case *status:
		_, err = r.status(ctx)
	default:
		err = r.finish(ctx)
	}
	if err != nil {
		fmt.Fprintln(stderr, "veil rotate-key:", err)
		if _, refused := err.(*refusedError); refused {
			return exitFailed
		}
		return exitUsage
	}
	return exitOK
}

// refusedError is a step the state of the index does not allow yet.
type refusedError struct{ reason string }

func (e *refusedError) Error() string { return e.reason }

type rotation struct {
	secrets     keySecret
	arn         string
	store       *indexstore.Store
	suppression *suppression.Store
	stdout      io.Writer
}

// begin adds a new random key to the keyring and makes it active. It
// refuses while a rotation is in progress (the keyring holds several keys).
func (r rotation) begin(ctx context.Context) error {
	ring, err := indexkey.LoadKeyring(ctx, r.secrets, r.arn)
	if err != nil {
		return err
	}
	if len(ring.Keys) > 1 {
		return &refusedError{fmt.Sprintf("a rotation to key %s is in progress: run -status, then -finish", ring.Active.ID)}
	}
	raw := make([]byte, newKeyBytes)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	secret := []byte(hex.EncodeToString(raw))
	next := indexkey.Key{ID: indexkey.ID(secret), Secret: secret}
	ring.Keys = append([]indexkey.Key{next}, ring.Keys...)
	ring.Active = next
	if err := r.put(ctx, ring); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "key %s is active; %s is kept for searches\n", next.ID, ring.Keys[1].ID)
	fmt.Fprintln(r.stdout, "next: restart or redeploy the functions (they read the key at a cold start),")
	fmt.Fprintln(r.stdout, "then run `veil backfill -bucket NAME -force`, `veil rotate-key -status`, `veil rotate-key -finish`")
	return nil
}

// tally is how many current lists answer under each key, and how many
// are being indexed.
type tally struct {
	active  string
	byKey   map[string]int
	pending int
	// noncurrent counts the noncurrent versions kept under another key
	// than the active one: a re-key rereads current versions only.
	noncurrent int
}

// old counts the lists answering under a key other than the active one.
func (t tally) old() int {
	n := 0
	for id, c := range t.byKey {
		if id != t.active {
			n += c
		}
	}
	return n
}

// status counts the current lists under each key (the key a list answers
// searches from: its last indexed version's while a newer one is being
// read) and prints the counts.
func (r rotation) status(ctx context.Context) (tally, error) {
	ring, err := indexkey.LoadKeyring(ctx, r.secrets, r.arn)
	if err != nil {
		return tally{}, err
	}
	ms, err := r.store.Lists(ctx, false)
	if err != nil {
		return tally{}, err
	}
	t := tally{active: ring.Active.ID, byKey: map[string]int{}}
	for _, id := range ring.IDs() {
		t.byKey[id] = 0
	}
	for _, m := range ms {
		if m.Status == indexing.StatusIndexing {
			t.pending++
		}
		for _, r := range m.Noncurrent {
			if r.KeyID != t.active {
				t.noncurrent++
			}
		}
		a, ok := m.Answering()
		if !ok {
			continue
		}
		id := a.KeyID
		if id == "" {
			id = unrecorded
		}
		t.byKey[id]++
	}
	ids := make([]string, 0, len(t.byKey))
	for id := range t.byKey {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY ID\tLISTS\t")
	for _, id := range ids {
		note := ""
		switch {
		case id == ring.Active.ID:
			note = "active"
		case id == unrecorded:
			note = "indexed before key IDs"
		case !containsID(ring.IDs(), id):
			note = "not in the keyring: unsearchable"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", id, t.byKey[id], note)
	}
	_ = tw.Flush()
	fmt.Fprintf(r.stdout, "%d lists under other keys than the active %s, %d being indexed\n", t.old(), ring.Active.ID, t.pending)
	if t.noncurrent > 0 {
		fmt.Fprintf(r.stdout, "%d noncurrent versions are indexed under other keys (they go when S3 expires them)\n", t.noncurrent)
	}
	return t, nil
}

func containsID(ids []string, id string) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

// finish keeps only the active key in the secret. It refuses while a list
// answers under another key or is being indexed (perhaps by an instance
// still holding the old key).
func (r rotation) finish(ctx context.Context) error {
	t, err := r.status(ctx)
	if err != nil {
		return err
	}
	if n := t.old(); n > 0 || t.pending > 0 {
		return &refusedError{fmt.Sprintf("%d lists are still indexed under another key than %s and %d are being indexed: "+
			"once every function runs with the new key (redeploy, or wait for new instances), run `veil backfill -bucket NAME -force`, then -finish again",
			n, t.active, t.pending)}
	}
	// Erasure finds a noncurrent version through its entries: dropping
	// their key would leave plaintext no erasure can reach.
	if t.noncurrent > 0 {
		return &refusedError{fmt.Sprintf("%d noncurrent versions of lists are indexed only under the old keys, and erasure finds them through those keys: "+
			"wait until the leads bucket's NoncurrentVersionExpiration removes them, or delete them, then -finish again", t.noncurrent)}
	}
	ring, err := indexkey.LoadKeyring(ctx, r.secrets, r.arn)
	if err != nil {
		return err
	}
	if ring.Active.ID != t.active {
		return &refusedError{fmt.Sprintf("the active key changed to %s meanwhile: run -finish again", ring.Active.ID)}
	}
	// A suppression entry is an HMAC under the keys of its day, and no raw
	// value is kept to key it again: dropping its key would take the
	// consumer off the list without a word.
	counts, err := r.suppression.CountByKeyID(ctx)
	if err != nil {
		return err
	}
	held := 0
	for _, k := range ring.Keys {
		if k.ID != ring.Active.ID {
			held += counts[k.ID]
		}
	}
	if held > 0 && counts[ring.Active.ID] < held {
		return &refusedError{fmt.Sprintf("%d suppression entries are keyed only under the old keys, which cannot be re-keyed (no raw values are kept): "+
			"finishing would take those consumers off the suppression list; import the suppression files again (veil suppress import), then -finish", held-counts[ring.Active.ID])}
	}
	dropped := len(ring.Keys) - 1
	if dropped == 0 {
		fmt.Fprintf(r.stdout, "key %s is the only key: nothing to finish\n", ring.Active.ID)
		return nil
	}
	ring.Keys = []indexkey.Key{ring.Active}
	if err := r.put(ctx, ring); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "key %s is the only key; %d old keys dropped (functions drop them at their next cold start)\n", ring.Active.ID, dropped)
	return nil
}

// put writes ring as the secret's new value.
func (r rotation) put(ctx context.Context, ring indexkey.Keyring) error {
	value, err := ring.Marshal()
	if err != nil {
		return err
	}
	if _, err := r.secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(r.arn), SecretString: aws.String(string(value)),
	}); err != nil {
		return fmt.Errorf("index key %s: %w", r.arn, err)
	}
	return nil
}
