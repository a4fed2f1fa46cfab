package iam

import (
	"encoding/json"
	"testing"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"*", "arn:aws:s3:::b/k", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c.csv", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", false},
		{"arn:aws:s3:::b", "arn:aws:s3:::b/", false},
		{"arn:aws:s3:::b*", "arn:aws:s3:::bb", true},
		{"s3:Get?bject", "s3:GetObject", true},
		{"s3:Get?bject", "s3:Getbject", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"arn:aws:lambda:r:1:function:F*", "arn:aws:lambda:r:1:function:F:live", true},
		{"**a", "a", true},
		{"", "", true},
		{"", "x", false},
	} {
		if got := Match(tc.p, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

func mustPolicy(t *testing.T, doc string) Policy {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	p, err := ParsePolicy("test", v)
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	return p
}

func TestEvaluate(t *testing.T) {
	read := `{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::leads","arn:aws:s3:::leads/*"]}]}`
	denyTmp := `{"Statement":{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::leads/tmp/*"}}`
	notAction := `{"Statement":[{"Effect":"Allow","NotAction":"s3:Delete*","Resource":"*"}]}`
	notResource := `{"Statement":[{"Effect":"Allow","Action":"dynamodb:*","NotResource":"arn:aws:dynamodb:*:*:table/secret"}]}`
	ses := `{"Statement":[{"Effect":"Allow","Action":"ses:SendEmail","Resource":"*","Condition":{"StringEquals":{"ses:FromAddress":"privacy@example.com"}}}]}`
	sesNot := `{"Statement":[{"Effect":"Allow","Action":"ses:SendEmail","Resource":"*","Condition":{"StringNotEquals":{"ses:FromAddress":"x@example.com"}}}]}`
	arnLike := `{"Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::veil-*"},"Bool":{"aws:SecureTransport":"true"}}}]}`
	ifExists := `{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"StringEqualsIfExists":{"s3:x-amz-server-side-encryption":"aws:kms"}}}]}`
	like := `{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":["campaigns/*"]}}}]}`
	forAll := `{"Statement":[{"Effect":"Allow","Action":"ses:SendEmail","Resource":"*","Condition":{"ForAllValues:StringLike":{"ses:Recipients":["*@example.com"]}}}]}`
	null := `{"Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}},{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`

	put := func(ctx map[string][]string) Request {
		return Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::x/k", Context: ctx}
	}
	for _, tc := range []struct {
		name     string
		policies []string
		req      Request
		want     Decision
	}{
		{"allowed object read", []string{read}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::leads/a/b.csv"}, Allow},
		{"action case-insensitive", []string{read}, Request{Action: "S3:getobject", Resource: "arn:aws:s3:::leads/a.csv"}, Allow},
		{"resource case-sensitive", []string{read}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::LEADS/a.csv"}, ImplicitDeny},
		{"no allow for the action", []string{read}, Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::leads/a.csv"}, ImplicitDeny},
		{"bucket action on bucket ARN", []string{read}, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::leads"}, Allow},
		{"other bucket", []string{read}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::exports/a"}, ImplicitDeny},
		{"explicit deny wins", []string{read, denyTmp}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::leads/tmp/x"}, ExplicitDeny},
		{"deny elsewhere leaves allow", []string{read, denyTmp}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::leads/campaigns/x"}, Allow},
		{"no policies", nil, Request{Action: "s3:GetObject", Resource: "*"}, ImplicitDeny},
		{"NotAction allows others", []string{notAction}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::a/b"}, Allow},
		{"NotAction excludes", []string{notAction}, Request{Action: "s3:DeleteObject", Resource: "arn:aws:s3:::a/b"}, ImplicitDeny},
		{"NotResource allows others", []string{notResource}, Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:1:table/t"}, Allow},
		{"NotResource excludes", []string{notResource}, Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:1:table/secret"}, ImplicitDeny},
		{"StringEquals holds", []string{ses}, Request{Action: "ses:SendEmail", Resource: "arn:aws:ses:r:1:identity/privacy@example.com", Context: map[string][]string{"ses:FromAddress": {"privacy@example.com"}}}, Allow},
		{"condition key case-insensitive", []string{ses}, Request{Action: "ses:SendEmail", Resource: "x", Context: map[string][]string{"SES:fromaddress": {"privacy@example.com"}}}, Allow},
		{"StringEquals other value", []string{ses}, Request{Action: "ses:SendEmail", Resource: "x", Context: map[string][]string{"ses:FromAddress": {"mallory@example.com"}}}, ImplicitDeny},
		{"StringEquals value case-sensitive", []string{ses}, Request{Action: "ses:SendEmail", Resource: "x", Context: map[string][]string{"ses:FromAddress": {"Privacy@example.com"}}}, ImplicitDeny},
		{"StringEquals key absent", []string{ses}, Request{Action: "ses:SendEmail", Resource: "x"}, ImplicitDeny},
		{"StringNotEquals other", []string{sesNot}, Request{Action: "ses:SendEmail", Resource: "x", Context: map[string][]string{"ses:FromAddress": {"y@example.com"}}}, Allow},
		{"StringNotEquals same", []string{sesNot}, Request{Action: "ses:SendEmail", Resource: "x", Context: map[string][]string{"ses:FromAddress": {"x@example.com"}}}, ImplicitDeny},
		{"StringNotEquals absent", []string{sesNot}, Request{Action: "ses:SendEmail", Resource: "x"}, Allow},
		{"ArnLike and Bool hold", []string{arnLike}, Request{Action: "sqs:SendMessage", Resource: "q", Context: map[string][]string{"aws:SourceArn": {"arn:aws:s3:::veil-leads"}, "aws:SecureTransport": {"TRUE"}}}, Allow},
		{"ArnLike fails", []string{arnLike}, Request{Action: "sqs:SendMessage", Resource: "q", Context: map[string][]string{"aws:SourceArn": {"arn:aws:s3:::other"}, "aws:SecureTransport": {"true"}}}, ImplicitDeny},
		{"Bool fails", []string{arnLike}, Request{Action: "sqs:SendMessage", Resource: "q", Context: map[string][]string{"aws:SourceArn": {"arn:aws:s3:::veil-leads"}, "aws:SecureTransport": {"false"}}}, ImplicitDeny},
		{"IfExists absent", []string{ifExists}, put(nil), Allow},
		{"IfExists present, matching", []string{ifExists}, put(map[string][]string{"s3:x-amz-server-side-encryption": {"aws:kms"}}), Allow},
		{"IfExists present, other", []string{ifExists}, put(map[string][]string{"s3:x-amz-server-side-encryption": {"AES256"}}), ImplicitDeny},
		{"StringLike prefix", []string{like}, Request{Action: "s3:ListBucket", Resource: "b", Context: map[string][]string{"s3:prefix": {"campaigns/2024/"}}}, Allow},
		{"StringLike other prefix", []string{like}, Request{Action: "s3:ListBucket", Resource: "b", Context: map[string][]string{"s3:prefix": {"exports/"}}}, ImplicitDeny},
		{"ForAllValues all match", []string{forAll}, Request{Action: "ses:SendEmail", Resource: "x", Context: map[string][]string{"ses:Recipients": {"a@example.com", "b@example.com"}}}, Allow},
		{"ForAllValues one outside", []string{forAll}, Request{Action: "ses:SendEmail", Resource: "x", Context: map[string][]string{"ses:Recipients": {"a@example.com", "b@elsewhere.org"}}}, ImplicitDeny},
		{"Null deny without header", []string{null}, put(nil), ExplicitDeny},
		{"Null deny passes with header", []string{null}, put(map[string][]string{"s3:x-amz-server-side-encryption": {"aws:kms"}}), Allow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ps []Policy
			for _, d := range tc.policies {
				ps = append(ps, mustPolicy(t, d))
			}
			if got := Evaluate(ps, tc.req); got != tc.want {
				t.Errorf("Evaluate(%+v) = %v, want %v", tc.req, got, tc.want)
			}
		})
	}
}

func TestParsePolicyRejects(t *testing.T) {
	for _, doc := range []string{
		`{}`,
		`{"Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":[{"Ref":"X"}],"Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":"yes"}]}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if _, err := ParsePolicy("bad", v); err == nil {
			t.Errorf("ParsePolicy(%s) = nil error, want one", doc)
		}
	}
}
