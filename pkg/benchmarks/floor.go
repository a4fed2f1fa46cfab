package benchmarks

// The floor of index_floor_ratio: the least any indexer must do with the
// generated list, against which the index function's own entry point is
// measured.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"io"
)

// floorColumns are the columns of GeneratedHeader the floor keys: its identifiers.
var floorColumns = []int{2, 3, 4, 5}

// Floor is the least any indexer must do: read the records with
// encoding/csv and compute one HMAC-SHA256 per non-blank cell of the given
// columns, on the calling goroutine. It returns the number of records and
// HMACs; it fails with encoding/csv's errors.
func Floor(r io.Reader, secret []byte, columns []int) (records, hmacs int, err error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	if _, err := cr.Read(); err != nil {
		return 0, 0, err
	}
	mac := hmac.New(sha256.New, secret)
	var buf []byte
	var sum [sha256.Size]byte
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return records, hmacs, nil
		}
		if err != nil {
			return records, hmacs, err
		}
		for _, c := range columns {
			if c < len(rec) && rec[c] != "" {
				mac.Reset()
				buf = append(buf[:0], rec[c]...)
				mac.Write(buf)
				mac.Sum(sum[:0])
				hmacs++
			}
		}
		records++
	}
}
