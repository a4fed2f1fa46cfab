package s3local

// Object Lock through the SDK and the AWS CLI. The expected answers are
// S3's, from the S3 User Guide's "How deletes work with S3 Object Lock" and
// "Retention modes": a locked version cannot be deleted (403 AccessDenied)
// until its retain-until date, a COMPLIANCE retention cannot be shortened
// nor its mode changed (403 AccessDenied), a delete without a version ID
// only adds a delete marker (allowed), and a new object of the same key is
// a new version, the locked one kept.

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestObjectLockSDK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, b, _ := serve(t, t.TempDir(), nil)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("locked"), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatalf("CreateBucket with Object Lock error = %v", err)
	}
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("locked")})
	if err != nil || v.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("versioning of an Object Lock bucket = %v, %v; want Enabled", v.Status, err)
	}
	if _, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String("locked"),
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeCompliance, Days: aws.Int32(1)}}}}); err != nil {
		t.Fatalf("PutObjectLockConfiguration error = %v", err)
	}
	cfg, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String("locked")})
	if err != nil || cfg.ObjectLockConfiguration.Rule.DefaultRetention.Mode != types.ObjectLockRetentionModeCompliance ||
		aws.ToInt32(cfg.ObjectLockConfiguration.Rule.DefaultRetention.Days) != 1 {
		t.Fatalf("GetObjectLockConfiguration = %+v, %v; want COMPLIANCE 1 day", cfg, err)
	}

	// The default retention: a day from the put.
	before := time.Now()
	v1 := put(t, c, "locked", "digest.json", "first")
	ret, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("locked"), Key: aws.String("digest.json"), VersionId: aws.String(v1)})
	if err != nil {
		t.Fatalf("GetObjectRetention error = %v", err)
	}
	if until := aws.ToTime(ret.Retention.RetainUntilDate); ret.Retention.Mode != types.ObjectLockRetentionModeCompliance ||
		until.Before(before.Add(24*time.Hour-time.Second)) || until.After(time.Now().Add(24*time.Hour+time.Second)) {
		t.Fatalf("retention = %s until %v, want COMPLIANCE a day from the put", ret.Retention.Mode, until)
	}

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("locked"), Key: aws.String("digest.json")})
	if err != nil || head.ObjectLockMode != types.ObjectLockModeCompliance || !aws.ToTime(head.ObjectLockRetainUntilDate).Equal(aws.ToTime(ret.Retention.RetainUntilDate)) {
		t.Fatalf("HeadObject = %s until %v, %v; want the retention GetObjectRetention gave", head.ObjectLockMode, aws.ToTime(head.ObjectLockRetainUntilDate), err)
	}

	// Deleting the locked version, alone or in a batch: AccessDenied.
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("digest.json"), VersionId: aws.String(v1)})
	if got := errorCode(err); got != "AccessDenied" {
		t.Fatalf("DeleteObject of a locked version = %q, want AccessDenied", got)
	}
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("digest.json"), VersionId: aws.String(v1),
		BypassGovernanceRetention: aws.Bool(true)})
	if got := errorCode(err); got != "AccessDenied" {
		t.Fatalf("DeleteObject of a COMPLIANCE version with the governance bypass = %q, want AccessDenied", got)
	}
	multi, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("locked"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("digest.json"), VersionId: aws.String(v1)}}}})
	if err != nil || len(multi.Errors) != 1 || aws.ToString(multi.Errors[0].Code) != "AccessDenied" || len(multi.Deleted) != 0 {
		t.Fatalf("DeleteObjects of a locked version = %+v, %v; want one AccessDenied", multi, err)
	}
	// Shortening or weakening a COMPLIANCE retention: AccessDenied;
	// lengthening it is allowed.
	for _, tc := range []struct {
		name  string
		mode  types.ObjectLockRetentionMode
		until time.Time
		want  string
	}{
		{"shorter", types.ObjectLockRetentionModeCompliance, time.Now().Add(time.Hour), "AccessDenied"},
		{"to governance", types.ObjectLockRetentionModeGovernance, time.Now().Add(48 * time.Hour), "AccessDenied"},
		{"longer", types.ObjectLockRetentionModeCompliance, time.Now().Add(48 * time.Hour), ""},
	} {
		_, err := c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: aws.String("locked"), Key: aws.String("digest.json"), VersionId: aws.String(v1),
			Retention: &types.ObjectLockRetention{Mode: tc.mode, RetainUntilDate: aws.Time(tc.until)}})
		if got := errorCode(err); got != tc.want {
			t.Fatalf("PutObjectRetention %s = %q, want %q", tc.name, got, tc.want)
		}
	}
	// Overwriting makes a new version; a plain delete adds a marker; the
	// locked version is still there to read.
	v2 := put(t, c, "locked", "digest.json", "second")
	if v2 == v1 {
		t.Fatalf("a put over a locked version got its version ID %s", v1)
	}
	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("digest.json")})
	if err != nil || !aws.ToBool(del.DeleteMarker) {
		t.Fatalf("DeleteObject without a version = %+v, %v; want a delete marker", del, err)
	}
	if got := get(t, c, "locked", "digest.json", v1); got != "first" {
		t.Fatalf("the locked version reads %q, want first", got)
	}

	// A put's own retention, in the past: refused; a second ahead: kept
	// until then, deletable after.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("locked"), Key: aws.String("short"), Body: strings.NewReader("x"),
		ObjectLockMode: types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(-time.Hour))})
	if got := errorCode(err); got != "InvalidArgument" {
		t.Fatalf("PutObject retained until the past = %q, want InvalidArgument", got)
	}
	until := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("locked"), Key: aws.String("short"), Body: strings.NewReader("x"),
		ObjectLockMode: types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: aws.Time(until)})
	if err != nil {
		t.Fatalf("PutObject with a retention error = %v", err)
	}
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("short"), VersionId: out.VersionId})
	if got := errorCode(err); got != "AccessDenied" {
		t.Fatalf("DeleteObject before the retain-until date = %q, want AccessDenied", got)
	}
	// The retain-until date passes: the backend's lock clock moves past it.
	b.lockNow = func() time.Time { return until.Add(time.Millisecond) }
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("short"), VersionId: out.VersionId}); err != nil {
		t.Fatalf("DeleteObject after the retain-until date error = %v", err)
	}

	// A bucket without Object Lock takes no retention.
	createBucket(t, c, "plain", true)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("plain"), Key: aws.String("k"), Body: strings.NewReader("x"),
		ObjectLockMode: types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(time.Hour))})
	if errorCode(err) == "" {
		t.Fatal("PutObject with a retention into a bucket without Object Lock succeeded")
	}
	if _, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String("plain")}); errorCode(err) != "ObjectLockConfigurationNotFoundError" {
		t.Fatalf("GetObjectLockConfiguration of a plain bucket = %q, want ObjectLockConfigurationNotFoundError", errorCode(err))
	}
}

// TestObjectLockCLI: the AWS CLI's view, across a restart (the lock and
// the retention are journaled).
func TestObjectLockCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Server(b))
	t.Cleanup(func() { srv.Close(); b.Close() })

	mustS3API(t, srv.URL, nil, "create-bucket", "--bucket", "anchors", "--object-lock-enabled-for-bucket")
	mustS3API(t, srv.URL, nil, "put-object-lock-configuration", "--bucket", "anchors", "--object-lock-configuration",
		`{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"COMPLIANCE","Days":731}}}`)
	var put struct{ VersionId string }
	mustS3API(t, srv.URL, &put, "put-object", "--bucket", "anchors", "--key", "d.json")

	srv.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err = Open(dir, nil); err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(Server(b))

	var ret struct {
		Retention struct{ Mode, RetainUntilDate string }
	}
	mustS3API(t, srv.URL, &ret, "get-object-retention", "--bucket", "anchors", "--key", "d.json", "--version-id", put.VersionId)
	if ret.Retention.Mode != "COMPLIANCE" || !strings.HasPrefix(ret.Retention.RetainUntilDate, time.Now().UTC().AddDate(0, 0, 731).Format("2006-01-02")) {
		t.Fatalf("get-object-retention after a restart = %+v, want COMPLIANCE for 731 days", ret)
	}
	errText := s3api(t, srv.URL, nil, "delete-object", "--bucket", "anchors", "--key", "d.json", "--version-id", put.VersionId)
	if !strings.Contains(errText, "AccessDenied") {
		t.Fatalf("delete-object --version-id of a locked version: %q, want AccessDenied", errText)
	}
	errText = s3api(t, srv.URL, nil, "put-object-retention", "--bucket", "anchors", "--key", "d.json", "--version-id", put.VersionId,
		"--retention", `{"Mode":"COMPLIANCE","RetainUntilDate":"`+time.Now().UTC().Add(time.Hour).Format(time.RFC3339)+`"}`)
	if !strings.Contains(errText, "AccessDenied") {
		t.Fatalf("put-object-retention shorter: %q, want AccessDenied", errText)
	}
	var marker struct{ DeleteMarker bool }
	mustS3API(t, srv.URL, &marker, "delete-object", "--bucket", "anchors", "--key", "d.json")
	if !marker.DeleteMarker {
		t.Fatalf("delete-object without a version = %+v, want a delete marker", marker)
	}
	var versions cliVersions
	mustS3API(t, srv.URL, &versions, "list-object-versions", "--bucket", "anchors")
	if len(versions.Versions) != 1 || versions.Versions[0].VersionId != put.VersionId || len(versions.DeleteMarkers) != 1 {
		t.Fatalf("versions = %s, want the locked one under a delete marker", versions)
	}
}
