package apigw

// AWS_IAM routes: API Gateway checks the request's Signature Version 4
// (service execute-api, the stack's region) and hands the function the
// caller's identity. The local stack has one set of credentials
// (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "local"): a request signed
// with them is the local account's root, as a signed request of a role is
// that role on AWS.

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/local/sigv4"
)

// LocalAccessKey and LocalSecretKey are the local stack's credentials.
const (
	LocalAccessKey = "local"
	LocalSecretKey = "local"
	localAccount   = "000000000000"
)

// DialerAccessKey signs as a session of the local account's role
// "dialer" (secret LocalSecretKey), the role a dialer's service would
// assume on AWS.
const DialerAccessKey = "dialer"

// localCredentials knows two keys: the local account root's, and the
// dialer role's session.
func localCredentials(accessKeyID string) (string, sigv4.Principal, bool) {
	switch accessKeyID {
	case LocalAccessKey:
		return LocalSecretKey, sigv4.Principal{
			AccountID: localAccount, CallerID: localAccount, UserID: localAccount,
			ARN: "arn:aws:iam::" + localAccount + ":root",
		}, true
	case DialerAccessKey:
		// API Gateway names a role's caller by its session: role ID, then
		// the session name.
		return LocalSecretKey, sigv4.Principal{
			AccountID: localAccount, CallerID: "AROALOCALDIALER:local", UserID: "AROALOCALDIALER:local",
			ARN: "arn:aws:sts::" + localAccount + ":assumed-role/dialer/local",
		}, true
	}
	return "", sigv4.Principal{}, false
}

// iamDescription is the caller as API Gateway describes it to the function.
func iamDescription(p sigv4.Principal) *events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription {
	return &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
		AccessKey: p.AccessKeyID, AccountID: p.AccountID, CallerID: p.CallerID,
		UserARN: p.ARN, UserID: p.UserID,
	}
}
