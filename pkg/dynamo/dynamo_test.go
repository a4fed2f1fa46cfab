package dynamo

import (
	"errors"
	"fmt"
	"testing"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestConditionFailed(t *testing.T) {
	wrapped := fmt.Errorf("put: %w", &ddbtypes.ConditionalCheckFailedException{})
	if !ConditionFailed(wrapped) || ConditionFailed(errors.New("throttled")) || ConditionFailed(nil) {
		t.Fatal("ConditionFailed does not tell a failed condition apart")
	}
	k := Key("REQ#1", "JOB")
	if k["PK"].(*ddbtypes.AttributeValueMemberS).Value != "REQ#1" || k["SK"].(*ddbtypes.AttributeValueMemberS).Value != "JOB" || len(k) != 2 {
		t.Fatalf("Key = %v", k)
	}
}
