package benchmarks

import (
	"os"
	"os/exec"
	"testing"

	"github.com/veil-privacy/veil/pkg/export"
)

// An export child writes what it was asked in every format, and its
// parent refuses a report of another job.
func TestExportChild(t *testing.T) {
	child := func(job ExportJob) *exec.Cmd { return exec.Command(os.Args[0], job.args()...) }
	for _, f := range ExportFormats {
		job := ExportJob{Records: export.DefaultPDFVolume + 1, Format: f}
		d, peak, err := ExportChild(child, job)
		if err != nil || d <= 0 || peak <= 0 {
			t.Fatalf("ExportChild(%+v) = %v, %d KiB, %v; want a duration and a peak", job, d, peak, err)
		}
	}
	wrong := func(job ExportJob) *exec.Cmd {
		job.Records++
		return child(job)
	}
	if _, _, err := ExportChild(wrong, ExportJob{Records: 10, Format: "csv"}); err == nil {
		t.Fatalf("ExportChild of a child writing another count: error = nil, want an error")
	}
	if _, err := WriteExport(ExportJob{Records: 10, Format: "xlsx"}); err == nil {
		t.Fatalf("WriteExport of an unknown format: error = nil, want an error")
	}
}

// A rewrite child reports the pass over the list it was asked for, and
// its parent refuses a report of another.
func TestRewriteChild(t *testing.T) {
	child := func(mb int) *exec.Cmd { return exec.Command(os.Args[0], rewriteArgs(mb)...) }
	n, d, peak, err := RewriteChild(child, 2)
	if err != nil || n < 1e6 || d <= 0 || peak <= 0 {
		t.Fatalf("RewriteChild(2 MB) = %d bytes, %v, %d KiB, %v; want about 2 MB read, a duration and a peak", n, d, peak, err)
	}
	wrong := func(mb int) *exec.Cmd { return child(mb + 1) }
	if _, _, _, err := RewriteChild(wrong, 1); err == nil {
		t.Fatalf("RewriteChild of a child rewriting another size: error = nil, want an error")
	}
}
