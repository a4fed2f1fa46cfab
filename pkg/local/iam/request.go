package iam

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"sort"
	"strings"
)

// Env is what mapping a request needs to know of the account.
type Env struct {
	Region, AccountID string
	// BucketKeys maps a bucket name to the ARN of the customer-managed KMS
	// key its default encryption (SSE-KMS) uses; a bucket not named here
	// encrypts with S3's own keys (SSE-S3), which take no KMS permission.
	BucketKeys map[string]string
	// SecretARNs maps a secret's name to its ARN: Secrets Manager
	// evaluates a name given as SecretId as the secret's ARN.
	SecretARNs map[string]string
}

// Call is one AWS API request as IAM sees it: who signed it and every
// (action, resource) that must be allowed for it to proceed.
type Call struct {
	Service   string // the SigV4 signing name: s3, dynamodb, states, …
	Operation string // the API operation, for messages
	AccessKey string // "" for an unsigned request
	Checks    []Request
}

// AccessKey returns the access key ID a request is signed with, from its
// Authorization header or a presigned URL's X-Amz-Credential; "" when it
// is not signed.
func AccessKey(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "AWS4-HMAC-SHA256") {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			cred, _, _ = strings.Cut(auth[i+len("Credential="):], ",")
		}
	}
	key, _, _ := strings.Cut(cred, "/")
	return strings.TrimSpace(key)
}

// bodyReaders says which services' requests are evaluated from their body
// (S3's only for DeleteObjects, whose keys are in it).
func needsBody(service string, r *http.Request) bool {
	if service == "s3" {
		_, del := r.URL.Query()["delete"]
		return r.Method == http.MethodPost && del
	}
	return true
}

// MapRequest returns the Call that request r (with its body already read)
// is evaluated as on AWS, for service, its SigV4 signing name. It never
// fails: a request it cannot read maps to its operation on "*", which the
// service's own validation then refuses.
func MapRequest(service string, r *http.Request, body []byte, env Env) Call {
	c := Call{Service: service, AccessKey: AccessKey(r)}
	switch service {
	case "s3":
		mapS3(&c, r, body, env)
	case "dynamodb":
		mapDynamoDB(&c, r, body, env)
	case "states":
		mapStates(&c, r, body, env)
	case "secretsmanager":
		mapSecrets(&c, r, body, env)
	case "ses", "email":
		mapSES(&c, r, body, env)
	case "sns":
		mapSNS(&c, r, body)
	case "events":
		mapEvents(&c, r, body, env)
	case "lambda":
		mapLambda(&c, r, env)
	default:
		c.Operation = "Unknown"
		c.Checks = []Request{{Action: service + ":Unknown", Resource: "*"}}
	}
	return c
}

func (c *Call) add(action, resource string, ctx map[string][]string) {
	c.Checks = append(c.Checks, Request{Action: action, Resource: resource, Context: ctx})
}

// ---- S3 ----

func objectARN(bucket, key string) string { return "arn:aws:s3:::" + bucket + "/" + key }

// kmsKeyARN returns the ARN of a key named by ID, ARN or alias.
func kmsKeyARN(id string, env Env) string {
	switch {
	case id == "":
		return ""
	case strings.HasPrefix(id, "arn:"):
		return id
	case strings.HasPrefix(id, "alias/"):
		return fmt.Sprintf("arn:aws:kms:%s:%s:%s", env.Region, env.AccountID, id)
	}
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", env.Region, env.AccountID, id)
}

// writeKey returns the customer-managed key a write into bucket encrypts
// under: the request's own SSE-KMS key, else the bucket's default. A
// request for aws:kms without a key and no default uses the AWS-managed
// aws/s3 key, whose key policy (not IAM) admits the account's principals.
func writeKey(r *http.Request, bucket string, env Env) string {
	if id := r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); id != "" {
		return kmsKeyARN(id, env)
	}
	if strings.EqualFold(r.Header.Get("X-Amz-Server-Side-Encryption"), "AES256") {
		return ""
	}
	return env.BucketKeys[bucket]
}

func sseContext(r *http.Request) map[string][]string {
	ctx := map[string][]string{}
	if v := r.Header.Get("X-Amz-Server-Side-Encryption"); v != "" {
		ctx["s3:x-amz-server-side-encryption"] = []string{v}
	}
	if v := r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); v != "" {
		ctx["s3:x-amz-server-side-encryption-aws-kms-key-id"] = []string{v}
	}
	return ctx
}

func mapS3(c *Call, r *http.Request, body []byte, env Env) {
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	version := q.Get("versionId")
	if bucket == "" {
		c.Operation = "ListBuckets"
		c.add("s3:ListAllMyBuckets", "*", nil)
		return
	}
	bucketARN := "arn:aws:s3:::" + bucket
	if key == "" {
		op, action := s3BucketOperation(r.Method, has)
		c.Operation = op
		if op == "DeleteObjects" {
			mapDeleteObjects(c, bucket, body)
			return
		}
		var ctx map[string][]string
		if action == "s3:ListBucket" || action == "s3:ListBucketVersions" {
			ctx = map[string][]string{}
			for _, k := range []string{"prefix", "delimiter", "max-keys"} {
				if v, ok := q[k]; ok {
					ctx["s3:"+k] = v
				}
			}
		}
		c.add(action, bucketARN, ctx)
		return
	}
	obj := objectARN(bucket, key)
	versioned := func(plain, withVersion string) string {
		if version != "" {
			return withVersion
		}
		return plain
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case has("tagging"):
			c.Operation = "GetObjectTagging"
			c.add(versioned("s3:GetObjectTagging", "s3:GetObjectVersionTagging"), obj, nil)
		case has("acl"):
			c.Operation = "GetObjectAcl"
			c.add(versioned("s3:GetObjectAcl", "s3:GetObjectVersionAcl"), obj, nil)
		case has("uploadId"):
			c.Operation = "ListParts"
			c.add("s3:ListMultipartUploadParts", obj, nil)
		case has("attributes"):
			c.Operation = "GetObjectAttributes"
			c.add(versioned("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"), obj, nil)
		case has("retention"):
			c.Operation = "GetObjectRetention"
			c.add("s3:GetObjectRetention", obj, nil)
		case has("legal-hold"):
			c.Operation = "GetObjectLegalHold"
			c.add("s3:GetObjectLegalHold", obj, nil)
		default:
			c.Operation = "GetObject"
			if r.Method == http.MethodHead {
				c.Operation = "HeadObject"
			}
			c.add(versioned("s3:GetObject", "s3:GetObjectVersion"), obj, nil)
			if k := env.BucketKeys[bucket]; k != "" && r.Method == http.MethodGet {
				c.add("kms:Decrypt", k, nil)
			}
		}
	case http.MethodPut:
		switch {
		case has("tagging"):
			c.Operation = "PutObjectTagging"
			c.add(versioned("s3:PutObjectTagging", "s3:PutObjectVersionTagging"), obj, nil)
		case has("acl"):
			c.Operation = "PutObjectAcl"
			c.add(versioned("s3:PutObjectAcl", "s3:PutObjectVersionAcl"), obj, nil)
		case has("retention"):
			c.Operation = "PutObjectRetention"
			c.add("s3:PutObjectRetention", obj, nil)
		case has("legal-hold"):
			c.Operation = "PutObjectLegalHold"
			c.add("s3:PutObjectLegalHold", obj, nil)
		default:
			c.Operation = "PutObject"
			if has("uploadId") {
				c.Operation = "UploadPart"
			}
			c.add("s3:PutObject", obj, sseContext(r))
			if r.Header.Get("X-Amz-Tagging") != "" {
				c.add("s3:PutObjectTagging", obj, nil)
			}
			if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
				c.Operation = "CopyObject"
				if has("uploadId") {
					c.Operation = "UploadPartCopy"
				}
				mapCopySource(c, src, env)
			}
			if k := writeKey(r, bucket, env); k != "" {
				c.add("kms:GenerateDataKey", k, nil)
			}
		}
	case http.MethodDelete:
		switch {
		case has("tagging"):
			c.Operation = "DeleteObjectTagging"
			c.add(versioned("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"), obj, nil)
		case has("uploadId"):
			c.Operation = "AbortMultipartUpload"
			c.add("s3:AbortMultipartUpload", obj, nil)
		default:
			c.Operation = "DeleteObject"
			c.add(versioned("s3:DeleteObject", "s3:DeleteObjectVersion"), obj, nil)
		}
	case http.MethodPost:
		switch {
		case has("uploads"):
			c.Operation = "CreateMultipartUpload"
			c.add("s3:PutObject", obj, sseContext(r))
			if r.Header.Get("X-Amz-Tagging") != "" {
				c.add("s3:PutObjectTagging", obj, nil)
			}
			if k := writeKey(r, bucket, env); k != "" {
				c.add("kms:GenerateDataKey", k, nil)
			}
		case has("uploadId"):
			// S3 reads the encrypted parts back to complete the upload.
			c.Operation = "CompleteMultipartUpload"
			c.add("s3:PutObject", obj, nil)
			if k := env.BucketKeys[bucket]; k != "" {
				c.add("kms:Decrypt", k, nil)
			}
		case has("restore"):
			c.Operation = "RestoreObject"
			c.add("s3:RestoreObject", obj, nil)
		case has("select"):
			c.Operation = "SelectObjectContent"
			c.add("s3:GetObject", obj, nil)
		default:
			c.Operation = "PostObject"
			c.add("s3:PutObject", obj, nil)
		}
	default:
		c.Operation = "Unknown"
		c.add("s3:Unknown", obj, nil)
	}
}

// mapCopySource adds the read of a copy's source: "bucket/key" or
// "/bucket/key", URL-encoded, with an optional "?versionId=".
func mapCopySource(c *Call, src string, env Env) {
	path, query, _ := strings.Cut(src, "?")
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	action := "s3:GetObject"
	if v, err := url.ParseQuery(query); err == nil && v.Get("versionId") != "" {
		action = "s3:GetObjectVersion"
	}
	c.add(action, objectARN(bucket, key), nil)
	if k := env.BucketKeys[bucket]; k != "" {
		c.add("kms:Decrypt", k, nil)
	}
}

func s3BucketOperation(method string, has func(string) bool) (op, action string) {
	type sub struct{ query, op, action string }
	var table []sub
	switch method {
	case http.MethodGet:
		table = []sub{
			{"versioning", "GetBucketVersioning", "s3:GetBucketVersioning"},
			{"versions", "ListObjectVersions", "s3:ListBucketVersions"},
			{"uploads", "ListMultipartUploads", "s3:ListBucketMultipartUploads"},
			{"location", "GetBucketLocation", "s3:GetBucketLocation"},
			{"lifecycle", "GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration"},
			{"tagging", "GetBucketTagging", "s3:GetBucketTagging"},
			{"encryption", "GetBucketEncryption", "s3:GetEncryptionConfiguration"},
			{"notification", "GetBucketNotificationConfiguration", "s3:GetBucketNotification"},
			{"policy", "GetBucketPolicy", "s3:GetBucketPolicy"},
			{"acl", "GetBucketAcl", "s3:GetBucketAcl"},
			{"object-lock", "GetObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration"},
			{"cors", "GetBucketCors", "s3:GetBucketCORS"},
			{"", "ListObjects", "s3:ListBucket"},
		}
	case http.MethodHead:
		table = []sub{{"", "HeadBucket", "s3:ListBucket"}}
	case http.MethodPut:
		table = []sub{
			{"versioning", "PutBucketVersioning", "s3:PutBucketVersioning"},
			{"lifecycle", "PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration"},
			{"tagging", "PutBucketTagging", "s3:PutBucketTagging"},
			{"encryption", "PutBucketEncryption", "s3:PutEncryptionConfiguration"},
			{"notification", "PutBucketNotificationConfiguration", "s3:PutBucketNotification"},
			{"policy", "PutBucketPolicy", "s3:PutBucketPolicy"},
			{"acl", "PutBucketAcl", "s3:PutBucketAcl"},
			{"object-lock", "PutObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration"},
			{"cors", "PutBucketCors", "s3:PutBucketCORS"},
			{"", "CreateBucket", "s3:CreateBucket"},
		}
	case http.MethodDelete:
		table = []sub{
			{"lifecycle", "DeleteBucketLifecycle", "s3:PutLifecycleConfiguration"},
			{"tagging", "DeleteBucketTagging", "s3:PutBucketTagging"},
			{"encryption", "DeleteBucketEncryption", "s3:PutEncryptionConfiguration"},
			{"policy", "DeleteBucketPolicy", "s3:DeleteBucketPolicy"},
			{"cors", "DeleteBucketCors", "s3:PutBucketCORS"},
			{"", "DeleteBucket", "s3:DeleteBucket"},
		}
	case http.MethodPost:
		table = []sub{{"delete", "DeleteObjects", ""}, {"", "Unknown", "s3:Unknown"}}
	default:
		table = []sub{{"", "Unknown", "s3:Unknown"}}
	}
	for _, s := range table {
		if s.query == "" || has(s.query) {
			return s.op, s.action
		}
	}
	return "Unknown", "s3:Unknown"
}

// mapDeleteObjects evaluates a multi-object delete as S3 does: one
// s3:DeleteObject (or s3:DeleteObjectVersion) per key.
func mapDeleteObjects(c *Call, bucket string, body []byte) {
	var in struct {
		Objects []struct {
			Key       string `xml:"Key"`
			VersionID string `xml:"VersionId"`
		} `xml:"Object"`
	}
	if err := xml.Unmarshal(body, &in); err != nil || len(in.Objects) == 0 {
		c.add("s3:DeleteObject", objectARN(bucket, "*"), nil)
		return
	}
	for _, o := range in.Objects {
		action := "s3:DeleteObject"
		if o.VersionID != "" {
			action = "s3:DeleteObjectVersion"
		}
		c.add(action, objectARN(bucket, o.Key), nil)
	}
}

// ---- DynamoDB ----

func tableARN(name string, env Env) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", env.Region, env.AccountID, name)
}

func mapDynamoDB(c *Call, r *http.Request, body []byte, env Env) {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if op == "" {
		op = "Unknown"
	}
	c.Operation = op
	var in struct {
		TableName     string
		IndexName     string
		RequestItems  map[string]json.RawMessage
		TransactItems []map[string]struct {
			TableName string
		}
	}
	_ = json.Unmarshal(body, &in)
	switch op {
	case "BatchWriteItem", "BatchGetItem":
		if len(in.RequestItems) == 0 {
			c.add("dynamodb:"+op, "*", nil)
		}
		for _, t := range sortedKeys(in.RequestItems) {
			c.add("dynamodb:"+op, tableARN(t, env), nil)
		}
		return
	case "TransactWriteItems", "TransactGetItems":
		actions := map[string]string{"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem",
			"Delete": "dynamodb:DeleteItem", "ConditionCheck": "dynamodb:ConditionCheckItem", "Get": "dynamodb:GetItem"}
		for _, item := range in.TransactItems {
			for kind, v := range item {
				action, ok := actions[kind]
				if !ok {
					action = "dynamodb:" + kind
				}
				c.add(action, tableARN(v.TableName, env), nil)
			}
		}
		if len(c.Checks) == 0 {
			c.add("dynamodb:"+op, "*", nil)
		}
		return
	case "ListTables", "DescribeLimits", "DescribeEndpoints", "ListBackups", "ListGlobalTables":
		c.add("dynamodb:"+op, "*", nil)
		return
	}
	if in.TableName == "" {
		c.add("dynamodb:"+op, "*", nil)
		return
	}
	res := tableARN(in.TableName, env)
	if in.IndexName != "" && (op == "Query" || op == "Scan") {
		res += "/index/" + in.IndexName
	}
	c.add("dynamodb:"+op, res, nil)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---- Step Functions ----

func mapStates(c *Call, r *http.Request, body []byte, env Env) {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if op == "" {
		op = "Unknown"
	}
	c.Operation = op
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		ExecutionArn    string `json:"executionArn"`
		MapRunArn       string `json:"mapRunArn"`
		Name            string `json:"name"`
	}
	_ = json.Unmarshal(body, &in)
	res := "*"
	switch op {
	case "StartExecution", "StartSyncExecution", "DescribeStateMachine", "UpdateStateMachine",
		"DeleteStateMachine", "ListExecutions":
		res = in.StateMachineArn
	case "DescribeExecution", "StopExecution", "GetExecutionHistory", "DescribeStateMachineForExecution",
		"RedriveExecution", "ListMapRuns":
		res = in.ExecutionArn
	case "DescribeMapRun", "UpdateMapRun":
		res = in.MapRunArn
	case "CreateStateMachine":
		res = fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", env.Region, env.AccountID, in.Name)
	}
	if res == "" {
		res = "*"
	}
	c.add("states:"+op, res, nil)
}

// ---- Secrets Manager ----

func mapSecrets(c *Call, r *http.Request, body []byte, env Env) {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if op == "" {
		op = "Unknown"
	}
	c.Operation = op
	var in struct {
		SecretID string `json:"SecretId"`
		Name     string `json:"Name"`
	}
	_ = json.Unmarshal(body, &in)
	id := in.SecretID
	if op == "CreateSecret" {
		id = in.Name
	}
	res := "*"
	switch {
	case id == "" || op == "ListSecrets" || op == "GetRandomPassword":
	case strings.HasPrefix(id, "arn:"):
		res = id
	case env.SecretARNs[id] != "":
		res = env.SecretARNs[id]
	default:
		res = fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s", env.Region, env.AccountID, id)
	}
	c.add("secretsmanager:"+op, res, nil)
}

// ---- SES v2 ----

func mapSES(c *Call, r *http.Request, body []byte, env Env) {
	if r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails" {
		c.Operation = "Unknown"
		c.add("ses:Unknown", "*", nil)
		return
	}
	c.Operation = "SendEmail"
	var in struct {
		FromEmailAddress            string
		FromEmailAddressIdentityArn string
		Destination                 struct{ ToAddresses, CcAddresses, BccAddresses []string }
	}
	_ = json.Unmarshal(body, &in)
	from := in.FromEmailAddress
	if a, err := mail.ParseAddress(from); err == nil {
		from = a.Address
	}
	ctx := map[string][]string{"ses:ApiVersion": {"2"}}
	if from != "" {
		ctx["ses:FromAddress"] = []string{from}
	}
	if rcpt := append(append(append([]string{}, in.Destination.ToAddresses...), in.Destination.CcAddresses...), in.Destination.BccAddresses...); len(rcpt) > 0 {
		ctx["ses:Recipients"] = rcpt
	}
	identity := in.FromEmailAddressIdentityArn
	if identity == "" {
		identity = fmt.Sprintf("arn:aws:ses:%s:%s:identity/%s", env.Region, env.AccountID, from)
	}
	c.add("ses:SendEmail", identity, ctx)
}

// ---- SNS ----

func mapSNS(c *Call, r *http.Request, body []byte) {
	form, _ := url.ParseQuery(string(body))
	if len(form) == 0 {
		form = r.URL.Query()
	}
	op := form.Get("Action")
	if op == "" {
		op = "Unknown"
	}
	c.Operation = op
	res := form.Get("TopicArn")
	if res == "" {
		res = form.Get("TargetArn")
	}
	if res == "" {
		res = "*" // a phone number has no ARN
	}
	c.add("sns:"+op, res, nil)
}

// ---- EventBridge ----

func mapEvents(c *Call, r *http.Request, body []byte, env Env) {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if op == "" {
		op = "Unknown"
	}
	c.Operation = op
	busARN := func(name string) string {
		if name == "" {
			name = "default"
		}
		if strings.HasPrefix(name, "arn:") {
			return name
		}
		return fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", env.Region, env.AccountID, name)
	}
	if op != "PutEvents" {
		var in struct{ Name, EventBusName string }
		_ = json.Unmarshal(body, &in)
		c.add("events:"+op, busARN(in.EventBusName), nil)
		return
	}
	var in struct {
		Entries []struct {
			EventBusName string
			Source       string
			DetailType   string
		}
	}
	_ = json.Unmarshal(body, &in)
	if len(in.Entries) == 0 {
		c.add("events:PutEvents", busARN(""), nil)
	}
	for _, e := range in.Entries {
		c.add("events:PutEvents", busARN(e.EventBusName), map[string][]string{
			"events:source": {e.Source}, "events:detail-type": {e.DetailType},
		})
	}
}

// ---- Lambda ----

func mapLambda(c *Call, r *http.Request, env Env) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
	if !ok {
		c.Operation = "Unknown"
		c.add("lambda:Unknown", "*", nil)
		return
	}
	name, sub, _ := strings.Cut(rest, "/")
	if n, err := url.PathUnescape(name); err == nil {
		name = n
	}
	arn := name
	if i := strings.Index(name, "function:"); i >= 0 {
		arn = fmt.Sprintf("arn:aws:lambda:%s:%s:%s", env.Region, env.AccountID, name[i:])
		if strings.HasPrefix(name, "arn:") {
			arn = name
		}
	} else if name != "" {
		arn = fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", env.Region, env.AccountID, name)
	}
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		arn += ":" + q
	}
	if arn == "" {
		arn = "*"
	}
	switch {
	case sub == "invocations" && r.Method == http.MethodPost:
		c.Operation = "Invoke"
		c.add("lambda:InvokeFunction", arn, nil)
	case sub == "" && r.Method == http.MethodGet:
		c.Operation = "GetFunction"
		c.add("lambda:GetFunction", arn, nil)
	default:
		c.Operation = "Unknown"
		c.add("lambda:Unknown", arn, nil)
	}
}
