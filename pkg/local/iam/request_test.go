package iam

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

var testEnv = Env{Region: "us-east-1", AccountID: "000000000000",
	BucketKeys: map[string]string{"veil-exports": "arn:aws:kms:us-east-1:000000000000:key/local-exports-key"},
	SecretARNs: map[string]string{"IndexKeySecret": "arn:aws:secretsmanager:us-east-1:000000000000:secret:IndexKeySecret"}}

const (
	sigS3  = "AWS4-HMAC-SHA256 Credential=role-F/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x"
	sigDDB = "AWS4-HMAC-SHA256 Credential=role-F/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x"
	expKey = "arn:aws:kms:us-east-1:000000000000:key/local-exports-key"
)

// check renders a check as "action resource" (plus "ctx" keys where the
// case names them), the form the table below is written in.
func render(c Call, ctxKeys ...string) []string {
	var out []string
	for _, r := range c.Checks {
		s := r.Action + " " + r.Resource
		for _, k := range ctxKeys {
			if v := lookup(r.Context, k); v != nil {
				s += " " + k + "=" + strings.Join(v, ",")
			}
		}
		out = append(out, s)
	}
	return out
}

func TestMapRequest(t *testing.T) {
	type hdr = map[string]string
	for _, tc := range []struct {
		name, service, method, target string
		headers                       hdr
		body                          string
		ctxKeys                       []string
		wantOp                        string
		want                          []string
	}{
		{name: "GetObject", service: "s3", method: "GET", target: "/veil-leads/campaigns/a%20b.csv",
			wantOp: "GetObject", want: []string{"s3:GetObject arn:aws:s3:::veil-leads/campaigns/a b.csv"}},
		{name: "GetObject version", service: "s3", method: "GET", target: "/veil-leads/k.csv?versionId=v1",
			wantOp: "GetObject", want: []string{"s3:GetObjectVersion arn:aws:s3:::veil-leads/k.csv"}},
		{name: "HeadObject", service: "s3", method: "HEAD", target: "/veil-leads/k.csv",
			wantOp: "HeadObject", want: []string{"s3:GetObject arn:aws:s3:::veil-leads/k.csv"}},
		{name: "GetObject of an SSE-KMS bucket decrypts", service: "s3", method: "GET", target: "/veil-exports/exports/x.csv",
			wantOp: "GetObject", want: []string{"s3:GetObject arn:aws:s3:::veil-exports/exports/x.csv", "kms:Decrypt " + expKey}},
		{name: "PutObject", service: "s3", method: "PUT", target: "/veil-leads/k.csv",
			wantOp: "PutObject", want: []string{"s3:PutObject arn:aws:s3:::veil-leads/k.csv"}},
		{name: "PutObject into an SSE-KMS bucket, tagged", service: "s3", method: "PUT", target: "/veil-exports/exports/x.csv",
			headers: hdr{"X-Amz-Tagging": "veil%3Arequest-id=r1", "X-Amz-Server-Side-Encryption": "aws:kms"}, ctxKeys: []string{"s3:x-amz-server-side-encryption"},
			wantOp: "PutObject", want: []string{"s3:PutObject arn:aws:s3:::veil-exports/exports/x.csv s3:x-amz-server-side-encryption=aws:kms",
				"s3:PutObjectTagging arn:aws:s3:::veil-exports/exports/x.csv", "kms:GenerateDataKey " + expKey}},
		{name: "PutObject naming its key by ID", service: "s3", method: "PUT", target: "/veil-leads/k",
			headers: hdr{"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "abc"},
			wantOp:  "PutObject", want: []string{"s3:PutObject arn:aws:s3:::veil-leads/k", "kms:GenerateDataKey arn:aws:kms:us-east-1:000000000000:key/abc"}},
		{name: "PutObject AES256 into a KMS bucket", service: "s3", method: "PUT", target: "/veil-exports/k",
			headers: hdr{"X-Amz-Server-Side-Encryption": "AES256"},
			wantOp:  "PutObject", want: []string{"s3:PutObject arn:aws:s3:::veil-exports/k"}},
		{name: "CopyObject", service: "s3", method: "PUT", target: "/veil-leads/new.csv",
			headers: hdr{"X-Amz-Copy-Source": "veil-exports/old%20one.csv?versionId=v9"},
			wantOp:  "CopyObject", want: []string{"s3:PutObject arn:aws:s3:::veil-leads/new.csv",
				"s3:GetObjectVersion arn:aws:s3:::veil-exports/old one.csv", "kms:Decrypt " + expKey}},
		{name: "DeleteObject", service: "s3", method: "DELETE", target: "/veil-leads/k",
			wantOp: "DeleteObject", want: []string{"s3:DeleteObject arn:aws:s3:::veil-leads/k"}},
		{name: "DeleteObject version", service: "s3", method: "DELETE", target: "/veil-leads/k?versionId=v1",
			wantOp: "DeleteObject", want: []string{"s3:DeleteObjectVersion arn:aws:s3:::veil-leads/k"}},
		{name: "DeleteObjects", service: "s3", method: "POST", target: "/veil-leads?delete",
			body:   `<Delete><Object><Key>a.csv</Key></Object><Object><Key>b.csv</Key><VersionId>v2</VersionId></Object></Delete>`,
			wantOp: "DeleteObjects", want: []string{"s3:DeleteObject arn:aws:s3:::veil-leads/a.csv", "s3:DeleteObjectVersion arn:aws:s3:::veil-leads/b.csv"}},
		{name: "ListObjectsV2", service: "s3", method: "GET", target: "/veil-leads?list-type=2&prefix=campaigns%2F", ctxKeys: []string{"s3:prefix"},
			wantOp: "ListObjects", want: []string{"s3:ListBucket arn:aws:s3:::veil-leads s3:prefix=campaigns/"}},
		{name: "ListObjectVersions", service: "s3", method: "GET", target: "/veil-leads?versions&prefix=k",
			wantOp: "ListObjectVersions", want: []string{"s3:ListBucketVersions arn:aws:s3:::veil-leads"}},
		{name: "GetBucketVersioning", service: "s3", method: "GET", target: "/veil-leads?versioning",
			wantOp: "GetBucketVersioning", want: []string{"s3:GetBucketVersioning arn:aws:s3:::veil-leads"}},
		{name: "HeadBucket", service: "s3", method: "HEAD", target: "/veil-leads",
			wantOp: "HeadBucket", want: []string{"s3:ListBucket arn:aws:s3:::veil-leads"}},
		{name: "ListBuckets", service: "s3", method: "GET", target: "/",
			wantOp: "ListBuckets", want: []string{"s3:ListAllMyBuckets *"}},
		{name: "CreateMultipartUpload into a KMS bucket", service: "s3", method: "POST", target: "/veil-exports/big?uploads",
			wantOp: "CreateMultipartUpload", want: []string{"s3:PutObject arn:aws:s3:::veil-exports/big", "kms:GenerateDataKey " + expKey}},
		{name: "UploadPart into a KMS bucket", service: "s3", method: "PUT", target: "/veil-exports/big?partNumber=1&uploadId=u",
			wantOp: "UploadPart", want: []string{"s3:PutObject arn:aws:s3:::veil-exports/big", "kms:GenerateDataKey " + expKey}},
		{name: "CompleteMultipartUpload", service: "s3", method: "POST", target: "/veil-leads/big?uploadId=u",
			wantOp: "CompleteMultipartUpload", want: []string{"s3:PutObject arn:aws:s3:::veil-leads/big"}},
		{name: "AbortMultipartUpload", service: "s3", method: "DELETE", target: "/veil-leads/big?uploadId=u",
			wantOp: "AbortMultipartUpload", want: []string{"s3:AbortMultipartUpload arn:aws:s3:::veil-leads/big"}},
		{name: "PutObjectTagging", service: "s3", method: "PUT", target: "/veil-exports/x?tagging",
			wantOp: "PutObjectTagging", want: []string{"s3:PutObjectTagging arn:aws:s3:::veil-exports/x"}},
		{name: "GetObjectTagging version", service: "s3", method: "GET", target: "/veil-exports/x?tagging&versionId=v",
			wantOp: "GetObjectTagging", want: []string{"s3:GetObjectVersionTagging arn:aws:s3:::veil-exports/x"}},
		{name: "presigned GET", service: "s3", method: "GET",
			target: "/veil-exports/e.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=role-Signer%2F20240101%2Fus-east-1%2Fs3%2Faws4_request",
			wantOp: "GetObject", want: []string{"s3:GetObject arn:aws:s3:::veil-exports/e.csv", "kms:Decrypt " + expKey}},

		{name: "DynamoDB Query on an index", service: "dynamodb", target: "DynamoDB_20120810.Query",
			body:   `{"TableName":"veil-index","IndexName":"ByObject"}`,
			wantOp: "Query", want: []string{"dynamodb:Query arn:aws:dynamodb:us-east-1:000000000000:table/veil-index/index/ByObject"}},
		{name: "DynamoDB GetItem", service: "dynamodb", target: "DynamoDB_20120810.GetItem", body: `{"TableName":"veil-requests"}`,
			wantOp: "GetItem", want: []string{"dynamodb:GetItem arn:aws:dynamodb:us-east-1:000000000000:table/veil-requests"}},
		{name: "DynamoDB BatchWriteItem per table", service: "dynamodb", target: "DynamoDB_20120810.BatchWriteItem",
			body:   `{"RequestItems":{"veil-requests":[],"veil-index":[]}}`,
			wantOp: "BatchWriteItem", want: []string{"dynamodb:BatchWriteItem arn:aws:dynamodb:us-east-1:000000000000:table/veil-index",
				"dynamodb:BatchWriteItem arn:aws:dynamodb:us-east-1:000000000000:table/veil-requests"}},
		{name: "DynamoDB BatchGetItem", service: "dynamodb", target: "DynamoDB_20120810.BatchGetItem", body: `{"RequestItems":{"veil-index":{}}}`,
			wantOp: "BatchGetItem", want: []string{"dynamodb:BatchGetItem arn:aws:dynamodb:us-east-1:000000000000:table/veil-index"}},
		{name: "DynamoDB TransactWriteItems", service: "dynamodb", target: "DynamoDB_20120810.TransactWriteItems",
			body:   `{"TransactItems":[{"Put":{"TableName":"veil-requests"}},{"ConditionCheck":{"TableName":"veil-index"}},{"Update":{"TableName":"veil-requests"}},{"Delete":{"TableName":"veil-index"}}]}`,
			wantOp: "TransactWriteItems", want: []string{"dynamodb:PutItem arn:aws:dynamodb:us-east-1:000000000000:table/veil-requests",
				"dynamodb:ConditionCheckItem arn:aws:dynamodb:us-east-1:000000000000:table/veil-index",
				"dynamodb:UpdateItem arn:aws:dynamodb:us-east-1:000000000000:table/veil-requests",
				"dynamodb:DeleteItem arn:aws:dynamodb:us-east-1:000000000000:table/veil-index"}},
		{name: "DynamoDB TransactGetItems", service: "dynamodb", target: "DynamoDB_20120810.TransactGetItems",
			body:   `{"TransactItems":[{"Get":{"TableName":"veil-requests"}}]}`,
			wantOp: "TransactGetItems", want: []string{"dynamodb:GetItem arn:aws:dynamodb:us-east-1:000000000000:table/veil-requests"}},
		{name: "DynamoDB ListTables", service: "dynamodb", target: "DynamoDB_20120810.ListTables", body: `{}`,
			wantOp: "ListTables", want: []string{"dynamodb:ListTables *"}},

		{name: "StartExecution", service: "states", target: "AWSStepFunctions.StartExecution",
			body:   `{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:veil-privacy-request","input":"{}"}`,
			wantOp: "StartExecution", want: []string{"states:StartExecution arn:aws:states:us-east-1:000000000000:stateMachine:veil-privacy-request"}},
		{name: "SendTaskSuccess", service: "states", target: "AWSStepFunctions.SendTaskSuccess", body: `{"taskToken":"t","output":"{}"}`,
			wantOp: "SendTaskSuccess", want: []string{"states:SendTaskSuccess *"}},
		{name: "SendTaskFailure", service: "states", target: "AWSStepFunctions.SendTaskFailure", body: `{"taskToken":"t"}`,
			wantOp: "SendTaskFailure", want: []string{"states:SendTaskFailure *"}},
		{name: "DescribeExecution", service: "states", target: "AWSStepFunctions.DescribeExecution",
			body:   `{"executionArn":"arn:aws:states:us-east-1:000000000000:execution:veil-backfill:x"}`,
			wantOp: "DescribeExecution", want: []string{"states:DescribeExecution arn:aws:states:us-east-1:000000000000:execution:veil-backfill:x"}},
		{name: "StopExecution", service: "states", target: "AWSStepFunctions.StopExecution",
			body:   `{"executionArn":"arn:aws:states:us-east-1:000000000000:execution:veil-backfill:x"}`,
			wantOp: "StopExecution", want: []string{"states:StopExecution arn:aws:states:us-east-1:000000000000:execution:veil-backfill:x"}},

		{name: "GetSecretValue by ARN", service: "secretsmanager", target: "secretsmanager.GetSecretValue",
			body:   `{"SecretId":"arn:aws:secretsmanager:us-east-1:000000000000:secret:IndexKeySecret"}`,
			wantOp: "GetSecretValue", want: []string{"secretsmanager:GetSecretValue arn:aws:secretsmanager:us-east-1:000000000000:secret:IndexKeySecret"}},
		{name: "GetSecretValue by name", service: "secretsmanager", target: "secretsmanager.GetSecretValue", body: `{"SecretId":"IndexKeySecret"}`,
			wantOp: "GetSecretValue", want: []string{"secretsmanager:GetSecretValue arn:aws:secretsmanager:us-east-1:000000000000:secret:IndexKeySecret"}},

		{name: "SES v2 SendEmail", service: "ses", method: "POST", target: "/v2/email/outbound-emails",
			body:    `{"FromEmailAddress":"Veil <privacy@example.com>","Destination":{"ToAddresses":["c@example.org"]}}`,
			ctxKeys: []string{"ses:FromAddress"},
			wantOp:  "SendEmail", want: []string{"ses:SendEmail arn:aws:ses:us-east-1:000000000000:identity/privacy@example.com ses:FromAddress=privacy@example.com"}},
		{name: "SNS Publish to a phone", service: "sns", method: "POST", target: "/", body: "Action=Publish&PhoneNumber=%2B15555550100&Message=code",
			wantOp: "Publish", want: []string{"sns:Publish *"}},
		{name: "SNS Publish to a topic", service: "sns", method: "POST", target: "/",
			body:   "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3AAlarmTopic&Message=m",
			wantOp: "Publish", want: []string{"sns:Publish arn:aws:sns:us-east-1:000000000000:AlarmTopic"}},
		{name: "EventBridge PutEvents per entry", service: "events", target: "AWSEvents.PutEvents",
			body:   `{"Entries":[{"EventBusName":"local-request-events","Source":"veil.requests"},{"Source":"x"},{"EventBusName":"arn:aws:events:us-east-1:000000000000:event-bus/other"}]}`,
			wantOp: "PutEvents", want: []string{"events:PutEvents arn:aws:events:us-east-1:000000000000:event-bus/local-request-events",
				"events:PutEvents arn:aws:events:us-east-1:000000000000:event-bus/default", "events:PutEvents arn:aws:events:us-east-1:000000000000:event-bus/other"}},
		{name: "Lambda Invoke by name", service: "lambda", method: "POST", target: "/2015-03-31/functions/PseudonymizeFunction/invocations",
			wantOp: "Invoke", want: []string{"lambda:InvokeFunction arn:aws:lambda:us-east-1:000000000000:function:PseudonymizeFunction"}},
		{name: "Lambda Invoke by ARN with qualifier", service: "lambda", method: "POST",
			target: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3AF/invocations?Qualifier=live",
			wantOp: "Invoke", want: []string{"lambda:InvokeFunction arn:aws:lambda:us-east-1:000000000000:function:F:live"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "POST"
			}
			path := tc.target
			if tc.service == "dynamodb" || tc.service == "states" || tc.service == "secretsmanager" || tc.service == "events" {
				path = "/"
			}
			r := httptest.NewRequest(method, path, strings.NewReader(tc.body))
			if path == "/" && tc.target != "/" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			r.Header.Set("Authorization", strings.Replace(sigS3, "/s3/", "/"+tc.service+"/", 1))
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			if strings.Contains(tc.target, "X-Amz-Credential") {
				r.Header.Del("Authorization")
			}
			c := MapRequest(tc.service, r, []byte(tc.body), testEnv)
			if c.Operation != tc.wantOp {
				t.Errorf("Operation = %q, want %q", c.Operation, tc.wantOp)
			}
			if got := render(c, tc.ctxKeys...); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("checks =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			wantKey := "role-F"
			if strings.Contains(tc.target, "X-Amz-Credential") {
				wantKey = "role-Signer"
			}
			if c.AccessKey != wantKey {
				t.Errorf("AccessKey = %q, want %q", c.AccessKey, wantKey)
			}
		})
	}
}

// The mapper reads untrusted requests: whatever arrives, it returns at
// least one check and never panics.
func FuzzMapRequest(f *testing.F) {
	f.Add("s3", "PUT", "/b/k?uploadId=1&partNumber=2", "X-Amz-Copy-Source", "b2/%zz?versionId=", []byte("x"))
	f.Add("s3", "POST", "/b?delete", "Authorization", sigS3, []byte("<Delete><Object><Key>k</Key></Object></Delete>"))
	f.Add("dynamodb", "POST", "/", "X-Amz-Target", "DynamoDB_20120810.TransactWriteItems", []byte(`{"TransactItems":[{"Put":null}]}`))
	f.Add("dynamodb", "POST", "/", "Authorization", sigDDB, []byte(`{"RequestItems":{"":1}}`))
	f.Add("states", "POST", "/", "X-Amz-Target", "AWSStepFunctions.", []byte(`[`))
	f.Add("ses", "POST", "/v2/email/outbound-emails", "Content-Type", "application/json", []byte(`{"FromEmailAddress":"<"}`))
	f.Add("sns", "POST", "/", "Content-Type", "x", []byte("Action=Publish&TopicArn"))
	f.Add("events", "POST", "/", "X-Amz-Target", "AWSEvents.PutEvents", []byte(`{"Entries":[null]}`))
	f.Add("lambda", "POST", "/2015-03-31/functions//invocations", "", "", []byte(nil))
	f.Add("secretsmanager", "POST", "/", "X-Amz-Target", "secretsmanager.GetSecretValue", []byte(`{"SecretId":7}`))
	f.Fuzz(func(t *testing.T, service, method, target, hk, hv string, body []byte) {
		r, err := http.NewRequest(method, "http://edge"+target, bytes.NewReader(body))
		if err != nil {
			return
		}
		if hk != "" {
			r.Header[hk] = []string{hv}
		}
		c := MapRequest(service, r, body, testEnv)
		if len(c.Checks) == 0 {
			t.Fatalf("MapRequest(%q %q %q) has no checks", service, method, target)
		}
		a := NewAuthorizer(testEnv)
		a.AddPrincipal("role-F", Principal{ARN: "arn:aws:sts::000000000000:assumed-role/FRole/F"})
		if ref := a.Authorize(service, r); ref != nil {
			WriteRefusal(httptest.NewRecorder(), r, ref)
		}
	})
}
