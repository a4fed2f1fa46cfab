package suppression_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/suppression"
)

// sink is an Adder that keeps what it is given, refusing what the store
// would refuse (a key that is not an HMAC).
type sink struct{ got []suppression.Entry }

func (s *sink) Add(_ context.Context, es []suppression.Entry) (int, error) {
	for _, e := range es {
		if len(e.Key) != 64 || strings.Trim(e.Key, "0123456789abcdef") != "" {
			return 0, errors.New("not a key")
		}
	}
	s.got = append(s.got, es...)
	return len(es), nil
}

func importer(t testing.TB, a suppression.Adder) *suppression.Importer {
	t.Helper()
	h, err := suppression.NewHasher([][]byte{[]byte("secret-a-0123456789abcdef")}, "US")
	if err != nil {
		t.Fatal(err)
	}
	return &suppression.Importer{Hasher: h, Adder: a, Action: suppression.DoNotContact, Origin: "import:t.csv"}
}

func TestImportParses(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantValid int
		wantProbs []suppression.Problem
		wantErr   error
	}{
		{"header, CRLF, quoted comma", "kind,value,reason\r\nphone,2125550147,\"asked, twice\"\r\nemail,a@example.com,\r\n", 2, nil, nil},
		{"header any order and case, BOM", "\ufeffReason,VALUE,Kind,notes\nx,a@example.com,email,n\n", 1, nil, nil},
		{"no header", "phone,2125550147\ncustomerId,AB-1\naccountNumber,77\n", 3, nil, nil},
		{"bad rows", "kind,value\nfax,123\n2125550147,phone\nphone,12\nemail,\nphone,1,2,3\n", 0, []suppression.Problem{
			{2, `kind "fax" unknown`}, {3, "kind unknown"}, {4, "phone does not parse (not a valid number)"}, {5, "email empty"},
			{6, "4 fields, the header has 2"}}, nil},
		{"malformed quote, then on", "kind,value\nphone,\"212\"555\nemail,b@example.com\n", 1, []suppression.Problem{
			{2, `malformed CSV (extraneous or missing " in quoted-field)`}}, nil},
		{"blank lines and trailing empties", "kind,value\n\nphone,2125550147,,\n", 1, nil, nil},
		{"empty", "", 0, nil, suppression.ErrHeader},
		{"no value column", "kind,number\nphone,2125550147\n", 0, nil, suppression.ErrHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &sink{}
			sum, err := importer(t, s).Import(context.Background(), strings.NewReader(tc.in))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Import error = %v, want %v", err, tc.wantErr)
			}
			if tc.wantProbs == nil {
				tc.wantProbs = []suppression.Problem{}
			}
			if sum.Valid != tc.wantValid || len(s.got) != tc.wantValid || !reflect.DeepEqual(sum.Problems, tc.wantProbs) {
				t.Fatalf("Import = %+v (%d entries), want %d valid, problems %v", sum, len(s.got), tc.wantValid, tc.wantProbs)
			}
			if sum.Rows != sum.Valid+sum.Invalid {
				t.Fatalf("rows %d, want valid %d + invalid %d", sum.Rows, sum.Valid, sum.Invalid)
			}
		})
	}
}

// problemText is every reason an import gives: a fixed text, a kind name
// that is a word, the reasons of identifiers and of encoding/csv.
var problemText = regexp.MustCompile(`^(kind "[A-Za-z_ -]{1,24}" unknown|kind unknown|(phone|email|customer_id|account_number) (empty|does not parse( \([a-z0-9 @-]+\))?)|\d+ fields, the header has \d+|malformed CSV \([^)]*\))$`)

// FuzzImport: any bytes import without a panic or a hang, every entry is
// an HMAC key, every row is counted once, and no problem holds a value.
func FuzzImport(f *testing.F) {
	for _, seed := range []string{
		"kind,value,reason\r\nphone,(212) 555-0147,\"a, b\"\r\nfax,1\r\n",
		"phone,2125550147\n\"email\",\"x@y.com\nemail,\"\"\"\n",
		"\ufeffkind,value\nemail,a@b.c,x,y\n\"unterminated",
		"kind,value\nphone,\"212\"555\n",
		"kind,value\n2125550147,x@example.com\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &sink{}
		sum, err := importer(t, s).Import(context.Background(), bytes.NewReader(data))
		if err != nil && !errors.Is(err, suppression.ErrHeader) {
			t.Fatalf("Import error = %v, want nil or ErrHeader", err)
		}
		if sum.Rows != sum.Valid+sum.Invalid || len(s.got) != sum.Valid || len(sum.Problems) != sum.Invalid {
			t.Fatalf("summary %+v with %d entries: rows not counted once", sum, len(s.got))
		}
		var values []string
		for _, field := range strings.FieldsFunc(string(data), func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == '"' }) {
			if strings.Contains(field, "@") && len(field) >= 6 {
				values = append(values, field)
			}
		}
		for _, p := range sum.Problems {
			if !problemText.MatchString(p.Reason) {
				t.Fatalf("line %d: reason %q is not one of the fixed texts", p.Line, p.Reason)
			}
			for _, v := range values {
				if strings.Contains(p.Reason, v) {
					t.Fatalf("line %d: reason %q holds a value", p.Line, p.Reason)
				}
			}
		}
	})
}
