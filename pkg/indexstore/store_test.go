package indexstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/veil"
)

// TestRecordChangeOrder applies shuffled and duplicated notifications to
// dynalite and checks that each key's manifest ends at its latest change,
// whatever the arrival order.
func TestRecordChangeOrder(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	store := indexstore.New(dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"])
	ctx := context.Background()

	type history []indexing.ObjectChange
	keys := map[string]history{}
	var all []indexing.ObjectChange
	for k := 0; k < 4; k++ {
		key := fmt.Sprintf("campaigns/c%d/list.csv", k)
		for v := 0; v < 5; v++ {
			// Sequencers of different lengths: S3 compares them padded.
			seq := fmt.Sprintf("%X", 0x9F+v*0x61)
			c := indexing.ObjectChange{Bucket: "veil-leads", Key: key, VersionID: fmt.Sprintf("v%d", v),
				Sequencer: seq, Removed: v == 4 && k%2 == 0, EventName: "ObjectCreated:Put"}
			keys[key] = append(keys[key], c)
			all = append(all, c, c) // every notification twice
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for _, c := range all {
		if _, err := store.RecordChange(ctx, c); err != nil {
			t.Fatalf("RecordChange(%s@%s): %v", c.Key, c.VersionID, err)
		}
	}
	for key, h := range keys {
		latest := h[len(h)-1]
		m, err := store.Manifest(ctx, "veil-leads", key)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus := indexstore.StatusPending
		if latest.Removed {
			wantStatus = indexstore.StatusRemoved
		}
		if m.VersionID != latest.VersionID || m.Status != wantStatus {
			t.Errorf("%s: manifest at %s/%s, want %s/%s", key, m.VersionID, m.Status, latest.VersionID, wantStatus)
		}
	}
}

func TestRecordChangeReportsApplied(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	store := indexstore.New(dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"])
	ctx := context.Background()
	c := indexing.ObjectChange{Bucket: "b", Key: "k", VersionID: "1", Sequencer: "0A"}
	steps := []struct {
		seq  string
		want bool
	}{{"0A", true}, {"0A", false}, {"09", false}, {"00B", true}, {"B", false}}
	for _, st := range steps {
		c.Sequencer = st.seq
		got, err := store.RecordChange(ctx, c)
		if err != nil || got != st.want {
			t.Fatalf("RecordChange(seq %s) = %v, %v; want %v", st.seq, got, err, st.want)
		}
	}
	if _, err := store.Manifest(ctx, "b", "never-seen"); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("Manifest(never-seen) error = %v, want ErrNotFound", err)
	}
}

func TestLater(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"0A", "09", true}, {"09", "0A", false}, {"A", "00000A", false}, {"100", "FF", true}, {"0055AED6DCD90281E5", "0055AED6DCD90281E4", true},
	}
	for _, tc := range tests {
		if got := indexing.Later(tc.a, tc.b); got != tc.want {
			t.Errorf("Later(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
