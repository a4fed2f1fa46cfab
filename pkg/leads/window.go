package leads

import (
	"errors"
	"io"
)

// window keeps the raw bytes of the record being parsed, so that a record's
// byte range and raw text are exact whatever encoding/csv made of them. It
// sits between the source and encoding/csv's buffered reader, sees every
// byte once, and holds only the bytes from the start of the pending record
// to the end of what has been read: constant memory however long the file.

// errOverLimit is window's signal that the pending record outgrew the limit.
var errOverLimit = errors.New("leads: pending record over limit")

// compactAt is how many consumed bytes the window lets pile up before it
// moves the rest down; large enough that moving is rare, small enough to
// stay in cache.
const compactAt = 256 << 10

type window struct {
	src   io.Reader
	buf   []byte // input bytes [base, base+len(buf))
	base  int64  // input offset of buf[0]
	keep  int64  // input offset of the first byte still needed
	limit int64  // most bytes pending past keep before errOverLimit; 0 = none
	err   error  // sticky error from src or the limit
}

func (w *window) Read(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.limit > 0 && w.base+int64(len(w.buf))-w.keep > w.limit {
		w.err = errOverLimit
		return 0, w.err
	}
	n, err := w.src.Read(p)
	w.buf = append(w.buf, p[:n]...)
	if err != nil {
		w.err = err
	}
	return n, err
}

// bytes returns the input bytes [from, to); both must be inside the window.
func (w *window) bytes(from, to int64) []byte {
	return w.buf[from-w.base : to-w.base]
}

// end returns the input offset just past the last byte read.
func (w *window) end() int64 { return w.base + int64(len(w.buf)) }

// release says the bytes before off are no longer needed.
func (w *window) release(off int64) {
	w.keep = off
	drop := off - w.base
	if drop >= compactAt && drop >= int64(len(w.buf))/2 {
		n := copy(w.buf, w.buf[drop:])
		w.buf = w.buf[:n]
		w.base = off
	}
}
