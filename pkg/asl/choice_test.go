package asl

import "testing"

// TestChoiceOperators evaluates every comparison operator. Values follow the
// ASL specification, 'Choice Rules', and AWS docs, 'Choice workflow state'.
func TestChoiceOperators(t *testing.T) {
	input := `{"s":"log-2024.txt","n":42,"f":1.5,"b":true,"ts":"2016-03-14T01:59:00Z","nul":null,"other":{"s":"log-2024.txt","n":42,"b":true,"ts":"2016-03-14T01:59:00Z"},"star":"a*b","back":"a\\b"}`
	in, err := decodeJSON([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rule string
		want bool
	}{
		{`"Variable":"$.s","StringEquals":"log-2024.txt"`, true},
		{`"Variable":"$.s","StringEquals":"other"`, false},
		{`"Variable":"$.s","StringLessThan":"m"`, true},
		{`"Variable":"$.s","StringGreaterThan":"m"`, false},
		{`"Variable":"$.s","StringLessThanEquals":"log-2024.txt"`, true},
		{`"Variable":"$.s","StringGreaterThanEquals":"log-2025"`, false},
		{`"Variable":"$.s","StringEqualsPath":"$.other.s"`, true},
		{`"Variable":"$.s","StringLessThanPath":"$.other.s"`, false},
		{`"Variable":"$.s","StringMatches":"log-*.txt"`, true},
		{`"Variable":"$.s","StringMatches":"*.csv"`, false},
		{`"Variable":"$.s","StringMatches":"*"`, true},
		{`"Variable":"$.star","StringMatches":"a\\*b"`, true},
		{`"Variable":"$.s","StringMatches":"log\\*"`, false},
		{`"Variable":"$.back","StringMatches":"a\\\\b"`, true},
		{`"Variable":"$.n","NumericEquals":42`, true},
		{`"Variable":"$.n","NumericEquals":42.0`, true},
		{`"Variable":"$.n","NumericLessThan":42`, false},
		{`"Variable":"$.f","NumericGreaterThan":1`, true},
		{`"Variable":"$.n","NumericLessThanEquals":42`, true},
		{`"Variable":"$.n","NumericGreaterThanEquals":43`, false},
		{`"Variable":"$.n","NumericEqualsPath":"$.other.n"`, true},
		{`"Variable":"$.f","NumericLessThanPath":"$.other.n"`, true},
		{`"Variable":"$.f","NumericGreaterThanPath":"$.other.n"`, false},
		{`"Variable":"$.f","NumericLessThanEqualsPath":"$.other.n"`, true},
		{`"Variable":"$.n","NumericGreaterThanEqualsPath":"$.other.n"`, true},
		{`"Variable":"$.s","NumericEquals":42`, false}, // type mismatch is false, not an error
		{`"Variable":"$.b","BooleanEquals":true`, true},
		{`"Variable":"$.b","BooleanEqualsPath":"$.other.b"`, true},
		{`"Variable":"$.ts","TimestampEquals":"2016-03-14T01:59:00Z"`, true},
		{`"Variable":"$.ts","TimestampEquals":"2016-03-14T02:59:00+01:00"`, true},
		{`"Variable":"$.ts","TimestampLessThan":"2016-03-14T02:00:00Z"`, true},
		{`"Variable":"$.ts","TimestampGreaterThan":"2016-03-14T02:00:00Z"`, false},
		{`"Variable":"$.ts","TimestampLessThanEquals":"2016-03-14T01:59:00Z"`, true},
		{`"Variable":"$.ts","TimestampGreaterThanEquals":"2017-01-01T00:00:00Z"`, false},
		{`"Variable":"$.ts","TimestampEqualsPath":"$.other.ts"`, true},
		{`"Variable":"$.s","TimestampEquals":"2016-03-14T01:59:00Z"`, false},
		{`"Variable":"$.nul","IsNull":true`, true},
		{`"Variable":"$.s","IsNull":true`, false},
		{`"Variable":"$.missing","IsPresent":false`, true},
		{`"Variable":"$.s","IsPresent":true`, true},
		{`"Variable":"$.n","IsNumeric":true`, true},
		{`"Variable":"$.s","IsString":true`, true},
		{`"Variable":"$.b","IsBoolean":true`, true},
		{`"Variable":"$.ts","IsTimestamp":true`, true},
		{`"Variable":"$.s","IsTimestamp":true`, false},
		{`"Not":{"Variable":"$.s","StringEquals":"x"}`, true},
		{`"And":[{"Variable":"$.n","NumericGreaterThanEquals":20},{"Variable":"$.n","NumericLessThan":30}]`, false},
		{`"Or":[{"Variable":"$.n","NumericEquals":0},{"Variable":"$.b","BooleanEquals":true}]`, true},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			m, err := decodeJSON([]byte(`{` + tc.rule + `}`))
			if err != nil {
				t.Fatal(err)
			}
			r, err := compileChoice(m.(map[string]any), false)
			if err != nil {
				t.Fatalf("compileChoice: %v", err)
			}
			got, err := r.eval(in, nil)
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			if got != tc.want {
				t.Fatalf("{%s} = %v, want %v", tc.rule, got, tc.want)
			}
		})
	}
}

// TestChoiceState runs the Choice state example of the AWS docs, 'Choice
// workflow state' (ChoiceStateX), and the spec's States.NoChoiceMatched.
func TestChoiceState(t *testing.T) {
	def := `{"StartAt":"ChoiceStateX","States":{
	  "ChoiceStateX":{"Type":"Choice","Choices":[
	    {"Not":{"Variable":"$.type","StringEquals":"Private"},"Next":"Public"},
	    {"Variable":"$.value","NumericEquals":0,"Next":"ValueIsZero"},
	    {"And":[{"Variable":"$.value","NumericGreaterThanEquals":20},{"Variable":"$.value","NumericLessThan":30}],"Next":"ValueInTwenties"}],
	   "Default":"DefaultState"},
	  "Public":{"Type":"Pass","Result":"Public","End":true},
	  "ValueIsZero":{"Type":"Pass","Result":"ValueIsZero","End":true},
	  "ValueInTwenties":{"Type":"Pass","Result":"ValueInTwenties","End":true},
	  "DefaultState":{"Type":"Fail","Error":"DefaultStateError","Cause":"No Matches!"}}}`
	tests := []struct {
		input, want, wantErr string
	}{
		{`{"type":"Public","value":0}`, `"Public"`, ""},
		{`{"type":"Private","value":0}`, `"ValueIsZero"`, ""},
		{`{"type":"Private","value":25}`, `"ValueInTwenties"`, ""},
		{`{"type":"Private","value":35}`, "", "DefaultStateError"},
		{`{"type":"Private"}`, "", ErrRuntime}, // $.value does not exist
	}
	for _, tc := range tests {
		t.Run(tc.input, func(t *testing.T) {
			info := run(t, def, tc.input, nil)
			if tc.wantErr != "" {
				if info.Error != tc.wantErr {
					t.Fatalf("error = %q (%s), want %q", info.Error, info.Status, tc.wantErr)
				}
				return
			}
			if info.Status != StatusSucceeded || !sameJSON(t, info.Output, tc.want) {
				t.Fatalf("output = %s (%s %s), want %s", info.Output, info.Status, info.Error, tc.want)
			}
		})
	}
	t.Run("no Default", func(t *testing.T) {
		def := `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.v","IsPresent":true,"Next":"E"}]},"E":{"Type":"Succeed"}}}`
		if info := run(t, def, `{}`, nil); info.Error != ErrNoChoiceMatched {
			t.Fatalf("error = %q, want %s", info.Error, ErrNoChoiceMatched)
		}
	})
}
