package identifiers

// Index keys: HMAC-SHA256(secret, kind ":" normalized). The key identifies
// an identifier without revealing it; without the secret a list of keys
// cannot be reversed by hashing every phone number.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
)

// HashSize is the size of a key's HMAC in bytes.
const HashSize = sha256.Size

// MinSecretBytes is the shortest secret NewKeyer accepts.
const MinSecretBytes = 16

// keySeparator sits between a kind's name and the value; no kind name
// contains it, so (kind, value) pairs never collide.
const keySeparator = ':'

// HashPrefixLen is the length of HashPrefix's result.
const HashPrefixLen = 12

// ErrShortSecret means a key secret shorter than MinSecretBytes.
var ErrShortSecret = errors.New("identifiers: key secret shorter than 16 bytes")

// Hash is the HMAC of one identifier.
type Hash [HashSize]byte

// String returns the key: the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Key returns the index key of a normalized identifier of kind kind:
// hex(HMAC-SHA256(secret, kind ":" normalized)). It never fails; use
// NewKeyer to have the secret checked, and a Keyer for many keys.
func Key(secret []byte, kind Kind, normalized string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(kind.String()))
	mac.Write([]byte{keySeparator})
	mac.Write([]byte(normalized))
	var h Hash
	mac.Sum(h[:0])
	return h.String()
}

// HashPrefix returns the first HashPrefixLen characters of a key, enough to
// follow one identifier through the logs without printing its key, let
// alone its value.
func HashPrefix(key string) string {
	if len(key) > HashPrefixLen {
		return key[:HashPrefixLen]
	}
	return key
}

// Keyer computes keys with one secret, reusing one HMAC state: far cheaper
// than Key when keying a list. A Keyer is not safe for concurrent use.
type Keyer struct {
	mac    hash.Hash
	prefix [numKinds][]byte
	buf    []byte
	out    Hash
}

// NewKeyer returns a Keyer for secret; it fails with ErrShortSecret.
func NewKeyer(secret []byte) (*Keyer, error) {
	if len(secret) < MinSecretBytes {
		return nil, ErrShortSecret
	}
	k := &Keyer{mac: hmac.New(sha256.New, secret)}
	for i := range k.prefix {
		k.prefix[i] = append([]byte(Kind(i).String()), keySeparator)
	}
	return k, nil
}

// Hash returns the HMAC of a normalized identifier of kind kind, the same
// Key(secret, kind, string(normalized)) hex-decodes to.
func (k *Keyer) Hash(kind Kind, normalized []byte) Hash {
	k.buf = append(k.appendPrefix(k.buf[:0], kind), normalized...)
	return k.sum(k.buf)
}

// sum returns the HMAC of b, which already starts with the kind prefix.
func (k *Keyer) sum(b []byte) Hash {
	k.mac.Reset()
	k.mac.Write(b)
	k.mac.Sum(k.out[:0])
	return k.out
}

// appendPrefix appends the kind's part of the HMAC input to dst.
func (k *Keyer) appendPrefix(dst []byte, kind Kind) []byte {
	if kind < numKinds {
		return append(dst, k.prefix[kind]...)
	}
	return append(append(dst, kind.String()...), keySeparator)
}

// Key returns the key of a normalized identifier of kind kind, equal to
// Key(secret, kind, normalized).
func (k *Keyer) Key(kind Kind, normalized string) string {
	k.buf = append(k.appendPrefix(k.buf[:0], kind), normalized...)
	return k.sum(k.buf).String()
}
