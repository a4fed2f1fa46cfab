// Package devauth issues and checks the local stack's development tokens:
// JWTs shaped like the Cognito tokens the production JWT authorizer accepts
// (a subject and a cognito:groups claim), signed with a key kept under
// .local/ so that they mean nothing anywhere else.
package devauth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer and Audience of local tokens.
const (
	Issuer   = "veil-local"
	Audience = "veil-local-console"
)

// Key is the HMAC key tokens are signed with.
type Key []byte

// LoadKey reads the key at path, creating it (and its directory) if absent.
func LoadKey(path string) (Key, error) {
	if b, err := os.ReadFile(path); err == nil {
		k, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) < 32 {
			return nil, fmt.Errorf("dev token key %s: malformed", path)
		}
		return k, nil
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("dev token key %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(k)), 0o600); err != nil {
		return nil, fmt.Errorf("dev token key %s: %w", path, err)
	}
	return k, nil
}

// Issue returns a token for subject in groups, valid for ttl.
func (k Key) Issue(subject string, groups []string, ttl time.Duration) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{
		"sub":            subject,
		"iss":            Issuer,
		"aud":            Audience,
		"token_use":      "id",
		"cognito:groups": groups,
		"iat":            now.Unix(),
		"exp":            now.Add(ttl).Unix(),
	}
	if len(groups) == 0 {
		// Cognito leaves the claim out for a user in no group; a null here
		// would reach functions as the group "<nil>".
		delete(claims, "cognito:groups")
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(k))
}

// IssueClient returns an access token for an app client holding scopes,
// shaped like a Cognito client-credentials token (no groups; the client
// as subject and client_id), valid for ttl.
func (k Key) IssueClient(clientID string, scopes []string, ttl time.Duration) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{"sub": clientID, "client_id": clientID, "iss": Issuer, "aud": Audience, "token_use": "access",
		"scope": strings.Join(scopes, " "), "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(k))
}

// ErrInvalidToken is returned by Claims for a token that is missing,
// malformed, expired or signed with another key.
var ErrInvalidToken = errors.New("invalid token")

// Claims checks token and returns its claims as API Gateway's JWT authorizer
// hands them to a function: every value a string, lists flattened to
// "[a b]". It returns an error wrapping ErrInvalidToken on failure.
func (k Key) Claims(token string) (map[string]string, error) {
	parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return []byte(k), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(Issuer), jwt.WithAudience(Audience),
		jwt.WithExpirationRequired())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	mc, _ := parsed.Claims.(jwt.MapClaims)
	out := make(map[string]string, len(mc))
	for name, v := range mc {
		out[name] = flatten(v)
	}
	return out, nil
}

func flatten(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = flatten(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case float64:
		return fmt.Sprintf("%.0f", x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return fmt.Sprint(keys)
	default:
		return fmt.Sprint(x)
	}
}
