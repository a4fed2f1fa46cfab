package pseudonymizefn_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/lambdafn/lambdafntest"
	"github.com/veil-privacy/veil/pkg/lambdafn/pseudonymizefn"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/tasks"
	"github.com/veil-privacy/veil/pkg/veil"
)

// fakeJobs is a pure fake of the erasure service: it records what it was
// started with and answers a run with job (its ID set to the run's).
type fakeJobs struct {
	started  map[string]erasure.Request
	startErr error
	job      erasure.Job
	runs     int
	// abandoned holds the reason each job was ended failed with;
	// abandonErr fails Abandon.
	abandoned  map[string]string
	abandonErr error
}

func (f *fakeJobs) Abandon(_ context.Context, id, reason string) (erasure.Job, error) {
	if f.abandonErr != nil {
		return erasure.Job{}, f.abandonErr
	}
	if f.abandoned == nil {
		f.abandoned = map[string]string{}
	}
	f.abandoned[id] = reason
	return erasure.Job{ID: id, Status: erasure.StatusFailed, Error: reason}, nil
}

// TestHandleAbandonedJob: the on-failure record of a job whose every
// attempt failed (events/pseudonymize/sqs-job-abandoned.json, Lambda's
// documented shape) ends that job failed, naming the attempts and the
// last error's type; a store error is reported for SQS to deliver again,
// and a record naming no job is dropped.
func TestHandleAbandonedJob(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(lambdafntest.Root(t), "events", "pseudonymize", "sqs-job-abandoned.json"))
	if err != nil {
		t.Fatal(err)
	}
	jobs := &fakeJobs{started: map[string]erasure.Request{}}
	out, err := (&pseudonymizefn.Handler{Jobs: jobs}).Handle(context.Background(), raw)
	resp, ok := out.(events.SQSEventResponse)
	if err != nil || !ok || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v; want an SQS response with no failures", out, err)
	}
	reason, ok := jobs.abandoned["job-0a1b2c3d4e5f60718293"]
	want := "every attempt failed (3 invocations, RetriesExhausted; last error wrapError)"
	if !ok || reason != want {
		t.Fatalf("abandoned = %v, want job-0a1b2c3d4e5f60718293 ended with %q", jobs.abandoned, want)
	}

	failing := &fakeJobs{abandonErr: errors.New("throttled")}
	out, _ = (&pseudonymizefn.Handler{Jobs: failing}).Handle(context.Background(), raw)
	if resp := out.(events.SQSEventResponse); len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "5e1c9f8a-3b0e-4c7d-9a51-0d6c2f7e8b41" {
		t.Fatalf("with a store error, failures = %+v, want the one message", resp.BatchItemFailures)
	}

	noJob := strings.Replace(string(raw), `\"jobId\":\"job-0a1b2c3d4e5f60718293\"`, `\"jobId\":\"../etc\"`, 1)
	quiet := &fakeJobs{}
	out, _ = (&pseudonymizefn.Handler{Jobs: quiet}).Handle(context.Background(), []byte(noJob))
	if resp := out.(events.SQSEventResponse); len(resp.BatchItemFailures) != 0 || len(quiet.abandoned) != 0 {
		t.Fatalf("a record naming no valid job: failures %+v, abandoned %v; want it dropped", resp.BatchItemFailures, quiet.abandoned)
	}
}

func (f *fakeJobs) Start(_ context.Context, id string, r erasure.Request) (erasure.Job, error) {
	f.started[id] = r
	return erasure.Job{ID: id}, f.startErr
}

func (f *fakeJobs) Run(_ context.Context, id string) (erasure.Job, error) {
	f.runs++
	j := f.job
	j.ID = id
	return j, nil
}

// TestHandleJobSampleEvent: a job ID in is that job run.
func TestHandleJobSampleEvent(t *testing.T) {
	var in tasks.PseudonymizeInput
	lambdafntest.Decode(t, "pseudonymize/async-job.json", &in)
	jobs := &fakeJobs{started: map[string]erasure.Request{}, job: erasure.Job{Status: erasure.StatusCompleted}}
	out, err := (&pseudonymizefn.Handler{Jobs: jobs}).Task(context.Background(), in)
	if err != nil || out.JobID != in.JobID || out.Status != erasure.StatusCompleted || len(jobs.started) != 0 {
		t.Fatalf("Handle = %+v, %v; want job %s run, nothing started", out, err, in.JobID)
	}
}

// TestHandleRequest: given the request's ID alone, the task erases (or
// corrects) what the requester proved, in the request's job, runs it and
// records it in the request; a job already started is run again; a
// failed job is a *FailedError, recorded too.
func TestHandleRequest(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	ctx := context.Background()
	ddb := dynamodb.NewFromConfig(s.AWS)
	table := s.Names["RequestsTable"]
	st := &requeststore.Store{API: ddb, Table: table, Audit: &audit.Store{API: ddb, Table: table}}
	var sample tasks.PseudonymizeInput
	lambdafntest.Decode(t, "pseudonymize/sfn-request-task.json", &sample)

	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	email := requests.Proof{Kind: identifiers.Email, Value: "dana@example.com", Method: requests.ByCode}
	gaps := &indexing.Coverage{Objects: 2, Pending: []indexing.Pending{{Bucket: "leads", Key: "new.csv"}}}
	tests := []struct {
		name     string
		id       string
		typ      requests.Type
		fix      map[string]string
		startErr error
		job      erasure.Job
		op       string
		complete bool
		failed   bool
	}{
		{name: "delete", id: sample.RequestID, typ: requests.Delete, job: erasure.Job{Status: erasure.StatusCompleted},
			op: erasure.Erasure, complete: true},
		{name: "correct, already started", id: "r-correct", typ: requests.Correct, fix: map[string]string{"email": "dana@new.example.com"},
			startErr: veil.ErrConflict, job: erasure.Job{Status: erasure.StatusCompletedWithGaps, Coverage: gaps}, op: erasure.Correction},
		{name: "failed", id: "r-failed", typ: requests.Delete, job: erasure.Job{Status: erasure.StatusFailed, Error: "rows left"},
			op: erasure.Erasure, failed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := requeststore.Request{ID: tc.id, Reference: "VR-1", Type: tc.typ, Jurisdiction: "CA", Channel: requests.Web,
				Status: requests.Received, Emails: []string{"Dana@Example.com"}, Corrections: tc.fix, Received: at,
				Proofs: []requests.Proof{email}, Result: &requeststore.Result{RecordsKey: "exports/" + tc.id + "/records.jsonl"}}
			if _, _, err := st.Create(ctx, r, "", requeststore.Actor{Subject: "consumer", Source: "web"}); err != nil {
				t.Fatal(err)
			}
			jobs := &fakeJobs{started: map[string]erasure.Request{}, startErr: tc.startErr, job: tc.job}
			out, err := (&pseudonymizefn.Handler{Jobs: jobs, Requests: st}).Task(ctx, tasks.PseudonymizeInput{RequestID: tc.id})
			jobID := erasure.JobID(tc.id, tc.op)
			if tc.failed {
				if fe, ok := err.(*tasks.FailedError); !ok || fe.JobID != jobID {
					t.Fatalf("error = %#v, want *FailedError of %s, unwrapped", err, jobID)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if out.JobID != jobID || out.Status != tc.job.Status || jobs.runs != 1 {
				t.Fatalf("output = %+v after %d runs, want job %s %s run once", out, jobs.runs, jobID, tc.job.Status)
			}
			got, ok := jobs.started[jobID]
			want := []search.Identifier{{Field: "proofs[0]", Kind: identifiers.Email, Value: "dana@example.com"}}
			if !ok || got.RequestID != tc.id || got.Requester != "workflow" || got.Operation != tc.op || got.Jurisdiction != "CA" ||
				len(got.Identifiers) != 1 || got.Identifiers[0] != want[0] {
				t.Fatalf("started %+v, want the request's %s of the proven email", got, tc.op)
			}
			if tc.fix != nil && (got.Correction == nil || !maps.Equal(got.Correction.Set, tc.fix)) {
				t.Fatalf("correction = %+v, want %v", got.Correction, tc.fix)
			}
			if tc.fix == nil && got.Correction != nil {
				t.Fatalf("an erasure with correction %+v", got.Correction)
			}
			stored, err := st.Get(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if res := stored.Result; res.JobID != jobID || res.Complete != tc.complete || res.RecordsKey != r.Result.RecordsKey {
				t.Fatalf("result = %+v, want job %s, complete %v, the records key kept", res, jobID, tc.complete)
			}
		})
	}

	// An access request is not pseudonymized; nothing proven, nothing
	// erased.
	for _, r := range []requeststore.Request{
		{ID: "r-access", Type: requests.Access, Status: requests.Received, Received: at, Proofs: []requests.Proof{email}},
		{ID: "r-unproven", Type: requests.Delete, Status: requests.Received, Received: at},
	} {
		if _, _, err := st.Create(ctx, r, "", requeststore.Actor{Subject: "consumer"}); err != nil {
			t.Fatal(err)
		}
		jobs := &fakeJobs{started: map[string]erasure.Request{}}
		_, err := (&pseudonymizefn.Handler{Jobs: jobs, Requests: st}).Task(ctx, tasks.PseudonymizeInput{RequestID: r.ID})
		if _, ok := err.(*veil.ValidationError); !ok || len(jobs.started) != 0 {
			t.Fatalf("%s: error = %#v, %d started; want a *veil.ValidationError, none started", r.ID, err, len(jobs.started))
		}
	}
}
