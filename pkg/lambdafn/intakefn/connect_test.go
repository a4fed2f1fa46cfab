package intakefn

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/veil"
)

// FuzzConnectFiling: whatever a contact flow sends, the filing it makes
// is the caller's own number or nothing, and checking it either files or
// names its fields; it never panics.
func FuzzConnectFiling(f *testing.F) {
	sample, err := os.ReadFile("../../../events/intake/connect-file-request.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte(`{"Name":"ContactFlowEvent","Details":{"ContactData":{"CustomerEndpoint":{"Address":"+442071838750","Type":"TELEPHONE_NUMBER"}},"Parameters":{"requestType":"access","declaration":"TRUE","jurisdiction":"uk"}}}`))
	f.Add([]byte(`{"Name":"ContactFlowEvent","Details":{"ContactData":{"CustomerEndpoint":{"Address":"x","Type":"EMAIL"}}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ev events.ConnectEvent
		if json.Unmarshal(raw, &ev) != nil {
			return
		}
		fl, ok := connectFiling(ev, "CA")
		if !ok {
			return
		}
		if len(fl.Phones) != 1 || fl.Phones[0] != ev.Details.ContactData.CustomerEndpoint.Address || len(fl.Emails) != 0 {
			t.Fatalf("filing %+v is not for the caller's number alone", fl)
		}
		if _, err := fl.Check(requests.Default(), "US"); err != nil {
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field == "" {
				t.Fatalf("Check = %v, want field errors", err)
			}
		}
	})
}
