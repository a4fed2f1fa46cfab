package tasks

// The task types: what each Task state invokes its function with and what
// the function answers, decoded and encoded by the handlers themselves.

import (
	"fmt"
	"time"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Identifier is one identifier a consumer named, as written; Kind is phone,
// email, customerId or accountNumber.
type Identifier struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// SearchInput is the Search task's input (SearchFunction): the request
// alone (the workflow's), or the request with the identifiers to search.
type SearchInput struct {
	RequestID   string       `json:"requestId"`
	Identifiers []Identifier `json:"identifiers"`
}

// Validate checks the input and returns its identifiers; it returns a
// *veil.ValidationError naming the first bad field.
func (in SearchInput) Validate() ([]search.Identifier, error) {
	if in.RequestID == "" {
		return nil, veil.Invalid("requestId", "required")
	}
	if len(in.Identifiers) == 0 {
		return nil, veil.Invalid("identifiers", "at least one identifier is required")
	}
	ids := make([]search.Identifier, len(in.Identifiers))
	for i, id := range in.Identifiers {
		kind, ok := search.ParseKind(id.Kind)
		if !ok {
			return nil, veil.Invalid(fmt.Sprintf("identifiers[%d].kind", i), "must be phone, email, customerId or accountNumber")
		}
		ids[i] = search.Identifier{Field: fmt.Sprintf("identifiers[%d].value", i), Kind: kind, Value: id.Value}
	}
	return ids, nil
}

// SearchOutput is the Search task's result: where the records are, how
// many, how many of them are held for review, and what the search could
// not see. It never holds an identifier or a row.
type SearchOutput struct {
	RequestID string `json:"requestId"`
	// RecordsKey is the records in the exports bucket, one search.Record
	// a line (access.RecordsFile).
	RecordsKey string `json:"recordsKey"`
	// Records counts the records a requester may be sent as they are;
	// Held the ones a supervisor must review first (in the records file
	// too, named in the request's Result.Review).
	Records  int               `json:"records"`
	Held     int               `json:"held"`
	Stale    int               `json:"stale"`
	Coverage indexing.Coverage `json:"coverage"`
}

// ExportInput is the Export task's input (ExportFunction): the request
// alone (the workflow's), or the request with the pointer to its search's
// records and their coverage, or with identifiers.
type ExportInput struct {
	RequestID    string    `json:"requestId"`
	Requester    string    `json:"requester,omitempty"`
	Jurisdiction string    `json:"jurisdiction,omitempty"`
	Received     time.Time `json:"received,omitzero"`
	// RecordsKey is where SearchFunction wrote the records
	// (exports/<requestId>/records.jsonl), Coverage what it could see.
	RecordsKey string             `json:"recordsKey,omitempty"`
	Coverage   *indexing.Coverage `json:"coverage,omitempty"`
	// Identifiers are searched for when there is no RecordsKey.
	Identifiers []Identifier `json:"identifiers,omitempty"`
}

// OnlyRequest reports whether in names the request and nothing else.
func (in ExportInput) OnlyRequest() bool {
	return in.RequestID != "" && in.Requester == "" && in.Jurisdiction == "" && in.Received.IsZero() &&
		in.RecordsKey == "" && in.Coverage == nil && len(in.Identifiers) == 0
}

// ExportOutput is the Export task's result; Links is nil for the
// workflow's request (links are credentials, never Step Functions state:
// the function records them on the request for the Complete step).
type ExportOutput struct {
	access.Export
	Links *access.Links `json:"links,omitempty"`
}

// PseudonymizeInput is what PseudonymizeFunction is invoked with: a job
// to run (JobID, as its own route hands it over), the workflow's
// Pseudonymize task (RequestID alone), or a request with its identifiers
// (as the Search task takes them) and what SearchFunction found.
type PseudonymizeInput struct {
	JobID        string             `json:"jobId,omitempty"`
	RequestID    string             `json:"requestId,omitempty"`
	Identifiers  []Identifier       `json:"identifiers,omitempty"`
	Jurisdiction string             `json:"jurisdiction,omitempty"`
	RecordsKey   string             `json:"recordsKey,omitempty"`
	Coverage     *indexing.Coverage `json:"coverage,omitempty"`
}

// PseudonymizeOutput is the job as it ended (or as far as it got).
type PseudonymizeOutput struct {
	JobID  string `json:"jobId"`
	Status string `json:"status"`
}

// FailedError is a job that ended failed: something is left, named in the
// job. Its type name is the errorType the workflow sees.
type FailedError struct{ JobID, Reason string }

// Error names the job and why it failed.
func (e *FailedError) Error() string { return "erasure job " + e.JobID + " failed: " + e.Reason }

// StepOptOut is the step of OptOutInput: the only step PseudonymizeFunction
// runs.
const StepOptOut = "optOut"

// OptOutInput is the opt-out step's input (PseudonymizeFunction): the
// request whose identifiers go on the do-not-contact list (an opt-out, or
// a deletion closed unverified) and when the state was entered.
type OptOutInput struct {
	Step      string    `json:"step"`
	RequestID string    `json:"requestId"`
	At        time.Time `json:"at"`
}

// OptOutOutput counts the suppression entries the step added.
type OptOutOutput struct {
	Suppressed int `json:"suppressed"`
}
