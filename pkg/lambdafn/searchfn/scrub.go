package searchfn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/veil"
)

// ScrubReports is what GET /lists/{key}/scrub reads: the list's manifest
// (indexstore.Store) and its scrub report (suppression.Reports).
type ScrubReports interface {
	Manifest(ctx context.Context, bucket, key string) (indexing.Manifest, error)
	Report(ctx context.Context, bucket, key string) (suppression.Report, error)
}

// Scrub statuses: the current version was checked against the
// suppression list, or is not yet (being indexed or scrubbed: a dialer
// waits).
const (
	ScrubChecked = "checked"
	ScrubPending = "pending"
)

// ScrubAnswer is GET /lists/{key}/scrub's answer: the rows a dialer skips
// in the list's current version, by number, with why; no value.
type ScrubAnswer struct {
	Bucket    string                  `json:"bucket"`
	Key       string                  `json:"key"`
	VersionID string                  `json:"versionId"`
	Status    string                  `json:"status"`
	Rows      []suppression.ReportRow `json:"rows"`
	Masked    int                     `json:"masked"`
	Flagged   int                     `json:"flagged"`
	// DoNotContact counts the opted-out rows.
	DoNotContact int `json:"doNotContact"`
}

// scrubReport serves GET /lists/{key+}: the path is the list's key in the
// leads bucket followed by /scrub (a greedy parameter: keys hold slashes).
func (h *Handler) scrubReport(ctx context.Context, _ auth.Caller, req events.APIGatewayV2HTTPRequest) (any, error) {
	key, ok := strings.CutSuffix(req.PathParameters["key"], "/scrub")
	if !ok || key == "" {
		return nil, fmt.Errorf("lists: only /lists/{key}/scrub is served: %w", veil.ErrNotFound)
	}
	return ScrubOf(ctx, h.scrub, h.leadsBucket, key)
}

// ScrubOf answers the scrub of bucket/key from reports.
func ScrubOf(ctx context.Context, reports ScrubReports, bucket, key string) (ScrubAnswer, error) {
	m, err := reports.Manifest(ctx, bucket, key)
	if err != nil {
		return ScrubAnswer{}, err
	}
	ans := ScrubAnswer{Bucket: bucket, Key: key, VersionID: m.VersionID, Status: ScrubPending, Rows: []suppression.ReportRow{}}
	if m.Status == indexing.StatusRemoved {
		return ScrubAnswer{}, fmt.Errorf("s3://%s/%s was removed: %w", bucket, key, veil.ErrNotFound)
	}
	r, err := reports.Report(ctx, bucket, key)
	if errors.Is(err, veil.ErrNotFound) {
		return ans, nil
	}
	if err != nil {
		return ScrubAnswer{}, err
	}
	if m.Status == indexing.StatusIndexed && r.VersionID == m.VersionID && !r.Checked.IsZero() {
		ans.Status, ans.Rows, ans.Masked, ans.Flagged, ans.DoNotContact = ScrubChecked, r.Rows, r.Masked, r.Flagged, r.DoNotContact
	}
	return ans, nil
}

// Reports joins the index's manifests and the suppression reports into
// ScrubReports.
type Reports struct {
	Manifests interface {
		Manifest(ctx context.Context, bucket, key string) (indexing.Manifest, error)
	}
	Scrubs *suppression.Reports
}

// Manifest returns bucket/key's manifest.
func (r Reports) Manifest(ctx context.Context, bucket, key string) (indexing.Manifest, error) {
	return r.Manifests.Manifest(ctx, bucket, key)
}

// Report returns bucket/key's scrub report.
func (r Reports) Report(ctx context.Context, bucket, key string) (suppression.Report, error) {
	return r.Scrubs.Get(ctx, bucket, key)
}
