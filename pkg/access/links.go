package access

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/veil-privacy/veil/pkg/veil"
)

// DefaultLinkLife is how long a download link works unless it is revoked
// first.
const DefaultLinkLife = 7 * 24 * time.Hour

// linkAudience marks Veil's download tokens: a token made for anything
// else never opens an export.
const linkAudience = "veil-export"

// Signer signs and checks download tokens. A token is an HS256 JWT bound to
// one export (its subject) with an expiry; revoking an export (its record,
// not the token) ends every token made for it. Unlike a presigned S3 URL, a
// token does not die with the credentials of the function that made it,
// and it can be withdrawn.
type Signer struct {
	// Secret signs tokens; it also keys the hashes of downloaders' IPs.
	Secret []byte
	// Life is how long a new token works (default DefaultLinkLife).
	Life time.Duration
	Now  func() time.Time
}

func (l *Signer) now() time.Time {
	if l.Now != nil {
		return l.Now().UTC()
	}
	return time.Now().UTC()
}

func (l *Signer) life() time.Duration {
	if l.Life > 0 {
		return l.Life
	}
	return DefaultLinkLife
}

// Token returns a new token for export id and when it expires.
func (l *Signer) Token(id string) (string, time.Time, error) {
	if len(l.Secret) == 0 {
		return "", time.Time{}, errors.New("access: no link secret")
	}
	now := l.now()
	exp := now.Add(l.life()).Truncate(time.Second)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject: id, Audience: jwt.ClaimStrings{linkAudience},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	})
	s, err := tok.SignedString(l.Secret)
	return s, exp, err
}

// ExpiredError says a token was genuine but is past its expiry.
type ExpiredError struct{ At time.Time }

func (e *ExpiredError) Error() string {
	return "this download link expired on " + e.At.UTC().Format("2 January 2006") + "; ask for a new one"
}

// Unwrap makes an expired link veil.ErrGone.
func (e *ExpiredError) Unwrap() error { return veil.ErrGone }

// Check verifies that token is genuine, made for export id and not
// expired. A token that is malformed, signed with another key, made for
// another export or for another purpose wraps veil.ErrForbidden; a genuine
// one past its expiry is an *ExpiredError (veil.ErrGone).
func (l *Signer) Check(token, id string) error {
	if token == "" {
		return fmt.Errorf("download without a token: %w", veil.ErrForbidden)
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return l.Secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithAudience(linkAudience),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(l.now))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired) && claims.Subject == id && claims.ExpiresAt != nil:
		// The signature was checked before the expiry: the link is ours.
		return &ExpiredError{At: claims.ExpiresAt.Time}
	case err != nil:
		return fmt.Errorf("download token: %v: %w", err, veil.ErrForbidden)
	case claims.Subject != id:
		return fmt.Errorf("download token made for another export: %w", veil.ErrForbidden)
	}
	return nil
}

// IPHash returns a keyed hash prefix of a downloader's IP address: enough
// to tell two downloaders apart in the history, never the address (the
// IPv4 space is small enough to reverse a plain hash).
func (l *Signer) IPHash(ip string) string {
	if ip == "" {
		return ""
	}
	m := hmac.New(sha256.New, l.Secret)
	m.Write([]byte("ip:" + ip))
	return hex.EncodeToString(m.Sum(nil))[:16]
}
