// Document lends the export PDF's look (its fonts, tables and page breaks)
// to other Veil documents, such as an erasure's certificate, so that every
// PDF Veil hands a person reads alike.

package export

import (
	"fmt"
	"io"
	"time"
)

// Document is an A4 portrait PDF drawn top to bottom in the export's fonts
// and style. Content that does not fit on a page continues on the next,
// where a table's title and header repeat; every page's footer gives its
// number of the document's pages and the document's title. Text is shown
// as the embedded font can show it (invalid UTF-8 and control characters
// replaced), never failing the document. The same calls give the same
// bytes. A Document is for one goroutine, and is written once.
type Document struct {
	d     *pdfDoc
	title string
}

// NewDocument returns a document of one empty page, titled title in its
// footer and metadata. created is its creation and modification date (the
// Unix epoch when zero): set it from the data shown, never the clock, so
// that the same input gives the same bytes.
func NewDocument(title string, created time.Time) *Document {
	doc := &Document{title: title}
	doc.d = newPDFDoc(title, created, doc.footer)
	doc.d.f.AddPage()
	return doc
}

// footer draws the page's number and the title, cut to fit beside it.
func (doc *Document) footer() {
	f := doc.d.f
	f.SetFont(pdfFont, "", 8)
	title := []rune(pdfPrintable(doc.title))
	for cut := false; len(title) > 0; title, cut = title[:len(title)-1], true {
		text := string(title)
		if cut {
			text += "…"
		}
		if f.GetStringWidth(text) < doc.d.width*2/3-2 {
			doc.d.pageFooter(text)
			return
		}
	}
	doc.d.pageFooter("")
}

// Width returns the width of the text area in mm, which a table's column
// widths share.
func (doc *Document) Width() float64 { return doc.d.width }

// Pages returns how many pages the document holds so far.
func (doc *Document) Pages() int { return doc.d.f.PageNo() }

// Title draws text as the document's title, in large bold type.
func (doc *Document) Title(text string) {
	doc.d.paragraph(sizeTitle, true, pdfPrintable(text))
}

// Heading draws the heading of a section, kept on a page with the start of
// what follows it.
func (doc *Document) Heading(text string) {
	doc.d.heading(pdfPrintable(text))
}

// Space leaves mm of blank space, unless at the top of a page.
func (doc *Document) Space(mm float64) {
	doc.d.space(mm)
}

// Paragraph draws text wrapped to the text area's width.
func (doc *Document) Paragraph(text string) {
	doc.d.paragraph(sizeBody, false, pdfPrintable(text))
}

// KeyValues draws a two-column table of bold labels and their values.
func (doc *Document) KeyValues(kvs [][2]string) {
	clean := make([][2]string, len(kvs))
	for i, kv := range kvs {
		clean[i] = [2]string{pdfPrintable(kv[0]), kv[1]} // keyValues cleans the value
	}
	doc.d.keyValues(clean)
}

// Table draws a titled table with a header row of columns, whose widths in
// mm are widths (summing to at most Width), and rows each of at most
// len(columns) cells (a shorter row is padded with empty cells). A table
// whose widths do not match its columns, or with a row too long, draws
// nothing and fails the document: Write returns the error.
func (doc *Document) Table(title string, columns []string, widths []float64, rows [][]string) {
	if len(widths) != len(columns) {
		doc.d.f.SetErrorf("table %q: %d widths for %d columns", title, len(widths), len(columns))
		return
	}
	cols := make([]string, len(columns))
	for i, c := range columns {
		cols[i] = pdfPrintable(c)
	}
	padded := make([][]string, len(rows))
	for i, r := range rows {
		if len(r) > len(columns) {
			doc.d.f.SetErrorf("table %q: row %d has %d cells for %d columns", title, i+1, len(r), len(columns))
			return
		}
		padded[i] = r
		if len(r) < len(columns) {
			padded[i] = append(append(make([]string, 0, len(columns)), r...), make([]string, len(columns)-len(r))...)
		}
	}
	doc.d.table2(pdfPrintable(title), cols, widths, padded) // table2 cleans the cells
}

// Write finishes the document and writes it to w. It returns an error
// wrapping the first one a call to the document met (see Table), or w's.
func (doc *Document) Write(w io.Writer) error {
	doc.d.table = nil
	doc.d.f.Close()
	if err := doc.d.f.Error(); err != nil {
		return fmt.Errorf("pdf %q: render: %w", doc.title, err)
	}
	if err := doc.d.f.Output(w); err != nil {
		return fmt.Errorf("pdf %q: write: %w", doc.title, err)
	}
	return nil
}
