package reports

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/formula"
)

func TestWriteAuditCSV(t *testing.T) {
	first := audit.Event{RequestID: "req-1", At: time.Date(2026, 2, 1, 18, 30, 0, 0, time.FixedZone("PST", -8*60*60)),
		Actor: "consumer", Action: "received", To: "received", Source: "web"}
	first.Seal(nil)
	second := audit.Event{RequestID: "req-1", At: time.Date(2026, 2, 3, 9, 0, 0, 123000000, time.UTC),
		Actor: "-staff-7", Role: "reviewer", Action: "decided", From: "awaiting_decision", To: "denied", Source: "decidefn",
		Detail: map[string]string{"reason": "=cmd|' /C calc'!A0", "count": "2", "basis": "exempt"}}
	second.Seal(&first)
	third := audit.Event{RequestID: "req-1", Seq: 3, At: time.Date(2026, 2, 4, 9, 0, 0, 0, time.UTC), Actor: "system",
		Action: "noted", Detail: map[string]string{"@key": "v"}, Prev: second.Hash, Hash: "h3"}

	var buf bytes.Buffer
	if err := WriteAuditCSV(&buf, []audit.Event{first, second, third}); err != nil {
		t.Fatalf("WriteAuditCSV: %v", err)
	}
	got := readCSV(t, buf.Bytes())
	want := [][]string{
		{"seq", "time", "requestId", "actor", "role", "source", "action", "from", "to", "detail", "hash", "prevHash"},
		{"1", "2026-02-02T02:30:00Z", "req-1", "consumer", "", "web", "received", "", "received", "", first.Hash, ""},
		{"2", "2026-02-03T09:00:00.123Z", "req-1", "'-staff-7", "reviewer", "decidefn", "decided", "awaiting_decision", "denied",
			"basis=exempt; count=2; reason==cmd|' /C calc'!A0", second.Hash, first.Hash},
		{"3", "2026-02-04T09:00:00Z", "req-1", "system", "", "", "noted", "", "", "'@key=v", "h3", second.Hash},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CSV =\n%q\nwant\n%q", got, want)
	}
	if err := WriteAuditCSV(failingWriter{}, []audit.Event{first}); !errors.Is(err, errWrite) {
		t.Errorf("WriteAuditCSV to a failing writer = %v, want %v wrapped", err, errWrite)
	}
}

func TestDetail(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want string
	}{
		{"nil", nil, ""},
		{"one", map[string]string{"jobId": "j-1"}, "jobId=j-1"},
		{"sorted", map[string]string{"b": "2", "a": "1", "c": ""}, "a=1; b=2; c="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := detail(tc.in); got != tc.want {
				t.Errorf("detail(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzWriteAuditCSV writes an event of arbitrary text and reads it back:
// the CSV stays one record under the header, every cell is one a
// spreadsheet will not run, and each is the field's value as Neutralize
// gives it.
func FuzzWriteAuditCSV(f *testing.F) {
	f.Add("req-1", "consumer", "", "web", "received", "", "received", "reason", "ok", "h1", "")
	f.Add("=1+1", "+x", "-y", "@z", "\tq", "\rr", " =s", "k\n=", "v,\"w\"", "h\r\nh", "'=")
	f.Fuzz(func(t *testing.T, id, actor, role, source, action, from, to, key, value, hash, prev string) {
		e := audit.Event{RequestID: id, Seq: 2, At: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Actor: actor, Role: role,
			Source: source, Action: action, From: from, To: to, Detail: map[string]string{key: value}, Hash: hash, Prev: prev}
		var buf bytes.Buffer
		if err := WriteAuditCSV(&buf, []audit.Event{e}); err != nil {
			t.Fatalf("WriteAuditCSV: %v", err)
		}
		recs := readCSV(t, buf.Bytes())
		if len(recs) != 2 {
			t.Fatalf("records = %d, want 2 (header and event)", len(recs))
		}
		fields := []string{"2", "2026-01-02T03:04:05.000000006Z", id, actor, role, source, action, from, to, key + "=" + value, hash, prev}
		for i, cell := range recs[1] {
			if formula.Dangerous(cell) {
				t.Errorf("column %s = %q, a formula", recs[0][i], cell)
			}
			// encoding/csv reads a CRLF inside a quoted cell as LF.
			if want := strings.ReplaceAll(formula.Neutralize(fields[i]), "\r\n", "\n"); cell != want {
				t.Errorf("column %s = %q, want %q", recs[0][i], cell, want)
			}
		}
	})
}
