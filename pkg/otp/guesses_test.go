package otp_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/otp"
)

// Wrong codes count per identifier over every request: three requests
// naming one phone give five guesses at it in all, not fifteen. A right
// code counts for nothing; after the fifth wrong one even the right code
// is refused, on any request, and no code is sent, until a day after the
// first wrong one.
func TestGuessesCountPerIdentifier(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	svc, clk := newService(t, e)
	const phone = "(212) 555-0147"
	codes := map[string]string{}
	for i, id := range []string{"r1", "r2", "r3", "r4"} {
		svc.Rand = draws(uint32(111111 * (i + 1)))
		code, err := svc.Issue(ctx, id, identifiers.Phone, phone)
		if err != nil {
			t.Fatalf("Issue %s = %v", id, err)
		}
		codes[id] = code
	}
	// A right code on r4 spends no try of the phone's five.
	if err := svc.Verify(ctx, "r4", identifiers.Phone, phone, codes["r4"]); err != nil {
		t.Fatalf("Verify r4 = %v, want accepted", err)
	}
	guesses := []struct {
		id       string
		left     int // -1: refused as locked, no code compared
		wantLock bool
	}{
		{"r1", 4, false}, {"r1", 3, false}, {"r2", 2, false}, {"r2", 1, false}, {"r3", 0, true},
		{"r3", -1, true}, {"r1", -1, true}, {"r2", -1, true},
	}
	for i, g := range guesses {
		clk.advance(time.Minute)
		err := svc.Verify(ctx, g.id, identifiers.Phone, phone, "000000")
		var wrong *otp.WrongCodeError
		switch {
		case g.left >= 0 && (!errors.As(err, &wrong) || wrong.TriesLeft != g.left):
			t.Fatalf("guess %d on %s = %v, want wrong with %d left", i+1, g.id, err, g.left)
		case g.left < 0 && (errors.As(err, &wrong) || !errors.Is(err, otp.ErrLocked)):
			t.Fatalf("guess %d on %s = %v, want locked without a try", i+1, g.id, err)
		case errors.Is(err, otp.ErrLocked) != g.wantLock:
			t.Fatalf("guess %d on %s: locked = %v, want %v", i+1, g.id, errors.Is(err, otp.ErrLocked), g.wantLock)
		}
	}
	if err := svc.Verify(ctx, "r3", identifiers.Phone, phone, codes["r3"]); !errors.Is(err, otp.ErrLocked) {
		t.Fatalf("right code after the lock = %v, want ErrLocked", err)
	}
	if _, err := svc.Issue(ctx, "r5", identifiers.Phone, phone); !errors.Is(err, otp.ErrLocked) {
		t.Fatalf("Issue for a new request while locked = %v, want ErrLocked", err)
	}
	// Another phone is untouched.
	svc.Rand = nil
	if _, err := svc.Issue(ctx, "r1", identifiers.Phone, "(212) 555-0148"); err != nil {
		t.Fatalf("Issue for another phone = %v, want a code", err)
	}
	// The first wrong guess was at t0+2m: a day later it falls out of the
	// window, one try comes back, and a new code can be sent and entered.
	clk.now = t0.Add(2*time.Minute + otp.Retention)
	svc.Rand = draws(555555)
	code, err := svc.Issue(ctx, "r5", identifiers.Phone, phone)
	if err != nil {
		t.Fatalf("Issue a day after the first guess = %v, want a code", err)
	}
	if err := svc.Verify(ctx, "r5", identifiers.Phone, phone, code); err != nil {
		t.Fatalf("Verify a day after the first guess = %v, want accepted", err)
	}
}

// Ten wrong guesses at once, on ten requests naming one email: exactly
// five are compared and counted, the other five refused as locked.
func TestGuessesConcurrent(t *testing.T) {
	e := newEnv(t)
	ctx := testContext(t)
	svc, _ := newService(t, e)
	const email = "ann.lee@example.com"
	const n = 10
	codes := make([]string, n)
	for i := range n {
		svc.Rand = draws(123456)
		var err error
		if codes[i], err = svc.Issue(ctx, fmt.Sprintf("r%d", i), identifiers.Email, email); err != nil {
			t.Fatal(err)
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = svc.Verify(ctx, fmt.Sprintf("r%d", i), identifiers.Email, email, "000000") })
	}
	wg.Wait()
	wrong, locked := 0, 0
	for _, err := range errs {
		var w *otp.WrongCodeError
		switch {
		case errors.As(err, &w):
			wrong++
		case errors.Is(err, otp.ErrLocked):
			locked++
		default:
			t.Fatalf("Verify = %v, want wrong or locked", err)
		}
	}
	if wrong != 5 || locked != 5 {
		t.Fatalf("wrong %d, locked %d; want 5 and 5", wrong, locked)
	}
	if err := svc.Verify(ctx, "r0", identifiers.Email, email, codes[0]); !errors.Is(err, otp.ErrLocked) {
		t.Fatalf("right code after ten at once = %v, want ErrLocked", err)
	}
}
