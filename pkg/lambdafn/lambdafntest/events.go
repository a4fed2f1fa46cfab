// Package lambdafntest loads the sample events in events/ for handler tests,
// so that the events `sam local invoke` uses are the ones the tests prove.
package lambdafntest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the repository root.
func Root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the repository root")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Event reads events/<path>.
func Event(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(t), "events", path))
	if err != nil {
		t.Fatalf("sample event: %v", err)
	}
	return b
}

// Decode reads events/<path> into v, refusing unknown fields so that a
// fixture cannot drift from the type it stands for.
func Decode(t testing.TB, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(Event(t, path), v); err != nil {
		t.Fatalf("sample event %s: %v", path, err)
	}
}
