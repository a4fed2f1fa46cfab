package certificate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/export/pdftest"
	"github.com/veil-privacy/veil/pkg/indexing"
)

var (
	started   = time.Date(2024, 3, 15, 16, 5, 12, 0, time.UTC)
	completed = time.Date(2024, 3, 15, 16, 9, 40, 0, time.UTC)
)

// sample is an erasure of two identifiers from two lists, verified, over an
// index with one gap of each kind.
func sample() Certificate {
	return Certificate{
		JobID:     "job-7f3a",
		RequestID: "req-2024-0042",
		Operation: OperationErasure,
		Strategy:  "redact",
		Status:    "completed_with_gaps",
		Identifiers: []Identifier{
			{Kind: "phone", HashPrefix: "a1b2c3d4"},
			{Kind: "email", HashPrefix: "9f8e7d6c"},
		},
		Objects: []Object{
			{Bucket: "acme-leads", Key: "2024/spring.csv", ReadVersion: "v1", NewVersion: "v2",
				RowsEdited: 3, VersionsPurged: []string{"v0", "v1", "dm1"}},
			{Bucket: "acme-leads", Key: "2023/old.csv", RowsDeleted: 1, VersionsPurged: []string{"x9"}},
		},
		Totals: Totals{ObjectsRewritten: 1, RowsEdited: 3, RowsDeleted: 1, VersionsPurged: 4},
		Verification: Verification{Status: "passed", Checked: 1234,
			// New York time: the JSON and the page say it in UTC.
			CheckedAt: time.Date(2024, 3, 15, 12, 10, 0, 0, time.FixedZone("EDT", -4*3600))},
		Coverage: indexing.Coverage{
			Objects:    12,
			Unreadable: []indexing.Unreadable{{Bucket: "acme-leads", Key: "2023/archive.numbers", VersionID: "3HL4", Reason: "unsupported format"}},
			Pending:    []indexing.Pending{{Bucket: "acme-leads", Key: "2024/loading.csv"}},
			Partial:    []indexing.Partial{{Bucket: "acme-leads", Key: "2024/torn.csv", UnreadableRows: 3}},
		},
		StartedAt:   started,
		CompletedAt: completed,
	}
}

// huge is a correction of 500 objects, 30 identifiers and 40 objects
// failing verification over an index with 50 gaps.
func huge() Certificate {
	c := sample()
	c.Operation, c.Strategy, c.Status = OperationCorrection, "", "failed"
	c.Identifiers = nil
	for i := range 30 {
		c.Identifiers = append(c.Identifiers, Identifier{Kind: "email", HashPrefix: fmt.Sprintf("%08x", 0xc0ffee00+i)})
	}
	c.Objects = nil
	for i := range 500 {
		c.Objects = append(c.Objects, Object{Bucket: "acme-leads", Key: fmt.Sprintf("2024/list-%03d.csv", i),
			ReadVersion: "r", NewVersion: "n", RowsEdited: int64(i), VersionsPurged: []string{"a", "b"}})
	}
	c.Totals = Totals{ObjectsRewritten: 500, RowsEdited: 124750, VersionsPurged: 1000}
	c.Verification = Verification{Status: "failed", Checked: 99999, Remaining: 40, CheckedAt: completed}
	for i := range 40 {
		c.Verification.Objects = append(c.Verification.Objects, fmt.Sprintf("s3://acme-leads/2024/list-%03d.csv@n", i))
	}
	c.Coverage = indexing.Coverage{Objects: 600}
	for i := range 20 {
		c.Coverage.Unreadable = append(c.Coverage.Unreadable, indexing.Unreadable{Bucket: "acme-leads",
			Key: fmt.Sprintf("bad-%02d.numbers", i), VersionID: "v", Reason: "unsupported format"})
		c.Coverage.Pending = append(c.Coverage.Pending, indexing.Pending{Bucket: "acme-leads", Key: fmt.Sprintf("loading-%02d.csv", i)})
	}
	for i := range 10 {
		c.Coverage.Partial = append(c.Coverage.Partial, indexing.Partial{Bucket: "acme-leads",
			Key: fmt.Sprintf("torn-%02d.csv", i), UnreadableRows: int64(i + 1)})
	}
	return c
}

// long is sample with every string far longer than a page is wide, in
// the widest glyphs.
func long() Certificate {
	c := huge()
	w := strings.Repeat("W", 5000)
	c.JobID, c.RequestID, c.Operation, c.Strategy, c.Status = w, w, w, w, w
	for i := range c.Identifiers {
		c.Identifiers[i].Kind = w
	}
	for i := range c.Objects {
		c.Objects[i].Bucket, c.Objects[i].Key = w, w
	}
	for i := range c.Verification.Objects {
		c.Verification.Objects[i] = w
	}
	for i := range c.Coverage.Unreadable {
		c.Coverage.Unreadable[i] = indexing.Unreadable{Bucket: w, Key: w, VersionID: w, Reason: w}
	}
	for i := range c.Coverage.Pending {
		c.Coverage.Pending[i] = indexing.Pending{Bucket: w, Key: w}
	}
	return c
}

func TestWriteJSON(t *testing.T) {
	full := sample()
	wantFull := sample()
	wantFull.Verification.CheckedAt = wantFull.Verification.CheckedAt.UTC()

	empty := Certificate{JobID: "job-empty", Operation: OperationCorrection, Status: "failed",
		Objects: []Object{{Bucket: "b", Key: "k"}}}
	wantEmpty := empty
	wantEmpty.Identifiers = []Identifier{}
	wantEmpty.Objects = []Object{{Bucket: "b", Key: "k", VersionsPurged: []string{}}}
	wantEmpty.Coverage = indexing.Coverage{Unreadable: []indexing.Unreadable{}, Pending: []indexing.Pending{}, Partial: []indexing.Partial{}}
	wantEmpty.StartedAt, wantEmpty.CompletedAt, wantEmpty.Verification.CheckedAt = time.Time{}.UTC(), time.Time{}.UTC(), time.Time{}.UTC()

	for _, tc := range []struct {
		name string
		in   Certificate
		want Certificate
	}{
		{"full", full, wantFull},
		{"nil slices", empty, wantEmpty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteJSON(&buf, tc.in); err != nil {
				t.Fatalf("WriteJSON: %v", err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte("{\n  \"jobId\": ")) {
				t.Errorf("JSON is not indented:\n%s", buf.Bytes())
			}
			var got Certificate
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("decoded = %+v, want %+v", got, tc.want)
			}
			var tree any
			if err := json.Unmarshal(buf.Bytes(), &tree); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if path := nullAt(tree, "$"); path != "" {
				t.Errorf("%s is null:\n%s", path, buf.Bytes())
			}
			if strings.Contains(buf.String(), "EDT") || strings.Contains(buf.String(), "-04:00") {
				t.Errorf("a time is not in UTC:\n%s", buf.Bytes())
			}
		})
	}
	// WriteJSON must not fill in its caller's slices.
	if empty.Identifiers != nil || empty.Objects[0].VersionsPurged != nil {
		t.Errorf("WriteJSON changed its input: %+v", empty)
	}
}

// nullAt returns the path of the first null in v, or "".
func nullAt(v any, path string) string {
	switch v := v.(type) {
	case nil:
		return path
	case map[string]any:
		for k, e := range v {
			if p := nullAt(e, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, e := range v {
			if p := nullAt(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestWriteErrors(t *testing.T) {
	boom := errors.New("boom")
	if err := WriteJSON(failWriter{boom}, sample()); !errors.Is(err, boom) {
		t.Errorf("WriteJSON = %v, want %v", err, boom)
	}
	if err := WritePDF(failWriter{boom}, sample()); !errors.Is(err, boom) {
		t.Errorf("WritePDF = %v, want %v", err, boom)
	}
}

func writePDF(t *testing.T, c Certificate) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePDF(&buf, c); err != nil {
		t.Fatalf("WritePDF: %v", err)
	}
	return buf.Bytes()
}

// pageObject matches a page's dictionary, not the pages' (/Type /Pages).
var pageObject = regexp.MustCompile(`/Type /Page[^s]`)

// pdfPages is the text of each page of pdf (pdftest.Pages).
func pdfPages(t *testing.T, pdf []byte) []string { return pdftest.Pages(t, pdf) }

func TestWritePDFOnePage(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Certificate
		want []string
	}{
		{"sample", sample(), []string{
			"Erasure certificate", "job-7f3a", "req-2024-0042", "completed_with_gaps", "redact",
			"2024-03-15T16:05:12Z", "2024-03-15T16:09:40Z", "phone a1b2c3d4…", "email 9f8e7d6c…",
			"1 object rewritten · 3 rows edited · 1 row deleted · 4 versions purged",
			"acme-leads/2024/spring.csv 3 0 3", "acme-leads/2023/old.csv 0 1 1",
			"Passed: 1234 index entries and object versions checked at 2024-03-15T16:10:00Z; no unedited match remains.",
			"NOT complete: 12 lists were read, but 1 could not be read, 1 was still being read and 1 had rows",
			"acme-leads/2023/archive.numbers 3HL4 could not be read: unsupported format",
			"acme-leads/2024/loading.csv still being read", "acme-leads/2024/torn.csv 3 rows could not be read",
			"This certificate holds no personal data", "Page 1 of 1",
		}},
		{"500 objects and 50 gaps", huge(), []string{
			"Correction certificate", "failed", "Identifiers (30)", "email c0ffee00…", "email c0ffee09…", "and 20 more",
			"Objects changed (500)", "acme-leads/2024/list-009.csv 9 0 2", "… and 490 objects more",
			"Failed: 99999 index entries", "40 unedited matches remain",
			"Objects still holding a match (40)", "s3://acme-leads/2024/list-002.csv@n", "… and 37 objects more",
			"Lists not read in full (50)", "acme-leads/bad-09.numbers", "… and 40 lists more",
			"Page 1 of 1",
		}},
		{"long strings", long(), []string{"Certificate of WWW", "Page 1 of 1 Certificate of WWW"}},
		{"zero", Certificate{}, []string{"Certificate of", "(none)", "(not recorded)",
			"Complete: 0 lists were read in full", "Not passed ((none))", "No object was changed.", "Page 1 of 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdf := writePDF(t, tc.in)
			if n := len(pageObject.FindAll(pdf, -1)); n != 1 {
				t.Errorf("page objects = %d, want 1", n)
			}
			pages := pdfPages(t, pdf)
			if len(pages) != 1 {
				t.Fatalf("pages = %d, want 1:\n%s", len(pages), strings.Join(pages, "\n---\n"))
			}
			for _, w := range tc.want {
				if !strings.Contains(pages[0], w) {
					t.Errorf("text lacks %q\ntext:\n%s", w, pages[0])
				}
			}
		})
	}
}

// TestWritePDFHashPrefix checks that an identifier shows its kind and
// at most 16 characters of its hash, even when handed the whole hash.
func TestWritePDFHashPrefix(t *testing.T) {
	const hash = "0123456789abcdef" + "FEDCBA9876543210" + "0123456789abcdef" + "fedcba9876543210"
	c := sample()
	c.Identifiers = []Identifier{{Kind: "phone", HashPrefix: hash}, {Kind: "email", HashPrefix: "beef"}}
	text := pdfPages(t, writePDF(t, c))[0]
	for _, want := range []string{"phone 0123456789abcdef…", "email beef…"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q\ntext:\n%s", want, text)
		}
	}
	for _, leak := range []string{"0123456789abcdefF", "FEDCBA", "fedcba"} {
		if strings.Contains(text, leak) {
			t.Errorf("text shows %q, more than the hash's prefix\ntext:\n%s", leak, text)
		}
	}
}

// TestWritePDFIdempotent checks that the same certificate gives the same
// bytes, also when written at once, dated by its completion.
func TestWritePDFIdempotent(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Certificate
		date string
	}{
		{"sample", sample(), "/CreationDate (D:20240315160940)"},
		{"huge", huge(), "/CreationDate (D:20240315160940)"},
		{"zero", Certificate{}, "/CreationDate (D:19700101000000)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const writes = 4
			got := make([][]byte, writes)
			var wg sync.WaitGroup
			for i := range writes {
				wg.Go(func() {
					var buf bytes.Buffer
					if err := WritePDF(&buf, tc.in); err != nil {
						t.Errorf("WritePDF: %v", err)
					}
					got[i] = buf.Bytes()
				})
			}
			wg.Wait()
			for i := 1; i < writes; i++ {
				if !bytes.Equal(got[i], got[0]) {
					t.Errorf("write %d differs from write 1", i+1)
				}
			}
			if !bytes.Contains(got[0], []byte(tc.date)) {
				t.Errorf("PDF lacks %s", tc.date)
			}
		})
	}
}
