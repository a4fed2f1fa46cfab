// Package suppression is the list of consumers Veil must keep erased or
// must not contact again: their identifiers as index keys (HMACs, never
// values), each with what to do on meeting it again (Action), where the
// entry came from and when. Erasures add to it, opt-outs and bulk imports
// too; index writes and dialers check against it.
//
// A value is keyed under every secret of the index's keyring, one entry per
// key, so that a key rotation in progress finds it under either.
package suppression

import (
	"errors"
	"strings"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Action is what is done on meeting a suppressed identifier again.
type Action string

// Actions. Their names are stored in every entry's key: never rename one.
const (
	// Mask: the consumer was erased; a list uploaded later has the rows
	// holding the identifier masked.
	Mask Action = "mask"
	// Flag: the rows are indexed but flagged for review.
	Flag Action = "flag"
	// DoNotContact: the consumer opted out of contact; dialers skip them.
	DoNotContact Action = "do-not-contact"
)

// Actions returns every Action.
func Actions() []Action { return []Action{Mask, Flag, DoNotContact} }

// ParseAction returns the Action named name, or a *veil.ValidationError
// on field "action".
func ParseAction(name string) (Action, error) {
	for _, a := range Actions() {
		if string(a) == name {
			return a, nil
		}
	}
	return "", veil.Invalid("action", "want mask, flag or do-not-contact")
}

// Entry is one identifier on the list under one HMAC key, for one action.
type Entry struct {
	// Key is the identifier's index key (identifiers.Key), never its value.
	Key string
	// KeyID names the HMAC key Key was computed under (indexkey.ID).
	KeyID  string
	Kind   identifiers.Kind
	Action Action
	// Origin is where the entry came from: "request:<id>",
	// "import:<file base name>".
	Origin string
	// Reason is free text from an import, never a value.
	Reason string
	// Added is when the entry was first written; writing it again keeps it.
	Added time.Time
}

// ParseKind reads a kind name as people write it in an import file or a
// flag: phone, email, customer_id or customerId, account_number or
// accountNumber, any case. It returns a *veil.ValidationError on field
// "kind" for anything else, including kinds that are not identifiers.
func ParseKind(name string) (identifiers.Kind, error) {
	folded := strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(name)))
	switch folded {
	case "phone":
		return identifiers.Phone, nil
	case "email":
		return identifiers.Email, nil
	case "customerid":
		return identifiers.CustomerID, nil
	case "accountnumber":
		return identifiers.AccountNumber, nil
	}
	if kindWord(name) {
		return 0, veil.Invalid("kind", "kind %q unknown", strings.TrimSpace(name))
	}
	// Not even a word: perhaps a value in the wrong column, never quoted.
	return 0, veil.Invalid("kind", "kind unknown")
}

// kindWord reports whether s, trimmed, looks like a kind's name (a short
// run of letters, '_', '-' or spaces, as "fax" or "home phone") and not a
// value that landed in the kind column, so that an error may quote it.
func kindWord(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 24 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-' || c == ' ') {
			return false
		}
	}
	return true
}

// Hasher normalizes identifiers and keys them under every secret of a
// keyring. It is immutable and safe for concurrent use.
type Hasher struct {
	norm    *identifiers.Normalizer
	secrets [][]byte
	ids     []string
}

// NewHasher returns a Hasher keying under secrets (indexkey.Keyring.Secrets:
// the active one first) and reading phones without a country code as
// numbers of region ("" means US). It fails with a *veil.ValidationError
// for no secret or a short one, and with identifiers.ErrUnknownRegion.
func NewHasher(secrets [][]byte, region string) (*Hasher, error) {
	if len(secrets) == 0 {
		return nil, veil.Invalid("secrets", "no HMAC key")
	}
	h := &Hasher{secrets: secrets}
	for i, s := range secrets {
		if len(s) < identifiers.MinSecretBytes {
			return nil, veil.Invalid("secrets", "key %d shorter than %d bytes", i, identifiers.MinSecretBytes)
		}
		h.ids = append(h.ids, indexkey.ID(s))
	}
	n, err := identifiers.NewNormalizer(region)
	if err != nil {
		return nil, err
	}
	h.norm = n
	return h, nil
}

// KeyIDs returns the IDs of the keys the Hasher keys under, the active
// one first.
func (h *Hasher) KeyIDs() []string { return append([]string(nil), h.ids...) }

// Keys returns raw's index key under each secret, in the secrets' order.
// It fails with a *veil.ValidationError on field "value" whose reason
// names the kind and never the value: empty, or does not parse.
func (h *Hasher) Keys(kind identifiers.Kind, raw string) ([]string, error) {
	if !kind.IsIdentifier() {
		return nil, veil.Invalid("kind", "%s is not an identifier kind", kind)
	}
	norm, err := h.norm.Normalize(kind, raw)
	if err != nil {
		return nil, invalidValue(kind, err)
	}
	keys := make([]string, len(h.secrets))
	for i, s := range h.secrets {
		keys[i] = identifiers.Key(s, kind, norm)
	}
	return keys, nil
}

// Entries returns the entries that put raw on the list for action: one
// per secret. It fails as Keys does.
func (h *Hasher) Entries(kind identifiers.Kind, raw string, action Action, origin, reason string, added time.Time) ([]Entry, error) {
	keys, err := h.Keys(kind, raw)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(keys))
	for i, k := range keys {
		out[i] = Entry{Key: k, KeyID: h.ids[i], Kind: kind, Action: action, Origin: origin, Reason: reason, Added: added}
	}
	return out, nil
}

// invalidValue says why a value of kind did not normalize, from the
// identifiers error (whose text never holds the value).
func invalidValue(kind identifiers.Kind, err error) *veil.ValidationError {
	if errors.Is(err, identifiers.ErrEmpty) {
		return veil.Invalid("value", "%s empty", kind)
	}
	var ie *identifiers.InvalidError
	if errors.As(err, &ie) {
		return veil.Invalid("value", "%s does not parse (%s)", kind, ie.Reason)
	}
	return veil.Invalid("value", "%s does not parse", kind)
}
