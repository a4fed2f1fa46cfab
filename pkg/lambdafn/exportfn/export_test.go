package exportfn

import (
	"context"
	"errors"
	"testing"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/tasks"
	"github.com/veil-privacy/veil/pkg/veil"
)

// recordingExports is a pure fake of Exporter: it records its input.
type recordingExports struct {
	Exporter
	in access.Input
}

func (r *recordingExports) Export(_ context.Context, in access.Input) (access.Export, error) {
	r.in = in
	return access.Export{ID: in.ID, Records: 1, Coverage: in.Coverage}, nil
}

func (r *recordingExports) LinksFor(x access.Export, base string) (access.Links, error) {
	return access.Links{CSV: base + "/exports/" + x.ID + "/records.csv?token=t"}, nil
}

func TestHandleSampleEvent(t *testing.T) {
	var in tasks.ExportInput
	lambdafntest.Decode(t, "export/sfn-export-task.json", &in)
	rec := &recordingExports{}
	out, err := New(rec, "https://privacy.example.com", nil, nil).Task(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if rec.in.ID != in.RequestID || rec.in.RecordsKey != in.RecordsKey || rec.in.Coverage.Objects != 12 || len(rec.in.Identifiers) != 0 {
		t.Fatalf("exported %+v, want the request's records key and coverage", rec.in)
	}
	if out.Links.CSV != "https://privacy.example.com/exports/"+in.RequestID+"/records.csv?token=t" {
		t.Fatalf("links = %+v, want them under PUBLIC_API_URL", out.Links)
	}
}

func TestHandleSearchesIdentifiers(t *testing.T) {
	rec := &recordingExports{}
	_, err := New(rec, "", nil, nil).Task(context.Background(), tasks.ExportInput{RequestID: "r-1", Identifiers: []tasks.Identifier{{Kind: "email", Value: "a@example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.in.Identifiers) != 1 || rec.in.Identifiers[0].Kind != identifiers.Email || rec.in.RecordsKey != "" {
		t.Fatalf("exported %+v, want the email searched for", rec.in)
	}
	for _, in := range []tasks.ExportInput{{}, {RequestID: "r-1"}, {RequestID: "r-1", Identifiers: []tasks.Identifier{{Kind: "ssn", Value: "1"}}}} {
		_, err := New(rec, "", nil, nil).Task(context.Background(), in)
		var ve *veil.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("Handle(%+v) error = %v, want a validation error", in, err)
		}
	}
}
