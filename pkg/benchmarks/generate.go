package benchmarks

// The generated lead list every indexing figure reads: realistic columns
// and spellings, the same bytes for the same seed, written as a stream so
// that a list of any size is never held.

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// GeneratedHeader is the header GenerateLeads writes.
var GeneratedHeader = []string{
	"First Name", "lname", "Mobile No.", "E-mail", "Cust ID", "Acct #",
	"Address Line 1", "City", "State", "Zip", "Campaign", "Disposition", "Balance",
}

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
	if err := cw.Write(GeneratedHeader); err != nil {
		return err
	}
	rec := make([]string, len(GeneratedHeader))
	for i := range rows {
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		c := cities[rng.IntN(len(cities))]
		rec[0], rec[1] = first, last
		rec[2] = generatedPhone(rng)
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

// generatedPhone returns a US number in one of six spellings; one in fifty has an
// exchange starting with 1, which no valid number has.
func generatedPhone(rng *rand.Rand) string {
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
