package stack_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/lambdafn/intake"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/suppression"
)

// TestSuppressionCheckOnTheStack: a number on the do-not-contact list,
// however the dialer writes it, is answered suppressed by POST
// /suppression/check for agents, supervisors and admins; auditors get 403,
// anonymous callers 401.
func TestSuppressionCheckOnTheStack(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	ctx := t.Context()
	ring, err := indexkey.LoadKeyring(ctx, secretsmanager.NewFromConfig(s.AWS), s.Names["IndexKeySecret"])
	if err != nil {
		t.Fatal(err)
	}
	h, err := suppression.NewHasher(ring.Secrets(), "US")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := h.Entries(identifiers.Phone, "+1 646 555 0188", suppression.DoNotContact, "import:state-dnc.csv", "", time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := suppression.New(dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"]).Add(ctx, entries); err != nil {
		t.Fatal(err)
	}
	body := `{"phones":["(646) 555-0188","646-555-0100","12"],"emails":["x@example.com"]}`
	for _, tc := range []struct {
		role auth.Role
		want int
	}{{"", 401}, {auth.Auditor, 403}, {auth.Agent, 200}, {auth.Supervisor, 200}, {auth.Admin, 200}} {
		code, b := apiCall(t, s, http.MethodPost, "/suppression/check", tc.role, body)
		if code != tc.want {
			t.Fatalf("POST /suppression/check as %q = %d %s, want %d", tc.role, code, b, tc.want)
		}
		if code != 200 {
			continue
		}
		var got intake.CheckResponse
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Phones) != 3 || !got.Phones[0].Suppressed || strings.Join(got.Phones[0].Actions, ",") != "do-not-contact" ||
			got.Phones[1].Suppressed || got.Phones[2].Invalid == "" || len(got.Emails) != 1 || got.Emails[0].Suppressed {
			t.Fatalf("answer as %s = %s, want the first phone do-not-contact, the second clear, the third invalid, the email clear", tc.role, b)
		}
	}
}
