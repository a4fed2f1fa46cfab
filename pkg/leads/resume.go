package leads

// Resuming: a list too large for one pass is read in record-aligned byte
// ranges, each by its own Reader. A range starts at a record a whole-list
// Reader returned, so encoding/csv starts in the same state there as it did
// then, and every record of the range reads as it did in the whole list:
// same fields, same Number and Line, same Offset and Length in the object.

import (
	"fmt"
	"io"
)

// Position is where a record starts: its Offset in the object's bytes, its
// Number and its Line, as a Reader returned them.
type Position struct {
	Offset int64 `json:"offset"`
	Number int64 `json:"number"`
	Line   int   `json:"line"`
}

// At returns the record's Position.
func (r Record) At() Position { return Position{Offset: r.Offset, Number: r.Number, Line: r.Line} }

// NewReaderAt returns a Reader of the records in r, the object's bytes from
// at.Offset on (a ranged GET from a record's start to another record's start
// or the end), numbered from at. opts must be the Options the whole list
// was read with (Reader.Options: encoding, delimiter, line ends), and header
// and headerLine its Header and HeaderLine; nothing is sniffed. It fails
// with an error wrapping ErrUnknownEncoding, or for an invalid delimiter.
func NewReaderAt(r io.Reader, at Position, header []string, headerLine int, opts Options) (*Reader, error) {
	opts = opts.withDefaults()
	if !validDelimiter(opts.Delimiter) {
		return nil, fmt.Errorf("leads: invalid delimiter %q", opts.Delimiter)
	}
	c, err := codecFor(opts.Encoding)
	if err != nil {
		return nil, err
	}
	opts.Encoding = c.name
	if at.Line < 1 {
		at.Line = 1
	}
	if opts.CRLineEnds {
		r = &crReader{r: r, c: c}
	}
	rd := &Reader{opts: opts, c: c, header: header, headerLine: headerLine, number: at.Number - 1}
	start := at.Offset
	if c.enc == nil {
		rd.win = &window{src: r, base: start, keep: start}
	} else {
		// The transcoder maps decoded lines back to source offsets from
		// at.Offset, which is line at.Line; decoded text starts at 0.
		rd.tx = newTranscoder(r, c, start)
		rd.tx.firstLine, rd.tx.lines = at.Line, at.Line-1
		rd.win = &window{src: rd.tx}
		start = 0
	}
	rd.win.limit = int64(opts.MaxRecordBytes)
	rd.restart(start, at.Line)
	return rd, nil
}
