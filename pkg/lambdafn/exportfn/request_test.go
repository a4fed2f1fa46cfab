package exportfn_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/lambdafn/exportfn"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/tasks"
	"github.com/veil-privacy/veil/pkg/veil"
)

// countingExports is a pure fake of the export: it records its input, and
// how many links it was asked for.
type countingExports struct {
	exportfn.Exporter
	in    access.Input
	links int
}

func (c *countingExports) Export(_ context.Context, in access.Input) (access.Export, error) {
	c.in = in
	return access.Export{ID: in.ID, Status: access.StatusReady, Requester: in.Requester, Records: 2, Coverage: in.Coverage}, nil
}

func (c *countingExports) LinksFor(x access.Export, base string) (access.Links, error) {
	c.links++
	return access.Links{CSV: base + "/exports/" + x.ID + "/records.csv?token=t"}, nil
}

// TestHandleRequest: given the request's ID alone, the task drops the held
// rows a supervisor did not include from the records, exports the rest,
// records the export and its links in the request (for the Complete step,
// which holds no link secret), and answers it without links; run again, it
// changes nothing.
func TestHandleRequest(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	ctx := context.Background()
	ddb := dynamodb.NewFromConfig(s.AWS)
	table := s.Names["RequestsTable"]
	st := &requeststore.Store{API: ddb, Table: table, Audit: &audit.Store{API: ddb, Table: table}}
	files := &access.Files{API: s3.NewFromConfig(s.AWS), Bucket: s.Names["ExportsBucket"]}

	var in tasks.ExportInput
	lambdafntest.Decode(t, "export/sfn-request-task.json", &in)
	recs := make([]search.Record, 4)
	for i := range recs {
		recs[i] = search.Record{Bucket: "leads", Key: "list.csv", VersionID: "v1", Row: int64(i + 1), Fields: map[string]string{}}
	}
	key, err := access.PutRecords(ctx, files, in.RequestID, recs)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	yes, no := true, false
	cov := indexing.Coverage{Objects: 7}
	r := requeststore.Request{ID: in.RequestID, Reference: "VR-1", Type: requests.Access, Jurisdiction: "CA", Channel: requests.Web,
		Status: requests.Received, Received: at, Result: &requeststore.Result{RecordsKey: key, Records: 1, Complete: true, Coverage: &cov,
			Review: []requeststore.Held{
				{Ref: recs[1].Ref(), Key: "list.csv", Row: 2, Reason: "different_name"},            // not reviewed
				{Ref: recs[2].Ref(), Key: "list.csv", Row: 3, Reason: "placeholder", Include: &no}, // excluded
				{Ref: recs[3].Ref(), Key: "list.csv", Row: 4, Reason: "different_name", Include: &yes},
			}}}
	if _, _, err := st.Create(ctx, r, "", requeststore.Actor{Subject: "consumer", Source: "web"}); err != nil {
		t.Fatal(err)
	}
	fake := &countingExports{}
	h := exportfn.New(fake, "https://privacy.example.com", files, st)
	for run := range 2 {
		out, err := h.Task(ctx, in)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if fake.in.ID != in.RequestID || fake.in.RecordsKey != key || fake.in.Requester != "workflow" || fake.in.Jurisdiction != "CA" ||
			!fake.in.Received.Equal(at) || fake.in.Coverage.Objects != 7 || len(fake.in.Identifiers) != 0 {
			t.Fatalf("run %d: exported %+v, want the request's records, coverage, jurisdiction and receipt", run, fake.in)
		}
		b, _ := json.Marshal(out)
		if !strings.Contains(string(b), `"exportId":"`+in.RequestID+`"`) || strings.Contains(string(b), "links") || strings.Contains(string(b), "token") {
			t.Fatalf("run %d: output JSON = %s, want the export ID and no links", run, b)
		}
		body, err := files.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(body)
		body.Close()
		var rows []int64
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			var rec search.Record
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, rec.Row)
		}
		if len(rows) != 2 || rows[0] != 1 || rows[1] != 4 {
			t.Fatalf("run %d: rows left = %v, want 1 and the included 4", run, rows)
		}
		got, err := st.Get(ctx, in.RequestID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Result.ExportID != in.RequestID || got.Result.RecordsKey != key || len(got.Result.Review) != 3 {
			t.Fatalf("run %d: result = %+v, want the export recorded, the rest kept", run, got.Result)
		}
		if l := got.Result.Links; l == nil || len(l.URLs) == 0 || l.URLs[0] != "https://privacy.example.com/exports/"+in.RequestID+"/records.csv?token=t" {
			t.Fatalf("run %d: links recorded = %+v, want the export's links under the public URL", run, l)
		}
		if b, _ := json.Marshal(got); strings.Contains(string(b), "token=") {
			t.Fatalf("run %d: the request as staff read it shows its links: %s", run, b)
		}
	}

	// A request with no search result is refused, unwrapped.
	if _, _, err := st.Create(ctx, requeststore.Request{ID: "r-2", Type: requests.Access, Status: requests.Received, Received: at}, "",
		requeststore.Actor{Subject: "consumer"}); err != nil {
		t.Fatal(err)
	}
	_, err = h.Task(ctx, tasks.ExportInput{RequestID: "r-2"})
	if ve, ok := err.(*veil.ValidationError); !ok || ve.Field != "result" {
		t.Fatalf("no result: error = %#v, want *veil.ValidationError on result", err)
	}
}
