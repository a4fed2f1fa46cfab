// Package rewrite edits a text lead list in place, cell by cell: the pass
// of erasure and correction that writes an object's new version. It is one
// streamed pass over the original object that splices the bytes of the
// edited cells into the original bytes; every other byte is copied
// unchanged: quoting, line breaks inside quoted fields, the byte-order
// mark, the delimiter, the line ends, blank lines, a preamble above the
// header, the end of the file with or without a last line end, and the
// encoding (a new value is written in the list's own encoding, a character
// it cannot hold masked as 'X').
//
// The list is read with leads, which numbers its records as the index
// numbered them; the bytes leads reads are kept beside it, so that the
// original bytes of a record are at hand when it is edited, and the bytes
// between edited records are written out as they are, in large chunks.
// After the last edited record the rest of the object is copied without
// being parsed.
package rewrite

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/veil-privacy/veil/pkg/leads"
)

// Edit is what to do with one record of a list: new values for some of its
// cells, or the whole record removed.
type Edit struct {
	// Record is the record's number, leads.Record.Number (1 for the first
	// data record); it must equal the key the edit is given under.
	Record int64
	// Cells maps a 0-based column index to the cell's new value, UTF-8.
	Cells map[int]string
	// Delete removes the record, its line terminator included; Cells must
	// then be empty.
	Delete bool
}

// Result says what a rewrite did.
type Result struct {
	// Records is how many records were read: every record of the list up
	// to the last edited one, after which the rest is copied unparsed.
	Records int64
	// Edited and Deleted count the records whose cells were replaced and
	// the records removed.
	Edited, Deleted int64
	// BytesIn and BytesOut are the sizes of the original and the
	// rewritten list.
	BytesIn, BytesOut int64
	// Unencodable counts the characters of new values written as 'X'
	// because the list's encoding cannot hold them.
	Unencodable int64
	// HeaderLine is the header's physical line as leads found it (0 for a
	// headerless list): a caller checks it against the index's manifest,
	// which numbered the records from the same header.
	HeaderLine int
}

// flushAt is how many unedited bytes are held before they are written out:
// large writes, in memory that does not grow with the list.
const flushAt = 256 << 10

// Text rewrites the text list read from src into dst, applying edits,
// keyed by record number. opts are the list's reader options as the index
// recorded them (encoding, delimiter, line ends); what is not set is
// detected as leads detects it. Every byte outside an edited cell or a
// deleted record is copied unchanged. Memory is bounded by the largest
// record, not by the list.
//
// Text fails with an *EditError wrapping ErrInvalidEdit (before reading
// anything), ErrNoRecord, ErrNoColumn, ErrUnreadable, ErrMismatch or
// ErrReadBack, naming the record and the column, never a value; with an
// error wrapping ErrUnsupportedEncoding when cells must be spliced into a
// list whose encoding does not allow it; with the errors of leads.NewReader
// and leads.Reader.Next that end a list (wrapped); and with read errors of
// src and write errors of dst (wrapped). After an error, what was written
// to dst is incomplete and must be discarded.
func Text(dst io.Writer, src io.Reader, opts leads.Options, edits map[int64]Edit) (res Result, err error) {
	order, cells, err := plan(edits)
	if err != nil {
		return Result{}, err
	}
	in := &spool{src: src}
	out := &counter{w: dst}
	defer func() { res.BytesIn, res.BytesOut = in.read, out.n }()

	opts.RequireRows = false // a header-only list is an ordinary end here
	rd, err := leads.NewReader(in, opts)
	switch {
	case errors.Is(err, leads.ErrEmpty):
		if len(order) > 0 {
			return res, recordError(order[0], ErrNoRecord)
		}
	case err != nil:
		return res, fmt.Errorf("rewrite: %w", err)
	default:
		res.HeaderLine = rd.HeaderLine()
		var s *splicer
		if cells {
			if s, err = newSplicer(rd.Options()); err != nil {
				return res, err
			}
		}
		if err := apply(out, in, rd, s, order, edits, &res); err != nil {
			return res, err
		}
	}
	// The rest of the object, after the last edited record: what leads has
	// read, then what it has not, which is not kept.
	if err := in.writeTo(out, in.end()); err != nil {
		return res, err
	}
	in.passThrough = true
	if _, err := io.CopyBuffer(out, in, make([]byte, flushAt)); err != nil {
		return res, fmt.Errorf("rewrite: %w", err)
	}
	return res, nil
}

// apply reads the records of rd up to the last one edits names, order
// being their numbers in ascending order, and writes the list's bytes up
// to that record's end to out, edited.
func apply(out *counter, in *spool, rd *leads.Reader, s *splicer, order []int64, edits map[int64]Edit, res *Result) error {
	var buf []byte
	for len(order) > 0 {
		rec, err := rd.Next()
		if err == io.EOF {
			return recordError(order[0], ErrNoRecord)
		}
		// A *leads.ParseError about one record leaves the reader usable
		// (the record is copied as it is); any other error ends the list.
		var perr *leads.ParseError
		if err != nil && (!errors.As(err, &perr) || errors.Is(err, leads.ErrEncoding) || rec.Number <= res.Records) {
			return fmt.Errorf("rewrite: %w", err)
		}
		res.Records = rec.Number
		end := rec.Offset + rec.Length
		if rec.Number != order[0] {
			// Not edited: its bytes go out with the next chunk.
			if end-in.base >= flushAt {
				if err := in.writeTo(out, end); err != nil {
					return err
				}
			}
			continue
		}
		e := edits[order[0]]
		order = order[1:]
		if err != nil {
			return &EditError{Record: rec.Number, Column: -1, Err: ErrUnreadable, Cause: err}
		}
		if rec.Offset < in.base || end > in.end() {
			// leads returns records in order, each within what it read.
			return fmt.Errorf("rewrite: record %d: byte range [%d, %d) outside the bytes held [%d, %d)", rec.Number, rec.Offset, end, in.base, in.end())
		}
		if err := in.writeTo(out, rec.Offset); err != nil {
			return err
		}
		raw := in.bytes(rec.Offset, end)
		switch {
		case e.Delete:
			res.Deleted++
		case len(e.Cells) == 0:
			// Nothing to change; the record only had to exist.
			if err := write(out, raw); err != nil {
				return err
			}
		default:
			var masked int64
			if buf, masked, err = s.splice(buf[:0], raw, rec, e.Cells); err != nil {
				return err
			}
			if err := write(out, buf); err != nil {
				return err
			}
			res.Edited++
			res.Unencodable += masked
		}
		in.drop(end)
	}
	return nil
}

// plan checks edits and returns their record numbers in ascending order,
// and whether any sets cells. It fails with an *EditError wrapping
// ErrInvalidEdit, about the first invalid edit and column.
func plan(edits map[int64]Edit) ([]int64, bool, error) {
	order := slices.Sorted(maps.Keys(edits))
	cells := false
	for _, n := range order {
		e := edits[n]
		if n < 1 || e.Record != n || e.Delete && len(e.Cells) > 0 {
			return nil, false, recordError(n, ErrInvalidEdit)
		}
		for _, col := range slices.Sorted(maps.Keys(e.Cells)) {
			if v := e.Cells[col]; col < 0 || !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				return nil, false, &EditError{Record: n, Column: max(col, -1), Err: ErrInvalidEdit}
			}
		}
		cells = cells || len(e.Cells) > 0
	}
	return order, cells, nil
}

// spool is the source as leads reads it, every byte kept from the first
// one not yet written out (base) to the last one read: at most what leads
// holds of a record plus its read-ahead, and flushAt.
type spool struct {
	src    io.Reader
	mem    []byte
	lo, hi int   // mem[lo:hi] are the source bytes from base on
	base   int64 // source offset of mem[lo]
	read   int64 // source bytes read
	// passThrough stops keeping what is read: the rest of the object is
	// copied as it is.
	passThrough bool
}

func (s *spool) Read(p []byte) (int, error) {
	n, err := s.src.Read(p)
	if n > 0 && !s.passThrough {
		s.keep(p[:n])
	} else {
		s.read += int64(n)
	}
	return n, err
}

func (s *spool) keep(b []byte) {
	if len(s.mem)-s.hi < len(b) {
		live := s.hi - s.lo
		if live+len(b) > len(s.mem)/2 {
			mem := make([]byte, max(2*(live+len(b)), 4*flushAt))
			copy(mem, s.mem[s.lo:s.hi])
			s.mem = mem
		} else {
			copy(s.mem, s.mem[s.lo:s.hi])
		}
		s.lo, s.hi = 0, live
	}
	s.hi += copy(s.mem[s.hi:], b)
	s.read += int64(len(b))
}

// end returns the source offset just past the last byte read.
func (s *spool) end() int64 { return s.base + int64(s.hi-s.lo) }

// bytes returns the source bytes [from, to), which must be held.
func (s *spool) bytes(from, to int64) []byte {
	return s.mem[s.lo+int(from-s.base) : s.lo+int(to-s.base)]
}

// drop forgets the bytes before off.
func (s *spool) drop(off int64) {
	s.lo += int(off - s.base)
	s.base = off
	if s.lo == s.hi {
		s.lo, s.hi = 0, 0
	}
}

// writeTo writes the held bytes before off to w and drops them.
func (s *spool) writeTo(w io.Writer, off int64) error {
	if off <= s.base {
		return nil
	}
	if err := write(w, s.bytes(s.base, off)); err != nil {
		return err
	}
	s.drop(off)
	return nil
}

func write(w io.Writer, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("rewrite: write: %w", err)
	}
	return nil
}

// counter counts the bytes written through it.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
