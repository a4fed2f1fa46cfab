// Package certificate is the proof Veil gives of an erasure or correction
// job: what it changed, how its result was verified, and how complete the
// index it worked from was, as JSON for machines and as a one-page PDF, in
// the export's look, for a person.
package certificate

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/veil-privacy/veil/pkg/indexing"
)

// Operations a certificate proves.
const (
	OperationErasure    = "erasure"
	OperationCorrection = "correction"
)

// Certificate is the proof of one erasure or correction job. It holds no personal data:
// identifiers appear only as hash prefixes.
type Certificate struct {
	JobID     string `json:"jobId"`
	RequestID string `json:"requestId,omitempty"`
	// Operation is OperationErasure or OperationCorrection.
	Operation string `json:"operation"`
	// Strategy is the masking strategy of an erasure (alternate, redact,
	// hmac, delete-row).
	Strategy string `json:"strategy,omitempty"`
	// Status is completed, completed_with_gaps or failed.
	Status       string            `json:"status"`
	Identifiers  []Identifier      `json:"identifiers"`
	Objects      []Object          `json:"objects"`
	Totals       Totals            `json:"totals"`
	Verification Verification      `json:"verification"`
	Coverage     indexing.Coverage `json:"coverage"`
	StartedAt    time.Time         `json:"startedAt"`
	CompletedAt  time.Time         `json:"completedAt"`
}

// Identifier is one identifier the job acted on, as the kind it is (phone,
// email, …) and the first characters of its keyed hash.
type Identifier struct {
	Kind       string `json:"kind"`
	HashPrefix string `json:"hashPrefix"`
}

// Object is one list the job changed.
type Object struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// ReadVersion is the version the rewrite read ("" when only old
	// versions were purged).
	ReadVersion string `json:"readVersion,omitempty"`
	// NewVersion is the version the rewrite wrote.
	NewVersion  string `json:"newVersion,omitempty"`
	RowsEdited  int64  `json:"rowsEdited"`
	RowsDeleted int64  `json:"rowsDeleted"`
	// VersionsPurged are the IDs of the versions deleted, delete markers
	// included.
	VersionsPurged []string `json:"versionsPurged"`
}

// Totals sums the job's objects.
type Totals struct {
	ObjectsRewritten int64 `json:"objectsRewritten"`
	RowsEdited       int64 `json:"rowsEdited"`
	RowsDeleted      int64 `json:"rowsDeleted"`
	VersionsPurged   int64 `json:"versionsPurged"`
}

// Verification is the search run after the job for matches it should have
// left none of.
type Verification struct {
	// Status is "passed" or "failed".
	Status string `json:"status"`
	// Checked counts the index entries and object versions checked.
	Checked int64 `json:"checked"`
	// Remaining counts the unedited matches found (0 when passed).
	Remaining int64 `json:"remaining"`
	// Objects names, as s3://bucket/key@version, each object still holding
	// a match.
	Objects   []string  `json:"objects,omitempty"`
	CheckedAt time.Time `json:"checkedAt"`
}

// WriteJSON writes c to w as one indented JSON document, without HTML
// escaping, its times in UTC and its arrays [] when nil (never null;
// verification's objects is omitted when empty). It returns an error
// wrapping the encoder's (a time whose year is outside 0 to 9999) or w's.
func WriteJSON(w io.Writer, c Certificate) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(forJSON(c)); err != nil {
		return fmt.Errorf("certificate %s: write JSON: %w", c.JobID, err)
	}
	return nil
}

// forJSON returns c with its nil slices empty and its times in UTC, sharing
// nothing c's caller could see change.
func forJSON(c Certificate) Certificate {
	c.Identifiers = nonNil(c.Identifiers)
	objs := make([]Object, len(c.Objects))
	for i, o := range c.Objects {
		o.VersionsPurged = nonNil(o.VersionsPurged)
		objs[i] = o
	}
	c.Objects = objs
	c.Coverage.Unreadable = nonNil(c.Coverage.Unreadable)
	c.Coverage.Pending = nonNil(c.Coverage.Pending)
	c.Coverage.Partial = nonNil(c.Coverage.Partial)
	c.StartedAt = c.StartedAt.UTC()
	c.CompletedAt = c.CompletedAt.UTC()
	c.Verification.CheckedAt = c.Verification.CheckedAt.UTC()
	return c
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
