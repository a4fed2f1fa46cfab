package stack

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// physicalNames gives every template resource the Ref and Fn::GetAtt values
// it has on the local stack: buckets and tables get short "veil-" names
// (veil-leads, veil-index), functions and queues keep their logical IDs.
func physicalNames(t *samtemplate.Template, region, account string) (refs, attrs map[string]string) {
	refs, attrs = map[string]string{}, map[string]string{}
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, account, resource)
	}
	for id, r := range t.Resources {
		switch r.Type {
		case "AWS::S3::Bucket":
			name := "veil-" + kebab(strings.TrimSuffix(id, "Bucket"))
			refs[id], attrs[id+".Arn"] = name, "arn:aws:s3:::"+name
		case "AWS::DynamoDB::Table":
			name := "veil-" + kebab(strings.TrimSuffix(id, "Table"))
			refs[id], attrs[id+".Arn"] = name, arn("dynamodb", "table/"+name)
		case "AWS::Serverless::Function":
			refs[id], attrs[id+".Arn"] = id, arn("lambda", "function:"+id)
		case "AWS::SQS::Queue":
			refs[id] = fmt.Sprintf("http://127.0.0.1/%s/%s", account, id)
			attrs[id+".Arn"], attrs[id+".QueueName"] = arn("sqs", id), id
		case "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine":
			name := stateMachineName(t, id, region, account)
			refs[id], attrs[id+".Arn"], attrs[id+".Name"] = arn("states", "stateMachine:"+name), arn("states", "stateMachine:"+name), name
		case "AWS::SecretsManager::Secret":
			refs[id] = arn("secretsmanager", "secret:"+id)
		case "AWS::KMS::Key":
			refs[id], attrs[id+".Arn"] = "local-"+kebab(id), arn("kms", "key/local-"+kebab(id))
		case "AWS::Events::EventBus":
			refs[id] = "local-" + kebab(id)
			attrs[id+".Arn"], attrs[id+".Name"] = arn("events", "event-bus/"+refs[id]), refs[id]
		case "AWS::SNS::Topic":
			refs[id], attrs[id+".TopicArn"] = arn("sns", id), arn("sns", id)
		default:
			refs[id] = "local-" + kebab(id)
			attrs[id+".Arn"] = arn("local", kebab(id))
		}
	}
	return refs, attrs
}

// DialerRoleARN is the local account's dialer role: the local API Gateway
// admits a call signed with access key "dialer" (secret "local") as a
// session of it, and the stack names it in DialerRoleArns, as an operator
// would name their dialer's role on AWS.
const DialerRoleARN = "arn:aws:iam::" + AccountID + ":role/dialer"

// Parameters are the template parameters the local stack sets over their
// defaults, as `sam deploy --parameter-overrides` would.
var Parameters = map[string]string{"DialerRoleArns": DialerRoleARN}

// stateMachineName is the machine's Name (StateMachineName for the plain
// CloudFormation type) when it is a string or an Fn::Sub of pseudo
// parameters only, as a template names a machine its own policy or another
// resource refers to by ARN; else its logical ID.
func stateMachineName(t *samtemplate.Template, id, region, account string) string {
	props := t.Resources[id].Properties
	v, ok := props["Name"]
	if !ok {
		v, ok = props["StateMachineName"]
	}
	if !ok {
		return id
	}
	pseudo := pseudoParameters()
	pseudo["AWS::Region"], pseudo["AWS::AccountId"] = region, account
	name, err := (&samtemplate.Resolver{Template: t, Refs: map[string]string{}, Attrs: map[string]string{}, Pseudo: pseudo}).String(v)
	if err != nil || name == "" {
		return id
	}
	return name
}

var wordBoundary = regexp.MustCompile(`([a-z0-9])([A-Z])`)

func kebab(s string) string {
	return strings.ToLower(wordBoundary.ReplaceAllString(s, "$1-$2"))
}
