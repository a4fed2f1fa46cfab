package indexing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/veil-privacy/veil/pkg/asl"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/lambdafn/indexfn"
	"github.com/veil-privacy/veil/pkg/leads"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/objectstore"
)

// newEnvWith is newEnv on a stack started with opts.
func newEnvWith(t *testing.T, opts stack.Options) *env {
	t.Helper()
	s := stacktest.Start(t, opts)
	secret, err := indexkey.Load(context.Background(), secretsmanager.NewFromConfig(s.AWS), s.Names["IndexKeySecret"])
	if err != nil {
		t.Fatalf("index key: %v", err)
	}
	e := &env{stack: s, dataDir: opts.DataDir, s3: s3.NewFromConfig(s.AWS), ddb: dynamodb.NewFromConfig(s.AWS),
		bucket: s.Names["LeadsBucket"], table: s.Names["IndexTable"], secret: secret}
	e.store = indexstore.New(e.ddb, e.table)
	e.objects = objectstore.New(e.s3)
	e.svc = e.service(e.store)
	return e
}

// chunkEnv is an env whose stack's IndexFunction cuts lists into chunks of
// chunkBytes, and whose service hands lists over to the stack's
// IndexListStateMachine as IndexFunction's does.
func chunkEnv(t *testing.T, chunkBytes int64) (*env, *indexing.Service) {
	t.Helper()
	opts := stacktest.Options(t)
	opts.HoldNotifications = true
	opts.FunctionEnv = map[string]map[string]string{"IndexFunction": {"INDEX_CHUNK_BYTES": fmt.Sprint(chunkBytes)}}
	e := newEnvWith(t, opts)
	chunked := e.service(e.store)
	chunked.ChunkBytes = chunkBytes
	chunked.WorkBucket = e.stack.Names["IndexWorkBucket"]
	chunked.Work = indexfn.WorkStore{API: e.s3}
	chunked.Chunker = &indexfn.Chunker{API: sfn.NewFromConfig(e.stack.AWS), StateMachineARN: e.stack.Names["IndexListStateMachine"]}
	return e, chunked
}

// bigList is n rows, every seventh with a quoted notes field holding a line
// feed, so that chunk boundaries fall near records spanning lines.
func bigList(n int, tag string) []byte {
	var b strings.Builder
	b.WriteString("Customer ID,Email,Mobile Phone,Notes\r\n")
	for i := 1; i <= n; i++ {
		notes := "called back"
		if i%7 == 0 {
			notes = "\"line one\r\nline two, \"\"quoted\"\"\""
		}
		fmt.Fprintf(&b, "%s-%05d,%s%d@example.com,(212) 55%d-%04d,%s\r\n", tag, i, tag, i, i%10, i, notes)
	}
	return []byte(b.String())
}

type cmpEntry struct {
	PK, Kind            string
	Row, Offset, Length int64
}

func entryKeys(rows []row) []cmpEntry {
	out := make([]cmpEntry, 0, len(rows))
	for _, r := range rows {
		out = append(out, cmpEntry{r.PK, r.Kind, r.Row, r.Offset, r.Length})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].PK != out[j].PK {
			return out[i].PK < out[j].PK
		}
		return out[i].Row < out[j].Row
	})
	return out
}

// waitDone waits for the chunked job of key's claimed version to stop
// (its IndexListStateMachine execution, named by the job) and returns the
// manifest it left.
func waitDone(t *testing.T, e *env, key string) indexing.Manifest {
	t.Helper()
	m := e.manifest(t, key)
	job := indexing.ChunkJob{Bucket: m.Bucket, Key: m.Key, VersionID: m.VersionID, Sequencer: m.Sequencer}
	arn := strings.Replace(e.stack.Names["IndexListStateMachine"], ":stateMachine:", ":execution:", 1) + ":" + job.Name()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := e.stack.StepFunctions.Engine().WaitStatus(ctx, arn, asl.StatusSucceeded, asl.StatusFailed, asl.StatusAborted, asl.StatusTimedOut); err != nil {
		t.Fatalf("chunked job of %s (%s) did not stop: %v", key, arn, err)
	}
	return e.manifest(t, key)
}

// TestChunkedIndexing: a list of thousands of rows indexed through
// IndexListStateMachine in 4 KiB chunks ends with exactly the entries and
// counts the whole-list path gives for the same bytes, is answered from the
// last indexed version until it is done, and its rows are found in the
// first, a middle and the last chunk.
func TestChunkedIndexing(t *testing.T) {
	e, chunked := chunkEnv(t, 4096)
	ctx := context.Background()
	const rows = 3000
	body := bigList(rows, "big")
	old := bigList(20, "old")

	// The whole-list path, for the oracle.
	start := time.Now()
	e.put(t, "campaigns/c/whole.csv", body)
	if err := e.svc.Apply(ctx, e.one(t)); err != nil {
		t.Fatalf("Apply whole = %v", err)
	}
	wholeTime := time.Since(start)
	whole := e.wantIndexed(t, "campaigns/c/whole.csv", e.manifest(t, "campaigns/c/whole.csv").VersionID)

	// The last indexed version answers while the new one is chunked.
	e.put(t, "campaigns/c/big.csv", old)
	if err := e.svc.Apply(ctx, e.one(t)); err != nil {
		t.Fatalf("Apply old = %v", err)
	}
	v := e.put(t, "campaigns/c/big.csv", body)
	start = time.Now()
	if err := chunked.Apply(ctx, e.one(t)); err != nil {
		t.Fatalf("Apply chunked = %v", err)
	}
	if m := e.manifest(t, "campaigns/c/big.csv"); m.Status == indexing.StatusIndexing {
		if !m.Chunked || m.Previous == nil {
			t.Fatalf("manifest while chunked: chunked %v, previous %v; want chunked with the old version answering", m.Chunked, m.Previous)
		}
		if hits := e.lookup(t, identifiers.Email, "old3@example.com"); len(hits) != 1 {
			t.Fatalf("old version's row while chunked: %d hits, want 1", len(hits))
		}
	} else {
		t.Logf("chunked job finished before it could be observed (%s)", m.Status)
	}
	m := waitDone(t, e, "campaigns/c/big.csv")
	chunkedTime := time.Since(start)
	got := e.wantIndexed(t, "campaigns/c/big.csv", v)
	if got.Rows != rows || got.Rows != whole.Rows || got.Entries != whole.Entries || got.Invalid != whole.Invalid ||
		got.UnreadableRows != whole.UnreadableRows || got.Encoding != whole.Encoding || got.Size != int64(len(body)) {
		t.Fatalf("chunked manifest = rows %d entries %d invalid %d unreadable %d %s size %d, want rows %d entries %d invalid %d unreadable %d %s size %d",
			got.Rows, got.Entries, got.Invalid, got.UnreadableRows, got.Encoding, got.Size,
			whole.Rows, whole.Entries, whole.Invalid, whole.UnreadableRows, whole.Encoding, len(body))
	}
	if m.Previous != nil {
		t.Fatalf("indexed manifest keeps Previous %v", m.Previous)
	}
	var current []row
	for _, r := range e.entries(t, "campaigns/c/big.csv") {
		if r.VersionID == v {
			current = append(current, r)
		}
	}
	a, b := entryKeys(e.entries(t, "campaigns/c/whole.csv")), entryKeys(current)
	if len(a) != len(b) {
		t.Fatalf("chunked entries = %d, whole-list entries = %d", len(b), len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("chunked entry %d = %+v, whole-list %+v", i, b[i], a[i])
		}
	}
	// The old version is noncurrent now: its entries stay, as noncurrent.
	if hits := e.lookup(t, identifiers.Email, "old3@example.com"); len(hits) != 1 || !got.Retains(hits[0].VersionID) {
		t.Fatalf("old version's row after indexing: %+v, want 1 entry of a noncurrent version (%v)", hits, noncurrentIDs(got))
	}
	// First, middle (a record with a line feed), last.
	for _, n := range []int{1, 1400, 1505, rows} {
		hits := e.lookup(t, identifiers.Email, fmt.Sprintf("big%d@example.com", n))
		var found bool
		for _, h := range hits {
			if h.ObjectKey != "campaigns/c/big.csv" {
				continue
			}
			found = true
			rec, err := leads.ParseRecord(body[h.Offset:h.Offset+h.Length], got.Header, leads.Options{Delimiter: ','})
			if err != nil || h.Row != int64(n) || rec.Fields[0] != fmt.Sprintf("big-%05d", n) {
				t.Fatalf("row %d read back = %q (row %d), %v", n, rec.Fields, h.Row, err)
			}
		}
		if !found {
			t.Fatalf("row %d of the chunked list not found", n)
		}
	}
	t.Logf("%d rows, %d bytes: whole-list %v, chunked (%d KiB chunks) %v", rows, len(body), wholeTime, 4, chunkedTime)
}

// fakeChunker records the jobs it is asked to start.
type fakeChunker struct{ jobs []indexing.ChunkJob }

func (f *fakeChunker) StartChunked(_ context.Context, j indexing.ChunkJob) error {
	f.jobs = append(f.jobs, j)
	return nil
}

// TestChunkedFailure: a chunked list that fails half-way (some chunks
// written) is recorded failed with the reason, its entries gone, the last
// indexed version answering; a redelivered change does not claim it again.
func TestChunkedFailure(t *testing.T) {
	e, chunked := chunkEnv(t, 4096)
	ctx := context.Background()
	fc := &fakeChunker{}
	chunked.Chunker = fc
	key := "campaigns/c/fail.csv"
	e.put(t, key, bigList(20, "old"))
	e.sync(t)
	v := e.put(t, key, bigList(1000, "big"))
	c := e.one(t)
	for range 2 { // the change, and the change again
		if err := chunked.Apply(ctx, c); err != nil {
			t.Fatalf("Apply = %v", err)
		}
	}
	if len(fc.jobs) != 2 || fc.jobs[0] != fc.jobs[1] || fc.jobs[0].VersionID != v {
		t.Fatalf("jobs started = %+v, want the same job of %s twice", fc.jobs, v)
	}
	job := fc.jobs[0]
	plan, err := chunked.Plan(ctx, job)
	if err != nil || plan.Count < 3 {
		t.Fatalf("Plan = %+v, %v; want several chunks", plan, err)
	}
	out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &plan.Bucket, Key: &plan.Key})
	if err != nil {
		t.Fatalf("plan object: %v", err)
	}
	var raw bytes.Buffer
	raw.ReadFrom(out.Body)
	out.Body.Close()
	var chunks []indexing.Chunk
	if err := json.Unmarshal(raw.Bytes(), &chunks); err != nil || len(chunks) != plan.Count {
		t.Fatalf("plan = %s, %v", raw.String(), err)
	}
	res, err := chunked.Chunk(ctx, job, chunks[0])
	if err != nil || res.Rows == 0 || res.Entries == 0 {
		t.Fatalf("Chunk = %+v, %v", res, err)
	}
	if hits := e.lookup(t, identifiers.Email, "big1@example.com"); len(hits) != 1 {
		t.Fatalf("first chunk's row: %d hits, want 1", len(hits))
	}
	if err := chunked.FailChunked(ctx, job, "chunked indexing failed: States.TaskFailed"); err != nil {
		t.Fatalf("FailChunked = %v", err)
	}
	m := e.manifest(t, key)
	if m.Status != indexing.StatusFailed || m.Error != "chunked indexing failed: States.TaskFailed" || m.Previous == nil {
		t.Fatalf("manifest = %s %q previous %v, want failed with the reason and the old version answering", m.Status, m.Error, m.Previous)
	}
	if a, ok := m.Answering(); !ok || a.VersionID != m.Previous.VersionID {
		t.Fatalf("answering = %v %v, want the previous version", a.VersionID, ok)
	}
	if hits := e.lookup(t, identifiers.Email, "big1@example.com"); len(hits) != 0 {
		t.Fatalf("failed version's row: %d hits, want 0", len(hits))
	}
	if hits := e.lookup(t, identifiers.Email, "old3@example.com"); len(hits) != 1 {
		t.Fatalf("old version's row: %d hits, want 1", len(hits))
	}
	// A step of the failed job run late changes nothing.
	if res, err := chunked.Chunk(ctx, job, chunks[1]); err != nil || !res.Superseded {
		t.Fatalf("late Chunk = %+v, %v; want superseded", res, err)
	}
}

// TestDeadline: a list being read when the invocation nears its deadline
// is handed to the Chunker, or, without one, recorded failed with how far
// it got, the last indexed version answering; never left indexing.
func TestDeadline(t *testing.T) {
	e, chunked := chunkEnv(t, 1<<30)
	key := "campaigns/c/slow.csv"
	e.put(t, key, bigList(20, "old"))
	e.sync(t)
	e.put(t, key, bigList(500, "big"))
	c := e.one(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	slow := e.service(e.store)
	slow.DeadlineMargin = 2 * time.Minute // past it from the start
	if err := slow.Apply(ctx, c); err == nil || !strings.Contains(err.Error(), "timed out after 0 rows") {
		t.Fatalf("Apply without a chunker = %v, want an InputError: timed out", err)
	}
	if m := e.manifest(t, key); m.Status != indexing.StatusFailed || m.Error != "timed out after 0 rows" || m.Previous == nil {
		t.Fatalf("manifest = %s %q, want failed, timed out, the old version answering", m.Status, m.Error)
	}

	fc := &fakeChunker{}
	chunked.Chunker, chunked.DeadlineMargin = fc, 2*time.Minute
	c.Force = true
	c.Reconcile = true
	if err := chunked.Apply(ctx, c); err != nil {
		t.Fatalf("Apply with a chunker = %v", err)
	}
	if m := e.manifest(t, key); m.Status != indexing.StatusIndexing || !m.Chunked || len(fc.jobs) != 1 {
		t.Fatalf("manifest = %s chunked %v, jobs %d; want handed over", m.Status, m.Chunked, len(fc.jobs))
	}
}
