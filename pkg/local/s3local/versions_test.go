// Permanent version deletes, through the SDK against the server, checked
// against a model of what S3 documents: a key's versions in the order they
// were made, the last one current (a delete marker current means GET and
// HEAD answer 404), deleting a version removes it from that list and
// nothing else. Every step is checked again after a restart.
package s3local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// modelVersion is one version of a key as the test expects it.
type modelVersion struct {
	id, body string
	marker   bool
	meta     map[string]string
}

// keyModel is a key's versions, oldest first, the LastModified each was
// listed with when made (which must never change), and every version ID the
// key was ever given.
type keyModel struct {
	bucket, key string
	versions    []modelVersion
	modified    map[string]string
	made        []string
}

func newKeyModel(bucket, key string) *keyModel {
	return &keyModel{bucket: bucket, key: key, modified: map[string]string{}}
}

func (m *keyModel) put(t *testing.T, c *s3.Client, body string, meta map[string]string) string {
	t.Helper()
	out, err := c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(m.bucket), Key: aws.String(m.key), Body: strings.NewReader(body), Metadata: meta,
	})
	if err != nil {
		t.Fatalf("PutObject(%s) error = %v", m.key, err)
	}
	id := aws.ToString(out.VersionId)
	m.versions = append(m.versions, modelVersion{id: id, body: body, meta: meta})
	m.made = append(m.made, id)
	m.recordModified(t, c, id)
	return id
}

// deleteMarker makes a delete marker with a DeleteObject without a version.
func (m *keyModel) deleteMarker(t *testing.T, c *s3.Client) string {
	t.Helper()
	out, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(m.key)})
	if err != nil {
		t.Fatalf("DeleteObject(%s) error = %v", m.key, err)
	}
	if !aws.ToBool(out.DeleteMarker) {
		t.Fatalf("DeleteObject(%s) DeleteMarker = false, want true", m.key)
	}
	id := aws.ToString(out.VersionId)
	m.versions = append(m.versions, modelVersion{id: id, marker: true})
	m.made = append(m.made, id)
	m.recordModified(t, c, id)
	return id
}

// recordModified notes the LastModified the new version id is listed with.
func (m *keyModel) recordModified(t *testing.T, c *s3.Client, id string) {
	t.Helper()
	for _, v := range listVersions(t, c, m.bucket) {
		if v.Key == m.key && v.VersionID == id {
			m.modified[id] = v.Modified
			return
		}
	}
	t.Fatalf("ListObjectVersions(%s) does not list the new version %s", m.key, id)
}

// remove permanently deletes the version at index i with DeleteObject and
// returns the notification S3 sends for it.
func (m *keyModel) remove(t *testing.T, c *s3.Client, i int) event {
	t.Helper()
	v := m.versions[i]
	out, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{
		Bucket: aws.String(m.bucket), Key: aws.String(m.key), VersionId: aws.String(v.id),
	})
	if err != nil {
		t.Fatalf("DeleteObject(%s@%s) error = %v", m.key, v.id, err)
	}
	if got := aws.ToString(out.VersionId); got != v.id {
		t.Fatalf("DeleteObject(%s@%s) VersionId = %q, want the deleted version's", m.key, v.id, got)
	}
	if got := aws.ToBool(out.DeleteMarker); got != v.marker {
		t.Fatalf("DeleteObject(%s@%s) DeleteMarker = %v, want %v", m.key, v.id, got, v.marker)
	}
	m.versions = slices.Delete(m.versions, i, i+1)
	return event{Name: "ObjectRemoved:Delete", Key: m.key, VersionID: v.id}
}

// removeMulti permanently deletes the version at index i with DeleteObjects.
func (m *keyModel) removeMulti(t *testing.T, c *s3.Client, i int) event {
	t.Helper()
	v := m.versions[i]
	out, err := c.DeleteObjects(context.Background(), &s3.DeleteObjectsInput{Bucket: aws.String(m.bucket), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String(m.key), VersionId: aws.String(v.id)}},
	}})
	if err != nil {
		t.Fatalf("DeleteObjects(%s@%s) error = %v", m.key, v.id, err)
	}
	if len(out.Errors) != 0 || len(out.Deleted) != 1 {
		t.Fatalf("DeleteObjects(%s@%s) = %d deleted, errors %v; want 1 deleted", m.key, v.id, len(out.Deleted), out.Errors)
	}
	m.versions = slices.Delete(m.versions, i, i+1)
	return event{Name: "ObjectRemoved:Delete", Key: m.key, VersionID: v.id}
}

// check asserts that GET, HEAD, ListObjectVersions, ListObjectsV2 and GET
// of each version agree with the model.
func (m *keyModel) check(t *testing.T, c *s3.Client) {
	t.Helper()
	ctx := context.Background()

	var listed []version
	for _, v := range listVersions(t, c, m.bucket) {
		if v.Key == m.key {
			listed = append(listed, v)
		}
	}
	var want []version
	for i, v := range m.versions {
		want = append(want, version{Key: m.key, VersionID: v.id, Latest: i == len(m.versions)-1, Marker: v.marker,
			Size: int64(len(v.body)), Modified: m.modified[v.id]})
	}
	sortVersions(want)
	if fmt.Sprint(listed) != fmt.Sprint(want) {
		t.Fatalf("ListObjectVersions(%s) =\n%+v\nwant\n%+v", m.key, listed, want)
	}

	var cur *modelVersion
	if n := len(m.versions); n > 0 && !m.versions[n-1].marker {
		cur = &m.versions[n-1]
	}
	in := &s3.GetObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(m.key)}
	out, err := c.GetObject(ctx, in)
	head, herr := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(m.key)})
	if cur == nil {
		var nsk *types.NoSuchKey
		if !errors.As(err, &nsk) {
			t.Fatalf("GetObject(%s) with no current version error = %v, want NoSuchKey", m.key, err)
		}
		var nf *types.NotFound
		if !errors.As(herr, &nf) {
			t.Fatalf("HeadObject(%s) with no current version error = %v, want NotFound", m.key, herr)
		}
	} else {
		if err != nil {
			t.Fatalf("GetObject(%s) error = %v, want %q", m.key, err, cur.body)
		}
		body := readBody(t, out.Body)
		if body != cur.body || aws.ToString(out.VersionId) != cur.id || aws.ToString(out.ETag) != `"`+md5Hex(cur.body)+`"` {
			t.Fatalf("GetObject(%s) = %q @ %s ETag %s, want %q @ %s", m.key, body, aws.ToString(out.VersionId), aws.ToString(out.ETag), cur.body, cur.id)
		}
		if !maps.Equal(out.Metadata, cur.meta) {
			t.Fatalf("GetObject(%s) Metadata = %v, want %v", m.key, out.Metadata, cur.meta)
		}
		if herr != nil {
			t.Fatalf("HeadObject(%s) error = %v", m.key, herr)
		}
		if aws.ToString(head.VersionId) != cur.id || aws.ToString(head.ETag) != aws.ToString(out.ETag) || aws.ToInt64(head.ContentLength) != int64(len(cur.body)) {
			t.Fatalf("HeadObject(%s) = %s ETag %s size %d, want %s ETag %s size %d", m.key, aws.ToString(head.VersionId),
				aws.ToString(head.ETag), aws.ToInt64(head.ContentLength), cur.id, aws.ToString(out.ETag), len(cur.body))
		}
	}

	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(m.bucket), Prefix: aws.String(m.key)})
	if err != nil {
		t.Fatalf("ListObjectsV2(%s) error = %v", m.key, err)
	}
	listedCurrent := slices.ContainsFunc(list.Contents, func(o types.Object) bool { return aws.ToString(o.Key) == m.key })
	if listedCurrent != (cur != nil) {
		t.Fatalf("ListObjectsV2 lists %s = %v, want %v", m.key, listedCurrent, cur != nil)
	}

	for _, v := range m.versions {
		if !v.marker {
			if got := get(t, c, m.bucket, m.key, v.id); got != v.body {
				t.Fatalf("GetObject(%s@%s) = %q, want %q", m.key, v.id, got, v.body)
			}
		}
	}
}

func readBody(t *testing.T, r io.ReadCloser) string {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Errorf("reading a body: %v", err)
	}
	return string(b)
}

func sortVersions(vs []version) {
	slices.SortFunc(vs, func(a, b version) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.VersionID, b.VersionID)
	})
}

// TestDeleteVersionsAsS3 walks one key through the cases S3 documents for
// DeleteObject with a versionId, checking notifications, every read, and
// the same after a restart.
func TestDeleteVersionsAsS3(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{}
	c, _, stop := serve(t, dir, rec)
	createBucket(t, c, "versions", true)
	m := newKeyModel("versions", "lists/a b.csv")
	// Every put names owner, so that gofakes3's carrying the current
	// version's metadata into a put that lacks it (S3 does not) adds nothing;
	// "extra" is what a version made current again must not gain.
	owner := func(o string) map[string]string { return map[string]string{"owner": o} }

	tests := []struct {
		name string
		do   func(t *testing.T) []event // returns the notifications expected
	}{{
		name: "deleting the current version makes the one before it current",
		do: func(t *testing.T) []event {
			m.put(t, c, "one", owner("z"))
			m.put(t, c, "two", owner("a"))
			m.put(t, c, "three", map[string]string{"owner": "a", "extra": "y"})
			rec.since()
			return []event{m.remove(t, c, 2)}
		},
	}, {
		name: "a version made current again can be superseded and made current again",
		do: func(t *testing.T) []event {
			m.put(t, c, "four", owner("c"))
			rec.since()
			return []event{m.remove(t, c, 2)}
		},
	}, {
		name: "a delete marker hides the key",
		do: func(t *testing.T) []event {
			id := m.deleteMarker(t, c)
			return []event{{Name: "ObjectRemoved:DeleteMarkerCreated", Key: m.key, VersionID: id}}
		},
	}, {
		name: "deleting the delete marker undeletes the key",
		do:   func(t *testing.T) []event { return []event{m.remove(t, c, 2)} },
	}, {
		name: "deleting the current version over a delete marker makes the marker current",
		do: func(t *testing.T) []event {
			m.put(t, c, "five", owner("d"))
			m.deleteMarker(t, c)
			m.put(t, c, "six", owner("e"))
			rec.since()
			return []event{m.remove(t, c, 4)}
		},
	}, {
		name: "deleting that marker makes the version under it current",
		do:   func(t *testing.T) []event { return []event{m.remove(t, c, 3)} },
	}, {
		name: "DeleteObjects of the current version makes the one before it current",
		do:   func(t *testing.T) []event { return []event{m.removeMulti(t, c, 2)} },
	}, {
		name: "deleting an older version leaves the current one",
		do:   func(t *testing.T) []event { return []event{m.remove(t, c, 0)} },
	}, {
		name: "deleting the only version removes the key",
		do:   func(t *testing.T) []event { return []event{m.remove(t, c, 0)} },
	}, {
		name: "a new version after all that has an ID never used",
		do: func(t *testing.T) []event {
			id := m.put(t, c, "seven", owner("f"))
			if slices.Contains(m.made[:len(m.made)-1], id) {
				t.Fatalf("PutObject VersionId = %s, used before", id)
			}
			return []event{{Name: "ObjectCreated:Put", Key: m.key, VersionID: id, Size: 5, ETag: md5Hex("seven")}}
		},
	}}
	for _, tc := range tests {
		ok := t.Run(tc.name, func(t *testing.T) {
			want := tc.do(t)
			if got := toEvents(rec.since()); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("notifications = %+v, want %+v", got, want)
			}
			m.check(t, c)
		})
		stop()
		c, _, stop = serve(t, dir, rec)
		ok = ok && t.Run(tc.name+", after a restart", func(t *testing.T) {
			if got := rec.since(); len(got) != 0 {
				t.Fatalf("replay notified %v, want nothing", toEvents(got))
			}
			m.check(t, c)
		})
		if !ok {
			// The steps after build on this one.
			t.FailNow()
		}
	}
}

// TestDeleteAllVersionsInAnyOrder deletes the four versions of a key (one a
// delete marker) in each of the 24 orders, each order on a key of its own,
// restarting halfway; every key ends gone, and the bucket empty.
func TestDeleteAllVersionsInAnyOrder(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{}
	c, _, stop := serve(t, dir, rec)
	createBucket(t, c, "orders", true)

	var orders [][]int
	var permute func(prefix, rest []int)
	permute = func(prefix, rest []int) {
		if len(rest) == 0 {
			orders = append(orders, slices.Clone(prefix))
			return
		}
		for i := range rest {
			permute(append(prefix, rest[i]), append(slices.Clone(rest[:i]), rest[i+1:]...))
		}
	}
	permute(nil, []int{0, 1, 2, 3})

	models := make([]*keyModel, len(orders))
	// left[k] is the version IDs order k has still to delete, in its order.
	left := make([][]string, len(orders))
	for k, order := range orders {
		m := newKeyModel("orders", fmt.Sprintf("k%02d-%v", k, order))
		m.put(t, c, "a", nil)
		m.deleteMarker(t, c)
		m.put(t, c, "bb", nil)
		m.put(t, c, "ccc", nil)
		models[k] = m
		for _, i := range order {
			left[k] = append(left[k], m.versions[i].id)
		}
	}
	rec.since()

	deleteNext := func(t *testing.T, k int) {
		t.Helper()
		m := models[k]
		id := left[k][0]
		left[k] = left[k][1:]
		i := slices.IndexFunc(m.versions, func(v modelVersion) bool { return v.id == id })
		want := []event{m.remove(t, c, i)}
		if got := toEvents(rec.since()); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: notifications = %+v, want %+v", m.key, got, want)
		}
		m.check(t, c)
	}
	for range 2 {
		for k := range orders {
			deleteNext(t, k)
		}
	}
	stop()
	c, _, stop = serve(t, dir, rec)
	for _, m := range models {
		m.check(t, c)
	}
	for range 2 {
		for k := range orders {
			deleteNext(t, k)
		}
	}
	if got := listVersions(t, c, "orders"); len(got) != 0 {
		t.Fatalf("versions left after deleting every one = %+v, want none", got)
	}
	stop()
	c, _, _ = serve(t, dir, rec)
	if got := listVersions(t, c, "orders"); len(got) != 0 {
		t.Fatalf("versions left after a restart = %+v, want none", got)
	}
	if _, err := c.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String("orders")}); err != nil {
		t.Fatalf("DeleteBucket of the emptied bucket error = %v, want none", err)
	}
}

// TestSuspendedVersioningKeepsVersionsOnPromote: in a bucket whose
// versioning is suspended the versions made before still behave as
// versions, and the bucket stays suspended.
func TestSuspendedVersioningKeepsVersionsOnPromote(t *testing.T) {
	dir := t.TempDir()
	c, _, stop := serve(t, dir, nil)
	ctx := context.Background()
	createBucket(t, c, "paused", true)
	m := newKeyModel("paused", "k")
	m.put(t, c, "one", nil)
	m.put(t, c, "two", nil)
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("paused"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}}); err != nil {
		t.Fatalf("PutBucketVersioning(Suspended) error = %v", err)
	}
	m.remove(t, c, 1)
	for range 2 {
		if got := get(t, c, "paused", "k", ""); got != "one" {
			t.Fatalf("GetObject after deleting the current version = %q, want %q", got, "one")
		}
		out, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("paused")})
		if err != nil || out.Status != types.BucketVersioningStatusSuspended {
			t.Fatalf("GetBucketVersioning = %v, %v; want Suspended", out.Status, err)
		}
		stop()
		c, _, stop = serve(t, dir, nil)
	}
}

// TestReadsSeeAVersionDeleteWhole: deleting a current version takes several
// s3mem steps (a hiding marker, a copy, three removals); a read started at
// any of them waits, and sees the key as it was before or after, never in
// between: GET always finds a version, and the listing has exactly one
// current version and the same number of versions.
func TestReadsSeeAVersionDeleteWhole(t *testing.T) {
	c, b, _ := serve(t, "", nil)
	createBucket(t, c, "whole", true)
	put(t, c, "whole", "k", "base")
	put(t, c, "whole", "k", "middle")

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
	)
	report := func(format string, args ...any) {
		mu.Lock()
		errs = append(errs, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	read := func() {
		defer wg.Done()
		out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("whole"), Key: aws.String("k")})
		if err != nil {
			report("GetObject error = %v, want a version", err)
			return
		}
		if body := readBody(t, out.Body); body != "middle" && body != "top" {
			report("GetObject = %q, want middle or top", body)
		}
		res, err := c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String("whole")})
		if err != nil {
			report("ListObjectVersions error = %v", err)
			return
		}
		latest := 0
		for _, v := range res.Versions {
			if aws.ToBool(v.IsLatest) {
				latest++
			}
		}
		if n := len(res.Versions) + len(res.DeleteMarkers); latest != 1 || len(res.DeleteMarkers) != 0 || (n != 2 && n != 3) {
			report("ListObjectVersions = %d versions (%d current), %d delete markers; want 2 or 3, one current, no markers",
				len(res.Versions), latest, len(res.DeleteMarkers))
		}
	}
	// The pause at each step of the mutation starts a read and lets it run.
	b.pause = func() {
		wg.Add(1)
		go read()
		for range 10 {
			runtime.Gosched()
		}
	}
	for range 20 {
		top := put(t, c, "whole", "k", "top")
		if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("whole"), Key: aws.String("k"), VersionId: aws.String(top)}); err != nil {
			t.Fatalf("DeleteObject(current) error = %v", err)
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d reads saw a delete half done, the first: %s", len(errs), errs[0])
	}
}
