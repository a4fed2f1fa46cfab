package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/objectstore"
	"github.com/veil-privacy/veil/pkg/search"
)

// TestRotateKeyOnTheLocalStack rotates the key of a list indexed from its
// S3 event: -begin keeps the old key, -finish refuses until the list is
// re-keyed (a forced reread under the new key, as IndexFunction does once
// restarted), and then leaves only the new key. The steps run in order.
func TestRotateKeyOnTheLocalStack(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	for _, kv := range append(s.Environment(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=") {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bucket, table, secretName := s.Names["LeadsBucket"], s.Names["IndexTable"], s.Names["IndexKeySecret"]
	s3c := s3.NewFromConfig(s.AWS)
	sm := secretsmanager.NewFromConfig(s.AWS)
	key := "campaigns/rot/list.csv"
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader("Name,Phone\nAna,2125550190\nBen,2125550191\n")}); err != nil {
		t.Fatal(err)
	}
	stacktest.WaitIdle(t, s)
	store := indexstore.New(dynamodb.NewFromConfig(s.AWS), table)
	objects := objectstore.New(s3c)
	old, err := indexkey.LoadKeyring(ctx, sm, secretName)
	if err != nil {
		t.Fatal(err)
	}
	idA := old.Active.ID
	if m, err := store.Manifest(ctx, bucket, key); err != nil || m.KeyID != idA {
		t.Fatalf("manifest = %+v, %v; want KeyID %s (IndexFunction's key)", m, err, idA)
	}
	veil := func(t *testing.T, wantCode int, args ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args = append([]string{"rotate-key", "-secret", secretName, "-table", table}, args...)
		if code := run(ctx, args, &stdout, &stderr); code != wantCode {
			t.Fatalf("veil %s = %d, want %d\nstdout:\n%s\nstderr: %s", strings.Join(args, " "), code, wantCode, stdout.String(), stderr.String())
		}
		return squeeze(stdout.String()), stderr.String()
	}
	find := func(t *testing.T, ring indexkey.Keyring) int {
		t.Helper()
		finder := &search.Service{Index: store, Objects: objects, Secrets: ring.Secrets()}
		res, err := finder.Search(ctx, []search.Identifier{{Field: "phone", Kind: identifiers.Phone, Value: "212-555-0190"}})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Records)
	}

	t.Run("status before", func(t *testing.T) {
		out, _ := veil(t, exitOK, "-status")
		if !strings.Contains(out, idA+" 1 active") {
			t.Fatalf("status = %q, want %s with 1 list, active", out, idA)
		}
	})
	t.Run("finish with one key", func(t *testing.T) {
		if out, _ := veil(t, exitOK, "-finish"); !strings.Contains(out, "nothing to finish") {
			t.Fatalf("finish = %q, want nothing to finish", out)
		}
	})
	// A do-not-call list, keyed under the only key there is.
	dnc := filepath.Join(t.TempDir(), "dnc.csv")
	if err := os.WriteFile(dnc, []byte("kind,value\nphone,212-555-0190\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	suppress := func(t *testing.T) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(ctx, []string{"suppress", "import", dnc, "-secret", secretName, "-table", table}, &stdout, &stderr); code != exitOK {
			t.Fatalf("suppress import = %d\n%s%s", code, stdout.String(), stderr.String())
		}
	}
	suppress(t)
	var ring indexkey.Keyring
	t.Run("begin", func(t *testing.T) {
		veil(t, exitOK, "-begin")
		if ring, err = indexkey.LoadKeyring(ctx, sm, secretName); err != nil {
			t.Fatal(err)
		}
		if len(ring.Keys) != 2 || ring.Active.ID == idA || ring.Keys[1].ID != idA || len(ring.Active.Secret) != 64 {
			t.Fatalf("keyring = %v active %s (%d bytes), want a new 64-byte active key and %s kept", ring.IDs(), ring.Active.ID, len(ring.Active.Secret), idA)
		}
		if n := find(t, ring); n != 1 {
			t.Fatalf("search under the keyring = %d records, want 1 (under the old key)", n)
		}
	})
	t.Run("begin again refused", func(t *testing.T) {
		if _, stderr := veil(t, exitFailed, "-begin"); !strings.Contains(stderr, "in progress") {
			t.Fatalf("stderr = %q, want a rotation in progress", stderr)
		}
	})
	t.Run("finish refused", func(t *testing.T) {
		out, stderr := veil(t, exitFailed, "-finish")
		if !strings.Contains(out, idA+" 1") || !strings.Contains(stderr, "backfill -bucket NAME -force") {
			t.Fatalf("finish = %q, stderr %q; want %s with 1 list and the backfill to run", out, stderr, idA)
		}
		if r, err := indexkey.LoadKeyring(ctx, sm, secretName); err != nil || len(r.Keys) != 2 {
			t.Fatalf("keyring after a refused finish = %v, %v; want both keys", r.IDs(), err)
		}
	})
	t.Run("re-key", func(t *testing.T) {
		// What IndexFunction, restarted with the keyring, does for `veil backfill -force`.
		svc := &indexing.Service{Index: store, Objects: objects, Secret: ring.Active.Secret, KeyID: ring.Active.ID}
		if err := svc.Apply(ctx, indexing.ObjectChange{Bucket: bucket, Key: key, Reconcile: true, Force: true}); err != nil {
			t.Fatal(err)
		}
		out, _ := veil(t, exitOK, "-status")
		if !strings.Contains(out, ring.Active.ID+" 1 active") || !strings.Contains(out, idA+" 0") {
			t.Fatalf("status = %q, want the list under %s, none under %s", out, ring.Active.ID, idA)
		}
	})
	t.Run("finish refused while suppression entries would be lost", func(t *testing.T) {
		if _, stderr := veil(t, exitFailed, "-finish"); !strings.Contains(stderr, "1 suppression entries are keyed only under the old keys") {
			t.Fatalf("stderr = %q, want the suppression entry that would be lost named", stderr)
		}
		// Imported again during the rotation: under both keys.
		suppress(t)
	})
	t.Run("finish", func(t *testing.T) {
		veil(t, exitOK, "-finish")
		r, err := indexkey.LoadKeyring(ctx, sm, secretName)
		if err != nil || len(r.Keys) != 1 || r.Active.ID != ring.Active.ID {
			t.Fatalf("keyring after finish = %v, %v; want %s alone", r.IDs(), err, ring.Active.ID)
		}
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretName)})
		if err != nil || aws.ToString(out.SecretString) != string(ring.Active.Secret) {
			t.Fatalf("secret after finish is not the plain new key (%v)", err)
		}
		if n := find(t, r); n != 1 {
			t.Fatalf("search under the new key alone = %d records, want 1", n)
		}
	})
	t.Run("usage", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run(ctx, []string{"rotate-key", "-begin", "-finish", "-secret", "x"}, &stdout, &stderr); code != exitUsage {
			t.Fatalf("two steps = %d, want %d", code, exitUsage)
		}
		if code := run(ctx, []string{"rotate-key", "-status"}, &stdout, &stderr); code != exitUsage {
			t.Fatalf("no -secret = %d, want %d", code, exitUsage)
		}
	})
}
