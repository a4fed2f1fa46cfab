package identifiers

// Column classification: lead lists name their columns every way a person
// or a dialer can ("Mobile No.", "mobile_no", "PHONE2", "Acct #"), so a
// column's kind is read from its header's words and checked against a
// sample of its values. The header wins where it is explicit, so that a
// ZIP or an account number is never taken for a phone; the values decide
// where it says nothing.

import (
	"strings"
	"unicode"
)

// Source says how a column's kind was decided.
type Source uint8

// Sources.
const (
	ByDefault  Source = iota // nothing recognized: Business
	ByOverride               // the campaign's column map
	ByHeader                 // the header's words
	ByValues                 // the sample values
)

var sourceNames = [...]string{"default", "override", "header", "values"}

// String returns the source's name.
func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "source(?)"
}

// Column is one classified column of a lead list.
type Column struct {
	Index  int
	Header string
	Kind   Kind
	By     Source
}

// Schema is the classification of a lead list's columns, in header order.
type Schema struct {
	Columns []Column
}

// Kind returns the kind of column i, Business for a column beyond the
// header (a ragged record's extra field).
func (s Schema) Kind(i int) Kind {
	if i < 0 || i >= len(s.Columns) {
		return Business
	}
	return s.Columns[i].Kind
}

// Identifiers returns the columns whose kind is indexed.
func (s Schema) Identifiers() []Column {
	var out []Column
	for _, c := range s.Columns {
		if c.Kind.IsIdentifier() {
			out = append(out, c)
		}
	}
	return out
}

// ClassifyOptions tunes Classify.
type ClassifyOptions struct {
	// Overrides maps header names to kinds, overriding the guess: the
	// campaign's column map. A name matches a header exactly or after
	// case, spaces and punctuation are ignored ("Cust ID" ~ "cust_id").
	Overrides map[string]Kind
	// Region reads phone values without a country code; "" is
	// DefaultRegion.
	Region string
}

// Thresholds for deciding from values alone, as a share of the non-blank
// sample values, and the fewest values that can decide.
const (
	valueShare     = 0.9
	contradiction  = 0.5
	minValueSample = 3
)

// Classify returns the kind of every column of a lead list, from its
// header and a sample of its records (the first hundred or so; ragged
// records are fine). It fails only with ErrUnknownRegion.
func Classify(header []string, sample [][]string, opts ClassifyOptions) (Schema, error) {
	phones, err := NewPhoneNormalizer(opts.Region)
	if err != nil {
		return Schema{}, err
	}
	overrides := make(map[string]Kind, len(opts.Overrides))
	for name, k := range opts.Overrides {
		overrides[canonical(name)] = k
	}
	s := Schema{Columns: make([]Column, len(header))}
	for i, h := range header {
		c := Column{Index: i, Header: h}
		if k, ok := opts.Overrides[h]; ok {
			c.Kind, c.By = k, ByOverride
		} else if k, ok := overrides[canonical(h)]; ok {
			c.Kind, c.By = k, ByOverride
		} else {
			c.Kind, c.By = classifyColumn(h, column(sample, i), phones)
		}
		s.Columns[i] = c
	}
	return s, nil
}

// column returns the non-blank values of column i in the sample.
func column(sample [][]string, i int) []string {
	var vs []string
	for _, rec := range sample {
		if i < len(rec) {
			if v := strings.TrimSpace(rec[i]); v != "" {
				vs = append(vs, v)
			}
		}
	}
	return vs
}

func classifyColumn(header string, values []string, phones *PhoneNormalizer) (Kind, Source) {
	k, known := GuessKind(header)
	if known {
		// An explicit header stands unless its values plainly are not
		// that kind ("Phone Type": Mobile, Home; "Email Opt In": Y, N).
		switch k {
		case Phone:
			if len(values) > 0 && share(values, hasPhoneDigits) < contradiction {
				return Business, ByValues
			}
		case Email:
			if len(values) > 0 && share(values, hasAt) < contradiction {
				return Business, ByValues
			}
		}
		return k, ByHeader
	}
	if len(values) < minValueSample {
		return Business, ByDefault
	}
	// A cell may hold several values (SplitValues): it is of a kind when
	// every one of them is.
	if share(values, func(v string) bool {
		return allValues(Email, v, func(p string) bool { _, err := AppendEmail(nil, p); return err == nil })
	}) >= valueShare {
		return Email, ByValues
	}
	var buf []byte
	if share(values, func(v string) bool {
		return allValues(Phone, v, func(p string) bool {
			var err error
			buf, err = phones.Append(buf[:0], p)
			return err == nil && digitCount(p) >= 10
		})
	}) >= valueShare {
		return Phone, ByValues
	}
	return Business, ByDefault
}

// allValues reports whether cell has a value and ok holds for each of its
// values as kind splits them.
func allValues(kind Kind, cell string, ok func(string) bool) bool {
	vs := SplitValues(kind, cell)
	for _, v := range vs {
		if !ok(v) {
			return false
		}
	}
	return len(vs) > 0
}

func share(values []string, ok func(string) bool) float64 {
	n := 0
	for _, v := range values {
		if ok(v) {
			n++
		}
	}
	return float64(n) / float64(len(values))
}

func digitCount(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			n++
		}
	}
	return n
}

func hasPhoneDigits(v string) bool { return digitCount(v) >= 7 }
func hasAt(v string) bool          { return strings.IndexByte(v, '@') > 0 }

// canonical folds a header for comparison: lower-case letters and digits
// only.
func canonical(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '#' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// words splits a header into lower-case words: at spaces and punctuation,
// between a lower-case and an upper-case letter ("CustomerNumber"), and
// between letters and digits ("PHONE2"). "#" is a word of its own, read as
// "number"; "No." and "Nbr" read as "number" too.
func words(h string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, synonym(strings.ToLower(string(cur))))
			cur = cur[:0]
		}
	}
	var prev rune
	for _, r := range h {
		switch {
		case r == '#':
			flush()
			out = append(out, "number")
		case unicode.IsLetter(r):
			if len(cur) > 0 && (unicode.IsDigit(prev) || unicode.IsLower(prev) && unicode.IsUpper(r)) {
				flush()
			}
			cur = append(cur, r)
		case unicode.IsDigit(r):
			if len(cur) > 0 && unicode.IsLetter(prev) {
				flush()
			}
			cur = append(cur, r)
		default:
			flush()
		}
		prev = r
	}
	flush()
	return out
}

var synonyms = map[string]string{
	"no": "number", "num": "number", "nbr": "number", "nr": "number", "nmbr": "number",
	"cust": "customer", "clnt": "client",
	"acct": "account", "acc": "account", "acnt": "account", "accnt": "account",
	"tel": "phone", "telephone": "phone", "ph": "phone", "phn": "phone", "phon": "phone",
	"mob": "mobile", "cel": "cell", "cellular": "cell",
	"addr": "address", "adr": "address", "adress": "address",
	"zipcode": "zip", "postcode": "postal", "postalcode": "postal",
	"fname": "firstname", "lname": "lastname", "mname": "middlename",
	"identifier": "id",
}

func synonym(w string) string {
	if s, ok := synonyms[w]; ok {
		return s
	}
	return w
}

// Words that make a header describe something about an identifier rather
// than the identifier itself ("Phone Type", "Email Opt-In").
var modifiers = set("type", "status", "carrier", "ext", "extension", "consent", "opt", "optin", "optout",
	"flag", "verified", "valid", "validated", "count", "date", "time", "dnc", "source", "provider",
	"domain", "bounce", "bounced", "score", "result", "attempts", "attempt", "line", "owner", "manager",
	"name", "balance", "rep", "executive", "open", "opened", "closed", "code", "prefix", "country",
	"area", "unsubscribed", "subscribed", "permission", "preference", "pref", "sent", "template")

// Words that make a "… name" header a person's name.
var personWords = set("full", "customer", "contact", "consumer", "client", "lead", "member", "borrower",
	"debtor", "person", "primary", "insured", "patient", "holder", "cardholder", "subscriber",
	"prospect", "recipient", "applicant", "guarantor", "account", "display")

func set(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// GuessKind returns the kind a column header names and whether it names
// one at all (false: the header says nothing, let the values decide). It
// never fails.
func GuessKind(header string) (Kind, bool) {
	ws := words(header)
	if len(ws) == 0 {
		return Business, false
	}
	joined := strings.Join(ws, "")
	has := func(w string) bool {
		for _, x := range ws {
			if x == w {
				return true
			}
		}
		return false
	}
	modified := func(except ...string) bool {
		for _, w := range ws {
			if modifiers[w] && !contains(except, w) {
				return true
			}
		}
		return false
	}

	switch {
	// Email first: "Email Address" is no postal address.
	case strings.Contains(joined, "email") || has("mail") && !has("mailing") && len(ws) <= 2 && !has("address"):
		if modified() {
			return Business, true
		}
		return Email, true
	case strings.Contains(joined, "birth") || has("dob") || has("bday") || joined == "born" || has("birthday"):
		return DateOfBirth, true
	case has("ssn") || has("sin") || has("itin") || has("nino") || strings.Contains(joined, "socialsecurity") ||
		strings.Contains(joined, "nationalid") || strings.Contains(joined, "nationalinsurance") ||
		strings.Contains(joined, "taxid") || strings.Contains(joined, "passport") ||
		strings.Contains(joined, "driverlicense") || strings.Contains(joined, "driverslicense"):
		return NationalID, true
	case strings.Contains(joined, "phone") || has("mobile") || has("cell") || has("fax") || has("ani") ||
		has("msisdn") || joined == "contactnumber" || strings.HasPrefix(joined, "mobile") ||
		strings.HasPrefix(joined, "cellphone") || joined == "dialednumber" || joined == "homenumber" ||
		joined == "worknumber":
		if modified() {
			return Business, true
		}
		return Phone, true
	case has("account") || strings.HasPrefix(joined, "account"):
		if has("holder") {
			return FullName, true
		}
		if modified() {
			return Business, true
		}
		return AccountNumber, true
	case (has("policy") || has("loan") || has("contract")) && (has("number") || has("id")):
		return AccountNumber, true
	case (has("customer") || has("client") || has("member") || has("consumer") || has("subscriber")) &&
		(has("id") || has("number") || has("ref") || has("reference") || has("key")) ||
		joined == "customerid" || joined == "clientid" || joined == "custid" || joined == "memberid" ||
		joined == "customernumber":
		return CustomerID, true
	case strings.Contains(joined, "zip") || has("postal") || joined == "postcode" || joined == "plz":
		return PostalCode, true
	case has("city") || has("town") || has("locality") || has("municipality"):
		return City, true
	case has("state") || joined == "st" || has("province") || joined == "prov" || joined == "stateprovince":
		if modified("code", "name") {
			return Business, true
		}
		return State, true
	case has("address") || has("street") || has("apt") || has("apartment") || has("suite") ||
		joined == "address1" || joined == "address2":
		if has("ip") || has("web") || has("url") || has("mac") {
			return Business, true
		}
		return Address, true
	case has("firstname") || (has("first") || has("given") || has("middle")) && (has("name") || len(ws) == 1) ||
		has("forename") || has("middlename") || joined == "mi" || joined == "middleinitial":
		return FirstName, true
	case has("lastname") || has("last") && (has("name") || len(ws) == 1) || has("surname") || has("family") && has("name"):
		return LastName, true
	case joined == "fullname" || joined == "name" || has("name") && allIn(ws, personWords, "name"):
		return FullName, true
	}
	return Business, false
}

func contains(ws []string, w string) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// allIn reports whether every word but except is in the set.
func allIn(ws []string, in map[string]bool, except string) bool {
	for _, w := range ws {
		if w != except && !in[w] {
			return false
		}
	}
	return true
}
