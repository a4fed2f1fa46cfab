package suppression_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/veil"
)

var (
	secretA = []byte("secret-a-0123456789abcdef")
	secretB = []byte("secret-b-0123456789abcdef")
)

func newStore(t *testing.T) *suppression.Store {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options(t))
	return suppression.New(dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"])
}

func hasher(t *testing.T, secrets ...[]byte) *suppression.Hasher {
	t.Helper()
	h, err := suppression.NewHasher(secrets, "US")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func entries(t *testing.T, h *suppression.Hasher, kind identifiers.Kind, raw string, a suppression.Action, origin string, at time.Time) []suppression.Entry {
	t.Helper()
	es, err := h.Entries(kind, raw, a, origin, "", at)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestAddIsIdempotent: an entry written again keeps its first origin and
// time; one key can hold several actions; Check returns them in the order
// of Actions.
func TestAddIsIdempotent(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	h := hasher(t, secretA)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	first := entries(t, h, identifiers.Phone, "+12125550147", suppression.Mask, "request:r1", t0)
	key := first[0].Key
	steps := []struct {
		name    string
		entries []suppression.Entry
		wantNew int
	}{
		{"add", first, 1},
		{"again, other origin", entries(t, h, identifiers.Phone, "(212) 555-0147", suppression.Mask, "import:late.csv", t0.Add(time.Hour)), 0},
		{"do-not-contact too", entries(t, h, identifiers.Phone, "212.555.0147", suppression.DoNotContact, "import:dnc.csv", t0.Add(2*time.Hour)), 1},
		{"both again in one call", append(append([]suppression.Entry{}, first...), first...), 0},
	}
	for _, st := range steps {
		n, err := store.Add(ctx, st.entries)
		if err != nil || n != st.wantNew {
			t.Fatalf("%s: Add = %d, %v; want %d new", st.name, n, err, st.wantNew)
		}
	}
	got, err := store.Check(ctx, []string{key, strings.Repeat("0", identifiers.KeyLen)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[key]) != 2 {
		t.Fatalf("Check = %+v, want two entries of one key", got)
	}
	mask, dnc := got[key][0], got[key][1]
	if mask.Action != suppression.Mask || mask.Origin != "request:r1" || !mask.Added.Equal(t0) || mask.Kind != identifiers.Phone || mask.KeyID == "" {
		t.Fatalf("mask entry = %+v, want the first write's origin request:r1 at %v", mask, t0)
	}
	if dnc.Action != suppression.DoNotContact || dnc.Origin != "import:dnc.csv" {
		t.Fatalf("do-not-contact entry = %+v, want origin import:dnc.csv", dnc)
	}
}

// TestAddRefusesWhatIsNoKey: a raw value in Key (or a bad action, kind,
// origin) is refused before anything is written.
func TestAddRefusesWhatIsNoKey(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	good := entries(t, hasher(t, secretA), identifiers.Email, "a@example.com", suppression.Mask, "request:r1", time.Now())[0]
	tests := []struct {
		name      string
		edit      func(*suppression.Entry)
		wantField string
	}{
		{"raw value", func(e *suppression.Entry) { e.Key = "2125550147" }, "key"},
		{"upper-case hex", func(e *suppression.Entry) { e.Key = strings.ToUpper(e.Key) }, "key"},
		{"action", func(e *suppression.Entry) { e.Action = "erase" }, "action"},
		{"kind", func(e *suppression.Entry) { e.Kind = identifiers.FirstName }, "kind"},
		{"origin", func(e *suppression.Entry) { e.Origin = "" }, "origin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := good
			tc.edit(&bad)
			_, err := store.Add(ctx, []suppression.Entry{good, bad})
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.wantField {
				t.Fatalf("Add error = %v, want a ValidationError on %s", err, tc.wantField)
			}
			if got, err := store.Check(ctx, []string{good.Key}); err != nil || len(got) != 0 {
				t.Fatalf("Check after a refused Add = %v, %v; want nothing written", got, err)
			}
		})
	}
}

// TestCheckThousand checks 1,000 phones, some suppressed (added as E.164,
// checked as (212) 555-…), some not, some invalid, and compares each
// answer with what the test put there.
func TestCheckThousand(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	h := hasher(t, secretA)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	type want struct {
		suppressed bool
		invalid    bool
	}
	values := make([]string, suppression.MaxCheck)
	wants := make([]want, len(values))
	var add []suppression.Entry
	for i := range values {
		number := fmt.Sprintf("212555%04d", 1000+i) // 555-1000 on: valid numbers
		switch i % 5 {
		case 0, 3:
			add = append(add, entries(t, h, identifiers.Phone, "+1"+number, suppression.DoNotContact, fmt.Sprintf("import:f%d.csv", i), at)...)
			wants[i].suppressed = true
		case 4:
			number = []string{"12", "call me maybe", "", "+1 000 000 0000"}[i%4]
			wants[i].invalid = true
		}
		if !wants[i].invalid {
			number = fmt.Sprintf("(%s) %s-%s", number[:3], number[3:6], number[6:])
		}
		values[i] = number
	}
	if n, err := store.Add(ctx, add); err != nil || n != len(add) {
		t.Fatalf("Add = %d, %v; want %d new", n, err, len(add))
	}
	c := &suppression.Checker{Lookup: store, Hasher: h}
	got, err := c.Check(ctx, identifiers.Phone, values)
	if err != nil || len(got) != len(values) {
		t.Fatalf("Check = %d results, %v; want %d", len(got), err, len(values))
	}
	for i, r := range got {
		if r.Suppressed() != wants[i].suppressed || (r.Invalid != "") != wants[i].invalid {
			t.Fatalf("value %d: suppressed %v, invalid %q; want suppressed %v, invalid %v", i, r.Suppressed(), r.Invalid, wants[i].suppressed, wants[i].invalid)
		}
		if r.Suppressed() && (r.Entries[0].Origin != fmt.Sprintf("import:f%d.csv", i) || r.Entries[0].Action != suppression.DoNotContact || !r.Entries[0].Added.Equal(at)) {
			t.Fatalf("value %d: entry %+v, want origin import:f%d.csv, do-not-contact, %v", i, r.Entries[0], i, at)
		}
		if strings.Contains(r.Invalid, values[i]) && values[i] != "" {
			t.Fatalf("value %d: reason %q holds the value", i, r.Invalid)
		}
	}
	if _, err := c.Check(ctx, identifiers.Phone, make([]string, suppression.MaxCheck+1)); !isValidation(err, "values") {
		t.Fatalf("Check of %d values: error = %v, want a ValidationError on values", suppression.MaxCheck+1, err)
	}
	if _, err := c.Check(ctx, identifiers.FirstName, values[:1]); !isValidation(err, "kind") {
		t.Fatalf("Check of first names: error = %v, want a ValidationError on kind", err)
	}
}

func isValidation(err error, field string) bool {
	var ve *veil.ValidationError
	return errors.As(err, &ve) && ve.Field == field
}

// TestRotationFindsEitherKey: during a rotation the keyring holds two
// secrets; a value suppressed under either is found, and one entry per
// secret is written for a value added then.
func TestRotationFindsEitherKey(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	before := entries(t, hasher(t, secretA), identifiers.Email, "old@example.com", suppression.Mask, "request:old", at)
	onlyB := entries(t, hasher(t, secretB), identifiers.Email, "new@example.com", suppression.Mask, "request:new", at)
	during := entries(t, hasher(t, secretB, secretA), identifiers.Email, "both@example.com", suppression.Mask, "request:both", at)
	if len(during) != 2 || during[0].KeyID == during[1].KeyID {
		t.Fatalf("entries under a keyring of two = %+v, want one per key", during)
	}
	for _, es := range [][]suppression.Entry{before, onlyB, during} {
		if _, err := store.Add(ctx, es); err != nil {
			t.Fatal(err)
		}
	}
	values := []string{"OLD@example.com", "new@example.com", "both@example.com", "none@example.com"}
	tests := []struct {
		name    string
		secrets [][]byte
		want    []bool
	}{
		{"rotating", [][]byte{secretB, secretA}, []bool{true, true, true, false}},
		{"old key only", [][]byte{secretA}, []bool{true, false, true, false}},
		{"new key only", [][]byte{secretB}, []bool{false, true, true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &suppression.Checker{Lookup: store, Hasher: hasher(t, tc.secrets...)}
			got, err := c.Check(ctx, identifiers.Email, values)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range got {
				if r.Suppressed() != tc.want[i] {
					t.Errorf("value %d: suppressed %v, want %v", i, r.Suppressed(), tc.want[i])
				}
				if r.Suppressed() && len(r.Entries) != 1 {
					t.Errorf("value %d: %d entries, want one per action", i, len(r.Entries))
				}
			}
		})
	}
}
