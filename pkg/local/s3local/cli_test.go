// The real AWS CLI against the server: permanent version deletes as the
// S3 user guide shows them (aws s3api delete-object --version-id), with the
// journal replayed in between.
package s3local

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/local/awscli"
)

// s3api runs aws s3api against endpoint and decodes its JSON output; it
// returns the error output, empty when the command succeeded.
func s3api(t *testing.T, endpoint string, out any, args ...string) string {
	t.Helper()
	bin, err := awscli.Path()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("[default]\ns3 =\n    addressing_style = path\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json", "s3api"}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=",
		"AWS_CONFIG_FILE="+config, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if stderr.Len() == 0 {
			return err.Error()
		}
		return stderr.String()
	}
	if s := strings.TrimSpace(stdout.String()); s != "" && out != nil {
		if err := json.Unmarshal([]byte(s), out); err != nil {
			t.Fatalf("aws s3api %s: output is not JSON: %v\n%s", args[0], err, s)
		}
	}
	return ""
}

func mustS3API(t *testing.T, endpoint string, out any, args ...string) {
	t.Helper()
	if errText := s3api(t, endpoint, out, args...); errText != "" {
		t.Fatalf("aws s3api %s failed: %s", strings.Join(args, " "), errText)
	}
}

// cliVersions is list-object-versions' output, reduced to what is checked.
type cliVersions struct {
	Versions []struct {
		VersionId string
		IsLatest  bool
		ETag      string
	}
	DeleteMarkers []struct {
		VersionId string
		IsLatest  bool
	}
}

func (v cliVersions) String() string {
	var b strings.Builder
	for _, x := range v.Versions {
		fmt.Fprintf(&b, "%s latest=%v %s; ", x.VersionId, x.IsLatest, x.ETag)
	}
	for _, x := range v.DeleteMarkers {
		fmt.Fprintf(&b, "marker %s latest=%v; ", x.VersionId, x.IsLatest)
	}
	return b.String()
}

func TestAWSCLIDeletesVersions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := &recorder{}
	b, err := Open(dir, rec.notify)
	if err != nil {
		t.Fatalf("Open error = %v", err)
	}
	srv := httptest.NewServer(Server(b))
	restart := func() {
		t.Helper()
		srv.Close()
		if err := b.Close(); err != nil {
			t.Fatalf("Close error = %v", err)
		}
		if b, err = Open(dir, rec.notify); err != nil {
			t.Fatalf("Open error = %v", err)
		}
		srv = httptest.NewServer(Server(b))
	}
	t.Cleanup(func() { srv.Close(); b.Close() })

	mustS3API(t, srv.URL, nil, "create-bucket", "--bucket", "cli")
	mustS3API(t, srv.URL, nil, "put-bucket-versioning", "--bucket", "cli", "--versioning-configuration", "Status=Enabled")
	files := t.TempDir()
	putBody := func(body string) string {
		t.Helper()
		path := filepath.Join(files, body)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		var out struct{ VersionId string }
		mustS3API(t, srv.URL, &out, "put-object", "--bucket", "cli", "--key", "a b.csv", "--body", path)
		return out.VersionId
	}
	head := func() (string, string) {
		t.Helper()
		var out struct{ VersionId, ETag string }
		if errText := s3api(t, srv.URL, &out, "head-object", "--bucket", "cli", "--key", "a b.csv"); errText != "" {
			return "", errText
		}
		return out.VersionId, out.ETag
	}
	versions := func() cliVersions {
		t.Helper()
		var out cliVersions
		mustS3API(t, srv.URL, &out, "list-object-versions", "--bucket", "cli")
		return out
	}

	v1 := putBody("one")
	v2 := putBody("two")
	var del struct {
		VersionId    string
		DeleteMarker bool
	}
	mustS3API(t, srv.URL, &del, "delete-object", "--bucket", "cli", "--key", "a b.csv", "--version-id", v2)
	if del.VersionId != v2 || del.DeleteMarker {
		t.Fatalf("delete-object --version-id %s = %+v, want that version, no marker", v2, del)
	}
	for range 2 {
		if id, etag := head(); id != v1 || etag != `"`+md5Hex("one")+`"` {
			t.Fatalf("head-object after deleting the current version = %s %s, want %s", id, etag, v1)
		}
		if got := versions(); len(got.Versions) != 1 || got.Versions[0].VersionId != v1 || !got.Versions[0].IsLatest || len(got.DeleteMarkers) != 0 {
			t.Fatalf("list-object-versions = %v, want %s alone, latest", got, v1)
		}
		out := filepath.Join(files, "got")
		mustS3API(t, srv.URL, nil, "get-object", "--bucket", "cli", "--key", "a b.csv", out)
		if b, _ := os.ReadFile(out); string(b) != "one" {
			t.Fatalf("get-object = %q, want %q", b, "one")
		}
		restart()
	}

	mustS3API(t, srv.URL, &del, "delete-object", "--bucket", "cli", "--key", "a b.csv")
	if !del.DeleteMarker || del.VersionId == "" {
		t.Fatalf("delete-object = %+v, want a delete marker", del)
	}
	marker := del.VersionId
	if _, errText := head(); !strings.Contains(errText, "404") {
		t.Fatalf("head-object under a delete marker error = %q, want 404", errText)
	}
	rec.since()
	mustS3API(t, srv.URL, &del, "delete-object", "--bucket", "cli", "--key", "a b.csv", "--version-id", marker)
	if del.VersionId != marker || !del.DeleteMarker {
		t.Fatalf("delete-object --version-id %s = %+v, want that marker", marker, del)
	}
	want := []event{{Name: "ObjectRemoved:Delete", Key: "a b.csv", VersionID: marker}}
	if got := toEvents(rec.since()); len(got) != 1 || got[0] != want[0] {
		t.Fatalf("notifications = %+v, want %+v", got, want)
	}
	restart()
	if id, _ := head(); id != v1 {
		t.Fatalf("head-object after deleting the marker and a restart = %q, want %s", id, v1)
	}

	mustS3API(t, srv.URL, nil, "delete-object", "--bucket", "cli", "--key", "a b.csv", "--version-id", v1)
	restart()
	if got := versions(); len(got.Versions)+len(got.DeleteMarkers) != 0 {
		t.Fatalf("list-object-versions after deleting every version = %v, want none", got)
	}
	mustS3API(t, srv.URL, nil, "delete-bucket", "--bucket", "cli")
}
