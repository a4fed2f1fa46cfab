package iam

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// Principal is a caller the local account knows by its access key.
type Principal struct {
	// ARN is how denials name the caller:
	// arn:aws:sts::<account>:assumed-role/<role>/<session> for a role.
	ARN string
	// Admin is the account's administrator: every action is allowed.
	Admin    bool
	Policies []Policy
}

// Denial is one refused (action, resource) of one call.
type Denial struct {
	Principal string
	Service   string
	Operation string
	Action    string
	Resource  string
	Explicit  bool // an explicit Deny, not the absence of an Allow
}

// Message is the error message AWS gives for the denial. It names the
// action and the resource ARN only, never request data.
func (d Denial) Message() string {
	action := d.Action
	if d.Service == "sns" {
		// SNS names its actions in upper case in its messages.
		action = "SNS" + strings.TrimPrefix(action, "sns")
	}
	why := "because no identity-based policy allows the " + action + " action"
	if d.Explicit {
		why = "with an explicit deny in an identity-based policy"
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", d.Principal, action, d.Resource, why)
}

// Refusal is why a call is refused, in the service's terms.
type Refusal struct {
	// Code is AccessDenied, or UnknownKey / Unsigned for a caller that is
	// not the account's.
	Code    string
	Service string
	Denial  *Denial
}

// Refusal codes.
const (
	CodeAccessDenied = "AccessDenied"
	CodeUnknownKey   = "UnknownKey"
	CodeUnsigned     = "Unsigned"
)

// Authorizer evaluates calls against the policies of the principal whose
// access key signed them, and remembers every denial. It is safe for
// concurrent use.
type Authorizer struct {
	Env Env

	mu         sync.Mutex
	principals map[string]Principal
	denials    []Denial
}

// NewAuthorizer returns an Authorizer knowing no principal yet.
func NewAuthorizer(env Env) *Authorizer {
	return &Authorizer{Env: env, principals: map[string]Principal{}}
}

// AddPrincipal makes accessKey sign as p (replacing what it signed as).
func (a *Authorizer) AddPrincipal(accessKey string, p Principal) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.principals[accessKey] = p
}

// Principal returns the principal of accessKey.
func (a *Authorizer) Principal(accessKey string) (Principal, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.principals[accessKey]
	return p, ok
}

// Denials returns every denial so far, oldest first.
func (a *Authorizer) Denials() []Denial {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Denial(nil), a.denials...)
}

// Authorize decides request r for service (its SigV4 signing name). It
// reads r's body when the decision depends on it and puts it back for the
// service. It returns nil when every check of the call is allowed.
func (a *Authorizer) Authorize(service string, r *http.Request) *Refusal {
	var body []byte
	if r.Body != nil && needsBody(service, r) {
		b, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(b))
		if err != nil {
			return &Refusal{Code: CodeUnsigned, Service: service}
		}
		body = b
	}
	c := MapRequest(service, r, body, a.Env)
	if c.AccessKey == "" {
		return &Refusal{Code: CodeUnsigned, Service: service}
	}
	p, ok := a.Principal(c.AccessKey)
	if !ok {
		return &Refusal{Code: CodeUnknownKey, Service: service}
	}
	for _, req := range c.Checks {
		if d := a.decide(p, c.Service, c.Operation, req); d != nil {
			return &Refusal{Code: CodeAccessDenied, Service: service, Denial: d}
		}
	}
	return nil
}

// Check decides one request of principal accessKey made in process (a
// state machine's Lambda task, say), recording a denial as Authorize does.
// It returns nil when allowed.
func (a *Authorizer) Check(accessKey, service, operation string, req Request) *Denial {
	p, ok := a.Principal(accessKey)
	if !ok {
		d := &Denial{Principal: "unknown access key " + accessKey, Service: service, Operation: operation, Action: req.Action, Resource: req.Resource}
		a.record(*d)
		return d
	}
	return a.decide(p, service, operation, req)
}

func (a *Authorizer) decide(p Principal, service, operation string, req Request) *Denial {
	if p.Admin {
		return nil
	}
	dec := Evaluate(p.Policies, req)
	if dec == Allow {
		return nil
	}
	d := &Denial{Principal: p.ARN, Service: service, Operation: operation, Action: req.Action, Resource: req.Resource, Explicit: dec == ExplicitDeny}
	a.record(*d)
	return d
}

func (a *Authorizer) record(d Denial) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.denials = append(a.denials, d)
}

// WriteRefusal answers a refused call as the service itself does: S3's
// 403 XML Error, SNS's XML ErrorResponse, the JSON protocols' __type.
func WriteRefusal(w http.ResponseWriter, r *http.Request, ref *Refusal) {
	msg := "Access Denied"
	if ref.Denial != nil {
		msg = ref.Denial.Message()
	}
	id := uuid.NewString()
	w.Header().Set("X-Amzn-RequestId", id)
	switch ref.Service {
	case "s3":
		code, status := "AccessDenied", http.StatusForbidden
		switch ref.Code {
		case CodeUnknownKey:
			code, msg = "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
		case CodeUnsigned:
			msg = "Access Denied"
		}
		w.Header().Set("X-Amz-Request-Id", id)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if r.Method == http.MethodHead {
			return // a HEAD's error has no body
		}
		var b bytes.Buffer
		b.WriteString(xml.Header)
		_ = xml.NewEncoder(&b).Encode(struct {
			XMLName   xml.Name `xml:"Error"`
			Code      string
			Message   string
			RequestID string `xml:"RequestId"`
			HostID    string `xml:"HostId"`
		}{Code: code, Message: msg, RequestID: id, HostID: id})
		_, _ = w.Write(b.Bytes())
	case "sns":
		code := "AuthorizationError"
		switch ref.Code {
		case CodeUnknownKey:
			code, msg = "InvalidClientTokenId", "The security token included in the request is invalid."
		case CodeUnsigned:
			code, msg = "MissingAuthenticationToken", "Request is missing Authentication Token"
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		var b bytes.Buffer
		_ = xml.NewEncoder(&b).Encode(struct {
			XMLName xml.Name `xml:"ErrorResponse"`
			Xmlns   string   `xml:"xmlns,attr"`
			Error   struct {
				Type    string
				Code    string
				Message string
			}
			RequestID string `xml:"RequestId"`
		}{Xmlns: "http://sns.amazonaws.com/doc/2010-03-31/", Error: struct {
			Type    string
			Code    string
			Message string
		}{"Sender", code, msg}, RequestID: id})
		_, _ = w.Write(b.Bytes())
	case "ses", "email", "lambda":
		typ := "AccessDeniedException"
		switch ref.Code {
		case CodeUnknownKey:
			typ, msg = "UnrecognizedClientException", "The security token included in the request is invalid."
		case CodeUnsigned:
			typ, msg = "MissingAuthenticationTokenException", "Missing Authentication Token"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", typ)
		w.WriteHeader(http.StatusForbidden)
		body := map[string]string{"message": msg}
		if ref.Service == "lambda" {
			body = map[string]string{"Type": "User", "Message": msg}
		}
		_ = json.NewEncoder(w).Encode(body)
	default:
		typ := "AccessDeniedException"
		switch ref.Code {
		case CodeUnknownKey:
			typ, msg = "UnrecognizedClientException", "The security token included in the request is invalid."
		case CodeUnsigned:
			typ, msg = "MissingAuthenticationTokenException", "Request is missing Authentication Token"
		}
		ct := "application/x-amz-json-1.1"
		if ref.Service == "dynamodb" {
			typ = "com.amazonaws.dynamodb.v20120810#" + typ
			ct = "application/x-amz-json-1.0"
		} else if ref.Service == "states" {
			ct = "application/x-amz-json-1.0"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
}
