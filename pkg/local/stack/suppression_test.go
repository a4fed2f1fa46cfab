package stack_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/lambdafn/searchfn"
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
		var got searchfn.CheckResponse
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Phones) != 3 || !got.Phones[0].Suppressed || strings.Join(got.Phones[0].Actions, ",") != "do-not-contact" ||
			got.Phones[1].Suppressed || got.Phones[2].Invalid == "" || len(got.Emails) != 1 || got.Emails[0].Suppressed {
			t.Fatalf("answer as %s = %s, want the first phone do-not-contact, the second clear, the third invalid, the email clear", tc.role, b)
		}
	}

	// A dialer's service role signs the same check with its IAM
	// credentials (SigV4, service execute-api); a JWT, no signature or a
	// signature by another secret is refused before the function.
	sign := func(key, secret string) func(*http.Request) {
		return func(req *http.Request) {
			sum := sha256.Sum256([]byte(body))
			creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
			if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name string
		prep func(*http.Request)
		want int
	}{
		{"signed by the dialer role", sign("dialer", "local"), 200},
		// The account's root signs validly, but is not a role named in
		// DialerRoleArns: an HTTP API has no resource policy, the
		// function refuses it.
		{"signed by another principal", sign("local", "local"), 403},
		{"another secret", sign("dialer", "not-the-secret"), 403},
		{"unsigned", func(*http.Request) {}, 403},
		{"a supervisor's JWT", func(req *http.Request) {
			tok, _ := s.TokenKey.Issue("dev-supervisor", []string{"supervisor"}, time.Minute)
			req.Header.Set("Authorization", "Bearer "+tok)
		}, 403},
	} {
		req, _ := http.NewRequest(http.MethodPost, s.APIURL+"/dialer/suppression/check", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		tc.prep(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("POST /dialer/suppression/check %s = %d %s, want %d", tc.name, resp.StatusCode, b, tc.want)
		}
		var got searchfn.CheckResponse
		if tc.want == 200 && (json.Unmarshal(b, &got) != nil || len(got.Phones) != 3 || !got.Phones[0].Suppressed) {
			t.Fatalf("dialer's answer = %s, want the first phone suppressed", b)
		}
	}
}
