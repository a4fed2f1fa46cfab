package rewrite

// Field boundaries: where each cell of one record lies in the record's own
// bytes. leads reads a record with encoding/csv, or, when strict parsing
// fails, with its lenient split; these are the same two readings, ported
// to return the span of every field instead of its value. They run on the
// record's view (one byte per code unit, see codec.view), so that a span is
// a range of code units of the original bytes, whatever the encoding.
// Whatever they find is checked against what leads read before anything is
// spliced.

import (
	"bytes"
	"strings"
)

// span is one field's place in a record, in code units: [start, end), a
// quoted field's quotes included, its delimiter and the line end excluded.
type span struct {
	start, end int
	quoted     bool // the field is a quoted field
	closed     bool // and a closing quote ends it (it may not, with LazyQuotes)
}

// splitStrict returns the spans of the fields of v, one record's view, as
// encoding/csv reads them (Comma delim, LazyQuotes lazy, no comments, no
// leading-space trimming), and false when v is not exactly one record that
// encoding/csv reads without error.
func splitStrict(v []byte, delim byte, lazy bool, spans []span) ([]span, bool) {
	n := len(v)
	if n > 0 && v[n-1] == '\r' {
		n-- // encoding/csv drops a CR that ends the input
	}
	// line returns the end of the content of the line at p (before its
	// "\n" or "\r\n") and the start of the next line.
	line := func(p int) (ce, next int, nl bool) {
		i := bytes.IndexByte(v[p:n], '\n')
		if i < 0 {
			return n, n, false
		}
		ce, next = p+i, p+i+1
		if ce > p && v[ce-1] == '\r' {
			ce--
		}
		return ce, next, true
	}
	// Blank lines before the record are skipped (leads' byte ranges start
	// after them, but encoding/csv reads a record so).
	pos := 0
	ce, next, nl := line(0)
	for ce == pos && nl {
		pos = next
		ce, next, nl = line(pos)
	}
	if pos == n {
		return spans, false // no record
	}
fields:
	for {
		if pos == ce || v[pos] != '"' {
			end := ce
			i := bytes.IndexByte(v[pos:ce], delim)
			if i >= 0 {
				end = pos + i
			}
			if !lazy && bytes.IndexByte(v[pos:end], '"') >= 0 {
				return spans, false // a bare quote
			}
			spans = append(spans, span{start: pos, end: end})
			if i < 0 {
				break fields
			}
			pos = end + 1
			continue
		}
		start := pos
		pos++
		for {
			if i := bytes.IndexByte(v[pos:ce], '"'); i >= 0 {
				pos += i + 1
				switch {
				case pos < ce && v[pos] == '"':
					pos++ // a doubled quote
				case pos < ce && v[pos] == delim:
					spans = append(spans, span{start: start, end: pos, quoted: true, closed: true})
					pos++
					continue fields
				case pos == ce:
					spans = append(spans, span{start: start, end: pos, quoted: true, closed: true})
					break fields
				case !lazy:
					return spans, false // a quote inside a quoted field
				}
				continue
			}
			if next == n {
				// The input ends inside the quotes.
				if !lazy {
					return spans, false
				}
				spans = append(spans, span{start: start, end: n, quoted: true})
				break fields
			}
			// The field goes on on the next line.
			pos = next
			ce, next, _ = line(pos)
		}
	}
	return spans, next == n
}

// splitLenient returns the spans of the fields of v, one line's view, as
// leads' lenient split reads them: a field is quoted only when it starts
// with a quote; inside it "" is a quote and a quote followed by the
// delimiter or the line's end closes it, any other quote being a
// character; a quoted field still open at the line's end is read again as
// unquoted, its opening quote a character.
func splitLenient(v []byte, delim byte, spans []span) []span {
	n := len(v)
	if n > 0 && v[n-1] == '\n' {
		n--
	}
	if n > 0 && v[n-1] == '\r' {
		n--
	}
	v = v[:n]
	for i := 0; ; {
		if i < n && v[i] == '"' {
			if next, ok := closeQuoted(v, i+1, delim); ok {
				spans = append(spans, span{start: i, end: next, quoted: true, closed: true})
				if next >= n {
					return spans
				}
				i = next + 1
				continue
			}
		}
		j := bytes.IndexByte(v[i:], delim)
		if j < 0 {
			return append(spans, span{start: i, end: n})
		}
		spans = append(spans, span{start: i, end: i + j})
		i += j + 1
	}
}

// closeQuoted returns the index just past the quote that closes the
// lenient quoted field whose content starts at v[i], and false when the
// line ends first.
func closeQuoted(v []byte, i int, delim byte) (int, bool) {
	for i < len(v) {
		if v[i] != '"' {
			i++
			continue
		}
		switch {
		case i+1 < len(v) && v[i+1] == '"':
			i += 2
		case i+1 == len(v) || v[i+1] == delim:
			return i + 1, true
		default:
			i++
		}
	}
	return 0, false
}

// unquote returns the value of a field from its decoded text: a quoted
// field loses its quotes, "" inside it is a quote and, as encoding/csv
// reads it, a CRLF inside it is a LF.
func unquote(text string, sp span) string {
	if !sp.quoted {
		return text
	}
	text = text[1:]
	if sp.closed {
		text = text[:len(text)-1]
	}
	if strings.IndexByte(text, '\r') >= 0 {
		text = strings.ReplaceAll(text, "\r\n", "\n")
	}
	if strings.IndexByte(text, '"') >= 0 {
		text = strings.ReplaceAll(text, `""`, `"`)
	}
	return text
}
