// Package identifiers knows the consumer data in a lead list: which columns
// hold which kind of personal data, how identifiers (phone, email, customer
// ID, account number) are normalized so that one consumer's value always
// looks the same, and how a normalized identifier becomes an index key that
// never reveals it.
package identifiers

import (
	"errors"
	"fmt"
)

// Kind is the kind of data a lead-list column holds. Identifier kinds are
// indexed; the other PII kinds are masked on deletion but not indexed;
// Business is everything else.
type Kind uint8

// Kinds. Their names (String) are part of every index key: never rename one.
const (
	Business Kind = iota
	Phone
	Email
	CustomerID
	AccountNumber
	FirstName // given names, middle names included
	LastName
	FullName
	Address
	City
	State
	PostalCode
	DateOfBirth
	NationalID // SSN and the like: masked, never indexed
	numKinds
)

var kindNames = [numKinds]string{
	Business:      "business",
	Phone:         "phone",
	Email:         "email",
	CustomerID:    "customer_id",
	AccountNumber: "account_number",
	FirstName:     "first_name",
	LastName:      "last_name",
	FullName:      "full_name",
	Address:       "address",
	City:          "city",
	State:         "state",
	PostalCode:    "postal_code",
	DateOfBirth:   "date_of_birth",
	NationalID:    "national_id",
}

// ErrUnknownKind is returned by ParseKind for a name that is no Kind.
var ErrUnknownKind = errors.New("identifiers: unknown kind")

// String returns the kind's stable name, "kind(N)" for an invalid Kind.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// IsIdentifier reports whether values of the kind are indexed: a consumer
// names them to find their rows.
func (k Kind) IsIdentifier() bool {
	return k == Phone || k == Email || k == CustomerID || k == AccountNumber
}

// IsPII reports whether values of the kind are personal data, identifiers
// included.
func (k Kind) IsPII() bool { return k != Business && k < numKinds }

// Kinds returns every valid Kind in order.
func Kinds() []Kind {
	ks := make([]Kind, numKinds)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// ParseKind returns the Kind named name (as String writes it), or
// ErrUnknownKind.
func ParseKind(name string) (Kind, error) {
	for k, n := range kindNames {
		if n == name {
			return Kind(k), nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrUnknownKind, name)
}

// MarshalText writes the kind's name; it fails for an invalid Kind.
func (k Kind) MarshalText() ([]byte, error) {
	if k >= numKinds {
		return nil, fmt.Errorf("%w %d", ErrUnknownKind, uint8(k))
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText reads a kind's name; it fails with ErrUnknownKind.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
