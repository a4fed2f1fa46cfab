// Events published through Publisher must reach the bus as JSON over the
// real EventBridge protocol, and a refusal must name its code, never the
// detail.
package busevents_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/veil-privacy/veil/pkg/busevents"
	"github.com/veil-privacy/veil/pkg/local/outbox"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

// sent returns the stack's outbox messages not yet in seen, and adds
// them to it.
func sent(t *testing.T, s *stack.Stack, seen map[string]bool) []outbox.Message {
	t.Helper()
	all, err := s.Outbox.Messages()
	if err != nil {
		t.Fatal(err)
	}
	var out []outbox.Message
	for _, m := range all {
		if !seen[m.File] {
			seen[m.File] = true
			m.File = ""
			out = append(out, m)
		}
	}
	return out
}

type received struct {
	RequestID string   `json:"requestId"`
	Types     []string `json:"types"`
	Email     string   `json:"email"`
}

func TestPublishOnLocalStack(t *testing.T) {
	opts := stacktest.Options(t)
	s := stacktest.Start(t, opts)
	api := eventbridge.NewFromConfig(s.AWS)
	ctx := context.Background()
	seen := map[string]bool{}

	tests := []struct {
		name       string
		p          *busevents.Publisher
		detailType string
		detail     any
		wantErr    string // the EntryError code; "" for success
		want       []outbox.Message
	}{
		{name: "struct detail", p: &busevents.Publisher{API: api, Bus: "veil-events"}, detailType: "RequestReceived",
			detail: received{RequestID: "r-1", Types: []string{"access"}, Email: "ada@example.com"},
			want:   []outbox.Message{{Channel: "event", To: "veil-events", Subject: "RequestReceived", Body: `{"requestId":"r-1","types":["access"],"email":"ada@example.com"}`}}},
		{name: "map detail on a bus ARN", p: &busevents.Publisher{API: api, Bus: "arn:aws:events:us-east-1:000000000000:event-bus/veil", Source: "veil.erasure"},
			detailType: "ErasureCompleted", detail: map[string]any{"requestId": "r-2", "objects": 3},
			want: []outbox.Message{{Channel: "event", To: "arn:aws:events:us-east-1:000000000000:event-bus/veil", Subject: "ErasureCompleted", Body: `{"objects":3,"requestId":"r-2"}`}}},
		{name: "no bus publishes nothing", p: &busevents.Publisher{API: api}, detailType: "RequestReceived", detail: received{RequestID: "r-3"}},
		{name: "nil publisher publishes nothing", detailType: "RequestReceived", detail: received{RequestID: "r-4"}},
		{name: "detail that is not an object is refused", p: &busevents.Publisher{API: api, Bus: "veil-events"}, detailType: "RequestReceived",
			detail: "ada@example.com", wantErr: "MalformedDetail"},
		{name: "missing detail type is refused", p: &busevents.Publisher{API: api, Bus: "veil-events"},
			detail: received{RequestID: "r-5", Email: "ada@example.com"}, wantErr: "InvalidArgument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Publish(ctx, tc.detailType, tc.detail)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Publish error = %v, want nil", err)
			}
			if tc.wantErr != "" {
				var entryErr *busevents.EntryError
				if !errors.As(err, &entryErr) || entryErr.Code != tc.wantErr {
					t.Fatalf("Publish error = %v, want an EntryError with code %s", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %q, want it to name %s", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "ada@example.com") {
					t.Fatalf("error = %q, want no detail in it", err)
				}
			}
			got := sent(t, s, seen)
			if len(got) != len(tc.want) {
				t.Fatalf("outbox received %d events, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i].SentAt.IsZero() {
					t.Fatalf("event %d sentAt is missing", i)
				}
				got[i].SentAt = tc.want[i].SentAt
				if got[i] != tc.want[i] {
					t.Fatalf("event %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// fakeAPI answers with out and err, recording the input.
type fakeAPI struct {
	in  *eventbridge.PutEventsInput
	out *eventbridge.PutEventsOutput
	err error
}

func (f *fakeAPI) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.in = in
	if f.out == nil {
		return &eventbridge.PutEventsOutput{}, f.err
	}
	return f.out, f.err
}

// TestSource: the entry's source is the Publisher's, else DefaultSource.
func TestSource(t *testing.T) {
	tests := []struct {
		name   string
		source string
		want   string
	}{
		{name: "default", want: "veil.requests"},
		{name: "own", source: "veil.erasure", want: "veil.erasure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeAPI{}
			p := &busevents.Publisher{API: f, Bus: "b", Source: tc.source}
			if err := p.Publish(context.Background(), "T", struct{}{}); err != nil {
				t.Fatalf("Publish error = %v", err)
			}
			if len(f.in.Entries) != 1 {
				t.Fatalf("PutEvents got %d entries, want 1", len(f.in.Entries))
			}
			if got := aws.ToString(f.in.Entries[0].Source); got != tc.want {
				t.Fatalf("Source = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestErrors: the SDK's and the encoder's errors are wrapped, and nothing
// is sent for a detail that does not marshal.
func TestErrors(t *testing.T) {
	sdkErr := errors.New("ThrottlingException: Rate exceeded")
	f := &fakeAPI{err: sdkErr}
	p := &busevents.Publisher{API: f, Bus: "b"}
	if err := p.Publish(context.Background(), "T", struct{}{}); !errors.Is(err, sdkErr) {
		t.Fatalf("Publish error = %v, want the SDK error wrapped", err)
	}

	f = &fakeAPI{}
	p = &busevents.Publisher{API: f, Bus: "b"}
	err := p.Publish(context.Background(), "T", map[string]any{"c": make(chan int)})
	var typeErr *json.UnsupportedTypeError
	if !errors.As(err, &typeErr) {
		t.Fatalf("Publish error = %v, want the json.UnsupportedTypeError wrapped", err)
	}
	if f.in != nil {
		t.Fatalf("PutEvents called with %+v, want no call", f.in)
	}

	f = &fakeAPI{out: &eventbridge.PutEventsOutput{FailedEntryCount: 1}}
	p = &busevents.Publisher{API: f, Bus: "b"}
	var entryErr *busevents.EntryError
	if err := p.Publish(context.Background(), "T", struct{}{}); !errors.As(err, &entryErr) || !reflect.DeepEqual(*entryErr, busevents.EntryError{DetailType: "T", Code: "unknown"}) {
		t.Fatalf("Publish error = %v, want EntryError{T, unknown} when the entry has no code", err)
	}
}
