package indexing

// Noncurrent versions. A versioned bucket keeps every version a list had:
// replaced by a newer upload, or hidden behind a delete marker, the old
// version still holds its rows. Erasure must reach those, so the index
// keeps the entries of every version it indexed for as long as S3 keeps the
// version: the manifest lists them (Manifest.Noncurrent), ordinary searches
// leave them out of their answers, and they go when S3 says the version is
// gone (a permanent delete, or the bucket's NoncurrentVersionExpiration
// lifecycle rule, both of which S3 notifies as a change of the key).

import (
	"context"
	"slices"
	"time"
)

// Retained is a noncurrent version whose entries the index keeps.
type Retained struct {
	VersionID string `json:"versionId" dynamodbav:"versionId"`
	// Entries counts the version's entries, as they were when it was the
	// version answering.
	Entries int64 `json:"entries" dynamodbav:"entries,omitempty"`
	// KeyID is the HMAC key the version was indexed under.
	KeyID string `json:"keyId,omitempty" dynamodbav:"keyId,omitempty"`
	// Since is when the index saw the version replaced or removed.
	Since time.Time `json:"since" dynamodbav:"since"`
}

// MaxRetained bounds Manifest.Noncurrent: past it, the oldest versions'
// entries are dropped (a key replaced more often than that within the
// bucket's NoncurrentVersionExpiration is logged).
const MaxRetained = 500

// Retains reports whether version is one of the manifest's noncurrent
// versions, whose entries stay out of ordinary answers.
func (m Manifest) Retains(version string) bool {
	for _, r := range m.Noncurrent {
		if r.VersionID == version {
			return true
		}
	}
	return false
}

// retainedOf returns r as a noncurrent version since now (nil for none).
func retainedOf(r *Readable, now time.Time) []Retained {
	if r == nil {
		return nil
	}
	return []Retained{{VersionID: r.VersionID, Entries: r.Entries, KeyID: r.KeyID, Since: now}}
}

// retain returns the candidates that are still versions of bucket/key in
// S3, other than current, newest first, each once, at most MaxRetained. S3
// is asked only when there is a candidate.
func (s *Service) retain(ctx context.Context, bucket, key, current string, candidates []Retained) ([]Retained, error) {
	var out []Retained
	seen := map[string]bool{current: true}
	for _, c := range candidates {
		if c.VersionID != "" && !seen[c.VersionID] {
			seen[c.VersionID] = true
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	versions, err := s.Objects.Versions(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	exists := make(map[string]bool, len(versions))
	for _, v := range versions {
		exists[v] = true
	}
	out = slices.DeleteFunc(out, func(r Retained) bool { return !exists[r.VersionID] })
	slices.SortStableFunc(out, func(a, b Retained) int { return b.Since.Compare(a.Since) })
	if len(out) > MaxRetained {
		s.log().WarnContext(ctx, "noncurrent versions past the limit lose their entries", "bucket", bucket, "key", key,
			"versions", len(out), "limit", MaxRetained)
		out = out[:MaxRetained]
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// sameRetained reports whether a and b list the same versions.
func sameRetained(a, b []Retained) bool {
	return slices.EqualFunc(a, b, func(x, y Retained) bool { return x.VersionID == y.VersionID })
}

// keepingRetained returns keep, which also keeps every entry of the
// versions rs lists.
func keepingRetained(rs []Retained, keep func(versionID, keyID string) bool) func(versionID, keyID string) bool {
	if len(rs) == 0 {
		return keep
	}
	set := make(map[string]bool, len(rs))
	for _, r := range rs {
		set[r.VersionID] = true
	}
	return func(v, k string) bool { return set[v] || keep(v, k) }
}
