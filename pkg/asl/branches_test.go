package asl

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

// TestParallelAndMap checks the Parallel and Map states and Fail's paths.
func TestParallelAndMap(t *testing.T) {
	tests := []struct {
		name, cite, def, input string
		want, wantErr          string
	}{
		{
			name: "Parallel output is the array of branch outputs",
			cite: "ASL spec, 'Parallel State' example (LookupCustomerInfo)",
			def: `{"StartAt":"LookupCustomerInfo","States":{"LookupCustomerInfo":{"Type":"Parallel","End":true,"Branches":[
			  {"StartAt":"LookupAddress","States":{"LookupAddress":{"Type":"Pass","Parameters":{"address.$":"$.address"},"End":true}}},
			  {"StartAt":"LookupPhone","States":{"LookupPhone":{"Type":"Pass","Parameters":{"phone.$":"$.phone"},"End":true}}}]}}}`,
			input: `{"address":"1 Main St","phone":"555-0100"}`,
			want:  `[{"address":"1 Main St"},{"phone":"555-0100"}]`,
		},
		{
			name: "a failing branch fails the Parallel state, Catch applies",
			cite: "ASL spec, 'Parallel State': if any branch fails, the Parallel state fails",
			def: `{"StartAt":"P","States":{"P":{"Type":"Parallel","Next":"Done","Catch":[{"ErrorEquals":["BranchError"],"ResultPath":"$.err","Next":"Done"}],"Branches":[
			  {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}},
			  {"StartAt":"F","States":{"F":{"Type":"Fail","Error":"BranchError","Cause":"b"}}}]},"Done":{"Type":"Succeed"}}}`,
			input: `{}`,
			want:  `{"err":{"Error":"BranchError","Cause":"b"}}`,
		},
		{
			name: "Map with ItemsPath, legacy Parameters and $$.Map.Item",
			cite: "ASL spec, 'Map State' example (Validate-All, ship-date / detail.shipped)",
			def: `{"StartAt":"Validate-All","States":{"Validate-All":{"Type":"Map","InputPath":"$.detail","ItemsPath":"$.shipped","MaxConcurrency":0,
			  "Parameters":{"parcel.$":"$$.Map.Item.Value","courier.$":"$.delivery-partner"},
			  "Iterator":{"StartAt":"Validate","States":{"Validate":{"Type":"Pass","Parameters":{"prod.$":"$.parcel.prod","courier.$":"$.courier"},"End":true}}},
			  "ResultPath":"$.detail.shipped","End":true}}}`,
			input: `{"ship-date":"2016-03-14T01:59:00Z","detail":{"delivery-partner":"UQS","shipped":[{"prod":"R31","dest-code":9511,"quantity":1344},{"prod":"S39","dest-code":9511,"quantity":40}]}}`,
			want:  `{"ship-date":"2016-03-14T01:59:00Z","detail":{"delivery-partner":"UQS","shipped":[{"prod":"R31","courier":"UQS"},{"prod":"S39","courier":"UQS"}]}}`,
		},
		{
			name: "Map ItemSelector with the context index and value",
			cite: "AWS docs, 'ItemSelector (Map)' example (ContextIndex / ContextValue)",
			def: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.shipped","ItemSelector":{"ContextIndex.$":"$$.Map.Item.Index","ContextValue.$":"$$.Map.Item.Value"},
			  "ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			input: `{"delivery-partner":"UQS","shipped":[{"prod":"R31","dest-code":9511,"quantity":1344},{"prod":"S39","dest-code":9511,"quantity":40}]}`,
			want:  `[{"ContextIndex":0,"ContextValue":{"prod":"R31","dest-code":9511,"quantity":1344}},{"ContextIndex":1,"ContextValue":{"prod":"S39","dest-code":9511,"quantity":40}}]`,
		},
		{
			name:  "Map over an empty array",
			cite:  "ASL spec, 'Map State': the output is an array with one element per item",
			def:   `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			input: `[]`,
			want:  `[]`,
		},
		{
			name:    "Map items that are not an array",
			cite:    "ASL spec, 'Map State': ItemsPath must select an array",
			def:     `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.x","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:   `{"x":1}`,
			wantErr: ErrRuntime,
		},
		{
			name:    "Fail with ErrorPath and an intrinsic CausePath",
			cite:    "AWS docs, 'Fail workflow state' example (CausePath with States.Format)",
			def:     `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.Error","CausePath":"States.Format('This is a custom error message for {}, caused by {}.', $.Error, $.Cause)"}}}`,
			input:   `{"Error":"ErrorA","Cause":"Kaiju attack"}`,
			wantErr: "ErrorA",
			want:    "This is a custom error message for ErrorA, caused by Kaiju attack.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := run(t, tc.def, tc.input, nil)
			if tc.wantErr != "" {
				if info.Status != StatusFailed || info.Error != tc.wantErr {
					t.Fatalf("%s: status, error = %s, %q (%s); want FAILED, %q", tc.cite, info.Status, info.Error, info.Cause, tc.wantErr)
				}
				if tc.want != "" && info.Cause != tc.want {
					t.Fatalf("%s: cause = %q, want %q", tc.cite, info.Cause, tc.want)
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

// TestMapMaxConcurrency checks that no more than MaxConcurrency iterations
// run at once and that results keep item order.
func TestMapMaxConcurrency(t *testing.T) {
	var mu sync.Mutex
	running, peak := 0, 0
	release := make(chan struct{})
	inv := invokerFunc(func(ctx context.Context, _ string, p []byte) ([]byte, error) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		mu.Lock()
		running--
		mu.Unlock()
		return p, nil
	})
	h := newHarness(t, inv)
	x := h.start(`{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":2,"ItemProcessor":{"StartAt":"T","States":{"T":{`+task+`F","End":true}}},"End":true}}}`, `[1,2,3,4,5]`)
	for range 5 {
		release <- struct{}{}
	}
	info := h.settle(x)
	if info.Status != StatusSucceeded || !sameJSON(t, info.Output, `[1,2,3,4,5]`) {
		t.Fatalf("status, output = %s, %s; want SUCCEEDED, [1,2,3,4,5]", info.Status, info.Output)
	}
	if peak > 2 {
		t.Fatalf("peak concurrency = %d, want <= 2", peak)
	}
}

// TestParseDefinition checks validation at create time: every message names
// the state at fault.
func TestParseDefinition(t *testing.T) {
	tests := []struct {
		name, def, wantState, wantIn string
	}{
		{"not JSON", `{`, "", "JSON"},
		{"StartAt missing", `{"States":{"A":{"Type":"Succeed"}}}`, "", "StartAt"},
		{"StartAt names nothing", `{"StartAt":"B","States":{"A":{"Type":"Succeed"}}}`, "", `"B"`},
		{"unknown type", `{"StartAt":"A","States":{"A":{"Type":"Bogus"}}}`, "A", "unknown state type"},
		{"Next names nothing", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Z"}}}`, "A", `"Z"`},
		{"neither Next nor End", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, "A", "Next and End"},
		{"both Next and End", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","End":true}}}`, "A", "Next and End"},
		{"Succeed with Next", `{"StartAt":"A","States":{"A":{"Type":"Succeed","Next":"A"}}}`, "A", `"Next"`},
		{"Choice default names nothing", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"C"}],"Default":"X"}}}`, "C", `"X"`},
		{"Choice rule without Next", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true}]}}}`, "C", "Next"},
		{"Choice operand of the wrong type", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":"1","Next":"C"}]}}}`, "C", "number"},
		{"Wait with two durations", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, "W", "exactly one"},
		{"Task without Resource", `{"StartAt":"T","States":{"T":{"Type":"Task","End":true}}}`, "T", "Resource"},
		{"Catch to a missing state", `{"StartAt":"T","States":{"T":{` + task + `F","End":true,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Nope"}]}}}`, "T", `"Nope"`},
		{"States.ALL not last", `{"StartAt":"T","States":{"T":{` + task + `F","End":true,"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}]}}}`, "T", "States.ALL"},
		{"bad ResultPath", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`, "A", "reference path"},
		{"bad intrinsic", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope()"},"End":true}}}`, "A", "States.Nope"},
		{"unknown field", `{"StartAt":"A","States":{"A":{"Type":"Pass","Seconds":1,"End":true}}}`, "A", `"Seconds"`},
		{"branch transition leaves the branch", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Next":"P"}}}]}}}`, "B", `"P"`},
		{"duplicate state names across branches", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"P","States":{"P":{"Type":"Succeed"}}}]}}}`, "P", "unique"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.def)
			var de *DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("Parse error = %v, want *DefinitionError", err)
			}
			if de.State != tc.wantState || !strings.Contains(de.Error(), tc.wantIn) {
				t.Fatalf("Parse error = %q (state %q), want state %q and a message containing %q", de.Error(), de.State, tc.wantState, tc.wantIn)
			}
		})
	}
}

// FuzzParseDefinition feeds arbitrary definitions to Parse, then runs the
// ones that parse: neither may panic.
func FuzzParseDefinition(f *testing.F) {
	seeds := []string{
		`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`,
		`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.a","StringMatches":"x*\\*"}],"Next":"S"}],"Default":"S"},"S":{"Type":"Succeed"}}}`,
		`{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$[?(@.a > 1)]","ItemSelector":{"v.$":"States.Format('{}', $$.Map.Item.Value)"},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","ResultPath":"$.a['b'][0]","End":true}}},"End":true}}}`,
		`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}],"Retry":[{"ErrorEquals":["States.ALL"],"JitterStrategy":"FULL"}],"End":true}}}`,
		`{"StartAt":"F","States":{"F":{"Type":"Fail","CausePath":"States.JsonToString(States.Array($..x, States.MathAdd(1, 2)))"}}}`,
		`{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.a","ItemBatcher":{"MaxItemsPerBatch":2,"MaxInputBytesPerBatch":64,"BatchInput":{"s.$":"$.s"}},"ToleratedFailurePercentage":50,"MaxConcurrency":1,
		  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Fail","Error":"E"}}},"End":true}}}`,
		`{"StartAt":"M","States":{"M":{"Type":"Map","Label":"L","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW","MaxItemsPath":"$.s"},"Parameters":{"Bucket":"b","Key.$":"$.x"}},
		  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
	}
	for _, s := range seeds {
		f.Add(s, `{"a":[1,{"a":2}],"s":0,"x":"y"}`)
	}
	f.Fuzz(func(t *testing.T, def, input string) {
		sm, err := Parse(def)
		if err != nil {
			return
		}
		e := NewEngine(Options{Clock: NewManualClock(t0), Invoker: echoInvoker})
		defer e.Close()
		x, err := e.Start(sm, StartInput{ExecutionID: "x", Name: "x", Input: input})
		if err != nil {
			return
		}
		_ = x.Info()
	})
}
