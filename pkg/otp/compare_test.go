package otp

import (
	"bytes"
	"crypto/hmac"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
)

// Check compares HMACs through compare (hmac.Equal, constant-time), right
// code and wrong alike, never with == on strings.
func TestCheckComparesInConstantTime(t *testing.T) {
	if reflect.ValueOf(compare).Pointer() != reflect.ValueOf(hmac.Equal).Pointer() {
		t.Fatal("compare is not hmac.Equal")
	}
	var calls int
	compare = func(a, b []byte) bool {
		calls++
		if len(a) != 32 || len(b) != 32 {
			t.Fatalf("compare of %d and %d bytes, want two HMAC-SHA256s", len(a), len(b))
		}
		return hmac.Equal(a, b)
	}
	t.Cleanup(func() { compare = hmac.Equal })

	secret := []byte("otp-code-secret-0123456789abcdef")
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c, code, err := NewChallenge(secret, bytes.NewReader([]byte{0, 0, 0, 9}), "r1", identifiers.Email, strings.Repeat("b", 64), now)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(secret, "000001", now); !errors.Is(err, ErrWrong) {
		t.Fatalf("Check wrong = %v, want ErrWrong", err)
	}
	if err := c.Check(secret, code, now); err != nil {
		t.Fatalf("Check right = %v, want accepted", err)
	}
	if calls != 2 {
		t.Fatalf("compare called %d times, want 2", calls)
	}
}
