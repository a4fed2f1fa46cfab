// Email, SMS and events sent through the SDK clients must land in the outbox
// as one readable file each.
package outbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

var cfg = aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "SECRETLOCAL", "")}

// messages reads every file of the outbox, in name order.
func messages(t *testing.T, dir string) []Message {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var out []Message
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		var m Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if m.SentAt.IsZero() {
			t.Fatalf("%s: sentAt missing", n)
		}
		if !strings.Contains(filepath.Base(n), "-"+m.Channel+"-") {
			t.Fatalf("file name %s does not name channel %s", filepath.Base(n), m.Channel)
		}
		m.SentAt = m.SentAt.UTC().Truncate(0)
		out = append(out, m)
	}
	return out
}

func TestSESSendEmail(t *testing.T) {
	tests := []struct {
		name    string
		to      []string
		subject string
		body    *types.Body
		want    Message
	}{
		{name: "text", to: []string{"ada@example.com"}, subject: "Your request", body: &types.Body{Text: &types.Content{Data: aws.String("We received it.")}},
			want: Message{Channel: "email", To: "ada@example.com", Subject: "Your request", Body: "We received it."}},
		{name: "html only", to: []string{"a@example.com", "b@example.com"}, subject: "S", body: &types.Body{Html: &types.Content{Data: aws.String("<p>hi</p>")}},
			want: Message{Channel: "email", To: "a@example.com,b@example.com", Subject: "S", Body: "<p>hi</p>"}},
		{name: "text wins over html", to: []string{"c@example.com"}, subject: "S", body: &types.Body{Text: &types.Content{Data: aws.String("plain")}, Html: &types.Content{Data: aws.String("<b>rich</b>")}},
			want: Message{Channel: "email", To: "c@example.com", Subject: "S", Body: "plain"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "outbox")
			srv := httptest.NewServer(Outbox{Dir: dir}.SES())
			defer srv.Close()
			c := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(srv.URL) })
			out, err := c.SendEmail(context.Background(), &sesv2.SendEmailInput{
				FromEmailAddress: aws.String("privacy@example.com"),
				Destination:      &types.Destination{ToAddresses: tc.to},
				Content:          &types.EmailContent{Simple: &types.Message{Subject: &types.Content{Data: aws.String(tc.subject)}, Body: tc.body}},
			})
			if err != nil {
				t.Fatalf("SendEmail error = %v", err)
			}
			if aws.ToString(out.MessageId) == "" {
				t.Fatalf("MessageId is empty")
			}
			got := messages(t, dir)
			if len(got) != 1 {
				t.Fatalf("outbox holds %d messages, want 1", len(got))
			}
			got[0].SentAt = tc.want.SentAt
			if got[0] != tc.want {
				t.Fatalf("message = %+v, want %+v", got[0], tc.want)
			}
		})
	}
}

func TestSNSPublish(t *testing.T) {
	tests := []struct {
		name string
		in   sns.PublishInput
		want Message
	}{
		{name: "sms", in: sns.PublishInput{PhoneNumber: aws.String("+15550100"), Message: aws.String("Code 1234 & more")},
			want: Message{Channel: "sms", To: "+15550100", Body: "Code 1234 & more"}},
		{name: "topic", in: sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:alarms"), Subject: aws.String("Alarm"), Message: aws.String("DLQ not empty")},
			want: Message{Channel: "sms", To: "arn:aws:sns:us-east-1:000000000000:alarms", Subject: "Alarm", Body: "DLQ not empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			srv := httptest.NewServer(Outbox{Dir: dir}.SNS())
			defer srv.Close()
			c := sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(srv.URL) })
			out, err := c.Publish(context.Background(), &tc.in)
			if err != nil {
				t.Fatalf("Publish error = %v", err)
			}
			if aws.ToString(out.MessageId) == "" {
				t.Fatalf("MessageId is empty")
			}
			got := messages(t, dir)
			if len(got) != 1 {
				t.Fatalf("outbox holds %d messages, want 1", len(got))
			}
			got[0].SentAt = tc.want.SentAt
			if got[0] != tc.want {
				t.Fatalf("message = %+v, want %+v", got[0], tc.want)
			}
		})
	}
}

func TestEventBridgePutEvents(t *testing.T) {
	entry := func(bus, source, detailType, detail string) ebtypes.PutEventsRequestEntry {
		e := ebtypes.PutEventsRequestEntry{Source: aws.String(source), DetailType: aws.String(detailType), Detail: aws.String(detail)}
		if bus != "" {
			e.EventBusName = aws.String(bus)
		}
		return e
	}
	tests := []struct {
		name       string
		entries    []ebtypes.PutEventsRequestEntry
		wantFailed []string // ErrorCode per entry, "" for accepted
		want       []Message
	}{
		{name: "one event", entries: []ebtypes.PutEventsRequestEntry{entry("veil-bus", "veil.requests", "RequestReceived", `{"requestId":"r-1"}`)},
			wantFailed: []string{""},
			want:       []Message{{Channel: "event", To: "veil-bus", Subject: "RequestReceived", Body: `{"requestId":"r-1"}`}}},
		{name: "default bus", entries: []ebtypes.PutEventsRequestEntry{entry("", "veil.requests", "RequestClosed", `{}`)},
			wantFailed: []string{""},
			want:       []Message{{Channel: "event", To: "default", Subject: "RequestClosed", Body: `{}`}}},
		{name: "bad entries fail alone", entries: []ebtypes.PutEventsRequestEntry{
			entry("b", "veil.requests", "A", `{"n":1}`),
			entry("b", "veil.requests", "", `{}`),
			entry("b", "", "C", `{}`),
			entry("b", "veil.requests", "D", `"not an object"`),
			entry("b", "veil.requests", "E", `{`),
		},
			wantFailed: []string{"", "InvalidArgument", "InvalidArgument", "MalformedDetail", "MalformedDetail"},
			want:       []Message{{Channel: "event", To: "b", Subject: "A", Body: `{"n":1}`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			srv := httptest.NewServer(Outbox{Dir: dir}.EventBridge())
			defer srv.Close()
			c := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(srv.URL) })
			out, err := c.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: tc.entries})
			if err != nil {
				t.Fatalf("PutEvents error = %v", err)
			}
			if len(out.Entries) != len(tc.wantFailed) {
				t.Fatalf("PutEvents answered %d entries, want %d", len(out.Entries), len(tc.wantFailed))
			}
			failed := 0
			for i, e := range out.Entries {
				if got := aws.ToString(e.ErrorCode); got != tc.wantFailed[i] {
					t.Fatalf("entry %d ErrorCode = %q, want %q", i, got, tc.wantFailed[i])
				}
				if tc.wantFailed[i] != "" {
					failed++
					if aws.ToString(e.EventId) != "" {
						t.Fatalf("failed entry %d EventId = %q, want none", i, aws.ToString(e.EventId))
					}
				} else if aws.ToString(e.EventId) == "" {
					t.Fatalf("entry %d EventId is empty", i)
				}
			}
			if got := int(out.FailedEntryCount); got != failed {
				t.Fatalf("FailedEntryCount = %d, want %d", got, failed)
			}
			got := messages(t, dir)
			if len(got) != len(tc.want) {
				t.Fatalf("outbox holds %d messages, want %d", len(got), len(tc.want))
			}
			for i := range got {
				got[i].SentAt = tc.want[i].SentAt
				if got[i] != tc.want[i] {
					t.Fatalf("message %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	o := Outbox{Dir: dir}
	tests := []struct {
		name       string
		h          http.Handler
		method     string
		path, body string
		target     string
		wantStatus int
		wantType   string // __type of a JSON protocol error
	}{
		{name: "SES other operation", h: o.SES(), method: "GET", path: "/v2/email/identities", wantStatus: 404},
		{name: "SES malformed body", h: o.SES(), method: "POST", path: "/v2/email/outbound-emails", body: "{", wantStatus: 400},
		{name: "SNS other action", h: o.SNS(), method: "POST", path: "/", body: "Action=CreateTopic&Name=x", wantStatus: 400},
		{name: "EventBridge other target", h: o.EventBridge(), method: "POST", path: "/", target: "AWSEvents.PutRule", body: `{"Name":"r"}`,
			wantStatus: 400, wantType: "UnknownOperationException"},
		{name: "EventBridge no target", h: o.EventBridge(), method: "POST", path: "/", body: `{}`, wantStatus: 400, wantType: "UnknownOperationException"},
		{name: "EventBridge malformed body", h: o.EventBridge(), method: "POST", path: "/", target: "AWSEvents.PutEvents", body: "{",
			wantStatus: 400, wantType: "SerializationException"},
		{name: "EventBridge no entries", h: o.EventBridge(), method: "POST", path: "/", target: "AWSEvents.PutEvents", body: `{"Entries":[]}`,
			wantStatus: 400, wantType: "ValidationException"},
		{name: "EventBridge eleven entries", h: o.EventBridge(), method: "POST", path: "/", target: "AWSEvents.PutEvents",
			body:       `{"Entries":[` + strings.Repeat(`{"Source":"s","DetailType":"d","Detail":"{}"},`, 10) + `{"Source":"s","DetailType":"d","Detail":"{}"}]}`,
			wantStatus: 400, wantType: "ValidationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			w := httptest.NewRecorder()
			tc.h.ServeHTTP(w, r)
			if w.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tc.wantStatus)
			}
			if tc.wantType == "" {
				return
			}
			var body struct {
				Type string `json:"__type"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Type != tc.wantType {
				t.Fatalf("body = %s, want __type %s", w.Body, tc.wantType)
			}
			if got := w.Header().Get("X-Amzn-ErrorType"); got != tc.wantType {
				t.Fatalf("X-Amzn-ErrorType = %q, want %q", got, tc.wantType)
			}
		})
	}
	if got := messages(t, dir); len(got) != 0 {
		t.Fatalf("refused requests wrote %d messages, want 0", len(got))
	}
}
