package ratelimit_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/ratelimit"
	"github.com/veil-privacy/veil/pkg/veil"
)

const addr = "203.0.113.77"

// table starts the local stack and returns its DynamoDB client and the
// Requests table, which holds the counters.
func table(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options(t))
	return dynamodb.NewFromConfig(s.AWS), s.Names["RequestsTable"]
}

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func allow(t *testing.T, l *ratelimit.Limiter, key string) ratelimit.Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key)
	if err != nil {
		t.Fatalf("Allow: %v", err)
	}
	return d
}

// TestLimiter runs every sequential case on one stack: they use distinct
// keys or windows, so they do not see each other's counts.
func TestLimiter(t *testing.T) {
	ddb, tbl := table(t)
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) // a window boundary
	c := &clock{t: start.Add(20 * time.Second)}
	l := &ratelimit.Limiter{API: ddb, Table: tbl, Limit: 3, Window: time.Minute, Now: c.Now}

	t.Run("limit then refuse", func(t *testing.T) {
		for i := range 3 {
			if d := allow(t, l, addr); !d.Allowed || d.Remaining != 2-i || d.RetryAfter != 0 {
				t.Fatalf("call %d = %+v, want allowed, %d remaining", i+1, d, 2-i)
			}
		}
		d := allow(t, l, addr)
		if d.Allowed || d.Remaining != 0 {
			t.Fatalf("call 4 = %+v, want refused, none remaining", d)
		}
		if d.RetryAfter != 40*time.Second || d.RetryAfter > l.Window {
			t.Fatalf("RetryAfter = %v, want 40s (the rest of the window)", d.RetryAfter)
		}
		c.Set(start.Add(59 * time.Second))
		if d := allow(t, l, addr); d.Allowed || d.RetryAfter != time.Second {
			t.Fatalf("call 5 at 59s = %+v, want refused, retry after 1s", d)
		}
	})

	t.Run("a new window allows again", func(t *testing.T) {
		c.Set(start.Add(time.Minute))
		if d := allow(t, l, addr); !d.Allowed || d.Remaining != 2 {
			t.Fatalf("first call of the next window = %+v, want allowed, 2 remaining", d)
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		c.Set(start.Add(30 * time.Second))
		if d := allow(t, l, addr); d.Allowed {
			t.Fatalf("%s again in the first window = %+v, want refused", addr, d)
		}
		for _, other := range []string{"203.0.113.78", "2001:db8::77"} {
			if d := allow(t, l, other); !d.Allowed || d.Remaining != 2 {
				t.Fatalf("first call by another key = %+v, want allowed, 2 remaining", d)
			}
		}
	})

	t.Run("the table holds a hash, a window and a TTL", func(t *testing.T) {
		sum := sha256.Sum256([]byte(addr))
		pk := "RATE#" + hex.EncodeToString(sum[:])[:32]
		sk := fmt.Sprintf("W#%d", start.Unix())
		out, err := ddb.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(tbl), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}})
		if err != nil || out.Item == nil {
			t.Fatalf("GetItem(%s, %s) = %v, %v; want the window's counter", pk, sk, out, err)
		}
		hits, _ := out.Item["hits"].(*types.AttributeValueMemberN)
		exp, _ := out.Item["expiresAt"].(*types.AttributeValueMemberN)
		if hits == nil || hits.Value != "6" {
			t.Fatalf("hits = %v, want 6 (every call counts, refused ones too)", out.Item["hits"])
		}
		if want := fmt.Sprint(start.Add(time.Minute + time.Hour).Unix()); exp == nil || exp.Value != want {
			t.Fatalf("expiresAt = %v, want %s (window end + 1h)", out.Item["expiresAt"], want)
		}
		// A scan is fine in a test: no attribute of any item holds an address.
		scan, err := ddb.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(tbl)})
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range scan.Items {
			for name, v := range item {
				if s := fmt.Sprint(v); strings.Contains(s, "203.0.113") || strings.Contains(s, "2001:db8") {
					t.Fatalf("item attribute %s holds an address: %s", name, s)
				}
			}
		}
	})
}

// pausing holds every UpdateItem until n of them are waiting, so that the
// calls reach DynamoDB together rather than in goroutine start order.
type pausing struct {
	ratelimit.API
	n       int
	mu      sync.Mutex
	waiting int
	release chan struct{}
}

func (p *pausing) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	p.mu.Lock()
	p.waiting++
	if p.waiting == p.n {
		close(p.release)
	}
	p.mu.Unlock()
	select {
	case <-p.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return p.API.UpdateItem(ctx, in, opts...)
}

// TestLimiterConcurrent: 20 callers at once with a limit of 5: exactly 5
// are allowed, whatever order DynamoDB applies the updates in.
func TestLimiterConcurrent(t *testing.T) {
	ddb, tbl := table(t)
	const callers, limit = 20, 5
	api := &pausing{API: ddb, n: callers, release: make(chan struct{})}
	now := func() time.Time { return time.Date(2026, 12, 1, 10, 0, 30, 0, time.UTC) }
	l := &ratelimit.Limiter{API: api, Table: tbl, Limit: limit, Window: time.Minute, Now: now}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	decisions := make(chan ratelimit.Decision, callers)
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			d, err := l.Allow(ctx, addr)
			if err != nil {
				errs <- err
				return
			}
			decisions <- d
		})
	}
	wg.Wait()
	close(decisions)
	close(errs)
	for err := range errs {
		t.Fatalf("Allow: %v", err)
	}
	allowed, remaining := 0, map[int]bool{}
	for d := range decisions {
		if d.Allowed {
			allowed++
			remaining[d.Remaining] = true
		} else if d.RetryAfter != 30*time.Second {
			t.Fatalf("refused with RetryAfter = %v, want 30s", d.RetryAfter)
		}
	}
	if allowed != limit || len(remaining) != limit {
		t.Fatalf("allowed = %d with %d distinct Remaining, want %d and %d", allowed, len(remaining), limit, limit)
	}
}

// failing is an API whose every call fails.
type failing struct{}

func (failing) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errors.New("throttled")
}

// TestLimiterErrors: misconfiguration is a *veil.ValidationError, and a
// failed update is returned without the address in it. Pure logic: no
// stack.
func TestLimiterErrors(t *testing.T) {
	cases := []struct {
		name  string
		l     ratelimit.Limiter
		field string
	}{
		{"no limit", ratelimit.Limiter{API: failing{}, Table: "t", Window: time.Minute}, "Limit"},
		{"no window", ratelimit.Limiter{API: failing{}, Table: "t", Limit: 1}, "Window"},
		{"fractional window", ratelimit.Limiter{API: failing{}, Table: "t", Limit: 1, Window: 1500 * time.Millisecond}, "Window"},
		{"no table", ratelimit.Limiter{API: failing{}, Limit: 1, Window: time.Minute}, "Table"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.l.Allow(context.Background(), addr)
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("Allow = %v, want a *veil.ValidationError for %s", err, tc.field)
			}
		})
	}
	l := ratelimit.Limiter{API: failing{}, Table: "t", Limit: 1, Window: time.Minute}
	d, err := l.Allow(context.Background(), addr)
	if err == nil || d.Allowed || !strings.Contains(err.Error(), "throttled") || strings.Contains(err.Error(), addr) {
		t.Fatalf("Allow = %+v, %v; want the update's error, without the address", d, err)
	}
}

// recording answers every UpdateItem and keeps the last key written.
type recording struct{ pk string }

func (r *recording) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.pk = in.Key["PK"].(*types.AttributeValueMemberS).Value
	return &dynamodb.UpdateItemOutput{Attributes: map[string]types.AttributeValue{"hits": &types.AttributeValueMemberN{Value: "1"}}}, nil
}

// TestLimiterSecret: with a secret the table holds the address's HMAC,
// which trying every address does not undo without the secret.
func TestLimiterSecret(t *testing.T) {
	plain := sha256.Sum256([]byte(addr))
	m := hmac.New(sha256.New, []byte("deployment secret"))
	m.Write([]byte(addr))
	for _, tc := range []struct {
		name   string
		secret []byte
		want   string
	}{
		{"no secret", nil, "RATE#" + hex.EncodeToString(plain[:16])},
		{"secret", []byte("deployment secret"), "RATE#" + hex.EncodeToString(m.Sum(nil)[:16])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &recording{}
			l := &ratelimit.Limiter{API: api, Table: "veil-requests", Limit: 1, Window: time.Minute, Secret: tc.secret}
			if _, err := l.Allow(context.Background(), addr); err != nil {
				t.Fatal(err)
			}
			if api.pk != tc.want {
				t.Fatalf("PK = %s, want %s", api.pk, tc.want)
			}
		})
	}
}
