package identifiers

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestPlaceholder checks values as agents type them, normalized as the
// indexer normalizes them: every listed placeholder is caught, and
// real-looking values (example.com addresses, 555 numbers, short IDs) are
// not.
func TestPlaceholder(t *testing.T) {
	norm, err := NewNormalizer("")
	if err != nil {
		t.Fatalf("NewNormalizer error = %v", err)
	}
	tests := []struct {
		kind Kind
		raw  string
		want bool
	}{
		// Emails: placeholder domains.
		{Email, "noemail@noemail.com", true},
		{Email, "john@noemail.com", true},
		{Email, "ann@nomail.com", true},
		{Email, "x@noemail.net", true},
		{Email, "none@none.com", true},
		{Email, "john@none.com", true},
		{Email, "na@na.com", true},
		{Email, "TEST@Test.com", true},
		{Email, "anything@test.com", true},
		{Email, "me@fake.com", true},
		{Email, "email@domain.com", true},
		{Email, "bob@noreply.com", true},
		{Email, "bob@donotreply.com", true},
		// Emails: placeholder local parts, at any domain.
		{Email, "no@email.com", true},
		{Email, "email@email.com", true},
		{Email, "test@gmail.com", true},
		{Email, "Test+1@Gmail.com", true},
		{Email, "testing@yahoo.com", true},
		{Email, "no.email@aol.com", true},
		{Email, "no_email@aol.com", true},
		{Email, "nomail@outlook.com", true},
		{Email, "noaddress@bank.com", true},
		{Email, "NoOne@hotmail.com", true},
		{Email, "nobody@icloud.com", true},
		{Email, "null@gmail.com", true},
		{Email, "nil@gmail.com", true},
		{Email, "n.a@gmail.com", true},
		{Email, "notavailable@gmail.com", true},
		{Email, "not.provided@gmail.com", true},
		{Email, "unknown@unknown.com", true},
		{Email, "fake@gmail.com", true},
		{Email, "dummy@gmail.com", true},
		{Email, "sample@gmail.com", true},
		{Email, "asdf@asdf.com", true},
		{Email, "qwerty@gmail.com", true},
		{Email, "abc@gmail.com", true},
		{Email, "noreply@bank.com", true},
		{Email, "no-reply@bank.com", true},
		{Email, "donotreply@company.com", true},
		{Email, "do.not.reply@company.org", true},
		{Email, "dontreply@company.org", true},
		{Email, "donotemail@gmail.com", true},
		{Email, "declined@declined.com", true},
		{Email, "refused@gmail.com", true},
		// Emails: repeated and mirrored local parts.
		{Email, "xxx@yahoo.com", true},
		{Email, "AAAA@hotmail.com", true},
		{Email, "a@a.com", true},
		{Email, "x@x.com", true},
		{Email, "abc@abc.com", true},
		{Email, "xyz@xyz.com", true},
		// Emails that are someone's.
		{Email, "ann@example.com", false},
		{Email, "BOB@Example.org", false},
		{Email, "cy@example.net", false},
		{Email, "zq-canary@example.com", false},
		{Email, "john@email.com", false}, // email.com is a mail provider
		{Email, "john@none.org", false},
		{Email, "tess@test.com.au", false},
		{Email, "tester.jones@gmail.com", false},
		{Email, "nobody.special@gmail.com", false},
		{Email, "noah@gmail.com", false},
		{Email, "nancy@na-law.com", false},
		{Email, "info@business.com", false},
		{Email, "a@company.com", false},
		{Email, "aa@gmail.com", false},
		{Email, "ab@ab.co.uk", false},
		{Email, "annie@abc.com", false},
		{Email, "josé@example.com", false},
		// Phones: valid numbers that are fillers.
		{Phone, "888-888-8888", true},
		{Phone, "(800) 000-0000", false}, // no exchange 000: already invalid, see below
		{Phone, "+1 234 567 8901", true},
		{Phone, "12345678901", true},
		{Phone, "+44 7777 777777", true},
		// Phones that are someone's, 555 numbers included.
		{Phone, "(212) 555-0100", false},
		{Phone, "212-555-0199", false},
		{Phone, "(212) 555-1234", false},
		{Phone, "415-555-0166", false},
		{Phone, "+1 800 555 1212", false},
		{Phone, "(212) 222-2222", false},
		{Phone, "(212) 345-6789", false},
		{Phone, "+44 20 7946 0958", false},
		// Customer IDs (and account numbers, below).
		{CustomerID, "N/A", true},
		{CustomerID, "n/a", true},
		{CustomerID, "NA", true},
		{CustomerID, "NULL", true},
		{CustomerID, "null", true},
		{CustomerID, "Nil", true},
		{CustomerID, "None", true},
		{CustomerID, "NaN", true},
		{CustomerID, "#N/A", true},
		{CustomerID, "TBD", true},
		{CustomerID, "t.b.a.", true},
		{CustomerID, "unknown", true},
		{CustomerID, "UNK", true},
		{CustomerID, "undefined", true},
		{CustomerID, "Not Available", true},
		{CustomerID, "not applicable", true},
		{CustomerID, "Not provided", true},
		{CustomerID, "test", true},
		{CustomerID, "x", true},
		{CustomerID, "XX", true},
		{CustomerID, "?", true},
		{CustomerID, "*", true},
		{CustomerID, "#", true},
		{CustomerID, "#VALUE!", true},
		{CustomerID, "#REF!", true},
		{CustomerID, "#NAME?", true},
		{CustomerID, "#NUM!", true},
		{CustomerID, "#NULL!", true},
		{CustomerID, "#DIV/0!", true},
		{CustomerID, "0", true},
		{CustomerID, "00", true},
		{CustomerID, "00000", true},
		{CustomerID, "0000000000", true},
		{CustomerID, "000-00-0000", true},
		{CustomerID, "(000) 000-0000", true},
		{CustomerID, "XXX", true},
		{CustomerID, "xxxxxxxx", true},
		{CustomerID, "999", true},
		{CustomerID, "1111111", true},
		{CustomerID, "123456", true},
		{CustomerID, "123456789", true},
		{CustomerID, "1234567890", true},
		{CustomerID, "123-456-789", true},
		{CustomerID, "(123) 456-7890", true},
		{CustomerID, "0123456789", true},
		{CustomerID, "987654321", true},
		{CustomerID, "9876543210", true},
		{CustomerID, "C-1001", false},
		{CustomerID, "C1", false},
		{CustomerID, "7", false},
		{CustomerID, "1", false},
		{CustomerID, "11", false},
		{CustomerID, "12345", false},
		{CustomerID, "234567", false},
		{CustomerID, "1234567891", false},
		{CustomerID, "98765", false},
		{CustomerID, "0042", false},
		{CustomerID, "000123", false},
		{CustomerID, "1,234", false},
		{CustomerID, "AB-123", false},
		{CustomerID, "X1", false},
		{CustomerID, "NAB", false},
		{CustomerID, "Noah", false},
		{CustomerID, "(212) 555-0100", false},
		{AccountNumber, "N/A", true},
		{AccountNumber, "#N/A", true},
		{AccountNumber, "0", true},
		{AccountNumber, "0000 0000 0000", true},
		{AccountNumber, "1234567890", true},
		{AccountNumber, "NONE", true},
		{AccountNumber, "0042 1234 5678", false},
		{AccountNumber, "AB/123", false},
		{AccountNumber, "7", false},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String()+" "+tc.raw, func(t *testing.T) {
			v, err := norm.Normalize(tc.kind, tc.raw)
			if err != nil {
				if tc.want {
					t.Fatalf("Normalize(%v, %q) error = %v, want a value", tc.kind, tc.raw, err)
				}
				return // never indexed, placeholder or not
			}
			if got := Placeholder(tc.kind, v); got != tc.want {
				t.Fatalf("Placeholder(%v, %q) = %v, want %v (raw %q)", tc.kind, v, got, tc.want, tc.raw)
			}
			if got := placeholder(tc.kind, []byte(v)); got != tc.want {
				t.Fatalf("placeholder(%v, []byte(%q)) = %v, want %v", tc.kind, v, got, tc.want)
			}
		})
	}
}

// TestPlaceholderPhonesAlreadyInvalid: the phone fillers that are not
// valid numbers never reach the index, so Placeholder need not know them;
// the ones that are valid (or in another region's plan) it knows by shape.
func TestPlaceholderPhonesAlreadyInvalid(t *testing.T) {
	for _, raw := range []string{"0", "N/A", "NULL", "#N/A", "-", "0000000000", "1111111111", "2222222222",
		"5555555555", "9999999999", "1234567890", "0123456789", "9876543210", "(123) 456-7890", "(800) 000-0000",
		"123-4567", "12345"} {
		if v, err := NormalizePhone(raw, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want ErrInvalid", raw, v, err)
		}
	}
	for _, v := range []string{"+10000000000", "+11111111111", "+19999999999", "+19876543210", "+10123456789",
		"+447777777777", "+33111111111", "+77777777777", "+353111111111"} {
		if !Placeholder(Phone, v) {
			t.Errorf("Placeholder(Phone, %q) = false, want true", v)
		}
	}
	for _, v := range []string{"+12125550100", "+442079460958", "+33142685300", "+35318550000", "+861012345678", "+1"} {
		if Placeholder(Phone, v) {
			t.Errorf("Placeholder(Phone, %q) = true, want false", v)
		}
	}
}

// TestPlaceholderOtherKinds: only identifier kinds have placeholders, and
// text that is no normalized value is not one.
func TestPlaceholderOtherKinds(t *testing.T) {
	for _, k := range []Kind{Business, FirstName, FullName, PostalCode, NationalID, Kind(200)} {
		if Placeholder(k, "N/A") || Placeholder(k, "0") {
			t.Errorf("Placeholder(%v, N/A or 0) = true, want false", k)
		}
	}
	for _, c := range []struct {
		kind Kind
		v    string
	}{{Email, ""}, {Email, "@"}, {Email, "noemail@"}, {Email, "@none.com"}, {Phone, ""}, {Phone, "+"}, {CustomerID, ""}} {
		if Placeholder(c.kind, c.v) {
			t.Errorf("Placeholder(%v, %q) = true, want false", c.kind, c.v)
		}
	}
}

// TestIndexerMarksPlaceholders: Append marks the entries of placeholder
// values, indexes them like any other value, and still does not allocate.
func TestIndexerMarksPlaceholders(t *testing.T) {
	schema, err := Classify([]string{"phone", "email", "cust id", "acct"}, nil, ClassifyOptions{})
	if err != nil {
		t.Fatalf("Classify error = %v", err)
	}
	ix, err := NewIndexer(testSecret, schema, "")
	if err != nil {
		t.Fatalf("NewIndexer error = %v", err)
	}
	rec := []string{"888-888-8888 / (212) 555-0100", "TEST@Test.com; ann@example.com", "N/A", "0042 or 0000"}
	entry := func(col int, kind Kind, v string, placeholder bool) Entry {
		return Entry{Column: col, Kind: kind, Hash: mustHash(t, kind, v), Placeholder: placeholder}
	}
	want := []Entry{
		entry(0, Phone, "+18888888888", true),
		entry(0, Phone, "+12125550100", false),
		entry(1, Email, "test@test.com", true),
		entry(1, Email, "ann@example.com", false),
		entry(2, CustomerID, "NA", true),
		entry(3, AccountNumber, "0042", false),
		entry(3, AccountNumber, "0000", true),
	}
	got := ix.Append(nil, rec)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Append(%q) = %v, want %v", rec, got, want)
	}
	wantStats := []ColumnStats{{0, Phone, 2, 0, 0}, {1, Email, 2, 0, 0}, {2, CustomerID, 1, 0, 0}, {3, AccountNumber, 2, 0, 0}}
	if got := ix.Stats(); fmt.Sprint(got) != fmt.Sprint(wantStats) {
		t.Fatalf("Stats() = %+v, want %+v", got, wantStats)
	}
	dst := make([]Entry, 0, 16)
	if n := testing.AllocsPerRun(100, func() { dst = ix.Append(dst[:0], rec) }); !raceBuild && n != 0 {
		t.Fatalf("Append(%q) allocates %v times per record, want 0", rec, n)
	}
}

func TestSharedByMany(t *testing.T) {
	family := []string{"Ann Lee", "Bob Lee", "Cy Lee", "Dee Lee", "Eve Lee"}
	tests := []struct {
		name  string
		names []string
		limit int
		want  bool
	}{
		{"none", nil, 0, false},
		{"one person spelled many ways", []string{"Ann Lee", "Lee, Ann", "ANN  LEE", "Ánn Lee", " ann lee ", "Lee Ann"}, 1, false},
		{"a family at the default limit", family, 0, false},
		{"one more than the default", append(family, "Fay Lee"), 0, true},
		{"one more, spelled as one already seen", append(family, "LEE, BOB"), 0, false},
		{"blank names are nobody", append(family, "", " ", ",", "-"), 0, false},
		{"a limit of two", []string{"Ann Lee", "Bob Ray", "Cy Doe"}, 2, true},
		{"accents and case folded", []string{"José Müller", "jose muller", "MÜLLER, JOSÉ", "Zoë Ørsted"}, 1, true},
		{"a limit below one is the default", append(family, "Fay Lee"), -3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SharedByMany(tc.names, tc.limit); got != tc.want {
				t.Fatalf("SharedByMany(%q, %d) = %v, want %v", tc.names, tc.limit, got, tc.want)
			}
		})
	}
}

func TestFoldName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Ann Lee", "ann lee"},
		{"Lee, Ann", "ann lee"},
		{"  ANN\tLEE ", "ann lee"},
		{"Ánn Lée", "ann lee"},
		{"O'Brien, Mary-Jane", "brien jane mary o"},
		{"Mary Jane O Brien", "brien jane mary o"},
		{"Zoë Ørsted", "zoe ørsted"}, // Ø is a letter of its own, not O with a mark
		{"李 小龙", "小龙 李"},
		{"", ""},
		{" , - ", ""},
	}
	for _, tc := range tests {
		if got := FoldName(tc.name); got != tc.want {
			t.Errorf("FoldName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// FuzzPlaceholder: Placeholder never panics on any text, reads a string
// and bytes alike, and gives a normalized value the verdict it gives that
// value normalized again.
func FuzzPlaceholder(f *testing.F) {
	for _, s := range []string{"N/A", "0", "NULL", "#N/A", "0000000000", "1234567890", "888-888-8888", "+1 234 567 8901",
		"noemail@noemail.com", "TEST@Test.com", "none@none.com", "a@a.com", "x@x.", "@", "+", "(000) 000-0000",
		"ann@example.com", "(212) 555-0100", "C-1001", "no.e-mail+x@gmail.com", "\xff@\xfe", "+9", "josé@exämple.com"} {
		f.Add(s)
	}
	norm, err := NewNormalizer("")
	if err != nil {
		f.Fatal(err)
	}
	kinds := []Kind{Phone, Email, CustomerID, AccountNumber, Business}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, k := range kinds {
			p := Placeholder(k, raw)
			if placeholder(k, []byte(raw)) != p {
				t.Fatalf("placeholder(%v, %q) differs between string and bytes", k, raw)
			}
			v, err := norm.Normalize(k, raw)
			if err != nil {
				continue
			}
			again, err := norm.Normalize(k, v)
			if err != nil {
				t.Fatalf("Normalize(%v, %q) = %q, but Normalize(%q) error = %v", k, raw, v, v, err)
			}
			if Placeholder(k, v) != Placeholder(k, again) {
				t.Fatalf("Placeholder(%v, %q) = %v, Placeholder(%q) = %v", k, v, Placeholder(k, v), again, Placeholder(k, again))
			}
			if k == Email && isASCII(v) && Placeholder(k, v) != Placeholder(k, mustNormalize(t, norm, k, strings.ToUpper(v))) {
				t.Fatalf("Placeholder(Email, %q) changes with the case of the address", v)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func mustNormalize(t *testing.T, n *Normalizer, k Kind, raw string) string {
	t.Helper()
	v, err := n.Normalize(k, raw)
	if err != nil {
		t.Skipf("Normalize(%v, %q) error = %v", k, raw, err)
	}
	return v
}

func ExamplePlaceholder() {
	norm, _ := NewNormalizer("US")
	for _, raw := range []string{"TEST@Test.com", "ann@example.com"} {
		v, _ := norm.Normalize(Email, raw)
		fmt.Println(v, Placeholder(Email, v))
	}
	v, _ := norm.Normalize(CustomerID, "#N/A")
	fmt.Println(v, Placeholder(CustomerID, v))
	// Output:
	// test@test.com true
	// ann@example.com false
	// #NA true
}

func ExampleSharedByMany() {
	rows := []string{"Ann Lee", "Lee, Ann", "Bob Ray", "Cy Doe", "Dee Fox", "Eve Kim", "Fay Wu"}
	fmt.Println(SharedByMany(rows[:5], DefaultSharedNameLimit))
	fmt.Println(SharedByMany(rows, DefaultSharedNameLimit))
	// Output:
	// false
	// true
}
