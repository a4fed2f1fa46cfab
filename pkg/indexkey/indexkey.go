// Package indexkey fetches the index's HMAC keys from Secrets Manager.
// Every function that keys identifiers (index, search, pseudonymize) must
// use the same keys, so they all get them here, once per cold start.
//
// The secret holds either one plain key (the format the stack generates)
// or, while a key is being rotated, a keyring in JSON:
//
//	{"active":"<id>","keys":{"<id>":"<key>",…}}
//
// A key's ID is derived from the key itself (ID), so a plain key has the
// same stable ID before and after it is put in a keyring, and an entry
// indexed under it is told apart without any migration.
package indexkey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/identifiers"
)

// API is the part of the Secrets Manager client Load calls.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ API = (*secretsmanager.Client)(nil)

// Key is one HMAC key and its ID.
type Key struct {
	ID     string
	Secret []byte
}

// Keyring is what the secret holds: the key new entries are written under
// (Active) and every key entries may still be found under (Keys, the
// active one first, the others by ID).
type Keyring struct {
	Active Key
	Keys   []Key
}

// Secrets returns the secrets of every key, the active one first: the keys
// a search computes for each identifier.
func (r Keyring) Secrets() [][]byte {
	out := make([][]byte, len(r.Keys))
	for i, k := range r.Keys {
		out[i] = k.Secret
	}
	return out
}

// IDs returns the IDs of every key, the active one first.
func (r Keyring) IDs() []string {
	out := make([]string, len(r.Keys))
	for i, k := range r.Keys {
		out[i] = k.ID
	}
	return out
}

// idContext separates key IDs from any other hash of a key.
const idContext = "veil-index-key-id\x00"

// ID returns the ID of the key secret: the first 8 hex digits of the
// SHA-256 of idContext and the key. It names the key without revealing it.
func ID(secret []byte) string {
	h := sha256.New()
	h.Write([]byte(idContext))
	h.Write(secret)
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// ErrInvalid is wrapped by the errors of a secret that is not a usable key
// or keyring. Its messages never hold a key.
var ErrInvalid = errors.New("not a usable index key")

// keyringJSON is a keyring as the secret stores it.
type keyringJSON struct {
	Active string            `json:"active"`
	Keys   map[string]string `json:"keys"`
}

// Parse reads a secret's value: a plain key, or a keyring in JSON (a value
// starting with "{"; a generated plain key is alphanumeric). It returns an
// error wrapping ErrInvalid for a key shorter than
// identifiers.MinSecretBytes, a keyring that is not valid JSON, whose
// active key is not in it, or whose IDs are not their keys' IDs.
func Parse(value []byte) (Keyring, error) {
	if !bytes.HasPrefix(bytes.TrimSpace(value), []byte("{")) {
		if len(value) < identifiers.MinSecretBytes {
			return Keyring{}, fmt.Errorf("%w: %d bytes, want at least %d", ErrInvalid, len(value), identifiers.MinSecretBytes)
		}
		k := Key{ID: ID(value), Secret: value}
		return Keyring{Active: k, Keys: []Key{k}}, nil
	}
	var in keyringJSON
	if err := json.Unmarshal(value, &in); err != nil {
		// The decoder's message may quote the secret: say only where.
		return Keyring{}, fmt.Errorf("%w: a keyring that is not valid JSON", ErrInvalid)
	}
	var r Keyring
	ids := make([]string, 0, len(in.Keys))
	for id := range in.Keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		secret := []byte(in.Keys[id])
		if len(secret) < identifiers.MinSecretBytes {
			return Keyring{}, fmt.Errorf("%w: key %s: %d bytes, want at least %d", ErrInvalid, id, len(secret), identifiers.MinSecretBytes)
		}
		if ID(secret) != id {
			return Keyring{}, fmt.Errorf("%w: key %s: the ID is not the key's (%s)", ErrInvalid, id, ID(secret))
		}
		k := Key{ID: id, Secret: secret}
		if id == in.Active {
			r.Active = k
			r.Keys = append([]Key{k}, r.Keys...)
			continue
		}
		r.Keys = append(r.Keys, k)
	}
	if r.Active.ID == "" {
		return Keyring{}, fmt.Errorf("%w: the active key %q is not in the keyring", ErrInvalid, in.Active)
	}
	return r, nil
}

// Marshal returns the value of a secret holding r: a plain key when r
// holds only one key (the format every version reads), a JSON keyring
// otherwise. It returns an error wrapping ErrInvalid when r's active key
// is not among its keys.
func (r Keyring) Marshal() ([]byte, error) {
	out := keyringJSON{Active: r.Active.ID, Keys: map[string]string{}}
	found := false
	for _, k := range r.Keys {
		out.Keys[k.ID] = string(k.Secret)
		found = found || k.ID == r.Active.ID
	}
	if !found {
		return nil, fmt.Errorf("%w: the active key %s is not in the keyring", ErrInvalid, r.Active.ID)
	}
	if len(r.Keys) == 1 {
		return r.Active.Secret, nil
	}
	return json.Marshal(out)
}

// LoadKeyring returns the keyring stored in the secret arn; it fails if the
// secret cannot be read or Parse rejects it.
func LoadKeyring(ctx context.Context, api API, arn string) (Keyring, error) {
	out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return Keyring{}, fmt.Errorf("index key %s: %w", arn, err)
	}
	value := []byte(aws.ToString(out.SecretString))
	if len(value) == 0 {
		value = out.SecretBinary
	}
	r, err := Parse(value)
	if err != nil {
		return Keyring{}, fmt.Errorf("index key %s: %w", arn, err)
	}
	return r, nil
}

// Load returns the active key stored in the secret arn, for callers that
// only write under it; it fails as LoadKeyring does.
func Load(ctx context.Context, api API, arn string) ([]byte, error) {
	r, err := LoadKeyring(ctx, api, arn)
	if err != nil {
		return nil, err
	}
	return r.Active.Secret, nil
}
