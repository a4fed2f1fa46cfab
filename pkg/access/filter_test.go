package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// TestFilterRecords: filtering keeps the lines keep accepts, each as it
// was written, tagged file and all; filtering again changes nothing; a key
// that is no export's records, or holds none, is refused.
func TestFilterRecords(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	ctx := context.Background()
	files := &access.Files{API: s3.NewFromConfig(s.AWS), Bucket: s.Names["ExportsBucket"]}
	recs := make([]search.Record, 5)
	for i := range recs {
		recs[i] = search.Record{Bucket: "leads", Key: "list.csv", VersionID: "v1", Row: int64(i + 1),
			Fields: map[string]string{"Name": "Row " + string(rune('A'+i))}, MatchedOn: []string{"phone"}}
	}
	key, err := access.PutRecords(ctx, files, "req-1", recs)
	if err != nil {
		t.Fatal(err)
	}
	read := func() []string {
		t.Helper()
		body, err := files.Open(ctx, key)
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
	before := read()
	even := func(r search.Record) bool { return r.Row%2 == 0 }
	for pass := range 2 {
		kept, err := access.FilterRecords(ctx, files, key, even)
		if err != nil || kept != 2 {
			t.Fatalf("pass %d: kept = %d, %v; want 2", pass, kept, err)
		}
		after := read()
		if len(after) != 2 || after[0] != before[1] || after[1] != before[3] {
			t.Fatalf("pass %d: file = %q, want rows 2 and 4 as written", pass, after)
		}
		var rec search.Record
		if err := json.Unmarshal([]byte(after[1]), &rec); err != nil || rec.Row != 4 || rec.Fields["Name"] != "Row D" {
			t.Fatalf("pass %d: last line = %+v, %v; want row 4", pass, rec, err)
		}
	}
	for _, bad := range []string{"exports/req-2/records.jsonl", "exports/req-1/records.csv", "elsewhere/req-1/records.jsonl", "exports//records.jsonl",
		"exports/a/b/records.jsonl"} {
		_, err := access.FilterRecords(ctx, files, bad, even)
		var ve *veil.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("FilterRecords(%s) error = %v, want a validation error", bad, err)
		}
	}
}
