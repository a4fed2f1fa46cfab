package formula

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// formulaOracle is OWASP's rule written another way: optional spaces, then
// a character a spreadsheet starts a formula with.
var formulaOracle = regexp.MustCompile(`^ *[=+\-@\t\r]`)

func TestNeutralize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{`  =HYPERLINK("http://evil.example","x")`, `'  =HYPERLINK("http://evil.example","x")`},
		{"   @x", "'   @x"},
		{" +1 415 555 0134", "' +1 415 555 0134"},
		{" \t", "' \t"},
		{"=", "'="},
		// Safe as they are.
		{"", ""},
		{"   ", "   "},
		{"Zoë Ångström", "Zoë Ångström"},
		{"1+1", "1+1"},
		{"a=b", "a=b"},
		{"'=1", "'=1"},
		{"\n=1", "\n=1"},
		{"\u00a0=1", "\u00a0=1"},
		{"＝1", "＝1"},
		{"415-555-0134", "415-555-0134"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			if got := Neutralize(tc.in); got != tc.want {
				t.Errorf("Neutralize(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got, want := Dangerous(tc.in), tc.want != tc.in; got != want {
				t.Errorf("Dangerous(%q) = %v, want %v", tc.in, got, want)
			}
		})
	}
}

// randomCell returns a string built to hit the edges: leading spaces,
// formula characters first or later, quotes, line breaks and Unicode.
func randomCell(rng *rand.Rand) string {
	pieces := []string{" ", " ", "=", "+", "-", "@", "\t", "\r", "\n", "'", "\"", ",",
		"1", "A1", "SUM(", ")", "Zoë", "Ł", "\u00a0", "＝", "\u200b", "\xff", "e-mail"}
	var b strings.Builder
	for range rng.IntN(8) {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

func TestNeutralizeProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	counts := map[bool]int{}
	for range 100_000 {
		s := randomCell(rng)
		dangerous := formulaOracle.MatchString(s)
		counts[dangerous]++
		if got := Dangerous(s); got != dangerous {
			t.Fatalf("Dangerous(%q) = %v, want %v", s, got, dangerous)
		}
		got := Neutralize(s)
		if !dangerous && got != s {
			t.Fatalf("Neutralize(%q) = %q, want it unchanged", s, got)
		}
		if dangerous && got != "'"+s {
			t.Fatalf("Neutralize(%q) = %q, want a quote in front", s, got)
		}
		if Dangerous(got) || formulaOracle.MatchString(got) {
			t.Fatalf("Neutralize(%q) = %q, still a formula", s, got)
		}
		if again := Neutralize(got); again != got {
			t.Fatalf("Neutralize(Neutralize(%q)) = %q, want %q", s, again, got)
		}
	}
	// The generator must exercise both sides.
	if counts[true] < 10_000 || counts[false] < 10_000 {
		t.Errorf("dangerous/safe strings = %d/%d, want at least 10000 of each", counts[true], counts[false])
	}
}

func ExampleNeutralize() {
	for _, s := range []string{"=HYPERLINK(\"http://evil.example\")", "  @SUM(A1)", "+1 415 555 0134", "Zoë"} {
		fmt.Printf("%q\n", Neutralize(s))
	}
	// Output:
	// "'=HYPERLINK(\"http://evil.example\")"
	// "'  @SUM(A1)"
	// "'+1 415 555 0134"
	// "Zoë"
}
