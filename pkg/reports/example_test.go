package reports_test

import (
	"fmt"
	"os"
	"time"

	"github.com/veil-privacy/veil/pkg/reports"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
)

func ExampleMetrics() {
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 15, 0, 0, 0, time.UTC) }
	reqs := []requeststore.Request{
		{Type: requests.Access, Status: requests.Completed, Received: day(3, 2), Closed: day(3, 12)},
		{Type: requests.Access, Status: requests.ClosedUnverified, Received: day(3, 2), Closed: day(3, 17)},
		{Type: requests.Access, Status: requests.Processing, Received: day(3, 20)},
		{Type: requests.Delete, Status: requests.Denied, Received: day(4, 1), Closed: day(4, 8)},
		// Received in 2025: not in the 2026 report.
		{Type: requests.Delete, Status: requests.Completed, Received: day(1, 1).AddDate(-1, 0, 0), Closed: day(1, 5)},
	}
	rep := reports.Metrics(2026, reqs, time.UTC)
	if err := rep.WriteCSV(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// type,label,received,compliedWholeOrPart,denied,open,medianDaysToRespond,meanDaysToRespond
	// access,Requests to know,3,1,1,1,12.5,12.5
	// delete,Requests to delete,1,0,1,0,7,7
	// correct,Requests to correct,0,0,0,0,,
	// opt_out,Requests to opt-out of sale/sharing,0,0,0,0,,
}
