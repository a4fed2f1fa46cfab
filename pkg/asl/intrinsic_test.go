package asl

import (
	"regexp"
	"testing"
)

// TestIntrinsics runs each intrinsic function in a Pass state's Parameters
// with the inputs and results of the AWS documentation, 'Intrinsic functions
// for JSONPath states in Step Functions', one section per function.
func TestIntrinsics(t *testing.T) {
	tests := []struct {
		section string
		input   string
		expr    string
		want    string
	}{
		{"States.Format", `{"name":"Arnav"}`, `States.Format('Hello, my name is {}.', $.name)`, `"Hello, my name is Arnav."`},
		{"States.Format, escaped braces and quotes", `{"n":3}`, `States.Format('\{literal\} {} it\'s', $.n)`, `"{literal} 3 it's"`},
		{"States.StringToJson", `{"escapedJsonString":"{\"foo\": \"bar\"}"}`, `States.StringToJson($.escapedJsonString)`, `{"foo":"bar"}`},
		{"States.JsonToString", `{"unescapedJson":{"foo":"bar"}}`, `States.JsonToString($.unescapedJson)`, `"{\"foo\":\"bar\"}"`},
		{"States.Array", `{"Id":123456}`, `States.Array($.Id)`, `[123456]`},
		{"States.ArrayPartition", `{"inputArray":[1,2,3,4,5,6,7,8,9]}`, `States.ArrayPartition($.inputArray,4)`, `[[1,2,3,4],[5,6,7,8],[9]]`},
		{"States.ArrayContains", `{"inputArray":[1,2,3,4,5,6,7,8,9],"lookingFor":5}`, `States.ArrayContains($.inputArray, $.lookingFor)`, `true`},
		{"States.ArrayRange", `{}`, `States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`},
		{"States.ArrayGetItem", `{"inputArray":[1,2,3,4,5,6,7,8,9],"index":5}`, `States.ArrayGetItem($.inputArray, $.index)`, `6`},
		{"States.ArrayLength", `{"inputArray":[1,2,3,4,5,6,7,8,9]}`, `States.ArrayLength($.inputArray)`, `9`},
		{"States.ArrayUnique", `{"inputArray":[1,2,3,3,3,3,3,3,4]}`, `States.ArrayUnique($.inputArray)`, `[1,2,3,4]`},
		{"States.Base64Encode", `{"input":"Data to encode"}`, `States.Base64Encode($.input)`, `"RGF0YSB0byBlbmNvZGU="`},
		{"States.Base64Decode", `{"base64":"RGF0YSB0byBlbmNvZGU="}`, `States.Base64Decode($.base64)`, `"Data to encode"`},
		// The documentation prints this digest with a character missing
		// (aaff4a450a104cd177d28d18d7485e8cae074b7); this is SHA-1("input data").
		{"States.Hash", `{"Data":"input data","Algorithm":"SHA-1"}`, `States.Hash($.Data, $.Algorithm)`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{"States.JsonMerge", `{"json1":{"a":{"a1":1,"a2":2},"b":2},"json2":{"a":{"a3":1,"a4":2},"c":3}}`, `States.JsonMerge($.json1, $.json2, false)`, `{"a":{"a3":1,"a4":2},"b":2,"c":3}`},
		{"States.MathAdd", `{"value1":111,"step":-1}`, `States.MathAdd($.value1, $.step)`, `110`},
		{"States.StringSplit", `{"inputString":"1,2,3,4,5","splitter":","}`, `States.StringSplit($.inputString, $.splitter)`, `["1","2","3","4","5"]`},
		{"States.StringSplit, several delimiters", `{"inputString":"This.is+a,test=string","splitter":".+,="}`, `States.StringSplit($.inputString, $.splitter)`, `["This","is","a","test","string"]`},
		{"nested functions", `{"ImageRecipe":{"Arn":"arn:aws:imagebuilder:us-east-1:111122223333:image-recipe/my-recipe/1.0.2"}}`, `States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))`, `"1.0"`},
	}
	for _, tc := range tests {
		t.Run(tc.section, func(t *testing.T) {
			def := `{"StartAt":"S","States":{"S":{"Type":"Pass","Parameters":{"r.$":` + encodeJSON(tc.expr) + `},"OutputPath":"$.r","End":true}}}`
			info := run(t, def, tc.input, nil)
			if info.Status != StatusSucceeded {
				t.Fatalf("%s: status = %s (%s: %s), want SUCCEEDED", tc.expr, info.Status, info.Error, info.Cause)
			}
			if !sameJSON(t, info.Output, tc.want) {
				t.Fatalf("%s = %s, want %s", tc.expr, info.Output, tc.want)
			}
		})
	}

	t.Run("States.UUID and States.MathRandom", func(t *testing.T) {
		def := `{"StartAt":"S","States":{"S":{"Type":"Pass","Parameters":{"uuid.$":"States.UUID()","n.$":"States.MathRandom($.start, $.end)"},"End":true}}}`
		info := run(t, def, `{"start":1,"end":999}`, nil)
		out, _ := decodeJSON([]byte(info.Output))
		m, _ := out.(map[string]any)
		if u, _ := m["uuid"].(string); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u) {
			t.Errorf("States.UUID() = %q, want a version 4 UUID", u)
		}
		if n, ok := integer(m["n"]); !ok || n < 1 || n >= 999 {
			t.Errorf("States.MathRandom(1, 999) = %v, want an integer in [1, 999)", m["n"])
		}
	})

	failures := []struct{ name, expr, input string }{
		{"too few placeholders", `States.Format('{}', $.a, $.a)`, `{"a":1}`},
		{"not JSON", `States.StringToJson($.a)`, `{"a":"{nope"}`},
		{"index out of range", `States.ArrayGetItem($.a, 5)`, `{"a":[1]}`},
		{"MathAdd on a fraction", `States.MathAdd($.a, 1)`, `{"a":1.5}`},
	}
	for _, tc := range failures {
		t.Run("IntrinsicFailure/"+tc.name, func(t *testing.T) {
			def := `{"StartAt":"S","States":{"S":{"Type":"Pass","Parameters":{"r.$":` + encodeJSON(tc.expr) + `},"End":true}}}`
			info := run(t, def, tc.input, nil)
			if info.Status != StatusFailed || info.Error != ErrIntrinsicFailure {
				t.Fatalf("%s: status, error = %s, %q; want FAILED, %s (ASL spec, 'Intrinsic Functions')", tc.expr, info.Status, info.Error, ErrIntrinsicFailure)
			}
		})
	}

	for _, bad := range []string{`States.Nope()`, `States.Format(`, `States.Array('x)`, `States.MathAdd(1)`, `States.UUID(1)`} {
		if _, err := parseIntrinsic(bad); err == nil {
			t.Errorf("parseIntrinsic(%q) = nil error, want an error", bad)
		}
	}
}
