package indexing_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/search"
)

// TestPlaceholderIdentifiers: a documented placeholder (test@test.com) and
// a number on the rows of seven different people are indexed, shown to
// staff flagged, spread over several partitions, and never in a consumer's
// answer unless the row also matched a real identifier of theirs.
func TestPlaceholderIdentifiers(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("Name,Phone,Email\n")
	b.WriteString("Ann Lee,4155550130,test@test.com\n")
	b.WriteString("Bob Ray,4155550131,bob@example.com\n")
	for i, name := range []string{"Cy Doe", "Di Fox", "Ed Gray", "Flo Hunt", "Gus Ives", "Hal Jones", "Ivy Kim"} {
		fmt.Fprintf(&b, "%s,4155550199,p%d@example.com\n", name, i)
	}
	for i := range 40 {
		fmt.Fprintf(&b, "Agent Fill %d,41555502%02d,TEST@test.com\n", i, i)
	}
	key := "campaigns/filler/list.csv"
	v := e.put(t, key, []byte(b.String()))
	e.sync(t)
	e.wantIndexed(t, key, v)

	finder := &search.Service{Index: e.store, Objects: e.objects, Secret: e.secret}
	find := func(ids ...search.Identifier) search.Result {
		t.Helper()
		res, err := finder.Search(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	email := func(v string) search.Identifier {
		return search.Identifier{Field: "email", Kind: identifiers.Email, Value: v}
	}
	phone := func(v string) search.Identifier {
		return search.Identifier{Field: "phone", Kind: identifiers.Phone, Value: v}
	}

	res := find(email("Test@Test.com"))
	if len(res.Records) != 41 {
		t.Fatalf("staff search for test@test.com = %d rows, want all 41", len(res.Records))
	}
	for _, r := range res.Records {
		if !r.PlaceholderOnly || len(r.Placeholders) != 1 || r.Placeholders[0] != "email" {
			t.Fatalf("row %d = placeholders %v only %v, want flagged email, placeholder only", r.Row, r.Placeholders, r.PlaceholderOnly)
		}
	}
	if got := res.ForConsumer().Records; len(got) != 0 {
		t.Fatalf("consumer answer for test@test.com = %d rows, want none", len(got))
	}

	// Ann's own phone with the placeholder: her row, the email flagged.
	res = find(email("test@test.com"), phone("(415) 555-0130"))
	consumer := res.ForConsumer().Records
	if len(consumer) != 1 || consumer[0].Fields["Name"] != "Ann Lee" || consumer[0].PlaceholderOnly ||
		strings.Join(consumer[0].Placeholders, ",") != "email" {
		t.Fatalf("consumer answer for Ann's phone and test@test.com = %+v, want Ann's row with the email flagged", consumer)
	}

	// Seven names on one number: shared by many, so nobody's.
	res = find(phone("415-555-0199"))
	if len(res.Records) != 7 || len(res.ForConsumer().Records) != 0 {
		t.Fatalf("number on seven people's rows: %d rows, %d for a consumer; want 7 and 0", len(res.Records), len(res.ForConsumer().Records))
	}
	res = find(email("bob@example.com"))
	if len(res.Records) != 1 || len(res.Records[0].Placeholders) != 0 || len(res.ForConsumer().Records) != 1 {
		t.Fatalf("search for Bob = %+v, want his row, nothing flagged", res.Records)
	}

	// test@test.com's 41 entries are spread over partitions, not one.
	partitions := map[string]int{}
	shard := regexp.MustCompile(`^ID#[0-9a-f]+#\d\d$`)
	for _, r := range e.entries(t, key) {
		if r.Kind == "email" && shard.MatchString(r.PK) {
			partitions[r.PK]++
		}
	}
	if len(partitions) < 8 {
		t.Fatalf("placeholder entries in %d partitions (%v), want them spread over at least 8", len(partitions), partitions)
	}
	for pk, n := range partitions {
		if n > 41/8+3 {
			t.Fatalf("partition %s holds %d of the placeholder's 41 entries", pk[:16], n)
		}
	}
}

// TestHeaderlessListIndexesItsFirstRow: a list without a header whose
// first row has a blank phone used to lose that row to the header; every
// row, the first included, is a consumer's.
func TestHeaderlessListIndexesItsFirstRow(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	key := "campaigns/headerless/list.csv"
	v := e.put(t, key, []byte("Ann Lee,,ann.lee@example.com\nBob Ray,(212) 555-0101,bob@example.com\nCy Doe,212-555-0102,cy@example.com\nDi Fox,2125550103,di@example.com\n"))
	e.sync(t)
	m := e.wantIndexed(t, key, v)
	if m.Rows != 4 || m.HeaderLine != 0 {
		t.Fatalf("manifest rows %d header line %d, want 4 rows and no header line", m.Rows, m.HeaderLine)
	}
	finder := &search.Service{Index: e.store, Objects: e.objects, Secret: e.secret}
	res, err := finder.Search(ctx, []search.Identifier{{Field: "email", Kind: identifiers.Email, Value: "ann.lee@example.com"}})
	if err != nil || len(res.Records) != 1 || res.Records[0].Row != 1 {
		t.Fatalf("search for the first row's email = %+v, %v; want record 1", res.Records, err)
	}
}
