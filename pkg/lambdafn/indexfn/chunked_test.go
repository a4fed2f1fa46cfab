package indexfn

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/veil"
)

// chunkSteps is a pure fake of Applier and ChunkSteps recording each step.
type chunkSteps struct {
	applyFunc
	calls []string
	job   indexing.ChunkJob
	chunk indexing.Chunk
	res   []indexing.ChunkResult
	why   string
	err   error
}

func (f *chunkSteps) Plan(_ context.Context, j indexing.ChunkJob) (indexing.Plan, error) {
	f.calls, f.job = append(f.calls, "plan"), j
	return indexing.Plan{Bucket: "work", Key: "chunks/x.json", Count: 3}, f.err
}

func (f *chunkSteps) Chunk(_ context.Context, j indexing.ChunkJob, c indexing.Chunk) (indexing.ChunkResult, error) {
	f.calls, f.job, f.chunk = append(f.calls, "chunk"), j, c
	return indexing.ChunkResult{Rows: 2, Entries: 4}, f.err
}

func (f *chunkSteps) FinishChunked(_ context.Context, j indexing.ChunkJob, r []indexing.ChunkResult) error {
	f.calls, f.job, f.res = append(f.calls, "finish"), j, r
	return f.err
}

func (f *chunkSteps) FailChunked(_ context.Context, j indexing.ChunkJob, reason string) error {
	f.calls, f.job, f.why = append(f.calls, "fail"), j, reason
	return f.err
}

const jobJSON = `{"bucket":"veil-leads","key":"campaigns/c/big.csv","versionId":"v1","sequencer":"0A"}`

// TestChunkedSteps: each step payload the index-list state machine sends
// reaches its step with the job and its arguments, and answers in the
// shape the state machine selects.
func TestChunkedSteps(t *testing.T) {
	wantJob := indexing.ChunkJob{Bucket: "veil-leads", Key: "campaigns/c/big.csv", VersionID: "v1", Sequencer: "0A"}
	tests := []struct {
		name, payload, wantCall, wantOut string
	}{
		{"plan", `{"chunked":{"step":"plan","job":` + jobJSON + `}}`, "plan", `{"bucket":"work","key":"chunks/x.json","count":3}`},
		{"chunk", `{"chunked":{"step":"chunk","job":` + jobJSON + `,"chunk":{"start":10,"end":20,"firstRecord":3,"firstLine":4}}}`, "chunk", `{"rows":2,"entries":4,"invalid":0,"unreadableRows":0,"minors":0}`},
		{"finish", `{"chunked":{"step":"finish","job":` + jobJSON + `,"results":[{"rows":2},{"rows":3}]}}`, "finish", `{"done":true}`},
		{"fail", `{"chunked":{"step":"fail","job":` + jobJSON + `,"error":"States.TaskFailed","cause":"…"}}`, "fail", `{"done":true}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &chunkSteps{}
			out, err := New(f).Dispatch(context.Background(), json.RawMessage(tc.payload))
			if err != nil {
				t.Fatalf("Dispatch = %v", err)
			}
			b, _ := json.Marshal(out)
			if string(b) != tc.wantOut {
				t.Fatalf("output = %s, want %s", b, tc.wantOut)
			}
			if !reflect.DeepEqual(f.calls, []string{tc.wantCall}) || f.job != wantJob {
				t.Fatalf("calls = %v with %+v, want [%s] with %+v", f.calls, f.job, tc.wantCall, wantJob)
			}
			switch tc.name {
			case "chunk":
				if want := (indexing.Chunk{Start: 10, End: 20, FirstRecord: 3, FirstLine: 4}); f.chunk != want {
					t.Fatalf("chunk = %+v, want %+v", f.chunk, want)
				}
			case "finish":
				if len(f.res) != 2 || f.res[1].Rows != 3 {
					t.Fatalf("results = %+v, want two", f.res)
				}
			case "fail":
				if f.why != "chunked indexing failed: States.TaskFailed" {
					t.Fatalf("reason = %q", f.why)
				}
			}
		})
	}
}

// TestChunkedStepErrors: a malformed step is a ValidationError; plan's
// InputError reaches the workflow unwrapped, by its type name.
func TestChunkedStepErrors(t *testing.T) {
	for _, p := range []string{`{"chunked":{"step":"plan","job":{}}}`, `{"chunked":{"step":"nope","job":` + jobJSON + `}}`,
		`{"chunked":{"step":"chunk","job":` + jobJSON + `}}`} {
		_, err := New(&chunkSteps{}).Dispatch(context.Background(), json.RawMessage(p))
		if ve := (*veil.ValidationError)(nil); !errors.As(err, &ve) {
			t.Errorf("Dispatch(%s) = %v, want a ValidationError", p, err)
		}
	}
	f := &chunkSteps{}
	f.err = &indexing.InputError{Reason: "not a lead list"}
	_, err := New(f).Dispatch(context.Background(), json.RawMessage(`{"chunked":{"step":"plan","job":`+jobJSON+`}}`))
	if _, ok := err.(*indexing.InputError); !ok {
		t.Fatalf("plan error = %T, want *indexing.InputError unwrapped", err)
	}
}

type sfnFunc func(*sfn.StartExecutionInput) error

func (f sfnFunc) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	return &sfn.StartExecutionOutput{}, f(in)
}

// TestChunkerNamesExecutions: the execution is named by the job, so a
// change delivered twice starts it once; ExecutionAlreadyExists is success.
func TestChunkerNamesExecutions(t *testing.T) {
	job := indexing.ChunkJob{Bucket: "b", Key: "k", VersionID: "v", Sequencer: "1"}
	var names []string
	c := &Chunker{StateMachineARN: "arn:sm", API: sfnFunc(func(in *sfn.StartExecutionInput) error {
		names = append(names, *in.Name)
		if len(names) > 1 {
			return &sfntypes.ExecutionAlreadyExists{}
		}
		return nil
	})}
	for range 2 {
		if err := c.StartChunked(context.Background(), job); err != nil {
			t.Fatalf("StartChunked = %v", err)
		}
	}
	other := job
	other.Sequencer = "2"
	if names[0] != names[1] || names[0] == other.Name() || len(names[0]) > 80 {
		t.Fatalf("names = %v (other %s), want one stable name of at most 80 characters", names, other.Name())
	}
}

// TestConfigChunking: INDEX_CHUNK_BYTES needs the state machine and the
// work bucket; INDEX_WRITERS defaults from the function's memory.
func TestConfigChunking(t *testing.T) {
	env := func(kv map[string]string) func(string) string {
		return func(k string) string { return kv[k] }
	}
	base := map[string]string{"INDEX_TABLE": "t", "INDEX_KEY_SECRET_ARN": "s"}
	cfg, err := ConfigFromEnv(env(base))
	if err != nil || cfg.ChunkBytes != 0 || cfg.Writers != 4 {
		t.Fatalf("ConfigFromEnv = %+v, %v; want no chunking, 4 writers", cfg, err)
	}
	base["INDEX_CHUNK_BYTES"] = "4096"
	if _, err := ConfigFromEnv(env(base)); err == nil {
		t.Fatalf("INDEX_CHUNK_BYTES without a state machine: no error")
	}
	base["INDEX_LIST_STATE_MACHINE_ARN"], base["INDEX_WORK_BUCKET"], base["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "arn:sm", "work", "1769"
	if cfg, err = ConfigFromEnv(env(base)); err != nil || cfg.ChunkBytes != 4096 || cfg.Writers != 6 {
		t.Fatalf("ConfigFromEnv = %+v, %v; want 4096-byte chunks, 6 writers", cfg, err)
	}
	base["INDEX_WRITERS"] = "12"
	if cfg, _ = ConfigFromEnv(env(base)); cfg.Writers != 12 {
		t.Fatalf("Writers = %d, want 12", cfg.Writers)
	}
}
