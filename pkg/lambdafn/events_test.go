package lambdafn_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/lambdafn/indexfn"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/tasks"
)

// typeOf returns a new value of the Go type an events/ fixture stands for,
// chosen by folder and file name.
func typeOf(path string) any {
	switch dir, name := filepath.Split(path); {
	case strings.HasPrefix(name, "s3-") && strings.Contains(name, "via-sqs"), strings.HasPrefix(name, "sqs-"):
		return &events.SQSEvent{}
	case strings.HasPrefix(name, "apigw-"):
		return &events.APIGatewayV2HTTPRequest{}
	case strings.HasPrefix(name, "connect-"):
		return &events.ConnectEvent{}
	case strings.HasPrefix(name, "schedule-"):
		return &events.EventBridgeEvent{}
	case dir == "index/" && strings.HasPrefix(name, "backfill-"):
		return &indexfn.BackfillEvent{}
	case dir == "index/" && strings.HasPrefix(name, "distributed-map-"):
		return &indexfn.MapBatch{}
	case dir == "intake/" && strings.HasPrefix(name, "sfn-step-"):
		return &tasks.StepInput{}
	case dir == "pseudonymize/" && strings.HasPrefix(name, "sfn-opt-out-"):
		return &tasks.OptOutInput{}
	case dir == "search/":
		return &tasks.SearchInput{}
	case dir == "export/":
		return &tasks.ExportInput{}
	case dir == "pseudonymize/":
		return &tasks.PseudonymizeInput{}
	}
	return nil
}

// TestEventsRoundTrip decodes every fixture into its Go type and encodes it
// back: no field of the fixture may be lost or changed, so a fixture cannot
// hold something the handler never sees.
func TestEventsRoundTrip(t *testing.T) {
	root := filepath.Join(lambdafntest.Root(t), "events")
	var n int
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		n++
		t.Run(rel, func(t *testing.T) {
			v := typeOf(filepath.ToSlash(rel))
			if v == nil {
				t.Fatalf("no Go type known for %s: name it s3-*-via-sqs, apigw-*, connect-*, schedule-* or sfn-step-* under intake/, or put it under search/, export/, pseudonymize/", rel)
			}
			raw := lambdafntest.Event(t, rel)
			if err := json.Unmarshal(raw, v); err != nil {
				t.Fatalf("decode: %v", err)
			}
			back, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			_ = json.Unmarshal(raw, &want)
			_ = json.Unmarshal(back, &got)
			if missing := lost(want, got, "$"); missing != "" {
				t.Fatalf("round trip lost or changed %s", missing)
			}
			if sqs, ok := v.(*events.SQSEvent); ok {
				for _, r := range sqs.Records {
					var s3 events.S3Event
					var probe map[string]any
					if err := json.Unmarshal([]byte(r.Body), &probe); err != nil {
						t.Fatalf("SQS body is not JSON: %v", err)
					}
					if _, test := probe["Event"]; test {
						continue
					}
					// An asynchronous invocation's on-failure record
					// (Lambda's documented destination shape).
					if ctx, ok := probe["requestContext"].(map[string]any); ok {
						if ctx["condition"] == nil || probe["requestPayload"] == nil || probe["responsePayload"] == nil {
							t.Fatalf("SQS body is a destination record without condition, requestPayload or responsePayload: %v", probe)
						}
						continue
					}
					if err := json.Unmarshal([]byte(r.Body), &s3); err != nil || len(s3.Records) == 0 {
						t.Fatalf("SQS body is not an S3 event: %v", err)
					}
				}
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no sample events found")
	}
}

// lost returns the first path whose value in want is absent from or
// different in got; nulls in want count as absent.
func lost(want, got any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		for k, wv := range w {
			if wv == nil {
				continue
			}
			if s := lost(wv, g[k], path+"."+k); s != "" {
				return s
			}
		}
		return ""
	case []any:
		g, _ := got.([]any)
		if len(g) != len(w) {
			return path
		}
		for i := range w {
			if s := lost(w[i], g[i], path); s != "" {
				return s
			}
		}
		return ""
	default:
		if !reflect.DeepEqual(want, got) {
			return path
		}
		return ""
	}
}
