package otp_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/otp"
	"github.com/veil-privacy/veil/pkg/veil"
)

var (
	codeSecret = []byte("otp-code-secret-0123456789abcdef")
	keySecret  = []byte("index-key-secret-0123456789abcdef")
	t0         = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
)

// draws returns a reader yielding each value as four big-endian bytes:
// exactly the draws NewCode makes.
func draws(vs ...uint32) *bytes.Reader {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return bytes.NewReader(b)
}

// The largest multiple of a million below 2^32, computed here rather than
// read from the package.
const limit = 4_294_000_000

func TestNewCodeRejectionSampling(t *testing.T) {
	tests := []struct {
		name     string
		draws    []uint32
		want     string
		wantLeft int // bytes of the reader left unread
	}{
		{"zero keeps its zeros", []uint32{0}, "000000", 0},
		{"leading zeros", []uint32{7}, "000007", 0},
		{"modulo a million", []uint32{3_000_123}, "000123", 0},
		{"last accepted draw", []uint32{limit - 1}, "999999", 0},
		{"first rejected draw", []uint32{limit, 42}, "000042", 0},
		{"largest draw rejected", []uint32{1<<32 - 1, 1<<32 - 1, 123456, 9}, "123456", 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := draws(tc.draws...)
			got, err := otp.NewCode(r)
			if err != nil || got != tc.want {
				t.Fatalf("NewCode = %q, %v; want %q", got, err, tc.want)
			}
			if r.Len() != tc.wantLeft {
				t.Fatalf("%d bytes left unread, want %d", r.Len(), tc.wantLeft)
			}
		})
	}
}

func TestNewCodeFailsWithItsReader(t *testing.T) {
	for _, r := range []io.Reader{draws(), draws(limit), bytes.NewReader([]byte{1, 2})} {
		if code, err := otp.NewCode(r); err == nil {
			t.Fatalf("NewCode from a short reader = %q, want an error", code)
		}
	}
}

// Codes from crypto/rand are six digits and spread over every digit at
// every position: a sanity check, not a statistical test.
func TestNewCodeDistribution(t *testing.T) {
	const n = 20000
	var counts [otp.CodeDigits][10]int
	for range n {
		code, err := otp.NewCode(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := otp.ValidateCode(code); err != nil {
			t.Fatalf("NewCode = %q: %v", code, err)
		}
		for i := range code {
			counts[i][code[i]-'0']++
		}
	}
	// Each count is binomial(n, 1/10): mean 2000, sd about 42; 6 sd either
	// side.
	for pos, row := range counts {
		for digit, c := range row {
			if c < 1750 || c > 2250 {
				t.Fatalf("digit %d at position %d: %d times in %d codes, want about %d", digit, pos, c, n, n/10)
			}
		}
	}
}

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

func FuzzValidateCode(f *testing.F) {
	for _, s := range []string{"123456", "000000", "12345", "1234567", "12a456", " 123456", "123456\n", "１２３４５６", "٠١٢٣٤٥", "-12345", "+12345", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		err := otp.ValidateCode(code)
		if want := sixDigits.MatchString(code); (err == nil) != want {
			t.Fatalf("ValidateCode(%q) = %v, want accepted %v", code, err, want)
		}
		if err == nil {
			return
		}
		var ve *veil.ValidationError
		if !errors.As(err, &ve) || ve.Field != "code" {
			t.Fatalf("ValidateCode(%q) = %v, want a ValidationError on code", code, err)
		}
		// One fixed reason: it never quotes what was typed.
		if ve.Reason != "must be 6 digits" {
			t.Fatalf("reason %q, want must be 6 digits", ve.Reason)
		}
		// A malformed code is not a try.
		c, _, err := otp.NewChallenge(codeSecret, draws(1), "r1", identifiers.Phone, strings.Repeat("a", 64), t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Check(codeSecret, code, t0); !errors.As(err, &ve) || c.Tries != 0 {
			t.Fatalf("Check(%q) = %v with %d tries, want a ValidationError and none", code, err, c.Tries)
		}
	})
}

func TestHashCode(t *testing.T) {
	key := identifiers.Key(keySecret, identifiers.Phone, "+12125550147")
	h := otp.HashCode(codeSecret, "r1", key, "123456")
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("HashCode = %q, want 64 lower-case hex digits", h)
	}
	if again := otp.HashCode(codeSecret, "r1", key, "123456"); again != h {
		t.Fatalf("HashCode again = %q, want %q", again, h)
	}
	others := map[string]string{
		"other secret":     otp.HashCode([]byte("another-secret-0123456789"), "r1", key, "123456"),
		"other request":    otp.HashCode(codeSecret, "r2", key, "123456"),
		"other identifier": otp.HashCode(codeSecret, "r1", identifiers.Key(keySecret, identifiers.Phone, "+12125550148"), "123456"),
		"other code":       otp.HashCode(codeSecret, "r1", key, "123457"),
		// Without length prefixes these two would hash the same input.
		"boundary moved": otp.HashCode(codeSecret, "r1"+key[:1], key[1:], "123456"),
	}
	for what, o := range others {
		if o == h {
			t.Fatalf("%s: same hash %s", what, h)
		}
	}
}

// challenge returns a new phone challenge of request r1 sent at t0, and
// its code.
func challenge(t *testing.T) (otp.Challenge, string) {
	t.Helper()
	c, code, err := otp.NewChallenge(codeSecret, draws(314159), "r1", identifiers.Phone,
		identifiers.Key(keySecret, identifiers.Phone, "+12125550147"), t0)
	if err != nil {
		t.Fatal(err)
	}
	if code != "314159" || c.CodeHash != otp.HashCode(codeSecret, "r1", c.IdentifierKey, code) {
		t.Fatalf("NewChallenge code %q hash %s, want 314159 and its HMAC", code, c.CodeHash)
	}
	if !c.Created.Equal(t0) || !c.Expires.Equal(t0.Add(15*time.Minute)) || len(c.Sends) != 1 {
		t.Fatalf("NewChallenge = %+v, want created at t0, expiring 15 minutes later, one send", c)
	}
	return c, code
}

type attempt struct {
	code      string
	at        time.Duration // after t0
	want      error         // matched with errors.Is; nil: accepted
	wantLeft  int           // for a *WrongCodeError
	wantTries int
}

func TestCheck(t *testing.T) {
	const right, wrong = "314159", "271828"
	tests := []struct {
		name     string
		attempts []attempt
	}{
		{"right code", []attempt{{code: right}}},
		{"single use", []attempt{{code: right}, {code: right, want: otp.ErrUsed}, {code: wrong, want: otp.ErrUsed}}},
		{"last moment", []attempt{{code: right, at: 15*time.Minute - time.Nanosecond}}},
		{"expired", []attempt{{code: right, at: 15 * time.Minute, want: otp.ErrExpired}, {code: wrong, at: time.Hour, want: otp.ErrExpired}}},
		{"wrong then right", []attempt{{code: wrong, want: otp.ErrWrong, wantLeft: 4, wantTries: 1}, {code: right, wantTries: 1}}},
		{"lockout after five", []attempt{
			{code: wrong, want: otp.ErrWrong, wantLeft: 4, wantTries: 1},
			{code: wrong, want: otp.ErrWrong, wantLeft: 3, wantTries: 2},
			{code: wrong, want: otp.ErrWrong, wantLeft: 2, wantTries: 3},
			{code: wrong, want: otp.ErrWrong, wantLeft: 1, wantTries: 4},
			{code: wrong, want: otp.ErrLocked, wantLeft: 0, wantTries: 5},
			{code: right, want: otp.ErrLocked, wantTries: 5},
			{code: wrong, want: otp.ErrLocked, wantTries: 5},
		}},
		{"malformed codes are not tries", []attempt{
			{code: "31415", want: &veil.ValidationError{}},
			{code: "3141592", want: &veil.ValidationError{}},
			{code: " 314159", want: &veil.ValidationError{}},
			{code: "31415a", want: &veil.ValidationError{}},
			{code: "", want: &veil.ValidationError{}},
			{code: right},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := challenge(t)
			for i, a := range tc.attempts {
				err := c.Check(codeSecret, a.code, t0.Add(a.at))
				checkErr(t, i, err, a)
				if c.Tries != a.wantTries {
					t.Fatalf("attempt %d: tries = %d, want %d", i, c.Tries, a.wantTries)
				}
				if c.Locked != (a.wantTries >= otp.MaxTries) {
					t.Fatalf("attempt %d: locked = %v after %d tries", i, c.Locked, c.Tries)
				}
			}
		})
	}
}

// checkErr compares a Check result with what a wants.
func checkErr(t *testing.T, i int, err error, a attempt) {
	t.Helper()
	var ve *veil.ValidationError
	switch want := a.want.(type) {
	case nil:
		if err != nil {
			t.Fatalf("attempt %d: Check(%q) = %v, want accepted", i, a.code, err)
		}
	case *veil.ValidationError:
		if !errors.As(err, &ve) || ve.Field != "code" {
			t.Fatalf("attempt %d: Check(%q) = %v, want a ValidationError on code", i, a.code, err)
		}
	default:
		if !errors.Is(err, want) {
			t.Fatalf("attempt %d: Check(%q) = %v, want %v", i, a.code, err, want)
		}
		var wc *otp.WrongCodeError
		if errors.As(err, &wc) && wc.TriesLeft != a.wantLeft {
			t.Fatalf("attempt %d: %d tries left, want %d", i, wc.TriesLeft, a.wantLeft)
		}
	}
}

// A code is bound to its request, identifier and secret.
func TestCheckBindsTheCode(t *testing.T) {
	tests := []struct {
		name string
		edit func(*otp.Challenge)
	}{
		{"other request", func(c *otp.Challenge) { c.RequestID = "r2" }},
		{"other identifier", func(c *otp.Challenge) {
			c.IdentifierKey = identifiers.Key(keySecret, identifiers.Phone, "+12125550148")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, code := challenge(t)
			tc.edit(&c)
			if err := c.Check(codeSecret, code, t0); !errors.Is(err, otp.ErrWrong) {
				t.Fatalf("Check = %v, want ErrWrong", err)
			}
		})
	}
	c, code := challenge(t)
	if err := c.Check([]byte("another-secret-0123456789"), code, t0); !errors.Is(err, otp.ErrWrong) {
		t.Fatalf("Check under another secret = %v, want ErrWrong", err)
	}
}

// A stored hash that is not an HMAC is the store's fault: it costs the
// requester no try.
func TestCheckCorruptHash(t *testing.T) {
	c, code := challenge(t)
	c.CodeHash = "314159"
	if err := c.Check(codeSecret, code, t0); err == nil || errors.Is(err, otp.ErrWrong) || c.Tries != 0 {
		t.Fatalf("Check = %v with %d tries, want a plain error and no try", err, c.Tries)
	}
}

func TestCanResend(t *testing.T) {
	min := time.Minute
	tests := []struct {
		name      string
		sends     []time.Duration // after t0, the first at 0
		at        time.Duration
		wantAfter time.Duration // 0: allowed
	}{
		{"at once", []time.Duration{0}, 0, 60 * time.Second},
		{"30 s after", []time.Duration{0}, 30 * time.Second, 30 * time.Second},
		{"a minute after", []time.Duration{0}, min, 0},
		{"fifth send", []time.Duration{0, min, 2 * min, 3 * min}, 4 * min, 0},
		{"sixth within the hour", []time.Duration{0, min, 2 * min, 3 * min, 4 * min}, 5 * min, 55 * min},
		{"sixth an hour after the first", []time.Duration{0, min, 2 * min, 3 * min, 4 * min}, 60 * min, 0},
		{"both limits: the longer wait", []time.Duration{0, min, 2 * min, 3 * min, 59*min + 30*time.Second}, 59*min + 40*time.Second, 50 * time.Second},
		{"old sends do not count", []time.Duration{0, min, 2 * min, 3 * min, 4 * min, 70 * min, 71 * min, 72 * min, 73 * min}, 74 * min, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := challenge(t)
			c.Sends = nil
			for _, s := range tc.sends {
				c.Sends = append(c.Sends, t0.Add(s))
			}
			err := c.CanResend(t0.Add(tc.at))
			if tc.wantAfter == 0 {
				if err != nil {
					t.Fatalf("CanResend = %v, want allowed", err)
				}
				return
			}
			var ts *otp.TooSoonError
			if !errors.As(err, &ts) || !errors.Is(err, otp.ErrTooSoon) || ts.RetryAfter != tc.wantAfter {
				t.Fatalf("CanResend = %v, want too soon, retry after %v", err, tc.wantAfter)
			}
		})
	}
}

// Resending gives a new code with a new expiry, and never a new count of
// tries: four wrong codes, a resend, and one more wrong code lock it.
func TestReissueKeepsTries(t *testing.T) {
	c, old := challenge(t)
	for i := range 4 {
		if err := c.Check(codeSecret, "000000", t0.Add(time.Duration(i)*time.Second)); !errors.Is(err, otp.ErrWrong) {
			t.Fatalf("Check = %v, want ErrWrong", err)
		}
	}
	at := t0.Add(10 * time.Minute)
	code, err := c.Reissue(codeSecret, draws(654321), at)
	if err != nil || code != "654321" {
		t.Fatalf("Reissue = %q, %v; want 654321", code, err)
	}
	if c.Tries != 4 || !c.Expires.Equal(at.Add(otp.CodeLifetime)) || len(c.Sends) != 2 || !c.Created.Equal(t0) {
		t.Fatalf("after Reissue %+v, want 4 tries kept, expiry 15 minutes on, two sends, created t0", c)
	}
	if err := c.Check(codeSecret, old, at); !errors.Is(err, otp.ErrLocked) || !c.Locked {
		t.Fatalf("old code after Reissue = %v, want wrong, and the fifth wrong locks", err)
	}
	if err := c.CanResend(at.Add(time.Hour)); !errors.Is(err, otp.ErrLocked) {
		t.Fatalf("CanResend when locked = %v, want ErrLocked", err)
	}
	if _, err := c.Reissue(codeSecret, draws(1), at.Add(time.Hour)); !errors.Is(err, otp.ErrLocked) {
		t.Fatalf("Reissue when locked = %v, want ErrLocked", err)
	}
}

func TestReissueAfterUse(t *testing.T) {
	c, code := challenge(t)
	if err := c.Check(codeSecret, code, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reissue(codeSecret, draws(1), t0.Add(time.Hour)); !errors.Is(err, otp.ErrUsed) {
		t.Fatalf("Reissue after use = %v, want ErrUsed", err)
	}
}

func TestReissueDropsOldSends(t *testing.T) {
	c, _ := challenge(t)
	at := t0.Add(3 * time.Hour)
	if _, err := c.Reissue(codeSecret, rand.Reader, at); err != nil {
		t.Fatal(err)
	}
	if len(c.Sends) != 1 || !c.Sends[0].Equal(at) {
		t.Fatalf("sends = %v, want only the new one", c.Sends)
	}
}
