package rewrite

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/leads"
)

// read is one record as a leads reader returned it.
type read struct {
	rec leads.Record
	err bool
}

// readFrom reads the records of list from the byte offset of its record 1
// on, as leads resumes a list, so that the header is not detected again
// (an edited first record of a headerless list may read as a header).
func readFrom(t *testing.T, list []byte, first leads.Record, header []string, headerLine int, opts leads.Options) []read {
	t.Helper()
	rd, err := leads.NewReaderAt(bytes.NewReader(list[first.Offset:]), first.At(), header, headerLine, opts)
	if err != nil {
		t.Fatalf("NewReaderAt: %v", err)
	}
	var out []read
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return out
		}
		var perr *leads.ParseError
		if err != nil && (!errors.As(err, &perr) || errors.Is(err, leads.ErrEncoding)) {
			return append(out, read{err: true}) // the end of what can be read
		}
		rec.Fields = slices.Clone(rec.Fields)
		rec.Raw = nil
		out = append(out, read{rec: rec, err: err != nil})
		if len(out) > 1<<16 {
			t.Fatalf("more than %d records", 1<<16)
		}
	}
}

// FuzzText: over any bytes and any new value for column 0 of record 1,
// Text never panics, and either fails or writes a list whose records other
// than record 1 read as the input's did, at the same places (shifted by
// what record 1 changed), with every byte before and after record 1 kept.
func FuzzText(f *testing.F) {
	for _, seed := range []string{
		"\xEF\xBB\xBFname,email,notes\r\n\"Ann \"\"A\"\" Lee\",ann@example.com,\"line1\r\nline2\"\r\nBob,bob@example.com,plain\r\n",
		"name;phone\nAnn;1223334444\nBob;5556667777",
		"name\tphone\n\"A\tB\"\t1223334444\n",
		"name,city\nJos\xe9 M\xfcller,K\xf6ln\n",
		string(utf16Text("name,city\r\nJosé,\"Köln\"\r\n", false, true)),
		string(utf16Text("name,city\nJosé,Köln\n", true, false)),
		"name,phone\rAnn,\"1\r2\"\rBob,5\r",
		"name,notes,phone\nAnn,5\" tall \"x,1223334444\nBob,\"open,5556667777\n",
		"Ann,Lee,1223334444\nBob,Ray,ann@example.com\n",
		"title\n\nname,phone\n\n\"\",1\n\n",
		"phone\n\"\"\n",
		"a,b\nx\x00y,z\n",
		"",
	} {
		f.Add([]byte(seed), "XnX")
	}
	f.Add([]byte("name,phone\nAnn,1223334444\n"), "a,\"b\r\nc")
	f.Add([]byte("name,phone\nAnn,1223334444\n"), "")
	f.Add([]byte("name,city\nJos\xe9,K\xf6ln\n"), "Łukasz")
	f.Fuzz(func(t *testing.T, data []byte, value string) {
		var out bytes.Buffer
		res, err := Text(&out, bytes.NewReader(data), leads.Options{}, edits(cells(1, 0, value)))
		if err != nil {
			var ee *EditError
			if errors.As(err, &ee) && ee.Record != 1 {
				t.Fatalf("Text = %v, about record %d, want record 1", err, ee.Record)
			}
			return
		}
		got := out.Bytes()
		if res.BytesIn != int64(len(data)) || res.BytesOut != int64(len(got)) || res.Edited != 1 {
			t.Fatalf("Result = %+v, want %d bytes in, %d out, 1 edited", res, len(data), len(got))
		}

		rd, err := leads.NewReader(bytes.NewReader(data), leads.Options{})
		if err != nil {
			t.Fatalf("Text succeeded on a list leads cannot open: %v", err)
		}
		opts := rd.Options()
		first, err := rd.Next()
		if err != nil || first.Number != 1 {
			t.Fatalf("Text succeeded, but record 1 reads with %v", err)
		}
		first.Fields = slices.Clone(first.Fields)
		end := first.Offset + first.Length
		delta := int64(len(got) - len(data))
		if !bytes.Equal(got[:first.Offset], data[:first.Offset]) || !bytes.Equal(got[end+delta:], data[end:]) {
			t.Fatalf("bytes outside record 1 changed:\nin  %q\nout %q", data, got)
		}
		before := readFrom(t, data, first, rd.Header(), rd.HeaderLine(), opts)
		after := readFrom(t, got, first, rd.Header(), rd.HeaderLine(), opts)
		if len(after) != len(before) {
			t.Fatalf("the rewrite reads as %d records, want %d\nin  %q\nout %q", len(after), len(before), data, got)
		}
		for i := range before {
			b, a := before[i], after[i]
			if i == 0 {
				want := slices.Clone(b.rec.Fields)
				want[0] = readBack(value, opts)
				if a.err || !slices.Equal(a.rec.Fields, want) || a.rec.Length != b.rec.Length+delta {
					t.Fatalf("record 1 reads %q (%d bytes), want %q (%d)", a.rec.Fields, a.rec.Length, want, b.rec.Length+delta)
				}
				continue
			}
			if a.err != b.err || !slices.Equal(a.rec.Fields, b.rec.Fields) || a.rec.Lenient != b.rec.Lenient ||
				a.rec.Number != b.rec.Number || a.rec.Offset != b.rec.Offset+delta || a.rec.Length != b.rec.Length {
				t.Fatalf("record %d reads %+v, want %+v\nin  %q\nout %q", b.rec.Number, a, b, data, got)
			}
		}
	})
}

// readBack is what a new value reads back as in a list read with opts, in
// which it is masked: line breaks as the list writes them, characters the
// encoding cannot hold as X (for the encodings the seeds use).
func readBack(v string, opts leads.Options) string {
	if opts.CRLineEnds {
		v = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(v)
	} else {
		v = strings.ReplaceAll(v, "\r\n", "\n")
	}
	if opts.Encoding == leads.Windows1252 {
		v, _ = maskWindows1252(v)
	}
	return v
}
