package otp_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/otp"
	"github.com/veil-privacy/veil/pkg/veil"
)

// clock is a fake clock tests move by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }

func newService(t *testing.T, e *env) (*otp.Service, *clock) {
	t.Helper()
	svc, err := otp.NewService(e.store, "US", keySecret, codeSecret)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: t0}
	svc.Now = clk.Now
	return svc, clk
}

func TestNewServiceRefusesShortSecrets(t *testing.T) {
	for _, secrets := range [][2][]byte{{[]byte("short"), codeSecret}, {keySecret, []byte("short")}} {
		if _, err := otp.NewService(&otp.Store{}, "US", secrets[0], secrets[1]); !errors.Is(err, identifiers.ErrShortSecret) {
			t.Fatalf("NewService = %v, want ErrShortSecret", err)
		}
	}
	if _, err := otp.NewService(&otp.Store{}, "ZZ", keySecret, codeSecret); err == nil {
		t.Fatal("NewService in region ZZ succeeded, want an error")
	}
}

// A code issued to a phone as one form proves it as another form: both
// normalize to one key.
func TestServiceIssueVerify(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	svc, _ := newService(t, e)
	phone, err := svc.Issue(ctx, "r1", identifiers.Phone, "(212) 555-0147")
	if err != nil {
		t.Fatal(err)
	}
	email, err := svc.Issue(ctx, "r1", identifiers.Email, "Ann.Lee@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Verify(ctx, "r1", identifiers.Phone, "+1 212.555.0147", phone); err != nil {
		t.Fatalf("Verify phone = %v, want accepted", err)
	}
	if err := svc.Verify(ctx, "r1", identifiers.Phone, "2125550147", phone); !errors.Is(err, otp.ErrUsed) {
		t.Fatalf("Verify phone again = %v, want ErrUsed", err)
	}
	if err := svc.Verify(ctx, "r2", identifiers.Email, "ann.lee@example.com", email); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("Verify under another request = %v, want ErrNotFound", err)
	}
	if err := svc.Verify(ctx, "r1", identifiers.Email, " ann.lee@example.com ", email); err != nil {
		t.Fatalf("Verify email = %v, want accepted", err)
	}
}

func TestServiceValidation(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	svc, _ := newService(t, e)
	tests := []struct {
		name      string
		kind      identifiers.Kind
		raw       string
		code      string
		wantField string
	}{
		{"kind no code goes to", identifiers.CustomerID, "C-1001", "123456", "kind"},
		{"not a phone", identifiers.Phone, "call me", "123456", "identifier"},
		{"not an email", identifiers.Email, "ann.lee", "123456", "identifier"},
		{"empty", identifiers.Email, "  ", "123456", "identifier"},
		{"code", identifiers.Phone, "(212) 555-0147", "12345", "code"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := map[string]error{"Verify": svc.Verify(ctx, "r1", tc.kind, tc.raw, tc.code)}
			if tc.wantField != "code" {
				_, calls["Issue"] = svc.Issue(ctx, "r1", tc.kind, tc.raw)
				_, calls["Resend"] = svc.Resend(ctx, "r1", tc.kind, tc.raw)
			}
			for call, err := range calls {
				var ve *veil.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.wantField {
					t.Fatalf("%s = %v, want a ValidationError on %s", call, err, tc.wantField)
				}
			}
		})
	}
}

// Resending is limited, replaces the code and keeps the tries: four wrong
// codes, a resend, and a fifth wrong code lock the identifier, which no
// resend unlocks until the challenge is forgotten.
func TestServiceResend(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	svc, clk := newService(t, e)
	const phone = "(212) 555-0147"
	verify := func(code string, want error) {
		t.Helper()
		if err := svc.Verify(ctx, "r1", identifiers.Phone, phone, code); !errors.Is(err, want) {
			t.Fatalf("Verify(%s) at %v = %v, want %v", code, clk.now.Sub(t0), err, want)
		}
	}
	if _, err := svc.Resend(ctx, "r1", identifiers.Phone, phone); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("Resend before Issue = %v, want ErrNotFound", err)
	}
	svc.Rand = draws(111111)
	if code, err := svc.Issue(ctx, "r1", identifiers.Phone, phone); err != nil || code != "111111" {
		t.Fatalf("Issue = %q, %v; want 111111", code, err)
	}
	clk.advance(20 * time.Second)
	for name, send := range map[string]func() (string, error){
		"Issue":  func() (string, error) { return svc.Issue(ctx, "r1", identifiers.Phone, phone) },
		"Resend": func() (string, error) { return svc.Resend(ctx, "r1", identifiers.Phone, phone) },
	} {
		var ts *otp.TooSoonError
		if _, err := send(); !errors.As(err, &ts) || ts.RetryAfter != 40*time.Second {
			t.Fatalf("%s 20 s after = %v, want too soon, retry after 40s", name, err)
		}
	}
	for _, wrong := range []string{"000001", "000002", "000003", "000004"} {
		verify(wrong, otp.ErrWrong)
	}
	clk.advance(40 * time.Second)
	svc.Rand = draws(222222)
	if code, err := svc.Resend(ctx, "r1", identifiers.Phone, phone); err != nil || code != "222222" {
		t.Fatalf("Resend a minute after = %q, %v; want 222222", code, err)
	}
	verify("111111", otp.ErrLocked) // the replaced code is wrong: the fifth
	verify("222222", otp.ErrLocked)
	clk.advance(time.Hour)
	if _, err := svc.Resend(ctx, "r1", identifiers.Phone, phone); !errors.Is(err, otp.ErrLocked) {
		t.Fatalf("Resend when locked = %v, want ErrLocked", err)
	}

	// Retention after the last code expired, the challenge is what the
	// TTL deletes: a new one starts, with no tries.
	clk.now = t0.Add(time.Minute + otp.CodeLifetime + otp.Retention)
	svc.Rand = draws(333333)
	if code, err := svc.Issue(ctx, "r1", identifiers.Phone, phone); err != nil || code != "333333" {
		t.Fatalf("Issue after Retention = %q, %v; want 333333", code, err)
	}
	verify("000001", otp.ErrWrong)
	verify("333333", nil)
}

// Two Issues of one new identifier at once create one challenge: the later
// one finds it and is too soon.
func TestServiceConcurrentIssue(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	svc, _ := newService(t, e)
	g := gate(e.ddb, 2)
	svc.Store = &otp.Store{API: g, Table: e.table}
	codes := make([]string, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { codes[i], errs[i] = svc.Issue(ctx, "r1", identifiers.Email, "ann.lee@example.com") })
	}
	wg.Wait()
	issued := -1
	for i, err := range errs {
		switch {
		case err == nil:
			issued = i
		case !errors.Is(err, otp.ErrTooSoon):
			t.Fatalf("Issue = %v, want a code or too soon", err)
		}
	}
	if issued < 0 || errs[1-issued] == nil || g.conflicts != 1 {
		t.Fatalf("Issue errors %v with %d conflicts, want one code and one too soon", errs, g.conflicts)
	}
	if err := svc.Verify(ctx, "r1", identifiers.Email, "ann.lee@example.com", codes[issued]); err != nil {
		t.Fatalf("Verify of the one code = %v, want accepted", err)
	}
}
