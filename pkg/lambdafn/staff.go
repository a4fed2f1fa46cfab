package lambdafn

// Staff actions on the record: each route a staff member searches,
// exports, erases or corrects through records who, why and on what
// before it answers.

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/auth"
)

// StaffLog records staff actions (audit.StaffLog). Record returns a
// *veil.ValidationError for an action with neither a request nor a reason.
type StaffLog interface {
	Record(ctx context.Context, a audit.StaffAction) (audit.StaffAction, error)
}

var _ StaffLog = (*audit.StaffLog)(nil)

// StaffAuditLog returns the staff-action log on the Requests table.
func StaffAuditLog(awsCfg aws.Config, requestsTable string) *audit.StaffLog {
	return &audit.StaffLog{API: dynamodb.NewFromConfig(awsCfg), Table: requestsTable}
}

// StaffAction is action by c, in the strongest staff role c holds.
func StaffAction(c auth.Caller, action, requestID, reason string, ids []string, detail map[string]string) audit.StaffAction {
	return audit.StaffAction{Actor: c.Subject, Role: c.ActingRole(auth.Admin, auth.Supervisor, auth.Agent, auth.Auditor),
		Action: action, RequestID: requestID, Reason: reason, Identifiers: ids, Detail: detail}
}
