package s3local

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// EventJSON returns n as the body S3 puts on an SQS queue: an S3 event
// notification with one record, the key URL-encoded as S3 encodes it.
func EventJSON(n Notification, region string) ([]byte, error) {
	rec := events.S3EventRecord{
		EventVersion: "2.1",
		EventSource:  "aws:s3",
		AWSRegion:    region,
		EventTime:    n.Time,
		EventName:    n.EventName,
		PrincipalID:  events.S3UserIdentity{PrincipalID: "AWS:LOCAL"},
		RequestParameters: events.S3RequestParameters{
			SourceIPAddress: "127.0.0.1",
		},
		ResponseElements: map[string]string{
			"x-amz-request-id": n.Sequencer,
			"x-amz-id-2":       "local/" + n.Sequencer,
		},
		S3: events.S3Entity{
			SchemaVersion:   "1.0",
			ConfigurationID: "veil-local-notifications",
			Bucket: events.S3Bucket{
				Name:          n.Bucket,
				OwnerIdentity: events.S3UserIdentity{PrincipalID: "LOCAL"},
				Arn:           "arn:aws:s3:::" + n.Bucket,
			},
			Object: events.S3Object{
				Key:       EncodeKey(n.Key),
				Size:      n.Size,
				ETag:      n.ETag,
				VersionID: n.VersionID,
				Sequencer: n.Sequencer,
			},
		},
	}
	return json.Marshal(events.S3Event{Records: []events.S3EventRecord{rec}})
}

// EncodeKey encodes an object key as S3 event notifications do: form
// encoding (a space becomes '+') with '/' left as is.
func EncodeKey(key string) string {
	return strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
}
