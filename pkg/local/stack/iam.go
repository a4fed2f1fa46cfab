package stack

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/asl"
	"github.com/veil-privacy/veil/pkg/local/iam"
	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// Credentials on the local stack. The account's administrator signs with
// AdminAccessKey (what the README's AWS CLI walk-through and cmd/veil use)
// and may do anything. Every function and state machine signs with its own
// execution role's credentials: the access key ID is the role's name,
// "<LogicalID>Role" as SAM names the role it creates, and the secret is
// RoleSecretKey. The edge evaluates each call against that role's
// Policies in template.yaml; any other access key is unknown to the
// account.
const (
	AdminAccessKey = "local"
	AdminSecretKey = "local"
	RoleSecretKey  = "local"
)

// RoleName returns the execution role name of the function or state
// machine logicalID (its access key ID on the local stack).
func RoleName(logicalID string) string { return logicalID + "Role" }

// RoleARN returns the ARN of logicalID's execution role.
func RoleARN(logicalID string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", AccountID, RoleName(logicalID))
}

// roleCredentials returns cfg signing as logicalID's execution role.
func roleCredentials(cfg aws.Config, logicalID string) aws.Config {
	c := cfg.Copy()
	c.Credentials = credentials.NewStaticCredentialsProvider(RoleName(logicalID), RoleSecretKey, "")
	return c
}

// authorizer builds the account's principals from the template: the
// administrator, and one role per function and state machine holding its
// expanded Policies.
func (s *Stack) authorizer(res *samtemplate.Resolver) (*iam.Authorizer, error) {
	env := iam.Env{Region: Region, AccountID: AccountID, BucketKeys: map[string]string{}, SecretARNs: map[string]string{}}
	for _, id := range s.Template.OfType("AWS::S3::Bucket") {
		key, err := bucketKey(res, id)
		if err != nil {
			return nil, err
		}
		if key != "" {
			env.BucketKeys[s.Names[id]] = key
		}
	}
	for _, id := range s.Template.OfType("AWS::SecretsManager::Secret") {
		env.SecretARNs[id] = s.Names[id]
	}
	a := iam.NewAuthorizer(env)
	a.AddPrincipal(AdminAccessKey, iam.Principal{ARN: fmt.Sprintf("arn:aws:iam::%s:root", AccountID), Admin: true})
	roles, err := rolePolicies(res)
	if err != nil {
		return nil, err
	}
	for id, exp := range roles {
		if len(exp.Managed) > 0 {
			s.log.Warn("managed policies grant nothing on the local stack", "resource", id, "policies", strings.Join(exp.Managed, ","))
		}
		a.AddPrincipal(RoleName(id), iam.Principal{
			ARN:      fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", AccountID, RoleName(id), id),
			Policies: exp.Policies,
		})
	}
	return a, nil
}

// Resolver returns the resolver the local stack resolves tpl's intrinsic
// functions with: local physical names, account and region.
func Resolver(tpl *samtemplate.Template) *samtemplate.Resolver {
	refs, attrs := physicalNames(tpl, Region, AccountID)
	return &samtemplate.Resolver{Template: tpl, Refs: refs, Attrs: attrs, Pseudo: pseudoParameters(), Params: Parameters}
}

// RolePolicies returns the Policies of every function and state machine of
// tpl, by logical ID, expanded and resolved as the edge evaluates them; it
// returns an error naming a policy that does not expand.
func RolePolicies(tpl *samtemplate.Template) (map[string]iam.Expansion, error) {
	return rolePolicies(Resolver(tpl))
}

func rolePolicies(res *samtemplate.Resolver) (map[string]iam.Expansion, error) {
	out := map[string]iam.Expansion{}
	tpl := res.Template
	for _, id := range append(tpl.OfType("AWS::Serverless::Function"), tpl.OfType("AWS::Serverless::StateMachine")...) {
		exp, err := iam.ExpandPolicies(id, tpl.Resources[id].Properties["Policies"], res)
		if err != nil {
			return nil, err
		}
		dest, err := destinationPolicies(id, tpl.Resources[id].Properties, res)
		if err != nil {
			return nil, err
		}
		exp.Policies = append(exp.Policies, dest...)
		out[id] = exp
	}
	return out, nil
}

// destinationPolicies returns the statements SAM adds to a function's role
// for its EventInvokeConfig destinations (the transform's own rule: SQS
// SendMessage, SNS Publish, Lambda InvokeFunction, EventBridge PutEvents on
// the destination).
func destinationPolicies(id string, props map[string]any, res *samtemplate.Resolver) ([]iam.Policy, error) {
	cfg, _ := props["EventInvokeConfig"].(map[string]any)
	dc, _ := cfg["DestinationConfig"].(map[string]any)
	actions := map[string]string{"SQS": "sqs:SendMessage", "SNS": "sns:Publish", "Lambda": "lambda:InvokeFunction", "EventBridge": "events:PutEvents"}
	var out []iam.Policy
	for _, on := range []string{"OnSuccess", "OnFailure"} {
		d, _ := dc[on].(map[string]any)
		if d == nil {
			continue
		}
		typ, _ := d["Type"].(string)
		action, ok := actions[typ]
		if !ok {
			continue
		}
		arn, err := res.String(d["Destination"])
		if err != nil {
			return nil, fmt.Errorf("%s EventInvokeConfig %s: %w", id, on, err)
		}
		out = append(out, iam.Policy{Name: id + " EventInvokeConfig " + on, Statements: []iam.Statement{{Effect: "Allow", Action: []string{action}, Resource: []string{arn}}}})
	}
	return out, nil
}

// bucketKey returns the ARN of the customer-managed KMS key bucket id's
// default encryption uses, or "" for SSE-S3 or the AWS-managed aws/s3 key.
func bucketKey(res *samtemplate.Resolver, id string) (string, error) {
	enc, _ := res.Template.Resources[id].Properties["BucketEncryption"].(map[string]any)
	rules, _ := enc["ServerSideEncryptionConfiguration"].([]any)
	for _, r := range rules {
		def, _ := r.(map[string]any)["ServerSideEncryptionByDefault"].(map[string]any)
		alg, err := res.String(def["SSEAlgorithm"])
		if err != nil {
			return "", fmt.Errorf("bucket %s encryption: %w", id, err)
		}
		if alg != "aws:kms" && alg != "aws:kms:dsse" {
			continue
		}
		key, err := res.String(def["KMSMasterKeyID"])
		if err != nil {
			return "", fmt.Errorf("bucket %s encryption: %w", id, err)
		}
		if key == "" {
			return "", nil
		}
		if !strings.HasPrefix(key, "arn:") {
			key = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", Region, AccountID, key)
		}
		return key, nil
	}
	return "", nil
}

// Denials returns every call the edge (or a state machine's in-process
// call) refused so far, oldest first.
func (s *Stack) Denials() []iam.Denial { return s.IAM.Denials() }

// roleS3 is the ItemReader's S3 client: each read is signed with the
// credentials of the role the execution runs as (asl.RoleARN), so the
// edge evaluates it against that state machine's policies.
type roleS3 struct {
	clients map[string]*s3.Client // by role ARN
	unknown *s3.Client
}

func newRoleS3(cfg aws.Config, ids []string) roleS3 {
	r := roleS3{clients: map[string]*s3.Client{}}
	for _, id := range ids {
		r.clients[RoleARN(id)] = s3.NewFromConfig(roleCredentials(cfg, id))
	}
	c := cfg.Copy()
	c.Credentials = credentials.NewStaticCredentialsProvider("no-role", RoleSecretKey, "")
	r.unknown = s3.NewFromConfig(c)
	return r
}

func (r roleS3) client(ctx context.Context) *s3.Client {
	if c, ok := r.clients[asl.RoleARN(ctx)]; ok {
		return c
	}
	return r.unknown
}

func (r roleS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return r.client(ctx).ListObjectsV2(ctx, in, optFns...)
}

func (r roleS3) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return r.client(ctx).GetObject(ctx, in, optFns...)
}

var _ asl.S3Client = roleS3{}

// roleKey returns the access key of the role roleARN (an execution's).
func roleKey(roleARN string) string {
	return roleARN[strings.LastIndex(roleARN, "/")+1:]
}
