package requeststore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/veil"
)

func newStore(t *testing.T) *requeststore.Store {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options(t))
	ddb := dynamodb.NewFromConfig(s.AWS)
	table := s.Names["RequestsTable"]
	return &requeststore.Store{API: ddb, Table: table, Audit: &audit.Store{API: ddb, Table: table}}
}

func request(id string, received time.Time) requeststore.Request {
	j, _ := requests.Lookup("CA")
	day := requests.DateOf(received, time.UTC)
	return requeststore.Request{ID: id, Reference: "VR-" + id, Type: requests.Access, Jurisdiction: "CA", Channel: requests.Web,
		Status: requests.Received, Emails: []string{"rosa@example.com"}, Received: received, Due: requests.DueDate(j, requests.Access, day)}
}

var web = requeststore.Actor{Subject: "consumer", Source: "web"}

// TestCreateIsIdempotent: a request is written once; the same idempotency
// key returns the first request, whatever the second one said.
func TestCreateIsIdempotent(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r, created, err := st.Create(ctx, request("r-1", at), "key-1", web)
	if err != nil || !created || r.Version != 1 || r.Due.String() != "2027-01-15" {
		t.Fatalf("Create = %+v, %v, %v; want created, version 1, due 45 days on (2027-01-15)", r, created, err)
	}
	again, created, err := st.Create(ctx, request("r-2", at), "key-1", web)
	if err != nil || created || again.ID != "r-1" {
		t.Fatalf("Create with the same key = %+v, %v, %v; want r-1, not created", again, created, err)
	}
	if _, err := st.Get(ctx, "r-2"); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("Get(r-2) = %v, want not found", err)
	}
	f, err := st.Audit.Verify(ctx, "r-1")
	if err != nil || !f.OK() || f.Events != 1 {
		t.Fatalf("trail of r-1 = %+v, %v; want one whole event", f, err)
	}
}

// TestCreateIdempotentComparesBodies: a client's key returns its request
// to the same body only; another body under it, or the key stored without
// a body (as before bodies were kept), is refused as a conflict and gets
// nothing of the first request.
func TestCreateIdempotentComparesBodies(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if _, created, err := st.CreateIdempotent(ctx, request("r-1", at), "K#1", "hash-a", web); err != nil || !created {
		t.Fatalf("CreateIdempotent = %v, %v; want created", created, err)
	}
	got, created, err := st.CreateIdempotent(ctx, request("r-2", at), "K#1", "hash-b", web)
	if !errors.Is(err, requeststore.ErrKeyReused) || !errors.Is(err, veil.ErrConflict) || got.ID != "" || created {
		t.Fatalf("another body = %+v, %v, %v; want ErrKeyReused and no request", got, created, err)
	}
	if got, created, err = st.CreateIdempotent(ctx, request("r-3", at), "K#1", "hash-a", web); err != nil || created || got.ID != "r-1" {
		t.Fatalf("the same body = %+v, %v, %v; want r-1, not created", got, created, err)
	}
	if _, _, err := st.Create(ctx, request("r-4", at), "K#2", web); err != nil {
		t.Fatal(err)
	}
	if got, _, err = st.CreateIdempotent(ctx, request("r-5", at), "K#2", "hash-a", web); !errors.Is(err, requeststore.ErrKeyReused) || got.ID != "" {
		t.Fatalf("a body against a key stored without one = %+v, %v; want ErrKeyReused", got, err)
	}
}

// TestUpdate: a status change is allowed only along the request's graph,
// concurrent updates all land (each rereads), and each is one audit event
// with the statuses it moved between.
func TestUpdate(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	if _, _, err := st.Create(ctx, request("r-1", time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)), "", web); err != nil {
		t.Fatal(err)
	}
	sup := requeststore.Actor{Subject: "sup-1", Role: "supervisor", Source: "api"}
	if _, err := st.Update(ctx, "r-1", sup, "decided", nil, func(r *requeststore.Request) error {
		r.Status = requests.Completed
		return nil
	}); !errors.Is(err, veil.ErrConflict) {
		t.Fatalf("received → completed = %v, want refused", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.Update(ctx, "r-1", sup, "commented", map[string]string{"n": fmt.Sprint(i)}, func(r *requeststore.Request) error {
				r.Comments += "x"
				return nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	r, err := st.Update(ctx, "r-1", requeststore.Actor{Subject: "system"}, "verification started", nil, func(r *requeststore.Request) error {
		r.Status = requests.Verifying
		return nil
	})
	if err != nil || r.Comments != "xxxxxxxx" || r.Version != 10 || r.Status != requests.Verifying {
		t.Fatalf("after 8 concurrent updates and a move = %+v, %v; want 8 comments, version 10, verifying", r, err)
	}
	events, err := st.Audit.Events(ctx, "r-1")
	if err != nil || len(events) != 10 || events[9].From != "received" || events[9].To != "verifying" {
		t.Fatalf("trail = %d events (%v), want 10, the last received → verifying", len(events), err)
	}
}

// TestQueue: a status's requests come soonest due first, a page at a
// time, and a made-up page token is refused.
func TestQueue(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	for i, day := range []int{5, 1, 3} {
		if _, _, err := st.Create(ctx, request(fmt.Sprintf("r-%d", i), time.Date(2026, 11, day, 9, 0, 0, 0, time.UTC)), "", web); err != nil {
			t.Fatal(err)
		}
	}
	page, next, err := st.Queue(ctx, requests.Received, 2, "")
	if err != nil || len(page) != 2 || page[0].ID != "r-1" || page[1].ID != "r-2" || next == "" {
		t.Fatalf("first page = %v, %q, %v; want r-1, r-2 and a token", ids(page), next, err)
	}
	page, next, err = st.Queue(ctx, requests.Received, 2, next)
	if err != nil || len(page) != 1 || page[0].ID != "r-0" {
		t.Fatalf("second page = %v, %q, %v; want r-0", ids(page), next, err)
	}
	var ve *veil.ValidationError
	if _, _, err := st.Queue(ctx, requests.Received, 2, "bm90IGEgdG9rZW4"); !errors.As(err, &ve) || ve.Field != "nextToken" {
		t.Fatalf("made-up token = %v, want a ValidationError on nextToken", err)
	}
}

func ids(rs []requeststore.Request) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}
