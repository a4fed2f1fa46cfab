package indexkey

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

const (
	keyA = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnopqrstuvwxyzAB"
	keyB = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
)

// fakeSecrets serves one secret value (pure logic: Load's parsing).
type fakeSecrets struct{ value string }

func (f fakeSecrets) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(f.value)}, nil
}

func TestIDIsStable(t *testing.T) {
	// The ID of a plain key never changes: entries indexed before
	// keyrings are told apart without a migration.
	// Pinned: computed independently as
	// printf 'veil-index-key-id\0%s' "$key" | sha256sum | cut -c1-8
	if got, want := ID([]byte(keyA)), "9da50520"; got != want {
		t.Fatalf("ID = %q, want %q", got, want)
	}
	if ID([]byte(keyA)) != ID([]byte(keyA)) || ID([]byte(keyA)) == ID([]byte(keyB)) {
		t.Fatal("ID is not a function of the key alone")
	}
}

func TestParse(t *testing.T) {
	idA, idB := ID([]byte(keyA)), ID([]byte(keyB))
	tests := []struct {
		name       string
		value      string
		wantActive string
		wantIDs    []string
		wantErr    string
	}{
		{name: "plain key", value: keyA, wantActive: idA, wantIDs: []string{idA}},
		{name: "keyring", value: `{"active":"` + idB + `","keys":{"` + idA + `":"` + keyA + `","` + idB + `":"` + keyB + `"}}`,
			wantActive: idB, wantIDs: []string{idB, idA}},
		{name: "short plain key", value: "short", wantErr: "5 bytes, want at least 16"},
		{name: "short key in a keyring", value: `{"active":"x","keys":{"x":"short"}}`, wantErr: "key x: 5 bytes"},
		{name: "wrong ID", value: `{"active":"deadbeef","keys":{"deadbeef":"` + keyA + `"}}`, wantErr: "the ID is not the key's"},
		{name: "active missing", value: `{"active":"` + idB + `","keys":{"` + idA + `":"` + keyA + `"}}`, wantErr: "is not in the keyring"},
		{name: "bad JSON", value: `{"active":"` + keyA, wantErr: "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := LoadKeyring(context.Background(), fakeSecrets{tc.value}, "arn:secret")
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadKeyring error = %v, want ErrInvalid with %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), keyA) {
					t.Fatalf("error %q holds the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Active.ID != tc.wantActive || strings.Join(r.IDs(), ",") != strings.Join(tc.wantIDs, ",") {
				t.Fatalf("keyring = active %s, %v; want %s, %v", r.Active.ID, r.IDs(), tc.wantActive, tc.wantIDs)
			}
			if string(r.Secrets()[0]) != string(r.Active.Secret) {
				t.Fatal("Secrets()[0] is not the active key")
			}
			active, err := Load(context.Background(), fakeSecrets{tc.value}, "arn:secret")
			if err != nil || string(active) != string(r.Active.Secret) {
				t.Fatalf("Load = %v; want the active key", err)
			}
		})
	}
}

func TestMarshalRoundTrips(t *testing.T) {
	a := Key{ID: ID([]byte(keyA)), Secret: []byte(keyA)}
	b := Key{ID: ID([]byte(keyB)), Secret: []byte(keyB)}
	tests := []struct {
		name  string
		ring  Keyring
		plain bool
	}{
		{name: "one key is plain", ring: Keyring{Active: a, Keys: []Key{a}}, plain: true},
		{name: "two keys", ring: Keyring{Active: b, Keys: []Key{b, a}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.ring.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if tc.plain != (string(v) == keyA) {
				t.Fatalf("Marshal = plain %v, want plain %v", string(v) == keyA, tc.plain)
			}
			got, err := Parse(v)
			if err != nil || got.Active.ID != tc.ring.Active.ID || strings.Join(got.IDs(), ",") != strings.Join(tc.ring.IDs(), ",") {
				t.Fatalf("Parse(Marshal) = %v %v, %v; want %v", got.Active.ID, got.IDs(), err, tc.ring.IDs())
			}
		})
	}
	if _, err := (Keyring{Active: b, Keys: []Key{a}}).Marshal(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Marshal without the active key = %v, want ErrInvalid", err)
	}
}

// FuzzParse: whatever the secret holds, Parse does not panic, and its
// error never holds a key of the value.
func FuzzParse(f *testing.F) {
	f.Add(keyA)
	f.Add(`{"active":"x","keys":{"x":"` + keyB + `"}}`)
	f.Add(`{"active":`)
	f.Fuzz(func(t *testing.T, v string) {
		r, err := Parse([]byte(v))
		if err != nil {
			if len(v) >= 16 && strings.Contains(err.Error(), v) {
				t.Fatalf("error %q holds the secret", err)
			}
			return
		}
		if len(r.Keys) == 0 || r.Keys[0].ID != r.Active.ID {
			t.Fatalf("keyring %v: the active key %s is not first", r.IDs(), r.Active.ID)
		}
	})
}
