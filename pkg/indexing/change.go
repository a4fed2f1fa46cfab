// Package indexing is the domain of keeping the identifier index equal to
// the leads bucket: object changes, their order, and what applying one
// means.
package indexing

import (
	"strings"
	"time"
)

// ObjectChange is one created, replaced or removed object version.
type ObjectChange struct {
	Bucket    string
	Key       string
	VersionID string
	// Sequencer is S3's order of the changes of one key (see Later).
	Sequencer string
	Removed   bool
	Size      int64
	ETag      string
	EventName string
	EventTime time.Time
	// Reconcile marks a change that comes from no S3 event (a backfill): it
	// has no sequencer of its own, so it takes the one recorded for the key
	// (a real event always wins over it) and is never skipped as stale.
	Reconcile bool
	// Force, with Reconcile, rereads a version already indexed: after a
	// campaign's column map changed, say.
	Force bool
}

// Later reports whether sequencer a is later than b. S3 sequencers are hex
// strings of varying length; they compare after left-padding to one length.
func Later(a, b string) bool {
	return PadSequencer(a) > PadSequencer(b)
}

// SequencerWidth is the fixed width sequencers are padded to for storage, so
// that a string comparison in a condition expression orders them.
const SequencerWidth = 32

// PadSequencer left-pads s with zeros to SequencerWidth and upper-cases it.
func PadSequencer(s string) string {
	s = strings.ToUpper(s)
	if len(s) >= SequencerWidth {
		return s
	}
	return strings.Repeat("0", SequencerWidth-len(s)) + s
}

// FolderMarker reports whether key is a "folder" as the S3 console makes
// one (a key ending in "/", zero bytes): no list, so nothing to index, and
// its creation or removal changes nothing.
func FolderMarker(key string) bool { return strings.HasSuffix(key, "/") }
