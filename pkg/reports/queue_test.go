package reports

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/formula"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
)

func TestQueueCSV(t *testing.T) {
	today := requests.Date{Year: 2026, Month: time.March, Day: 10}
	reqs := []requeststore.Request{{
		ID: "req-1", Reference: "K7Q2M9", Type: requests.Access, Jurisdiction: "CA", Channel: requests.Web,
		Status: requests.Processing, Received: time.Date(2026, 2, 1, 18, 30, 5, 999, time.FixedZone("PST", -8*60*60)),
		Due: requests.Date{Year: 2026, Month: time.March, Day: 18}, Extended: false,
		Name: "Zoë Ångström", Phones: []string{"+14155550134"}, Emails: []string{"zoe@example.com"},
		CustomerID: "CUST-9", Account: "ACCT-1", Comments: "call me",
	}, {
		ID: "req-2", Reference: "=HYPERLINK(\"http://evil.example\",\"x\")", Type: requests.Delete, Jurisdiction: "+CO",
		Channel: requests.Agent, Status: requests.Verifying, Received: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Due: requests.Date{Year: 2026, Month: time.March, Day: 7}, Extended: true,
	}, {
		ID: "@req-3", Type: requests.OptOut, Status: requests.Received, Received: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC),
	}}
	var buf bytes.Buffer
	if err := WriteQueueCSV(&buf, QueueRows(reqs, today)); err != nil {
		t.Fatalf("WriteQueueCSV: %v", err)
	}
	got := readCSV(t, buf.Bytes())
	want := [][]string{
		{"id", "reference", "type", "jurisdiction", "channel", "status", "received", "due", "daysLeft", "extended"},
		{"req-1", "K7Q2M9", "access", "CA", "web", "processing", "2026-02-02T02:30:05Z", "2026-03-18", "8", "false"},
		// Overdue by 3 days: the count stays a number.
		{"req-2", `'=HYPERLINK("http://evil.example","x")`, "delete", "'+CO", "agent", "verifying", "2026-01-01T00:00:00Z", "2026-03-07", "-3", "true"},
		{"'@req-3", "", "opt_out", "", "", "received", "2026-03-09T00:00:00Z", "", "", "false"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CSV =\n%q\nwant\n%q", got, want)
	}
	for _, pii := range []string{"Zoë", "4155550134", "zoe@", "CUST-9", "ACCT-1", "call me"} {
		if strings.Contains(buf.String(), pii) {
			t.Errorf("queue CSV holds %q, want no personal data", pii)
		}
	}
}

func TestWriteQueueCSVEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteQueueCSV(&buf, nil); err != nil {
		t.Fatalf("WriteQueueCSV: %v", err)
	}
	if got, want := buf.String(), "id,reference,type,jurisdiction,channel,status,received,due,daysLeft,extended\n"; got != want {
		t.Errorf("CSV = %q, want %q", got, want)
	}
	if err := WriteQueueCSV(failingWriter{}, nil); !errors.Is(err, errWrite) {
		t.Errorf("WriteQueueCSV to a failing writer = %v, want %v wrapped", err, errWrite)
	}
}

// TestWriteQueueCSVNeutralizesEveryTextField sets every string field of a
// QueueRow, found by reflection, to a formula, so that a column added
// later without Neutralize fails here.
func TestWriteQueueCSVNeutralizesEveryTextField(t *testing.T) {
	var row QueueRow
	v := reflect.ValueOf(&row).Elem()
	for i := range v.NumField() {
		if v.Field(i).Kind() == reflect.String {
			v.Field(i).SetString("=1+1")
		}
	}
	var buf bytes.Buffer
	if err := WriteQueueCSV(&buf, []QueueRow{row}); err != nil {
		t.Fatalf("WriteQueueCSV: %v", err)
	}
	recs := readCSV(t, buf.Bytes())
	for i, cell := range recs[1] {
		if formula.Dangerous(cell) {
			t.Errorf("column %s = %q, want it neutralized", recs[0][i], cell)
		}
	}
}
