package intakefn

// The toll-free IVR: an Amazon Connect contact flow files a request for
// the caller's own number and speaks the answer back.

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
	"github.com/veil-privacy/veil/pkg/requestflow"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/veil"
)

// fileByPhone files the request the caller chose: the caller's number
// (Details.ContactData.CustomerEndpoint) is its phone, and the contact ID
// its idempotency key, so a flow's retried invocation files once. It
// answers a flat string map for the flow to speak: reference, message and
// status ("filed", or "invalid" with a message the caller can act on).
func (h *Handler) fileByPhone(ctx context.Context, ev events.ConnectEvent) (map[string]string, error) {
	f, ok := connectFiling(ev, h.connectJurisdiction)
	if !ok {
		return map[string]string{"status": "invalid", "message": "We could not read the number you are calling from. Please use our web form."}, nil
	}
	contact := ev.Details.ContactData.ContactID
	rc, err := h.desk.File(ctx, f, requestflow.Filer{Channel: requests.IVR,
		Actor: requeststore.Actor{Subject: "connect:" + contact, Role: "ivr", Source: "connect"}}, contact)
	var ve *veil.ValidationError
	if errors.As(err, &ve) {
		slog.InfoContext(ctx, "ivr filing refused", "requestId", httpapi.RequestID(ctx), "contactId", contact, "field", ve.Field)
		msg := "We could not file your request. Please use our web form or speak to an agent."
		if ve.Field == "declaration" {
			msg = "A request to know your information needs your declaration, under penalty of perjury, that you are the person calling. Please call again and confirm it, or use our web form."
		}
		return map[string]string{"status": "invalid", "message": msg}, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]string{"status": "filed", "reference": rc.Reference, "requestId": rc.ID, "dueAt": rc.DueAt,
		"message": "Your request has been received. We will send a verification code by text message to the number you are calling from. Your reference is"}, nil
}

// connectFiling is the filing a contact-flow event makes: the caller's
// number as its phone, the flow's requestType, jurisdiction (else
// jurisdiction) and declaration. It is false when the contact has no
// telephone number to file for.
func connectFiling(ev events.ConnectEvent, jurisdiction string) (requests.Filing, bool) {
	p := ev.Details.Parameters
	e := ev.Details.ContactData.CustomerEndpoint
	if !strings.EqualFold(e.Type, "TELEPHONE_NUMBER") || strings.TrimSpace(e.Address) == "" {
		return requests.Filing{}, false
	}
	if j := p["jurisdiction"]; j != "" {
		jurisdiction = j
	}
	return requests.Filing{Type: p["requestType"], Jurisdiction: jurisdiction, Phones: []string{e.Address},
		Declaration: strings.EqualFold(p["declaration"], "true")}, true
}
