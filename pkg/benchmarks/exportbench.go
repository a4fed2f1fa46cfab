package benchmarks

// Export figures, each measured in a child process of its own so that its
// peak RSS is its own: export_rows_per_s_{csv,json,pdf} write 10,000
// generated records in one format, export_rss_growth writes all three
// formats of 100,000 and of 10,000 records. The records are generated as
// the writers read them, never held, as access.Service streams them from
// disk.

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"time"

	"github.com/veil-privacy/veil/pkg/export"
	"github.com/veil-privacy/veil/pkg/indexing"
)

// ExportFormats are the formats a child may write; "all" is the three in
// turn.
var ExportFormats = []string{"csv", "json", "pdf", "all"}

// ExportJob is what one export child writes.
type ExportJob struct {
	Records int
	Format  string
}

// exportReport is the line an export child prints.
const exportReport = "records %d format %s seconds %f peak_rss_kib %d\n"

// exportHeader is the generated lists' header: a dialer's export.
var exportHeader = []string{"First Name", "Last Name", "Phone", "Email", "Address", "City", "State", "Zip", "Cust ID", "Notes"}

// GeneratedRecords returns n records of a consumer spread over lists of
// 1,000 rows, each with exportHeader's ten fields, made afresh on every
// call.
func GeneratedRecords(n int) export.Records {
	return func(fn func(export.Record) error) error {
		uploaded := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		for i := range n {
			list := i / 1000
			fields := map[string]string{
				"First Name": "Zoë", "Last Name": "Ångström-" + strconv.Itoa(i), "Phone": fmt.Sprintf("(212) 555-%04d", i%10000),
				"Email": "zoe" + strconv.Itoa(i) + "@example.com", "Address": strconv.Itoa(100+i%900) + " Pine Street, Apt 4B",
				"City": "Queens", "State": "NY", "Zip": "11375", "Cust ID": "C-" + strconv.Itoa(i),
				"Notes": "called twice, asked for a callback after 5 pm; =HYPERLINK(\"x\")",
			}
			rec := export.Record{Bucket: "veil-leads", Key: fmt.Sprintf("campaigns/bench/list-%03d.csv", list), VersionID: "v1",
				Row: int64(i%1000 + 1), Campaign: "bench", Uploaded: uploaded, Header: exportHeader, Fields: fields, MatchedOn: []string{"phone"}}
			if err := fn(rec); err != nil {
				return err
			}
		}
		return nil
	}
}

// exportMeta is the generated export's request, disclosure and coverage.
func exportMeta() export.Meta {
	c := export.DefaultCatalog
	return export.Meta{
		Request: export.Request{ID: "bench-export", Requester: "consumer", Jurisdiction: "CCPA",
			Received: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Answered: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		Disclosure: export.Disclosure{Categories: []string{"Identifiers: name", "Identifiers: telephone number"},
			Sources: c.Sources, Purposes: c.Purposes, ThirdParties: c.ThirdParties, Retention: c.Retention},
		Coverage: indexing.Coverage{Objects: 100, Unreadable: []indexing.Unreadable{}, Pending: []indexing.Pending{}, Partial: []indexing.Partial{}},
	}
}

// discardCloser is a PDF volume written nowhere.
type discardCloser struct{ io.Writer }

func (discardCloser) Close() error { return nil }

// WriteExport writes job.Records generated records in job.Format to
// nowhere and returns how long it took. It fails if a format writes
// another count of records (the PDF's counted by its volumes) or the
// format is unknown.
func WriteExport(job ExportJob) (time.Duration, error) {
	if !slices.Contains(ExportFormats, job.Format) {
		return 0, fmt.Errorf("export format %q, want one of %v", job.Format, ExportFormats)
	}
	recs, meta := GeneratedRecords(job.Records), exportMeta()
	start := time.Now()
	for _, f := range []string{"csv", "json", "pdf"} {
		if job.Format != f && job.Format != "all" {
			continue
		}
		var n int
		var err error
		switch f {
		case "csv":
			n, err = export.WriteCSV(io.Discard, meta, recs)
		case "json":
			n, err = export.WriteJSON(io.Discard, meta, recs)
		case "pdf":
			var volumes int
			volumes, err = export.WritePDF(meta, recs, 0, func(int) (io.WriteCloser, error) { return discardCloser{io.Discard}, nil })
			n = min(job.Records, volumes*export.DefaultPDFVolume)
			if volumes != (job.Records+export.DefaultPDFVolume-1)/export.DefaultPDFVolume {
				err = fmt.Errorf("%d volumes of %d records", volumes, job.Records)
			}
		}
		if err == nil && n != job.Records {
			err = fmt.Errorf("wrote %d records of %d", n, job.Records)
		}
		if err != nil {
			return 0, fmt.Errorf("export %s: %w", f, err)
		}
	}
	return time.Since(start), nil
}

// ChildExport is an export child's work: it writes job and prints its
// report to out.
func ChildExport(job ExportJob, out io.Writer) error {
	d, err := WriteExport(job)
	if err != nil {
		return err
	}
	peak, err := ownPeakRSS()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, exportReport, job.Records, job.Format, d.Seconds(), peak)
	return err
}

// ExportCommand returns the command that runs ChildExport over job.
type ExportCommand func(job ExportJob) *exec.Cmd

// ExportChild runs one export child and returns its duration and peak RSS
// in KiB; it fails if the child does or reports another job.
func ExportChild(child ExportCommand, job ExportJob) (time.Duration, int64, error) {
	out, err := runChild(child(job))
	if err != nil {
		return 0, 0, fmt.Errorf("export child %d %s: %w", job.Records, job.Format, err)
	}
	var n int
	var format string
	var secs float64
	var peak int64
	if _, err := fmt.Sscanf(out, exportReport, &n, &format, &secs, &peak); err != nil || n != job.Records || format != job.Format || peak <= 0 {
		return 0, 0, fmt.Errorf("export child printed %q, want records %d format %s", out, job.Records, job.Format)
	}
	return time.Duration(secs * float64(time.Second)), peak, nil
}

// runChild runs cmd and returns what it printed; it fails with the
// child's error output if the child fails.
func runChild(cmd *exec.Cmd) (string, error) {
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w (stderr: %s)", err, bytes.TrimSpace(errOut.Bytes()))
	}
	return out.String(), nil
}

// args are the flags that make veil-bench the export child of job.
func (job ExportJob) args() []string {
	return []string{"-" + exportChildFlag, strconv.Itoa(job.Records), "-" + exportFormatFlag, job.Format}
}

// exportFigures measures the export figures.
func exportFigures(cfg Config, r *Report) error {
	logf(cfg, "export: %d generated records in each format, then all three of %d and of %d, in child processes", cfg.ExportRecords, cfg.ExportRecords, 10*cfg.ExportRecords)
	for _, f := range ExportFormats[:3] {
		d, peak, err := ExportChild(cfg.ExportChild, ExportJob{Records: cfg.ExportRecords, Format: f})
		if err != nil {
			return err
		}
		rate, err := PerSecond(float64(cfg.ExportRecords), d)
		if err != nil {
			return fmt.Errorf("export_rows_per_s_%s: %w", f, err)
		}
		if err := add(r, figure{"export_rows_per_s_" + f, rate}, figure{"export_peak_rss_mib_" + f, float64(peak) / 1024}); err != nil {
			return err
		}
	}
	_, small, err := ExportChild(cfg.ExportChild, ExportJob{Records: cfg.ExportRecords, Format: "all"})
	if err != nil {
		return err
	}
	_, large, err := ExportChild(cfg.ExportChild, ExportJob{Records: 10 * cfg.ExportRecords, Format: "all"})
	if err != nil {
		return err
	}
	growth, err := Ratio(float64(large), float64(small))
	if err != nil {
		return fmt.Errorf("export_rss_growth: %w", err)
	}
	return add(r,
		figure{"export_peak_rss_mib_all_1x", float64(small) / 1024},
		figure{"export_peak_rss_mib_all_10x", float64(large) / 1024},
		figure{"export_rss_growth", growth},
	)
}
