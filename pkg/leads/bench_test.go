package leads

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"testing"
)

// benchList is a lead list of typical records, quoted fields included.
func benchList(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("First Name,Last Name,Phone,Email,Cust ID,Acct,Address,City,State,Zip,Campaign,Notes\n")
	for i := range rows {
		fmt.Fprintf(&b, "Ann,Lee,(212) 555-%04d,ann.lee%d@example.com,C-%d,%010d,\"%d Main St, Apt 4\",Springfield,IL,62704,Spring Renewal,\n",
			i%10000, i, 100000+i, i*7919, i%9999)
	}
	return b.Bytes()
}

// BenchmarkEncodingCSV is the floor: a bare encoding/csv read.
func BenchmarkEncodingCSV(b *testing.B) {
	data := benchList(100_000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		cr := csv.NewReader(bytes.NewReader(data))
		cr.ReuseRecord = true
		for {
			if _, err := cr.Read(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkReader is the same read through Reader: byte ranges, checks.
func BenchmarkReader(b *testing.B) {
	data := benchList(100_000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := rd.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
