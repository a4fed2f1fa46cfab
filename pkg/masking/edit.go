package masking

// A row's edit: its new fields and which of them changed, so that the
// rewrite splices only those cells and keeps every other byte of the
// object, or that the row goes as a whole.

import (
	"strconv"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Edit is what becomes of one matched row.
type Edit struct {
	// Deleted says the whole row is removed (Strategy DeleteRow); Fields
	// and Changed are then nil.
	Deleted bool
	// Fields are the row's new field values, as many as it had. A field
	// not in Changed is the input's string, byte for byte.
	Fields []string
	// Changed lists, in ascending order, the indexes of the fields whose
	// value differs from the input's: the cells to splice. It is empty
	// when the row is already as the edit would leave it (a rerun).
	Changed []int
}

// EditRow returns the edit that deletion makes of one matched row: fields
// are its values; header its list's header; kinds, parallel to header, the
// kind names the index gave the columns ("phone", "first_name", …,
// "business"). Every field of a kind other than Business is masked as Mask
// masks it; Business fields, and fields beyond the header (a ragged
// record's extras, which the index classifies as Business too, see
// identifiers.Schema.Kind), are returned unchanged, byte for byte. A
// header column the record is too short to hold is no field and is not
// added. Under DeleteRow the edit is Deleted. Neither input is modified.
//
// It fails with a *veil.ValidationError: field "kinds" when kinds is not
// as long as header, "kinds[i]" when a kind name is unknown.
func (m *Masker) EditRow(header, kinds, fields []string) (Edit, error) {
	ks, err := parseKinds(header, kinds)
	if err != nil {
		return Edit{}, err
	}
	if m.strategy == DeleteRow {
		return Edit{Deleted: true}, nil
	}
	return edit(ks, fields, m.Mask), nil
}

// edit returns the Edit that applies f to each field of a kind other than
// Business.
func edit(kinds []identifiers.Kind, fields []string, f func(identifiers.Kind, string) string) Edit {
	out := make([]string, len(fields))
	copy(out, fields)
	var changed []int
	for i, k := range kinds[:min(len(kinds), len(fields))] {
		if k == identifiers.Business {
			continue
		}
		if v := f(k, fields[i]); v != fields[i] {
			out[i] = v
			changed = append(changed, i)
		}
	}
	return Edit{Fields: out, Changed: changed}
}

// parseKinds returns the Kinds that kinds names, checked against header.
// The kind names in an error are not quoted: they come from a manifest,
// and a corrupted one could hold anything.
func parseKinds(header, kinds []string) ([]identifiers.Kind, error) {
	if len(kinds) != len(header) {
		return nil, veil.Invalid("kinds", "%d kinds for %d header columns", len(kinds), len(header))
	}
	out := make([]identifiers.Kind, len(kinds))
	for i, name := range kinds {
		k, err := identifiers.ParseKind(name)
		if err != nil {
			return nil, veil.Invalid("kinds["+strconv.Itoa(i)+"]", "unknown kind name")
		}
		out[i] = k
	}
	return out, nil
}
