package requests

// The jurisdiction table: the one place Veil's deadlines come from. Every
// row cites the provisions it encodes in Source, so a reviewer can check a
// number against its law without reading code; a deployment overrides a
// number by configuration (ParseOverrides), never by editing a caller.
//
// Where a law counts "days" without saying business days, the row counts
// calendar days. Where a law lets the controller extend "when reasonably
// necessary", the row carries the extension and ExtensionNeedsNotice says
// the consumer must be told (with reasons) before the first due date.

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/veil-privacy/veil/pkg/veil"
)

// Jurisdiction is one law's clock for privacy requests.
type Jurisdiction struct {
	Code   string // "CA", "EU", "UK", or a US state's postal code
	Name   string
	Law    string
	Source string // the statute or regulation sections the periods come from

	// Acknowledge is the deadline for confirming receipt, where the law
	// sets one (zero otherwise).
	Acknowledge Period
	// Respond is the deadline for responding to a request.
	Respond Period
	// Extension is how much longer the controller may take, once (zero
	// when the law allows none).
	Extension Period
	// ExtensionNeedsNotice: the consumer must be told of the extension,
	// and why, before the first due date.
	ExtensionNeedsNotice bool
	// OptOut is a shorter deadline for opt-outs where the law sets one
	// (zero: opt-outs run on Respond).
	OptOut Period
	// Appeal is the deadline for deciding an appeal of a refusal; nil
	// where the law grants no appeal to the controller.
	Appeal *Period
	// AppealExtension is how much longer an appeal decision may take
	// (zero when the law allows none).
	AppealExtension Period
	// AppealContact is where a consumer whose appeal is denied (or, with
	// no appeal right, whose request is refused) may complain: the text a
	// notice carries.
	AppealContact string
}

func days(n int) Period         { return Period{Days: n} }
func months(n int) Period       { return Period{Months: n} }
func businessDays(n int) Period { return Period{Days: n, Business: true} }
func appealDays(n int) *Period  { p := days(n); return &p }
func usState(code, name, law, source string, appeal *Period, contact string) Jurisdiction {
	return Jurisdiction{
		Code: code, Name: name, Law: law, Source: source,
		Respond: days(45), Extension: days(45), ExtensionNeedsNotice: true,
		Appeal: appeal, AppealContact: contact,
	}
}

// defaultRows is the table. A row marked "unverified" cites its sections
// from the drafter's knowledge of the statute, not from its text; those
// citations (not the periods, which match the laws' well-known pattern)
// want a check against the official code before a notice quotes them.
func defaultRows() []Jurisdiction {
	// CO: unverified: subsections.
	co := usState("CO", "Colorado", "Colorado Privacy Act",
		"Colo. Rev. Stat. § 6-1-1306(2) (45 days, +45 with notice); § 6-1-1306(3) (appeal: 45 days, +60 with notice)",
		appealDays(45), "Colorado Attorney General — https://coag.gov")
	co.AppealExtension = days(60)
	// MN: section checked; subdivisions unverified.
	mn := usState("MN", "Minnesota", "Minnesota Consumer Data Privacy Act",
		"Minn. Stat. § 325M.14 (45 days, +45 with notice; appeal: 45 days, +60 with notice)",
		appealDays(45), "Minnesota Attorney General — https://www.ag.state.mn.us")
	mn.AppealExtension = days(60)
	// IA: unverified: subsections.
	ia := usState("IA", "Iowa", "Iowa Consumer Data Protection Act",
		"Iowa Code § 715D.3 (90 days, +45 with notice; appeal: 60 days)",
		appealDays(60), "Iowa Attorney General — https://www.iowaattorneygeneral.gov")
	ia.Respond = days(90)

	return []Jurisdiction{
		{
			Code: "CA", Name: "California", Law: "CCPA as amended by the CPRA",
			Source: "Cal. Civ. Code § 1798.130(a)(2) (45 days, +45 once with notice); " +
				"11 CCR § 7021 (confirm receipt within 10 business days; 45 calendar days from receipt, +45 with notice, 90 at most); " +
				"11 CCR § 7026(f) (opt-out of sale/sharing: 15 business days)",
			Acknowledge: businessDays(10), Respond: days(45), Extension: days(45), ExtensionNeedsNotice: true,
			OptOut:        businessDays(15),
			AppealContact: "California Privacy Protection Agency — https://cppa.ca.gov; California Attorney General — https://oag.ca.gov/privacy",
		},
		{
			Code: "EU", Name: "European Union", Law: "General Data Protection Regulation (EU) 2016/679",
			Source: "GDPR Art. 12(3) (one month, +2 months with reasons given within the first month); " +
				"Regulation (EEC, Euratom) No 1182/71 Art. 3 (counting months)",
			Respond: months(1), Extension: months(2), ExtensionNeedsNotice: true,
			AppealContact: "a supervisory authority, and the courts (GDPR Art. 12(4), 77, 79) — https://www.edpb.europa.eu/about-edpb/about-edpb/members_en",
		},
		{
			Code: "UK", Name: "United Kingdom", Law: "UK GDPR and the Data Protection Act 2018",
			Source:  "UK GDPR Art. 12(3) (one month, +2 months with reasons given within the first month)",
			Respond: months(1), Extension: months(2), ExtensionNeedsNotice: true,
			AppealContact: "Information Commissioner's Office — https://ico.org.uk/make-a-complaint/",
		},
		// VA: unverified: subsection letters.
		usState("VA", "Virginia", "Virginia Consumer Data Protection Act",
			"Va. Code Ann. § 59.1-577(B) (45 days, +45 with notice); § 59.1-577(C) (appeal: 60 days)",
			appealDays(60), "Virginia Attorney General — https://www.oag.state.va.us"),
		co,
		// CT: unverified: section number (the CTDPA is codified at §§ 42-515 et seq.).
		usState("CT", "Connecticut", "Connecticut Data Privacy Act",
			"Conn. Gen. Stat. § 42-518(c) (45 days, +45 with notice); § 42-518(d) (appeal: 60 days)",
			appealDays(60), "Connecticut Attorney General — https://portal.ct.gov/ag"),
		// UT: unverified: subsection.
		usState("UT", "Utah", "Utah Consumer Privacy Act",
			"Utah Code Ann. § 13-61-203(4) (45 days, +45 with notice); no appeal right",
			nil, "Utah Division of Consumer Protection — https://dcp.utah.gov"),
		// TX: unverified: subsection.
		usState("TX", "Texas", "Texas Data Privacy and Security Act",
			"Tex. Bus. & Com. Code § 541.052(b) (45 days, +45 with notice); § 541.053 (appeal: 60 days)",
			appealDays(60), "Texas Attorney General — https://www.texasattorneygeneral.gov"),
		// OR: response subsection unverified; appeal (6)(d), 45 days, checked.
		usState("OR", "Oregon", "Oregon Consumer Privacy Act",
			"Or. Rev. Stat. § 646A.576(5) (45 days, +45 with notice); § 646A.576(6)(d) (appeal: 45 days)",
			appealDays(45), "Oregon Department of Justice — https://www.doj.state.or.us/consumer-protection/"),
		// MT: (4)(a) checked; appeal subsection unverified.
		usState("MT", "Montana", "Montana Consumer Data Privacy Act",
			"Mont. Code Ann. § 30-14-2808(4)(a) (45 days, +45 with notice); § 30-14-2808 appeals (60 days)",
			appealDays(60), "Montana Department of Justice, Office of Consumer Protection — https://dojmt.gov/consumer/"),
		// DE: (c)(1) checked; appeal subsection from a secondary source.
		usState("DE", "Delaware", "Delaware Personal Data Privacy Act",
			"Del. Code Ann. tit. 6, § 12D-104(c)(1) (45 days, +45 with notice); § 12D-104(d) (appeal: 60 days)",
			appealDays(60), "Delaware Department of Justice — https://attorneygeneral.delaware.gov"),
		// NJ: § 56:8-166.7(a) checked; the appeal section and its 60 days unverified.
		usState("NJ", "New Jersey", "New Jersey Data Privacy Act",
			"N.J. Stat. Ann. § 56:8-166.7(a) (45 days, +45 with notice); appeal process under P.L. 2023, c. 266 (60 days)",
			appealDays(60), "New Jersey Division of Consumer Affairs — https://www.njconsumeraffairs.gov"),
		// NH: unverified: section number.
		usState("NH", "New Hampshire", "New Hampshire Privacy Act",
			"N.H. Rev. Stat. Ann. § 507-H:4 (45 days, +45 with notice; appeal: 60 days)",
			appealDays(60), "New Hampshire Attorney General — https://www.doj.nh.gov"),
		// NE: § 87-1108(2) checked; § 87-1109 is the appeal section, its 60 days unverified.
		usState("NE", "Nebraska", "Nebraska Data Privacy Act",
			"Neb. Rev. Stat. § 87-1108(2) (45 days, +45 with notice); § 87-1109 (appeal: 60 days)",
			appealDays(60), "Nebraska Attorney General — https://ago.nebraska.gov"),
		// TN: unverified: section number.
		usState("TN", "Tennessee", "Tennessee Information Protection Act",
			"Tenn. Code Ann. § 47-18-3304 (45 days, +45 with notice; appeal: 60 days)",
			appealDays(60), "Tennessee Attorney General — https://www.tn.gov/attorneygeneral"),
		mn,
		// MD: section checked; subsection unverified.
		usState("MD", "Maryland", "Maryland Online Data Privacy Act",
			"Md. Code Ann., Com. Law § 14-4605 (45 days, +45 with notice; appeal: 60 days)",
			appealDays(60), "Maryland Attorney General, Consumer Protection Division — https://www.marylandattorneygeneral.gov"),
		// IN: unverified: the appeal is in the same chapter, section unverified.
		usState("IN", "Indiana", "Indiana Consumer Data Protection Act",
			"Ind. Code § 24-15-3-1 (45 days, +45 with notice; appeal: 60 days)",
			appealDays(60), "Indiana Attorney General — https://www.in.gov/attorneygeneral"),
		// KY: section checked; subsection (4) from a secondary source.
		usState("KY", "Kentucky", "Kentucky Consumer Data Protection Act",
			"Ky. Rev. Stat. § 367.3615 (45 days, +45 with notice; appeal: 60 days, subsection (4))",
			appealDays(60), "Kentucky Attorney General — https://www.ag.ky.gov"),
		// RI: unverified: section number and the appeal period.
		usState("RI", "Rhode Island", "Rhode Island Data Transparency and Privacy Protection Act",
			"R.I. Gen. Laws § 6-48.1-5 (45 days, +45 with notice; appeal: 60 days)",
			appealDays(60), "Rhode Island Attorney General — https://riag.ri.gov"),
		ia,
	}
}

// Table is a set of jurisdictions by code. The zero Table is empty; use
// Default. A Table is never changed in place: With returns a new one, so a
// Table can be shared between goroutines.
type Table struct {
	byCode map[string]Jurisdiction
}

// Default returns the table as the laws set it, with no overrides.
func Default() Table {
	t := Table{byCode: map[string]Jurisdiction{}}
	for _, j := range defaultRows() {
		t.byCode[j.Code] = j
	}
	return t
}

// Lookup returns the jurisdiction with code (case and surrounding space
// ignored), or a *veil.ValidationError for field "jurisdiction" when the
// table has none.
func (t Table) Lookup(code string) (Jurisdiction, error) {
	j, ok := t.byCode[strings.ToUpper(strings.TrimSpace(code))]
	if !ok {
		return Jurisdiction{}, veil.Invalid("jurisdiction", "no deadlines are known for this jurisdiction")
	}
	return j.clone(), nil
}

// Jurisdictions returns every row, ordered by code.
func (t Table) Jurisdictions() []Jurisdiction {
	codes := slices.Sorted(maps.Keys(t.byCode))
	out := make([]Jurisdiction, len(codes))
	for i, c := range codes {
		out[i] = t.byCode[c].clone()
	}
	return out
}

// Lookup returns the jurisdiction with code from the Default table; see
// Table.Lookup.
func Lookup(code string) (Jurisdiction, error) { return Default().Lookup(code) }

// clone copies j so that a caller writing through j.Appeal cannot change a
// table.
func (j Jurisdiction) clone() Jurisdiction {
	if j.Appeal != nil {
		p := *j.Appeal
		j.Appeal = &p
	}
	return j
}

// Override replaces one period of one jurisdiction.
type Override struct {
	Code  string // a code the table has
	Field string // respond, extension, acknowledge, optout, appeal, appealextension
	// Period is the new value. For appeal, a zero Period withdraws the
	// appeal right (Appeal becomes nil).
	Period Period
}

var overrideFields = []string{"respond", "extension", "acknowledge", "optout", "appeal", "appealextension"}

// With returns a copy of t with overrides applied in order; t is
// unchanged. It returns a *veil.ValidationError for field "overrides",
// naming the item, when an override names a code t does not have or an
// unknown field, sets a respond period of zero, or is out of the bounds
// ParsePeriod enforces.
func (t Table) With(overrides ...Override) (Table, error) {
	out := Table{byCode: make(map[string]Jurisdiction, len(t.byCode))}
	for c, j := range t.byCode {
		out.byCode[c] = j.clone()
	}
	for i, o := range overrides {
		code := strings.ToUpper(strings.TrimSpace(o.Code))
		field := strings.ToLower(strings.TrimSpace(o.Field))
		bad := func(format string, args ...any) error {
			return veil.Invalid("overrides", "item %d (%s.%s): %s", i+1, clip(code), clip(field), fmt.Sprintf(format, args...))
		}
		j, ok := out.byCode[code]
		if !ok {
			return Table{}, bad("no jurisdiction has this code")
		}
		p := o.Period
		if err := checkPeriod(p); err != nil {
			return Table{}, bad("%s", err)
		}
		switch field {
		case "respond":
			if p.IsZero() {
				return Table{}, bad("a response period cannot be zero")
			}
			j.Respond = p
		case "extension":
			j.Extension = p
		case "acknowledge":
			j.Acknowledge = p
		case "optout":
			j.OptOut = p
		case "appeal":
			j.Appeal = nil
			if !p.IsZero() {
				j.Appeal = &p
			}
		case "appealextension":
			j.AppealExtension = p
		default:
			return Table{}, bad("unknown field (must be one of %s)", strings.Join(overrideFields, ", "))
		}
		out.byCode[code] = j
	}
	return out, nil
}

func checkPeriod(p Period) error {
	switch {
	case p.Days < 0 || p.Months < 0:
		return fmt.Errorf("a period cannot be negative")
	case p.Days > maxPeriodDays || p.Months > maxPeriodMonths:
		return fmt.Errorf("a period can be at most %d days or %d months", maxPeriodDays, maxPeriodMonths)
	case p.Business && p.Months != 0:
		return fmt.Errorf("business days cannot be combined with months")
	}
	return nil
}

// ParseOverrides returns the Default table with the overrides s lists
// applied: comma-separated CODE.field=period items, such as
// "CA.respond=45d,EU.respond=1m,VA.appeal=60d,CA.optout=15bd", where
// period is as ParsePeriod reads it and "appeal=none" withdraws an appeal
// right. Codes are case-insensitive; empty items are skipped, so a
// trailing comma is harmless, and an empty s gives the Default table. It
// returns a *veil.ValidationError for field "overrides", naming the item
// by position and key, when an item is malformed, sets one key twice, or
// With refuses it.
func ParseOverrides(s string) (Table, error) {
	var overrides []Override
	seen := map[string]bool{}
	n := 0
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		n++
		key, value, ok := strings.Cut(item, "=")
		code, field, dotted := strings.Cut(strings.TrimSpace(key), ".")
		code = strings.ToUpper(strings.TrimSpace(code))
		field = strings.ToLower(strings.TrimSpace(field))
		if !ok || !dotted || code == "" || field == "" {
			return Table{}, veil.Invalid("overrides", "item %d: must be CODE.field=period, such as CA.respond=45d", n)
		}
		name := clip(code) + "." + clip(field)
		if seen[code+"."+field] {
			return Table{}, veil.Invalid("overrides", "item %d (%s): set more than once", n, name)
		}
		seen[code+"."+field] = true
		value = strings.TrimSpace(value)
		var p Period
		if !(field == "appeal" && strings.EqualFold(value, "none")) {
			var err error
			if p, err = ParsePeriod(value); err != nil {
				reason := err.Error()
				if ve := (*veil.ValidationError)(nil); errors.As(err, &ve) {
					reason = ve.Reason
				}
				return Table{}, veil.Invalid("overrides", "item %d (%s): period %s", n, name, reason)
			}
			if field == "appeal" && p.IsZero() {
				return Table{}, veil.Invalid("overrides", `item %d (%s): write "none" to withdraw an appeal right`, n, name)
			}
		}
		overrides = append(overrides, Override{Code: code, Field: field, Period: p})
	}
	return Default().With(overrides...)
}

// clip keeps an echoed key short: configuration is not personal data, but
// an error message is no place for a kilobyte of it.
func clip(s string) string {
	const max = 24
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}
