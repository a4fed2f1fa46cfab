package access

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/veil-privacy/veil/pkg/veil"
)

func TestSignerChecksItsTokens(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := &Signer{Secret: []byte("0123456789abcdef0123456789abcdef"), Now: func() time.Time { return now }}
	tok, exp, err := s.Token("exp-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(DefaultLinkLife); !exp.Equal(want) {
		t.Fatalf("expiry = %v, want %v (7 days)", exp, want)
	}
	if err := s.Check(tok, "exp-1"); err != nil {
		t.Fatalf("Check of a fresh token: %v", err)
	}
	forbidden := map[string]string{
		"another export":   s.mustCheck(t, tok, "exp-2"),
		"no token":         s.mustCheck(t, "", "exp-1"),
		"tampered payload": s.mustCheck(t, tamper(tok, 1), "exp-1"),
		"tampered sig":     s.mustCheck(t, tamper(tok, 2), "exp-1"),
		"other key":        (&Signer{Secret: []byte("another key, same length........"), Now: s.Now}).mustCheck(t, tok, "exp-1"),
		"alg none":         s.mustCheck(t, unsigned(t, "exp-1", now.Add(time.Hour)), "exp-1"),
		"other audience":   s.mustCheck(t, foreign(t, s.Secret, "exp-1", now.Add(time.Hour)), "exp-1"),
		"garbage":          s.mustCheck(t, "not.a.token", "exp-1"),
	}
	for name, kind := range forbidden {
		if kind != "forbidden" {
			t.Errorf("%s: %s, want forbidden", name, kind)
		}
	}
	// Past its expiry, a genuine token is gone, and says when it went.
	later := &Signer{Secret: s.Secret, Now: func() time.Time { return now.Add(DefaultLinkLife + time.Second) }}
	err = later.Check(tok, "exp-1")
	var ee *ExpiredError
	if !errors.As(err, &ee) || !errors.Is(err, veil.ErrGone) || !strings.Contains(err.Error(), "8 December 2026") {
		t.Fatalf("Check after expiry = %v, want an ExpiredError (gone) naming 8 December 2026", err)
	}
	// Expired and for another export: refused, not "expired".
	if kind := later.mustCheck(t, tok, "exp-2"); kind != "forbidden" {
		t.Fatalf("expired token of another export: %s, want forbidden", kind)
	}
}

// mustCheck classifies Check's answer: "ok", "forbidden", "gone" or the
// error's text.
func (l *Signer) mustCheck(t *testing.T, tok, id string) string {
	t.Helper()
	switch err := l.Check(tok, id); {
	case err == nil:
		return "ok"
	case errors.Is(err, veil.ErrForbidden):
		return "forbidden"
	case errors.Is(err, veil.ErrGone):
		return "gone"
	default:
		return err.Error()
	}
}

// tamper changes one character of part i (0 header, 1 payload, 2
// signature) of a token.
func tamper(tok string, i int) string {
	parts := strings.Split(tok, ".")
	b := []byte(parts[i])
	if b[3] == 'A' {
		b[3] = 'B'
	} else {
		b[3] = 'A'
	}
	parts[i] = string(b)
	return strings.Join(parts, ".")
}

func unsigned(t *testing.T, id string, exp time.Time) string {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.RegisteredClaims{Subject: id, Audience: jwt.ClaimStrings{linkAudience},
		ExpiresAt: jwt.NewNumericDate(exp)}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func foreign(t *testing.T, secret []byte, id string, exp time.Time) string {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: id, Audience: jwt.ClaimStrings{"something-else"},
		ExpiresAt: jwt.NewNumericDate(exp)}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestIPHash(t *testing.T) {
	s := &Signer{Secret: []byte("k")}
	a, b := s.IPHash("203.0.113.7"), s.IPHash("203.0.113.8")
	if len(a) != 16 || a == b || a != s.IPHash("203.0.113.7") || strings.Contains(a, "203") {
		t.Fatalf("IPHash = %q, %q: want 16 hex digits, stable, distinct per address", a, b)
	}
	if (&Signer{Secret: []byte("other")}).IPHash("203.0.113.7") == a {
		t.Fatalf("IPHash under another key is the same: it must be keyed")
	}
	if s.IPHash("") != "" {
		t.Fatalf("IPHash of no address is not empty")
	}
}

func TestValidID(t *testing.T) {
	for _, id := range []string{"r-1", "req-01HQ7Z3K8M2N4P6R8T0V2X4Z6B", "a510b069-94ab-434b-97d2-3ad1e1ce65c7"} {
		if err := validID(id); err != nil {
			t.Errorf("validID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"../x", "a/b", "a b", "é", strings.Repeat("a", 129)} {
		if err := validID(id); err == nil {
			t.Errorf("validID(%q) = nil, want an error", id)
		}
	}
}
