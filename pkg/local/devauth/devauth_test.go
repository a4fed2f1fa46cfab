// Development tokens must be refused in every way a JWT authorizer refuses
// a token, and their claims must reach functions in API Gateway's flattened
// form.
package devauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func testKey(t *testing.T) Key {
	t.Helper()
	k, err := LoadKey(filepath.Join(t.TempDir(), "token.key"))
	if err != nil {
		t.Fatalf("LoadKey error = %v", err)
	}
	return k
}

func TestIssueClaims(t *testing.T) {
	k := testKey(t)
	tests := []struct {
		name       string
		subject    string
		groups     []string
		wantGroups string
		hasGroups  bool
	}{
		{name: "two groups", subject: "agent-1", groups: []string{"agent", "admin"}, wantGroups: "[agent admin]", hasGroups: true},
		{name: "one group", subject: "sup", groups: []string{"supervisor"}, wantGroups: "[supervisor]", hasGroups: true},
		{name: "no groups", subject: "nobody", groups: nil, hasGroups: false},
		{name: "empty groups", subject: "nobody", groups: []string{}, hasGroups: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().Unix()
			tok, err := k.Issue(tc.subject, tc.groups, time.Hour)
			if err != nil {
				t.Fatalf("Issue error = %v", err)
			}
			claims, err := k.Claims(tok)
			if err != nil {
				t.Fatalf("Claims error = %v", err)
			}
			want := map[string]string{"sub": tc.subject, "iss": Issuer, "aud": Audience, "token_use": "id"}
			for name, v := range want {
				if claims[name] != v {
					t.Errorf("claim %s = %q, want %q", name, claims[name], v)
				}
			}
			g, ok := claims["cognito:groups"]
			if ok != tc.hasGroups || g != tc.wantGroups {
				t.Errorf("cognito:groups = %q (present %v), want %q (present %v)", g, ok, tc.wantGroups, tc.hasGroups)
			}
			// Numbers come as plain integers, as API Gateway passes them.
			exp, err := strconv.ParseInt(claims["exp"], 10, 64)
			if err != nil {
				t.Fatalf("exp = %q, not an integer", claims["exp"])
			}
			if exp < before+3600 || exp > time.Now().Unix()+3600 {
				t.Errorf("exp = %d, want an hour from now", exp)
			}
			if _, err := strconv.ParseInt(claims["iat"], 10, 64); err != nil {
				t.Errorf("iat = %q, not an integer", claims["iat"])
			}
		})
	}
}

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("signing with %s: %v", method.Alg(), err)
	}
	return s
}

func validClaims() jwt.MapClaims {
	return jwt.MapClaims{"sub": "u", "iss": Issuer, "aud": Audience, "exp": time.Now().Add(time.Hour).Unix()}
}

func with(name string, v any) jwt.MapClaims {
	c := validClaims()
	if v == nil {
		delete(c, name)
	} else {
		c[name] = v
	}
	return c
}

func TestClaimsRefusesBadTokens(t *testing.T) {
	k := testKey(t)
	other := testKey(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := k.Issue("u", []string{"admin"}, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	good, err := k.Issue("u", []string{"agent"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	forged := sign(t, jwt.SigningMethodHS256, []byte(k), with("cognito:groups", []string{"admin"}))
	tampered := parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]

	tests := []struct {
		name, token string
	}{
		{name: "empty", token: ""},
		{name: "garbage", token: "not.a.jwt"},
		{name: "expired", token: expired},
		{name: "other key", token: sign(t, jwt.SigningMethodHS256, []byte(other), validClaims())},
		{name: "HS384 with the right key", token: sign(t, jwt.SigningMethodHS384, []byte(k), validClaims())},
		{name: "HS512 with the right key", token: sign(t, jwt.SigningMethodHS512, []byte(k), validClaims())},
		{name: "alg none", token: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims())},
		{name: "alg none without signature part", token: strings.TrimSuffix(sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims()), ".")},
		{name: "ES256", token: sign(t, jwt.SigningMethodES256, ec, validClaims())},
		{name: "payload swapped under a valid signature", token: tampered},
		{name: "signature stripped", token: parts[0] + "." + parts[1] + "."},
		{name: "wrong issuer", token: sign(t, jwt.SigningMethodHS256, []byte(k), with("iss", "https://cognito-idp.example"))},
		{name: "wrong audience", token: sign(t, jwt.SigningMethodHS256, []byte(k), with("aud", "someone-else"))},
		{name: "no expiry", token: sign(t, jwt.SigningMethodHS256, []byte(k), with("exp", nil))},
		{name: "not yet valid", token: sign(t, jwt.SigningMethodHS256, []byte(k), with("nbf", time.Now().Add(time.Hour).Unix()))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := k.Claims(tc.token)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Claims error = %v, want %v", err, ErrInvalidToken)
			}
			if claims != nil {
				t.Fatalf("Claims = %v, want none", claims)
			}
		})
	}
	if _, err := k.Claims(good); err != nil {
		t.Fatalf("Claims of a good token error = %v, want nil", err)
	}
}

func TestFlatten(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{name: "string", v: "agent", want: "agent"},
		{name: "list", v: []any{"agent", "admin"}, want: "[agent admin]"},
		{name: "empty list", v: []any{}, want: "[]"},
		{name: "nested list", v: []any{"a", []any{"b", "c"}}, want: "[a [b c]]"},
		{name: "epoch seconds", v: float64(1700000000), want: "1700000000"},
		{name: "bool", v: true, want: "true"},
		{name: "object", v: map[string]any{"z": 1, "a": 2}, want: "[a z]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := flatten(tc.v); got != tc.want {
				t.Fatalf("flatten(%v) = %q, want %q", tc.v, got, tc.want)
			}
		})
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nested", "dir", "token.key")
	k1, err := LoadKey(path)
	if err != nil {
		t.Fatalf("LoadKey (create) error = %v", err)
	}
	if len(k1) != 32 {
		t.Fatalf("key length = %d, want 32", len(k1))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", perm)
	}
	k2, err := LoadKey(path)
	if err != nil {
		t.Fatalf("LoadKey (reload) error = %v", err)
	}
	if hex.EncodeToString(k2) != hex.EncodeToString(k1) {
		t.Fatalf("reloaded key differs from the created one")
	}
	// A token from before a restart still verifies.
	tok, err := k1.Issue("u", []string{"agent"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k2.Claims(tok); err != nil {
		t.Fatalf("Claims with the reloaded key error = %v", err)
	}

	bad := []struct{ name, content string }{
		{name: "not hex", content: "zz" + strings.Repeat("0", 62)},
		{name: "too short", content: strings.Repeat("ab", 16)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if k, err := LoadKey(p); err == nil {
				t.Fatalf("LoadKey(%s) = %x, want an error", tc.name, k)
			}
		})
	}
}

func ExampleKey_Claims() {
	k := Key([]byte("0123456789abcdef0123456789abcdef"))
	tok, _ := k.Issue("agent-7", []string{"agent", "supervisor"}, time.Hour)
	claims, _ := k.Claims(tok)
	fmt.Println(claims["sub"], claims["cognito:groups"])
	_, err := k.Claims(tok + "x")
	fmt.Println(errors.Is(err, ErrInvalidToken))
	// Output:
	// agent-7 [agent supervisor]
	// true
}
