package iam

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// samtranslatorDir returns the installed aws-sam-translator's package
// directory; cfn-lint (a make test dependency) brings it, so its absence
// fails the test rather than skipping it.
func samtranslatorDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import samtranslator,os;print(os.path.dirname(samtranslator.__file__))").Output()
	if err != nil {
		t.Fatalf("python3 cannot import samtranslator (install cfn-lint, which brings aws-sam-translator): %v", err)
	}
	return strings.TrimSpace(string(out))
}

// The embedded policy_templates.json is the installed transform's, byte
// for byte: a samtranslator upgrade that changes a template shows here.
func TestEmbeddedPolicyTemplatesMatchSamtranslator(t *testing.T) {
	path := filepath.Join(samtranslatorDir(t), "policy_templates_data", "policy_templates.json")
	installed, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if !bytes.Equal(installed, PolicyTemplatesJSON()) {
		t.Errorf("samdata/policy_templates.json differs from %s: copy it over and update samdata/SOURCE.md's version", path)
	}
}

const expandTemplate = `
Parameters:
  Sender: {Type: String, Default: privacy@example.com}
Resources:
  Table: {Type: AWS::DynamoDB::Table}
  Bucket: {Type: AWS::S3::Bucket}
  Key: {Type: AWS::KMS::Key}
  Secret: {Type: AWS::SecretsManager::Secret}
  Fn: {Type: AWS::Serverless::Function}
  F:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - DynamoDBReadPolicy: {TableName: !Ref Table}
        - S3WritePolicy: {BucketName: !Ref Bucket}
        - KMSDecryptPolicy: {KeyId: !Ref Key}
        - AWSSecretsManagerGetSecretValuePolicy: {SecretArn: !Ref Secret}
        - LambdaInvokePolicy: {FunctionName: !Ref Fn}
        - AWSXrayWriteOnlyAccess
        - Statement:
            - Effect: Allow
              Action: ses:SendEmail
              Resource: '*'
              Condition:
                StringEquals: {'ses:FromAddress': !Ref Sender}
`

// Expected pairs are written by hand from the templates' published text.
func TestExpandPolicies(t *testing.T) {
	tpl, err := samtemplate.Parse([]byte(expandTemplate))
	if err != nil {
		t.Fatal(err)
	}
	res := &samtemplate.Resolver{Template: tpl,
		Refs: map[string]string{"Table": "veil-t", "Bucket": "veil-b", "Key": "local-key",
			"Secret": "arn:aws:secretsmanager:us-east-1:000000000000:secret:Secret", "Fn": "Fn"},
		Pseudo: map[string]string{"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "000000000000"}}
	got, err := ExpandPolicies("F", tpl.Resources["F"].Properties["Policies"], res)
	if err != nil {
		t.Fatalf("ExpandPolicies: %v", err)
	}
	want := []string{
		"Allow dynamodb:batchgetitem arn:aws:dynamodb:us-east-1:000000000000:table/veil-t",
		"Allow dynamodb:batchgetitem arn:aws:dynamodb:us-east-1:000000000000:table/veil-t/index/*",
		"Allow dynamodb:describetable arn:aws:dynamodb:us-east-1:000000000000:table/veil-t",
		"Allow dynamodb:describetable arn:aws:dynamodb:us-east-1:000000000000:table/veil-t/index/*",
		"Allow dynamodb:getitem arn:aws:dynamodb:us-east-1:000000000000:table/veil-t",
		"Allow dynamodb:getitem arn:aws:dynamodb:us-east-1:000000000000:table/veil-t/index/*",
		"Allow dynamodb:query arn:aws:dynamodb:us-east-1:000000000000:table/veil-t",
		"Allow dynamodb:query arn:aws:dynamodb:us-east-1:000000000000:table/veil-t/index/*",
		"Allow dynamodb:scan arn:aws:dynamodb:us-east-1:000000000000:table/veil-t",
		"Allow dynamodb:scan arn:aws:dynamodb:us-east-1:000000000000:table/veil-t/index/*",
		"Allow kms:decrypt arn:aws:kms:us-east-1:000000000000:key/local-key",
		"Allow lambda:invokefunction arn:aws:lambda:us-east-1:000000000000:function:Fn*",
		"Allow s3:putlifecycleconfiguration arn:aws:s3:::veil-b",
		"Allow s3:putlifecycleconfiguration arn:aws:s3:::veil-b/*",
		"Allow s3:putobject arn:aws:s3:::veil-b",
		"Allow s3:putobject arn:aws:s3:::veil-b/*",
		"Allow s3:putobjectacl arn:aws:s3:::veil-b",
		"Allow s3:putobjectacl arn:aws:s3:::veil-b/*",
		"Allow secretsmanager:getsecretvalue arn:aws:secretsmanager:us-east-1:000000000000:secret:Secret",
		"Allow ses:sendemail * if StringEquals(ses:fromaddress=privacy@example.com)",
	}
	if pairs := Pairs(got.Policies); !reflect.DeepEqual(pairs, want) {
		t.Errorf("Pairs =\n%s\nwant\n%s", strings.Join(pairs, "\n"), strings.Join(want, "\n"))
	}
	if wantM := []string{"arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"}; !reflect.DeepEqual(got.Managed, wantM) {
		t.Errorf("Managed = %v, want %v", got.Managed, wantM)
	}
}

func TestExpandPoliciesErrors(t *testing.T) {
	tpl, _ := samtemplate.Parse([]byte("Resources:\n  X: {Type: AWS::S3::Bucket}\n"))
	res := &samtemplate.Resolver{Template: tpl, Refs: map[string]string{}, Pseudo: map[string]string{"AWS::Partition": "aws"}}
	for name, policies := range map[string]any{
		"unknown template": []any{map[string]any{"NoSuchPolicy": map[string]any{"A": "b"}}},
		"missing argument": []any{map[string]any{"S3ReadPolicy": map[string]any{}}},
		"unresolvable ref": []any{map[string]any{"S3ReadPolicy": map[string]any{"BucketName": map[string]any{"Ref": "Nope"}}}},
		"two keys":         []any{map[string]any{"S3ReadPolicy": map[string]any{}, "S3WritePolicy": map[string]any{}}},
		"a number":         []any{42},
	} {
		if _, err := ExpandPolicies("F", policies, res); err == nil {
			t.Errorf("%s: ExpandPolicies = nil error, want one", name)
		}
	}
}
