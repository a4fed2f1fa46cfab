package suppression

// The check a dialer or an operator makes before contacting someone:
// values in, per value whether it is on the list and why, never a value
// out.

import (
	"context"
	"errors"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

// MaxCheck is the most values one Check answers.
const MaxCheck = 1000

// Lookup is what a Checker reads: Store.Check.
type Lookup interface {
	Check(ctx context.Context, keys []string) (map[string][]Entry, error)
}

var _ Lookup = (*Store)(nil)

// Checker answers whether raw values are on the list.
type Checker struct {
	Lookup Lookup
	Hasher *Hasher
}

// Result is the answer for one value.
type Result struct {
	// Entries are why the value is suppressed, one per action (the earliest
	// under any key); none when it is not.
	Entries []Entry
	// Invalid says why the value could not be checked ("phone does not
	// parse (…)"); it never holds the value. Empty for a valid value.
	Invalid string
}

// Suppressed reports whether the value is on the list for any action.
func (r Result) Suppressed() bool { return len(r.Entries) > 0 }

// Check returns one Result per value, in order: values are normalized as
// kind and keyed under every secret, so a value written differently, or
// suppressed under the other key of a rotation, is found. An invalid
// value gets its Result's Invalid, not an error. Check fails with a
// *veil.ValidationError for more than MaxCheck values or a kind that is
// not an identifier, and with the Lookup's errors.
func (c *Checker) Check(ctx context.Context, kind identifiers.Kind, values []string) ([]Result, error) {
	if len(values) > MaxCheck {
		return nil, veil.Invalid("values", "%d values, at most %d", len(values), MaxCheck)
	}
	if !kind.IsIdentifier() {
		return nil, veil.Invalid("kind", "%s is not an identifier kind", kind)
	}
	out := make([]Result, len(values))
	keys := make([][]string, len(values))
	var all []string
	for i, v := range values {
		ks, err := c.Hasher.Keys(kind, v)
		if err != nil {
			var ve *veil.ValidationError
			if !errors.As(err, &ve) {
				return nil, err
			}
			out[i].Invalid = ve.Reason
			continue
		}
		keys[i] = ks
		all = append(all, ks...)
	}
	found, err := c.Lookup.Check(ctx, all)
	if err != nil {
		return nil, err
	}
	for i, ks := range keys {
		byAction := map[Action]Entry{}
		for _, k := range ks {
			for _, e := range found[k] {
				if prev, ok := byAction[e.Action]; !ok || e.Added.Before(prev.Added) {
					byAction[e.Action] = e
				}
			}
		}
		for _, e := range byAction {
			out[i].Entries = append(out[i].Entries, e)
		}
		sortEntries(out[i].Entries)
	}
	return out, nil
}
