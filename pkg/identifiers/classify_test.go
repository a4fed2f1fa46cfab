package identifiers

import (
	"strings"
	"testing"
)

func TestGuessKind(t *testing.T) {
	tests := []struct {
		header    string
		want      Kind
		wantKnown bool
	}{
		{"Mobile No.", Phone, true},
		{"mobile_no", Phone, true},
		{"PHONE2", Phone, true},
		{"Phone Number", Phone, true},
		{"PhoneNumber", Phone, true},
		{"Cell", Phone, true},
		{"Tel", Phone, true},
		{"Telephone #", Phone, true},
		{"Home Phone", Phone, true},
		{"AltPhone", Phone, true},
		{"work_tel", Phone, true},
		{"Fax", Phone, true},
		{"ANI", Phone, true},
		{"Phone Type", Business, true},
		{"phone_ext", Business, true},
		{"Mobile Carrier", Business, true},
		{"Phone Country Code", Business, true},
		{"email_address", Email, true},
		{"E-mail", Email, true},
		{"EMAIL", Email, true},
		{"EmailAddress", Email, true},
		{"Email Opt-In", Business, true},
		{"email_status", Business, true},
		{"Cust ID", CustomerID, true},
		{"customer_id", CustomerID, true},
		{"CustomerNumber", CustomerID, true},
		{"Customer No", CustomerID, true},
		{"Client ID", CustomerID, true},
		{"Member Number", CustomerID, true},
		{"Acct #", AccountNumber, true},
		{"acct", AccountNumber, true},
		{"account_no", AccountNumber, true},
		{"Account Number", AccountNumber, true},
		{"AccountID", AccountNumber, true},
		{"Customer Account Number", AccountNumber, true},
		{"Policy Number", AccountNumber, true},
		{"Account Status", Business, true},
		{"Account Manager", Business, true},
		{"Account Holder", FullName, true},
		{"First Name", FirstName, true},
		{"fname", FirstName, true},
		{"FirstName", FirstName, true},
		{"Given Name", FirstName, true},
		{"Middle Name", FirstName, true},
		{"lname", LastName, true},
		{"Last Name", LastName, true},
		{"Surname", LastName, true},
		{"Name", FullName, true},
		{"Full Name", FullName, true},
		{"Customer Name", FullName, true},
		{"Company Name", Business, false},
		{"Last Call Date", Business, false},
		{"DOB", DateOfBirth, true},
		{"Date of Birth", DateOfBirth, true},
		{"birth_date", DateOfBirth, true},
		{"Zip", PostalCode, true},
		{"ZIP+4", PostalCode, true},
		{"zipcode", PostalCode, true},
		{"Postal Code", PostalCode, true},
		{"Postcode", PostalCode, true},
		{"Address Line 1", Address, true},
		{"Address2", Address, true},
		{"Street Address", Address, true},
		{"Mailing Address", Address, true},
		{"IP Address", Business, true},
		{"City", City, true},
		{"Town", City, true},
		{"State", State, true},
		{"ST", State, true},
		{"State Code", State, true},
		{"Province", State, true},
		{"Status", Business, false},
		{"SSN", NationalID, true},
		{"Social Security Number", NationalID, true},
		{"Campaign", Business, false},
		{"Amount Due", Business, false},
		{"", Business, false},
		{"Contact", Business, false},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			got, known := GuessKind(tc.header)
			if got != tc.want || known != tc.wantKnown {
				t.Fatalf("GuessKind(%q) = %v, %v; want %v, %v", tc.header, got, known, tc.want, tc.wantKnown)
			}
		})
	}
}

// col repeats values to make a sample column.
func col(values ...string) []string { return values }

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		header    string
		values    []string
		overrides map[string]Kind
		want      Kind
		wantBy    Source
	}{
		{"acct with ten-digit values is an account", "acct", col("2125551234", "3125550000", "4155550100", "6175550123"), nil, AccountNumber, ByHeader},
		{"account number that looks like phones", "Account Number", col("(212) 555-1234", "312-555-0000", "415.555.0100"), nil, AccountNumber, ByHeader},
		{"zip with 5 and 9 digits", "zip", col("10001", "100011234", "60614-1234", "94105"), nil, PostalCode, ByHeader},
		{"customer id with phone-like values", "Cust ID", col("2125551234", "3125550000", "4155550100"), nil, CustomerID, ByHeader},
		{"unnamed column of phones", "", col("(212) 555-1234", "312-555-0000", "+1 415 555 0100", "617.555.0123"), nil, Phone, ByValues},
		{"odd header, bare ten-digit phones", "Primary", col("2125551234", "3125550000", "4155550100", "6175550123"), nil, Phone, ByValues},
		{"odd header, random ten-digit numbers", "Ref", col("1000000001", "1000000002", "0999999999", "1234567890"), nil, Business, ByDefault},
		{"odd header, mixed values", "Contact", col("(212) 555-1234", "n/a", "call back", "x"), nil, Business, ByDefault},
		{"odd header, emails", "Contact", col("ann@example.com", "BOB@Example.org", " cy@example.net "), nil, Email, ByValues},
		{"odd header, several emails per cell", "Contact", col("ann@example.com; ann@example.org", "BOB@Example.org", "cy@example.net, c@example.com"), nil, Email, ByValues},
		{"odd header, several phones per cell", "Primary", col("2125551234 / 2125551235", "3125550000", "4155550100 or 4155550101", "6175550123"), nil, Phone, ByValues},
		{"odd header, five-digit numbers", "Code", col("10001", "60614", "94105", "02134"), nil, Business, ByDefault},
		{"too few values to decide", "Other", col("(212) 555-1234"), nil, Business, ByDefault},
		{"phone header, values not phones", "Phone Kind Label", col("Mobile", "Home", "Work"), nil, Business, ByValues},
		{"mail header with Y/N values", "Mail", col("Y", "N", "Y"), nil, Business, ByValues},
		{"email header, some bad values", "Email", col("ann@example.com", "bob@example", "cy@example.net"), nil, Email, ByHeader},
		{"phone header, empty sample", "Phone", nil, nil, Phone, ByHeader},
		{"override wins over header", "Ref", col("x"), map[string]Kind{"Ref": CustomerID}, CustomerID, ByOverride},
		{"override matched loosely", "Cust. Ref #", col("x"), map[string]Kind{"cust_ref#": AccountNumber}, AccountNumber, ByOverride},
		{"override to business", "Phone", col("(212) 555-1234", "312-555-0000", "415.555.0100"), map[string]Kind{"phone": Business}, Business, ByOverride},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := []string{"Other Column", tc.header}
			var sample [][]string
			for _, v := range tc.values {
				sample = append(sample, []string{"x", v})
			}
			s, err := Classify(header, sample, ClassifyOptions{Overrides: tc.overrides})
			if err != nil {
				t.Fatalf("Classify error = %v", err)
			}
			if got := s.Columns[1]; got.Kind != tc.want || got.By != tc.wantBy {
				t.Fatalf("column %q = %v by %v, want %v by %v", tc.header, got.Kind, got.By, tc.want, tc.wantBy)
			}
		})
	}
}

func TestClassifyListAndRagged(t *testing.T) {
	header := []string{"First Name", "lname", "Mobile No.", "E-mail", "Cust ID", "Acct #", "Address Line 1", "City", "State", "Zip", "DOB", "Campaign", "Notes"}
	sample := [][]string{
		{"Ann", "Lee", "(212) 555-1234", "ann@example.com", "C-1", "000123", "1 Main St", "Springfield", "IL", "62704", "1980-01-02", "Spring", "x"},
		{"Bob", "Ray", "312-555-0000"}, // ragged
	}
	s, err := Classify(header, sample, ClassifyOptions{})
	if err != nil {
		t.Fatalf("Classify error = %v", err)
	}
	want := []Kind{FirstName, LastName, Phone, Email, CustomerID, AccountNumber, Address, City, State, PostalCode, DateOfBirth, Business, Business}
	for i, w := range want {
		if got := s.Kind(i); got != w {
			t.Errorf("Kind(%d) (%q) = %v, want %v", i, header[i], got, w)
		}
	}
	if got := s.Kind(len(header)); got != Business {
		t.Errorf("Kind beyond header = %v, want Business", got)
	}
	var ids []Kind
	for _, c := range s.Identifiers() {
		ids = append(ids, c.Kind)
	}
	if got, want := len(ids), 4; got != want {
		t.Fatalf("Identifiers() = %v, want %d columns", ids, want)
	}
}

func TestClassifyUnknownRegion(t *testing.T) {
	if _, err := Classify([]string{"a"}, nil, ClassifyOptions{Region: "XX"}); err == nil {
		t.Fatalf("Classify with region XX error = nil, want ErrUnknownRegion")
	}
}

func FuzzClassify(f *testing.F) {
	f.Add("Mobile No.", "(212) 555-1234", "acct")
	f.Add("", "ann@example.com", "E-mail")
	f.Add("ÄÖÜ #1", "\xff\xfe", "CustomerNumber")
	f.Fuzz(func(t *testing.T, h1, v, h2 string) {
		s, err := Classify([]string{h1, h2}, [][]string{{v, v}, {v}, {v, v, v}}, ClassifyOptions{})
		if err != nil {
			t.Fatalf("Classify error = %v", err)
		}
		for _, c := range s.Columns {
			if c.Kind >= numKinds {
				t.Fatalf("column %d kind %d out of range", c.Index, c.Kind)
			}
			// The header alone decides where it is explicit.
			if k, known := GuessKind(c.Header); known && c.By == ByHeader && c.Kind != k {
				t.Fatalf("column %q = %v by header, GuessKind = %v", c.Header, c.Kind, k)
			}
		}
		if strings.TrimSpace(h1) == "" && s.Columns[0].By == ByHeader {
			t.Fatalf("blank header classified by header")
		}
	})
}
