package benchmarks

// The search corpus: generated lead lists with known consumers planted in
// them, each of their rows spelling the consumer's identifiers a different
// way, so that only a search (or a scan) that normalizes finds them all.

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/search"
)

// consumerAreas are area codes GenerateLeads never writes, so a
// planted phone number matches no generated row.
var consumerAreas = []string{"646", "718", "917", "332", "929", "347", "551", "201"}

// maxConsumers is how many distinct consumers consumerAt can make.
var maxConsumers = len(consumerAreas) * 100

// consumer is one known consumer: the identifiers as a privacy request
// names them.
type consumer struct {
	phone, email, customerID, account string // phone: ten digits
}

// consumerAt returns consumer i (0 <= i < maxConsumers). Phones are in the
// 555-0100..0199 range reserved for fiction.
func consumerAt(i int) consumer {
	return consumer{
		phone:      fmt.Sprintf("%s555%04d", consumerAreas[i/100%len(consumerAreas)], 100+i%100),
		email:      fmt.Sprintf("consumer.%05d@veil-bench.example", i),
		customerID: fmt.Sprintf("VB-%06d", i),
		account:    fmt.Sprintf("VBA-%07d", i),
	}
}

// spellPhone writes a ten-digit number in the v-th of the spellings
// GenerateLeads uses.
func spellPhone(p string, v int) string {
	a, ex, line := p[:3], p[3:6], p[6:]
	switch v % 6 {
	case 0:
		return p
	case 1:
		return fmt.Sprintf("(%s) %s-%s", a, ex, line)
	case 2:
		return a + "-" + ex + "-" + line
	case 3:
		return a + "." + ex + "." + line
	case 4:
		return "+1 " + a + " " + ex + " " + line
	default:
		return "1-" + a + "-" + ex + "-" + line
	}
}

// spellEmail writes an address in the v-th of four casings and paddings.
func spellEmail(e string, v int) string {
	switch v % 4 {
	case 0:
		return e
	case 1:
		return strings.ToUpper(e)
	case 2:
		return " " + strings.ToUpper(e[:1]) + e[1:] + " "
	default:
		local, domain, _ := strings.Cut(e, "@")
		return local + "@" + strings.ToUpper(domain)
	}
}

// record returns the lead-list record (GeneratedHeader's columns) of the v-th
// row of consumer c.
func (c consumer) record(v int) []string {
	return []string{"Pat", "Bench", spellPhone(c.phone, v), spellEmail(c.email, v), c.customerID, c.account,
		"1 Fiction Way, Apt 5", "New York", "NY", "10001", "Spring Renewal", "Callback", "10.00"}
}

// request returns the identifiers a privacy request of c names: phone and
// email, spelled unlike any of c's rows.
func (c consumer) request() []search.Identifier {
	return []search.Identifier{
		{Field: "phone", Kind: identifiers.Phone, Value: "+1 (" + c.phone[:3] + ") " + c.phone[3:6] + " " + c.phone[6:]},
		{Field: "email", Kind: identifiers.Email, Value: "MAILTO:" + strings.ToUpper(c.email)},
	}
}

// keys returns the index keys of all four of c's identifiers.
func (c consumer) keys(secret []byte) (map[string]bool, error) {
	norm, err := identifiers.NewNormalizer("")
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, id := range []struct {
		kind  identifiers.Kind
		value string
	}{{identifiers.Phone, c.phone}, {identifiers.Email, c.email}, {identifiers.CustomerID, c.customerID}, {identifiers.AccountNumber, c.account}} {
		n, err := norm.Normalize(id.kind, id.value)
		if err != nil {
			return nil, fmt.Errorf("consumer identifier %s: %w", id.kind, err)
		}
		out[identifiers.Key(secret, id.kind, n)] = true
	}
	return out, nil
}

// planted is one consumer row to put into a corpus file.
type planted struct {
	consumer int
	variant  int
}

// plan spreads rowsEach rows of each of consumers consumers over files
// files, never two rows of one consumer in one file when there are enough
// files; it returns the rows of each file.
func plan(consumers, rowsEach, files int) [][]planted {
	out := make([][]planted, files)
	for c := range consumers {
		for v := range rowsEach {
			f := (c*7 + v*3) % files
			out[f] = append(out[f], planted{consumer: c, variant: c + v})
		}
	}
	return out
}

// corpusFile returns a lead list of rows records: GenerateLeads's
// records (seeded by seed) with the planted rows spread evenly among them.
// It fails if rows cannot hold the planted rows.
func corpusFile(rows int, seed uint64, rowsOf []planted) ([]byte, error) {
	if rows < len(rowsOf) {
		return nil, fmt.Errorf("corpus file of %d rows cannot hold %d planted rows", rows, len(rowsOf))
	}
	var gen bytes.Buffer
	if err := GenerateLeads(&gen, rows-len(rowsOf), seed); err != nil {
		return nil, err
	}
	src := gen.Bytes()
	out := bytes.NewBuffer(make([]byte, 0, len(src)+len(rowsOf)*160))
	cw := csv.NewWriter(out)
	// Generated fields hold no newline, so every line is one record.
	next := func() []byte {
		i := bytes.IndexByte(src, '\n')
		line := src[:i+1]
		src = src[i+1:]
		return line
	}
	out.Write(next()) // header
	generated := rows - len(rowsOf)
	for i, p := range rowsOf {
		// Planted row i goes after about (i+1)/(n+1) of the generated rows.
		at := generated * (i + 1) / (len(rowsOf) + 1)
		for written := generated - countLines(src); written < at; written++ {
			out.Write(next())
		}
		if err := cw.Write(consumerAt(p.consumer).record(p.variant)); err != nil {
			return nil, err
		}
		cw.Flush()
	}
	out.Write(src)
	return out.Bytes(), cw.Error()
}

// countLines returns the number of newline-terminated lines in b.
func countLines(b []byte) int { return bytes.Count(b, []byte{'\n'}) }
