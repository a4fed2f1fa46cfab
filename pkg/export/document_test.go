package export

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func writeDocument(t *testing.T, rows int) ([]byte, int) {
	t.Helper()
	doc := NewDocument("Test – doc", time.Date(2024, 3, 15, 16, 5, 12, 0, time.UTC))
	doc.Title("Zoë's document")
	doc.KeyValues([][2]string{{"Job\x00", "Łukasz\r\nŻółć"}})
	doc.Heading("Section")
	doc.Space(2)
	doc.Paragraph("Σωκράτης\tДмитрий")
	r := make([][]string, rows)
	for i := range r {
		r[i] = []string{fmt.Sprintf("row-%03d", i), "x"}
		if i%2 == 1 {
			r[i] = r[i][:1] // a short row is padded
		}
	}
	doc.Table("Rows", []string{"Name", "Value"}, []float64{doc.Width() - 30, 30}, r)
	pages := doc.Pages()
	var buf bytes.Buffer
	if err := doc.Write(&buf); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes(), pages
}

func TestDocument(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rows  int
		pages int
	}{
		{"one page", 3, 1},
		{"table continues", 150, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdf, pages := writeDocument(t, tc.rows)
			if pages != tc.pages {
				t.Errorf("Pages = %d, want %d", pages, tc.pages)
			}
			again, _ := writeDocument(t, tc.rows)
			if !bytes.Equal(pdf, again) {
				t.Errorf("second write differs from the first")
			}
			if !bytes.Contains(pdf, []byte("/CreationDate (D:20240315160512)")) {
				t.Errorf("PDF has no CreationDate of the given time")
			}
			text := pdfPages(t, pdf)
			if len(text) != tc.pages {
				t.Fatalf("pdftotext pages = %d, want %d", len(text), tc.pages)
			}
			wantText(t, strings.Join(text, "\n"), "Zoë's document", "Łukasz Żółć", "Σωκράτης Дмитрий",
				fmt.Sprintf("row-%03d x", tc.rows-1-(tc.rows-1)%2), fmt.Sprintf("Page %d of %d Test – doc", tc.pages, tc.pages))
			if tc.pages > 1 {
				wantText(t, text[1], "Rows (continued) Name Value")
			}
		})
	}
}

func TestDocumentTableErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		widths  []float64
		rows    [][]string
		wantErr string
	}{
		{"widths", []float64{10}, nil, "1 widths for 2 columns"},
		{"long row", []float64{10, 10}, [][]string{{"a", "b"}, {"a", "b", "c"}}, "row 2 has 3 cells for 2 columns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := NewDocument("t", time.Time{})
			doc.Table("T", []string{"A", "B"}, tc.widths, tc.rows)
			var buf bytes.Buffer
			err := doc.Write(&buf)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Write = %v, want an error saying %q", err, tc.wantErr)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes of a failed document", buf.Len())
			}
		})
	}
}
