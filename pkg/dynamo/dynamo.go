// Package dynamo holds the DynamoDB idioms every store of Veil's tables
// repeats: an item's key, and telling a failed condition from a failure.
package dynamo

import (
	"errors"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Key is the key of the item PK pk, SK sk: every table of Veil's has
// these two string attributes as its key.
func Key(pk, sk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: pk}, "SK": &ddbtypes.AttributeValueMemberS{Value: sk}}
}

// ConditionFailed reports whether err is a conditional write's condition
// not holding (nothing was written), rather than a failure.
func ConditionFailed(err error) bool {
	var cf *ddbtypes.ConditionalCheckFailedException
	return errors.As(err, &cf)
}
