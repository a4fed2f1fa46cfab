package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
)

// pacific is a fixed UTC-8, so that the year and day boundaries of the
// tests fall apart from UTC's.
var pacific = time.FixedZone("PST", -8*60*60)

// at is a local time in pacific.
func at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, pacific)
}

// req is a request of type t received at received, in status s, closed at
// closed (zero for not closed).
func req(t requests.Type, s requests.Status, received, closed time.Time) requeststore.Request {
	return requeststore.Request{ID: "r", Type: t, Status: s, Received: received.UTC(), Closed: closed.UTC()}
}

func ptr(x float64) *float64 { return &x }

// empty is the line of a type with no request.
func empty(t requests.Type, label string) TypeMetrics {
	return TypeMetrics{Type: t, Label: label}
}

func TestMetrics(t *testing.T) {
	var zero time.Time
	// The oracle is worked out by hand, in the comments beside each
	// request: the days are calendar days in pacific.
	mixed := []requeststore.Request{
		// access: received 6 in 2026, complied 2, denied 2, open 2; days
		// 10, 1, 45, 0: sorted 0 1 10 45, median (1+10)/2 = 5.5, mean
		// 56/4 = 14.
		req(requests.Access, requests.Completed, at(2026, 2, 1, 10, 0), at(2026, 2, 11, 10, 0)),       // 10
		req(requests.Access, requests.CompletedWithGaps, at(2026, 3, 1, 23, 0), at(2026, 3, 2, 1, 0)), // 1 (the same day in UTC)
		req(requests.Access, requests.Denied, at(2026, 4, 1, 9, 0), at(2026, 5, 16, 9, 0)),            // 45
		req(requests.Access, requests.ClosedUnverified, at(2026, 6, 1, 8, 0), at(2026, 6, 1, 17, 0)),  // 0
		req(requests.Access, requests.Processing, at(2026, 7, 1, 8, 0), zero),                         // open
		req(requests.Access, requests.Received, at(2026, 12, 31, 22, 0), zero),                        // open; 2027 in UTC
		req(requests.Access, requests.Completed, at(2025, 12, 31, 22, 0), at(2026, 1, 5, 9, 0)),       // 2025: out; 2026 in UTC
		req(requests.Access, requests.Completed, at(2027, 1, 1, 0, 30), at(2027, 1, 2, 9, 0)),         // 2027: out
		// delete: received 6, complied 3, denied 3; days 3, 4, 8, 20 (the
		// two without a Closed time have none): median
		// (4+8)/2 = 6, mean 35/4 = 8.75, rounded 8.8.
		req(requests.Delete, requests.Completed, at(2026, 1, 10, 12, 0), at(2026, 1, 13, 12, 0)), // 3
		req(requests.Delete, requests.Completed, at(2026, 1, 10, 12, 0), at(2026, 1, 14, 12, 0)), // 4
		req(requests.Delete, requests.Denied, at(2026, 1, 10, 12, 0), at(2026, 1, 18, 12, 0)),    // 8
		req(requests.Delete, requests.Appealed, at(2026, 1, 10, 12, 0), at(2026, 1, 30, 12, 0)),  // 20, denied then appealed
		req(requests.Delete, requests.Completed, at(2026, 1, 10, 12, 0), zero),                   // complied, no days
		req(requests.Delete, requests.ClosedUnverified, at(2026, 1, 10, 12, 0), zero),            // denied, no days
		// correct: received 2, both open, none closed: null days, even
		// though one from 2025 closed.
		req(requests.Correct, requests.Verifying, at(2026, 5, 5, 5, 0), zero),
		req(requests.Correct, requests.AwaitingDecision, at(2026, 5, 6, 5, 0), zero),
		req(requests.Correct, requests.Completed, at(2025, 5, 6, 5, 0), at(2025, 5, 8, 5, 0)),
		// opt_out: received 3, complied 3; days 1, 2, 2: median 2, mean
		// 5/3 = 1.67, rounded 1.7.
		req(requests.OptOut, requests.Completed, at(2026, 9, 1, 9, 0), at(2026, 9, 2, 9, 0)),
		req(requests.OptOut, requests.Completed, at(2026, 9, 1, 9, 0), at(2026, 9, 3, 9, 0)),
		req(requests.OptOut, requests.Completed, at(2026, 9, 1, 9, 0), at(2026, 9, 3, 9, 0)),
		// A type §7102 does not name is left out.
		req("portability", requests.Completed, at(2026, 9, 1, 9, 0), at(2026, 9, 3, 9, 0)),
	}
	tests := []struct {
		name string
		year int
		reqs []requeststore.Request
		want []TypeMetrics
	}{{
		name: "mixed 2026",
		year: 2026,
		reqs: mixed,
		want: []TypeMetrics{
			{Type: requests.Access, Label: "Requests to know", Received: 6, CompliedWholeOrPart: 2, Denied: 2, Open: 2,
				MedianDaysToRespond: ptr(5.5), MeanDaysToRespond: ptr(14)},
			{Type: requests.Delete, Label: "Requests to delete", Received: 6, CompliedWholeOrPart: 3, Denied: 3,
				MedianDaysToRespond: ptr(6), MeanDaysToRespond: ptr(8.8)},
			{Type: requests.Correct, Label: "Requests to correct", Received: 2, Open: 2},
			{Type: requests.OptOut, Label: "Requests to opt-out of sale/sharing", Received: 3, CompliedWholeOrPart: 3,
				MedianDaysToRespond: ptr(2), MeanDaysToRespond: ptr(1.7)},
		},
	}, {
		name: "mixed 2025",
		year: 2025,
		reqs: mixed,
		want: []TypeMetrics{
			// 2025-12-31 22:00 to 2026-01-05 09:00: 5 days.
			{Type: requests.Access, Label: "Requests to know", Received: 1, CompliedWholeOrPart: 1,
				MedianDaysToRespond: ptr(5), MeanDaysToRespond: ptr(5)},
			empty(requests.Delete, "Requests to delete"),
			{Type: requests.Correct, Label: "Requests to correct", Received: 1, CompliedWholeOrPart: 1,
				MedianDaysToRespond: ptr(2), MeanDaysToRespond: ptr(2)},
			empty(requests.OptOut, "Requests to opt-out of sale/sharing"),
		},
	}, {
		name: "no requests",
		year: 2026,
		want: []TypeMetrics{
			empty(requests.Access, "Requests to know"),
			empty(requests.Delete, "Requests to delete"),
			empty(requests.Correct, "Requests to correct"),
			empty(requests.OptOut, "Requests to opt-out of sale/sharing"),
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Metrics(tc.year, tc.reqs, pacific)
			if got.Year != tc.year {
				t.Errorf("Year = %d, want %d", got.Year, tc.year)
			}
			if !reflect.DeepEqual(got.Types, tc.want) {
				t.Errorf("Types =\n%s\nwant\n%s", dump(t, got.Types), dump(t, tc.want))
			}
		})
	}
}

func TestMetricsNilLocationIsUTC(t *testing.T) {
	// 2026-01-01 06:00 UTC is 2025 in pacific but 2026 in UTC.
	reqs := []requeststore.Request{req(requests.Access, requests.Received, at(2025, 12, 31, 22, 0), time.Time{})}
	if got := Metrics(2026, reqs, nil).Types[0].Received; got != 1 {
		t.Errorf("received in 2026 (UTC) = %d, want 1", got)
	}
	if got := Metrics(2026, reqs, pacific).Types[0].Received; got != 0 {
		t.Errorf("received in 2026 (pacific) = %d, want 0", got)
	}
}

func TestMetricsJSON(t *testing.T) {
	reqs := []requeststore.Request{
		req(requests.Access, requests.Completed, at(2026, 2, 1, 10, 0), at(2026, 2, 4, 10, 0)),
		req(requests.Delete, requests.Received, at(2026, 2, 1, 10, 0), time.Time{}),
	}
	got, err := json.Marshal(Metrics(2026, reqs, pacific))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"year":2026,"types":[` +
		`{"type":"access","label":"Requests to know","received":1,"compliedWholeOrPart":1,"denied":0,"open":0,"medianDaysToRespond":3,"meanDaysToRespond":3},` +
		`{"type":"delete","label":"Requests to delete","received":1,"compliedWholeOrPart":0,"denied":0,"open":1,"medianDaysToRespond":null,"meanDaysToRespond":null},` +
		`{"type":"correct","label":"Requests to correct","received":0,"compliedWholeOrPart":0,"denied":0,"open":0,"medianDaysToRespond":null,"meanDaysToRespond":null},` +
		`{"type":"opt_out","label":"Requests to opt-out of sale/sharing","received":0,"compliedWholeOrPart":0,"denied":0,"open":0,"medianDaysToRespond":null,"meanDaysToRespond":null}]}`
	if string(got) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", got, want)
	}
}

func TestReportWriteCSV(t *testing.T) {
	rep := Report{Year: 2026, Types: []TypeMetrics{
		{Type: requests.Access, Label: "Requests to know", Received: 6, CompliedWholeOrPart: 2, Denied: 2, Open: 2,
			MedianDaysToRespond: ptr(5.5), MeanDaysToRespond: ptr(14)},
		{Type: requests.Correct, Label: "Requests to correct", Received: 2, Open: 2},
	}}
	var buf bytes.Buffer
	if err := rep.WriteCSV(&buf); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	got := readCSV(t, buf.Bytes())
	want := [][]string{
		{"type", "label", "received", "compliedWholeOrPart", "denied", "open", "medianDaysToRespond", "meanDaysToRespond"},
		{"access", "Requests to know", "6", "2", "2", "2", "5.5", "14"},
		{"correct", "Requests to correct", "2", "0", "0", "2", "", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CSV = %q, want %q", got, want)
	}
}

func TestReportWriteCSVError(t *testing.T) {
	err := Metrics(2026, nil, nil).WriteCSV(failingWriter{})
	if !errors.Is(err, errWrite) {
		t.Fatalf("WriteCSV to a failing writer = %v, want %v wrapped", err, errWrite)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

var errWrite = errors.New("write failed")

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("reading the CSV back: %v\n%s", err, b)
	}
	return recs
}

func dump(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
