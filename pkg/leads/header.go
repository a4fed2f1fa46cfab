package leads

// Header detection: lists exported from spreadsheets and CRMs often carry a
// preamble above the header (a title, an export date, blank lines), so the
// header is looked for among the first lines instead of assumed to be the
// first.

import "strings"

// HeaderSearchLines is how many physical lines from the top of a list (or
// rows from the top of a sheet) the header is looked for in.
const HeaderSearchLines = 20

// FindHeader returns the index in rows (the first records of a list, in
// order, preamble included) of the header: the first record that reads as a
// header (some name, none that looks like a consumer's data) and names at
// least half as many columns as the widest record seen, so that a title or
// an "Exported: …" line above it is passed over. It fails with ErrNoHeader
// when no record qualifies.
func FindHeader(rows [][]string) (int, error) {
	widest := 0
	for _, r := range rows {
		widest = max(widest, nonBlank(r))
	}
	need := max(1, (widest+1)/2)
	if widest >= 2 {
		need = max(need, 2)
	}
	for i, r := range rows {
		if nonBlank(r) >= need && plausibleHeader(r) {
			return i, nil
		}
	}
	return 0, ErrNoHeader
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
