package erasure

// Keeping them erased: every version the index reads is checked against
// the suppression list. A row holding an identifier suppressed with action
// mask (an erased consumer uploaded again) gets the edit erasure gives it,
// written as a new version, and the version uploaded, which holds the
// plaintext, is deleted; a flag or do-not-contact entry only records the
// row. Either way the rows go into the list's scrub report (the rows a
// dialer skips), with the entries' origins.

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/masking"
	"github.com/veil-privacy/veil/pkg/objectstore"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Scrubber is what a scrub reads and writes beyond a job's service.
type Scrubber struct {
	*Service
	// Entries lists one version's entries (indexstore.Store).
	Entries interface {
		Manifest(ctx context.Context, bucket, key string) (indexing.Manifest, error)
		EachEntry(ctx context.Context, bucket, key, version string, fn func(indexing.Entry) error) error
	}
	Reports *suppression.Reports
	// FlagOnly records rows suppressed with action mask without masking
	// them (the policy "flag"; "mask" is the default).
	FlagOnly bool
}

// checkBatch is how many keys one suppression check holds.
const checkBatch = 100

// Scrub checks bucket/key's indexed version against the suppression list
// and acts on what it finds (see above). It does nothing for an object
// that is not indexed, whose indexed version is no longer current (the
// newer one is scrubbed when it is indexed), or that was already scrubbed.
// It is safe to run again.
func (s *Scrubber) Scrub(ctx context.Context, bucket, key string) error {
	m, err := s.Entries.Manifest(ctx, bucket, key)
	if errors.Is(err, veil.ErrNotFound) {
		return nil
	}
	if err != nil || m.Status != indexing.StatusIndexed {
		return err
	}
	prev, err := s.Reports.Get(ctx, bucket, key)
	if err != nil && !errors.Is(err, veil.ErrNotFound) {
		return err
	}
	if prev.VersionID == m.VersionID && !prev.Checked.IsZero() && !prev.Checked.Before(m.IndexedAt) {
		return nil
	}
	cur, exists, err := s.Bucket.Current(ctx, bucket, key)
	if err != nil || !exists || cur.ID != m.VersionID {
		return err
	}
	hits, err := s.hits(ctx, m)
	if err != nil {
		return err
	}
	report := suppression.Report{Bucket: bucket, Key: key, VersionID: m.VersionID, Checked: s.now()}
	if prev.VersionID == m.VersionID {
		// Rows the scrub that wrote this version masked.
		for _, r := range prev.Rows {
			if r.Masked {
				report.Rows = append(report.Rows, r)
			}
		}
	}
	var mask []indexing.Entry
	rows := map[[2]any]*suppression.ReportRow{}
	for _, h := range hits {
		id := [2]any{h.entry.Sheet, h.entry.Row}
		r, ok := rows[id]
		if !ok {
			r = &suppression.ReportRow{Sheet: h.entry.Sheet, Row: h.entry.Row}
			rows[id] = r
		}
		for _, se := range h.suppressed {
			if !slices.Contains(r.Actions, se.Action) {
				r.Actions, r.Origins = append(r.Actions, se.Action), append(r.Origins, se.Origin)
			}
			if se.Action == suppression.Mask && !s.FlagOnly {
				mask = append(mask, h.entry)
			}
		}
	}
	written := ""
	if len(mask) > 0 {
		recs, err := s.Search.ReadRows(ctx, m, mask)
		if err != nil {
			return err
		}
		ed, err := masking.NewMasker(masking.Config{Strategy: s.Policy.Strategy(""), Key: s.MaskKey, Region: s.Region})
		if err != nil {
			return err
		}
		t := &target{bucket: bucket, key: key, version: m.VersionID, records: recs}
		w, res, err := s.rewrite(ctx, ed, t, cur)
		if errors.Is(err, objectstore.ErrChanged) {
			return nil // a newer upload: scrubbed once it is indexed
		}
		if err != nil {
			return err
		}
		written = w
		masked := map[[2]any]bool{}
		for _, r := range recs {
			masked[[2]any{r.Sheet, r.Row}] = true
		}
		for id, r := range rows {
			r.Masked = masked[id]
		}
		s.log().InfoContext(ctx, "suppressed rows scrubbed", "bucket", bucket, "key", key, "read", m.VersionID,
			"written", written, "rows", res.Edited+res.Deleted)
	}
	for _, r := range rows {
		report.Rows = append(report.Rows, *r)
	}
	if written != "" {
		// The report is the new version's; the index reads it next.
		report.VersionID, report.Checked = written, time.Time{}
		if err := s.Reports.Put(ctx, report); err != nil {
			return err
		}
		_, err := s.purge(ctx, bucket, key, written, []string{m.VersionID})
		return err
	}
	return s.Reports.Put(ctx, report)
}

// hit is an entry of a suppressed identifier.
type hit struct {
	entry      indexing.Entry
	suppressed []suppression.Entry
}

// hits returns the entries of m's version whose identifier is suppressed,
// placeholders left out (they are nobody's).
func (s *Scrubber) hits(ctx context.Context, m indexing.Manifest) ([]hit, error) {
	var out []hit
	var batch []indexing.Entry
	check := func() error {
		keys := make([]string, 0, len(batch))
		for _, e := range batch {
			if !slices.Contains(keys, e.Key) {
				keys = append(keys, e.Key)
			}
		}
		found, err := s.Suppression.Check(ctx, keys)
		if err != nil {
			return err
		}
		for _, e := range batch {
			if se := found[e.Key]; len(se) > 0 {
				out = append(out, hit{entry: e, suppressed: se})
			}
		}
		batch = batch[:0]
		return nil
	}
	err := s.Entries.EachEntry(ctx, m.Bucket, m.Key, m.VersionID, func(e indexing.Entry) error {
		if e.Placeholder {
			return nil
		}
		batch = append(batch, e)
		if len(batch) == checkBatch {
			return check()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = check()
	}
	return out, err
}
