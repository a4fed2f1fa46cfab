// The PDF certificate: one page a person can read and file, whatever the
// job's size, so its lists are cut short and every string clipped; the
// JSON certificate holds them whole.

package certificate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/veil-privacy/veil/pkg/export"
)

// ErrTooLong is returned by WritePDF for a certificate that does not fit on
// one page even with its lists left out. Clipping every string makes that
// impossible; the error keeps a second page from being written silently.
var ErrTooLong = errors.New("certificate does not fit on one page")

// limits bounds how many entries of each list the page shows.
type limits struct {
	identifiers, objects, remaining, gaps int
}

// pageLimits is what the page shows at most. A certificate whose long
// strings wrap onto more lines is drawn again with each halved, down to
// none.
var pageLimits = limits{identifiers: 10, objects: 10, remaining: 3, gaps: 10}

// Clips, in characters, of the strings a certificate draws, so that none
// wraps onto more than two or three lines.
const (
	clipID     = 64  // job and request IDs
	clipWord   = 32  // operation, strategy, status, an identifier's kind
	clipHash   = 16  // an identifier's hash prefix, its start kept
	clipKey    = 90  // bucket/key in a table
	clipReason = 60  // why a list could not be read
	clipObject = 120 // s3://bucket/key@version
)

// WritePDF writes c to w as a one-page A4 portrait PDF in the export's
// fonts and style: the job, its identifiers as their kind and hash prefix,
// its totals and objects, its verification and the index's coverage, each
// list cut to its first entries and then counted. The same c gives the
// same bytes (the document's date is c.CompletedAt). It returns an error
// wrapping w's, or ErrTooLong.
func WritePDF(w io.Writer, c Certificate) error {
	lim := pageLimits
	for {
		doc := render(c, lim)
		if doc.Pages() == 1 {
			var buf bytes.Buffer // so that w sees nothing of a failed page
			if err := doc.Write(&buf); err != nil {
				return fmt.Errorf("certificate %s: %w", c.JobID, err)
			}
			if _, err := buf.WriteTo(w); err != nil {
				return fmt.Errorf("certificate %s: write PDF: %w", c.JobID, err)
			}
			return nil
		}
		if lim == (limits{}) {
			return fmt.Errorf("certificate %s: %w (%d pages)", c.JobID, ErrTooLong, doc.Pages())
		}
		lim = limits{lim.identifiers / 2, lim.objects / 2, lim.remaining / 2, lim.gaps / 2}
	}
}

func render(c Certificate, lim limits) *export.Document {
	title := "Certificate of " + clip(c.Operation, clipWord)
	verb := "changed"
	switch c.Operation {
	case OperationErasure:
		title, verb = "Erasure certificate", "erased"
	case OperationCorrection:
		title, verb = "Correction certificate", "corrected"
	}
	doc := export.NewDocument(title+" – job "+clip(c.JobID, clipID), c.CompletedAt)
	doc.Title(title)
	doc.Paragraph(fmt.Sprintf("A job %s the rows matching the identifiers below in the lists Veil indexes, "+
		"and purged the earlier versions that held them. Its verification and coverage say how far it succeeded.", verb))

	kvs := [][2]string{
		{"Job ID", orNone(clip(c.JobID, clipID))},
		{"Request ID", orNone(clip(c.RequestID, clipID))},
	}
	if verb == "changed" { // the title names a known operation
		kvs = append(kvs, [2]string{"Operation", orNone(clip(c.Operation, clipWord))})
	}
	if c.Strategy != "" || c.Operation == OperationErasure {
		kvs = append(kvs, [2]string{"Masking strategy", orNone(clip(c.Strategy, clipWord))})
	}
	kvs = append(kvs,
		[2]string{"Status", orNone(clip(c.Status, clipWord))},
		[2]string{"Started", timestamp(c.StartedAt)},
		[2]string{"Completed", timestamp(c.CompletedAt)},
		[2]string{fmt.Sprintf("Identifiers (%d)", len(c.Identifiers)), identifiers(c.Identifiers, lim.identifiers)},
		[2]string{"Totals", fmt.Sprintf("%s rewritten · %s edited · %s deleted · %s purged (delete markers included)",
			count(c.Totals.ObjectsRewritten, "object"), count(c.Totals.RowsEdited, "row"),
			count(c.Totals.RowsDeleted, "row"), count(c.Totals.VersionsPurged, "version"))},
	)
	doc.KeyValues(kvs)

	if len(c.Objects) == 0 {
		doc.Paragraph("No object was changed.")
	} else {
		rows := make([][]string, 0, min(len(c.Objects), lim.objects))
		for _, o := range c.Objects[:min(len(c.Objects), lim.objects)] {
			rows = append(rows, []string{clip(o.Bucket+"/"+o.Key, clipKey), strconv.FormatInt(o.RowsEdited, 10),
				strconv.FormatInt(o.RowsDeleted, 10), strconv.Itoa(len(o.VersionsPurged))})
		}
		table(doc, fmt.Sprintf("Objects changed (%d)", len(c.Objects)),
			[]string{"Object", "Rows edited", "Rows deleted", "Versions purged"},
			[]float64{doc.Width() - 72, 22, 22, 28}, rows, len(c.Objects), "object")
	}

	v := c.Verification
	doc.Heading("Verification")
	var verdict string
	switch v.Status {
	case "passed":
		verdict = "Passed"
	case "failed":
		verdict = "Failed"
	default: // never run, or a status this page does not know
		verdict = "Not passed (" + orNone(clip(v.Status, clipWord)) + ")"
	}
	doc.Paragraph(fmt.Sprintf("%s: %s index entries and object versions checked at %s; %s.",
		verdict, strconv.FormatInt(v.Checked, 10), timestamp(v.CheckedAt), remaining(v.Remaining)))
	if len(v.Objects) > 0 {
		n := min(len(v.Objects), lim.remaining)
		rows := make([][]string, n)
		for i, o := range v.Objects[:n] {
			rows[i] = []string{clip(o, clipObject)}
		}
		table(doc, fmt.Sprintf("Objects still holding a match (%d)", len(v.Objects)),
			[]string{"Object"}, []float64{doc.Width()}, rows, len(v.Objects), "object")
	}

	coverage(doc, c, lim.gaps)

	doc.Space(3)
	doc.Paragraph("This certificate holds no personal data: identifiers are shown as the first characters " +
		"of their keyed hash. The JSON certificate lists every object, version and gap in full.")
	return doc
}

func coverage(doc *export.Document, c Certificate, limit int) {
	cov := c.Coverage
	doc.Heading("Coverage of the index")
	if cov.Complete() {
		doc.Paragraph(fmt.Sprintf("Complete: %s read in full, so the job reached every list that could "+
			"hold a match.", lists(cov.Objects)))
		return
	}
	doc.Paragraph(fmt.Sprintf("NOT complete: %s read, but %d could not be read, %d %s still being read "+
		"and %d had rows that could not be read. They may hold matches the job could not reach.",
		lists(cov.Objects), len(cov.Unreadable), len(cov.Pending), was(len(cov.Pending)), len(cov.Partial)))
	total := len(cov.Unreadable) + len(cov.Pending) + len(cov.Partial)
	rows := make([][]string, 0, min(total, limit))
	for _, u := range cov.Unreadable {
		if len(rows) == limit {
			break
		}
		rows = append(rows, []string{clip(u.Bucket+"/"+u.Key, clipKey), clip(u.VersionID, clipWord),
			"could not be read: " + clip(u.Reason, clipReason)})
	}
	for _, p := range cov.Pending {
		if len(rows) == limit {
			break
		}
		rows = append(rows, []string{clip(p.Bucket+"/"+p.Key, clipKey), "", "still being read"})
	}
	for _, p := range cov.Partial {
		if len(rows) == limit {
			break
		}
		rows = append(rows, []string{clip(p.Bucket+"/"+p.Key, clipKey), "",
			count(p.UnreadableRows, "row") + " could not be read"})
	}
	table(doc, fmt.Sprintf("Lists not read in full (%d)", total), []string{"List", "Version", "Gap"},
		[]float64{doc.Width() - 90, 30, 60}, rows, total, "list")
}

// identifiers shows the first limit identifiers as "kind prefix…", and
// counts the rest.
func identifiers(ids []Identifier, limit int) string {
	if len(ids) == 0 {
		return "(none)"
	}
	shown := make([]string, 0, min(len(ids), limit)+1)
	for _, id := range ids[:min(len(ids), limit)] {
		shown = append(shown, clip(id.Kind, clipWord)+" "+prefix(id.HashPrefix, clipHash)+"…")
	}
	if rest := len(ids) - len(shown); rest > 0 {
		shown = append(shown, fmt.Sprintf("and %d more", rest))
	}
	return strings.Join(shown, ", ")
}

// table draws the first rows of a list of total entries, and counts the
// rest; it names a list the page has no room for at all.
func table(doc *export.Document, title string, columns []string, widths []float64, rows [][]string, total int, noun string) {
	switch rest := int64(total - len(rows)); {
	case len(rows) == 0:
		doc.Paragraph(fmt.Sprintf("%s: %s, listed in the JSON certificate.", title, count(rest, noun)))
	case rest > 0:
		doc.Table(title, columns, widths, rows)
		doc.Paragraph(fmt.Sprintf("… and %s more, in the JSON certificate.", count(rest, noun)))
	default:
		doc.Table(title, columns, widths, rows)
	}
}

// clip returns s cut to n characters, its start and end kept around an
// ellipsis (the end of a key names its file). Invalid UTF-8 becomes U+FFFD.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return string(r)
	}
	head := (n - 1) / 2
	return string(r[:head]) + "…" + string(r[len(r)-(n-1-head):])
}

// prefix returns the first n characters of s: of a hash given whole, no
// more than a prefix is shown. Invalid UTF-8 becomes U+FFFD.
func prefix(s string, n int) string {
	r := []rune(s)
	return string(r[:min(len(r), n)])
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		return "(not recorded)"
	}
	return t.UTC().Format(time.RFC3339)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

func lists(n int64) string {
	if n == 1 {
		return "1 list was"
	}
	return strconv.FormatInt(n, 10) + " lists were"
}

func was(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func remaining(n int64) string {
	switch n {
	case 0:
		return "no unedited match remains"
	case 1:
		return "1 unedited match remains"
	}
	return strconv.FormatInt(n, 10) + " unedited matches remain"
}
