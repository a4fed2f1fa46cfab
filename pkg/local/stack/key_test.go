package stack_test

import (
	"path/filepath"
	"testing"

	"github.com/veil-privacy/veil/pkg/local/devauth"
)

// stacktestKey returns a signing key that is not the stack's.
func stacktestKey(t *testing.T) devauth.Key {
	t.Helper()
	k, err := devauth.LoadKey(filepath.Join(t.TempDir(), "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
