package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/indexing"
)

// jsonExport is the JSON export as a reader decodes it.
type jsonExport struct {
	Request    Request           `json:"request"`
	Disclosure Disclosure        `json:"disclosure"`
	Coverage   indexing.Coverage `json:"coverage"`
	Records    []Record          `json:"records"`
}

// decodeJSON decodes an export, refusing fields it does not know.
func decodeJSON(t *testing.T, b []byte) jsonExport {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("invalid JSON:\n%s", b)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var got jsonExport
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("JSON continues after the document: %v", err)
	}
	return got
}

// fieldKeys returns the keys of every record's "fields" object, in the
// order the document has them.
func fieldKeys(t *testing.T, b []byte) [][]string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	token := func() json.Token {
		t.Helper()
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("JSON token: %v", err)
		}
		return tok
	}
	// skip skips the value whose first token is tok.
	skip := func(tok json.Token) {
		depth := 0
		for {
			if d, ok := tok.(json.Delim); ok {
				if d == '{' || d == '[' {
					depth++
				} else {
					depth--
				}
			}
			if depth == 0 {
				return
			}
			tok = token()
		}
	}
	var keys [][]string
	if tok := token(); tok != json.Delim('{') {
		t.Fatalf("document starts %v, want {", tok)
	}
	for dec.More() {
		name := token()
		if name != "records" {
			skip(token())
			continue
		}
		if tok := token(); tok != json.Delim('[') {
			t.Fatalf("records start %v, want [", tok)
		}
		for dec.More() {
			token() // {
			var rec []string
			for dec.More() {
				k := token()
				if k != "fields" {
					skip(token())
					continue
				}
				token() // {
				for dec.More() {
					rec = append(rec, token().(string))
					token()
				}
				token() // }
			}
			token() // }
			keys = append(keys, rec)
		}
		token() // ]
	}
	return keys
}

func TestWriteJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	n, err := WriteJSON(&buf, goldenMeta, recordsOf(goldenRecords()))
	if err != nil {
		t.Fatalf("WriteJSON error = %v", err)
	}
	if n != len(goldenRecords()) {
		t.Errorf("WriteJSON wrote %d records, want %d", n, len(goldenRecords()))
	}
	checkGolden(t, "json_export.json", buf.Bytes())
}

func TestWriteJSONRoundTrip(t *testing.T) {
	recs := goldenRecords()
	var buf bytes.Buffer
	if _, err := WriteJSON(&buf, goldenMeta, recordsOf(recs)); err != nil {
		t.Fatalf("WriteJSON error = %v", err)
	}
	got := decodeJSON(t, buf.Bytes())
	if !reflect.DeepEqual(got.Request, goldenMeta.Request) {
		t.Errorf("request = %+v, want %+v", got.Request, goldenMeta.Request)
	}
	if !reflect.DeepEqual(got.Disclosure, goldenMeta.Disclosure) {
		t.Errorf("disclosure = %+v, want %+v", got.Disclosure, goldenMeta.Disclosure)
	}
	if !reflect.DeepEqual(got.Coverage, goldenMeta.Coverage) {
		t.Errorf("coverage = %+v, want %+v", got.Coverage, goldenMeta.Coverage)
	}
	// The JSON carries a header as its fields' order, and times in UTC;
	// values are not neutralized.
	want := goldenRecords()
	for i := range want {
		want[i].Header = nil
		want[i].Uploaded = want[i].Uploaded.UTC()
	}
	if !reflect.DeepEqual(got.Records, want) {
		t.Errorf("records = %+v\nwant %+v", got.Records, want)
	}
	wantKeys := [][]string{
		{"First Name", "Last Name", "Phone", "E-mail", "Notes"},
		{"First Name", "Last Name", "Phone", "E-mail", "Notes", "Column 6"},
		{"cust_id", "acct no"},
		wideHeader(),
	}
	if got := fieldKeys(t, buf.Bytes()); !equalRows(got, wantKeys) {
		t.Errorf("fields keys = %q, want %q", got, wantKeys)
	}
	// Omitted when empty or zero.
	var raw struct{ Records []map[string]json.RawMessage }
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatalf("decode JSON: %v", err)
	}
	present := []struct {
		rec  int
		name string
		want bool
	}{
		{0, "campaign", true}, {0, "uploaded", true}, {0, "sheet", false},
		{2, "sheet", true}, {2, "campaign", false},
		{3, "sheet", false}, {3, "campaign", false}, {3, "uploaded", false},
	}
	for _, p := range present {
		if _, ok := raw.Records[p.rec][p.name]; ok != p.want {
			t.Errorf("record %d has %q = %v, want %v", p.rec, p.name, ok, p.want)
		}
	}
}

func TestWriteJSONNilLists(t *testing.T) {
	recs := []Record{{Bucket: "b", Key: "k.csv", Row: 2}}
	var buf bytes.Buffer
	if _, err := WriteJSON(&buf, Meta{}, recordsOf(recs)); err != nil {
		t.Fatalf("WriteJSON error = %v", err)
	}
	for _, want := range []string{`"unreadable":[]`, `"pending":[]`, `"partial":[]`, `"fields":{}`, `"matchedOn":[]`} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("JSON has no %s:\n%s", want, buf.Bytes())
		}
	}
}

func TestWriteJSONNoRecords(t *testing.T) {
	var buf bytes.Buffer
	n, err := WriteJSON(&buf, goldenMeta, recordsOf(nil))
	if err != nil || n != 0 {
		t.Fatalf("WriteJSON = %d, %v, want 0, nil", n, err)
	}
	if got := decodeJSON(t, buf.Bytes()); got.Records == nil || len(got.Records) != 0 {
		t.Errorf("records = %#v, want []", got.Records)
	}
}

func TestWriteJSONErrors(t *testing.T) {
	testWriterErrors(t, WriteJSON, 3)

	t.Run("upload time out of range", func(t *testing.T) {
		recs := []Record{{Bucket: "b", Key: "k.csv", Row: 7, Fields: map[string]string{"Name": secret},
			Uploaded: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}
		n, err := WriteJSON(io.Discard, goldenMeta, recordsOf(recs))
		if err == nil || n != 0 {
			t.Fatalf("WriteJSON = %d, %v, want 0 and an error", n, err)
		}
		if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "b/k.csv row 7") {
			t.Errorf("error %q: want the record named and no value", err)
		}
	})
	t.Run("request time out of range", func(t *testing.T) {
		meta := goldenMeta
		meta.Request.Received = meta.Request.Received.AddDate(20000, 0, 0)
		_, err := WriteJSON(io.Discard, meta, recordsOf(nil))
		var je *json.MarshalerError
		if !errors.As(err, &je) || !strings.Contains(err.Error(), "request") {
			t.Errorf("WriteJSON error = %v, want a *json.MarshalerError naming the request", err)
		}
	})
}

func TestWriteJSONStreams(t *testing.T) {
	testWriterStreams(t, WriteJSON, 1)
}

func FuzzWriteJSON(f *testing.F) {
	f.Add("First Name", "Zoë", "Phone", "+1 415 555 0134", "Column 3", "=1+1")
	f.Add("E-mail", "<script>&amp;", "Notes", "\t\"quoted\"\n", "", "\u2028")
	f.Add("b", "1", "a", "2", "a", "3")
	f.Add("\xff", "\xfe\x00", "\\", "\u00e9\u0301", "Łukasz", "Żółć")
	f.Fuzz(func(t *testing.T, name1, value1, name2, value2, extra, extraValue string) {
		recs, cols := fuzzRecords(name1, value1, name2, value2, extra, extraValue)
		var buf bytes.Buffer
		n, err := WriteJSON(&buf, Meta{}, recordsOf(recs))
		if err != nil {
			t.Fatalf("WriteJSON error = %v", err)
		}
		if n != len(recs) {
			t.Fatalf("WriteJSON wrote %d records, want %d", n, len(recs))
		}
		got := decodeJSON(t, buf.Bytes())
		for _, s := range []string{name1, value1, name2, value2, extra, extraValue} {
			checkString(t, s)
		}
		// JSON holds only UTF-8: encoding/json writes each invalid byte as
		// U+FFFD, as converting to runes does.
		valid := func(s string) string { return string([]rune(s)) }
		distinct := make(map[string]bool)
		for _, c := range cols {
			distinct[valid(c)] = true
		}
		if len(distinct) < len(cols) {
			// Names that differ only in invalid bytes collide as keys.
			return
		}
		wantKeys := [][]string{nil, {valid(name2)}}
		for _, c := range cols {
			wantKeys[0] = append(wantKeys[0], valid(c))
		}
		if keys := fieldKeys(t, buf.Bytes()); !equalRows(keys, wantKeys) {
			t.Fatalf("fields keys = %q, want %q", keys, wantKeys)
		}
		for i, r := range recs {
			want := make(map[string]string)
			for k, v := range r.Fields {
				want[valid(k)] = valid(v)
			}
			if !reflect.DeepEqual(got.Records[i].Fields, want) {
				t.Fatalf("record %d fields = %q, want %q", i, got.Records[i].Fields, want)
			}
			wantMatched := make([]string, 0, len(r.MatchedOn))
			for _, m := range r.MatchedOn {
				wantMatched = append(wantMatched, valid(m))
			}
			if !slices.Equal(got.Records[i].MatchedOn, wantMatched) {
				t.Fatalf("record %d matchedOn = %q, want %q", i, got.Records[i].MatchedOn, wantMatched)
			}
		}
	})
}

// checkString checks that appendString writes s as encoding/json does
// without HTML escaping.
func checkString(t *testing.T, s string) {
	t.Helper()
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if got := appendString(nil, s); !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
		t.Fatalf("appendString(%q) = %s, want %s", s, got, want.Bytes())
	}
}

func TestJSONStringsAsEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []string{"", "plain", "\"\\/", "\x00\x01\x1f\x7f", "\b\f\n\r\t", "<&>", "\u2028\u2029", "\xff", "\xe2\x80", "Zoë\xc3", "\U0001F600"} {
		checkString(t, s)
	}
	for range 20_000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			switch rng.IntN(4) {
			case 0:
				b[i] = byte(rng.IntN(0x20))
			case 1:
				b[i] = byte(0x80 + rng.IntN(0x80))
			default:
				b[i] = byte(rng.IntN(0x80))
			}
		}
		checkString(t, string(b))
		checkString(t, "\u2028"+string(b)+"Łukasz")
	}
}

func BenchmarkWriteJSON(b *testing.B) {
	benchmarkWriter(b, WriteJSON)
}
