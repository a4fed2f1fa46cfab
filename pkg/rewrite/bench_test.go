package rewrite

import (
	"bufio"
	"bytes"
	"io"
	"runtime"
	"strconv"
	"testing"

	"github.com/veil-privacy/veil/pkg/leads"
)

// bigHeader and bigRow make a typical lead list: a CRLF list with a quoted
// field holding a comma.
const bigHeader = "First Name,Last Name,Phone,Email,Cust ID,Acct,Address,City,State,Zip,Campaign,Notes\r\n"

func appendBigRow(b []byte, i int) []byte {
	b = append(b, "Ann,Lee,(212) 555-"...)
	b = strconv.AppendInt(b, int64(1000+i%9000), 10)
	b = append(b, ",ann.lee"...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, "@example.com,C-"...)
	b = strconv.AppendInt(b, int64(100000+i), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(1e9+i*7919), 10)
	b = append(b, ",\""...)
	b = strconv.AppendInt(b, int64(i%9999), 10)
	return append(b, " Main St, Apt 4\",Springfield,IL,62704,Spring Renewal,\r\n"...)
}

// bigRows is how many rows make a list of about 50 MB.
func bigRows(size int) int {
	return size / len(appendBigRow(nil, 500000))
}

// writeBig writes a list of rows rows to w, in 64 KiB writes.
func writeBig(w io.Writer, rows int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(bigHeader)
	row := make([]byte, 0, 256)
	for i := range rows {
		row = appendBigRow(row[:0], i)
		if _, err := bw.Write(row); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// bigEdits masks the phone and email of three records: near the start, in
// the middle and near the end, so that the whole list is parsed.
func bigEdits(rows int) map[int64]Edit {
	return edits(
		cells(10, 2, "(2XX) 5XX-XX00", 3, "anXXleXXexXXplXXcoX"),
		cells(int64(rows/2), 2, "(2XX) 5XX-XX00", 3, "anXXleXXexXXplXXcoX"),
		cells(int64(rows-10), 2, "(2XX) 5XX-XX00", 3, "anXXleXXexXXplXXcoX"),
	)
}

// heapWatch is a destination that discards what it is written and, every
// few MiB, takes the live heap (after a collection).
type heapWatch struct {
	n, next int64
	peak    uint64
}

func (h *heapWatch) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	if h.n >= h.next {
		h.next = h.n + 4<<20
		h.peak = max(h.peak, liveHeap())
	}
	return len(p), nil
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestTextMemory: a 50 MB list streamed through Text from a pipe, as an
// S3 GET body is, holds a few MiB of heap at any time: what leads holds of
// a record and its read-ahead, and the bytes between two writes.
func TestTextMemory(t *testing.T) {
	const size = 50 << 20
	rows := bigRows(size)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeBig(pw, rows)) }()
	base := liveHeap()
	dst := &heapWatch{}
	res, err := Text(dst, pr, leads.Options{}, bigEdits(rows))
	if err != nil {
		t.Fatalf("Text: %v", err)
	}
	if res.Edited != 3 || res.BytesIn < size*9/10 || res.BytesOut != dst.n {
		t.Fatalf("Result = %+v, want 3 edited of about %d bytes", res, size)
	}
	grown := int64(dst.peak) - int64(base)
	t.Logf("%d MB list: live heap peaked %.2f MiB above the %.2f MiB baseline", res.BytesIn>>20, float64(grown)/(1<<20), float64(base)/(1<<20))
	if grown > 8<<20 {
		t.Fatalf("live heap grew %d bytes rewriting a %d-byte list, want at most 8 MiB", grown, res.BytesIn)
	}
}

// BenchmarkText is the splice pass over a 50 MB list, edits in 3 records
// spread over it, read from memory and written to a discarding
// destination: the cost of Text itself.
func BenchmarkText(b *testing.B) {
	rows := bigRows(50 << 20)
	var src bytes.Buffer
	if err := writeBig(&src, rows); err != nil {
		b.Fatal(err)
	}
	list := src.Bytes()
	e := bigEdits(rows)
	b.SetBytes(int64(len(list)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Text(io.Discard, bytes.NewReader(list), leads.Options{}, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTextPipe is the same pass streamed from a pipe, reporting the
// live heap's peak above the baseline (the list itself is generated into
// the pipe, never held).
func BenchmarkTextPipe(b *testing.B) {
	rows := bigRows(50 << 20)
	e := bigEdits(rows)
	var size int64
	var grown int64
	for b.Loop() {
		b.StopTimer()
		base := liveHeap()
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeBig(pw, rows)) }()
		dst := &heapWatch{}
		b.StartTimer()
		res, err := Text(dst, pr, leads.Options{}, e)
		if err != nil {
			b.Fatal(err)
		}
		size = res.BytesIn
		grown = max(grown, int64(dst.peak)-int64(base))
	}
	b.SetBytes(size)
	b.ReportMetric(float64(grown)/(1<<20), "peak-live-MiB")
}
