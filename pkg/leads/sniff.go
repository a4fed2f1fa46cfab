package leads

// Delimiter sniffing: lead lists arrive from many tools, and the delimiter
// is whatever the exporting spreadsheet or dialer chose.

// candidates are the delimiters a lead list may use, in order of preference
// when the evidence is equal.
var candidates = [...]byte{',', ';', '\t', '|'}

// sniffLines is how many lines of the sample are compared.
const sniffLines = 50

// Sniff guesses the delimiter of CSV text from a sample of its first lines:
// the candidate (comma, semicolon, tab, pipe) that appears the same number
// of times, outside quotes, in the most lines. Lines that do not have it
// at all (a title or an export date above the header) count against it
// but do not disqualify it. atEOF says the sample holds the whole input, so
// its last line is complete. Sniff returns ',' when no candidate appears (a
// one-column list).
func Sniff(sample []byte, atEOF bool) rune {
	var counts [sniffLines][len(candidates)]int
	lines := 0
	var cur [len(candidates)]int
	inQuote, blank := false, true
	for _, c := range sample {
		if c == '"' {
			inQuote = !inQuote
			blank = false
			continue
		}
		if inQuote {
			continue
		}
		switch c {
		case '\n':
			if !blank {
				counts[lines] = cur
				lines++
			}
			cur = [len(candidates)]int{}
			blank = true
			if lines == sniffLines {
				return pick(counts[:lines])
			}
			continue
		case '\r':
			continue
		}
		blank = false
		for i, d := range candidates {
			if c == d {
				cur[i]++
			}
		}
	}
	// A last line cut off by the sample's end is only used when it is the
	// only evidence there is.
	if !blank && (atEOF || lines == 0) {
		counts[lines] = cur
		lines++
	}
	return pick(counts[:lines])
}

// pick chooses among the candidates given their per-line counts: for each,
// the most frequent non-zero count per line (its field layout), scored by
// how many lines share it, then by how many fields it makes.
func pick(counts [][len(candidates)]int) rune {
	best, bestScore := byte(','), -1
	for i, d := range candidates {
		mode, freq := 0, 0
		for _, l := range counts {
			c := l[i]
			if c == 0 || c == mode {
				continue
			}
			n := 0
			for _, m := range counts {
				if m[i] == c {
					n++
				}
			}
			if n > freq || n == freq && c > mode {
				mode, freq = c, n
			}
		}
		if freq == 0 {
			continue
		}
		score := freq*1000/len(counts)*1000 + min(mode, 999)
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return rune(best)
}
