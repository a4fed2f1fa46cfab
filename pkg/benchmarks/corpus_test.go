package benchmarks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/leads"
)

// TestConsumerSpellings: every spelling of a consumer's phone and email in
// the corpus, and the spelling of the request, normalize to one value, so
// a search or scan that normalizes finds every row and one that does not
// would miss some.
func TestConsumerSpellings(t *testing.T) {
	norm, err := identifiers.NewNormalizer("")
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 99, 100, maxConsumers - 1} {
		c := consumerAt(i)
		req := c.request()
		wantPhone, err := norm.Normalize(identifiers.Phone, req[0].Value)
		if err != nil {
			t.Fatalf("consumer %d request phone %q: %v", i, req[0].Value, err)
		}
		wantEmail, err := norm.Normalize(identifiers.Email, req[1].Value)
		if err != nil {
			t.Fatalf("consumer %d request email %q: %v", i, req[1].Value, err)
		}
		spellings := map[string]bool{}
		for v := range 12 {
			rec := c.record(v)
			spellings[rec[2]+"|"+rec[3]] = true
			if got, err := norm.Normalize(identifiers.Phone, rec[2]); err != nil || got != wantPhone {
				t.Fatalf("consumer %d phone %q = %q, %v; want %q", i, rec[2], got, err, wantPhone)
			}
			if got, err := norm.Normalize(identifiers.Email, rec[3]); err != nil || got != wantEmail {
				t.Fatalf("consumer %d email %q = %q, %v; want %q", i, rec[3], got, err, wantEmail)
			}
		}
		if len(spellings) < 6 {
			t.Fatalf("consumer %d has %d distinct spellings, want at least 6", i, len(spellings))
		}
	}
	seen := map[string]int{}
	for i := range maxConsumers {
		c := consumerAt(i)
		for _, v := range []string{c.phone, c.email, c.customerID, c.account} {
			if j, dup := seen[v]; dup {
				t.Fatalf("consumers %d and %d share %q", j, i, v)
			}
			seen[v] = i
		}
	}
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct{ consumers, files int }{{4, 2}, {50, 10}, {3, 1}} {
		t.Run(fmt.Sprintf("%d consumers, %d files", tc.consumers, tc.files), func(t *testing.T) {
			files := map[int][]int{}
			for f, rows := range plan(tc.consumers, rowsPerConsumer, tc.files) {
				for _, p := range rows {
					files[p.consumer] = append(files[p.consumer], f)
				}
			}
			for c := range tc.consumers {
				got := files[c]
				if len(got) != rowsPerConsumer {
					t.Fatalf("consumer %d has %d rows, want %d", c, len(got), rowsPerConsumer)
				}
				if tc.files > 1 && got[0] == got[1] {
					t.Fatalf("consumer %d has both rows in file %d, want two files", c, got[0])
				}
			}
		})
	}
}

// TestCorpusFile: the file has the rows asked for, the planted ones among
// them and not at the ends, each parseable by pkg/leads.
func TestCorpusFile(t *testing.T) {
	rows := []planted{{consumer: 3, variant: 1}, {consumer: 5, variant: 4}}
	body, err := corpusFile(300, 9, rows)
	if err != nil {
		t.Fatalf("corpusFile error = %v", err)
	}
	rd, err := leads.NewReader(bytes.NewReader(body), leads.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var at []int64
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", n+1, err)
		}
		n++
		if rec.Fields[4] == consumerAt(3).customerID || rec.Fields[4] == consumerAt(5).customerID {
			at = append(at, rec.Number)
		}
	}
	if n != 300 {
		t.Fatalf("records = %d, want 300", n)
	}
	if len(at) != 2 || at[0] <= 1 || at[1] >= 300 || at[0] >= at[1] {
		t.Fatalf("planted rows at %v, want two inside the file", at)
	}
	if _, err := corpusFile(1, 9, rows); err == nil {
		t.Fatalf("corpusFile of 1 row with 2 planted: error = nil, want an error")
	}
}

// memBucket is an indexing.Objects serving one version of each key from a
// map: pure logic for the scanner's test.
type memBucket map[string][]byte

func (m memBucket) Current(_ context.Context, _, key string) (indexing.Version, bool, error) {
	b, ok := m[key]
	return indexing.Version{ID: "v1", Size: int64(len(b))}, ok, nil
}

func (m memBucket) Versions(_ context.Context, _, key string) ([]string, error) {
	if _, ok := m[key]; !ok {
		return nil, nil
	}
	return []string{"v1"}, nil
}

func (m memBucket) Open(_ context.Context, _, key, _ string) (io.ReadCloser, error) {
	b, ok := m[key]
	if !ok {
		return nil, errors.New("NoSuchKey")
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func TestScan(t *testing.T) {
	objects := memBucket{}
	var keys []string
	for f, rows := range plan(4, rowsPerConsumer, 2) {
		body, err := corpusFile(500, uint64(f+1), rows)
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("f%d.csv", f)
		objects[key] = body
		keys = append(keys, key)
	}
	sc := &Scanner{Objects: objects, Bucket: "b", Secret: benchSecret}
	for _, tc := range []struct {
		name string
		c    consumer
		want int
	}{
		{"planted consumer", consumerAt(2), rowsPerConsumer},
		{"consumer not in the corpus", consumerAt(7), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sc.Scan(context.Background(), keys, tc.c.request())
			if err != nil || got != tc.want {
				t.Fatalf("Scan = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
	if _, err := sc.Scan(context.Background(), append(keys, "missing.csv"), consumerAt(2).request()); err == nil {
		t.Fatalf("Scan of a missing object: error = nil, want an error")
	}
}
