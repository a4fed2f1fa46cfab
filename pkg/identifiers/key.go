package identifiers

// Index keys: HMAC-SHA256(secret, kind ":" normalized). The key identifies
// an identifier without revealing it; without the secret a list of keys
// cannot be reversed by hashing every phone number.

import (
	"crypto/fips140"
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
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

// KeyLen is the length of a key: a Hash in hex.
const KeyLen = 2 * HashSize

// String returns the key: the hash in lower-case hex.
func (h Hash) String() string {
	var b [KeyLen]byte
	return string(h.AppendKey(b[:0]))
}

// AppendKey appends the key, the hash in lower-case hex (as String
// returns it), to dst and returns the extended slice. Keying a list
// writes one per entry: it looks each byte's two digits up at once and
// stores eight digits at a time.
func (h *Hash) AppendKey(dst []byte) []byte {
	var key [KeyLen]byte
	for i := 0; i < HashSize; i += 4 {
		binary.LittleEndian.PutUint64(key[2*i:], uint64(hexPairs[h[i]])|uint64(hexPairs[h[i+1]])<<16|
			uint64(hexPairs[h[i+2]])<<32|uint64(hexPairs[h[i+3]])<<48)
	}
	return append(dst, key[:]...)
}

// hexPairs[b] is b's two hex digits, the first in the low byte.
var hexPairs = func() (t [256]uint16) {
	const digits = "0123456789abcdef"
	for b := range t {
		t[b] = uint16(digits[b>>4]) | uint16(digits[b&15])<<8
	}
	return t
}()

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
	block  *blockMAC // nil: every input through mac
	prefix [numKinds][]byte
	buf    []byte
	out    Hash
}

// NewKeyer returns a Keyer for secret; it fails with ErrShortSecret.
func NewKeyer(secret []byte) (*Keyer, error) {
	if len(secret) < MinSecretBytes {
		return nil, ErrShortSecret
	}
	k := &Keyer{mac: hmac.New(sha256.New, secret), block: newBlockMAC(secret)}
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
	if k.block != nil && len(b) <= maxBlockInput && k.block.sum(b) {
		return Hash(k.block.digest())
	}
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

// maxBlockInput is the longest input whose padded inner hash is one
// SHA-256 block: the padding takes a byte and the length eight.
const maxBlockInput = sha256.BlockSize - 1 - 8

// blockMAC computes HMAC-SHA256 of an input of at most maxBlockInput bytes
// (nearly every identifier with its kind prefix) with crypto/sha256's two
// block computations and little else. Keying a list is mostly HMACs, and
// crypto/hmac spends as long again around the blocks: it copies each
// digest's state to pad and sum it. Here the key's inner and outer states,
// saved once, are restored; one block already padded (RFC 6234) is written
// to each, which hashes it where it is; and the digest is read from the
// state's own encoding. newBlockMAC checks the result against crypto/hmac,
// so that a hash whose state encoding differs is never used.
type blockMAC struct {
	inner, outer   hash.Hash
	restoreInner   encoding.BinaryUnmarshaler
	restoreOuter   encoding.BinaryUnmarshaler
	saveInner      encoding.BinaryAppender
	saveOuter      encoding.BinaryAppender
	istate, ostate []byte
	block          [sha256.BlockSize]byte
	state          []byte
}

// sha256StateMagic starts crypto/sha256's state encoding; the eight words
// of the chaining value follow, big-endian: after the last block, the
// digest.
const sha256StateMagic = "sha\x03"

// newBlockMAC returns a blockMAC for secret, or nil when crypto/sha256
// cannot be driven this way (its state encoding is not the one read here,
// or FIPS 140-3 mode wants crypto/hmac's own HMAC).
func newBlockMAC(secret []byte) *blockMAC {
	if fips140.Enabled() {
		return nil
	}
	key := secret
	if len(key) > sha256.BlockSize {
		sum := sha256.Sum256(key)
		key = sum[:]
	}
	var ipad, opad [sha256.BlockSize]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	m := &blockMAC{inner: sha256.New(), outer: sha256.New(), state: make([]byte, 0, 128)}
	var ok [4]bool
	m.restoreInner, ok[0] = m.inner.(encoding.BinaryUnmarshaler)
	m.restoreOuter, ok[1] = m.outer.(encoding.BinaryUnmarshaler)
	m.saveInner, ok[2] = m.inner.(encoding.BinaryAppender)
	m.saveOuter, ok[3] = m.outer.(encoding.BinaryAppender)
	if ok != [4]bool{true, true, true, true} {
		return nil
	}
	m.inner.Write(ipad[:])
	m.outer.Write(opad[:])
	var err error
	if m.istate, err = m.saveInner.AppendBinary(nil); err != nil {
		return nil
	}
	if m.ostate, err = m.saveOuter.AppendBinary(nil); err != nil {
		return nil
	}
	// Inputs of a few lengths up to the longest prove the state encoding
	// and the padding.
	ref := hmac.New(sha256.New, secret)
	probe := []byte("phone:+12125550100;email:ann.lee@example.com;customer_id")[:maxBlockInput]
	for _, n := range []int{0, 1, 18, maxBlockInput - 1, maxBlockInput} {
		ref.Reset()
		ref.Write(probe[:n])
		var want Hash
		ref.Sum(want[:0])
		if !m.sum(probe[:n]) || Hash(m.digest()) != want {
			return nil
		}
	}
	return m
}

// sum computes the HMAC of b (at most maxBlockInput bytes), which digest
// then returns; it reports false when a state would not restore or encode
// (newBlockMAC then leaves the blockMAC unused).
func (m *blockMAC) sum(b []byte) bool {
	return m.hashBlock(m.inner, m.restoreInner, m.saveInner, m.istate, b) &&
		m.hashBlock(m.outer, m.restoreOuter, m.saveOuter, m.ostate, m.digest())
}

// digest returns the digest of the last hashBlock, valid until the next.
func (m *blockMAC) digest() []byte {
	return m.state[len(sha256StateMagic) : len(sha256StateMagic)+HashSize]
}

// hashBlock restores h to state, the state after one block (the key's
// pad), and writes b as the one padded block that ends the message,
// leaving the digest in h's encoded state for digest.
func (m *blockMAC) hashBlock(h hash.Hash, restore encoding.BinaryUnmarshaler, save encoding.BinaryAppender, state, b []byte) bool {
	if restore.UnmarshalBinary(state) != nil {
		return false
	}
	n := copy(m.block[:], b)
	m.block[n] = 0x80
	clear(m.block[n+1 : sha256.BlockSize-8])
	binary.BigEndian.PutUint64(m.block[sha256.BlockSize-8:], uint64(sha256.BlockSize+n)*8)
	h.Write(m.block[:])
	var err error
	m.state, err = save.AppendBinary(m.state[:0])
	return err == nil && len(m.state) >= len(sha256StateMagic)+HashSize && string(m.state[:len(sha256StateMagic)]) == sha256StateMagic
}
