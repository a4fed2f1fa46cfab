// Package busevents publishes domain events to an EventBridge bus, so other
// systems can follow a request's life without Veil knowing them. A
// deployment without a bus publishes nothing.
package busevents

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// DefaultSource is the event source a Publisher without one uses.
const DefaultSource = "veil.requests"

// API is the part of the EventBridge client Publisher uses.
type API interface {
	PutEvents(ctx context.Context, params *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Publisher puts events on Bus (a name or ARN) with Source (DefaultSource
// when empty).
type Publisher struct {
	API    API
	Bus    string
	Source string
}

// EntryError is returned when EventBridge accepts the call but refuses the
// event; Code is the entry's ErrorCode (MalformedDetail, InvalidArgument,
// ThrottlingException, InternalFailure, …).
type EntryError struct {
	DetailType string
	Code       string
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("put event %s: refused: %s", e.DetailType, e.Code)
}

// Publish puts one event of detailType with detail marshalled to JSON. A
// nil Publisher or one without a Bus publishes nothing and returns nil. It
// returns the marshalling error or the SDK's error wrapped, or an
// *EntryError when EventBridge refuses the entry; no error carries the
// detail, which may hold personal data.
func (p *Publisher) Publish(ctx context.Context, detailType string, detail any) error {
	if p == nil || p.Bus == "" {
		return nil
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("put event %s: detail: %w", detailType, err)
	}
	source := p.Source
	if source == "" {
		source = DefaultSource
	}
	out, err := p.API.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String(p.Bus),
		Source:       aws.String(source),
		DetailType:   aws.String(detailType),
		Detail:       aws.String(string(b)),
	}}})
	if err != nil {
		return fmt.Errorf("put event %s on %s: %w", detailType, p.Bus, err)
	}
	if out.FailedEntryCount > 0 {
		code := "unknown"
		if len(out.Entries) > 0 && out.Entries[0].ErrorCode != nil {
			code = *out.Entries[0].ErrorCode
		}
		return &EntryError{DetailType: detailType, Code: code}
	}
	return nil
}
