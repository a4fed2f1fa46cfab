// Package edge is the local stack's single AWS endpoint: one port that
// serves every AWS protocol Veil uses, routed the way AWS routes them (by
// the service named in the request's signature, then by X-Amz-Target), so
// `aws --endpoint-url` and the SDK's AWS_ENDPOINT_URL work unchanged.
package edge

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/veil-privacy/veil/pkg/local/iam"
)

// Edge routes requests to the service stand-ins. A nil service answers
// with AWS's UnknownOperationException.
type Edge struct {
	S3             http.Handler
	DynamoDB       http.Handler
	StepFunctions  http.Handler
	Lambda         http.Handler
	SecretsManager http.Handler
	SES            http.Handler
	SNS            http.Handler
	EventBridge    http.Handler
	// IAM, when set, evaluates every call against the policies of the
	// principal whose access key signed it before any service sees it, and
	// answers a refusal in the service's own error shape.
	IAM *iam.Authorizer
}

// Proxy returns a reverse proxy to a service that speaks the protocol
// itself (dynalite).
func Proxy(target string) (http.Handler, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	return httputil.NewSingleHostReverseProxy(u), nil
}

// Service returns the AWS service a request is for: the signing name of its
// SigV4 credential scope (header or presigned query), else the X-Amz-Target
// prefix, else "s3".
func Service(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "AWS4-HMAC-SHA256") {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			cred = auth[i+len("Credential="):]
			cred, _, _ = strings.Cut(cred, ",")
		}
	}
	// Credential=AKID/date/region/service/aws4_request
	if parts := strings.Split(cred, "/"); len(parts) >= 5 {
		return parts[3]
	}
	switch target := r.Header.Get("X-Amz-Target"); {
	case strings.HasPrefix(target, "DynamoDB_"):
		return "dynamodb"
	case strings.HasPrefix(target, "AWSStepFunctions."):
		return "states"
	case strings.HasPrefix(target, "secretsmanager."):
		return "secretsmanager"
	case strings.HasPrefix(target, "AWSEvents."):
		return "events"
	}
	if strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/") {
		return "lambda"
	}
	return "s3"
}

// ServeHTTP routes one request.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var h http.Handler
	service := Service(r)
	if e.IAM != nil {
		if ref := e.IAM.Authorize(service, r); ref != nil {
			iam.WriteRefusal(w, r, ref)
			return
		}
	}
	switch service {
	case "s3":
		h = e.S3
	case "dynamodb":
		h = e.DynamoDB
	case "states":
		h = e.StepFunctions
	case "lambda":
		h = e.Lambda
	case "secretsmanager":
		h = e.SecretsManager
	case "ses", "email":
		h = e.SES
	case "sns":
		h = e.SNS
	case "events":
		h = e.EventBridge
	}
	if h == nil {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-ErrorType", "UnknownOperationException")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"UnknownOperationException","message":"this service is not served by the local stack"}`))
		return
	}
	h.ServeHTTP(w, r)
}
