// Package auth knows Veil's staff roles and who is calling: it reads the
// claims API Gateway's JWT authorizer passes to a function and answers
// whether the caller may do a thing.
package auth

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/veil-privacy/veil/pkg/veil"
)

// Role is a staff role; each is a Cognito group of the same name.
type Role string

// The staff roles.
const (
	Agent      Role = "agent"
	Supervisor Role = "supervisor"
	Admin      Role = "admin"
	Auditor    Role = "auditor"
)

// Dialer is the role of a caller API Gateway authenticated by its IAM
// signature (a dialer's service role allowed by DialerSuppressionCheckPolicy):
// never a Cognito group, so never in Roles.
const Dialer Role = "dialer"

// FromIAM returns the caller API Gateway's IAM authorizer describes: a
// Dialer named by its ARN. It returns veil.ErrUnauthenticated without one.
func FromIAM(arn string) (Caller, error) {
	if arn == "" {
		return Caller{}, fmt.Errorf("no IAM caller: %w", veil.ErrUnauthenticated)
	}
	return Caller{Subject: arn, Roles: []Role{Dialer}}, nil
}

// API is an external system (a CRM, a ticketing system) that files
// requests: a Cognito app client holding RequestsScope through the
// client-credentials grant, never a group and never in Roles.
const API Role = "api"

// RequestsScope is the OAuth scope an API client files requests with.
const RequestsScope = "veil/requests"

// Roles lists every staff role.
var Roles = []Role{Agent, Supervisor, Admin, Auditor}

// GroupsClaim is the claim that carries a caller's Cognito groups.
const GroupsClaim = "cognito:groups"

// Caller is an authenticated staff member.
type Caller struct {
	Subject string
	Roles   []Role
}

// FromClaims returns the caller the authorizer's claims describe. API
// Gateway HTTP APIs flatten a list claim into one string ("[agent admin]");
// a JSON array or a comma list is read too. It returns veil.ErrUnauthenticated
// when there are no claims or no subject.
func FromClaims(claims map[string]string) (Caller, error) {
	sub := claims["sub"]
	if sub == "" {
		return Caller{}, fmt.Errorf("claims without subject: %w", veil.ErrUnauthenticated)
	}
	c := Caller{Subject: sub}
	for _, sc := range strings.Fields(strings.Trim(claims["scope"], "[]")) {
		if sc == RequestsScope {
			c.Roles = append(c.Roles, API)
		}
	}
	for _, g := range ParseGroups(claims[GroupsClaim]) {
		for _, r := range Roles {
			if g == string(r) {
				c.Roles = append(c.Roles, r)
			}
		}
	}
	return c, nil
}

// ParseGroups reads a groups claim in any of the forms API Gateway and
// Cognito produce: "[a b]", `["a","b"]`, "a,b" or "a".
func ParseGroups(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var list []string
	if strings.HasPrefix(v, "[") && json.Unmarshal([]byte(v), &list) == nil {
		groups := list[:0]
		for _, g := range list {
			if g = strings.TrimSpace(g); g != "" {
				groups = append(groups, g)
			}
		}
		return groups
	}
	v = strings.Trim(v, "[]")
	return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
}

// Has reports whether the caller holds at least one of roles.
func (c Caller) Has(roles ...Role) bool {
	for _, have := range c.Roles {
		for _, want := range roles {
			if have == want {
				return true
			}
		}
	}
	return false
}

// Require returns nil if the caller holds one of roles, else an error
// wrapping veil.ErrForbidden.
func (c Caller) Require(roles ...Role) error {
	if c.Has(roles...) {
		return nil
	}
	return fmt.Errorf("caller lacks role %v: %w", roles, veil.ErrForbidden)
}

// ActingRole is the role the caller acts in for an audit record: the
// strongest of roles it holds, in the order given ("" for none).
func (c Caller) ActingRole(roles ...Role) string {
	for _, r := range roles {
		if c.Has(r) {
			return string(r)
		}
	}
	return ""
}
