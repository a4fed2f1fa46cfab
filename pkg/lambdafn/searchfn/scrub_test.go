package searchfn

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/veil"
)

// fakeScrub holds one indexed list, campaigns/a/list.csv at v2, scrubbed,
// and campaigns/a/new.csv at v3, indexed but whose report is v2's.
type fakeScrub struct{}

func (fakeScrub) Manifest(_ context.Context, bucket, key string) (indexing.Manifest, error) {
	switch key {
	case "campaigns/a/list.csv":
		return indexing.Manifest{Bucket: bucket, Key: key, VersionID: "v2", Status: indexing.StatusIndexed}, nil
	case "campaigns/a/new.csv":
		return indexing.Manifest{Bucket: bucket, Key: key, VersionID: "v3", Status: indexing.StatusIndexed}, nil
	}
	return indexing.Manifest{}, fmt.Errorf("%s: %w", key, veil.ErrNotFound)
}

func (fakeScrub) Report(_ context.Context, bucket, key string) (suppression.Report, error) {
	r := suppression.Report{Bucket: bucket, Key: key, VersionID: "v2", Checked: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Rows: []suppression.ReportRow{{Row: 3, Actions: []suppression.Action{suppression.DoNotContact}, Origins: []string{"import:dnc.csv"}}}}
	r.Sort()
	return r, nil
}

// TestScrubRoute: a list's report answers with the rows to skip when it
// is the current version's, pending otherwise; an unknown list or a path
// not ending in /scrub is 404.
func TestScrubRoute(t *testing.T) {
	h := newRoutes(fakeSearch{}, fakeSuppression{})
	claims := map[string]string{"sub": "u-agent", "cognito:groups": "[agent]"}
	get := func(path string) (int, ScrubAnswer) {
		t.Helper()
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(withCaller(t, "GET /lists/{key+}", claims), &ev); err != nil {
			t.Fatal(err)
		}
		ev.PathParameters = map[string]string{"key": path}
		raw, _ := json.Marshal(ev)
		out, err := h.Handle(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		resp := out.(events.APIGatewayV2HTTPResponse)
		var a ScrubAnswer
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, a
	}
	if code, a := get("campaigns/a/list.csv/scrub"); code != 200 || a.Status != ScrubChecked || a.VersionID != "v2" ||
		len(a.Rows) != 1 || a.Rows[0].Row != 3 || a.DoNotContact != 1 {
		t.Fatalf("scrub of the checked list = %d %+v, want row 3 do-not-contact", code, a)
	}
	if code, a := get("campaigns/a/new.csv/scrub"); code != 200 || a.Status != ScrubPending || len(a.Rows) != 0 || a.VersionID != "v3" {
		t.Fatalf("scrub of a list not checked yet = %d %+v, want pending without rows", code, a)
	}
	for _, path := range []string{"campaigns/a/gone.csv/scrub", "campaigns/a/list.csv", "campaigns/a/list.csv/scrub/x"} {
		if code, _ := get(path); code != http.StatusNotFound {
			t.Fatalf("GET /lists/%s = %d, want 404", path, code)
		}
	}
}
