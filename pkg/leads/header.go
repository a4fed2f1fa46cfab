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
// header (some name with a letter, none that looks like a consumer's data)
// and names at least three quarters of the list's width (else half), so
// that a title or an "Exported: …" line above it is passed over. The width is the most
// common field count of the rows (a ragged row does not change it). It
// fails with ErrNoHeader when no record qualifies.
func FindHeader(rows [][]string) (int, error) {
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
	for _, need := range []int{width - width/4, (width + 1) / 2} {
		if width >= 2 {
			need = max(need, 2)
		}
		for i, r := range rows {
			if nonBlank(r) >= max(need, 1) && plausibleHeader(r) {
				return i, nil
			}
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
