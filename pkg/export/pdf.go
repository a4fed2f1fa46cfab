// The PDF writer: an export for a person to read, in volumes that each stand
// alone (cover, disclosure, coverage, then that volume's records), because a
// regulator may be handed only one of them.

package export

import (
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
)

// DefaultPDFVolume is how many records one PDF volume holds by default.
// fpdf keeps a whole document in memory until it is written, so this bounds
// the writer's memory: a volume of 500 ten-field records is about 60 pages
// (a size a person can read through) and about 6 MiB of live heap when
// complete, 2.6 MiB of which are the fonts fpdf parses for every document.
const DefaultPDFVolume = 500

// DejaVu Sans Condensed: it covers Latin, Greek and Cyrillic, and its
// narrow glyphs fit more of a wide row on a page. License: fonts/LICENSE.
var (
	//go:embed fonts/DejaVuSansCondensed.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSansCondensed-Bold.ttf
	fontBold []byte
)

const (
	pdfFont = "dejavu"
	// pageAlias stands for the page count until fpdf writes the document.
	// fpdf replaces it wherever it occurs in a page's content, so it holds
	// a carriage return: pdfPrintable turns every CR in the data into a line
	// break, and fpdf escapes CRs inside the UTF-16 strings it writes for
	// the embedded font, so no record can spell it. The footer that carries
	// it is set in a core font, whose strings fpdf writes unescaped.
	pageAlias = "\r{pages}\r"

	pageMargin = 15.0 // mm, left, right and top
	pageBottom = 20.0 // mm kept clear above the page's bottom edge for the footer
	cellPadY   = 0.6  // mm above and below the text of a bordered cell

	sizeTitle   = 18.0 // pt
	sizeHeading = 12.0
	sizeList    = 10.0
	sizeBody    = 9.0
	sizeTable   = 8.0

	shadeName = 240 // grey of a field-name or label cell
	shadeHead = 215 // grey of a table's header row and a record's band
)

// WritePDF writes the export as PDF volumes of at most perVolume records
// (below 1: DefaultPDFVolume): volume 1 is written to create(1), and so on.
// It returns how many volumes it wrote: at least one, even with no records.
//
// It calls recs twice, first to count the records (each volume names its
// place among the others and the export's size). A volume is rendered in
// memory and then written whole, so create is called only once its volume
// is complete; every writer create returns is closed. On failure WritePDF
// returns the volumes written before it, and an error wrapping the one
// recs, create, a writer or its Close returned, or ErrRecordsChanged when
// the second pass gives a different number of records than the first.
func WritePDF(meta Meta, recs Records, perVolume int, create func(volume int) (io.WriteCloser, error)) (volumes int, err error) {
	if perVolume < 1 {
		perVolume = DefaultPDFVolume
	}
	total := 0
	if err := recs(func(Record) error { total++; return nil }); err != nil {
		return 0, fmt.Errorf("pdf: count records: %w", err)
	}
	of := max(1, (total+perVolume-1)/perVolume)

	var (
		vol  *pdfVolume
		seen int
		werr error // ours, returned through recs unwrapped
	)
	err = recs(func(r Record) error {
		if seen == total {
			werr = fmt.Errorf("pdf: %w: counted %d, then read more", ErrRecordsChanged, total)
			return werr
		}
		if vol == nil {
			vol = newPDFVolume(meta, volumes+1, of, seen+1, min(seen+perVolume, total), total)
		}
		seen++
		vol.record(r, seen)
		if seen%perVolume == 0 {
			werr = vol.write(create)
			vol = nil
			if werr != nil {
				return werr
			}
			volumes++
		}
		return nil
	})
	if werr != nil {
		return volumes, werr
	}
	if err != nil {
		return volumes, fmt.Errorf("pdf: read records: %w", err)
	}
	if seen != total {
		return volumes, fmt.Errorf("pdf: %w: counted %d, then read %d", ErrRecordsChanged, total, seen)
	}
	if total == 0 {
		vol = newPDFVolume(meta, 1, 1, 0, 0, 0)
	}
	if vol != nil {
		if err := vol.write(create); err != nil {
			return volumes, err
		}
		volumes++
	}
	return volumes, nil
}

// pdfVolume is one volume being rendered.
type pdfVolume struct {
	*pdfDoc
	meta Meta
	// volume of volumes; it holds records first to last of total (first
	// is 0 when the export has none).
	volume, volumes    int
	first, last, total int

	// list is the source list whose records are being drawn.
	list    Record
	hasList bool
	// order lays out each record's fields, as the CSV's columns are.
	order fieldOrder
}

// pdfTable is what a table repeats atop each page it continues on.
type pdfTable struct {
	title  string
	header []pdfCell
	band   string // the record being drawn, if any
}

// pdfCell is one cell of a row. A row of one borderless cell is a paragraph.
type pdfCell struct {
	w      float64
	text   string
	bold   bool
	border bool
	shade  int // grey level of the fill; 0 for none
}

// pdfDoc is an A4 document in the fonts and layout every Veil PDF shares,
// and the drawing its pages are made of: rows of wrapped cells, and tables
// whose header repeats atop every page they continue on.
type pdfDoc struct {
	f             *fpdf.Fpdf
	width, bottom float64 // of the text area, in mm
	// fresh says nothing but the page's own header is on it yet, so a new
	// page would not give a row more room.
	fresh bool
	// table is the table being drawn, its title and header (and the record
	// being drawn) repeated atop every page it continues on; nil outside one.
	table *pdfTable
}

// newPDFDoc starts a document with no page yet, whose pages draw header
// and footer; created is its creation date (the Unix epoch when zero).
func newPDFDoc(title string, created time.Time, footer func()) *pdfDoc {
	f := fpdf.New("P", "mm", "A4", "")
	// The same input must give the same bytes: dates from the caller,
	// never the clock, and resources in a fixed order.
	created = created.UTC()
	if created.IsZero() {
		created = time.Unix(0, 0).UTC()
	}
	f.SetCreationDate(created)
	f.SetModificationDate(created)
	f.SetCatalogSort(true)
	f.SetCompression(true)
	f.AddUTF8FontFromBytes(pdfFont, "", fontRegular)
	f.AddUTF8FontFromBytes(pdfFont, "B", fontBold)
	f.AliasNbPages(pageAlias)
	f.SetMargins(pageMargin, pageMargin, pageMargin)
	f.SetAutoPageBreak(false, 0) // breaks are ours, to repeat table headers
	f.SetTitle(pdfPrintable(title), true)
	f.SetCreator("Veil", false)
	f.SetLang("en")

	w, h := f.GetPageSize()
	d := &pdfDoc{f: f, width: w - 2*pageMargin, bottom: h - pageBottom}
	f.SetHeaderFunc(d.header)
	f.SetFooterFunc(footer)
	f.SetDrawColor(150, 150, 150)
	f.SetLineWidth(0.2)
	return d
}

func newPDFVolume(meta Meta, volume, volumes, first, last, total int) *pdfVolume {
	v := &pdfVolume{
		meta:   meta,
		volume: volume, volumes: volumes,
		first: first, last: last, total: total,
	}
	v.pdfDoc = newPDFDoc("Personal data held on you – request "+meta.Request.ID, meta.Request.Answered, v.footer)
	v.f.AddPage()
	v.cover()
	v.disclosure()
	v.coverage()
	v.recordsIntro()
	return v
}

// write finishes the volume and writes it to create(volume).
func (v *pdfVolume) write(create func(volume int) (io.WriteCloser, error)) error {
	v.table = nil
	v.f.Close()
	if err := v.f.Error(); err != nil {
		return fmt.Errorf("pdf volume %d: render: %w", v.volume, err)
	}
	w, err := create(v.volume)
	if err != nil {
		return fmt.Errorf("pdf volume %d: create: %w", v.volume, err)
	}
	err = v.f.Output(w)
	cerr := w.Close()
	switch {
	case err != nil && cerr != nil:
		return fmt.Errorf("pdf volume %d: write: %w (and close: %w)", v.volume, err, cerr)
	case err != nil:
		return fmt.Errorf("pdf volume %d: write: %w", v.volume, err)
	case cerr != nil:
		return fmt.Errorf("pdf volume %d: close: %w", v.volume, cerr)
	}
	return nil
}

func (v *pdfDoc) header() {
	v.fresh = true
	t := v.table
	if t == nil {
		return
	}
	v.draw(sizeList, []pdfCell{{w: v.width, text: t.title + " (continued)", bold: true}})
	v.f.SetY(v.f.GetY() + 1)
	v.draw(sizeTable, t.header)
	if t.band != "" {
		v.draw(sizeTable, []pdfCell{{w: v.width, text: t.band + " (continued)", bold: true, border: true, shade: shadeHead}})
	}
	v.fresh = true
}

func (v *pdfVolume) footer() {
	v.pageFooter(fmt.Sprintf("Request %s · Volume %d of %d", v.meta.Request.ID, v.volume, v.volumes))
}

// pageFooter draws the page's number of the document's pages, and right
// of it text.
func (v *pdfDoc) pageFooter(text string) {
	f := v.f
	f.SetY(-pageBottom + 6)
	f.SetTextColor(80, 80, 80)
	f.SetFont("Helvetica", "", 8)
	f.CellFormat(v.width/3, 5, "Page "+strconv.Itoa(f.PageNo())+" of "+pageAlias, "", 0, "L", false, 0, "")
	f.SetFont(pdfFont, "", 8)
	f.CellFormat(v.width*2/3, 5, pdfPrintable(text), "", 0, "R", false, 0, "")
	f.SetTextColor(0, 0, 0)
}

func (v *pdfVolume) cover() {
	req := v.meta.Request
	v.paragraph(sizeTitle, true, "Personal data held on you")
	v.paragraph(sizeBody, false, "This is the answer to a request to know what personal data is held on you "+
		"(a right of access request). It lists every record found on you, where each was found, "+
		"what the data is used for and who it is shared with, and how complete the search was.")
	v.space(3)
	inVolume := "none"
	if v.first > 0 {
		inVolume = fmt.Sprintf("%d to %d", v.first, v.last)
	}
	v.keyValues([][2]string{
		{"Requester", orUnrecorded(req.Requester)},
		{"Request ID", orUnrecorded(req.ID)},
		{"Received", pdfDate(req.Received)},
		{"Answered", pdfDate(req.Answered)},
		{"Jurisdiction", orUnrecorded(req.Jurisdiction)},
		{"Volume", fmt.Sprintf("Volume %d of %d", v.volume, v.volumes)},
		{"Records in this export", strconv.Itoa(v.total)},
		{"Records in this volume", inVolume},
	})
	if v.volumes > 1 {
		v.space(2)
		v.paragraph(sizeBody, false, fmt.Sprintf("The export is in %d volumes. Each repeats this cover, "+
			"the disclosure and the search's coverage, so that any one can be read on its own.", v.volumes))
	}
}

func (v *pdfVolume) disclosure() {
	d := v.meta.Disclosure
	v.heading("What is held, and why")
	v.items("Categories of personal data found", d.Categories)
	v.items("Sources the data was collected from", d.Sources)
	v.items("Business purposes it is used for", d.Purposes)
	v.items("Categories of third parties it is shared with", d.ThirdParties)
	v.subheading("Retention")
	v.paragraph(sizeBody, false, pdfPrintable(orUnrecorded(d.Retention)))
}

func (v *pdfVolume) coverage() {
	c := v.meta.Coverage
	v.heading("How complete the search was")
	if c.Complete() {
		v.paragraph(sizeBody, false, fmt.Sprintf("The search was complete: %s read in full, "+
			"and none was left unread.", listsWere(c.Objects)))
		return
	}
	v.paragraph(sizeBody, true, "The search was NOT complete.")
	v.paragraph(sizeBody, false, fmt.Sprintf("%s read, but the lists named below could not be read, "+
		"were still being read, or had rows that could not be read. They may hold data on you "+
		"that this export does not show.", listsWere(c.Objects)))
	if len(c.Unreadable) > 0 {
		rows := make([][]string, len(c.Unreadable))
		for i, u := range c.Unreadable {
			rows[i] = []string{u.Bucket + "/" + u.Key, u.VersionID, u.Reason}
		}
		v.table2(fmt.Sprintf("Lists that could not be read (%d)", len(c.Unreadable)),
			[]string{"List", "Version", "Reason"}, []float64{85, 35, v.width - 120}, rows)
	}
	if len(c.Pending) > 0 {
		rows := make([][]string, len(c.Pending))
		for i, p := range c.Pending {
			rows[i] = []string{p.Bucket + "/" + p.Key}
		}
		v.table2(fmt.Sprintf("Lists still being read when the export was made (%d)", len(c.Pending)),
			[]string{"List"}, []float64{v.width}, rows)
	}
	if len(c.Partial) > 0 {
		rows := make([][]string, len(c.Partial))
		for i, p := range c.Partial {
			rows[i] = []string{p.Bucket + "/" + p.Key, strconv.FormatInt(p.UnreadableRows, 10)}
		}
		v.table2(fmt.Sprintf("Lists with rows that could not be read (%d)", len(c.Partial)),
			[]string{"List", "Rows that could not be read"}, []float64{v.width - 45, 45}, rows)
	}
}

func (v *pdfVolume) recordsIntro() {
	v.f.AddPage()
	v.heading("Records held on you")
	switch {
	case v.total == 0 && v.meta.Coverage.Complete():
		v.paragraph(sizeBody, false, "No records were found on you.")
	case v.total == 0:
		v.paragraph(sizeBody, false, "No records were found on you in the lists that could be read. "+
			"The search was not complete (see “How complete the search was”): the lists it could not "+
			"read may hold data on you.")
	default:
		v.paragraph(sizeBody, false, fmt.Sprintf("This volume holds records %d to %d of the %d found on you, "+
			"grouped by the list each was found in. Each record shows its row in the list, what it "+
			"was matched on, and every field of the row.", v.first, v.last, v.total))
	}
}

// record draws the n-th record of the export, under its list's heading.
func (v *pdfVolume) record(r Record, n int) {
	if !v.hasList || !sameList(v.list, r) {
		v.startList(r)
	}
	matched := "(not recorded)"
	if len(r.MatchedOn) > 0 {
		matched = strings.Join(r.MatchedOn, ", ")
	}
	band := pdfPrintable(fmt.Sprintf("Record %d of %d · row %d · matched on: %s", n, v.total, r.Row, matched))
	v.keep(3 * lineHeight(sizeTable))
	v.row(sizeTable, []pdfCell{{w: v.width, text: band, bold: true, border: true, shade: shadeHead}})
	v.table.band = band

	names := v.order.of(r)
	if len(names) == 0 {
		v.row(sizeTable, []pdfCell{{w: v.width, text: "(no fields)", border: true}})
	}
	nameW, valueW := 28.0, v.width/2-28
	for i := 0; i < len(names); i += 2 {
		cells := make([]pdfCell, 0, 4)
		for _, name := range names[i:min(i+2, len(names))] {
			label := pdfPrintable(name)
			if name == "" {
				label = "(unnamed column)"
			}
			cells = append(cells,
				pdfCell{w: nameW, text: label, bold: true, border: true, shade: shadeName},
				pdfCell{w: valueW, text: pdfPrintable(r.Fields[name]), border: true})
		}
		if len(cells) == 2 {
			cells = append(cells, pdfCell{w: nameW, border: true, shade: shadeName}, pdfCell{w: valueW, border: true})
		}
		v.row(sizeTable, cells)
	}
	v.table.band = ""
	v.space(1.5)
}

// startList draws the heading of the list r was found in.
func (v *pdfVolume) startList(r Record) {
	v.table = nil
	v.list = Record{Bucket: r.Bucket, Key: r.Key, VersionID: r.VersionID, Sheet: r.Sheet,
		Campaign: r.Campaign, Uploaded: r.Uploaded}
	v.hasList = true

	title := pdfPrintable("List: " + r.Bucket + "/" + r.Key)
	var about []string
	if r.Sheet != "" {
		about = append(about, "Sheet: "+r.Sheet)
	}
	about = append(about, "Campaign: "+orUnrecorded(r.Campaign), "Uploaded: "+pdfDate(r.Uploaded))
	if r.VersionID != "" {
		about = append(about, "Version: "+r.VersionID)
	}
	header := []pdfCell{
		{w: 28, text: "Field", bold: true, border: true, shade: shadeHead},
		{w: v.width/2 - 28, text: "Value", bold: true, border: true, shade: shadeHead},
		{w: 28, text: "Field", bold: true, border: true, shade: shadeHead},
		{w: v.width/2 - 28, text: "Value", bold: true, border: true, shade: shadeHead},
	}
	v.space(2)
	v.keep(lineHeight(sizeList) + 2*lineHeight(sizeBody) + 6*lineHeight(sizeTable))
	v.paragraph(sizeList, true, title)
	v.paragraph(sizeBody, false, pdfPrintable(strings.Join(about, " · ")))
	v.space(1)
	v.row(sizeTable, header)
	v.table = &pdfTable{title: title, header: header}
}

// keyValues draws a two-column table of labels and their values, the
// values made printable.
func (v *pdfDoc) keyValues(kvs [][2]string) {
	const label = 50.0
	for _, kv := range kvs {
		v.row(sizeBody, []pdfCell{
			{w: label, text: kv[0], bold: true, border: true, shade: shadeName},
			{w: v.width - label, text: pdfPrintable(kv[1]), border: true},
		})
	}
}

// table2 draws a titled table whose header row repeats on every page.
func (v *pdfDoc) table2(title string, columns []string, widths []float64, rows [][]string) {
	header := make([]pdfCell, len(columns))
	for i, c := range columns {
		header[i] = pdfCell{w: widths[i], text: c, bold: true, border: true, shade: shadeHead}
	}
	v.space(2)
	v.keep(lineHeight(sizeList) + 4*lineHeight(sizeTable))
	v.paragraph(sizeList, true, title)
	v.row(sizeTable, header)
	v.table = &pdfTable{title: title, header: header}
	for _, r := range rows {
		cells := make([]pdfCell, len(r))
		for i, text := range r {
			cells[i] = pdfCell{w: widths[i], text: pdfPrintable(text), border: true}
		}
		v.row(sizeTable, cells)
	}
	v.table = nil
}

func (v *pdfDoc) heading(text string) {
	v.space(4)
	v.keep(lineHeight(sizeHeading) + 3*lineHeight(sizeBody))
	v.paragraph(sizeHeading, true, text)
	v.space(1)
}

func (v *pdfDoc) subheading(text string) {
	v.space(1.5)
	v.keep(lineHeight(sizeList) + 2*lineHeight(sizeBody))
	v.paragraph(sizeList, true, text)
}

// items draws a labelled list, one item a line.
func (v *pdfDoc) items(label string, items []string) {
	v.subheading(label)
	if len(items) == 0 {
		v.paragraph(sizeBody, false, "None.")
		return
	}
	for _, it := range items {
		v.row(sizeBody, []pdfCell{{w: 5, text: "•"}, {w: v.width - 5, text: pdfPrintable(it)}})
	}
}

func (v *pdfDoc) paragraph(size float64, bold bool, text string) {
	v.row(size, []pdfCell{{w: v.width, text: text, bold: bold}})
}

func (v *pdfDoc) space(mm float64) {
	if !v.fresh {
		v.f.SetY(v.f.GetY() + mm)
	}
}

// keep starts a new page unless h mm fit on this one, so that a heading is
// not left alone at the foot of a page.
func (v *pdfDoc) keep(h float64) {
	if !v.fresh && v.f.GetY()+h > v.bottom {
		v.f.AddPage()
	}
}

// row draws cells side by side, each wrapped to its width. A row that does
// not fit on the page starts a new one, where the table's header repeats; a
// row taller than a whole page is split between its lines.
func (v *pdfDoc) row(size float64, cells []pdfCell) {
	lines := v.wrap(size, cells)
	n := 1
	for _, l := range lines {
		n = max(n, len(l))
	}
	lh := lineHeight(size)
	// A row up to half a page long is kept whole; a longer one fills the
	// rest of this page first, rather than leave it blank.
	whole := int((v.bottom - pageMargin) / lh / 2)
	for from := 0; from < n; {
		avail := int((v.bottom - v.f.GetY() - 2*cellPadY) / lh)
		rest := n - from
		if rest > avail && !v.fresh && (rest <= whole || avail < 3) {
			v.f.AddPage()
			continue
		}
		k := min(rest, max(avail, 1))
		v.drawLines(size, cells, lines, from, k)
		from += k
		if from < n {
			v.f.AddPage()
		}
	}
}

// draw draws cells as one row without breaking the page (for page headers).
func (v *pdfDoc) draw(size float64, cells []pdfCell) {
	lines := v.wrap(size, cells)
	n := 1
	for _, l := range lines {
		n = max(n, len(l))
	}
	v.drawLines(size, cells, lines, 0, n)
}

func (v *pdfDoc) wrap(size float64, cells []pdfCell) [][]string {
	lines := make([][]string, len(cells))
	for i, c := range cells {
		v.setFont(size, c.bold)
		lines[i] = v.f.SplitText(c.text, c.w)
	}
	return lines
}

// drawLines draws lines from to from+n of each cell's wrapped text.
func (v *pdfDoc) drawLines(size float64, cells []pdfCell, lines [][]string, from, n int) {
	f := v.f
	lh := lineHeight(size)
	x, top := pageMargin, f.GetY()
	y, h := top, float64(n)*lh
	if hasBorder(cells) {
		h += 2 * cellPadY
		y += cellPadY
	}
	for i, c := range cells {
		style := ""
		if c.shade > 0 {
			f.SetFillColor(c.shade, c.shade, c.shade)
			style = "F"
		}
		if c.border {
			style += "D"
		}
		if style != "" {
			f.Rect(x, top, c.w, h, style)
		}
		v.setFont(size, c.bold)
		for j := from; j < from+n && j < len(lines[i]); j++ {
			f.SetXY(x, y+float64(j-from)*lh)
			f.CellFormat(c.w, lh, lines[i][j], "", 0, "L", false, 0, "")
		}
		x += c.w
	}
	f.SetXY(pageMargin, top+h)
	v.fresh = false
}

func (v *pdfDoc) setFont(size float64, bold bool) {
	style := ""
	if bold {
		style = "B"
	}
	v.f.SetFont(pdfFont, style, size)
}

func hasBorder(cells []pdfCell) bool {
	return slices.ContainsFunc(cells, func(c pdfCell) bool { return c.border })
}

// lineHeight is the height of a line of text of size points, in mm.
func lineHeight(size float64) float64 {
	return size * 25.4 / 72 * 1.2
}

// sameList reports whether b was found in the list a names, as its heading
// shows it.
func sameList(a, b Record) bool {
	return a.Bucket == b.Bucket && a.Key == b.Key && a.VersionID == b.VersionID && a.Sheet == b.Sheet &&
		a.Campaign == b.Campaign && a.Uploaded.Equal(b.Uploaded)
}

func pdfDate(t time.Time) string {
	if t.IsZero() {
		return "(not recorded)"
	}
	return t.UTC().Format(time.DateOnly)
}

func orUnrecorded(s string) string {
	if s == "" {
		return "(not recorded)"
	}
	return s
}

func listsWere(n int64) string {
	if n == 1 {
		return "1 list was"
	}
	return strconv.FormatInt(n, 10) + " lists were"
}

// pdfPrintable returns s as the embedded font can show it, every other
// character kept. fpdf writes text as UTF-16 without surrogate pairs and
// panics on truncated UTF-8, so invalid bytes and characters beyond the
// Basic Multilingual Plane become U+FFFD. Control characters have no glyph:
// tab becomes a space, CR and CRLF a line break (which also keeps pageAlias
// unspellable), and the rest U+FFFD.
func pdfPrintable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\n':
		case r == '\t':
			r = ' '
		case r == '\r':
			r = '\n'
			if i < len(s) && s[i] == '\n' {
				i++
			}
		case r > 0xFFFF, unicode.IsControl(r):
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}
