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
