// Package outbox is the local stack's email, SMS and events: SES v2
// SendEmail, SNS Publish and EventBridge PutEvents calls become one JSON file
// each in a folder, so a developer can read what a consumer would have
// received and what the bus would have carried.
package outbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Message is one file of the outbox.
type Message struct {
	Channel string    `json:"channel"` // "email", "sms" or "event"
	To      string    `json:"to"`
	Subject string    `json:"subject,omitempty"`
	Body    string    `json:"body"`
	SentAt  time.Time `json:"sentAt"`
	// File is the message's file name in the outbox, as Messages read it.
	File string `json:"-"`
}

// Outbox writes messages into Dir.
type Outbox struct{ Dir string }

// Write stores m and returns its message ID.
func (o Outbox) Write(m Message) (string, error) {
	id := uuid.NewString()
	m.SentAt = time.Now().UTC()
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return "", fmt.Errorf("outbox %s: %w", o.Dir, err)
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	name := fmt.Sprintf("%s-%s-%s.json", m.SentAt.Format("20060102T150405.000"), m.Channel, id[:8])
	return id, os.WriteFile(filepath.Join(o.Dir, name), b, 0o600)
}

// Messages returns every message in the outbox, in file-name order (the
// order they were sent in, to the millisecond). An outbox never written
// to is empty.
func (o Outbox) Messages() ([]Message, error) {
	names, err := filepath.Glob(filepath.Join(o.Dir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var m Message
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("outbox %s: %w", n, err)
		}
		m.File = filepath.Base(n)
		out = append(out, m)
	}
	return out, nil
}

// SES serves SES v2's SendEmail (POST /v2/email/outbound-emails).
func (o Outbox) SES() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails" {
			http.Error(w, `{"message":"only SendEmail is served locally"}`, http.StatusNotFound)
			return
		}
		var in struct {
			Destination struct{ ToAddresses []string }
			Content     struct {
				Simple struct {
					Subject struct{ Data string }
					Body    struct{ Text, HTML struct{ Data string } }
				}
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, `{"message":"malformed SendEmail body"}`, http.StatusBadRequest)
			return
		}
		body := in.Content.Simple.Body.Text.Data
		if body == "" {
			body = in.Content.Simple.Body.HTML.Data
		}
		id, err := o.Write(Message{Channel: "email", To: strings.Join(in.Destination.ToAddresses, ","),
			Subject: in.Content.Simple.Subject.Data, Body: body})
		if err != nil {
			http.Error(w, `{"message":"outbox write failed"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"MessageId": id})
	})
}

// SNS serves SNS's Publish (query protocol) to a phone number or topic.
func (o Outbox) SNS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "Publish" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>only Publish is served locally</Message></Error></ErrorResponse>`)
			return
		}
		to := r.Form.Get("PhoneNumber")
		if to == "" {
			to = r.Form.Get("TopicArn")
		}
		id, err := o.Write(Message{Channel: "sms", To: to, Subject: r.Form.Get("Subject"), Body: r.Form.Get("Message")})
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>%s</MessageId></PublishResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></PublishResponse>`, id, uuid.NewString())
	})
}

// EventBridge serves EventBridge's PutEvents (AWS JSON 1.1): each entry
// becomes a Message with Channel "event", To the bus, Subject the detail type
// and Body the detail. Entries EventBridge would refuse are answered as
// failed entries, as AWS does, so callers' FailedEntryCount handling runs.
func (o Outbox) EventBridge() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" {
			jsonError(w, http.StatusBadRequest, "UnknownOperationException", "only PutEvents is served locally")
			return
		}
		var in struct {
			Entries []struct{ Source, DetailType, Detail, EventBusName string }
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			jsonError(w, http.StatusBadRequest, "SerializationException", "malformed PutEvents body")
			return
		}
		if len(in.Entries) == 0 || len(in.Entries) > 10 {
			jsonError(w, http.StatusBadRequest, "ValidationException", "Entries must hold 1 to 10 entries")
			return
		}
		type result struct {
			EventID      string `json:"EventId,omitempty"`
			ErrorCode    string `json:",omitempty"`
			ErrorMessage string `json:",omitempty"`
		}
		var out struct {
			FailedEntryCount int
			Entries          []result
		}
		for _, e := range in.Entries {
			var res result
			switch {
			case e.Source == "":
				res = result{ErrorCode: "InvalidArgument", ErrorMessage: "Parameter Source is not valid. Reason: Source is a required argument."}
			case e.DetailType == "":
				res = result{ErrorCode: "InvalidArgument", ErrorMessage: "Parameter DetailType is not valid. Reason: DetailType is a required argument."}
			case !json.Valid([]byte(e.Detail)) || !strings.HasPrefix(strings.TrimSpace(e.Detail), "{"):
				res = result{ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed."}
			default:
				bus := e.EventBusName
				if bus == "" {
					bus = "default"
				}
				id, err := o.Write(Message{Channel: "event", To: bus, Subject: e.DetailType, Body: e.Detail})
				if err != nil {
					res = result{ErrorCode: "InternalException", ErrorMessage: "outbox write failed"}
				} else {
					res = result{EventID: id}
				}
			}
			if res.ErrorCode != "" {
				out.FailedEntryCount++
			}
			out.Entries = append(out.Entries, res)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// jsonError answers an AWS JSON protocol error.
func jsonError(w http.ResponseWriter, status int, errType, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", errType)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": errType, "message": message})
	_, _ = w.Write(b)
}
