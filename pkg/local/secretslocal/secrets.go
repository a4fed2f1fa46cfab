// Package secretslocal is the local stack's Secrets Manager: the secrets
// template.yaml declares, generated once and kept under .local/, served
// through GetSecretValue, PutSecretValue and DescribeSecret.
package secretslocal

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Store holds secrets by name.
type Store struct {
	dir    string
	region string
	acct   string

	mu      sync.Mutex
	secrets map[string]string
}

// New returns a Store keeping its secrets in dir (empty: memory only).
func New(dir, region, accountID string) *Store {
	return &Store{dir: dir, region: region, acct: accountID, secrets: map[string]string{}}
}

// ARN returns the ARN of the secret name.
func (s *Store) ARN(name string) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s", s.region, s.acct, name)
}

// Ensure loads the secret name, generating a random alphanumeric value of
// length n the first time; it returns an error if the store cannot be
// written.
func (s *Store) Ensure(name string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := filepath.Join(s.dir, name)
	if s.dir != "" {
		if b, err := os.ReadFile(path); err == nil {
			s.secrets[name] = string(b)
			return nil
		}
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	v := make([]byte, n)
	for i := range v {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return err
		}
		v[i] = alphabet[j.Int64()]
	}
	s.secrets[name] = string(v)
	if s.dir == "" {
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("secrets %s: %w", s.dir, err)
	}
	return os.WriteFile(path, v, 0o600)
}

// put replaces the value of the secret name and keeps it.
func (s *Store) put(name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[name] = value
	if s.dir == "" {
		return nil
	}
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(value), 0o600); err != nil {
		return fmt.Errorf("secret %s: %w", name, err)
	}
	return nil
}

func (s *Store) lookup(id string) (string, string, bool) {
	name := id
	if i := strings.Index(id, ":secret:"); i >= 0 {
		name = id[i+len(":secret:"):]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.secrets[name]
	return name, v, ok
}

// ServeHTTP serves the Secrets Manager JSON protocol.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	var in struct {
		SecretID     string `json:"SecretId"`
		SecretString string `json:"SecretString"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(w, "InvalidRequestException", "malformed request body")
		return
	}
	name, value, ok := s.lookup(in.SecretID)
	if !ok {
		fail(w, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	out := map[string]any{"ARN": s.ARN(name), "Name": name}
	switch op {
	case "GetSecretValue":
		out["SecretString"] = value
		out["VersionId"] = "local-v1"
		out["VersionStages"] = []string{"AWSCURRENT"}
		out["CreatedDate"] = float64(time.Now().Unix())
	case "PutSecretValue":
		if in.SecretString == "" {
			fail(w, "InvalidRequestException", "SecretString is required locally")
			return
		}
		if err := s.put(name, in.SecretString); err != nil {
			fail(w, "InternalServiceError", err.Error())
			return
		}
		out["VersionId"] = "local-v1"
		out["VersionStages"] = []string{"AWSCURRENT"}
	case "DescribeSecret":
		out["VersionIdsToStages"] = map[string][]string{"local-v1": {"AWSCURRENT"}}
	default:
		fail(w, "UnknownOperationException", op+" is not served locally")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func fail(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}
