package otp

// The service speaks in raw identifiers, as a requester typed them, and
// turns each into its key before anything is stored or compared.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Service issues, resends and verifies codes for raw identifiers.
type Service struct {
	Store      *Store
	Normalizer *identifiers.Normalizer
	// KeySecret keys a challenge's IdentifierKey (identifiers.Key of the
	// identifier): a key of the desk's own (IntakeFunction derives it from
	// its request key), since a challenge is only ever compared with
	// another challenge, never with the index.
	KeySecret []byte
	// CodeSecret keys HashCode.
	CodeSecret []byte
	// Rand is where codes come from; nil means crypto/rand.
	Rand io.Reader
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewService returns a Service on store whose phones without a country
// code are numbers of region. It fails with identifiers.ErrShortSecret for
// a secret shorter than identifiers.MinSecretBytes and with
// identifiers.ErrUnknownRegion.
func NewService(store *Store, region string, keySecret, codeSecret []byte) (*Service, error) {
	if len(keySecret) < identifiers.MinSecretBytes || len(codeSecret) < identifiers.MinSecretBytes {
		return nil, identifiers.ErrShortSecret
	}
	n, err := identifiers.NewNormalizer(region)
	if err != nil {
		return nil, err
	}
	return &Service{Store: store, Normalizer: n, KeySecret: keySecret, CodeSecret: codeSecret}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Issue starts the challenge of identifier raw (a phone or an email) of
// request requestID and returns its code, for the caller to send to the
// normalized identifier; the code is stored nowhere. When the challenge
// exists already Issue resends, within Resend's limits: a retried Issue
// never resets the count of wrong tries. It fails with a
// *veil.ValidationError (field "kind" or "identifier") and as Resend does
// (ErrLocked included: no code goes to a locked identifier).
func (s *Service) Issue(ctx context.Context, requestID string, kind identifiers.Kind, raw string) (string, error) {
	return s.send(ctx, requestID, kind, raw, true)
}

// Resend sends a new code for the challenge of identifier raw of request
// requestID and returns it; the previous code stops working, the count of
// wrong tries stays. A challenge forgotten (Retention past its expiry)
// starts over. It fails with a *veil.ValidationError (field "kind" or
// "identifier"), wraps veil.ErrNotFound when no code was issued to the
// identifier, ErrUsed, ErrLocked (the challenge's, or the identifier's
// over every request), a *TooSoonError, and veil.ErrConflict
// when concurrent sends keep winning.
func (s *Service) Resend(ctx context.Context, requestID string, kind identifiers.Kind, raw string) (string, error) {
	return s.send(ctx, requestID, kind, raw, false)
}

func (s *Service) send(ctx context.Context, requestID string, kind identifiers.Kind, raw string, create bool) (string, error) {
	key, err := s.key(kind, raw)
	if err != nil {
		return "", err
	}
	now := s.now()
	// No code is sent that could not be entered: an identifier locked by
	// wrong codes on any request gets none until its lock passes.
	if err := s.Store.Locked(ctx, kind, key, now); err != nil {
		return "", err
	}
	for range maxAttempts {
		c, err := s.Store.Get(ctx, requestID, kind, key)
		var code string
		switch {
		case errors.Is(err, veil.ErrNotFound) && create:
			c, code, err = NewChallenge(s.CodeSecret, s.Rand, requestID, kind, key, now)
		case err != nil:
			return "", err
		case !now.Before(c.Expires.Add(Retention)):
			// What the table's TTL would have deleted by now; it may
			// still be there, since TTL deletes late.
			version := c.Version
			c, code, err = NewChallenge(s.CodeSecret, s.Rand, requestID, kind, key, now)
			c.Version = version
		default:
			code, err = c.Reissue(s.CodeSecret, s.Rand, now)
		}
		if err != nil {
			return "", wrap(requestID, kind, key, err)
		}
		err = s.Store.Put(ctx, c)
		if errors.Is(err, veil.ErrConflict) {
			continue
		}
		if err != nil {
			return "", err
		}
		return code, nil
	}
	return "", fmt.Errorf("%s: %d concurrent sends won over this one: %w", name(requestID, kind, key), maxAttempts, veil.ErrConflict)
}

// Verify tries code for identifier raw of request requestID (see
// Store.Verify). It returns nil when the code is right; a
// *veil.ValidationError (field "code", "kind" or "identifier"); a wrapped
// *WrongCodeError, ErrExpired, ErrUsed or ErrLocked (the challenge's, or
// the identifier's over every request, see Store.Verify); and wraps
// veil.ErrNotFound when no code was issued to the identifier.
func (s *Service) Verify(ctx context.Context, requestID string, kind identifiers.Kind, raw, code string) error {
	if err := ValidateCode(code); err != nil {
		return err
	}
	key, err := s.key(kind, raw)
	if err != nil {
		return err
	}
	return s.Store.Verify(ctx, s.CodeSecret, requestID, kind, key, code, s.now())
}

// key returns the identifier key (under KeySecret) of raw, a phone or an
// email, or a *veil.ValidationError that never quotes it.
func (s *Service) key(kind identifiers.Kind, raw string) (string, error) {
	if kind != identifiers.Phone && kind != identifiers.Email {
		return "", veil.Invalid("kind", "codes go to phones and emails, not %s", kind)
	}
	normalized, err := s.Normalizer.Normalize(kind, raw)
	var invalid *identifiers.InvalidError
	switch {
	case errors.Is(err, identifiers.ErrEmpty):
		return "", veil.Invalid("identifier", "empty")
	case errors.As(err, &invalid):
		return "", veil.Invalid("identifier", "%s", invalid.Reason)
	case err != nil:
		return "", err
	}
	return identifiers.Key(s.KeySecret, kind, normalized), nil
}
