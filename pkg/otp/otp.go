// Package otp proves that a requester controls a phone or an email address
// they named: a six-digit one-time code is sent to it, and the requester
// types it back.
//
// A code is never stored or logged. The challenge keeps an HMAC of it,
// keyed by a secret: six digits are a million values, so a plain hash would
// fall to a table of all of them the moment a table dump leaked. The HMAC
// also binds the code to its request and identifier, so a code issued for
// one identifier proves nothing about another.
//
// A code works once, for CodeLifetime. MaxTries wrong codes lock the
// challenge; resending a code (at most once per ResendInterval and MaxSends
// times per SendWindow) issues a new code but keeps the count of wrong
// tries, so that resending cannot buy more guesses. A locked challenge stays
// locked until Retention after its last code expired. Wrong codes are also
// counted per identifier over every request (Store.Verify): MaxTries within
// Retention and no code is compared for that identifier, on any request,
// until the oldest of them is Retention old. So filing more requests that
// name one phone buys no more guesses at it.
package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Limits of a challenge.
const (
	// CodeDigits is the length of a code.
	CodeDigits = 6
	// CodeLifetime is how long a code works after it was sent.
	CodeLifetime = 15 * time.Minute
	// MaxTries is how many wrong codes lock a challenge.
	MaxTries = 5
	// ResendInterval is the least time between two sends.
	ResendInterval = 60 * time.Second
	// MaxSends is how many codes (the first included) may be sent within
	// any SendWindow.
	MaxSends = 5
	// SendWindow is the period MaxSends counts over.
	SendWindow = time.Hour
	// Retention is how long a challenge is kept after its code expired,
	// and so how long a lock lasts at most.
	Retention = 24 * time.Hour
)

// codeSpace is the number of codes: 10^CodeDigits.
const codeSpace = 1_000_000

// codeLimit is the largest multiple of codeSpace that fits in a uint32.
// NewCode rejects draws at or above it, so that every code is equally
// likely (a draw taken modulo codeSpace unfiltered would favour the low
// 967,296 codes).
const codeLimit = (1 << 32) / codeSpace * codeSpace

// Sentinel errors of Check and CanResend. Callers test with errors.Is.
var (
	// ErrExpired: the code's CodeLifetime has passed; resend.
	ErrExpired = errors.New("otp: code expired")
	// ErrUsed: the challenge was already met; a code works once.
	ErrUsed = errors.New("otp: code already used")
	// ErrLocked: MaxTries wrong codes were given; no code is accepted.
	ErrLocked = errors.New("otp: too many wrong codes")
	// ErrWrong is matched by every *WrongCodeError.
	ErrWrong = errors.New("otp: wrong code")
	// ErrTooSoon is matched by every *TooSoonError.
	ErrTooSoon = errors.New("otp: too soon to send another code")
)

// WrongCodeError says a code did not match and how many tries are left.
// The try that leaves none also matches ErrLocked.
type WrongCodeError struct {
	TriesLeft int
}

// Error says the code was wrong and how many tries are left.
func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("otp: wrong code, %d tries left", e.TriesLeft)
}

// Is reports whether target is ErrWrong, or ErrLocked when no try is left.
func (e *WrongCodeError) Is(target error) bool {
	return target == ErrWrong || (target == ErrLocked && e.TriesLeft <= 0)
}

// TooSoonError says a code may not be sent yet, and after how long it may
// (an HTTP layer answers 429 with Retry-After: RetryAfter in whole seconds,
// rounded up).
type TooSoonError struct {
	RetryAfter time.Duration
}

// Error says when to retry.
func (e *TooSoonError) Error() string {
	return fmt.Sprintf("otp: too soon to send another code; retry after %v", e.RetryAfter)
}

// Is reports whether target is ErrTooSoon.
func (e *TooSoonError) Is(target error) bool { return target == ErrTooSoon }

// Challenge is one identifier's verification for one request. It holds no
// raw identifier and no code: IdentifierKey is identifiers.Key of the
// normalized identifier, CodeHash is HashCode of the current code.
type Challenge struct {
	RequestID     string
	Kind          identifiers.Kind
	IdentifierKey string
	CodeHash      string
	// Created is when the first code was sent; Expires when the current
	// one stops working.
	Created, Expires time.Time
	// Tries counts wrong codes over every code of the challenge.
	Tries  int
	Locked bool
	Used   bool
	// Sends are the times codes were sent within the last SendWindow,
	// oldest first.
	Sends []time.Time
	// Version is the stored version Store.Get read, 0 for a challenge
	// never stored; Store.Put writes only over that version.
	Version int64
}

// NewCode returns a uniformly random code of CodeDigits digits (leading
// zeros kept), drawn from r (crypto/rand when nil). It fails with r's
// error.
func NewCode(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("otp: new code: %w", err)
		}
		if v := binary.BigEndian.Uint32(b[:]); v < codeLimit {
			return fmt.Sprintf("%0*d", CodeDigits, v%codeSpace), nil
		}
	}
}

// ValidateCode checks that code is exactly CodeDigits ASCII digits, with
// nothing around them. It returns a *veil.ValidationError for field
// "code" otherwise; the reason never quotes the input.
func ValidateCode(code string) error {
	if len(code) != CodeDigits {
		return veil.Invalid("code", "must be %d digits", CodeDigits)
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return veil.Invalid("code", "must be %d digits", CodeDigits)
		}
	}
	return nil
}

// hashDomain starts every code HMAC's input, so that the secret can be
// shared with other HMACs (the index keys) without one ever equalling
// another.
const hashDomain = "veil-otp-v1"

// HashCode returns hex(HMAC-SHA256(secret, requestID, identifierKey, code)),
// each field length-prefixed so that no two triples give one input. It
// never fails.
func HashCode(secret []byte, requestID, identifierKey, code string) string {
	return hex.EncodeToString(codeMAC(secret, requestID, identifierKey, code))
}

func codeMAC(secret []byte, requestID, identifierKey, code string) []byte {
	mac := hmac.New(sha256.New, secret)
	var n [4]byte
	for _, field := range []string{hashDomain, requestID, identifierKey, code} {
		binary.BigEndian.PutUint32(n[:], uint32(len(field)))
		mac.Write(n[:])
		mac.Write([]byte(field))
	}
	return mac.Sum(nil)
}

// compare is the comparison of a code's HMAC with the stored one:
// constant-time, so that the time a wrong code takes says nothing about how
// much of it matched. A variable so that a test can see it used.
var compare = hmac.Equal

// NewChallenge returns a challenge for the identifier keyed identifierKey
// of request requestID, its first code sent at now, and that code (for the
// caller to send; it is nowhere else). It fails with r's error.
func NewChallenge(secret []byte, r io.Reader, requestID string, kind identifiers.Kind, identifierKey string, now time.Time) (Challenge, string, error) {
	code, err := NewCode(r)
	if err != nil {
		return Challenge{}, "", err
	}
	return Challenge{RequestID: requestID, Kind: kind, IdentifierKey: identifierKey,
		CodeHash: HashCode(secret, requestID, identifierKey, code),
		Created:  now, Expires: now.Add(CodeLifetime), Sends: []time.Time{now}}, code, nil
}

// Check tries code against the challenge at now. It returns nil for the
// right code and marks the challenge Used. It returns a
// *veil.ValidationError (field "code") for a code that is not CodeDigits
// digits, which is not counted as a try; ErrUsed, ErrLocked or ErrExpired
// for a challenge that accepts no code, without counting a try; and a
// *WrongCodeError for a wrong code, which it counts (the MaxTries-th locks
// the challenge and also matches ErrLocked). It fails without counting for
// a stored hash that is not hex.
func (c *Challenge) Check(secret []byte, code string, now time.Time) error {
	if err := ValidateCode(code); err != nil {
		return err
	}
	if err := c.accepting(now); err != nil {
		return err
	}
	want, err := hex.DecodeString(c.CodeHash)
	if err != nil || len(want) != sha256.Size {
		return fmt.Errorf("otp: request %s: stored code hash is not an HMAC", c.RequestID)
	}
	if compare(codeMAC(secret, c.RequestID, c.IdentifierKey, code), want) {
		c.Used = true
		return nil
	}
	c.Tries++
	if c.Tries >= MaxTries {
		c.Locked = true
	}
	return &WrongCodeError{TriesLeft: MaxTries - c.Tries}
}

// accepting returns ErrUsed, ErrLocked or ErrExpired when the challenge
// takes no code at now, nil when it does.
func (c *Challenge) accepting(now time.Time) error {
	switch {
	case c.Used:
		return ErrUsed
	case c.Locked || c.Tries >= MaxTries:
		return ErrLocked
	case !now.Before(c.Expires):
		return ErrExpired
	}
	return nil
}

// CanResend reports whether a new code may be sent at now. It returns
// ErrUsed for a challenge already met, ErrLocked for a locked one, and a
// *TooSoonError when the last send was less than ResendInterval ago or
// MaxSends codes were sent within the last SendWindow (RetryAfter is the
// longer of the two waits).
func (c *Challenge) CanResend(now time.Time) error {
	if c.Used {
		return ErrUsed
	}
	if c.Locked || c.Tries >= MaxTries {
		return ErrLocked
	}
	recent := c.recentSends(now)
	var wait time.Duration
	if n := len(recent); n > 0 {
		wait = recent[n-1].Add(ResendInterval).Sub(now)
	}
	if n := len(recent); n >= MaxSends {
		// The send MaxSends back must leave the window first.
		wait = max(wait, recent[n-MaxSends].Add(SendWindow).Sub(now))
	}
	if wait > 0 {
		return &TooSoonError{RetryAfter: wait}
	}
	return nil
}

// recentSends returns the sends within SendWindow before now (and any
// after it, from a clock running ahead), sorted.
func (c *Challenge) recentSends(now time.Time) []time.Time {
	var out []time.Time
	for _, s := range c.Sends {
		if now.Sub(s) < SendWindow {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// Reissue replaces the challenge's code with a new one sent at now, valid
// for CodeLifetime, and returns it. Tries are kept: a resend never buys
// more guesses. It fails as CanResend does, and with r's error.
func (c *Challenge) Reissue(secret []byte, r io.Reader, now time.Time) (string, error) {
	if err := c.CanResend(now); err != nil {
		return "", err
	}
	code, err := NewCode(r)
	if err != nil {
		return "", err
	}
	c.CodeHash = HashCode(secret, c.RequestID, c.IdentifierKey, code)
	c.Expires = now.Add(CodeLifetime)
	c.Sends = append(c.recentSends(now), now)
	return code, nil
}
