package leads

// Header detection: lists exported from spreadsheets and CRMs often carry a
// preamble above the header (a title, an export date, blank lines), so the
// header is looked for among the first lines instead of assumed to be the
// first. Lists typed by hand or cut from a larger file often have no header
// at all: their first row is a consumer's, and must be read as one.

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// HeaderSearchLines is how many physical lines from the top of a list (or
// rows from the top of a sheet) the header is looked for in.
const HeaderSearchLines = 20

// Headerless is what DetectHeader returns for a list without a header.
const Headerless = -1

// FindHeader returns the index in rows of the header, as DetectHeader
// finds it. It fails with ErrNoHeader when no record qualifies, and also
// when the list is headerless: a caller that can read a headerless list
// calls DetectHeader.
func FindHeader(rows [][]string) (int, error) {
	h, err := DetectHeader(rows)
	if h == Headerless {
		return 0, ErrNoHeader
	}
	return h, err
}

// DetectHeader returns the index in rows (the first records of a list, in
// order, preamble included) of the header: the first record that reads as a
// header (some name with a letter, none that looks like a consumer's data)
// and names at least three quarters of the list's width (else half), so
// that a title or an "Exported: …" line above it is passed over. The width
// is the most common field count of the rows (a ragged row does not change
// it).
//
// It returns Headerless when the rows are a consumer's data from the
// first. A record looks like data when a cell is shaped like an email
// address or is a number of five or more digits that is not a date
// (dataCell); such a record is never the header. The list is headerless
// when no record is a header and some record looks like data; when a
// record that looks like data and fills three quarters of the width comes
// before the header (a preamble holds no consumer's row); and when the
// header names only part of the width and leaves blank every column in
// which the rows below it hold data (a consumer whose phone and email
// cells are blank reads like a header with unnamed columns: "Ann,Lee,,").
// It fails with ErrNoHeader when no record is either.
func DetectHeader(rows [][]string) (int, error) {
	counts := map[int]int{}
	width, freq := 1, 0
	for _, r := range rows {
		n := len(r)
		if n < 2 {
			continue
		}
		counts[n]++
		if counts[n] > freq || counts[n] == freq && n > width {
			width, freq = n, counts[n]
		}
	}
	// A header with unnamed columns is still a header when nothing above
	// it names more: three quarters first, then half.
	needs := [2]int{width - width/4, (width + 1) / 2}
	for i := range needs {
		if width >= 2 {
			needs[i] = max(needs[i], 2)
		}
		needs[i] = max(needs[i], 1)
	}
	header, partial := -1, false
	for pass, need := range needs {
		for i, r := range rows {
			if nonBlank(r) >= need && plausibleHeader(r) && !dataRow(r) {
				header, partial = i, pass > 0
				break
			}
		}
		if header >= 0 {
			break
		}
	}
	data, wide := -1, -1 // the first record that looks like data, and the first that also fills the width
	for i, r := range rows {
		if !dataRow(r) {
			continue
		}
		if data < 0 {
			data = i
		}
		if nonBlank(r) >= needs[0] {
			wide = i
			break
		}
	}
	switch {
	case header < 0 && data >= 0:
		return Headerless, nil
	case header < 0:
		return 0, ErrNoHeader
	case wide >= 0 && wide < header:
		return Headerless, nil
	case partial && namesNoDataColumn(rows[header], rows[header+1:]):
		return Headerless, nil
	}
	return header, nil
}

// ColumnNames returns the header given to a headerless list of n columns:
// "Column 1", "Column 2", … as spreadsheets name unnamed columns.
func ColumnNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "Column " + strconv.Itoa(i+1)
	}
	return names
}

func nonBlank(fields []string) int {
	n := 0
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			n++
		}
	}
	return n
}

// plausibleHeader reports whether a record can be a header: some name has
// a letter and no name looks like a consumer's data.
func plausibleHeader(names []string) bool {
	named := false
	for _, n := range names {
		digits := 0
		for _, c := range n {
			switch {
			case '0' <= c && c <= '9':
				digits++
			case c >= utf8.RuneSelf || ('a' <= c|0x20 && c|0x20 <= 'z'):
				named = true
			}
		}
		if digits >= 7 {
			return false
		}
		if at := strings.IndexByte(n, '@'); at > 0 && strings.IndexByte(n[at:], '.') > 0 {
			return false
		}
	}
	return named
}

// namesNoDataColumn reports whether header leaves blank every column in
// which one of the rows below it holds a cell that looks like data, there
// being at least one such column.
func namesNoDataColumn(header []string, below [][]string) bool {
	found := false
	for _, r := range below {
		for j, f := range r {
			if !dataCell(f) {
				continue
			}
			if j < len(header) && strings.TrimSpace(header[j]) != "" {
				return false
			}
			found = true
		}
	}
	return found
}

func dataRow(fields []string) bool {
	for _, f := range fields {
		if dataCell(f) {
			return true
		}
	}
	return false
}

// dataCell reports whether a cell is shaped like a consumer's data rather
// than a field name or a title: an email address, or a number of five or
// more digits (a phone, an account or customer number, a ZIP code) written
// with nothing but digits, spaces and ( ) + - . / that is not a date. The
// check is by shape only, so that the package stays free of the
// identifiers package and its phone metadata; a header never has such a
// cell.
func dataCell(f string) bool {
	f = strings.TrimSpace(f)
	if at := strings.IndexByte(f, '@'); at > 0 {
		dot := strings.LastIndexByte(f, '.')
		return dot > at+1 && dot < len(f)-1 && !strings.ContainsAny(f, " \t") && strings.Count(f, "@") == 1
	}
	digits := 0
	for i := 0; i < len(f); i++ {
		switch c := f[i]; {
		case '0' <= c && c <= '9':
			digits++
		case c == ' ' || c == '(' || c == ')' || c == '+' || c == '-' || c == '.' || c == '/':
		default:
			return false
		}
	}
	return digits >= 5 && !date(f)
}

// date reports whether f, digits and punctuation only, is a calendar date:
// three groups of digits joined by one of - / . with a four-digit year
// first or last (2026-01-05, 01/05/2026, 5.1.2026).
func date(f string) bool {
	sep := strings.IndexAny(f, "-/.")
	if sep < 0 {
		return false
	}
	parts := strings.Split(f, f[sep:sep+1])
	if len(parts) != 3 {
		return false
	}
	var n [3]int
	for i, p := range parts {
		n[i] = len(p)
		if n[i] == 0 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return n[0] == 4 && n[1] <= 2 && n[2] <= 2 || n[0] <= 2 && n[1] <= 2 && n[2] == 4
}
