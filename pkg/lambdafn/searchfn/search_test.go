package searchfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/tasks"
	"github.com/veil-privacy/veil/pkg/veil"
)

// recordingSearch is a pure fake: it records the identifiers it is given.
type recordingSearch struct{ got []search.Identifier }

func (r *recordingSearch) Search(_ context.Context, ids []search.Identifier) (search.Result, error) {
	r.got = ids
	return search.Result{Records: []search.Record{{Key: "k", Row: 1}}, Coverage: indexing.Coverage{Objects: 2,
		Unreadable: []indexing.Unreadable{{Bucket: "b", Key: "bad.bin", VersionID: "v", Reason: "binary"}},
		Pending:    []indexing.Pending{}, Partial: []indexing.Partial{}}}, nil
}

// memFiles is a pure fake of the exports bucket: what was put, by key.
type memFiles struct {
	access.FileStore
	put map[string]string
}

func (m *memFiles) Put(_ context.Context, key, _, _ string, body io.Reader, size int64) error {
	b, err := io.ReadAll(body)
	if err != nil || int64(len(b)) != size {
		return fmt.Errorf("put %s: %d bytes of %d: %v", key, len(b), size, err)
	}
	m.put[key] = string(b)
	return nil
}

func TestHandleSampleEvent(t *testing.T) {
	var in tasks.SearchInput
	lambdafntest.Decode(t, "search/sfn-search-task.json", &in)
	rec := &recordingSearch{}
	files := &memFiles{put: map[string]string{}}
	out, err := New(rec, files, nil).Task(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if out.RequestID != in.RequestID || out.Records != 1 || out.RecordsKey != "exports/"+in.RequestID+"/records.jsonl" {
		t.Fatalf("output = %+v, want the request ID, one record and its pointer", out)
	}
	// The records are in the bucket, a line each, not in the state.
	if got := files.put[out.RecordsKey]; !strings.HasPrefix(got, `{"bucket":"","key":"k",`) || strings.Count(got, "\n") != 1 {
		t.Fatalf("records written = %q, want one JSON line of the record", got)
	}
	// The workflow's state carries the coverage beside the pointer.
	b, _ := json.Marshal(out)
	if want := `"coverage":{"objects":2,"unreadable":[{"bucket":"b","key":"bad.bin","versionId":"v","reason":"binary"}],"pending":[],"partial":[]}`; !strings.Contains(string(b), want) {
		t.Fatalf("output JSON = %s, want it to hold %s", b, want)
	}
	if strings.Contains(string(b), `"fields"`) {
		t.Fatalf("output JSON = %s, want no record in it", b)
	}
	if len(rec.got) != 2 || rec.got[0].Kind != identifiers.Phone || rec.got[1].Kind != identifiers.Email || rec.got[1].Field != "identifiers[1].value" {
		t.Fatalf("searched %+v, want phone then email with their fields", rec.got)
	}
}

func TestHandleRejects(t *testing.T) {
	tests := []struct {
		name  string
		in    tasks.SearchInput
		field string
	}{
		{"no request", tasks.SearchInput{Identifiers: []tasks.Identifier{{Kind: "phone", Value: "1"}}}, "requestId"},
		{"no identifiers", tasks.SearchInput{RequestID: "r"}, "identifiers"},
		{"unknown kind", tasks.SearchInput{RequestID: "r", Identifiers: []tasks.Identifier{{Kind: "ssn", Value: "1"}}}, "identifiers[0].kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(&recordingSearch{}, &memFiles{put: map[string]string{}}, nil).Task(context.Background(), tc.in)
			// Unwrapped, so Step Functions sees errorType ValidationError.
			ve, ok := err.(*veil.ValidationError)
			if !ok || ve.Field != tc.field {
				t.Fatalf("error = %#v, want *veil.ValidationError on %s", err, tc.field)
			}
			if !errors.As(err, &ve) {
				t.Fatal("not a ValidationError")
			}
		})
	}
}
