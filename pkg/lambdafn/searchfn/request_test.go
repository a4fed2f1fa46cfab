package searchfn_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	lsearch "github.com/veil-privacy/veil/pkg/lambdafn/searchfn"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/tasks"
	"github.com/veil-privacy/veil/pkg/veil"
)

// fixedSearch is a pure fake of the search: it answers result and records
// the identifiers it was asked for.
type fixedSearch struct {
	result search.Result
	got    []search.Identifier
}

func (f *fixedSearch) Search(_ context.Context, ids []search.Identifier) (search.Result, error) {
	f.got = ids
	return f.result, nil
}

// env starts a local stack and returns its Requests table and exports
// bucket.
func env(t *testing.T) (*requeststore.Store, *access.Files) {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options(t))
	ddb := dynamodb.NewFromConfig(s.AWS)
	table := s.Names["RequestsTable"]
	return &requeststore.Store{API: ddb, Table: table, Audit: &audit.Store{API: ddb, Table: table}},
		&access.Files{API: s3.NewFromConfig(s.AWS), Bucket: s.Names["ExportsBucket"]}
}

// create records an access request by Dana Whitfield, who proved proofs.
func create(t *testing.T, st *requeststore.Store, id string, proofs ...requests.Proof) {
	t.Helper()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	j, err := requests.Lookup("CA")
	if err != nil {
		t.Fatal(err)
	}
	r := requeststore.Request{ID: id, Reference: "VR-1", Type: requests.Access, Jurisdiction: "CA", Channel: requests.Web,
		Status: requests.Received, Name: "Dana Whitfield", Phones: []string{"(212) 555-0147", "(212) 555-0100"}, Received: at,
		Due: requests.DueDate(j, requests.Access, requests.DateOf(at, time.UTC)), Proofs: proofs}
	if _, _, err := st.Create(context.Background(), r, "", requeststore.Actor{Subject: "consumer", Source: "web"}); err != nil {
		t.Fatal(err)
	}
}

var phone = requests.Proof{Kind: identifiers.Phone, Value: "+12125550147", Method: requests.ByCode}

func lines(t *testing.T, files *access.Files, key string) []string {
	t.Helper()
	body, err := files.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestHandleRequest: given the request's ID alone, the task searches only
// what the requester proved, writes every record (held ones too) to the
// records file, records the rows to review in the request, and answers
// counts, never a row; run again, it writes the same result.
func TestHandleRequest(t *testing.T) {
	st, files := env(t)
	ctx := context.Background()
	var in tasks.SearchInput
	lambdafntest.Decode(t, "search/sfn-request-task.json", &in)
	create(t, st, in.RequestID, phone)
	rec := func(row int64, name string) search.Record {
		return search.Record{Bucket: "leads", Key: "campaigns/spring/list.csv", VersionID: "v1", Row: row,
			Fields: map[string]string{"Phone": "(212) 555-0147"}, MatchedOn: []string{"phone"}}.WithName(name)
	}
	placeholder := rec(3, "Dana Whitfield")
	placeholder.PlaceholderOnly = true
	cov := indexing.Coverage{Objects: 3, Pending: []indexing.Pending{{Bucket: "leads", Key: "campaigns/new.csv"}}}
	fake := &fixedSearch{result: search.Result{Records: []search.Record{
		rec(1, "Dana Whitfield"), rec(2, "WHITFIELD, dana"), placeholder, rec(4, "Pat Doe"), rec(5, ""),
	}, Coverage: cov}}
	h := lsearch.New(fake, files, st)

	out, err := h.Task(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(fake.got) != 1 || fake.got[0] != (search.Identifier{Field: "proofs[0]", Kind: identifiers.Phone, Value: "+12125550147"}) {
		t.Fatalf("searched %+v, want the proven phone alone", fake.got)
	}
	if out.Records != 3 || out.Held != 2 || out.RequestID != in.RequestID || out.RecordsKey != "exports/"+in.RequestID+"/records.jsonl" {
		t.Fatalf("output = %+v, want 3 records, 2 held, and the records' key", out)
	}
	b, _ := json.Marshal(out)
	for _, leak := range []string{"555", "Whitfield", "fields"} {
		if strings.Contains(string(b), leak) {
			t.Fatalf("output JSON = %s, want no %q in it", b, leak)
		}
	}
	if got := lines(t, files, out.RecordsKey); len(got) != 5 {
		t.Fatalf("records file = %d lines, want all 5 records", len(got))
	}
	want := []requeststore.Held{
		{Ref: placeholder.Ref(), Key: placeholder.Key, Row: 3, Reason: lsearch.HeldPlaceholder},
		{Ref: rec(4, "").Ref(), Key: placeholder.Key, Row: 4, Reason: lsearch.HeldDifferentName},
	}
	check := func(wantJob string) {
		t.Helper()
		r, err := st.Get(ctx, in.RequestID)
		if err != nil {
			t.Fatal(err)
		}
		res := r.Result
		if res == nil || res.RecordsKey != out.RecordsKey || res.Records != 3 || res.Complete || res.Coverage == nil || res.Coverage.Objects != 3 || res.JobID != wantJob {
			t.Fatalf("result = %+v, want the key, 3 records, incomplete coverage of 3 lists, job %q", res, wantJob)
		}
		if len(res.Review) != len(want) {
			t.Fatalf("review = %+v, want %+v", res.Review, want)
		}
		for i := range want {
			if g := res.Review[i]; g.Ref != want[i].Ref || g.Key != want[i].Key || g.Row != want[i].Row || g.Reason != want[i].Reason || g.Include != nil {
				t.Fatalf("review[%d] = %+v, want %+v", i, g, want[i])
			}
		}
	}
	check("")

	// A retry finds a job recorded meanwhile and keeps it.
	if _, err := st.Update(ctx, in.RequestID, lambdafn.Workflow, "test", nil, func(r *requeststore.Request) error {
		r.Result.JobID = "job-1"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	again, err := h.Task(ctx, in)
	if err != nil || !reflect.DeepEqual(again, out) {
		t.Fatalf("again = %+v, %v; want %+v", again, err, out)
	}
	check("job-1")
}

// TestHandleRequestRejects: a request with nothing proven is a
// *veil.ValidationError, unwrapped; an unknown request is not found.
func TestHandleRequestRejects(t *testing.T) {
	st, files := env(t)
	ctx := context.Background()
	create(t, st, "r-unproven")
	h := lsearch.New(&fixedSearch{}, files, st)
	_, err := h.Task(ctx, tasks.SearchInput{RequestID: "r-unproven"})
	if ve, ok := err.(*veil.ValidationError); !ok || ve.Field != "proofs" {
		t.Fatalf("error = %#v, want *veil.ValidationError on proofs", err)
	}
	if _, err := h.Task(ctx, tasks.SearchInput{RequestID: "r-unknown"}); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("unknown request: error = %v, want not found", err)
	}
}
