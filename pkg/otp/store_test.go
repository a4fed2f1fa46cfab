package otp_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/otp"
	"github.com/veil-privacy/veil/pkg/veil"
)

// gatedAPI holds the first n GetItem calls until all n have read, so that
// n operations begin from the same stored version; it counts the writes
// that lost their condition.
type gatedAPI struct {
	otp.API
	n     int
	ready chan struct{}

	mu        sync.Mutex
	reads     int
	conflicts int
}

func gate(api otp.API, n int) *gatedAPI {
	return &gatedAPI{API: api, n: n, ready: make(chan struct{})}
}

func (g *gatedAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := g.API.GetItem(ctx, in, optFns...)
	g.mu.Lock()
	g.reads++
	r := g.reads
	if r == g.n {
		close(g.ready)
	}
	g.mu.Unlock()
	if r <= g.n {
		select {
		case <-g.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return out, err
}

func (g *gatedAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := g.API.PutItem(ctx, in, optFns...)
	var cf *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		g.mu.Lock()
		g.conflicts++
		g.mu.Unlock()
	}
	return out, err
}

type env struct {
	ddb   *dynamodb.Client
	table string
	store *otp.Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options(t))
	ddb := dynamodb.NewFromConfig(s.AWS)
	table := s.Names["RequestsTable"]
	return &env{ddb: ddb, table: table, store: &otp.Store{API: ddb, Table: table}}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// stored puts a new challenge of request id and returns it as read back,
// with its code.
func (e *env) stored(t *testing.T, ctx context.Context, id string) (otp.Challenge, string) {
	t.Helper()
	c, code, err := otp.NewChallenge(codeSecret, draws(314159), id, identifiers.Phone,
		identifiers.Key(keySecret, identifiers.Phone, "+12125550147"), t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Put(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.Get(ctx, id, c.Kind, c.IdentifierKey)
	if err != nil {
		t.Fatal(err)
	}
	return got, code
}

func TestStorePutGet(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	key := identifiers.Key(keySecret, identifiers.Email, "ann.lee@example.com")
	c, _, err := otp.NewChallenge(codeSecret, draws(1), "r1", identifiers.Email, key, t0.Add(123*time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	c.Tries = 2
	if _, err := e.store.Get(ctx, "r1", identifiers.Email, key); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("Get before Put = %v, want ErrNotFound", err)
	}
	if err := e.store.Put(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.Get(ctx, "r1", identifiers.Email, key)
	if err != nil {
		t.Fatal(err)
	}
	if got.RequestID != "r1" || got.Kind != identifiers.Email || got.IdentifierKey != key || got.CodeHash != c.CodeHash ||
		!got.Created.Equal(c.Created) || !got.Expires.Equal(c.Expires) || got.Tries != 2 || got.Locked || got.Used ||
		len(got.Sends) != 1 || !got.Sends[0].Equal(c.Sends[0]) || got.Version != 1 {
		t.Fatalf("Get = %+v, want %+v at version 1", got, c)
	}
	if _, err := e.store.Get(ctx, "r1", identifiers.Phone, key); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("Get of another kind = %v, want ErrNotFound", err)
	}

	// A second new challenge, or a write over a version no longer stored,
	// loses; a write over the stored one wins.
	if err := e.store.Put(ctx, c); !errors.Is(err, veil.ErrConflict) {
		t.Fatalf("Put of a new challenge again = %v, want ErrConflict", err)
	}
	got.Tries = 3
	if err := e.store.Put(ctx, got); err != nil {
		t.Fatalf("Put over version 1 = %v", err)
	}
	if err := e.store.Put(ctx, got); !errors.Is(err, veil.ErrConflict) {
		t.Fatalf("Put over version 1 again = %v, want ErrConflict", err)
	}
	if again, err := e.store.Get(ctx, "r1", identifiers.Email, key); err != nil || again.Tries != 3 || again.Version != 2 {
		t.Fatalf("Get = %+v, %v; want 3 tries at version 2", again, err)
	}
}

// Put refuses anything that would store a raw value or an unusable key.
func TestStorePutRefuses(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	good, _, err := otp.NewChallenge(codeSecret, draws(1), "r1", identifiers.Phone, identifiers.Key(keySecret, identifiers.Phone, "+12125550147"), t0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		edit      func(*otp.Challenge)
		wantField string
	}{
		{"raw identifier", func(c *otp.Challenge) { c.IdentifierKey = "+12125550147" }, "identifierKey"},
		{"upper-case key", func(c *otp.Challenge) { c.IdentifierKey = strings.ToUpper(c.IdentifierKey) }, "identifierKey"},
		{"raw code", func(c *otp.Challenge) { c.CodeHash = "000001" }, "codeHash"},
		{"no request", func(c *otp.Challenge) { c.RequestID = "" }, "requestId"},
		{"kind no code goes to", func(c *otp.Challenge) { c.Kind = identifiers.CustomerID }, "kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := good
			tc.edit(&bad)
			var ve *veil.ValidationError
			if err := e.store.Put(ctx, bad); !errors.As(err, &ve) || ve.Field != tc.wantField {
				t.Fatalf("Put = %v, want a ValidationError on %s", err, tc.wantField)
			}
		})
	}
	if _, err := e.store.Get(ctx, "r1", good.Kind, good.IdentifierKey); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("Get after refused Puts = %v, want nothing stored", err)
	}
}

func TestStoreVerify(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	tests := []struct {
		name     string
		attempts []attempt
	}{
		{"used code refused the second time", []attempt{{code: "314159"}, {code: "314159", want: otp.ErrUsed}}},
		{"expired", []attempt{{code: "314159", at: time.Hour, want: otp.ErrExpired}}},
		{"lockout", []attempt{
			{code: "000001", want: otp.ErrWrong, wantLeft: 4, wantTries: 1},
			{code: "000002", want: otp.ErrWrong, wantLeft: 3, wantTries: 2},
			{code: "abcdef", want: &veil.ValidationError{}, wantTries: 2},
			{code: "000003", want: otp.ErrWrong, wantLeft: 2, wantTries: 3},
			{code: "000004", want: otp.ErrWrong, wantLeft: 1, wantTries: 4},
			{code: "000005", want: otp.ErrLocked, wantTries: 5},
			{code: "314159", want: otp.ErrLocked, wantTries: 5},
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("verify-%d", i)
			c, _ := e.stored(t, ctx, id)
			used := false
			for j, a := range tc.attempts {
				err := e.store.Verify(ctx, codeSecret, id, c.Kind, c.IdentifierKey, a.code, t0.Add(a.at))
				checkErr(t, j, err, a)
				used = used || a.want == nil
				got, err := e.store.Get(ctx, id, c.Kind, c.IdentifierKey)
				if err != nil {
					t.Fatal(err)
				}
				if got.Tries != a.wantTries || got.Used != used || got.Locked != (a.wantTries >= otp.MaxTries) {
					t.Fatalf("attempt %d: stored %+v, want %d tries, used %v", j, got, a.wantTries, used)
				}
			}
		})
	}
	c, _ := e.stored(t, ctx, "verify-missing")
	if err := e.store.Verify(ctx, codeSecret, "verify-other", c.Kind, c.IdentifierKey, "314159", t0); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("Verify of another request = %v, want ErrNotFound", err)
	}
}

// Two wrong codes at once, both read before either writes: both count.
func TestVerifyConcurrentWrongCodesBothCount(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	c, _ := e.stored(t, ctx, "r1")
	g := gate(e.ddb, 2)
	store := &otp.Store{API: g, Table: e.table}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, code := range []string{"000001", "000002"} {
		wg.Go(func() { errs[i] = store.Verify(ctx, codeSecret, "r1", c.Kind, c.IdentifierKey, code, t0) })
	}
	wg.Wait()
	left := map[int]bool{}
	for _, err := range errs {
		var wc *otp.WrongCodeError
		if !errors.As(err, &wc) {
			t.Fatalf("Verify = %v, want a wrong code", err)
		}
		left[wc.TriesLeft] = true
	}
	if !left[4] || !left[3] {
		t.Fatalf("tries left %v, want 4 and 3", left)
	}
	if g.conflicts == 0 {
		t.Fatal("no write lost its condition: the two checks did not start from one version")
	}
	got, err := e.store.Get(ctx, "r1", c.Kind, c.IdentifierKey)
	if err != nil || got.Tries != 2 {
		t.Fatalf("stored %+v, %v; want 2 tries", got, err)
	}
}

// The right code twice at once is accepted once.
func TestVerifyConcurrentRightCodeOnce(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	c, code := e.stored(t, ctx, "r1")
	const n = 4
	g := gate(e.ddb, n)
	store := &otp.Store{API: g, Table: e.table}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = store.Verify(ctx, codeSecret, "r1", c.Kind, c.IdentifierKey, code, t0) })
	}
	wg.Wait()
	accepted := 0
	for _, err := range errs {
		switch {
		case err == nil:
			accepted++
		case !errors.Is(err, otp.ErrUsed):
			t.Fatalf("Verify = %v, want accepted or ErrUsed", err)
		}
	}
	if accepted != 1 {
		t.Fatalf("accepted %d times, want once (errors %v)", accepted, errs)
	}
}

// The stored item holds keys and HMACs only: neither the identifier (raw
// or normalized, in any form) nor the code is in any attribute.
func TestStoredItemHoldsNoRawValue(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	svc, err := otp.NewService(e.store, "US", keySecret, codeSecret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	svc.Now = func() time.Time { return now }
	tests := []struct {
		kind      identifiers.Kind
		raw       string
		forbidden []string
	}{
		{identifiers.Phone, "(212) 555-0147", []string{"5550147", "555-0147", "2125550147"}},
		{identifiers.Email, "Ann.Lee@Example.com", []string{"ann.lee", "Ann.Lee", "example.com", "Example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String(), func(t *testing.T) {
			svc.Rand = draws(918273)
			code, err := svc.Issue(ctx, "r1", tc.kind, tc.raw)
			if err != nil || code != "918273" {
				t.Fatalf("Issue = %q, %v; want 918273", code, err)
			}
			n, err := identifiers.NewNormalizer("US")
			if err != nil {
				t.Fatal(err)
			}
			normalized, err := n.Normalize(tc.kind, tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			key := identifiers.Key(keySecret, tc.kind, normalized)
			out, err := e.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table), ConsistentRead: aws.Bool(true),
				Key: map[string]ddbtypes.AttributeValue{
					"PK": &ddbtypes.AttributeValueMemberS{Value: "REQ#r1"},
					"SK": &ddbtypes.AttributeValueMemberS{Value: "OTP#" + tc.kind.String() + "#" + key}}})
			if err != nil || out.Item == nil {
				t.Fatalf("GetItem = %v, %v; want the challenge at its key", out, err)
			}
			values := strings.Join(flatten(out.Item), "\n")
			for _, f := range append([]string{code, tc.raw, normalized}, tc.forbidden...) {
				if strings.Contains(values, f) {
					t.Fatalf("stored item holds %q:\n%s", f, values)
				}
			}
			ttl, ok := out.Item["expiresAt"].(*ddbtypes.AttributeValueMemberN)
			if want := strconv.FormatInt(now.Add(otp.CodeLifetime+otp.Retention).Unix(), 10); !ok || ttl.Value != want {
				t.Fatalf("expiresAt = %v, want the number %s (a day after the code expires)", out.Item["expiresAt"], want)
			}
		})
	}
}

// flatten returns every string an item holds: attribute names and values,
// nested ones included.
func flatten(m map[string]ddbtypes.AttributeValue) []string {
	var out []string
	for k, v := range m {
		out = append(out, k)
		out = append(out, values(v)...)
	}
	return out
}

func values(v ddbtypes.AttributeValue) []string {
	switch v := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return []string{v.Value}
	case *ddbtypes.AttributeValueMemberN:
		return []string{v.Value}
	case *ddbtypes.AttributeValueMemberB:
		return []string{string(v.Value)}
	case *ddbtypes.AttributeValueMemberSS:
		return v.Value
	case *ddbtypes.AttributeValueMemberNS:
		return v.Value
	case *ddbtypes.AttributeValueMemberL:
		var out []string
		for _, x := range v.Value {
			out = append(out, values(x)...)
		}
		return out
	case *ddbtypes.AttributeValueMemberM:
		return flatten(v.Value)
	}
	return nil
}
