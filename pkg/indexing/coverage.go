package indexing

// Coverage is how complete an answer drawn from the index is: a search, an
// export and an erasure each carry one, so that "no records" is only ever
// said of lists Veil could read. Pending, Unreadable and Partial are empty
// (never nil, so that JSON shows []) only when the answer is complete.
type Coverage struct {
	// Objects is how many current objects the index covers (indexed,
	// wholly or partly).
	Objects int64 `json:"objects"`
	// Unreadable lists the current objects that could not be indexed.
	Unreadable []Unreadable `json:"unreadable"`
	// Pending lists the objects whose indexing is in progress.
	Pending []Pending `json:"pending"`
	// Partial lists indexed objects with rows that could not be read.
	Partial []Partial `json:"partial"`
}

// Complete reports whether nothing was left unread.
func (c Coverage) Complete() bool {
	return len(c.Unreadable) == 0 && len(c.Pending) == 0 && len(c.Partial) == 0
}

// Unreadable is a list that could not be indexed, and why.
type Unreadable struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"versionId"`
	Reason    string `json:"reason"`
}

// Pending is a list whose indexing is in progress.
type Pending struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// Partial is an indexed list with rows that could not be read.
type Partial struct {
	Bucket         string `json:"bucket"`
	Key            string `json:"key"`
	UnreadableRows int64  `json:"unreadableRows"`
}
