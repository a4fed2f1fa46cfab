package rewrite

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/veil-privacy/veil/pkg/leads"
)

// TestSplitMatchesLeads: over random records made of the characters that
// shape a record, the spans found read as exactly the fields leads reads
// from the same bytes, strictly or leniently, with or without LazyQuotes.
func TestSplitMatchesLeads(t *testing.T) {
	alphabet := []string{"a", "b", ",", `"`, `""`, "\n", "\r\n", "\r", " "}
	r := rand.New(rand.NewPCG(1, 2))
	checked := map[bool]int{}
	for range 50000 {
		var b []byte
		for range 1 + r.IntN(10) {
			b = append(b, alphabet[r.IntN(len(alphabet))]...)
		}
		if r.IntN(2) == 0 {
			b = append(b, '\n')
		}
		lazy := r.IntN(4) == 0
		opts := leads.Options{Delimiter: ',', LazyQuotes: lazy}
		rec, err := leads.ParseRecord(b, nil, opts)
		if err != nil {
			continue
		}
		var spans []span
		ok := true
		if rec.Lenient {
			spans = splitLenient(b, ',', nil)
		} else {
			spans, ok = splitStrict(b, ',', lazy, nil)
		}
		if !ok {
			t.Fatalf("splitStrict(%q, lazy %v) refuses a record leads reads as %q", b, lazy, rec.Fields)
		}
		got := make([]string, len(spans))
		for i, sp := range spans {
			got[i] = unquote(string(b[sp.start:sp.end]), sp)
		}
		if !slices.Equal(got, rec.Fields) {
			t.Fatalf("split(%q, lazy %v, lenient %v) = %q, want %q", b, lazy, rec.Lenient, got, rec.Fields)
		}
		checked[rec.Lenient]++
	}
	if checked[false] < 1000 || checked[true] < 1000 {
		t.Fatalf("checked %d strict and %d lenient records, want 1000 of each", checked[false], checked[true])
	}
}

// TestSplitStrictRefuses: what encoding/csv does not read as exactly one
// record is refused, not split.
func TestSplitStrictRefuses(t *testing.T) {
	for _, in := range []string{"", "\n", "a\nb\n", `a"b`, `"a"b`, `"a`, "\"a\nb"} {
		if spans, ok := splitStrict([]byte(in), ',', false, nil); ok {
			t.Errorf("splitStrict(%q) = %v, true, want false", in, spans)
		}
	}
}

// TestSpliceMismatch: a record whose cells, as found in its bytes, are not
// the fields the reader read is refused with ErrMismatch.
func TestSpliceMismatch(t *testing.T) {
	s, err := newSplicer(leads.Options{Delimiter: ',', Encoding: leads.UTF8})
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte("Ann,\"Lee, A\",1223334444\n")
	for _, fields := range [][]string{
		{"Ann", "Lee", " A", "1223334444"},
		{"Ann", "Lee, B", "1223334444"},
		{"Ann", "\"Lee, A\"", "1223334444"},
	} {
		rec := leads.Record{Number: 7, Fields: fields}
		_, _, err := s.splice(nil, raw, rec, map[int]string{0: "X"})
		var ee *EditError
		if !errors.Is(err, ErrMismatch) || !errors.As(err, &ee) || ee.Record != 7 {
			t.Errorf("splice with fields %q = %v, want ErrMismatch of record 7", fields, err)
		}
	}
	rec := leads.Record{Number: 7, Fields: []string{"Ann", "Lee, A", "1223334444"}}
	out, _, err := s.splice(nil, raw, rec, map[int]string{1: "LXX, X"})
	if want := "Ann,\"LXX, X\",1223334444\n"; err != nil || string(out) != want {
		t.Fatalf("splice = %q, %v, want %q", out, err, want)
	}
}
