// The CSV export is for a spreadsheet: one line per record under the union
// of every list's header, every cell neutralized, the coverage after it.

package export

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil/pkg/formula"
	"github.com/veil-privacy/veil/pkg/indexing"
)

// ErrRecordsChanged is returned (wrapped) by a writer that reads Records
// twice when the second pass does not give what the first did: WriteCSV
// when a record has a field the first pass did not see (its header is
// written by then, and the field would have no column), WritePDF when the
// number of records differs.
var ErrRecordsChanged = errors.New("records changed between passes")

// csvColumns are the CSV's first columns: where a record was found.
var csvColumns = []string{"bucket", "key", "sheet", "row", "campaign", "uploaded"}

// utf8BOM makes Excel open the file as UTF-8 rather than the system's code
// page.
const utf8BOM = "\uFEFF"

// Columns returns the union of the records' headers, in the order first seen
// (a record's fields that are not in its Header come after its header's, sorted).
// It returns the error of recs, wrapped.
func Columns(recs Records) ([]string, error) {
	var cols []string
	seen := make(map[string]struct{})
	var order fieldOrder
	err := recs(func(r Record) error {
		for _, name := range order.of(r) {
			if _, ok := seen[name]; !ok {
				seen[name] = struct{}{}
				cols = append(cols, name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export columns: %w", err)
	}
	return cols, nil
}

// WriteCSV writes the export as CSV: a UTF-8 byte-order mark (so Excel opens
// it as UTF-8), a header line "bucket,key,sheet,row,campaign,uploaded" then
// every column of Columns(recs), one line per record (uploaded as YYYY-MM-DD
// in UTC, empty when zero; a field the record lacks is empty), every cell passed
// through Neutralize, written with encoding/csv (CRLF line ends, as Excel writes).
// After the records: one empty line, then the coverage as rows, starting
// with a row "# coverage" and saying "complete" or naming every unreadable,
// pending and partial list (bucket, key, reason or detail) of meta.Coverage,
// also neutralized.
//
// A carriage return inside a cell is written as a line break: encoding/csv
// with CRLF line ends would drop it, joining its lines.
//
// It returns how many records it wrote. It calls recs twice (once for
// Columns) and returns, wrapped, the error of recs, of w, or
// ErrRecordsChanged; on error the count is of the records encoded before
// it, not all of which may have reached w.
func WriteCSV(w io.Writer, meta Meta, recs Records) (int, error) {
	cols, err := Columns(recs)
	if err != nil {
		return 0, fmt.Errorf("write CSV: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(utf8BOM); err != nil {
		return 0, fmt.Errorf("write CSV: %w", err)
	}
	// csv.NewWriter writes into bw itself rather than buffering again.
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	row := make([]string, len(csvColumns)+len(cols))
	copy(row, csvColumns)
	copy(row[len(csvColumns):], cols)
	if err := cw.Write(cellsOf(row)); err != nil {
		return 0, fmt.Errorf("write CSV header: %w", err)
	}
	n := 0
	err = recs(func(r Record) error {
		row[0], row[1], row[2] = r.Bucket, r.Key, r.Sheet
		row[3] = strconv.FormatInt(r.Row, 10)
		row[4] = r.Campaign
		row[5] = ""
		if !r.Uploaded.IsZero() {
			row[5] = r.Uploaded.UTC().Format("2006-01-02")
		}
		found := 0
		for i, col := range cols {
			v, ok := r.Fields[col]
			if ok {
				found++
			}
			row[len(csvColumns)+i] = v
		}
		// cols are distinct, so a field they all miss shows as a shortfall.
		if found < len(r.Fields) {
			return fmt.Errorf("CSV record %s/%s row %d: %w", r.Bucket, r.Key, r.Row, ErrRecordsChanged)
		}
		if err := cw.Write(cellsOf(row)); err != nil {
			return fmt.Errorf("CSV record %s/%s row %d: %w", r.Bucket, r.Key, r.Row, err)
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("write CSV: %w", err)
	}
	for _, line := range coverageRows(meta.Coverage) {
		if err := cw.Write(cellsOf(line)); err != nil {
			return n, fmt.Errorf("write CSV coverage: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, fmt.Errorf("write CSV: %w", err)
	}
	return n, nil
}

// coverageRows are the CSV's trailer: an empty line (encoding/csv writes a
// lone empty cell as one), "# coverage", whether the export is complete,
// then a row for every list it could not wholly read.
func coverageRows(c indexing.Coverage) [][]string {
	status := "complete"
	if !c.Complete() {
		status = "incomplete"
	}
	rows := [][]string{
		{""},
		{"# coverage"},
		{status, fmt.Sprintf("%d lists indexed", c.Objects)},
	}
	for _, u := range c.Unreadable {
		rows = append(rows, []string{"unreadable", u.Bucket, u.Key, u.Reason})
	}
	for _, p := range c.Pending {
		rows = append(rows, []string{"pending", p.Bucket, p.Key, "indexing in progress"})
	}
	for _, p := range c.Partial {
		rows = append(rows, []string{"partial", p.Bucket, p.Key, fmt.Sprintf("%d rows unreadable", p.UnreadableRows)})
	}
	return rows
}

// cellsOf neutralizes every cell of row in place and returns it.
func cellsOf(row []string) []string {
	for i, s := range row {
		row[i] = cell(s)
	}
	return row
}

// cell is s as the CSV holds it: neutralized, and with a carriage return
// not followed by a line feed made one, as encoding/csv with CRLF line
// ends writes a line break but drops a lone carriage return.
func cell(s string) string {
	s = formula.Neutralize(s)
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// fieldOrder puts a record's field names in the order they are shown: its
// Header's (each once), then any others sorted. It reuses its memory from
// one record to the next (it runs once a record and a column), so its
// answer holds only until the next call.
type fieldOrder struct {
	seen  map[string]struct{}
	names []string
}

// of returns r's field names in the order they are shown, including
// header names r has no field for.
func (o *fieldOrder) of(r Record) []string {
	if o.seen == nil {
		o.seen = make(map[string]struct{})
	}
	clear(o.seen)
	o.names = o.names[:0]
	for _, name := range r.Header {
		if _, ok := o.seen[name]; !ok {
			o.seen[name] = struct{}{}
			o.names = append(o.names, name)
		}
	}
	extra := len(o.names)
	for name := range r.Fields {
		if _, ok := o.seen[name]; !ok {
			o.names = append(o.names, name)
		}
	}
	slices.Sort(o.names[extra:])
	return o.names
}
