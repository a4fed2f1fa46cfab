package pseudonymizefn

// A staff job runs as an Event invocation of this function. When Lambda
// has tried it 1 + MaximumRetryAttempts times, the event goes to the
// function's on-failure destination (the ErasureFailures queue), and from
// there back here: the job is ended failed, with a certificate that says
// so, instead of reading "running" forever.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/lambdafn/httpapi"
)

// destinationRecord is the part of Lambda's on-failure record the handler
// reads: the original event (a job ID, never an identifier) and why the
// last attempt failed.
type destinationRecord struct {
	RequestContext struct {
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	} `json:"requestContext"`
	RequestPayload struct {
		JobID string `json:"jobId"`
	} `json:"requestPayload"`
	ResponsePayload struct {
		ErrorType string `json:"errorType"`
	} `json:"responsePayload"`
}

// Abandoned ends failed the job of every destination record in ev, and
// reports the records it could not (a store error, for SQS to deliver
// again). A record that names no valid job is logged and dropped: there
// is nothing to end, and a retry would not find one.
func (h *Handler) Abandoned(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		var rec destinationRecord
		if err := json.Unmarshal([]byte(m.Body), &rec); err != nil || !erasure.ValidID(rec.RequestPayload.JobID) {
			slog.WarnContext(ctx, "on-failure record without a job", "requestId", httpapi.RequestID(ctx), "messageId", m.MessageId)
			continue
		}
		reason := fmt.Sprintf("every attempt failed (%d invocations, %s; last error %s)",
			rec.RequestContext.ApproximateInvokeCount, rec.RequestContext.Condition, rec.ResponsePayload.ErrorType)
		j, err := h.Jobs.Abandon(ctx, rec.RequestPayload.JobID, reason)
		if err != nil {
			slog.ErrorContext(ctx, "abandon job", "requestId", httpapi.RequestID(ctx), "jobId", rec.RequestPayload.JobID, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			continue
		}
		slog.InfoContext(ctx, "job abandoned", "requestId", httpapi.RequestID(ctx), "jobId", j.ID, "status", j.Status)
	}
	return resp
}
