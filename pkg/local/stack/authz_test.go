package stack_test

// Who may call each API route, written by hand from the product's design
// (staff roles: an agent files requests, attests identities on a call,
// checks suppression and reads scrub reports; a supervisor also decides,
// searches, exports and erases; an admin does everything staff do; an
// auditor reads requests, audit trails and reports; an external system's
// API client only files through /requests/api; a dialer's IAM role only
// signs the dialer's suppression check; a consumer only reaches the routes
// whose own token or code is the credential), and checked against the
// running local stack: the template's routes, its authorizers, the local
// API Gateway and the functions' role checks together. Nothing here is
// read from the code under test, so a role added to or dropped from a
// route's list fails a cell.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

// authzCallers names the columns of authzTable's want, in order.
var authzCallers = [7]string{"anonymous", "agent", "supervisor", "admin", "auditor", "api client", "dialer"}

// Unknown, well-formed identifiers: a caller who passes the role check
// learns the thing does not exist (404), one who does not learns nothing.
const (
	noRequest = "00000000-0000-4000-8000-000000000019"
	noExport  = "no-such-export"
	noJob     = "job-00000000000000000000000000000019"
)

// authzTable is written by hand: one row per route of template.yaml, the
// request sent, and the status each caller gets. 401: no credential the
// route's authorizer accepts (a dialer's signature is no JWT); 403: the
// wrong role, or, on the IAM route, no signature of a dialer role (API
// Gateway's IAM authorizer answers 403, not 401, to an unsigned call).
// Any other status is the request's own outcome once the role check
// passed: 404 for the unknown identifiers above, 201 for a filing or an
// export, 200 for a search of an empty index. The consumer's routes have
// no authorizer: their own token decides (a wrong download token is 403),
// every caller gets the same answer, and a staff token there opens nothing.
var authzTable = []struct {
	route  string // "METHOD /path", as HTTP API route keys name them
	method string
	path   string
	body   string // "{caller}" becomes the caller's name: each filing is new
	//     anonymous agent supervisor admin auditor api-client dialer
	want [7]int
}{
	{"GET /me", "GET", "/me", "",
		[7]int{401, 200, 200, 200, 200, 403, 401}},

	// Filing: the web form, staff, an external system.
	{"POST /requests", "POST", "/requests", `{"type":"opt_out","jurisdiction":"CA","emails":["web-{caller}@example.com"]}`,
		[7]int{201, 201, 201, 201, 201, 201, 201}},
	{"POST /requests/agent", "POST", "/requests/agent", `{"type":"opt_out","jurisdiction":"CA","emails":["agent-{caller}@example.com"]}`,
		[7]int{401, 201, 201, 201, 403, 403, 401}},
	{"POST /requests/api", "POST", "/requests/api", `{"type":"opt_out","jurisdiction":"CA","emails":["crm-{caller}@example.com"]}`,
		[7]int{401, 403, 403, 403, 403, 201, 401}},

	// The consumer's own request: the status token or the code is the
	// credential.
	{"GET /requests/{id}/status", "GET", "/requests/" + noRequest + "/status?token=not-the-token", "",
		[7]int{404, 404, 404, 404, 404, 404, 404}},
	{"POST /requests/{id}/verify", "POST", "/requests/" + noRequest + "/verify", `{"identifier":"web@example.com","code":"123456"}`,
		[7]int{404, 404, 404, 404, 404, 404, 404}},
	{"POST /requests/{id}/resend", "POST", "/requests/" + noRequest + "/resend", `{"identifier":"web@example.com"}`,
		[7]int{404, 404, 404, 404, 404, 404, 404}},
	{"POST /requests/{id}/appeal", "POST", "/requests/" + noRequest + "/appeal", `{"token":"not-the-token","reason":"I want it deleted"}`,
		[7]int{404, 404, 404, 404, 404, 404, 404}},

	// Staff work on a request.
	{"POST /requests/{id}/attest", "POST", "/requests/" + noRequest + "/attest", `{"identifiers":["email"],"method":"knowledge-based questions on a call"}`,
		[7]int{401, 404, 404, 404, 403, 403, 401}},
	{"POST /requests/{id}/decision", "POST", "/requests/" + noRequest + "/decision", `{"decision":"approve"}`,
		[7]int{401, 403, 404, 404, 403, 403, 401}},
	{"POST /requests/{id}/review", "POST", "/requests/" + noRequest + "/review", `{"rows":{"r1":true}}`,
		[7]int{401, 403, 404, 404, 403, 403, 401}},
	{"GET /requests", "GET", "/requests", "",
		[7]int{401, 200, 200, 200, 200, 403, 401}},
	{"GET /requests/{id}", "GET", "/requests/" + noRequest, "",
		[7]int{401, 404, 404, 404, 404, 403, 401}},
	{"GET /requests/{id}/audit", "GET", "/requests/" + noRequest + "/audit", "",
		[7]int{401, 403, 403, 404, 404, 403, 401}},
	{"GET /reports/metrics", "GET", "/reports/metrics?year=2026", "",
		[7]int{401, 403, 403, 200, 200, 403, 401}},
	// The staff actions on the record: auditors' and admins'.
	{"GET /audit", "GET", "/audit?from=2026-01-01&to=2026-01-02", "",
		[7]int{401, 403, 403, 200, 200, 403, 401}},

	// Finding a consumer, and the checks before a call.
	{"GET /search", "GET", "/search?phone=2125550147&reason=authz+table", "",
		[7]int{401, 403, 200, 200, 403, 403, 401}},
	{"POST /suppression/check", "POST", "/suppression/check", `{"phones":["2125550147"]}`,
		[7]int{401, 200, 200, 200, 403, 403, 401}},
	{"POST /dialer/suppression/check", "POST", "/dialer/suppression/check", `{"phones":["2125550147"]}`,
		[7]int{403, 403, 403, 403, 403, 403, 200}},
	{"GET /lists/{key+}", "GET", "/lists/campaigns/authz/no-such-list.csv/scrub", "",
		[7]int{401, 404, 404, 404, 403, 403, 401}},

	// Exports: staff's, and the consumer's download link (its token is
	// the credential).
	{"POST /exports", "POST", "/exports", `{"phones":["2125550147"],"jurisdiction":"CCPA"}`,
		[7]int{401, 403, 201, 201, 403, 403, 401}},
	{"GET /exports/{id}", "GET", "/exports/" + noExport, "",
		[7]int{401, 403, 404, 404, 403, 403, 401}},
	{"DELETE /exports/{id}", "DELETE", "/exports/" + noExport, "",
		[7]int{401, 403, 404, 404, 403, 403, 401}},
	{"GET /exports/{id}/{file}", "GET", "/exports/" + noExport + "/records.csv?token=not-the-token", "",
		[7]int{403, 403, 403, 403, 403, 403, 403}},

	// Erasure and correction (without "confirm": what the job would do).
	{"POST /pseudonymize", "POST", "/pseudonymize", `{"phones":["2125550147"],"jurisdiction":"CCPA","reason":"authz table"}`,
		[7]int{401, 403, 200, 200, 403, 403, 401}},
	{"POST /corrections", "POST", "/corrections", `{"emails":["web@example.com"],"set":{"email":"web2@example.com"},"reason":"authz table"}`,
		[7]int{401, 403, 200, 200, 403, 403, 401}},
	{"GET /pseudonymize/{jobId}", "GET", "/pseudonymize/" + noJob, "",
		[7]int{401, 403, 404, 404, 403, 403, 401}},
	// A second person's confirmation: supervisors' and admins'.
	{"POST /pseudonymize/{jobId}/confirm", "POST", "/pseudonymize/" + noJob + "/confirm", "",
		[7]int{401, 403, 404, 404, 403, 403, 401}},
}

// authzClient calls the API as each of authzCallers.
type authzClient struct {
	t      *testing.T
	s      *stack.Stack
	tokens map[string]string // caller → bearer token
}

func newAuthzClient(t *testing.T, s *stack.Stack) *authzClient {
	t.Helper()
	c := &authzClient{t: t, s: s, tokens: map[string]string{}}
	for _, r := range []auth.Role{auth.Agent, auth.Supervisor, auth.Admin, auth.Auditor} {
		tok, err := s.TokenKey.Issue("authz-"+string(r), []string{string(r)}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		c.tokens[string(r)] = tok
	}
	tok, err := s.TokenKey.IssueClient("authz-crm", []string{auth.RequestsScope}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.tokens["api client"] = tok
	return c
}

// call sends the request as caller and returns the status and body.
func (c *authzClient) call(caller, method, path, body string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.s.APIURL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	switch caller {
	case "anonymous":
	case "dialer":
		// The dialer's service role, as README's curl --aws-sigv4 signs.
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: "dialer", SecretAccessKey: "local"}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", "us-east-1", time.Now()); err != nil {
			c.t.Fatal(err)
		}
	default:
		tok, ok := c.tokens[caller]
		if !ok {
			c.t.Fatalf("no token for caller %q", caller)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAuthorizationTable sends every route's request as every caller to
// one running stack and wants authzTable's status.
func TestAuthorizationTable(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	c := newAuthzClient(t, s)
	for _, row := range authzTable {
		for i, caller := range authzCallers {
			t.Run(row.route+" as "+caller, func(t *testing.T) {
				c := *c
				c.t = t
				body := strings.ReplaceAll(row.body, "{caller}", strings.ReplaceAll(caller, " ", "-"))
				got, answer := c.call(caller, row.method, row.path, body)
				if want := row.want[i]; got != want {
					t.Errorf("%s as %s = %d, want %d (answer %.200s)", row.route, caller, got, want, answer)
				}
			})
		}
	}
}

// TestAuthorizationTableCoversTemplate: authzTable has a row for every
// route template.yaml declares, and none for a route it does not.
func TestAuthorizationTableCoversTemplate(t *testing.T) {
	declared := map[string]bool{}
	for _, rt := range loadTemplate(t).Routes() {
		declared[rt.Method+" "+rt.Path] = true
	}
	tabled := map[string]bool{}
	for _, row := range authzTable {
		if tabled[row.route] {
			t.Errorf("authzTable has %s twice", row.route)
		}
		tabled[row.route] = true
		if method, _, _ := strings.Cut(row.route, " "); method != row.method {
			t.Errorf("authzTable row %s sends %s", row.route, row.method)
		}
	}
	var untabled, undeclared []string
	for k := range declared {
		if !tabled[k] {
			untabled = append(untabled, k)
		}
	}
	for k := range tabled {
		if !declared[k] {
			undeclared = append(undeclared, k)
		}
	}
	slices.Sort(untabled)
	slices.Sort(undeclared)
	if len(untabled) > 0 {
		t.Errorf("template.yaml routes %q, which authzTable has no row for", untabled)
	}
	if len(undeclared) > 0 {
		t.Errorf("authzTable has rows for %q, which template.yaml does not route", undeclared)
	}
}
