// Package export answers the right to know: every row held on a consumer,
// written as CSV (for a spreadsheet), JSON (for portability) and PDF (for
// a person, in volumes of a bounded number of records), each with the
// disclosure the law asks for and the search's coverage. Records stream
// through the writers: an export of 100,000 records never holds them.
package export

import (
	"time"

	"github.com/veil-privacy/veil/pkg/indexing"
)

// Record is one row held on the consumer, where it was found, and when its
// list was uploaded.
type Record struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"versionId"`
	// Sheet names the workbook sheet; empty for text lists.
	Sheet    string    `json:"sheet,omitempty"`
	Row      int64     `json:"row"`
	Campaign string    `json:"campaign,omitempty"`
	Uploaded time.Time `json:"uploaded,omitzero"`
	// Header is the list's header, in its order: the order a record's
	// fields are shown in. Fields holds the row by header name.
	Header    []string          `json:"header,omitempty"`
	Fields    map[string]string `json:"fields"`
	MatchedOn []string          `json:"matchedOn"`
}

// Records streams an export's records, in their order, to fn, stopping at
// the first error fn returns (and returning it). It may be called more
// than once: the CSV's header is the union of every record's header, read
// in a first pass.
type Records func(fn func(Record) error) error

// Request is the privacy request an export answers.
type Request struct {
	ID string `json:"id"`
	// Requester names who asked, as the request recorded it ("staff:<sub>"
	// for a staff export).
	Requester    string    `json:"requester,omitempty"`
	Jurisdiction string    `json:"jurisdiction,omitempty"`
	Received     time.Time `json:"received"`
	Answered     time.Time `json:"answered"`
}

// Disclosure is what the law asks a business to tell a consumer besides
// the data itself (CCPA §1798.110(c), GDPR Art. 15(1)).
type Disclosure struct {
	// Categories of personal data found in the consumer's rows.
	Categories []string `json:"categories"`
	// Sources the data was collected from.
	Sources []string `json:"sources"`
	// Purposes it is used for.
	Purposes []string `json:"purposes"`
	// ThirdParties are the categories of third parties it is shared with.
	ThirdParties []string `json:"thirdParties"`
	// Retention says how long it is kept.
	Retention string `json:"retention"`
}

// Meta is what every file of an export says besides the records.
type Meta struct {
	Request    Request           `json:"request"`
	Disclosure Disclosure        `json:"disclosure"`
	Coverage   indexing.Coverage `json:"coverage"`
}
