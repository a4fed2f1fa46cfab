package sfnlocal

// The store keeps state machines and execution snapshots as one JSON file
// each under Dir, written atomically (temporary file, then rename), so a
// crash leaves either the old or the new version. Timers and task tokens
// live inside the execution snapshots.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

type store struct {
	dir string
}

// machineRecord is the persisted form of a state machine.
type machineRecord struct {
	ARN        string    `json:"arn"`
	Name       string    `json:"name"`
	Definition string    `json:"definition"`
	RoleARN    string    `json:"roleArn"`
	Type       string    `json:"type"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated,omitzero"`
}

func openStore(dir string) (*store, error) {
	for _, sub := range []string{"statemachines", "executions"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("open store %s: %w", dir, err)
		}
	}
	return &store{dir: dir}, nil
}

// fileName hashes an ID so that names with any characters map to safe files.
func fileName(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16]) + ".json"
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (s *store) saveMachine(m machineRecord) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(s.dir, "statemachines", fileName(m.ARN)), b); err != nil {
		return fmt.Errorf("save state machine: %w", err)
	}
	return nil
}

func (s *store) deleteMachine(arn string) error {
	err := os.Remove(filepath.Join(s.dir, "statemachines", fileName(arn)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete state machine: %w", err)
	}
	return nil
}

func (s *store) saveExecution(id string, snapshot []byte) error {
	if err := writeAtomic(filepath.Join(s.dir, "executions", fileName(id)), snapshot); err != nil {
		return fmt.Errorf("save execution %s: %w", fileName(id)[:12], err)
	}
	return nil
}

func (s *store) machines() ([]machineRecord, error) {
	files, err := s.files("statemachines")
	if err != nil {
		return nil, err
	}
	var out []machineRecord
	for _, b := range files {
		var m machineRecord
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("load state machine: %w", err)
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *store) executions() ([][]byte, error) { return s.files("executions") }

func (s *store) files(sub string) ([][]byte, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, sub))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", sub, err)
	}
	var out [][]byte
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, sub, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", sub, err)
		}
		out = append(out, b)
	}
	return out, nil
}
