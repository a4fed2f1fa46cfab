// Package notify sends messages to consumers and staff: email through SES v2
// and SMS through SNS. A recipient's address is personal data, so no error
// this package returns carries it, even where AWS echoes it back.
package notify

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// EmailAPI is the part of the SES v2 client Sender uses.
type EmailAPI interface {
	SendEmail(ctx context.Context, params *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SMSAPI is the part of the SNS client Sender uses.
type SMSAPI interface {
	Publish(ctx context.Context, params *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Message is one message to one recipient: an email address or an E.164
// phone number. Subject is ignored for SMS.
type Message struct {
	To      string
	Subject string
	Body    string
}

// Notifier sends messages; Sender is the AWS implementation.
type Notifier interface {
	SendEmail(ctx context.Context, m Message) error
	SendSMS(ctx context.Context, m Message) error
}

var _ Notifier = (*Sender)(nil)

// Sender sends email from From through Email and SMS through SMS.
type Sender struct {
	Email EmailAPI
	SMS   SMSAPI
	From  string
}

// SendEmail sends m as a plain-text email. On failure it returns the SES
// error wrapped (errors.As still finds the SDK's types), with m.To removed
// from its text.
func (s *Sender) SendEmail(ctx context.Context, m Message) error {
	_, err := s.Email.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.From),
		Destination:      &sestypes.Destination{ToAddresses: []string{m.To}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String(m.Subject), Charset: aws.String("UTF-8")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String(m.Body), Charset: aws.String("UTF-8")}},
		}},
	})
	if err != nil {
		return &redactedError{op: "send email", err: err, secrets: []string{m.To}}
	}
	return nil
}

// SendSMS sends m.Body as a transactional SMS to the phone number m.To. On
// failure it returns the SNS error wrapped (errors.As still finds the SDK's
// types), with the number removed from its text.
func (s *Sender) SendSMS(ctx context.Context, m Message) error {
	_, err := s.SMS.Publish(ctx, &sns.PublishInput{
		PhoneNumber: aws.String(m.To),
		Message:     aws.String(m.Body),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			// SNS routes transactional SMS for reliability rather than
			// cost: one-time codes must arrive.
			"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
		},
	})
	if err != nil {
		// SNS echoes a number back in InvalidParameter messages, with or
		// without its "+".
		return &redactedError{op: "send sms", err: err, secrets: []string{m.To, strings.TrimPrefix(m.To, "+")}}
	}
	return nil
}

// redactedError wraps an AWS error whose message may quote the recipient
// (SES's MessageRejected lists unverified addresses, SNS's InvalidParameter
// the number) and removes the recipient from the text.
type redactedError struct {
	op      string
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	return e.op + ": " + redact(e.err.Error(), e.secrets)
}

func (e *redactedError) Unwrap() error { return e.err }

// redact replaces every case-insensitive occurrence of each non-empty secret
// in s, longest first so a secret's substring does not leave the rest behind.
func redact(s string, secrets []string) string {
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		s = regexp.MustCompile("(?i)"+regexp.QuoteMeta(sec)).ReplaceAllLiteralString(s, "[redacted]")
	}
	return s
}
