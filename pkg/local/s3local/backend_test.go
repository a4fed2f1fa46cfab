// The backend is driven through gofakes3's HTTP server with the AWS SDK's S3
// client, so what is tested is what the functions see: notifications for
// each change, and the same objects and version IDs after a restart.
package s3local

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// recorder collects the notifications a backend emits.
type recorder struct {
	mu  sync.Mutex
	all []Notification
	cur int
}

func (r *recorder) notify(n Notification) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, n)
}

// since returns the notifications emitted since the last call.
func (r *recorder) since() []Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]Notification(nil), r.all[r.cur:]...)
	r.cur = len(r.all)
	return out
}

// serve opens the store under dir (notifying rec) behind the local S3
// server and returns an S3 client for it; both close when the test ends or
// when the returned stop is called.
func serve(t *testing.T, dir string, rec *recorder) (*s3.Client, *Backend, func()) {
	t.Helper()
	var notify func(Notification)
	if rec != nil {
		notify = rec.notify
	}
	b, err := Open(dir, notify)
	if err != nil {
		t.Fatalf("Open(%q) error = %v", dir, err)
	}
	srv := httptest.NewServer(Server(b))
	var once sync.Once
	stop := func() {
		once.Do(func() {
			srv.Close()
			if err := b.Close(); err != nil {
				t.Errorf("Close() error = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "SECRETLOCAL", ""),
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	return client, b, stop
}

func createBucket(t *testing.T, c *s3.Client, name string, versioned bool) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket(%s) error = %v", name, err)
	}
	if !versioned {
		return
	}
	_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(name),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		t.Fatalf("PutBucketVersioning(%s) error = %v", name, err)
	}
}

func put(t *testing.T, c *s3.Client, bucket, key, body string) string {
	t.Helper()
	out, err := c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body),
	})
	if err != nil {
		t.Fatalf("PutObject(%s/%s) error = %v", bucket, key, err)
	}
	return aws.ToString(out.VersionId)
}

func get(t *testing.T, c *s3.Client, bucket, key, version string) string {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := c.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("GetObject(%s/%s@%s) error = %v", bucket, key, version, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject(%s/%s@%s) body error = %v", bucket, key, version, err)
	}
	return string(b)
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// event is the part of a Notification a test can predict.
type event struct {
	Name, Key, VersionID string
	Size                 int64
	ETag                 string
}

func toEvents(ns []Notification) []event {
	out := make([]event, len(ns))
	for i, n := range ns {
		out[i] = event{Name: n.EventName, Key: n.Key, VersionID: n.VersionID, Size: n.Size, ETag: n.ETag}
	}
	return out
}

func TestNotificationsVersionedBucket(t *testing.T) {
	rec := &recorder{}
	c, _, _ := serve(t, t.TempDir(), rec)
	ctx := context.Background()
	const bucket = "leads"
	createBucket(t, c, bucket, true)
	if got := rec.since(); len(got) != 0 {
		t.Fatalf("bucket setup notified %v, want nothing", got)
	}

	// Version IDs are learned from the responses as the steps run, so the
	// table holds functions of them.
	vid := map[string]string{}
	tests := []struct {
		name string
		do   func(t *testing.T)
		want func() []event
	}{{
		name: "put",
		do:   func(t *testing.T) { vid["a1"] = put(t, c, bucket, "lists/a.csv", "v1") },
		want: func() []event {
			return []event{{Name: "ObjectCreated:Put", Key: "lists/a.csv", VersionID: vid["a1"], Size: 2, ETag: md5Hex("v1")}}
		},
	}, {
		name: "overwrite makes a new version",
		do: func(t *testing.T) {
			vid["a2"] = put(t, c, bucket, "lists/a.csv", "v two")
			if vid["a2"] == vid["a1"] {
				t.Fatalf("overwrite VersionId = %q, same as the first version", vid["a2"])
			}
		},
		want: func() []event {
			return []event{{Name: "ObjectCreated:Put", Key: "lists/a.csv", VersionID: vid["a2"], Size: 5, ETag: md5Hex("v two")}}
		},
	}, {
		name: "delete creates a delete marker",
		do: func(t *testing.T) {
			out, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("lists/a.csv")})
			if err != nil {
				t.Fatalf("DeleteObject error = %v", err)
			}
			if !aws.ToBool(out.DeleteMarker) {
				t.Fatalf("DeleteMarker = false, want true")
			}
			vid["aDel"] = aws.ToString(out.VersionId)
			if vid["aDel"] == "" {
				t.Fatalf("delete marker VersionId is empty")
			}
		},
		want: func() []event {
			return []event{{Name: "ObjectRemoved:DeleteMarkerCreated", Key: "lists/a.csv", VersionID: vid["aDel"]}}
		},
	}, {
		name: "delete of a missing key notifies nothing",
		do: func(t *testing.T) {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("nothing-here")}); err != nil {
				t.Fatalf("DeleteObject error = %v", err)
			}
		},
		want: func() []event { return nil },
	}, {
		name: "delete of a key whose current version is a delete marker notifies nothing",
		do: func(t *testing.T) {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("lists/a.csv")}); err != nil {
				t.Fatalf("DeleteObject error = %v", err)
			}
		},
		want: func() []event { return nil },
	}, {
		name: "delete of a specific version",
		do: func(t *testing.T) {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("lists/a.csv"), VersionId: aws.String(vid["a1"])})
			if err != nil {
				t.Fatalf("DeleteObject(version) error = %v", err)
			}
		},
		want: func() []event {
			return []event{{Name: "ObjectRemoved:Delete", Key: "lists/a.csv", VersionID: vid["a1"]}}
		},
	}, {
		name: "delete of a version that does not exist notifies nothing",
		do: func(t *testing.T) {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("lists/a.csv"), VersionId: aws.String(vid["a1"])})
			if err != nil {
				t.Fatalf("DeleteObject(version) error = %v", err)
			}
		},
		want: func() []event { return nil },
	}, {
		name: "DeleteObjects",
		do: func(t *testing.T) {
			vid["b"] = put(t, c, bucket, "b.csv", "bb")
			vid["c"] = put(t, c, bucket, "c.csv", "ccc")
			rec.since() // the puts are tested above
			out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
				{Key: aws.String("b.csv")}, {Key: aws.String("missing.csv")}, {Key: aws.String("c.csv")},
			}}})
			if err != nil {
				t.Fatalf("DeleteObjects error = %v", err)
			}
			if len(out.Errors) != 0 {
				t.Fatalf("DeleteObjects Errors = %v, want none", out.Errors)
			}
			// The markers' version IDs are the current versions now.
			versions, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
			if err != nil {
				t.Fatalf("ListObjectVersions error = %v", err)
			}
			for _, m := range versions.DeleteMarkers {
				if aws.ToBool(m.IsLatest) {
					vid[aws.ToString(m.Key)+"Del"] = aws.ToString(m.VersionId)
				}
			}
		},
		want: func() []event {
			return []event{
				{Name: "ObjectRemoved:DeleteMarkerCreated", Key: "b.csv", VersionID: vid["b.csvDel"]},
				{Name: "ObjectRemoved:DeleteMarkerCreated", Key: "c.csv", VersionID: vid["c.csvDel"]},
			}
		},
	}, {
		name: "DeleteObjects of versions",
		do: func(t *testing.T) {
			out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
				{Key: aws.String("b.csv"), VersionId: aws.String(vid["b"])},
				{Key: aws.String("c.csv"), VersionId: aws.String(vid["c"])},
				{Key: aws.String("c.csv"), VersionId: aws.String(vid["b"])}, // not a version of c.csv
			}}})
			if err != nil {
				t.Fatalf("DeleteObjects error = %v", err)
			}
			if len(out.Deleted) != 3 {
				t.Fatalf("DeleteObjects Deleted = %d entries, want 3", len(out.Deleted))
			}
			got := listVersions(t, c, bucket)
			for _, v := range got {
				if (v.Key == "b.csv" || v.Key == "c.csv") && !v.Marker {
					t.Fatalf("after deleting its versions %s still has version %s", v.Key, v.VersionID)
				}
			}
		},
		want: func() []event {
			return []event{
				{Name: "ObjectRemoved:Delete", Key: "b.csv", VersionID: vid["b"]},
				{Name: "ObjectRemoved:Delete", Key: "c.csv", VersionID: vid["c"]},
			}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.do(t)
			got, want := toEvents(rec.since()), tc.want()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("notifications = %+v, want %+v", got, want)
			}
		})
	}
}

func TestNotificationsUnversionedBucket(t *testing.T) {
	rec := &recorder{}
	c, _, _ := serve(t, "", rec)
	ctx := context.Background()
	createBucket(t, c, "plain", false)
	if v := put(t, c, "plain", "k", "body"); v != "" {
		t.Fatalf("VersionId in an unversioned bucket = %q, want none", v)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("plain"), Key: aws.String("k")}); err != nil {
		t.Fatalf("DeleteObject error = %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("plain"), Key: aws.String("k")}); err != nil {
		t.Fatalf("second DeleteObject error = %v", err)
	}
	got := toEvents(rec.since())
	want := []event{
		{Name: "ObjectCreated:Put", Key: "k", Size: 4, ETag: md5Hex("body")},
		{Name: "ObjectRemoved:Delete", Key: "k"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("notifications = %+v, want %+v", got, want)
	}
}

func TestRangedGet(t *testing.T) {
	c, _, _ := serve(t, "", nil)
	createBucket(t, c, "ranges", true)
	put(t, c, "ranges", "digits", "0123456789")
	tests := []struct {
		name, rng, want, wantRange string
	}{
		{name: "first bytes", rng: "bytes=0-3", want: "0123", wantRange: "bytes 0-3/10"},
		{name: "middle", rng: "bytes=4-6", want: "456", wantRange: "bytes 4-6/10"},
		{name: "open end", rng: "bytes=7-", want: "789", wantRange: "bytes 7-9/10"},
		{name: "suffix", rng: "bytes=-2", want: "89", wantRange: "bytes 8-9/10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("digits"), Range: aws.String(tc.rng)})
			if err != nil {
				t.Fatalf("GetObject(Range %s) error = %v", tc.rng, err)
			}
			defer out.Body.Close()
			b, _ := io.ReadAll(out.Body)
			if string(b) != tc.want {
				t.Fatalf("body = %q, want %q", b, tc.want)
			}
			if got := aws.ToString(out.ContentRange); got != tc.wantRange {
				t.Fatalf("ContentRange = %q, want %q", got, tc.wantRange)
			}
		})
	}
}

// version is one entry of ListObjectVersions, delete markers included.
type version struct {
	Key, VersionID string
	Latest, Marker bool
	Size           int64
	Modified       string
}

func listVersions(t *testing.T, c *s3.Client, bucket string) []version {
	t.Helper()
	out, err := c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListObjectVersions(%s) error = %v", bucket, err)
	}
	var vs []version
	for _, v := range out.Versions {
		vs = append(vs, version{Key: aws.ToString(v.Key), VersionID: aws.ToString(v.VersionId), Latest: aws.ToBool(v.IsLatest),
			Size: aws.ToInt64(v.Size), Modified: aws.ToTime(v.LastModified).String()})
	}
	for _, m := range out.DeleteMarkers {
		vs = append(vs, version{Key: aws.ToString(m.Key), VersionID: aws.ToString(m.VersionId), Latest: aws.ToBool(m.IsLatest),
			Marker: true, Modified: aws.ToTime(m.LastModified).String()})
	}
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].Key != vs[j].Key {
			return vs[i].Key < vs[j].Key
		}
		return vs[i].VersionID < vs[j].VersionID
	})
	return vs
}

func TestRestartKeepsObjectsAndVersions(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	rec := &recorder{}
	c, _, stop := serve(t, dir, rec)
	createBucket(t, c, "leads", true)
	createBucket(t, c, "exports", false)
	put(t, c, "leads", "a.csv", "first")
	put(t, c, "leads", "a.csv", "second")
	put(t, c, "leads", "b.csv", "gone soon")
	put(t, c, "leads", "dir/c d+e.csv", "odd key")
	put(t, c, "exports", "x.json", "{}")
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("leads"), Key: aws.String("b.csv")}); err != nil {
		t.Fatalf("DeleteObject error = %v", err)
	}
	if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("exports"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("x.json")}}}}); err != nil {
		t.Fatalf("DeleteObjects error = %v", err)
	}
	before := listVersions(t, c, "leads")
	bodies := map[string]string{}
	for _, v := range before {
		if !v.Marker {
			bodies[v.VersionID] = get(t, c, "leads", v.Key, v.VersionID)
		}
	}
	lastSeq := rec.since()
	stop()

	c2, _, _ := serve(t, dir, rec)
	if got := rec.since(); len(got) != 0 {
		t.Fatalf("replay notified %v, want nothing", toEvents(got))
	}
	after := listVersions(t, c2, "leads")
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("versions after restart =\n%+v\nwant\n%+v", after, before)
	}
	for _, v := range after {
		if v.Marker {
			continue
		}
		if got := get(t, c2, "leads", v.Key, v.VersionID); got != bodies[v.VersionID] {
			t.Fatalf("%s@%s after restart = %q, want %q", v.Key, v.VersionID, got, bodies[v.VersionID])
		}
	}
	if got := get(t, c2, "leads", "a.csv", ""); got != "second" {
		t.Fatalf("current a.csv after restart = %q, want %q", got, "second")
	}
	list, err := c2.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("exports")})
	if err != nil {
		t.Fatalf("ListObjectsV2(exports) error = %v", err)
	}
	if len(list.Contents) != 0 {
		t.Fatalf("exports after restart holds %d objects, want 0", len(list.Contents))
	}

	// The store goes on where it stopped: new versions are new, and the
	// sequencer keeps increasing.
	v := put(t, c2, "leads", "a.csv", "third")
	for _, old := range after {
		if old.VersionID == v {
			t.Fatalf("VersionId after restart = %q, reused from before", v)
		}
	}
	n := rec.since()
	if len(n) != 1 || !seqLess(lastSeq[len(lastSeq)-1].Sequencer, n[0].Sequencer) {
		t.Fatalf("sequencer after restart = %v, want one greater than %s", n, lastSeq[len(lastSeq)-1].Sequencer)
	}
}

func TestReplayAfterTornJournal(t *testing.T) {
	dir := t.TempDir()
	c, _, stop := serve(t, dir, nil)
	createBucket(t, c, "leads", true)
	put(t, c, "leads", "before.csv", "1")
	stop()

	// A crash mid-write leaves half a line.
	journal := filepath.Join(dir, "journal.jsonl")
	f, err := os.OpenFile(journal, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"op":"PutObject","bucket":"le`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	c, _, stop = serve(t, dir, nil)
	put(t, c, "leads", "after.csv", "2")
	stop()

	c, _, _ = serve(t, dir, nil)
	for key, want := range map[string]string{"before.csv": "1", "after.csv": "2"} {
		if got := get(t, c, "leads", key, ""); got != want {
			t.Fatalf("%s after two restarts = %q, want %q", key, got, want)
		}
	}
}

func TestCorruptJournalIsAnError(t *testing.T) {
	dir := t.TempDir()
	c, _, stop := serve(t, dir, nil)
	createBucket(t, c, "leads", true)
	put(t, c, "leads", "k", "1")
	stop()
	journal := filepath.Join(dir, "journal.jsonl")
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	// A bad line with whole lines after it is not a torn write; dropping what
	// follows would lose objects silently.
	lines := bytes.SplitAfter(b, []byte("\n"))
	corrupt := append(append([]byte(nil), lines[0]...), []byte("not json\n")...)
	for _, l := range lines[1:] {
		corrupt = append(corrupt, l...)
	}
	if err := os.WriteFile(journal, corrupt, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := Open(dir, nil); err == nil {
		b.Close()
		t.Fatalf("Open with a corrupt journal line error = nil, want an error")
	}
}

func TestMemoryOnlyWritesNothing(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	c, _, _ := serve(t, "", nil)
	createBucket(t, c, "memory", false)
	put(t, c, "memory", "k", "v")
	if got := get(t, c, "memory", "k", ""); got != "v" {
		t.Fatalf("GetObject = %q, want %q", got, "v")
	}
	entries, err := os.ReadDir(wd)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("memory-only store wrote %d entries into the working directory, want 0", len(entries))
	}
}

// seqLess compares sequencers as S3 documents: left-pad to equal length,
// then compare as strings.
func seqLess(a, b string) bool {
	for len(a) < len(b) {
		a = "0" + a
	}
	for len(b) < len(a) {
		b = "0" + b
	}
	return a < b
}

func TestSequencersIncreasePerKey(t *testing.T) {
	rec := &recorder{}
	c, _, _ := serve(t, t.TempDir(), rec)
	createBucket(t, c, "leads", true)
	const writers, each = 4, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// The same body from every writer, so every write shares one blob.
				key := fmt.Sprintf("k%d", (w+i)%3)
				_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("leads"), Key: aws.String(key), Body: strings.NewReader("same body")})
				if err != nil {
					errs <- err
					return
				}
				if i%4 == 3 {
					if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("leads"), Key: aws.String(key)}); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent write error = %v", err)
	}
	last := map[string]string{}
	ns := rec.since()
	if len(ns) < writers*each {
		t.Fatalf("got %d notifications, want at least %d", len(ns), writers*each)
	}
	for _, n := range ns {
		if prev, ok := last[n.Key]; ok && !seqLess(prev, n.Sequencer) {
			t.Fatalf("sequencer of %s = %s after %s, want greater", n.Key, n.Sequencer, prev)
		}
		last[n.Key] = n.Sequencer
	}
}

func TestPutErrorsAreNotJournaled(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{}
	c, _, stop := serve(t, dir, rec)
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	var nsb *types.NoSuchBucket
	var apiErr interface{ ErrorCode() string }
	if err == nil || (!errors.As(err, &nsb) && !(errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchBucket")) {
		t.Fatalf("PutObject into a missing bucket error = %v, want NoSuchBucket", err)
	}
	if got := rec.since(); len(got) != 0 {
		t.Fatalf("failed put notified %v, want nothing", toEvents(got))
	}
	stop()
	b, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open after a failed put error = %v", err)
	}
	b.Close()
}

func TestConcurrentPutsOfOneBody(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open error = %v", err)
	}
	defer b.Close()
	if err := b.CreateBucket("leads"); err != nil {
		t.Fatalf("CreateBucket error = %v", err)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	const writers, each = 8, 25
	errs := make(chan error, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Every write is of the same blob; each must land whole.
				key := fmt.Sprintf("w%d/%d", w, i)
				if _, err := b.PutObject("leads", key, map[string]string{}, bytes.NewReader(body), int64(len(body)), nil); err != nil {
					errs <- fmt.Errorf("%s: %w", key, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("PutObject error = %v", err)
	}
	b.Close()

	b2, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("reopen error = %v", err)
	}
	defer b2.Close()
	obj, err := b2.GetObject("leads", "w3/7", nil)
	if err != nil {
		t.Fatalf("GetObject after reopen error = %v", err)
	}
	defer obj.Contents.Close()
	got, _ := io.ReadAll(obj.Contents)
	if !bytes.Equal(got, body) {
		t.Fatalf("body after reopen = %d bytes, want the %d written", len(got), len(body))
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, "blobs", "*tmp"))
	if len(tmps) != 0 {
		t.Fatalf("temporary blob files left = %v, want none", tmps)
	}
}
