// The JSON export is for portability: the request, disclosure and coverage,
// then every record with its fields in its list's column order.

package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/veil-privacy/veil/pkg/indexing"
)

// WriteJSON writes the export as one JSON document:
//
//	{"request": meta.Request, "disclosure": meta.Disclosure, "coverage": meta.Coverage,
//	 "records": [{"bucket","key","versionId","sheet","row","campaign","uploaded","fields","matchedOn"}, ...]}
//
// streamed a record at a time, one record a line (never building the
// records array in memory); "fields" is an object whose keys are in the
// record's Header order (then any others sorted), not Go's sorted map order;
// "sheet" and "campaign" are omitted when empty (as Record's tags say),
// "uploaded" (in UTC) when zero; no formula neutralization (JSON is data,
// not a spreadsheet). The coverage's lists and a record's matchedOn are []
// when nil. Strings are written as encoding/json writes them without HTML
// escaping: invalid UTF-8 as U+FFFD.
//
// It returns how many records it wrote. It returns, wrapped, the error of
// recs, of w, or of encoding (a time whose year is outside 0 to 9999); on
// error the count is of the records encoded before it, not all of which
// may have reached w.
func WriteJSON(w io.Writer, meta Meta, recs Records) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	head := []struct {
		name string
		v    any
	}{
		{"request", meta.Request},
		{"disclosure", meta.Disclosure},
		{"coverage", nonNilCoverage(meta.Coverage)},
	}
	for i, h := range head {
		open := `,"`
		if i == 0 {
			open = `{"`
		}
		buf.WriteString(open + h.name + `":`)
		if err := enc.Encode(h.v); err != nil {
			return 0, fmt.Errorf("write JSON %s: %w", h.name, err)
		}
		// Encode ends a value with a newline.
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteString(`,"records":[`)
	if _, err := bw.Write(buf.Bytes()); err != nil {
		return 0, fmt.Errorf("write JSON: %w", err)
	}
	n := 0
	var order fieldOrder
	var line []byte
	err := recs(func(r Record) error {
		line = append(line[:0], ",\n"...)
		if n == 0 {
			line = line[1:]
		}
		var err error
		line, err = appendRecord(line, r, order.of(r))
		if err == nil {
			_, err = bw.Write(line)
		}
		if err != nil {
			return fmt.Errorf("JSON record %s/%s row %d: %w", r.Bucket, r.Key, r.Row, err)
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("write JSON: %w", err)
	}
	if _, err := bw.WriteString("\n]}\n"); err != nil {
		return n, fmt.Errorf("write JSON: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("write JSON: %w", err)
	}
	return n, nil
}

// appendRecord appends r to b as a JSON object, with its fields in the
// order names gives (skipping names r has no field for). It is written by
// hand rather than by encoding/json, which would run a Marshaler for the
// ordered fields and then scan its output again: five times slower.
func appendRecord(b []byte, r Record, names []string) ([]byte, error) {
	b = append(b, `{"bucket":`...)
	b = appendString(b, r.Bucket)
	b = append(b, `,"key":`...)
	b = appendString(b, r.Key)
	b = append(b, `,"versionId":`...)
	b = appendString(b, r.VersionID)
	if r.Sheet != "" {
		b = append(b, `,"sheet":`...)
		b = appendString(b, r.Sheet)
	}
	b = append(b, `,"row":`...)
	b = strconv.AppendInt(b, r.Row, 10)
	if r.Campaign != "" {
		b = append(b, `,"campaign":`...)
		b = appendString(b, r.Campaign)
	}
	if !r.Uploaded.IsZero() {
		b = append(b, `,"uploaded":"`...)
		var err error
		// RFC 3339 as time.Time's MarshalJSON writes it, and refuses it.
		if b, err = r.Uploaded.UTC().AppendText(b); err != nil {
			return b, fmt.Errorf("uploaded: %w", err)
		}
		b = append(b, '"')
	}
	b = append(b, `,"fields":{`...)
	first := true
	for _, name := range names {
		v, ok := r.Fields[name]
		if !ok {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, name)
		b = append(b, ':')
		b = appendString(b, v)
	}
	b = append(b, `},"matchedOn":[`...)
	for i, m := range r.MatchedOn {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, m)
	}
	return append(b, "]}"...), nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s to b as a JSON string, escaped as encoding/json
// escapes it with HTML escaping off: control characters, quote and
// backslash; each byte of invalid UTF-8 as U+FFFD; U+2028 and U+2029,
// which JavaScript takes for line ends.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			case '\b':
				b = append(b, `\b`...)
			case '\f':
				b = append(b, `\f`...)
			default:
				b = append(b, `\u00`...)
				b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// nonNilCoverage returns c with its lists [] rather than null in JSON, as
// indexing.Coverage promises.
func nonNilCoverage(c indexing.Coverage) indexing.Coverage {
	if c.Unreadable == nil {
		c.Unreadable = []indexing.Unreadable{}
	}
	if c.Pending == nil {
		c.Pending = []indexing.Pending{}
	}
	if c.Partial == nil {
		c.Partial = []indexing.Partial{}
	}
	return c
}
