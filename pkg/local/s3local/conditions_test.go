// Conditional PutObject through the SDK: what S3 answers for If-Match and
// If-None-Match, that a put refused changes nothing (nor the journal), and
// that concurrent conditional writers cannot both win.
package s3local

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// apiError returns the S3 error code and HTTP status of err ("" and 0 for
// nil).
func apiError(err error) (string, int) {
	if err == nil {
		return "", 0
	}
	code, status := "", 0
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

func TestConditionalPut(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{}
	c, _, stop := serve(t, dir, rec)
	ctx := context.Background()
	createBucket(t, c, "cond", true)
	createBucket(t, c, "plain", false)
	quoted := func(body string) string { return `"` + md5Hex(body) + `"` }

	tests := []struct {
		name        string
		bucket, key string
		setup       func(t *testing.T, bucket, key string)
		ifMatch     string
		ifNoneMatch string
		wantCode    string // "" for a write
		wantStatus  int
	}{{
		name: "If-Match the current ETag writes", bucket: "cond", key: "match",
		setup:   func(t *testing.T, b, k string) { put(t, c, b, k, "one"); put(t, c, b, k, "two") },
		ifMatch: quoted("two"),
	}, {
		name: "If-Match the current ETag unquoted writes", bucket: "cond", key: "unquoted",
		setup:   func(t *testing.T, b, k string) { put(t, c, b, k, "two") },
		ifMatch: md5Hex("two"),
	}, {
		name: "If-Match an older version's ETag is refused", bucket: "cond", key: "stale",
		setup:   func(t *testing.T, b, k string) { put(t, c, b, k, "one"); put(t, c, b, k, "two") },
		ifMatch: quoted("one"), wantCode: "PreconditionFailed", wantStatus: 412,
	}, {
		name: "If-Match an ETag never stored is refused", bucket: "plain", key: "other",
		setup:   func(t *testing.T, b, k string) { put(t, c, b, k, "one") },
		ifMatch: quoted("nothing like it"), wantCode: "PreconditionFailed", wantStatus: 412,
	}, {
		name: "If-Match on a missing key is NoSuchKey", bucket: "cond", key: "absent",
		setup:   func(t *testing.T, b, k string) {},
		ifMatch: quoted("one"), wantCode: "NoSuchKey", wantStatus: 404,
	}, {
		name: "If-Match under a delete marker is NoSuchKey", bucket: "cond", key: "deleted",
		setup: func(t *testing.T, b, k string) {
			put(t, c, b, k, "one")
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String(k)}); err != nil {
				t.Fatalf("DeleteObject error = %v", err)
			}
		},
		ifMatch: quoted("one"), wantCode: "NoSuchKey", wantStatus: 404,
	}, {
		name: "If-Match a version made current again writes", bucket: "cond", key: "promoted",
		setup: func(t *testing.T, b, k string) {
			put(t, c, b, k, "one")
			v := put(t, c, b, k, "two")
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String(k), VersionId: aws.String(v)}); err != nil {
				t.Fatalf("DeleteObject(current) error = %v", err)
			}
		},
		ifMatch: quoted("one"),
	}, {
		name: "If-Match the deleted current version's ETag is refused", bucket: "cond", key: "promoted-stale",
		setup: func(t *testing.T, b, k string) {
			put(t, c, b, k, "one")
			v := put(t, c, b, k, "two")
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String(k), VersionId: aws.String(v)}); err != nil {
				t.Fatalf("DeleteObject(current) error = %v", err)
			}
		},
		ifMatch: quoted("two"), wantCode: "PreconditionFailed", wantStatus: 412,
	}, {
		name: "If-None-Match * on an existing key is refused", bucket: "cond", key: "exists",
		setup:       func(t *testing.T, b, k string) { put(t, c, b, k, "one") },
		ifNoneMatch: "*", wantCode: "PreconditionFailed", wantStatus: 412,
	}, {
		name: "If-None-Match * on an existing key of an unversioned bucket is refused", bucket: "plain", key: "exists",
		setup:       func(t *testing.T, b, k string) { put(t, c, b, k, "one") },
		ifNoneMatch: "*", wantCode: "PreconditionFailed", wantStatus: 412,
	}, {
		name: "If-None-Match * on a missing key writes", bucket: "cond", key: "new",
		setup:       func(t *testing.T, b, k string) {},
		ifNoneMatch: "*",
	}, {
		name: "If-None-Match with an ETag is not implemented, and writes nothing", bucket: "cond", key: "etag-none-match",
		setup:       func(t *testing.T, b, k string) { put(t, c, b, k, "one") },
		ifNoneMatch: quoted("other"), wantCode: "NotImplemented", wantStatus: 501,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup(t, tc.bucket, tc.key)
			before := listVersions(t, c, tc.bucket)
			rec.since()
			in := &s3.PutObjectInput{Bucket: aws.String(tc.bucket), Key: aws.String(tc.key), Body: strings.NewReader("new body")}
			if tc.ifMatch != "" {
				in.IfMatch = aws.String(tc.ifMatch)
			}
			if tc.ifNoneMatch != "" {
				in.IfNoneMatch = aws.String(tc.ifNoneMatch)
			}
			out, err := c.PutObject(ctx, in)
			if code, status := apiError(err); code != tc.wantCode || status != tc.wantStatus {
				t.Fatalf("PutObject error = %v (%q, %d), want %q, %d", err, code, status, tc.wantCode, tc.wantStatus)
			}
			after := listVersions(t, c, tc.bucket)
			notified := toEvents(rec.since())
			if tc.wantCode != "" {
				if fmt.Sprint(after) != fmt.Sprint(before) {
					t.Fatalf("versions after a refused put =\n%+v\nwant as before\n%+v", after, before)
				}
				if len(notified) != 0 {
					t.Fatalf("refused put notified %+v, want nothing", notified)
				}
				return
			}
			if got := get(t, c, tc.bucket, tc.key, ""); got != "new body" {
				t.Fatalf("GetObject after the put = %q, want %q", got, "new body")
			}
			want := []event{{Name: "ObjectCreated:Put", Key: tc.key, VersionID: aws.ToString(out.VersionId), Size: 8, ETag: md5Hex("new body")}}
			if fmt.Sprint(notified) != fmt.Sprint(want) {
				t.Fatalf("notifications = %+v, want %+v", notified, want)
			}
		})
	}

	// The journal holds the puts that were made and no others.
	buckets := []string{"cond", "plain"}
	before := map[string][]version{}
	for _, b := range buckets {
		before[b] = listVersions(t, c, b)
	}
	stop()
	c, _, _ = serve(t, dir, rec)
	for _, b := range buckets {
		if got := listVersions(t, c, b); fmt.Sprint(got) != fmt.Sprint(before[b]) {
			t.Fatalf("%s after a restart =\n%+v\nwant\n%+v", b, got, before[b])
		}
	}
}

// TestConcurrentConditionalPuts: of writers racing with the same condition,
// exactly one writes; the check and the write are one step however the
// writers interleave (a pause between them lets the others run).
func TestConcurrentConditionalPuts(t *testing.T) {
	c, b, _ := serve(t, "", nil)
	createBucket(t, c, "race", true)
	put(t, c, "race", "cas", "start")
	b.pause = func() {
		for range 10 {
			runtime.Gosched()
		}
	}

	tests := []struct {
		name, key string
		in        func(i int) *s3.PutObjectInput
	}{{
		name: "If-Match", key: "cas",
		in: func(i int) *s3.PutObjectInput {
			return &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String("cas"), Body: strings.NewReader(fmt.Sprint("writer ", i)),
				IfMatch: aws.String(`"` + md5Hex("start") + `"`)}
		},
	}, {
		name: "If-None-Match", key: "create",
		in: func(i int) *s3.PutObjectInput {
			return &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String("create"), Body: strings.NewReader(fmt.Sprint("writer ", i)),
				IfNoneMatch: aws.String("*")}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const writers = 8
			var wg sync.WaitGroup
			start := make(chan struct{})
			results := make([]error, writers)
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, results[i] = c.PutObject(context.Background(), tc.in(i))
				}()
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range results {
				switch code, _ := apiError(err); code {
				case "":
					if winner >= 0 {
						t.Fatalf("writers %d and %d both wrote, want one", winner, i)
					}
					winner = i
				case "PreconditionFailed":
				default:
					t.Fatalf("writer %d error = %v, want none or PreconditionFailed", i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("no writer wrote, want one")
			}
			if got, want := get(t, c, "race", tc.key, ""), fmt.Sprint("writer ", winner); got != want {
				t.Fatalf("current %s = %q, want the winner's %q", tc.key, got, want)
			}
		})
	}
}
