// The local stack builds itself from template.yaml through this package, so
// the tests cover CloudFormation's short forms, the intrinsic functions Veil
// uses, and the real template end to end.
package samtemplate

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string) *Template {
	t.Helper()
	tpl, err := Parse([]byte(strings.TrimSpace(src) + "\n"))
	if err != nil {
		t.Fatalf("Parse error = %v", err)
	}
	return tpl
}

func TestParseShortForms(t *testing.T) {
	tpl := mustParse(t, `
Resources:
  R:
    Type: Test::Thing
    Properties:
      Ref: !Ref Bucket
      GetAttDot: !GetAtt Queue.Arn
      GetAttList: !GetAtt [Queue, QueueName]
      Sub: !Sub ${AWS::StackName}-leads
      SubList: !Sub ['${A}-${B}', {A: x, B: !Ref Bucket}]
      If: !If [HasAlarm, !Ref Topic, !Ref AWS::NoValue]
      Cond: !Not [!Equals [!Ref P, '']]
      Join: !Join [',', [a, !Ref Bucket]]
      Select: !Select [1, [a, b]]
      Condition: !Condition HasAlarm
      Plain: {Ref: Bucket}
      Number: 30
      Bool: true
      Quoted: '007'
      List: [arm64]
      Date: 2010-09-09
      Float: 1.5
      Null: ~
`)
	got := tpl.Resources["R"].Properties
	want := map[string]any{
		"Ref":        map[string]any{"Ref": "Bucket"},
		"GetAttDot":  map[string]any{"Fn::GetAtt": []any{"Queue", "Arn"}},
		"GetAttList": map[string]any{"Fn::GetAtt": []any{"Queue", "QueueName"}},
		"Sub":        map[string]any{"Fn::Sub": "${AWS::StackName}-leads"},
		"SubList":    map[string]any{"Fn::Sub": []any{"${A}-${B}", map[string]any{"A": "x", "B": map[string]any{"Ref": "Bucket"}}}},
		"If":         map[string]any{"Fn::If": []any{"HasAlarm", map[string]any{"Ref": "Topic"}, map[string]any{"Ref": "AWS::NoValue"}}},
		"Cond":       map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "P"}, ""}}}},
		"Join":       map[string]any{"Fn::Join": []any{",", []any{"a", map[string]any{"Ref": "Bucket"}}}},
		"Select":     map[string]any{"Fn::Select": []any{1, []any{"a", "b"}}},
		"Condition":  map[string]any{"Condition": "HasAlarm"},
		"Plain":      map[string]any{"Ref": "Bucket"},
		"Number":     30,
		"Bool":       true,
		"Quoted":     "007",
		"List":       []any{"arm64"},
		"Date":       "2010-09-09",
		"Float":      1.5,
		"Null":       nil,
	}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s = %#v, want %#v", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("properties = %d keys, want %d", len(got), len(want))
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{name: "empty", src: "", wantErr: "empty template"},
		{name: "comment only", src: "# nothing\n", wantErr: "empty template"},
		{name: "not a mapping", src: "- a\n- b\n", wantErr: "not a mapping"},
		{name: "bad YAML", src: "Resources: [\n", wantErr: "yaml"},
		{name: "resource without Type", src: "Resources:\n  R:\n    Properties: {}\n", wantErr: "resource R: no Type"},
		{name: "alias in its own anchor", src: "a: &x\n  b: *x\n", wantErr: "refers to itself"},
		{name: "alias bomb", src: aliasBomb(), wantErr: "more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// aliasBomb is a few lines of YAML that expand to 10^9 nodes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestAliasesExpand(t *testing.T) {
	tpl := mustParse(t, `
Globals:
  Function:
    Environment:
      Variables: &env
        A: !Ref P
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables: *env
`)
	if got := tpl.Functions()[0].Environment["A"]; !reflect.DeepEqual(got, map[string]any{"Ref": "P"}) {
		t.Fatalf("aliased variable = %#v, want the anchor's value", got)
	}
}

const resolverTemplate = `
Parameters:
  Stage: {Type: String, Default: dev}
  Empty: {Type: String, Default: ''}
  Days: {Type: Number, Default: 7}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  HasEmpty: !Not [!Equals [!Ref Empty, '']]
  Both: !And [!Condition IsProd, !Condition HasEmpty]
  Either: !Or [!Condition IsProd, !Not [!Condition HasEmpty]]
  Bad: !Ref Stage
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  Queue: {Type: AWS::SQS::Queue}
`

func TestResolver(t *testing.T) {
	tpl := mustParse(t, resolverTemplate)
	r := &Resolver{
		Template: tpl,
		Params:   map[string]string{"Stage": "test"},
		Pseudo:   map[string]string{"AWS::Region": "us-east-1", "AWS::AccountId": "000000000000", "AWS::StackName": "veil"},
		Refs:     map[string]string{"Bucket": "veil-leads", "Queue": "http://sqs/q"},
		Attrs:    map[string]string{"Queue.Arn": "arn:aws:sqs:us-east-1:000000000000:q", "Bucket.Arn": "arn:aws:s3:::veil-leads"},
	}
	tests := []struct {
		name    string
		in      string // YAML of one value
		want    any
		wantErr string
	}{
		{name: "Ref parameter override", in: "!Ref Stage", want: "test"},
		{name: "Ref parameter default", in: "!Ref Days", want: "7"},
		{name: "Ref empty default", in: "!Ref Empty", want: ""},
		{name: "Ref pseudo", in: "!Ref AWS::Region", want: "us-east-1"},
		{name: "Ref resource", in: "!Ref Bucket", want: "veil-leads"},
		{name: "Ref unknown", in: "!Ref Nope", wantErr: "Ref Nope: unknown name"},
		{name: "GetAtt", in: "!GetAtt Queue.Arn", want: "arn:aws:sqs:us-east-1:000000000000:q"},
		{name: "GetAtt long form", in: "{'Fn::GetAtt': [Bucket, Arn]}", want: "arn:aws:s3:::veil-leads"},
		{name: "GetAtt unknown", in: "!GetAtt Queue.QueueName", wantErr: "Fn::GetAtt Queue.QueueName: unknown attribute"},
		{name: "GetAtt malformed", in: "{'Fn::GetAtt': Queue}", wantErr: "want [LogicalId, Attribute]"},
		{name: "Sub names", in: "!Sub '${AWS::StackName}-leads-${AWS::AccountId}'", want: "veil-leads-000000000000"},
		{name: "Sub resource and attribute", in: "!Sub 'arn:aws:s3:::${Bucket}/* ${Queue.Arn}'", want: "arn:aws:s3:::veil-leads/* arn:aws:sqs:us-east-1:000000000000:q"},
		{name: "Sub variables map", in: "!Sub ['${Name}.${AWS::Region}.${Days}', {Name: !Ref Bucket}]", want: "veil-leads.us-east-1.7"},
		{name: "Sub variable shadows a name", in: "!Sub ['${Bucket}', {Bucket: mine}]", want: "mine"},
		{name: "Sub literal", in: "!Sub '${!Literal} stays'", want: "${!Literal} stays"},
		{name: "Sub unknown", in: "!Sub 'x-${Nope}'", wantErr: `Fn::Sub "x-${Nope}"`},
		{name: "Sub unknown attribute", in: "!Sub '${Bucket.DomainName}'", wantErr: "unknown attribute"},
		{name: "Sub malformed list", in: "!Sub [a]", wantErr: "want [text, variables]"},
		{name: "If false", in: "!If [IsProd, yes, no]", want: "no"},
		{name: "If true", in: "!If [Either, !Ref Bucket, no]", want: "veil-leads"},
		{name: "If undefined condition", in: "!If [Nope, a, b]", wantErr: "condition Nope: not defined"},
		{name: "If non-boolean condition", in: "!If [Bad, a, b]", wantErr: "condition Bad: not a boolean"},
		{name: "If malformed", in: "!If [IsProd, a]", wantErr: "want [condition, then, else]"},
		{name: "Equals", in: "!Equals [!Ref Stage, test]", want: true},
		{name: "Not", in: "!Not [!Equals [a, b]]", want: true},
		{name: "Not of a string", in: "!Not [a]", wantErr: "operand is not a condition"},
		{name: "And", in: "!And [!Equals [a, a], !Condition Both]", want: false},
		{name: "Or", in: "!Or [!Equals [a, b], !Condition Either]", want: true},
		{name: "Condition", in: "!Condition HasEmpty", want: false},
		{name: "Join", in: "!Join [':', [a, !Ref Bucket, !Ref Days]]", want: "a:veil-leads:7"},
		{name: "Join empty", in: "!Join ['-', []]", want: ""},
		{name: "Select", in: "!Select [1, [a, !Ref Stage, c]]", want: "test"},
		{name: "Select string index", in: "!Select ['0', [a, b]]", want: "a"},
		{name: "Select out of range", in: "!Select [3, [a, b]]", wantErr: "out of range"},
		{name: "Select negative", in: "!Select [-1, [a, b]]", wantErr: "out of range"},
		{name: "unsupported function", in: "!FindInMap [M, a, b]", wantErr: "Fn::FindInMap: not supported"},
		{name: "nested structure", in: "{A: !Ref Bucket, B: [!Ref Stage, 3, true]}", want: map[string]any{"A": "veil-leads", "B": []any{"test", 3, true}}},
		{name: "NoValue dropped from a mapping", in: "{A: !Ref AWS::NoValue, B: b}", want: map[string]any{"B": "b"}},
		{name: "NoValue dropped from a list", in: "[a, !Ref AWS::NoValue, !If [IsProd, x, !Ref AWS::NoValue]]", want: []any{"a"}},
		{name: "If choosing NoValue", in: "{Sub: !If [IsProd, [x], !Ref AWS::NoValue], K: v}", want: map[string]any{"K": "v"}},
		{name: "error names where", in: "{Outer: {Inner: [ok, !Ref Nope]}}", wantErr: "Outer: Inner: [1]: Ref Nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := value(t, tc.in)
			got, err := r.Value(v)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Value(%s) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Value(%s) error = %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Value(%s) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

// value parses one YAML value the way Parse parses a template's.
func value(t *testing.T, src string) any {
	t.Helper()
	tpl := mustParse(t, "Resources:\n  X:\n    Type: T\n    Properties:\n      V: "+src)
	return tpl.Resources["X"].Properties["V"]
}

func TestResolverString(t *testing.T) {
	r := &Resolver{Template: mustParse(t, resolverTemplate), Refs: map[string]string{"Bucket": "b"}}
	tests := []struct {
		in, want string
	}{
		{in: "!Ref Bucket", want: "b"},
		{in: "!Ref AWS::NoValue", want: ""},
		{in: "42", want: "42"},
		{in: "!Equals [a, a]", want: "true"},
		{in: "~", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := r.String(value(t, tc.in))
			if err != nil {
				t.Fatalf("String(%s) error = %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("String(%s) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if _, err := r.String(value(t, "!Ref Nope")); err == nil {
		t.Fatalf("String(!Ref Nope) error = nil, want one")
	}
}

func ExampleResolver_String() {
	tpl, _ := Parse([]byte(`
Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  Leads:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub ${AWS::StackName}-${Stage}-leads-${AWS::AccountId}
`))
	r := &Resolver{Template: tpl, Pseudo: map[string]string{"AWS::StackName": "veil", "AWS::AccountId": "000000000000"}}
	name, err := r.String(tpl.Resources["Leads"].Properties["BucketName"])
	fmt.Println(name, err)
	// Output: veil-dev-leads-000000000000 <nil>
}

func TestCheckReferences(t *testing.T) {
	tpl := mustParse(t, `
Parameters:
  P: {Type: String}
Conditions:
  C: !Equals [!Ref P, x]
  Broken: !Equals [!Ref Missing1, x]
  Combined: !And [!Condition C, !Condition Undefined3]
Globals:
  Function:
    Environment:
      Variables:
        A: !Ref Missing2
Resources:
  Good:
    Type: T
    Properties:
      A: !Ref P
      B: !GetAtt Good.Arn
      C: !Sub '${AWS::Region}-${P}-${Good.Arn}-${!Escaped}'
      D: !Sub ['${V}-${P}', {V: !Ref Good}]
      E: !If [C, !Ref AWS::NoValue, x]
      F: !Condition C
  Bad:
    Type: T
    Condition: Undefined1
    Properties:
      A: !Ref Missing3
      B: !GetAtt Missing4.Arn
      C: !Sub '${Missing5}-${Missing6.Arn}'
      D: !If [Undefined2, a, b]
      E: {'Fn::GetAtt': Good}
      F:
        Statement:
          - Effect: Allow
            Condition: {StringEquals: {'aws:SourceAccount': !Ref AWS::AccountId}}
Outputs:
  O:
    Value: !Ref Missing7
`)
	var got []string
	for _, err := range tpl.CheckReferences() {
		got = append(got, err.Error())
	}
	sort.Strings(got)
	want := []string{
		"Conditions: Ref Missing1 names nothing",
		"Conditions: condition Undefined3 is not defined",
		"Globals: Ref Missing2 names nothing",
		"Outputs: Ref Missing7 names nothing",
		"Resources.Bad: Fn::GetAtt Missing4 names no resource",
		"Resources.Bad: Fn::Sub ${Missing5} names nothing",
		"Resources.Bad: Fn::Sub ${Missing6.Arn} names nothing",
		"Resources.Bad: Ref Missing3 names nothing",
		"Resources.Bad: condition Undefined1 is not defined",
		"Resources.Bad: condition Undefined2 is not defined",
		"Resources.Bad: malformed Fn::GetAtt",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("CheckReferences() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

const functionsTemplate = `
Globals:
  Function:
    Handler: bootstrap
    CodeUri: .
    Environment:
      Variables:
        TABLE: !Ref Table
        LOG_LEVEL: INFO
Resources:
  Table: {Type: AWS::DynamoDB::Table}
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth: {DefaultAuthorizer: CognitoJWT}
  OpenApi:
    Type: AWS::Serverless::HttpApi
  B:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: makefile}
    Properties:
      CodeUri: functions/b
      Environment:
        Variables:
          LOG_LEVEL: DEBUG
          OWN: x
      Events:
        Me: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /me, Method: get}}
        Health: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /health, Method: GET, Auth: {Authorizer: NONE}}}
        Open: {Type: HttpApi, Properties: {ApiId: !Ref OpenApi, Path: /open, Method: POST}}
        Implicit: {Type: HttpApi, Properties: {Path: /implicit, Method: ANY}}
        Queue: {Type: SQS, Properties: {Queue: q, BatchSize: 10}}
  A:
    Type: AWS::Serverless::Function
    Properties:
      Handler: custom
      Events:
        Items: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: '/items/{id}', Method: DELETE}}
        ItemsGet: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: '/items/{id}', Method: GET, Auth: {Authorizer: Other}}}
  NotAFunction: {Type: AWS::Lambda::Function}
`

func TestFunctions(t *testing.T) {
	fns := mustParse(t, functionsTemplate).Functions()
	var ids []string
	for _, f := range fns {
		ids = append(ids, f.LogicalID)
	}
	if got, want := strings.Join(ids, ","), "A,B"; got != want {
		t.Fatalf("Functions() = %s, want %s", got, want)
	}
	a, b := fns[0], fns[1]
	checks := []struct{ field, got, want string }{
		{"A.Handler", a.Handler, "custom"},
		{"A.CodeURI", a.CodeURI, "."},
		{"A.BuildMethod", a.BuildMethod, ""},
		{"B.Handler", b.Handler, "bootstrap"},
		{"B.CodeURI", b.CodeURI, "functions/b"},
		{"B.BuildMethod", b.BuildMethod, "makefile"},
		{"B.Events.Queue.Type", b.Events["Queue"].Type, "SQS"},
		{"B.Events.Me.Name", b.Events["Me"].Name, "Me"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	wantA := map[string]any{"TABLE": map[string]any{"Ref": "Table"}, "LOG_LEVEL": "INFO"}
	if !reflect.DeepEqual(a.Environment, wantA) {
		t.Errorf("A.Environment = %v, want %v", a.Environment, wantA)
	}
	wantB := map[string]any{"TABLE": map[string]any{"Ref": "Table"}, "LOG_LEVEL": "DEBUG", "OWN": "x"}
	if !reflect.DeepEqual(b.Environment, wantB) {
		t.Errorf("B.Environment = %v, want %v (the function's value wins)", b.Environment, wantB)
	}
	if len(b.Events) != 5 || b.Events["Queue"].Properties["BatchSize"] != 10 {
		t.Errorf("B.Events = %v, want 5 with the SQS properties", b.Events)
	}
}

func TestRoutes(t *testing.T) {
	got := mustParse(t, functionsTemplate).Routes()
	want := []Route{
		{Function: "B", Method: "GET", Path: "/health", Authorizer: "NONE"},
		{Function: "B", Method: "ANY", Path: "/implicit", Authorizer: "NONE"},
		{Function: "A", Method: "DELETE", Path: "/items/{id}", Authorizer: "CognitoJWT"},
		{Function: "A", Method: "GET", Path: "/items/{id}", Authorizer: "Other"},
		{Function: "B", Method: "GET", Path: "/me", Authorizer: "CognitoJWT"},
		{Function: "B", Method: "POST", Path: "/open", Authorizer: "NONE"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Routes() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestOfType(t *testing.T) {
	tpl := mustParse(t, functionsTemplate)
	if got := strings.Join(tpl.OfType("AWS::Serverless::HttpApi"), ","); got != "Api,OpenApi" {
		t.Fatalf("OfType(HttpApi) = %s, want Api,OpenApi", got)
	}
	if got := tpl.OfType("AWS::Nothing"); len(got) != 0 {
		t.Fatalf("OfType(AWS::Nothing) = %v, want none", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(functionsTemplate))
	f.Add([]byte(resolverTemplate))
	f.Add([]byte("Resources:\n  R:\n    Type: T\n    Properties: {A: !Sub ['${X}', {X: !GetAtt [a, b]}]}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("Conditions: {C: !Condition C}\nResources: {R: {Type: T, Properties: {A: !If [C, 1, 2]}}}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		tpl, err := Parse(src)
		if err != nil {
			return
		}
		tpl.CheckReferences()
		tpl.Functions()
		tpl.Routes()
		r := &Resolver{Template: tpl, Refs: map[string]string{}, Attrs: map[string]string{}}
		for _, res := range tpl.Resources {
			_, _ = r.Value(res.Properties)
		}
		_, _ = r.Value(tpl.Outputs)
	})
}
