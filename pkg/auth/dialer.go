package auth

// HTTP APIs take no resource policy, so an AWS_IAM route admits any
// principal of the account whose own policy allows execute-api:Invoke.
// The dialer route narrows that to the roles an operator names.

import (
	"strings"

	"github.com/veil-privacy/veil/pkg/veil"
)

// DialerRoles is the set of IAM roles allowed on the dialer route, by
// account and role name (a role's path is not part of the session ARN API
// Gateway reports, so it cannot be part of the match).
type DialerRoles map[string]bool

// ParseDialerRoles reads a comma-separated list of role ARNs
// (arn:aws:iam::<account>:role[/path]/<name>); it returns a
// *veil.ValidationError naming the first entry that is not one.
func ParseDialerRoles(list string) (DialerRoles, error) {
	out := DialerRoles{}
	for _, arn := range strings.Split(list, ",") {
		if arn = strings.TrimSpace(arn); arn == "" {
			continue
		}
		parts := strings.SplitN(arn, ":", 6)
		if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[4] == "" || !strings.HasPrefix(parts[5], "role/") {
			return nil, veil.Invalid("DIALER_ROLE_ARNS", "%q is not an IAM role ARN", arn)
		}
		path := strings.Split(parts[5], "/")
		out[parts[4]+"/"+path[len(path)-1]] = true
	}
	return out, nil
}

// Allows says whether the caller API Gateway's IAM authorizer named by
// callerARN is one of the roles: an assumed-role session
// (arn:aws:sts::<account>:assumed-role/<name>/<session>) of a listed role.
// A user, the account root or another account's role is not.
func (d DialerRoles) Allows(callerARN string) bool {
	parts := strings.SplitN(callerARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sts" {
		return false
	}
	rest, ok := strings.CutPrefix(parts[5], "assumed-role/")
	if !ok {
		return false
	}
	name, session, ok := strings.Cut(rest, "/")
	if !ok || name == "" || session == "" {
		return false
	}
	return d[parts[4]+"/"+name]
}
