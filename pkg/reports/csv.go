package reports

// The CSV files here are opened in spreadsheets, which run a cell that
// looks like a formula: every cell holding a stored string goes through
// formula.Neutralize before it is written.

import (
	"encoding/csv"
	"io"

	"github.com/gocarina/gocsv"
)

// writeCSV writes rows (a slice of gocsv-tagged structs) with a header
// line, through an encoding/csv writer of its own rather than gocsv's
// package-wide one, which any importer may replace.
func writeCSV(w io.Writer, rows any) error {
	return gocsv.MarshalCSV(rows, gocsv.NewSafeCSVWriter(csv.NewWriter(w)))
}
