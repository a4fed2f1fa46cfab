package identifiers

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitValues(t *testing.T) {
	const a, b = "415-555-0166", "415-555-0167"
	tests := []struct {
		name string
		kind Kind
		cell string
		want []string
	}{
		{"phone slash", Phone, a + " / " + b, []string{a, b}},
		{"phone slash tabs", Phone, a + "\t/\t" + b, []string{a, b}},
		{"phone semicolon", Phone, a + "; " + b, []string{a, b}},
		{"phone semicolon tight", Phone, a + ";" + b, []string{a, b}},
		{"phone comma", Phone, a + ", " + b, []string{a, b}},
		{"phone or", Phone, a + " or " + b, []string{a, b}},
		{"phone OR", Phone, a + " OR " + b, []string{a, b}},
		{"phone Or", Phone, a + " Or " + b, []string{a, b}},
		{"phone newline", Phone, a + "\n" + b, []string{a, b}},
		{"phone CRLF", Phone, a + "\r\n" + b, []string{a, b}},
		{"phone three", Phone, a + " / " + b + "; (415) 555-0168", []string{a, b, "(415) 555-0168"}},
		{"phone trailing separator", Phone, " " + a + " ; ; ", []string{a}},
		{"phone one", Phone, "(415) 555-0166", []string{"(415) 555-0166"}},
		{"phone trimmed", Phone, "  " + a + "\t", []string{a}},
		{"phone bare slash German", Phone, "030/1234567", []string{"030/1234567"}},
		{"phone bare slash international", Phone, "+49 30/1234567", []string{"+49 30/1234567"}},
		{"phone slash spaced on one side", Phone, a + " /" + b, []string{a + " /" + b}},
		{"phone or at start", Phone, "or " + a, []string{"or " + a}},
		{"phone or at end", Phone, a + " or", []string{a + " or"}},
		{"phone or inside a word", Phone, a + " xor " + b, []string{a + " xor " + b}},
		{"phone or starting a word", Phone, a + " ore " + b, []string{a + " ore " + b}},
		{"phone or before a line break", Phone, a + " or\r\n" + b, []string{a, b}},
		{"phone blanks around slash", Phone, a + "  /\t " + b, []string{a, b}},
		{"phone comma extension", Phone, a + ", ext. 12", []string{a + ", ext. 12"}},
		{"phone comma x extension", Phone, a + ",x12", []string{a + ",x12"}},
		{"phone RFC 3966 extension", Phone, a + ";ext=12", []string{a + ";ext=12"}},
		{"phone extension then a second number", Phone, a + ", x12; " + b, []string{a + ", x12", b}},
		{"phone comma x without digits", Phone, a + ", xavier", []string{a, "xavier"}},
		{"phone blank", Phone, "", nil},
		{"phone only separators", Phone, " ; / , \n or \r\n ", nil},

		{"email semicolon", Email, "a@example.com; b@example.com", []string{"a@example.com", "b@example.com"}},
		{"email comma", Email, "a@example.com, b@example.com", []string{"a@example.com", "b@example.com"}},
		{"email slash", Email, "a@example.com / b@example.com", []string{"a@example.com", "b@example.com"}},
		{"email or", Email, "a@example.com or b@example.com", []string{"a@example.com", "b@example.com"}},
		{"email newline", Email, "a@example.com\nb@example.com", []string{"a@example.com", "b@example.com"}},
		{"email with or in it", Email, "orla@example.com", []string{"orla@example.com"}},
		{"email with OR in it", Email, "Taylor.ORR@Oregon.example.com", []string{"Taylor.ORR@Oregon.example.com"}},
		{"emails with or in them", Email, "orla@example.com or oran@example.org", []string{"orla@example.com", "oran@example.org"}},
		{"email bare slash", Email, "a/b@example.com", []string{"a/b@example.com"}},
		{"email no extension exception", Email, "a@example.com,x1@example.com", []string{"a@example.com", "x1@example.com"}},
		{"email non-ASCII", Email, "José@exämple.com; ann@example.com", []string{"José@exämple.com", "ann@example.com"}},

		{"customer ID semicolon", CustomerID, "C-1; C-2", []string{"C-1", "C-2"}},
		{"customer ID slash", CustomerID, "C-1 / C-2", []string{"C-1", "C-2"}},
		{"customer ID or", CustomerID, "C-1 or C-2", []string{"C-1", "C-2"}},
		{"customer ID newline", CustomerID, "C-1\r\nC-2", []string{"C-1", "C-2"}},
		{"customer ID comma is no separator", CustomerID, "C-1, C-2", []string{"C-1, C-2"}},
		{"customer ID bare slash", CustomerID, "AB/123", []string{"AB/123"}},
		{"account number comma is no separator", AccountNumber, "1,234", []string{"1,234"}},
		{"account number bare slash", AccountNumber, "AB/123", []string{"AB/123"}},
		{"account number semicolon", AccountNumber, "0042;0043", []string{"0042", "0043"}},
		{"account number no extension exception", AccountNumber, "12;ext=5", []string{"12", "ext=5"}},

		{"full name is one value", FullName, "Taylor or Smith", []string{"Taylor or Smith"}},
		{"business is one value", Business, " Cross-sell; Premium ", []string{"Cross-sell; Premium"}},
		{"blank city", City, " ", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SplitValues(tc.kind, tc.cell); !slices.Equal(got, tc.want) {
				t.Fatalf("SplitValues(%v, %q) = %q, want %q", tc.kind, tc.cell, got, tc.want)
			}
			// The append form appends the same values after what dst holds.
			dst := []string{"kept"}
			if got := AppendValues(dst, tc.kind, tc.cell); !slices.Equal(got[1:], tc.want) || got[0] != "kept" {
				t.Fatalf("AppendValues(%q, %v, %q) = %q, want %q after it", dst, tc.kind, tc.cell, got, tc.want)
			}
		})
	}
}

func TestAppendValuesAllocations(t *testing.T) {
	dst := make([]string, 0, 4)
	for _, cell := range []string{"(212) 555-1234", "Ann@Example.com", "415-555-0166 / 415-555-0167 or 415-555-0168"} {
		if n := testing.AllocsPerRun(100, func() { dst = AppendValues(dst[:0], Phone, cell) }); !raceBuild && n != 0 {
			t.Errorf("AppendValues(%q) allocates %v times, want 0", cell, n)
		}
	}
}

func ExampleSplitValues() {
	fmt.Printf("%q\n", SplitValues(Phone, "415-555-0166 / 415-555-0167, ext. 12"))
	fmt.Printf("%q\n", SplitValues(Email, "ann@example.com; Orla@example.com or bob@example.org"))
	fmt.Printf("%q\n", SplitValues(AccountNumber, "1,234\n AB/123"))
	fmt.Printf("%q\n", SplitValues(Phone, " ; "))
	// Output:
	// ["415-555-0166" "415-555-0167, ext. 12"]
	// ["ann@example.com" "Orla@example.com" "bob@example.org"]
	// ["1,234" "AB/123"]
	// []
}

// The separators each kind must never leave in a value, written as
// regular expressions: an oracle independent of the byte scanner.
var (
	reLineBreak  = regexp.MustCompile(`[\r\n]`)
	reSpacedWord = regexp.MustCompile(`(?i)[ \t](?:/|or)[ \t\r\n]`)
	rePunct      = regexp.MustCompile(`[;,]`)
	// reExtension is what may follow a phone's ";" or "," that is no
	// separator.
	reExtension = regexp.MustCompile(`(?i)^[ \t]*(?:extension|extn|ext|x|#)[.:=]?[ \t]*[0-9]`)
)

// checkNoSeparator fails the test if value, one value of a cell of kind
// kind, holds a separator of the kind.
func checkNoSeparator(t *testing.T, kind Kind, cell, value string) {
	t.Helper()
	if !kind.IsIdentifier() {
		return
	}
	if reLineBreak.MatchString(value) || reSpacedWord.MatchString(value) {
		t.Fatalf("SplitValues(%v, %q) value %q holds a separator", kind, cell, value)
	}
	for _, loc := range rePunct.FindAllStringIndex(value, -1) {
		c := value[loc[0]]
		switch {
		case kind == Phone && reExtension.MatchString(value[loc[1]:]):
		case c == ',' && (kind == CustomerID || kind == AccountNumber):
		default:
			t.Fatalf("SplitValues(%v, %q) value %q holds separator %q at %d", kind, cell, value, c, loc[0])
		}
	}
}

func FuzzSplitValues(f *testing.F) {
	for _, s := range []string{
		"415-555-0166 / 415-555-0167", "a@example.com; b@example.com", "a@example.com, b@example.com",
		"415-555-0166 or 415-555-0167", "415-555-0166\n415-555-0167", "415-555-0166\r\n415-555-0167",
		"030/1234567", "1,234", "AB/123", "orla@example.com", "415-555-0166, ext. 12;ext=5", " ; / ",
		"a or or b", "x\tOR\ty", "José; Ä / \xff or \xfe", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cell string) {
		for _, kind := range Kinds() {
			values := SplitValues(kind, cell)
			rest := cell // the values are substrings of the cell, in order
			for _, v := range values {
				i := strings.Index(rest, v)
				if i < 0 {
					t.Fatalf("SplitValues(%v, %q) value %q is not in the cell after the previous value", kind, cell, v)
				}
				rest = rest[i+len(v):]
				if v == "" || v != strings.TrimSpace(v) {
					t.Fatalf("SplitValues(%v, %q) value %q is blank or untrimmed", kind, cell, v)
				}
				if utf8.ValidString(cell) && !utf8.ValidString(v) {
					t.Fatalf("SplitValues(%v, %q) value %q is invalid UTF-8", kind, cell, v)
				}
				checkNoSeparator(t, kind, cell, v)
				// A value is a cell of one value.
				if again := SplitValues(kind, v); len(again) != 1 || again[0] != v {
					t.Fatalf("SplitValues(%v, %q) = %q, want it unchanged (a value of %q)", kind, v, again, cell)
				}
			}
			if strings.TrimSpace(cell) != "" && !kind.IsIdentifier() && len(values) != 1 {
				t.Fatalf("SplitValues(%v, %q) = %q, want one value", kind, cell, values)
			}
		}
	})
}
