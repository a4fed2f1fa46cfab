package erasure

// The proof: after the edits, every identifier is searched again, current
// and noncurrent versions, and every version the job purged is listed
// again. A match left is an unedited row (for a correction, a row not as
// the correction leaves it) or a noncurrent version S3 still has.

import (
	"context"
	"fmt"
	"slices"

	"github.com/veil-privacy/veil/pkg/certificate"
	"github.com/veil-privacy/veil/pkg/indexing"
)

func (s *Service) verify(ctx context.Context, ed editor, r Request, j Job) (certificate.Verification, indexing.Coverage, error) {
	v := certificate.Verification{Status: "passed", Objects: []string{}}
	left := func(bucket, key, version string) {
		v.Remaining++
		if name := fmt.Sprintf("s3://%s/%s@%s", bucket, key, version); !slices.Contains(v.Objects, name) {
			v.Objects = append(v.Objects, name)
		}
	}
	res, err := s.Search.Search(ctx, r.Identifiers)
	if err != nil {
		return v, indexing.Coverage{}, err
	}
	for _, rec := range res.Records {
		if !r.Touches(rec) {
			continue // nobody's, or another person's the review left alone
		}
		v.Checked++
		e, err := ed.EditRow(rec.Header, rec.Kinds, rec.Values)
		if err != nil {
			return v, res.Coverage, err
		}
		// An erasure leaves no row holding an identifier; a correction
		// leaves its rows as the correction makes them.
		if r.Operation == Erasure || e.Deleted || len(e.Changed) > 0 {
			left(rec.Bucket, rec.Key, rec.VersionID)
		}
	}
	versions := map[[2]string][]string{}
	have := func(bucket, key string) ([]string, error) {
		k := [2]string{bucket, key}
		if vs, ok := versions[k]; ok {
			return vs, nil
		}
		vs, err := s.Bucket.Versions(ctx, bucket, key)
		versions[k] = vs
		return vs, err
	}
	for _, n := range res.Noncurrent {
		v.Checked++
		vs, err := have(n.Bucket, n.Key)
		if err != nil {
			return v, res.Coverage, err
		}
		if slices.Contains(vs, n.VersionID) {
			left(n.Bucket, n.Key, n.VersionID)
		}
	}
	for _, o := range j.Objects {
		vs, err := have(o.Bucket, o.Key)
		if err != nil {
			return v, res.Coverage, err
		}
		for _, p := range o.VersionsPurged {
			v.Checked++
			if slices.Contains(vs, p) {
				left(o.Bucket, o.Key, p)
			}
		}
	}
	if v.Remaining > 0 {
		v.Status = "failed"
	}
	v.CheckedAt = s.now()
	return v, withoutOwnWrites(res.Coverage, j), nil
}

// withoutOwnWrites drops from cov the lists pending only because the job
// wrote them: the index is reading the version the job wrote, or the
// deletions of the versions it purged, whose rows the job knows.
func withoutOwnWrites(cov indexing.Coverage, j Job) indexing.Coverage {
	rewritten := map[[2]string]bool{}
	for _, o := range j.Objects {
		if o.NewVersion != "" || len(o.VersionsPurged) > 0 {
			rewritten[[2]string{o.Bucket, o.Key}] = true
		}
	}
	pending := cov.Pending[:0:0]
	for _, p := range cov.Pending {
		if !rewritten[[2]string{p.Bucket, p.Key}] {
			pending = append(pending, p)
		}
	}
	cov.Pending = pending
	return cov
}
