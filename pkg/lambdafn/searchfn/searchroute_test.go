package searchfn

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// fakeSearch is a pure fake of Searcher: it answers one record per
// identifier, naming its kind.
type fakeSearch struct{ err error }

func (f fakeSearch) Search(_ context.Context, ids []search.Identifier) (search.Result, error) {
	if f.err != nil {
		return search.Result{}, f.err
	}
	res := search.Result{Records: []search.Record{}, Coverage: indexing.Coverage{Objects: 1, Unreadable: []indexing.Unreadable{},
		Pending: []indexing.Pending{{Bucket: "veil-leads", Key: "busy.csv"}}, Partial: []indexing.Partial{}}}
	for i, id := range ids {
		res.Records = append(res.Records, search.Record{Bucket: "veil-leads", Key: "k.csv", Row: int64(i + 1),
			MatchedOn: []string{search.KindNames[id.Kind]}, Fields: map[string]string{}})
	}
	return res, nil
}

func TestSearchQuery(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		wantKinds []identifiers.Kind
		wantField string // of the ValidationError, "" for success
	}{
		{name: "one phone", raw: "phone=2125550147", wantKinds: []identifiers.Kind{identifiers.Phone}},
		{name: "repeated and mixed", raw: "phone=1&email=a%40b.c&phone=2&customerId=C-1&accountNumber=44",
			wantKinds: []identifiers.Kind{identifiers.AccountNumber, identifiers.CustomerID, identifiers.Email, identifiers.Phone, identifiers.Phone}},
		{name: "comma inside a value stays one value", raw: "email=a%2Cb%40c.d", wantKinds: []identifiers.Kind{identifiers.Email}},
		{name: "empty", raw: "", wantField: "query"},
		{name: "unknown parameter", raw: "ssn=123", wantField: "ssn"},
		{name: "malformed", raw: "phone=%zz", wantField: "query"},
		{name: "too many", raw: "phone=1&phone=2&phone=3&phone=4&phone=5&phone=6&phone=7&phone=8&phone=9&phone=10&phone=11&phone=12&phone=13&phone=14&phone=15&phone=16&phone=17&phone=18&phone=19&phone=20&phone=21", wantField: "query"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids, err := SearchQuery(tc.raw)
			if tc.wantField != "" {
				var ve *veil.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.wantField {
					t.Fatalf("error = %v, want a ValidationError on %s", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != len(tc.wantKinds) {
				t.Fatalf("got %d identifiers, want %d", len(ids), len(tc.wantKinds))
			}
			for i, id := range ids {
				if id.Kind != tc.wantKinds[i] {
					t.Errorf("ids[%d].Kind = %v, want %v", i, id.Kind, tc.wantKinds[i])
				}
			}
		})
	}
}

func TestSearchRoute(t *testing.T) {
	admin := map[string]string{"sub": "u", "cognito:groups": "[admin]"}
	tests := []struct {
		name       string
		query      string
		searchErr  error
		wantStatus int
		wantRows   int
	}{
		{name: "found", query: "phone=2125550147&email=a%40example.com&reason=list+owner+asked", wantStatus: 200, wantRows: 2},
		{name: "for a request", query: "phone=2125550147&requestId=r-2026-0042", wantStatus: 200, wantRows: 1},
		{name: "no reason", query: "phone=2125550147", wantStatus: 400},
		{name: "blank reason", query: "phone=2125550147&reason=+++", wantStatus: 400},
		{name: "no identifiers", query: "reason=x", wantStatus: 400},
		{name: "invalid value", query: "phone=x&reason=x", searchErr: veil.Invalid("phone[0]", "not a valid phone"), wantStatus: 400},
		{name: "store down", query: "phone=1&reason=x", searchErr: errors.New("dynamodb: throttled"), wantStatus: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newRoutes(fakeSearch{err: tc.searchErr}, fakeSuppression{})
			var ev events.APIGatewayV2HTTPRequest
			_ = json.Unmarshal(withCaller(t, "GET /search", admin), &ev)
			ev.RawQueryString = tc.query
			resp := h.router.Handle(context.Background(), ev)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tc.wantStatus, resp.Body)
			}
			if tc.wantStatus != 200 {
				if tc.wantStatus == 500 && json.Valid([]byte(resp.Body)) && strings.Contains(resp.Body, "throttled") {
					t.Fatalf("a 500 leaks the internal error: %s", resp.Body)
				}
				return
			}
			var body search.Result
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || len(body.Records) != tc.wantRows {
				t.Fatalf("body = %s, want %d records", resp.Body, tc.wantRows)
			}
			if body.Coverage.Objects != 1 || len(body.Coverage.Pending) != 1 || body.Coverage.Pending[0].Key != "busy.csv" {
				t.Fatalf("body = %s, want the search's coverage as it was", resp.Body)
			}
		})
	}
}

// FuzzSearchQuery: a query string is untrusted; it parses or is refused with
// a ValidationError that never repeats a value.
func FuzzSearchQuery(f *testing.F) {
	for _, s := range []string{"phone=1", "email=a%40b.c&phone=2", "x=1", "%", "phone=%zz", "phone=zq-canary"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ids, err := SearchQuery(raw)
		if err != nil {
			var ve *veil.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T, want *veil.ValidationError", err)
			}
			return
		}
		if len(ids) == 0 || len(ids) > httpapi.MaxIdentifiers {
			t.Fatalf("%d identifiers accepted", len(ids))
		}
	})
}
