package asl

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// dmap is a Distributed Map state M with the given fields (each followed by
// a comma) around an item processor whose states are given.
func dmap(fields, states string) string {
	return `{"StartAt":"M","States":{"M":{"Type":"Map",` + fields + `"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":` + states + `},"End":true}}}`
}

// echo is an item processor that returns its input.
const echo = `{"P":{"Type":"Pass","End":true}}`

// work is an item processor that invokes Work.
const work = `{"P":{` + task + `Work","End":true}}`

// workInvoker plays Work: it returns its payload, or fails with errorType
// Boom when the item, or any item of the batch, has "fail": true.
var workInvoker = invokerFunc(func(_ context.Context, _ string, p []byte) ([]byte, error) {
	var in struct {
		Fail  bool `json:"fail"`
		Items []struct {
			Fail bool `json:"fail"`
		} `json:"Items"`
	}
	_ = json.Unmarshal(p, &in)
	fail := in.Fail
	for _, it := range in.Items {
		fail = fail || it.Fail
	}
	if fail {
		return nil, &FunctionError{Type: "Boom", Message: "item failed"}
	}
	return p, nil
})

// TestDistributedMapBatching checks ItemBatcher and ItemSelector against the
// AWS docs, "ItemBatcher (Map)": each child execution gets
// {"BatchInput": …, "Items": […]}, "Items" alone without BatchInput.
func TestDistributedMapBatching(t *testing.T) {
	tests := []struct {
		name, fields, input string
		want                string // output, or "" when the Map fails
		wantErr             string
	}{
		{
			name:   "MaxItemsPerBatch with a BatchInput from the state input",
			fields: `"ItemsPath":"$.facts","ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"factCheck.$":"$.when","static":1}},`,
			input:  `{"when":"December 2022","facts":[1,2,3,4,5]}`,
			want: `[{"BatchInput":{"factCheck":"December 2022","static":1},"Items":[1,2]},
			        {"BatchInput":{"factCheck":"December 2022","static":1},"Items":[3,4]},
			        {"BatchInput":{"factCheck":"December 2022","static":1},"Items":[5]}]`,
		},
		{
			name:   "without BatchInput, Items only",
			fields: `"ItemBatcher":{"MaxItemsPerBatch":100},`,
			input:  `[{"verdict":"true"},{"verdict":"false"}]`,
			want:   `[{"Items":[{"verdict":"true"},{"verdict":"false"}]}]`,
		},
		{
			name: "MaxInputBytesPerBatch bounds the whole child input",
			// {"Items":[]} is 12 bytes and "aaaa" 6: two items make 25.
			fields: `"ItemBatcher":{"MaxInputBytesPerBatch":25},`,
			input:  `["aaaa","bbbb","cccc","dddd","eeee"]`,
			want:   `[{"Items":["aaaa","bbbb"]},{"Items":["cccc","dddd"]},{"Items":["eeee"]}]`,
		},
		{
			name:   "MaxInputBytesPerBatch counts the separators",
			fields: `"ItemBatcher":{"MaxInputBytesPerBatch":24},`,
			input:  `["aaaa","bbbb"]`,
			want:   `[{"Items":["aaaa"]},{"Items":["bbbb"]}]`,
		},
		{
			name:   "both limits: the smaller batch wins",
			fields: `"ItemBatcher":{"MaxItemsPerBatch":1,"MaxInputBytesPerBatch":25},`,
			input:  `["aaaa","bbbb"]`,
			want:   `[{"Items":["aaaa"]},{"Items":["bbbb"]}]`,
		},
		{
			name:   "MaxItemsPerBatchPath",
			fields: `"ItemsPath":"$.items","ItemBatcher":{"MaxItemsPerBatchPath":"$.size"},`,
			input:  `{"size":3,"items":[1,2,3,4]}`,
			want:   `[{"Items":[1,2,3]},{"Items":[4]}]`,
		},
		{
			name:   "ItemSelector applies to each item before batching, with $$.Map.Item",
			fields: `"ItemsPath":"$.xs","ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","tag.$":"$.tag"},"ItemBatcher":{"MaxItemsPerBatch":2},`,
			input:  `{"tag":"t","xs":["a","b","c"]}`,
			want:   `[{"Items":[{"i":0,"v":"a","tag":"t"},{"i":1,"v":"b","tag":"t"}]},{"Items":[{"i":2,"v":"c","tag":"t"}]}]`,
		},
		{
			name:   "no items, no batches",
			fields: `"ItemBatcher":{"MaxItemsPerBatch":2},`,
			input:  `[]`,
			want:   `[]`,
		},
		{
			name:    "an item bigger than a batch may be",
			fields:  `"ItemBatcher":{"MaxInputBytesPerBatch":16},`,
			input:   `["aaaa","bbbbbbbbbbbbbbbbbbbb"]`,
			wantErr: ErrRuntime,
		},
		{
			name:    "MaxItemsPerBatchPath that is not a positive integer",
			fields:  `"ItemBatcher":{"MaxItemsPerBatchPath":"$.size"},`,
			input:   `{"size":0}`,
			wantErr: ErrRuntime,
		},
		{
			name:    "BatchInput path that does not exist",
			fields:  `"ItemsPath":"$.xs","ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"b.$":"$.missing"}},`,
			input:   `{"xs":[1]}`,
			wantErr: ErrParameterPathFailure,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := run(t, dmap(tc.fields, echo), tc.input, nil)
			if tc.wantErr != "" {
				if info.Status != StatusFailed || info.Error != tc.wantErr {
					t.Fatalf("status, error = %s, %s (%s); want FAILED, %s", info.Status, info.Error, info.Cause, tc.wantErr)
				}
				return
			}
			if info.Status != StatusSucceeded {
				t.Fatalf("status = %s (%s: %s), want SUCCEEDED", info.Status, info.Error, info.Cause)
			}
			if !sameJSON(t, info.Output, tc.want) {
				t.Fatalf("output = %s\nwant     %s", info.Output, tc.want)
			}
		})
	}
}

// TestToleratedFailures checks the tolerated failure threshold of the AWS
// docs ("Setting failure thresholds for Distributed Map states"): the Map
// Run fails with States.ExceedToleratedFailureThreshold once the failed items
// exceed ToleratedFailureCount or ToleratedFailurePercentage of all items,
// and by default (a threshold of zero) at the first failure.
func TestToleratedFailures(t *testing.T) {
	four := func(fails ...int) string {
		items := make([]string, 4)
		for i := range items {
			items[i] = `{"n":` + string(rune('0'+i)) + `}`
		}
		for _, f := range fails {
			items[f] = `{"n":` + string(rune('0'+f)) + `,"fail":true}`
		}
		return `{"count":1,"pct":25,"items":[` + strings.Join(items, ",") + `]}`
	}
	tests := []struct {
		name, fields, input string
		wantFailed          []int // indexes of the failure records in the output
		wantErr             string
	}{
		{name: "no failure", fields: ``, input: four()},
		{name: "no threshold: the first failure fails the Map Run", fields: ``, input: four(2), wantErr: ErrExceedToleratedFailureThreshold},
		{name: "count 1, one failure", fields: `"ToleratedFailureCount":1,`, input: four(1), wantFailed: []int{1}},
		{name: "count 1, two failures", fields: `"ToleratedFailureCount":1,`, input: four(1, 3), wantErr: ErrExceedToleratedFailureThreshold},
		{name: "count 0 tolerates none", fields: `"ToleratedFailureCount":0,`, input: four(0), wantErr: ErrExceedToleratedFailureThreshold},
		{name: "50 percent, half failed is not more", fields: `"ToleratedFailurePercentage":50,`, input: four(0, 3), wantFailed: []int{0, 3}},
		{name: "50 percent, three of four", fields: `"ToleratedFailurePercentage":50,`, input: four(0, 1, 3), wantErr: ErrExceedToleratedFailureThreshold},
		{name: "100 percent tolerates all", fields: `"ToleratedFailurePercentage":100,`, input: four(0, 1, 2, 3), wantFailed: []int{0, 1, 2, 3}},
		{name: "either threshold: the count is exceeded", fields: `"ToleratedFailureCount":1,"ToleratedFailurePercentage":100,`, input: four(0, 1), wantErr: ErrExceedToleratedFailureThreshold},
		{name: "either threshold: the percentage is exceeded", fields: `"ToleratedFailureCount":3,"ToleratedFailurePercentage":25,`, input: four(0, 1), wantErr: ErrExceedToleratedFailureThreshold},
		{name: "ToleratedFailureCountPath", fields: `"ToleratedFailureCountPath":"$.count",`, input: four(2), wantFailed: []int{2}},
		{name: "ToleratedFailurePercentagePath", fields: `"ToleratedFailurePercentagePath":"$.pct",`, input: four(0, 1), wantErr: ErrExceedToleratedFailureThreshold},
		{name: "a path to nothing", fields: `"ToleratedFailureCountPath":"$.none",`, input: four(), wantErr: ErrRuntime},
		// A failed batch counts all of its items.
		{name: "batches: one failed batch of two, count 1", fields: `"ItemBatcher":{"MaxItemsPerBatch":2},"ToleratedFailureCount":1,`, input: four(0), wantErr: ErrExceedToleratedFailureThreshold},
		{name: "batches: one failed batch of two, count 2", fields: `"ItemBatcher":{"MaxItemsPerBatch":2},"ToleratedFailureCount":2,`, input: four(0), wantFailed: []int{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, workInvoker)
			x := h.start(dmap(`"ItemsPath":"$.items",`+tc.fields, work), tc.input)
			info := h.settle(x)
			if tc.wantErr != "" {
				if info.Status != StatusFailed || info.Error != tc.wantErr {
					t.Fatalf("status, error = %s, %s (%s); want FAILED, %s", info.Status, info.Error, info.Cause, tc.wantErr)
				}
				return
			}
			if info.Status != StatusSucceeded {
				t.Fatalf("status = %s (%s: %s), want SUCCEEDED", info.Status, info.Error, info.Cause)
			}
			var out []map[string]any
			if err := json.Unmarshal([]byte(info.Output), &out); err != nil {
				t.Fatalf("output %s: %v", info.Output, err)
			}
			failed := map[int]bool{}
			for _, i := range tc.wantFailed {
				failed[i] = true
			}
			for i, r := range out {
				if !failed[i] {
					if r["Status"] != nil {
						t.Errorf("result %d = %v, want the child's output", i, r)
					}
					continue
				}
				wantFailureRecord(t, r)
			}
		})
	}
}

// wantFailureRecord checks a failed child execution's entry in a Map Run's
// results: its execution record, as AWS returns a failed child's result.
func wantFailureRecord(t *testing.T, r map[string]any) {
	t.Helper()
	arn, _ := r["ExecutionArn"].(string)
	name, _ := r["Name"].(string)
	if r["Status"] != "FAILED" || r["Error"] != "Boom" || r["Cause"] != `{"errorMessage":"item failed","errorType":"Boom"}` {
		t.Fatalf("failure record = %v, want Status FAILED, Error Boom and the function's Cause", r)
	}
	if name == "" || !strings.HasPrefix(arn, "arn:aws:states:us-east-1:000000000000:execution:sm/") || !strings.HasSuffix(arn, ":"+name) {
		t.Fatalf("failure record ExecutionArn, Name = %q, %q; want execution:sm/<label>:<name>", arn, name)
	}
	in, _ := r["Input"].(string)
	if !strings.Contains(in, `"fail":true`) || r["StartDate"] == nil || r["StopDate"] == nil || r["StateMachineArn"] == nil {
		t.Fatalf("failure record = %v, want the child's Input as a string, StartDate, StopDate, StateMachineArn", r)
	}
}

// TestToleratedFailureIsCaught: States.ExceedToleratedFailureThreshold is an
// error like any other for Catch.
func TestToleratedFailureIsCaught(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
	  "StartAt":"P","States":` + work + `},"Catch":[{"ErrorEquals":["States.ExceedToleratedFailureThreshold"],"ResultPath":"$.error","Next":"Done"}],"Next":"Done"},
	  "Done":{"Type":"Succeed"}}}`
	h := newHarness(t, workInvoker)
	info := h.settle(h.start(def, `{"items":[{"fail":true}]}`))
	if info.Status != StatusSucceeded || !strings.Contains(info.Output, `"Error":"States.ExceedToleratedFailureThreshold"`) {
		t.Fatalf("status, output = %s, %s (%s: %s); want SUCCEEDED with the caught error", info.Status, info.Output, info.Error, info.Cause)
	}
}

// TestDistributedMapHistory checks the parent's history: the Map Run events
// of the AWS API (MapRunStarted with its ARN, MapRunSucceeded or
// MapRunFailed), and none of the child executions' events, which AWS keeps
// in each child's own history.
func TestDistributedMapHistory(t *testing.T) {
	types := func(x *Execution) ([]string, []Event) {
		var out []string
		for _, ev := range x.History() {
			out = append(out, ev.Type)
		}
		return out, x.History()
	}
	t.Run("succeeded", func(t *testing.T) {
		h := newHarness(t, workInvoker)
		x := h.start(dmap(`"Label":"Fan","MaxConcurrency":2,`, work), `[{"n":1},{"n":2},{"n":3}]`)
		if info := h.settle(x); info.Status != StatusSucceeded {
			t.Fatalf("status = %s (%s), want SUCCEEDED", info.Status, info.Cause)
		}
		got, evs := types(x)
		want := []string{"ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted", "MapRunSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("history = %v\nwant      %v", got, want)
		}
		if arn := evs[3].MapRunARN; !strings.HasPrefix(arn, "arn:aws:states:us-east-1:000000000000:mapRun:sm/Fan:") {
			t.Fatalf("MapRunStarted mapRunArn = %q, want arn:aws:states:us-east-1:000000000000:mapRun:sm/Fan:<id>", arn)
		}
		if evs[2].Length != 3 {
			t.Fatalf("MapStateStarted length = %d, want 3", evs[2].Length)
		}
	})
	t.Run("failed", func(t *testing.T) {
		h := newHarness(t, workInvoker)
		x := h.start(dmap(``, work), `[{"fail":true}]`)
		h.settle(x)
		got, evs := types(x)
		want := []string{"ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted", "MapRunFailed", "MapStateFailed", "ExecutionFailed"}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("history = %v\nwant      %v", got, want)
		}
		if evs[4].Error != ErrExceedToleratedFailureThreshold || !strings.Contains(evs[4].Cause, "Boom") {
			t.Fatalf("MapRunFailed = %s: %s, want States.ExceedToleratedFailureThreshold naming the child's error", evs[4].Error, evs[4].Cause)
		}
	})
}

// TestDistributedMapChildContext: in a child execution, $$.Execution is the
// child (its ARN under the Map Run's state machine, its own input) and
// $$.StateMachine is the Map Run's.
func TestDistributedMapChildContext(t *testing.T) {
	def := dmap(`"Label":"Kids",`, `{"P":{"Type":"Pass","Parameters":{"id.$":"$$.Execution.Id","name.$":"$$.Execution.Name","input.$":"$$.Execution.Input","sm.$":"$$.StateMachine.Id"},"End":true}}`)
	info := run(t, def, `[{"a":1}]`, nil)
	if info.Status != StatusSucceeded {
		t.Fatalf("status = %s (%s), want SUCCEEDED", info.Status, info.Cause)
	}
	var out []struct {
		ID, Name, SM string
		Input        map[string]any
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(info.Output, `"sm"`, `"SM"`)), &out); err != nil || len(out) != 1 {
		t.Fatalf("output %s: %v", info.Output, err)
	}
	c := out[0]
	if c.ID != "arn:aws:states:us-east-1:000000000000:execution:sm/Kids:"+c.Name || c.Name == "" {
		t.Fatalf("$$.Execution.Id, Name = %q, %q; want execution:sm/Kids:<name>", c.ID, c.Name)
	}
	if c.SM != "arn:aws:states:us-east-1:000000000000:stateMachine:sm/Kids" || c.Input["a"] != float64(1) {
		t.Fatalf("$$.StateMachine.Id, $$.Execution.Input = %q, %v; want stateMachine:sm/Kids and the child's input", c.SM, c.Input)
	}
}

// TestChildHistoryLimit: a child execution that loops is failed by its own
// history limit, which counts as one failed item, and the parent's history
// stays short.
func TestChildHistoryLimit(t *testing.T) {
	loop := `{"P":{"Type":"Pass","Next":"Q"},"Q":{"Type":"Pass","Next":"P"}}`
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":` + loop + `},"End":true}}}`
	h := newHarness(t, nil)
	x := h.start(def, `[1]`)
	info := h.settle(x)
	if info.Status != StatusSucceeded || !strings.Contains(info.Output, `"Error":"States.Runtime"`) {
		t.Fatalf("status, output = %s, %.300s; want SUCCEEDED with the looping child failed with States.Runtime", info.Status, info.Output)
	}
	if n := len(x.History()); n > 10 {
		t.Fatalf("parent history = %d events, want the child's kept apart", n)
	}
}

// TestDistributedMapMaxConcurrency checks that no more child executions run
// at once than MaxConcurrency, and that without it all do.
func TestDistributedMapMaxConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name, fields string
		items, peak  int
	}{
		{"MaxConcurrency 2", `"MaxConcurrency":2,`, 6, 2},
		{"MaxConcurrencyPath", `"ItemsPath":"$.items","MaxConcurrencyPath":"$.conc",`, 5, 3},
		{"unbounded", ``, 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			running, peak := 0, 0
			started := make(chan struct{}, tc.items)
			release := make(chan struct{})
			inv := invokerFunc(func(ctx context.Context, _ string, p []byte) ([]byte, error) {
				mu.Lock()
				running++
				peak = max(peak, running)
				mu.Unlock()
				started <- struct{}{}
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
			items := strings.TrimSuffix(strings.Repeat("{},", tc.items), ",")
			input := `[` + items + `]`
			if strings.Contains(tc.fields, "ItemsPath") {
				input = `{"conc":3,"items":[` + items + `]}`
			}
			h := newHarness(t, inv)
			x := h.start(dmap(tc.fields, work), input)
			for range tc.peak {
				<-started
			}
			mu.Lock()
			if running != tc.peak {
				t.Errorf("running = %d before any returned, want %d", running, tc.peak)
			}
			mu.Unlock()
			for range tc.items {
				release <- struct{}{}
			}
			if info := h.settle(x); info.Status != StatusSucceeded {
				t.Fatalf("status = %s (%s), want SUCCEEDED", info.Status, info.Cause)
			}
			if peak != tc.peak {
				t.Fatalf("peak concurrency = %d, want %d", peak, tc.peak)
			}
		})
	}
}

// TestParseDistributedMap checks what CreateStateMachine rejects.
func TestParseDistributedMap(t *testing.T) {
	listing := `"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"b"}},`
	tests := []struct {
		name, def, wantIn string
	}{
		{"ItemReader in INLINE mode", `{"StartAt":"M","States":{"M":{"Type":"Map",` + listing + `"ItemProcessor":{"StartAt":"P","States":` + echo + `},"End":true}}}`, "DISTRIBUTED"},
		{"Label in an Iterator", `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"L","Iterator":{"StartAt":"P","States":` + echo + `},"End":true}}}`, "DISTRIBUTED"},
		{"DISTRIBUTED without ExecutionType", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"P","States":` + echo + `},"End":true}}}`, "ExecutionType"},
		{"unknown Mode", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"PARALLEL"},"StartAt":"P","States":` + echo + `},"End":true}}}`, "Mode"},
		{"unknown reader", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"b"}},`, echo), "ItemReader.Resource"},
		{"reader without Bucket", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Prefix":"p"}},`, echo), "Bucket"},
		{"getObject without Key", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b"}},`, echo), "Key"},
		{"getObject without InputType", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"}},`, echo), "InputType"},
		{"CSV without CSVHeaderLocation", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV"},"Parameters":{"Bucket":"b","Key":"k"}},`, echo), "CSVHeaderLocation"},
		{"GIVEN without CSVHeaders", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN"},"Parameters":{"Bucket":"b","Key":"k"}},`, echo), "CSVHeaders"},
		{"MaxItems and MaxItemsPath", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","ReaderConfig":{"MaxItems":1,"MaxItemsPath":"$.n"},"Parameters":{"Bucket":"b"}},`, echo), "exclusive"},
		{"ItemsPath with ItemReader", dmap(`"ItemsPath":"$.x",`+listing, echo), "ItemsPath"},
		{"ItemBatcher without a limit", dmap(`"ItemBatcher":{"BatchInput":{}},`, echo), "MaxItemsPerBatch"},
		{"MaxInputBytesPerBatch over 256 KiB", dmap(`"ItemBatcher":{"MaxInputBytesPerBatch":262145},`, echo), "256 KiB"},
		{"percentage over 100", dmap(`"ToleratedFailurePercentage":101,`, echo), "ToleratedFailurePercentage"},
		{"negative count", dmap(`"ToleratedFailureCount":-1,`, echo), "ToleratedFailureCount"},
		{"count and its path", dmap(`"ToleratedFailureCount":1,"ToleratedFailureCountPath":"$.n",`, echo), "exclusive"},
		{"label with a space", dmap(`"Label":"my label",`, echo), "Label"},
		{"label used twice", `{"StartAt":"A","States":{"A":{"Type":"Map","Label":"L","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":` + echo + `},"Next":"B"},
		  "B":{"Type":"Map","Label":"L","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Q","States":{"Q":{"Type":"Pass","End":true}}},"End":true}}}`, "unique"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.def)
			var de *DefinitionError
			if !errors.As(err, &de) || !strings.Contains(de.Error(), tc.wantIn) {
				t.Fatalf("Parse error = %v, want a *DefinitionError mentioning %q", err, tc.wantIn)
			}
		})
	}
}

// TestUnsupportedDistributedFields: what the local interpreter cannot run
// parses (it is valid ASL) and fails at run time with States.Runtime.
func TestUnsupportedDistributedFields(t *testing.T) {
	for _, fields := range []string{
		`"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"b","Prefix":"p"}},`,
		`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"PARQUET"},"Parameters":{"Bucket":"b","Key":"k"}},`,
		`"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","ReaderConfig":{"InputType":"JSON","Transformation":"LOAD_AND_FLATTEN"},"Parameters":{"Bucket":"b"}},`,
		`"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"b","Delimiter":"/"}},`,
	} {
		info := run(t, dmap(fields, echo), `[]`, nil)
		if info.Status != StatusFailed || info.Error != ErrRuntime || !strings.Contains(info.Cause, "not supported by the local interpreter") {
			t.Fatalf("%s: status, error = %s, %s (%s); want FAILED, States.Runtime, not supported", fields, info.Status, info.Error, info.Cause)
		}
	}
}

// TestDistributedMapRestart: child executions in flight when the engine
// closes are invoked again by the engine that restores the snapshot, and
// the Map Run's bookkeeping (results so far, tolerated failures) survives.
func TestDistributedMapRestart(t *testing.T) {
	var mu sync.Mutex
	var snapshot []byte
	persist := func(_ string, b []byte) {
		mu.Lock()
		snapshot = b
		mu.Unlock()
	}
	// The first engine's Work answers the failing item and the first item,
	// and never the third.
	answered := make(chan struct{}, 2)
	blocking := invokerFunc(func(ctx context.Context, fn string, p []byte) ([]byte, error) {
		if strings.Contains(string(p), `"n":3`) {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		defer func() { answered <- struct{}{} }()
		return workInvoker(ctx, fn, p)
	})
	clock := NewManualClock(t0)
	e1 := NewEngine(Options{Invoker: blocking, Clock: clock, Persist: persist})
	sm, err := Parse(dmap(`"ToleratedFailureCount":1,`, work))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e1.Start(sm, StartInput{ExecutionID: "x1", Name: "x1", StateMachineID: "arn:aws:states:us-east-1:000000000000:stateMachine:sm",
		StateMachineName: "sm", Input: `[{"n":1},{"n":2,"fail":true},{"n":3}]`}); err != nil {
		t.Fatal(err)
	}
	<-answered
	<-answered
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	x1, _ := e1.Execution("x1")
	if err := e1.WaitFor(ctx, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Count(string(snapshot), `"status":"SUCCEEDED"`)+strings.Count(string(snapshot), `"status":"FAILED"`) == 2
	}); err != nil {
		t.Fatalf("the two answers were never saved: %v (%s)", err, x1.Info().Status)
	}
	e1.Close()

	mu.Lock()
	saved := snapshot
	mu.Unlock()
	e2 := NewEngine(Options{Invoker: workInvoker, Clock: clock})
	defer e2.Close()
	if _, err := e2.Restore(saved); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	info, err := e2.WaitStatus(ctx, "x1")
	if err != nil || info.Status != StatusSucceeded {
		t.Fatalf("after restore: %v, %s (%s); want SUCCEEDED", err, info.Status, info.Cause)
	}
	var out []map[string]any
	if err := json.Unmarshal([]byte(info.Output), &out); err != nil || len(out) != 3 {
		t.Fatalf("output = %s, want 3 results", info.Output)
	}
	if out[0]["n"] != float64(1) || out[2]["n"] != float64(3) {
		t.Fatalf("output = %s, want the outputs of items 1 and 3 around the failure", info.Output)
	}
	wantFailureRecord(t, out[1])
}
