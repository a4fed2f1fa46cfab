// Package formula keeps spreadsheets from running what a cell holds. A
// cell of a CSV export, or a value corrected into a lead list, is shown by
// a spreadsheet, which runs a cell that looks like a formula: a consumer's
// own data, or a list's, must never run.
package formula

import "strings"

// formulaStarts are the characters that make a spreadsheet take a cell for
// a formula, after any leading spaces (OWASP's CSV-injection guidance).
const formulaStarts = "=+-@\t\r"

// Neutralize returns s as a spreadsheet shows it without running it: a
// cell a spreadsheet would take for a formula (its first character after
// any leading spaces is =, +, -, @, a tab or a carriage return) gets a
// single quote in front (OWASP's CSV-injection guidance); any other value is returned unchanged.
func Neutralize(s string) string {
	if Dangerous(s) {
		return "'" + s
	}
	return s
}

// Dangerous reports whether a spreadsheet would run s as a formula.
func Dangerous(s string) bool {
	s = strings.TrimLeft(s, " ")
	return s != "" && strings.IndexByte(formulaStarts, s[0]) >= 0
}
