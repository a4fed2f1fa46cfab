// Package workbook reads Excel workbooks (.xlsx) as lead lists: every sheet
// is one list, its header found below any preamble, its rows streamed in
// constant memory with the row numbers Excel shows, so that the index can
// point at "sheet S, row N" and search can read those rows back.
//
// Parsing is excelize's. This package adds the container checks (OLE2 and
// encrypted files, zips that are not workbooks, checksums), size limits
// against zip bombs, header detection, blank-row skipping and errors that
// never quote a cell.
package workbook

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Kind is what the first bytes of an object say it is.
type Kind int

// Kinds that Sniff tells apart.
const (
	// NotWorkbook is anything else: text, another binary format, or fewer
	// bytes than a signature.
	NotWorkbook Kind = iota
	// Zip is a zip container, which an .xlsx is (so are .docx and plain
	// archives: Open tells them apart).
	Zip
	// OLE2 is a compound file: an encrypted .xlsx or a legacy .xls.
	OLE2
)

// String returns the kind's name, "unknown" for a value that is not a Kind.
func (k Kind) String() string {
	switch k {
	case NotWorkbook:
		return "not a workbook"
	case Zip:
		return "zip"
	case OLE2:
		return "OLE2"
	}
	return "unknown"
}

var (
	zipMagic  = []byte("PK\x03\x04")
	ole2Magic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// sniffLen is how many bytes Sniff needs to tell every Kind apart.
const sniffLen = 8

// Sniff reports whether prefix, the first bytes of an object, starts a zip
// container ("PK\x03\x04") or an OLE2 compound file. Eight bytes are enough;
// a shorter prefix that cannot hold a signature is NotWorkbook. It never
// fails.
func Sniff(prefix []byte) Kind {
	switch {
	case bytes.HasPrefix(prefix, zipMagic):
		return Zip
	case bytes.HasPrefix(prefix, ole2Magic):
		return OLE2
	}
	return NotWorkbook
}

// Default limits. Together they bound what one Open can take: disk in
// TempDir at most DefaultMaxBytes + DefaultMaxUnzippedBytes (448 MiB, under
// Lambda's default 512 MB of /tmp), and memory for the workbook's parts at
// most DefaultMaxInMemoryBytes plus a few dozen bytes per distinct string in
// a large shared-string table (excelize's offset index into its spill file).
const (
	// DefaultMaxBytes is the largest workbook file accepted. For most
	// workbooks DefaultMaxUnzippedBytes binds first; this one keeps the
	// spool itself bounded.
	DefaultMaxBytes = 64 << 20
	// DefaultMaxUnzippedBytes caps the sum of the uncompressed sizes of all
	// parts: about 1.5 million rows of five short columns (50,000 such
	// rows are 13 MB of XML). Worksheet XML compresses 5 to 10 times, so
	// this admits workbook files of 40 to 75 MiB; a file that unzips to
	// more is refused rather than allowed to fill /tmp.
	DefaultMaxUnzippedBytes = 384 << 20
	// DefaultMaxInMemoryBytes caps the uncompressed parts that excelize
	// keeps in memory: every part except worksheets and the shared-string
	// table over DefaultPartMemoryBytes (styles, the workbook, themes,
	// drawings, images, small sheets).
	DefaultMaxInMemoryBytes = 64 << 20
	// DefaultPartMemoryBytes is the size above which excelize spills a
	// worksheet or the shared-string table to TempDir and streams it
	// instead of holding it (its UnzipXMLSizeLimit, 16 MiB by default). A
	// shared-string table held in memory costs about seven times its size
	// once parsed and mapped; spilled, it costs an offset pair per string
	// (a few dozen bytes) and a ReadAt per string cell, so the threshold
	// is kept low.
	DefaultPartMemoryBytes = 1 << 20
)

// Options tunes Open. The zero value uses os.TempDir and the default
// limits.
type Options struct {
	// TempDir is where the workbook is spooled and where excelize spills
	// large parts; "" means os.TempDir().
	TempDir string
	// MaxBytes is the largest workbook file accepted; 0 means
	// DefaultMaxBytes.
	MaxBytes int64
	// MaxUnzippedBytes caps the total uncompressed size of the workbook's
	// parts, and so the disk excelize's spill files take; 0 means
	// DefaultMaxUnzippedBytes.
	MaxUnzippedBytes int64
	// MaxInMemoryBytes caps the total uncompressed size of the parts held
	// in memory; 0 means DefaultMaxInMemoryBytes.
	MaxInMemoryBytes int64
	// PartMemoryBytes is the size above which a worksheet or the shared
	// string table is spilled to TempDir; 0 means DefaultPartMemoryBytes.
	PartMemoryBytes int64
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxUnzippedBytes <= 0 {
		o.MaxUnzippedBytes = DefaultMaxUnzippedBytes
	}
	if o.MaxInMemoryBytes <= 0 {
		o.MaxInMemoryBytes = DefaultMaxInMemoryBytes
	}
	if o.PartMemoryBytes <= 0 {
		o.PartMemoryBytes = DefaultPartMemoryBytes
	}
	// excelize refuses a spill threshold above its total limit.
	o.PartMemoryBytes = min(o.PartMemoryBytes, o.MaxUnzippedBytes)
	return o
}

// shortDatePattern renders cells in Excel's built-in short date format
// (number format 14, and 22 with the time) as ISO dates. That format is
// "the system's short date", so the file does not say whether 04/12/90 is
// April or December; excelize's stand-in is "mm-dd-yy", whose two-digit
// year loses the century of a date of birth. Dates with a format of their
// own ("dd/mm/yyyy") keep it: that is what the list's owner sees.
const shortDatePattern = "yyyy-mm-dd"

// Workbook is an open workbook. It is not safe for concurrent use, and
// neither are its SheetReaders.
type Workbook struct {
	f      *excelize.File
	sheets []string
}

// Open reads a workbook from r. It spools r to a temporary file in
// opts.TempDir (memory stays constant in the size of the workbook), checks
// the zip container (limits, encryption, every entry's checksum), and opens
// it with excelize. The spool file is removed before Open returns; the files
// excelize spills large parts to are removed by Close.
//
// Open fails with ErrEncrypted for an OLE2 file or a zip with encrypted
// entries, ErrNotWorkbook for anything that is not a zip or a zip without a
// workbook, ErrTooLarge past a limit of opts, an error wrapping ErrCorrupt
// for a damaged zip or unparsable workbook XML, and read errors of r
// (wrapped).
func Open(r io.Reader, opts Options) (*Workbook, error) {
	wb, err := open(r, opts.withDefaults())
	if err != nil {
		return nil, fmt.Errorf("workbook: %w", err)
	}
	return wb, nil
}

func open(r io.Reader, opts Options) (*Workbook, error) {
	prefix := make([]byte, sniffLen)
	n, err := io.ReadFull(r, prefix)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("read: %w", err)
	}
	prefix = prefix[:n]
	switch Sniff(prefix) {
	case OLE2:
		return nil, ErrEncrypted
	case NotWorkbook:
		return nil, ErrNotWorkbook
	}

	path, err := spool(io.MultiReader(bytes.NewReader(prefix), r), opts)
	if err != nil {
		return nil, err
	}
	// excelize copies what it needs out of the file while opening (into
	// memory or its own spill files) and closes it, so the spool can go
	// as soon as OpenFile returns.
	defer os.Remove(path)
	if err := inspect(path, opts); err != nil {
		return nil, err
	}
	f, err := excelize.OpenFile(path, excelize.Options{
		// Formatted values, not raw ones: the value a person typed and
		// sees. A number in General format comes back in full
		// ("4155550166", excelize never uses the exponent below 16
		// significant digits), a zip code formatted "00000" keeps its
		// leading zero, and a date comes back as a date instead of a
		// serial number (raw values would give "32975" for 1990-04-12).
		RawCellValue:      false,
		UnzipSizeLimit:    opts.MaxUnzippedBytes,
		UnzipXMLSizeLimit: opts.PartMemoryBytes,
		TmpDir:            opts.TempDir,
		ShortDatePattern:  shortDatePattern,
	})
	if err != nil {
		// A failure after the parts are read comes with the File, and
		// its spill files are only removed by closing it.
		if f != nil {
			_ = f.Close()
		}
		return nil, corrupt(err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		// No workbook part, or one without sheets, which Excel never
		// writes.
		_ = f.Close()
		return nil, ErrNotWorkbook
	}
	return &Workbook{f: f, sheets: sheets}, nil
}

// spool copies r to a new temporary file and returns its path. It fails
// with ErrTooLarge when r holds more than opts.MaxBytes, and with read or
// write errors (wrapped); the file is removed on failure.
func spool(r io.Reader, opts Options) (path string, err error) {
	tmp, err := os.CreateTemp(opts.TempDir, "veil-workbook-*.xlsx")
	if err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	defer func() {
		if cerr := tmp.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("spool: %w", cerr)
		}
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, io.LimitReader(r, opts.MaxBytes+1))
	if err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	if n > opts.MaxBytes {
		return "", fmt.Errorf("%w: file over %d bytes", ErrTooLarge, opts.MaxBytes)
	}
	return tmp.Name(), nil
}

// inspect checks the zip container before excelize sees it. excelize
// loads every part it does not spill into memory, checks limits against the
// sizes the zip declares, and ignores read errors of the parts it holds, so
// a damaged entry would read as a sheet that silently ends early: a privacy
// index that misses rows. Inflating every entry once here costs far less
// than the XML parsing that follows, and archive/zip enforces the declared
// sizes and checksums while it reads.
func inspect(path string, opts Options) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return corrupt(err)
	}
	defer zr.Close()
	var (
		total, inMemory uint64
		names           = make(map[string]bool, len(zr.File))
		rels, types     []byte
	)
	for _, zf := range zr.File {
		if zf.Flags&0x1 != 0 {
			return ErrEncrypted
		}
		name := strings.ToLower(strings.ReplaceAll(zf.Name, "\\", "/"))
		names[name] = true
		size := zf.UncompressedSize64
		if total += size; size > uint64(opts.MaxUnzippedBytes) || total > uint64(opts.MaxUnzippedBytes) {
			return fmt.Errorf("%w: parts unzip to over %d bytes", ErrTooLarge, opts.MaxUnzippedBytes)
		}
		if !spilled(name, size, opts) {
			if inMemory += size; inMemory > uint64(opts.MaxInMemoryBytes) {
				return fmt.Errorf("%w: in-memory parts unzip to over %d bytes", ErrTooLarge, opts.MaxInMemoryBytes)
			}
		}
		var keep *[]byte
		switch name {
		case "_rels/.rels":
			keep = &rels
		case "[content_types].xml":
			keep = &types
		}
		if err := verify(zf, keep); err != nil {
			return corrupt(err)
		}
	}
	return checkWorkbookPart(names, rels, types)
}

// spilled reports whether excelize streams the part from a spill file
// rather than holding it, by the rule of its ReadZipReader.
func spilled(name string, size uint64, opts Options) bool {
	big := size > uint64(opts.PartMemoryBytes)
	return big && (strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml")
}

// verify inflates one entry, failing on a checksum mismatch, a size other
// than the declared one, or an unsupported compression method. With keep
// set it also returns the entry's bytes there (held in memory anyway, and
// counted against MaxInMemoryBytes).
func verify(zf *zip.File, keep *[]byte) error {
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	if keep != nil {
		*keep, err = io.ReadAll(rc)
	} else {
		_, err = io.Copy(io.Discard, rc)
	}
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return err
}

// checkWorkbookPart fails with ErrNotWorkbook unless the package's main
// part (the target of the officeDocument relationship, which is how
// excelize finds it too) exists and is a spreadsheet's. A .docx and a
// .pptx are the same kind of package with another main part, and an .xlsb
// has a binary one that excelize cannot read.
func checkWorkbookPart(names map[string]bool, rels, types []byte) error {
	var r struct {
		Rel []struct {
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(rels, &r); err != nil {
		return ErrNotWorkbook
	}
	main := ""
	for _, rel := range r.Rel {
		// Transitional and strict OOXML name the type differently.
		if strings.HasSuffix(rel.Type, "/officeDocument") {
			main = strings.ToLower(strings.TrimPrefix(rel.Target, "/"))
			break
		}
	}
	if main == "" || !names[main] {
		return ErrNotWorkbook
	}
	var ct struct {
		Override []struct {
			PartName    string `xml:"PartName,attr"`
			ContentType string `xml:"ContentType,attr"`
		} `xml:"Override"`
	}
	_ = xml.Unmarshal(types, &ct)
	contentType := ""
	for _, o := range ct.Override {
		if strings.EqualFold(strings.TrimPrefix(o.PartName, "/"), main) {
			contentType = strings.ToLower(o.ContentType)
		}
	}
	switch {
	case strings.Contains(contentType, "binary"):
		return fmt.Errorf("%w: binary workbook (.xlsb)", ErrNotWorkbook)
	case strings.HasSuffix(contentType, ".main+xml") &&
		(strings.Contains(contentType, "spreadsheetml") || strings.Contains(contentType, "ms-excel")):
		return nil
	case contentType == "" && path.Base(main) == "workbook.xml":
		// No override: Excel would refuse it, but the part is where
		// every writer puts a workbook; let excelize try.
		return nil
	}
	return ErrNotWorkbook
}

// Close releases the workbook and removes excelize's spill files. It
// returns the first error removing them; calling it again returns nil.
func (w *Workbook) Close() error {
	if w.f == nil {
		return nil
	}
	f := w.f
	w.f = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("workbook: close: %w", err)
	}
	return nil
}

// Sheets returns the names of the workbook's sheets in workbook order,
// hidden ones included. The slice must not be modified. It never fails: a
// workbook that Open returned has at least one sheet name.
func (w *Workbook) Sheets() []string { return w.sheets }

// ReadRows reads back the given spreadsheet rows (1-based, as Excel numbers
// them) of one sheet, as Next returned them: a map from row number to
// fields. Rows that are blank or absent from the sheet, and numbers out of
// range, are absent from the map. It streams the sheet from the top and
// stops past the largest row asked for.
//
// It fails with a *SheetError wrapping ErrSheetNotFound, or ErrCorrupt for
// a malformed worksheet.
func (w *Workbook) ReadRows(sheet string, rows []int) (map[int][]string, error) {
	want := make(map[int]bool, len(rows))
	last := 0
	for _, n := range rows {
		if n >= 1 && n <= excelize.TotalRows {
			want[n] = true
			last = max(last, n)
		}
	}
	c, err := w.cursor(sheet)
	if err != nil {
		return nil, err
	}
	defer c.close()
	got := make(map[int][]string, len(want))
	for len(got) < len(want) {
		row, err := c.next(last)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if want[row.Number] {
			got[row.Number] = row.Fields
		}
	}
	return got, nil
}
