package bench

import (
	"bytes"
	"flag"
	"testing"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/leads"
)

var rows = flag.Int("rows", 1_000_000, "records in the generated lead list of BenchmarkIndexFloorRatio")

func TestPipelineAndFloorAgree(t *testing.T) {
	var data bytes.Buffer
	if err := GenerateLeads(&data, 2000, 7); err != nil {
		t.Fatalf("GenerateLeads error = %v", err)
	}
	rd, err := leads.NewReader(bytes.NewReader(data.Bytes()), leads.Options{})
	if err != nil {
		t.Fatalf("NewReader error = %v", err)
	}
	schema, err := identifiers.Classify(rd.Header(), nil, identifiers.ClassifyOptions{})
	if err != nil {
		t.Fatalf("Classify error = %v", err)
	}
	var got []int
	for _, c := range schema.Identifiers() {
		got = append(got, c.Index)
	}
	if len(got) != len(identifierColumns) {
		t.Fatalf("identifier columns = %v, want %v", got, identifierColumns)
	}
	for i := range got {
		if got[i] != identifierColumns[i] {
			t.Fatalf("identifier columns = %v, want %v", got, identifierColumns)
		}
	}
	pr, pe, err := Pipeline(bytes.NewReader(data.Bytes()), secret)
	if err != nil {
		t.Fatalf("Pipeline error = %v", err)
	}
	fr, fh, err := Floor(bytes.NewReader(data.Bytes()), secret, identifierColumns)
	if err != nil {
		t.Fatalf("Floor error = %v", err)
	}
	if pr != 2000 || fr != 2000 {
		t.Fatalf("records = %d (pipeline), %d (floor); want 2000", pr, fr)
	}
	// Invalid phones are not keyed; everything else is.
	if pe > fh || pe < fh*95/100 {
		t.Fatalf("pipeline entries = %d, floor HMACs = %d; want within 5%%", pe, fh)
	}
}

// BenchmarkIndexFloorRatio reports pipeline and floor records/s over a
// generated list of -rows records (default one million) and their ratio.
// Run with GOMAXPROCS=1 -benchtime=1x.
func BenchmarkIndexFloorRatio(b *testing.B) {
	for b.Loop() {
		p, f, err := MeasureIndexFloorRatio(*rows)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(p, "pipeline_rows/s")
		b.ReportMetric(f, "floor_rows/s")
		b.ReportMetric(p/f, "index_floor_ratio")
	}
}
