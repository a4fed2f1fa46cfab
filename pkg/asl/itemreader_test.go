package asl

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/veil-privacy/veil/pkg/local/s3local"
)

// memS3 is an in-memory S3Client for the interpreter's own logic: listings
// come in pages of pageSize keys (or MaxKeys, if smaller), unknown buckets
// and keys fail as S3 fails them. gate, when set, holds every listing until
// it receives (or the call's context ends).
type memS3 struct {
	mu       sync.Mutex
	buckets  map[string]map[string][]byte
	pageSize int32
	lists    int
	gate     chan struct{}
}

func newMemS3(pageSize int32) *memS3 {
	return &memS3{buckets: map[string]map[string][]byte{}, pageSize: pageSize}
}

func (m *memS3) put(bucket, key, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buckets[bucket] == nil {
		m.buckets[bucket] = map[string][]byte{}
	}
	m.buckets[bucket][key] = []byte(body)
}

func (m *memS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if m.gate != nil {
		select {
		case <-m.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lists++
	objs, ok := m.buckets[aws.ToString(in.Bucket)]
	if !ok {
		return nil, &types.NoSuchBucket{Message: aws.String("The specified bucket does not exist")}
	}
	after := max(aws.ToString(in.StartAfter), aws.ToString(in.ContinuationToken))
	var keys []string
	for k := range objs {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > after {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	n := m.pageSize
	if in.MaxKeys != nil && *in.MaxKeys < n {
		n = *in.MaxKeys
	}
	out := &s3.ListObjectsV2Output{}
	if int32(len(keys)) > n {
		keys = keys[:n]
		out.IsTruncated, out.NextContinuationToken = aws.Bool(true), aws.String(keys[n-1])
	}
	for _, k := range keys {
		sum := md5.Sum(objs[k])
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), ETag: aws.String(`"` + hex.EncodeToString(sum[:]) + `"`),
			Size: aws.Int64(int64(len(objs[k]))), LastModified: aws.Time(t0), StorageClass: types.ObjectStorageClassStandard})
	}
	return out, nil
}

func (m *memS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	objs, ok := m.buckets[aws.ToString(in.Bucket)]
	if !ok {
		return nil, &types.NoSuchBucket{Message: aws.String("The specified bucket does not exist")}
	}
	body, ok := objs[aws.ToString(in.Key)]
	if !ok {
		return nil, &types.NoSuchKey{Message: aws.String("The specified key does not exist.")}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(body))}, nil
}

func newS3Harness(t *testing.T, inv Invoker, client S3Client) *harness {
	t.Helper()
	clock := NewManualClock(t0)
	e := NewEngine(Options{Invoker: inv, Clock: clock, S3: client})
	t.Cleanup(e.Close)
	return &harness{t: t, e: e, clock: clock}
}

// lister is a Distributed Map over a listing of bucket b with the given
// ItemReader Parameters and ReaderConfig.
func lister(params, config string) string {
	return dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":`+params+config+`},`, echo)
}

// TestListObjectsReader checks the s3:listObjectsV2 ItemReader (AWS docs,
// "ItemReader (Map)", "A list of Amazon S3 objects"): one item per object
// under the prefix, over every page of the listing, with the metadata
// fields Etag, Key, LastModified (epoch seconds), Size and StorageClass.
func TestListObjectsReader(t *testing.T) {
	store := newMemS3(3)
	for i := range 7 {
		store.put("leads", fmt.Sprintf("campaigns/list-%d.csv", i), strings.Repeat("x", i))
	}
	store.put("leads", "archive/old.csv", "old")
	store.put("leads", "campaignsX", "not under campaigns/")

	h := newS3Harness(t, nil, store)
	x := h.start(lister(`{"Bucket.$":"$.bucket","Prefix.$":"$.prefix"}`, ``), `{"bucket":"leads","prefix":"campaigns/"}`)
	info := h.settle(x)
	if info.Status != StatusSucceeded {
		t.Fatalf("status = %s (%s: %s), want SUCCEEDED", info.Status, info.Error, info.Cause)
	}
	var items []map[string]any
	if err := json.Unmarshal([]byte(info.Output), &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 7 {
		t.Fatalf("items = %d, want the 7 objects under campaigns/", len(items))
	}
	sum := md5.Sum([]byte("xxx"))
	want := map[string]any{"Etag": `"` + hex.EncodeToString(sum[:]) + `"`, "Key": "campaigns/list-3.csv",
		"LastModified": float64(t0.Unix()), "Size": float64(3), "StorageClass": "STANDARD"}
	if got := items[3]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("item 3 = %v\nwant     %v", got, want)
	}
	if store.lists != 3 {
		t.Fatalf("ListObjectsV2 calls = %d, want 3 pages of 3", store.lists)
	}

	t.Run("MaxItems stops the listing", func(t *testing.T) {
		store.lists = 0
		info := newS3Harness(t, nil, store).settleDef(lister(`{"Bucket":"leads","Prefix":"campaigns/"}`, `,"ReaderConfig":{"MaxItems":4}`), `{}`)
		if n := strings.Count(info.Output, `"Key"`); info.Status != StatusSucceeded || n != 4 || store.lists != 2 {
			t.Fatalf("status %s, %d items, %d listings; want SUCCEEDED, 4 items, 2 listings", info.Status, n, store.lists)
		}
	})
	t.Run("MaxKeys sets the page size", func(t *testing.T) {
		store.lists = 0
		info := newS3Harness(t, nil, store).settleDef(lister(`{"Bucket":"leads","Prefix":"campaigns/","MaxKeys":2}`, ``), `{}`)
		if n := strings.Count(info.Output, `"Key"`); info.Status != StatusSucceeded || n != 7 || store.lists != 4 {
			t.Fatalf("status %s, %d items, %d listings; want SUCCEEDED, 7 items, 4 listings", info.Status, n, store.lists)
		}
	})
	t.Run("MaxItemsPath", func(t *testing.T) {
		info := newS3Harness(t, nil, store).settleDef(lister(`{"Bucket":"leads"}`, `,"ReaderConfig":{"MaxItemsPath":"$.n"}`), `{"n":2}`)
		if n := strings.Count(info.Output, `"Key"`); info.Status != StatusSucceeded || n != 2 {
			t.Fatalf("status %s, %d items; want SUCCEEDED, 2 items", info.Status, n)
		}
	})
	t.Run("an empty prefix", func(t *testing.T) {
		info := newS3Harness(t, nil, store).settleDef(lister(`{"Bucket":"leads","Prefix":"nothing/"}`, ``), `{}`)
		if info.Status != StatusSucceeded || info.Output != `[]` {
			t.Fatalf("status, output = %s, %s; want SUCCEEDED, []", info.Status, info.Output)
		}
	})
}

func (h *harness) settleDef(def, input string) ExecutionInfo {
	h.t.Helper()
	return h.settle(h.start(def, input))
}

// TestGetObjectReader checks the s3:getObject ItemReader with each
// InputType it supports (AWS docs, "ItemReader (Map)": a JSON file, a JSON
// Lines file, a CSV file), and MaxItems.
func TestGetObjectReader(t *testing.T) {
	store := newMemS3(1000)
	store.put("data", "facts.json", `[{"verdict":"true","statement_date":"6/11/2008","statement_source":"speech"},{"verdict":"false","statement_date":"6/7/2022","statement_source":"television"},{"verdict":"mostly-true","statement_date":"5/18/2016","statement_source":"news"}]`)
	store.put("data", "facts.jsonl", "{\"verdict\": \"true\"}\n{\"verdict\": \"false\"}\n\n{\"verdict\": \"mostly-true\"}\n")
	store.put("data", "ratings.csv", "rating,movieId,userId,timestamp\n3.5,307,1,1256677221\n\"1,5\",481,1\n4,1091,1,1256677471,extra\n")
	store.put("data", "ratings-noheader.csv", "1|307|3.5\n1|481|3.5\n")
	getter := func(key, config string) string {
		return dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":`+config+`,"Parameters":{"Bucket":"data","Key.$":"$.key"}},`, echo)
	}
	tests := []struct {
		name, key, config, want string
	}{
		{"JSON array", "facts.json", `{"InputType":"JSON"}`,
			`[{"verdict":"true","statement_date":"6/11/2008","statement_source":"speech"},{"verdict":"false","statement_date":"6/7/2022","statement_source":"television"},{"verdict":"mostly-true","statement_date":"5/18/2016","statement_source":"news"}]`},
		{"JSON with MaxItems", "facts.json", `{"InputType":"JSON","MaxItems":2}`,
			`[{"verdict":"true","statement_date":"6/11/2008","statement_source":"speech"},{"verdict":"false","statement_date":"6/7/2022","statement_source":"television"}]`},
		{"JSON Lines", "facts.jsonl", `{"InputType":"JSONL"}`, `[{"verdict":"true"},{"verdict":"false"},{"verdict":"mostly-true"}]`},
		{"CSV, header in the first row; short rows padded, long rows cut", "ratings.csv", `{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"}`,
			`[{"rating":"3.5","movieId":"307","userId":"1","timestamp":"1256677221"},{"rating":"1,5","movieId":"481","userId":"1","timestamp":""},{"rating":"4","movieId":"1091","userId":"1","timestamp":"1256677471"}]`},
		{"CSV with given headers and a delimiter", "ratings-noheader.csv", `{"InputType":"CSV","CSVHeaderLocation":"GIVEN","CSVHeaders":["userId","movieId","rating"],"CSVDelimiter":"PIPE","MaxItems":1}`,
			`[{"userId":"1","movieId":"307","rating":"3.5"}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := newS3Harness(t, nil, store).settleDef(getter(tc.key, tc.config), `{"key":"`+tc.key+`"}`)
			if info.Status != StatusSucceeded {
				t.Fatalf("status = %s (%s: %s), want SUCCEEDED", info.Status, info.Error, info.Cause)
			}
			if !sameJSON(t, info.Output, tc.want) {
				t.Fatalf("output = %s\nwant     %s", info.Output, tc.want)
			}
		})
	}
}

// TestItemReaderErrors: a reader that cannot read fails the Map Run with
// States.ItemReaderFailed (which Catch sees); without an S3 client, with
// States.Runtime.
func TestItemReaderErrors(t *testing.T) {
	store := newMemS3(1000)
	store.put("data", "object.json", `{"not":"an array"}`)
	store.put("data", "broken.json", `[1,2`)
	getter := func(bucket, key string) string {
		return dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"`+bucket+`","Key":"`+key+`"}},`, echo)
	}
	tests := []struct {
		name, def, input string
		client           S3Client
		wantErr, wantIn  string
	}{
		{"missing object", getter("data", "nope.json"), `{}`, store, ErrItemReaderFailed, "NoSuchKey"},
		{"missing bucket", getter("nope", "object.json"), `{}`, store, ErrItemReaderFailed, "NoSuchBucket"},
		{"listing a missing bucket", lister(`{"Bucket":"nope"}`, ``), `{}`, store, ErrItemReaderFailed, "NoSuchBucket"},
		{"an object that is not an array", getter("data", "object.json"), `{}`, store, ErrItemReaderFailed, "non-iterable"},
		{"an object that is not JSON", getter("data", "broken.json"), `{}`, store, ErrItemReaderFailed, "not valid JSON"},
		{"a Bucket that is not a string", lister(`{"Bucket.$":"$.b"}`, ``), `{"b":1}`, store, ErrItemReaderFailed, "Bucket must be a string"},
		{"a Bucket path to nothing", lister(`{"Bucket.$":"$.b"}`, ``), `{}`, store, ErrParameterPathFailure, "ItemReader.Parameters"},
		{"a negative MaxItemsPath", lister(`{"Bucket":"data"}`, `,"ReaderConfig":{"MaxItemsPath":"$.n"}`), `{"n":-1}`, store, ErrItemReaderFailed, "MaxItems"},
		{"no S3 client", getter("data", "object.json"), `{}`, nil, ErrRuntime, "no S3 client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newS3Harness(t, nil, tc.client)
			x := h.start(tc.def, tc.input)
			info := h.settle(x)
			if info.Status != StatusFailed || info.Error != tc.wantErr || !strings.Contains(info.Cause, tc.wantIn) {
				t.Fatalf("status, error = %s, %s (%s); want FAILED, %s mentioning %q", info.Status, info.Error, info.Cause, tc.wantErr, tc.wantIn)
			}
			var mapRunFailed bool
			for _, ev := range x.History() {
				mapRunFailed = mapRunFailed || (ev.Type == "MapRunFailed" && ev.Error == tc.wantErr)
			}
			if !mapRunFailed {
				t.Fatalf("history has no MapRunFailed with %s", tc.wantErr)
			}
		})
	}
	t.Run("caught", func(t *testing.T) {
		def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"data","Key":"nope"}},
		  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":` + echo + `},
		  "Catch":[{"ErrorEquals":["States.ItemReaderFailed"],"ResultPath":"$.error","Next":"Done"}],"End":true},"Done":{"Type":"Succeed"}}}`
		info := newS3Harness(t, nil, store).settleDef(def, `{}`)
		if info.Status != StatusSucceeded || !strings.Contains(info.Output, ErrItemReaderFailed) {
			t.Fatalf("status, output = %s, %s; want SUCCEEDED with the caught error", info.Status, info.Output)
		}
	})
}

// TestItemReaderRestart: an engine closed while the ItemReader reads (or
// while child executions run) resumes from its snapshot in a new engine,
// which reads again and finishes the Map Run.
func TestItemReaderRestart(t *testing.T) {
	store := newMemS3(1000)
	for i := range 3 {
		store.put("leads", fmt.Sprintf("k%d", i), "x")
	}
	store.gate = make(chan struct{})
	var mu sync.Mutex
	var snapshot []byte
	persist := func(_ string, b []byte) {
		mu.Lock()
		snapshot = b
		mu.Unlock()
	}
	clock := NewManualClock(t0)
	e1 := NewEngine(Options{Clock: clock, S3: store, Persist: persist})
	sm, err := Parse(lister(`{"Bucket":"leads"}`, ``))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e1.Start(sm, StartInput{ExecutionID: "x1", Name: "x1", Input: `{}`}); err != nil {
		t.Fatal(err)
	}
	e1.Close() // the listing is held at the gate; closing cancels it

	mu.Lock()
	saved := snapshot
	mu.Unlock()
	if !strings.Contains(string(saved), `"phase":"read"`) {
		t.Fatalf("snapshot = %s, want the Map thread reading", saved)
	}
	store.gate = nil
	e2 := NewEngine(Options{Clock: clock, S3: store})
	defer e2.Close()
	if _, err := e2.Restore(saved); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := e2.WaitStatus(ctx, "x1")
	if err != nil || info.Status != StatusSucceeded || strings.Count(info.Output, `"Key"`) != 3 {
		t.Fatalf("after restore: %v, %s %s; want SUCCEEDED with 3 items", err, info.Status, info.Output)
	}
}

// countingS3 counts the listings it passes on.
type countingS3 struct {
	S3Client
	lists atomic.Int32
}

func (c *countingS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	c.lists.Add(1)
	return c.S3Client.ListObjectsV2(ctx, in, optFns...)
}

// TestItemReaderOnLocalS3 reads through the real SDK client from the local
// stack's S3 (gofakes3 over HTTP): a listing of more than one page, both at
// gofakes3's default page size (1,000 keys) and with MaxKeys, a JSON object,
// and S3's own errors.
func TestItemReaderOnLocalS3(t *testing.T) {
	backend, err := s3local.Open("", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s3local.Server(backend))
	t.Cleanup(func() {
		srv.Close()
		_ = backend.Close()
	})
	// The endpoint comes from the SDK's configuration, as on the local stack.
	client := s3.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("leads")}); err != nil {
		t.Fatal(err)
	}
	for i := range 1001 {
		body := fmt.Sprintf("list %d", i)
		if _, err := backend.PutObject("leads", fmt.Sprintf("big/%04d.csv", i), nil, strings.NewReader(body), int64(len(body)), nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("leads"), Key: aws.String(fmt.Sprintf("small/%d.csv", i)), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("leads"), Key: aws.String("items.json"), Body: strings.NewReader(`[{"id":1},{"id":2}]`)}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, def, want string
		wantItems       int
		wantLists       int32
	}{
		{"default page size", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"leads","Prefix":"big/"}},"ItemBatcher":{"MaxItemsPerBatch":1000},`, `{"P":{"Type":"Pass","Parameters":{"n.$":"States.ArrayLength($.Items)"},"End":true}}`), `[{"n":1000},{"n":1}]`, 0, 2},
		{"MaxKeys 2", lister(`{"Bucket":"leads","Prefix":"small/","MaxKeys":2}`, ``), "", 5, 3},
		{"JSON object", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"leads","Key":"items.json"}},`, echo), `[{"id":1},{"id":2}]`, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			counting := &countingS3{S3Client: client}
			h := newS3Harness(t, nil, counting)
			info := h.settleDef(tc.def, `{}`)
			if info.Status != StatusSucceeded {
				t.Fatalf("status = %s (%s: %s), want SUCCEEDED", info.Status, info.Error, info.Cause)
			}
			if tc.want != "" && !sameJSON(t, info.Output, tc.want) {
				t.Fatalf("output = %.200s, want %s", info.Output, tc.want)
			}
			if n := strings.Count(info.Output, `"Key"`); tc.wantItems > 0 && n != tc.wantItems {
				t.Fatalf("items = %d, want %d", n, tc.wantItems)
			}
			if n := counting.lists.Load(); n != tc.wantLists {
				t.Fatalf("ListObjectsV2 calls = %d, want %d", n, tc.wantLists)
			}
		})
	}
	t.Run("S3's errors", func(t *testing.T) {
		missingKey := dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"leads","Key":"missing.json"}},`, echo)
		for def, want := range map[string]string{missingKey: "NoSuchKey", lister(`{"Bucket":"no-such-bucket"}`, ``): "NoSuchBucket"} {
			info := newS3Harness(t, nil, client).settleDef(def, `{}`)
			if info.Status != StatusFailed || info.Error != ErrItemReaderFailed || !strings.Contains(info.Cause, want) {
				t.Fatalf("status, error = %s, %s (%s); want FAILED, States.ItemReaderFailed with %s", info.Status, info.Error, info.Cause, want)
			}
		}
	})
}
