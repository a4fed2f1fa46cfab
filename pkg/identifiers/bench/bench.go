// Package bench measures the indexing pipeline against its floor, for
// `make bench`: the pipeline (leads reader, classification,
// normalization, keys, entries; store writes excluded) against a bare
// encoding/csv read with one HMAC-SHA256 per identifier cell, both on one
// goroutine over the same generated lead list.
package bench

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/leads"
)

// Header is the header GenerateLeads writes.
var Header = []string{
	"First Name", "lname", "Mobile No.", "E-mail", "Cust ID", "Acct #",
	"Address Line 1", "City", "State", "Zip", "Campaign", "Disposition", "Balance",
}

// identifierColumns are the columns of Header the floor keys.
var identifierColumns = []int{2, 3, 4, 5}

// sampleRecords is how many records the pipeline classifies from.
const sampleRecords = 100

var secret = []byte("bench-secret-0123456789abcdef")

var (
	firstNames = []string{"Ann", "Bob", "Carla", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "José"}
	lastNames  = []string{"Lee", "Smith", "García", "Nguyen", "O'Brien", "Kowalski", "Okafor", "Rossi"}
	domains    = []string{"example.com", "Example.org", "mail.example.net", "EXAMPLE.CO.UK"}
	areaCodes  = []string{"212", "312", "415", "617", "713", "305", "404", "206", "303", "702"}
	cities     = []struct{ city, state, zip string }{
		{"New York", "NY", "10001"}, {"Chicago", "IL", "60614"}, {"San Francisco", "CA", "94105"},
		{"Boston", "MA", "02134"}, {"Houston", "TX", "77002"}, {"Miami", "FL", "33101"},
	}
	campaigns    = []string{"Spring Renewal", "Winback Q3", "Cross-sell; Premium"}
	dispositions = []string{"", "Callback", "No Answer", "Sale", "DNC"}
)

// GenerateLeads writes a realistic lead list of rows data records to w:
// names, phones in six common spellings (2% invalid), emails in mixed case
// (10% blank), customer IDs, account numbers, addresses, ZIPs and business
// fields, some of them quoted. The same seed gives the same bytes. It
// fails only when w does.
func GenerateLeads(w io.Writer, rows int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cw := csv.NewWriter(w)
	if err := cw.Write(Header); err != nil {
		return err
	}
	rec := make([]string, len(Header))
	for i := range rows {
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		c := cities[rng.IntN(len(cities))]
		rec[0], rec[1] = first, last
		rec[2] = phone(rng)
		rec[3] = ""
		if rng.IntN(10) != 0 {
			rec[3] = fmt.Sprintf("%s.%s%d@%s", first, last, rng.IntN(1000), domains[rng.IntN(len(domains))])
		}
		rec[4] = "C-" + strconv.Itoa(100000+i)
		rec[5] = fmt.Sprintf("%010d", rng.Int64N(10_000_000_000))
		rec[6] = fmt.Sprintf("%d %s St, Apt %d", 1+rng.IntN(9999), lastNames[rng.IntN(len(lastNames))], 1+rng.IntN(40))
		rec[7], rec[8], rec[9] = c.city, c.state, c.zip
		if rng.IntN(3) == 0 {
			rec[9] += fmt.Sprintf("-%04d", rng.IntN(10000))
		}
		rec[10] = campaigns[rng.IntN(len(campaigns))]
		rec[11] = dispositions[rng.IntN(len(dispositions))]
		rec[12] = fmt.Sprintf("%d.%02d", rng.IntN(5000), rng.IntN(100))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// phone returns a US number in one of six spellings; one in fifty has an
// exchange starting with 1, which no valid number has.
func phone(rng *rand.Rand) string {
	a := areaCodes[rng.IntN(len(areaCodes))]
	ex := 200 + rng.IntN(800)
	if rng.IntN(50) == 0 {
		ex = 100 + rng.IntN(100)
	}
	line := rng.IntN(10000)
	switch rng.IntN(6) {
	case 0:
		return fmt.Sprintf("%s%03d%04d", a, ex, line)
	case 1:
		return fmt.Sprintf("(%s) %03d-%04d", a, ex, line)
	case 2:
		return fmt.Sprintf("%s-%03d-%04d", a, ex, line)
	case 3:
		return fmt.Sprintf("%s.%03d.%04d", a, ex, line)
	case 4:
		return fmt.Sprintf("+1 %s %03d %04d", a, ex, line)
	default:
		return fmt.Sprintf("1-%s-%03d-%04d", a, ex, line)
	}
}

// Pipeline indexes a lead list the way the index function does, minus the
// store: stream the records, classify the columns from the first hundred,
// normalize and key every identifier, build each record's entries. It
// returns the number of records and entries; it fails with the reader's,
// the classifier's or the indexer's errors.
func Pipeline(r io.Reader, secret []byte) (records, entries int, err error) {
	rd, err := leads.NewReader(r, leads.Options{})
	if err != nil {
		return 0, 0, err
	}
	var sample [][]string
	for len(sample) < sampleRecords {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		sample = append(sample, append([]string(nil), rec.Fields...))
	}
	schema, err := identifiers.Classify(rd.Header(), sample, identifiers.ClassifyOptions{})
	if err != nil {
		return 0, 0, err
	}
	ix, err := identifiers.NewIndexer(secret, schema, "")
	if err != nil {
		return 0, 0, err
	}
	es := make([]identifiers.Entry, 0, 16)
	for _, rec := range sample {
		es = ix.Append(es[:0], rec)
		entries += len(es)
	}
	records = len(sample)
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return records, entries, nil
		}
		var perr *leads.ParseError
		if errors.As(err, &perr) && rec.Number > 0 {
			records++ // a bad record is skipped and counted, not fatal
			continue
		}
		if err != nil {
			return records, entries, err
		}
		es = ix.Append(es[:0], rec.Fields)
		entries += len(es)
		records++
	}
}

// Floor is the least any indexer must do: read the records with
// encoding/csv and compute one HMAC-SHA256 per non-blank cell of the given
// columns. It returns the number of records and HMACs.
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

// MeasureIndexFloorRatio generates a lead list of rows records and returns
// the records per second of Pipeline and of Floor over it, each the best
// of a few runs on the calling goroutine. The index_floor_ratio is
// pipeline/floor; run it with GOMAXPROCS=1 for the figure of record. It
// fails if rows < 1 or either run fails.
func MeasureIndexFloorRatio(rows int) (pipelineRowsPerSec, floorRowsPerSec float64, err error) {
	if rows < 1 {
		return 0, 0, fmt.Errorf("bench: rows = %d, want at least 1", rows)
	}
	var data bytes.Buffer
	if err := GenerateLeads(&data, rows, 1); err != nil {
		return 0, 0, fmt.Errorf("bench: generate: %w", err)
	}
	const runs = 3
	for range runs {
		start := time.Now()
		n, _, err := Floor(bytes.NewReader(data.Bytes()), secret, identifierColumns)
		if err != nil {
			return 0, 0, fmt.Errorf("bench: floor: %w", err)
		}
		floorRowsPerSec = max(floorRowsPerSec, float64(n)/time.Since(start).Seconds())

		start = time.Now()
		n, _, err = Pipeline(bytes.NewReader(data.Bytes()), secret)
		if err != nil {
			return 0, 0, fmt.Errorf("bench: pipeline: %w", err)
		}
		pipelineRowsPerSec = max(pipelineRowsPerSec, float64(n)/time.Since(start).Seconds())
	}
	return pipelineRowsPerSec, floorRowsPerSec, nil
}
