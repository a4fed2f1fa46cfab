package benchmarks

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/veil-privacy/veil/pkg/indexing"
)

// TestApplyAndFloorAgree: the floor keys the columns the index function
// classifies as identifiers, and Apply writes about one entry per HMAC of
// the floor (invalid phones are not keyed; everything else is).
func TestApplyAndFloorAgree(t *testing.T) {
	data, err := GenerateFile(2000)
	if err != nil {
		t.Fatalf("GenerateFile error = %v", err)
	}
	idx := &discardIndex{manifests: map[string]indexing.Manifest{}}
	svc := &indexing.Service{Index: idx, Objects: memObjects{data}, Secret: benchSecret, Logger: slog.New(slog.DiscardHandler)}
	c := indexing.ObjectChange{Bucket: "bench", Key: "campaigns/bench/list.csv", VersionID: "v1", Sequencer: "01", EventName: "ObjectCreated:Put"}
	if err := svc.Apply(context.Background(), c); err != nil {
		t.Fatalf("Apply error = %v", err)
	}
	m, err := idx.Manifest(context.Background(), c.Bucket, c.Key)
	if err != nil || m.Rows != 2000 {
		t.Fatalf("manifest = %d rows, %v; want 2000 rows", m.Rows, err)
	}
	var got []int
	for i, col := range m.Columns {
		if col.Kind == "phone" || col.Kind == "email" || col.Kind == "customer_id" || col.Kind == "account_number" {
			got = append(got, i)
		}
	}
	if !slices.Equal(got, floorColumns) {
		t.Fatalf("identifier columns = %v, want the floor's %v", got, floorColumns)
	}
	records, hmacs, err := Floor(bytes.NewReader(data), benchSecret, floorColumns)
	if err != nil || records != 2000 {
		t.Fatalf("Floor = %d records, %v; want 2000", records, err)
	}
	if m.Entries > int64(hmacs) || m.Entries < int64(hmacs)*95/100 {
		t.Fatalf("Apply wrote %d entries, the floor computed %d HMACs; want within 5%%", m.Entries, hmacs)
	}
}
