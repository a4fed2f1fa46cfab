// Messages sent through Sender must reach the recipient as written, over the
// real SES v2 and SNS protocols, and a failure must never name the recipient.
package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/veil-privacy/veil/pkg/local/outbox"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/notify"
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
			m.SentAt, m.File = m.SentAt.UTC().Truncate(0), ""
			out = append(out, m)
		}
	}
	return out
}

func TestSenderOnLocalStack(t *testing.T) {
	opts := stacktest.Options(t)
	s := stacktest.Start(t, opts)
	sender := &notify.Sender{Email: sesv2.NewFromConfig(s.AWS), SMS: sns.NewFromConfig(s.AWS), From: "privacy@example.com"}
	var n notify.Notifier = sender
	ctx := context.Background()
	seen := map[string]bool{}

	tests := []struct {
		name string
		send func(context.Context, notify.Message) error
		m    notify.Message
		want outbox.Message
	}{
		{name: "email", send: n.SendEmail,
			m:    notify.Message{To: "ada@example.com", Subject: "Your request VR-1", Body: "We received your request.\nReference: VR-1"},
			want: outbox.Message{Channel: "email", To: "ada@example.com", Subject: "Your request VR-1", Body: "We received your request.\nReference: VR-1"}},
		{name: "email with non-ASCII text", send: n.SendEmail,
			m:    notify.Message{To: "zoë@example.com", Subject: "Ihre Anfrage – Bestätigung", Body: "Grüße & <danke>"},
			want: outbox.Message{Channel: "email", To: "zoë@example.com", Subject: "Ihre Anfrage – Bestätigung", Body: "Grüße & <danke>"}},
		{name: "sms", send: n.SendSMS,
			m:    notify.Message{To: "+15550100", Subject: "ignored", Body: "Your Veil code is 123456 & expires in 10 minutes"},
			want: outbox.Message{Channel: "sms", To: "+15550100", Body: "Your Veil code is 123456 & expires in 10 minutes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.send(ctx, tc.m); err != nil {
				t.Fatalf("send error = %v", err)
			}
			got := sent(t, s, seen)
			if len(got) != 1 {
				t.Fatalf("outbox received %d messages, want 1", len(got))
			}
			if got[0].SentAt.IsZero() {
				t.Fatalf("sentAt is missing")
			}
			got[0].SentAt = tc.want.SentAt
			if got[0] != tc.want {
				t.Fatalf("message = %+v, want %+v", got[0], tc.want)
			}
		})
	}
}

// fakeEmail and fakeSMS answer with err, recording the last input.
type fakeEmail struct {
	in  *sesv2.SendEmailInput
	err error
}

func (f *fakeEmail) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.in = in
	return &sesv2.SendEmailOutput{}, f.err
}

type fakeSMS struct {
	in  *sns.PublishInput
	err error
}

func (f *fakeSMS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = in
	return &sns.PublishOutput{}, f.err
}

// apiError is what the SDK returns for a service error: an operation error
// around the service's code and message.
func apiError(service, op, code, message string) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &smithy.GenericAPIError{Code: code, Message: message}}
}

// TestErrorsNeverNameTheRecipient: SES and SNS quote the recipient in some
// error messages; the error Sender returns must not, yet must still wrap the
// SDK error.
func TestErrorsNeverNameTheRecipient(t *testing.T) {
	tests := []struct {
		name     string
		to       string
		email    bool
		err      error
		wantText string   // the returned error starts with this
		never    []string // none of these may appear, in any case
	}{
		{name: "SES unverified address", to: "Ada.Lovelace@example.com", email: true,
			err:      apiError("SESv2", "SendEmail", "MessageRejected", "Email address is not verified. The following identities failed the check in region US-EAST-1: ADA.LOVELACE@EXAMPLE.COM, ada.lovelace@example.com"),
			wantText: "send email: ", never: []string{"ada.lovelace@example.com"}},
		{name: "SES error without the address", to: "ada@example.com", email: true,
			err:      apiError("SESv2", "SendEmail", "TooManyRequestsException", "Maximum sending rate exceeded."),
			wantText: "send email: ", never: []string{"ada@example.com"}},
		{name: "SNS invalid number", to: "+15550100",
			err:      apiError("SNS", "Publish", "InvalidParameter", "Invalid parameter: PhoneNumber Reason: +15550100 is not valid to publish to"),
			wantText: "send sms: ", never: []string{"+15550100", "15550100"}},
		{name: "SNS number without plus", to: "+15550100",
			err:      apiError("SNS", "Publish", "InvalidParameter", "Invalid parameter: PhoneNumber Reason: 15550100 is opted out"),
			wantText: "send sms: ", never: []string{"15550100"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &notify.Sender{Email: &fakeEmail{err: tc.err}, SMS: &fakeSMS{err: tc.err}, From: "privacy@example.com"}
			m := notify.Message{To: tc.to, Subject: "S", Body: "B"}
			var err error
			if tc.email {
				err = s.SendEmail(context.Background(), m)
			} else {
				err = s.SendSMS(context.Background(), m)
			}
			if err == nil {
				t.Fatalf("send error = nil, want an error")
			}
			text := err.Error()
			if !strings.HasPrefix(text, tc.wantText) {
				t.Fatalf("error = %q, want it to start with %q", text, tc.wantText)
			}
			for _, never := range tc.never {
				if strings.Contains(strings.ToLower(text), strings.ToLower(never)) {
					t.Fatalf("error = %q, want no %q in it", text, never)
				}
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.err.(*smithy.OperationError).Err.(smithy.APIError).ErrorCode() {
				t.Fatalf("errors.As(%v, APIError) = %v, want the SDK's error wrapped", err, apiErr)
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("errors.Is(err, the SDK error) = false, want true")
			}
		})
	}
}

// TestRequests: what Sender asks of SES and SNS, field by field.
func TestRequests(t *testing.T) {
	email, sms := &fakeEmail{}, &fakeSMS{}
	s := &notify.Sender{Email: email, SMS: sms, From: "privacy@example.com"}
	m := notify.Message{To: "ada@example.com", Subject: "Subject", Body: "Body"}
	if err := s.SendEmail(context.Background(), m); err != nil {
		t.Fatalf("SendEmail error = %v", err)
	}
	in := email.in
	if got := aws.ToString(in.FromEmailAddress); got != "privacy@example.com" {
		t.Fatalf("FromEmailAddress = %q, want privacy@example.com", got)
	}
	if got := in.Destination.ToAddresses; len(got) != 1 || got[0] != "ada@example.com" {
		t.Fatalf("ToAddresses = %v, want [ada@example.com]", got)
	}
	simple := in.Content.Simple
	if simple == nil || aws.ToString(simple.Subject.Data) != "Subject" || simple.Body.Text == nil || aws.ToString(simple.Body.Text.Data) != "Body" || simple.Body.Html != nil {
		t.Fatalf("Content = %+v, want Simple text-only Subject/Body", in.Content)
	}

	m = notify.Message{To: "+15550100", Subject: "ignored", Body: "Code 1"}
	if err := s.SendSMS(context.Background(), m); err != nil {
		t.Fatalf("SendSMS error = %v", err)
	}
	p := sms.in
	if aws.ToString(p.PhoneNumber) != "+15550100" || aws.ToString(p.Message) != "Code 1" || p.TopicArn != nil || p.Subject != nil {
		t.Fatalf("Publish input = %+v, want PhoneNumber +15550100, Message Code 1, nothing else", p)
	}
	attr, ok := p.MessageAttributes["AWS.SNS.SMS.SMSType"]
	if !ok || aws.ToString(attr.DataType) != "String" || aws.ToString(attr.StringValue) != "Transactional" {
		t.Fatalf("SMSType attribute = %+v, want String Transactional", attr)
	}
}
