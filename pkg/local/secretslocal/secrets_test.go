// Secrets are served through the Secrets Manager protocol the functions'
// SDK client speaks, and survive a restart of the stack.
package secretslocal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

func client(t *testing.T, s *Store) *secretsmanager.Client {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return secretsmanager.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "SECRETLOCAL", ""),
	}, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func TestEnsureGeneratesAndKeeps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	s := New(dir, "us-east-1", "000000000000")
	if err := s.Ensure("IndexKeySecret", 64); err != nil {
		t.Fatalf("Ensure error = %v", err)
	}
	_, v, ok := s.lookup("IndexKeySecret")
	if !ok || !regexp.MustCompile(`^[A-Za-z0-9]{64}$`).MatchString(v) {
		t.Fatalf("secret = %q (found %v), want 64 alphanumerics", v, ok)
	}
	fi, err := os.Stat(filepath.Join(dir, "IndexKeySecret"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file = %v, %v; want mode 0600", fi, err)
	}
	if err := s.Ensure("Other", 64); err != nil {
		t.Fatal(err)
	}
	if _, o, _ := s.lookup("Other"); o == v {
		t.Fatalf("two secrets have the same generated value")
	}

	// A new store over the same folder (a restart) serves the same value.
	s2 := New(dir, "us-east-1", "000000000000")
	if err := s2.Ensure("IndexKeySecret", 64); err != nil {
		t.Fatalf("Ensure after restart error = %v", err)
	}
	if _, v2, _ := s2.lookup("IndexKeySecret"); v2 != v {
		t.Fatalf("secret after restart = %q, want %q", v2, v)
	}

	mem := New("", "us-east-1", "000000000000")
	if err := mem.Ensure("K", 12); err != nil {
		t.Fatalf("memory-only Ensure error = %v", err)
	}
	if _, m, ok := mem.lookup("K"); !ok || len(m) != 12 {
		t.Fatalf("memory-only secret = %q, want 12 characters", m)
	}
}

func TestGetSecretValueThroughSDK(t *testing.T) {
	s := New(t.TempDir(), "us-east-1", "000000000000")
	if err := s.Ensure("IndexKeySecret", 32); err != nil {
		t.Fatal(err)
	}
	_, want, _ := s.lookup("IndexKeySecret")
	c := client(t, s)
	ctx := context.Background()
	for _, id := range []string{"IndexKeySecret", s.ARN("IndexKeySecret")} {
		t.Run(id, func(t *testing.T) {
			out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
			if err != nil {
				t.Fatalf("GetSecretValue error = %v", err)
			}
			if got := aws.ToString(out.SecretString); got != want {
				t.Fatalf("SecretString = %q, want %q", got, want)
			}
			if got := aws.ToString(out.ARN); got != "arn:aws:secretsmanager:us-east-1:000000000000:secret:IndexKeySecret" {
				t.Fatalf("ARN = %q", got)
			}
			if aws.ToString(out.Name) != "IndexKeySecret" || aws.ToString(out.VersionId) == "" || out.CreatedDate == nil {
				t.Fatalf("Name = %q, VersionId = %q, CreatedDate = %v; want all set", aws.ToString(out.Name), aws.ToString(out.VersionId), out.CreatedDate)
			}
			if len(out.VersionStages) != 1 || out.VersionStages[0] != "AWSCURRENT" {
				t.Fatalf("VersionStages = %v, want [AWSCURRENT]", out.VersionStages)
			}
		})
	}

	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("IndexKeySecret")})
	if err != nil {
		t.Fatalf("DescribeSecret error = %v", err)
	}
	if stages := d.VersionIdsToStages["local-v1"]; len(stages) != 1 || stages[0] != "AWSCURRENT" {
		t.Fatalf("VersionIdsToStages = %v, want local-v1: [AWSCURRENT]", d.VersionIdsToStages)
	}

	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("Missing")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("GetSecretValue(Missing) error = %v (%T), want *types.ResourceNotFoundException", err, err)
	}
}

func TestProtocolErrors(t *testing.T) {
	s := New("", "us-east-1", "000000000000")
	if err := s.Ensure("K", 8); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, target, body, wantType string
	}{
		{name: "malformed body", target: "secretsmanager.GetSecretValue", body: "{", wantType: "InvalidRequestException"},
		{name: "unknown secret", target: "secretsmanager.GetSecretValue", body: `{"SecretId":"nope"}`, wantType: "ResourceNotFoundException"},
		{name: "unsupported operation", target: "secretsmanager.RotateSecret", body: `{"SecretId":"K"}`, wantType: "UnknownOperationException"},
		{name: "put without a value", target: "secretsmanager.PutSecretValue", body: `{"SecretId":"K"}`, wantType: "InvalidRequestException"},
		{name: "put to an unknown secret", target: "secretsmanager.PutSecretValue", body: `{"SecretId":"nope","SecretString":"v"}`, wantType: "ResourceNotFoundException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			r.Header.Set("X-Amz-Target", tc.target)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400", w.Code)
			}
			if !strings.Contains(w.Body.String(), `"__type":"`+tc.wantType+`"`) {
				t.Fatalf("body = %s, want __type %s", w.Body, tc.wantType)
			}
		})
	}
}

// TestPutSecretValueKeeps: a value put (veil rotate-key) is what the next
// GetSecretValue returns, and what a restarted stack reads.
func TestPutSecretValueKeeps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	s := New(dir, "us-east-1", "000000000000")
	if err := s.Ensure("IndexKeySecret", 64); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := client(t, s)
	const v = `{"active":"a","keys":{}}`
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("IndexKeySecret"), SecretString: aws.String(v)}); err != nil {
		t.Fatalf("PutSecretValue error = %v", err)
	}
	for name, st := range map[string]*Store{"same store": s, "restarted": New(dir, "us-east-1", "000000000000")} {
		if err := st.Ensure("IndexKeySecret", 64); err != nil {
			t.Fatal(err)
		}
		out, err := client(t, st).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("IndexKeySecret")})
		if err != nil || aws.ToString(out.SecretString) != v {
			t.Fatalf("%s: GetSecretValue = %q, %v; want %q", name, aws.ToString(out.SecretString), err, v)
		}
	}
}
