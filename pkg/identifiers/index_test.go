package identifiers

import (
	"regexp"
	"slices"
	"testing"
)

func TestIndexerMultiValue(t *testing.T) {
	schema, err := Classify([]string{"phone", "email", "cust id", "acct"}, nil, ClassifyOptions{})
	if err != nil {
		t.Fatalf("Classify error = %v", err)
	}
	phone := func(e164 string) Entry { return Entry{Column: 0, Kind: Phone, Hash: mustHash(t, Phone, e164)} }
	email := func(v string) Entry { return Entry{Column: 1, Kind: Email, Hash: mustHash(t, Email, v)} }
	custID := func(v string) Entry { return Entry{Column: 2, Kind: CustomerID, Hash: mustHash(t, CustomerID, v)} }
	acct := func(v string) Entry {
		return Entry{Column: 3, Kind: AccountNumber, Hash: mustHash(t, AccountNumber, v)}
	}
	// marked is an entry of a placeholder value (X is one).
	marked := func(e Entry) Entry {
		e.Placeholder = true
		return e
	}
	tests := []struct {
		name   string
		record []string
		want   []Entry
		stats  []ColumnStats // this record's counts
	}{
		{
			name:   "one entry per value",
			record: []string{"415-555-0166 / 415-555-0167", "a@example.com; B@Example.com", "C-1 or C-2", "AB/123"},
			want: []Entry{
				phone("+14155550166"), phone("+14155550167"),
				email("a@example.com"), email("b@example.com"),
				custID("C1"), custID("C2"),
				acct("AB123"),
			},
			stats: []ColumnStats{{0, Phone, 2, 0, 0}, {1, Email, 2, 0, 0}, {2, CustomerID, 2, 0, 0}, {3, AccountNumber, 1, 0, 0}},
		},
		{
			name:   "duplicates collapse",
			record: []string{"415-555-0166 or (415) 555-0166", "a@example.com, A@Example.com", "1,234", "0042\n0043\r\n0042"},
			want:   []Entry{phone("+14155550166"), email("a@example.com"), custID("1,234"), acct("0042"), acct("0043")},
			stats:  []ColumnStats{{0, Phone, 2, 0, 0}, {1, Email, 2, 0, 0}, {2, CustomerID, 1, 0, 0}, {3, AccountNumber, 3, 0, 0}},
		},
		{
			name:   "invalid and blank pieces",
			record: []string{"415-555-0166 / (999) 555-1234 / ", " ; , ", "", "C-9 / mailto:"},
			want:   []Entry{phone("+14155550166"), acct("C9"), acct("MAILTO:")},
			stats:  []ColumnStats{{0, Phone, 1, 0, 1}, {1, Email, 0, 1, 0}, {2, CustomerID, 0, 1, 0}, {3, AccountNumber, 2, 0, 0}},
		},
		{
			name:   "every piece invalid",
			record: []string{"123, 456", "mailto: ; x@", "C-1\x00; C-2\x01", "1 or 2"},
			want:   []Entry{acct("1"), acct("2")},
			stats:  []ColumnStats{{0, Phone, 0, 0, 2}, {1, Email, 0, 0, 1}, {2, CustomerID, 0, 0, 2}, {3, AccountNumber, 2, 0, 0}},
		},
		{
			name:   "extensions and a quoted line break",
			record: []string{"415-555-0168 x123\r\n415-555-0168 ext. 9, 415-555-0167, ext 4", "orla@example.com"},
			want:   []Entry{phone("+14155550168"), phone("+14155550167"), email("orla@example.com")},
			stats:  []ColumnStats{{0, Phone, 3, 0, 0}, {1, Email, 1, 0, 0}, {2, CustomerID, 0, 1, 0}, {3, AccountNumber, 0, 1, 0}},
		},
		{
			name:   "the same identifier in two columns of one kind stays in the first",
			record: []string{"415-555-0166", "a@example.com", "X; 7", "7 / X"},
			want:   []Entry{phone("+14155550166"), email("a@example.com"), marked(custID("X")), custID("7"), acct("7"), marked(acct("X"))},
			stats:  []ColumnStats{{0, Phone, 1, 0, 0}, {1, Email, 1, 0, 0}, {2, CustomerID, 2, 0, 0}, {3, AccountNumber, 2, 0, 0}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := NewIndexer(testSecret, schema, "")
			if err != nil {
				t.Fatalf("NewIndexer error = %v", err)
			}
			if got := ix.Append(nil, tc.record); !slices.Equal(got, tc.want) {
				t.Fatalf("Append(%q) = %v, want %v", tc.record, got, tc.want)
			}
			if got := ix.Stats(); !slices.Equal(got, tc.stats) {
				t.Fatalf("Stats() = %+v, want %+v", got, tc.stats)
			}
		})
	}
}

func TestIndexerMultiValueAllocations(t *testing.T) {
	schema, _ := Classify([]string{"phone", "email", "cust id", "acct"}, nil, ClassifyOptions{})
	ix, err := NewIndexer(testSecret, schema, "")
	if err != nil {
		t.Fatalf("NewIndexer error = %v", err)
	}
	records := [][]string{
		{"(212) 555-1234 / 212-555-1235 / 212-555-1236 / 212-555-1237 / 212-555-1238", "Ann@Example.com; b@example.com", "C-1 or C-2", "0042\n0043"},
		{"(212) 555-1234 ext. 55", "ann@example.com", "C-1", "0042"},
	}
	dst := make([]Entry, 0, 16)
	for _, rec := range records {
		ix.Append(dst, rec) // builds the NANPA table, grows the value buffer
		if n := testing.AllocsPerRun(100, func() { dst = ix.Append(dst[:0], rec) }); !raceBuild && n != 0 {
			t.Errorf("Append(%q) allocates %v times per record, want 0", rec, n)
		}
	}
}

// reNotOneValue matches a string that might hold a separator of any kind,
// or make one with what is next to it in a cell.
var reNotOneValue = regexp.MustCompile(`(?i)[,;/\r\n]|(?:^|[ \t])or(?:[ \t]|$)`)

// FuzzIndexerAppendMultiValue checks Append on a cell of two values
// against Append on each value alone: the entries of the first, then those
// of the second the first does not have, and the counts added up.
func FuzzIndexerAppendMultiValue(f *testing.F) {
	for _, s := range [][2]string{
		{"415-555-0166", "415-555-0167"}, {"(212) 555-1234", "212.555.1234"}, {"a@example.com", "B@example.com"},
		{"C-1", "C-1 "}, {"(999) 555-1234", "x"}, {"", " "}, {"orla@example.com", "415-555-0168 x12"},
		{"+44 20 7946 0958", "mailto:"},
	} {
		for sep := range uint8(6) {
			f.Add(s[0], s[1], sep)
		}
	}
	kinds := []Kind{Phone, Email, CustomerID, AccountNumber}
	seps := map[Kind][]string{
		Phone:         {" / ", ";", ", ", " or ", "\n", "\r\n"},
		Email:         {" / ", "; ", ",", " OR ", "\n", "\r\n"},
		CustomerID:    {" / ", ";", " or ", "\n", "\r\n"},
		AccountNumber: {"\t/ ", "; ", " Or\t", "\n", "\r\n"},
	}
	f.Fuzz(func(t *testing.T, a, b string, sep uint8) {
		if reNotOneValue.MatchString(a) || reNotOneValue.MatchString(b) {
			return
		}
		for _, kind := range kinds {
			s := seps[kind][int(sep)%len(seps[kind])]
			if kind == Phone && (s == ";" || s == ", ") && reExtension.MatchString(b) {
				continue // an extension of a, not a value
			}
			cell := a + s + b
			schema := Schema{Columns: []Column{{Index: 0, Header: "id", Kind: kind}}}
			ix := func() *Indexer {
				ix, err := NewIndexer(testSecret, schema, "")
				if err != nil {
					t.Fatalf("NewIndexer error = %v", err)
				}
				return ix
			}
			ixA, ixB, ixCell := ix(), ix(), ix()
			want := ixA.Append(nil, []string{a})
			for _, e := range ixB.Append(nil, []string{b}) {
				if !slices.Contains(want, e) {
					want = append(want, e)
				}
			}
			if got := ixCell.Append(nil, []string{cell}); !slices.Equal(got, want) {
				t.Fatalf("%v Append(%q) = %v, want %v", kind, cell, got, want)
			}
			sa, sb, got := ixA.Stats()[0], ixB.Stats()[0], ixCell.Stats()[0]
			wantStats := ColumnStats{Column: 0, Kind: kind, Indexed: sa.Indexed + sb.Indexed, Invalid: sa.Invalid + sb.Invalid}
			if sa.Empty == 1 && sb.Empty == 1 {
				wantStats.Empty = 1
			}
			if got != wantStats {
				t.Fatalf("%v Append(%q) stats = %+v, want %+v (%q: %+v, %q: %+v)", kind, cell, got, wantStats, a, sa, b, sb)
			}
		}
	})
}

// BenchmarkIndexerAppendMultiValue is BenchmarkIndexerAppend with two
// values in the phone and email cells.
func BenchmarkIndexerAppendMultiValue(b *testing.B) {
	schema, _ := Classify([]string{"phone", "email", "cust id", "acct"}, nil, ClassifyOptions{})
	ix, err := NewIndexer(testSecret, schema, "")
	if err != nil {
		b.Fatal(err)
	}
	rec := []string{"(212) 555-1234 / 212-555-1235", "Ann@Example.com; ann.lee@example.org", "C-1", "0042"}
	dst := make([]Entry, 0, 8)
	for b.Loop() {
		dst = ix.Append(dst[:0], rec)
	}
}
