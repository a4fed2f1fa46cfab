package asl

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// lambdas routes an invocation to a function by the name at the end of the ARN.
func lambdas(fns map[string]func(payload map[string]any) (any, error)) Invoker {
	return invokerFunc(func(_ context.Context, function string, payload []byte) ([]byte, error) {
		name := function[strings.LastIndex(function, ":")+1:]
		fn, ok := fns[name]
		if !ok {
			return nil, &FunctionError{Type: "ResourceNotFoundException", Message: "no function " + name}
		}
		var p map[string]any
		_ = json.Unmarshal(payload, &p)
		out, err := fn(p)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	})
}

// constant returns a Lambda that always returns v.
func constant(v string) func(map[string]any) (any, error) {
	return func(map[string]any) (any, error) {
		var out any
		err := json.Unmarshal([]byte(v), &out)
		return out, err
	}
}

// hello is the HelloFunction of the AWS ResultPath examples.
func hello(p map[string]any) (any, error) { return "Hello, " + p["who"].(string) + "!", nil }

const task = `"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:`

// TestInputOutputProcessing checks InputPath, Parameters, ResultSelector,
// ResultPath and OutputPath against the examples of the ASL specification
// and the AWS documentation.
func TestInputOutputProcessing(t *testing.T) {
	fns := map[string]func(map[string]any) (any, error){
		"HelloFunction": hello,
		"Add": func(p map[string]any) (any, error) {
			return p["val1"].(float64) + p["val2"].(float64), nil
		},
		// The result shape of the AWS ResultSelector example (EMR createCluster).
		"CreateCluster": constant(`{"resourceType":"elasticmapreduce","resource":"createCluster.sync","output":{"SdkHttpMetadata":{"HttpHeaders":{"Content-Length":"1112","Content-Type":"application/x-amz-JSON-1.1","Date":"Mon, 25 Nov 2019 19:41:29 GMT","x-amzn-RequestId":"1234-5678-9012"},"HttpStatusCode":200},"SdkResponseMetadata":{"RequestId":"1234-5678-9012"},"ClusterId":"AKIAIOSFODNN7EXAMPLE"}}`),
		"Echo":          func(p map[string]any) (any, error) { return p, nil },
	}
	tests := []struct {
		name, cite  string
		def, input  string
		want        string // output JSON, or "" when the execution fails
		wantErrName string
	}{
		{
			name:  "InputPath selects a node",
			cite:  "AWS docs, 'InputPath, Parameters and ResultSelector', InputPath example",
			def:   `{"StartAt":"S","States":{"S":{"Type":"Pass","InputPath":"$.dataset2","End":true}}}`,
			input: `{"comment":"Example for InputPath.","dataset1":{"val1":1,"val2":2,"val3":3},"dataset2":{"val1":"a","val2":"b","val3":"c"}}`,
			want:  `{"val1":"a","val2":"b","val3":"c"}`,
		},
		{
			name:  "InputPath slice yields an array",
			cite:  "AWS docs, 'InputPath, Parameters and ResultSelector', note on $.a[0:2]",
			def:   `{"StartAt":"S","States":{"S":{"Type":"Pass","InputPath":"$.a[0:2]","End":true}}}`,
			input: `{"a":[1,2,3,4]}`,
			want:  `[1,2]`,
		},
		{
			name:  "Parameters key-value pairs",
			cite:  "AWS docs, 'InputPath, Parameters and ResultSelector', Parameters example",
			def:   `{"StartAt":"S","States":{"S":{"Type":"Pass","Parameters":{"comment":"Selecting what I care about.","MyDetails":{"size.$":"$.product.details.size","exists.$":"$.product.availability","StaticValue":"foo"}},"End":true}}}`,
			input: `{"comment":"Example for Parameters.","product":{"details":{"color":"blue","size":"small","material":"cotton"},"availability":"in stock","sku":"2317","cost":"$23"}}`,
			want:  `{"comment":"Selecting what I care about.","MyDetails":{"size":"small","exists":"in stock","StaticValue":"foo"}}`,
		},
		{
			name:  "ResultSelector then ResultPath",
			cite:  "AWS docs, 'InputPath, Parameters and ResultSelector', ResultSelector example",
			def:   `{"StartAt":"S","States":{"S":{` + task + `CreateCluster","ResultSelector":{"ClusterId.$":"$.output.ClusterId","ResourceType.$":"$.resourceType"},"ResultPath":"$.EMROutput","End":true}}}`,
			input: `{"cluster":"c"}`,
			want:  `{"cluster":"c","EMROutput":{"ClusterId":"AKIAIOSFODNN7EXAMPLE","ResourceType":"elasticmapreduce"}}`,
		},
		{
			name:  "Parameters with reference paths and a negative slice",
			cite:  "ASL spec, 'Parameters' example (flagged / vals)",
			def:   `{"StartAt":"S","States":{"S":{"Type":"Pass","Parameters":{"flagged":true,"parts":{"first.$":"$.vals[0]","last3.$":"$.vals[-3:]"}},"End":true}}}`,
			input: `{"flagged":7,"vals":[0,10,20,30,40,50]}`,
			want:  `{"flagged":true,"parts":{"first":0,"last3":[30,40,50]}}`,
		},
		{
			name:  "InputPath, ResultPath and OutputPath",
			cite:  "ASL spec, 'InputPath, ResultPath and OutputPath' example (Numbers to add)",
			def:   `{"StartAt":"S","States":{"S":{` + task + `Add","InputPath":"$.numbers","ResultPath":"$.sum","End":true}}}`,
			input: `{"title":"Numbers to add","numbers":{"val1":3,"val2":4}}`,
			want:  `{"title":"Numbers to add","numbers":{"val1":3,"val2":4},"sum":7}`,
		},
		{
			name:  "Pass Result with ResultPath",
			cite:  "ASL spec, 'Pass State' example (No-op)",
			def:   `{"StartAt":"No-op","States":{"No-op":{"Type":"Pass","Result":{"x-datum":0.381018,"y-datum":622.2269926397355},"ResultPath":"$.coords","End":true}}}`,
			input: `{"georefOf":"Home"}`,
			want:  `{"georefOf":"Home","coords":{"x-datum":0.381018,"y-datum":622.2269926397355}}`,
		},
		{
			name:  "ResultPath $ replaces the input",
			cite:  "AWS docs, 'Specifying state output using ResultPath', use ResultPath to replace input with result",
			def:   `{"StartAt":"S","States":{"S":{` + task + `HelloFunction","ResultPath":"$","End":true}}}`,
			input: `{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions"}`,
			want:  `"Hello, AWS Step Functions!"`,
		},
		{
			name:  "ResultPath null discards the result",
			cite:  "AWS docs, 'Specifying state output using ResultPath', discard result and keep original input",
			def:   `{"StartAt":"S","States":{"S":{` + task + `HelloFunction","ResultPath":null,"End":true}}}`,
			input: `{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions"}`,
			want:  `{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions"}`,
		},
		{
			name:  "ResultPath includes the result with the input",
			cite:  "AWS docs, 'Specifying state output using ResultPath', include result with input",
			def:   `{"StartAt":"S","States":{"S":{` + task + `HelloFunction","ResultPath":"$.taskresult","End":true}}}`,
			input: `{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions"}`,
			want:  `{"comment":"This is a test of the input and output of a Task state.","details":"Default example","who":"AWS Step Functions","taskresult":"Hello, AWS Step Functions!"}`,
		},
		{
			name:  "InputPath, nested ResultPath and OutputPath together",
			cite:  "AWS docs, 'Example: Manipulating state data with paths in Step Functions workflows' (lambdaresult)",
			def:   `{"StartAt":"S","States":{"S":{` + task + `HelloFunction","InputPath":"$.lambda","ResultPath":"$.data.lambdaresult","OutputPath":"$.data","End":true}}}`,
			input: `{"comment":"An input comment.","data":{"val1":23,"val2":17},"extra":"foo","lambda":{"who":"AWS Step Functions"}}`,
			want:  `{"val1":23,"val2":17,"lambdaresult":"Hello, AWS Step Functions!"}`,
		},
		{
			name:  "ResultPath creates missing objects",
			cite:  "ASL spec, 'ResultPath': the interpreter creates the path's missing nodes",
			def:   `{"StartAt":"S","States":{"S":{"Type":"Pass","Result":1,"ResultPath":"$.a.b['c d']","End":true}}}`,
			input: `{"x":0}`,
			want:  `{"x":0,"a":{"b":{"c d":1}}}`,
		},
		{
			name:  "InputPath and OutputPath null give {}",
			cite:  "AWS docs, 'Processing input and output': a null InputPath or OutputPath sends {}",
			def:   `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":null,"ResultPath":"$.seen","Next":"B"},"B":{"Type":"Pass","OutputPath":null,"End":true}}}`,
			input: `{"secret":"x"}`,
			want:  `{}`,
		},
		{
			name:  "Context object in Parameters",
			cite:  "AWS docs, 'Accessing execution data from the Context object', Parameters with $$ paths",
			def:   `{"StartAt":"Step","States":{"Step":{"Type":"Pass","Parameters":{"name.$":"$$.Execution.Name","state.$":"$$.State.Name","machine.$":"$$.StateMachine.Name","started.$":"$$.Execution.StartTime","entered.$":"$$.State.EnteredTime","retries.$":"$$.State.RetryCount","input.$":"$$.Execution.Input.x"},"End":true}}}`,
			input: `{"x":42}`,
			want:  `{"name":"exec","state":"Step","machine":"sm","started":"2024-03-14T01:59:00.000Z","entered":"2024-03-14T01:59:00.000Z","retries":0,"input":42}`,
		},
		{
			name:  "lambda:invoke wraps the result",
			cite:  "AWS docs, 'Invoke an AWS Lambda function with Step Functions': the output has Payload and StatusCode",
			def:   `{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:Echo","Payload":{"who.$":"$.who"}},"ResultSelector":{"Payload.$":"$.Payload","StatusCode.$":"$.StatusCode","Version.$":"$.ExecutedVersion"},"End":true}}}`,
			input: `{"who":"me"}`,
			want:  `{"Payload":{"who":"me"},"StatusCode":200,"Version":"$LATEST"}`,
		},
		{
			name:        "a Parameters path that names nothing",
			cite:        "ASL spec, 'Parameters': States.ParameterPathFailure",
			def:         `{"StartAt":"S","States":{"S":{"Type":"Pass","Parameters":{"v.$":"$.missing"},"End":true}}}`,
			input:       `{}`,
			wantErrName: ErrParameterPathFailure,
		},
		{
			name:        "ResultPath into a non-object",
			cite:        "ASL spec, 'ResultPath': States.ResultPathMatchFailure",
			def:         `{"StartAt":"S","States":{"S":{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}}}`,
			input:       `{"a":"text"}`,
			wantErrName: ErrResultPathMatch,
		},
		{
			name:        "an InputPath that names nothing",
			cite:        "AWS docs, 'Error names', States.Runtime: applying InputPath to a missing field",
			def:         `{"StartAt":"S","States":{"S":{"Type":"Pass","InputPath":"$.missing","End":true}}}`,
			input:       `{}`,
			wantErrName: ErrRuntime,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := run(t, tc.def, tc.input, lambdas(fns))
			if tc.wantErrName != "" {
				if info.Status != StatusFailed || info.Error != tc.wantErrName {
					t.Fatalf("%s: status, error = %s, %q (%s); want FAILED, %q", tc.cite, info.Status, info.Error, info.Cause, tc.wantErrName)
				}
				return
			}
			if info.Status != StatusSucceeded {
				t.Fatalf("%s: status = %s (%s: %s), want SUCCEEDED", tc.cite, info.Status, info.Error, info.Cause)
			}
			if !sameJSON(t, info.Output, tc.want) {
				t.Fatalf("%s:\noutput = %s\nwant     %s", tc.cite, info.Output, tc.want)
			}
		})
	}
}

// TestPaths checks the JSONPath subset: reference paths and, for InputPath,
// OutputPath and ItemsPath, general paths.
func TestPaths(t *testing.T) {
	// The store document of Stefan Goessner's JSONPath article, which the ASL
	// specification cites for path syntax.
	doc := `{"store":{"book":[{"category":"reference","author":"Nigel Rees","title":"Sayings of the Century","price":8.95},{"category":"fiction","author":"Evelyn Waugh","title":"Sword of Honour","price":12.99},{"category":"fiction","author":"Herman Melville","title":"Moby Dick","isbn":"0-553-21311-3","price":8.99}],"bicycle":{"color":"red","price":19.95}},"a b":{"c":1}}`
	input, err := decodeJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string // "" means: no such node
	}{
		{"$", doc},
		{"$.store.bicycle.color", `"red"`},
		{"$.store.book[0].author", `"Nigel Rees"`},
		{"$.store.book[-1].title", `"Moby Dick"`},
		{"$['a b'].c", `1`},
		{`$["a b"]['c']`, `1`},
		{"$.store.book[*].author", `["Nigel Rees","Evelyn Waugh","Herman Melville"]`},
		{"$.store.book[0,2].price", `[8.95,8.99]`},
		{"$.store.book[1:].price", `[12.99,8.99]`},
		{"$.store.book[?(@.isbn)].title", `["Moby Dick"]`},
		{"$.store.book[?(@.price < 10)].title", `["Sayings of the Century","Moby Dick"]`},
		{"$.store.book[?(@.category == 'fiction')].author", `["Evelyn Waugh","Herman Melville"]`},
		{"$..author", `["Nigel Rees","Evelyn Waugh","Herman Melville"]`},
		{"$.store.missing", ""},
		{"$.store.book[7]", ""},
		{"$.store.book[*].missing", `[]`},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			p, err := parsePath(tc.path)
			if err != nil {
				t.Fatalf("parsePath(%q): %v", tc.path, err)
			}
			got, ok := p.get(input, nil)
			if tc.want == "" {
				if ok {
					t.Fatalf("get(%q) = %s, want no node", tc.path, encodeJSON(got))
				}
				return
			}
			if !ok || !sameJSON(t, encodeJSON(got), tc.want) {
				t.Fatalf("get(%q) = %s (found %v), want %s", tc.path, encodeJSON(got), ok, tc.want)
			}
		})
	}
	for _, bad := range []string{"a.b", "$.", "$[", "$[abc]", "$..", "$['x"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("parsePath(%q) = nil error, want an error", bad)
		}
	}
	if _, err := parseReferencePath("$.a[*]"); err == nil {
		t.Errorf("parseReferencePath($.a[*]) = nil error, want an error: ResultPath must be a reference path")
	}
}
