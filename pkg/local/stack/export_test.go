package stack_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/text/encoding/charmap"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/formula"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
)

// exportReply is what POST /exports and GET /exports/{id} answer.
type exportReply struct {
	ExportID  string `json:"exportId"`
	Records   int    `json:"records"`
	Files     []string
	RevokedAt string `json:"revokedAt"`
	Coverage  struct {
		Objects    int
		Unreadable []struct{ Key string }
	}
	Links struct {
		CSV, JSON, PDF string
	}
	Downloads []struct {
		File, By, IPHash string
	}
}

// TestExportEndToEnd is the issue's path on the local stack: a list
// exported from Excel is uploaded with the AWS CLI; a supervisor's POST
// /exports answers with links; curl downloads the CSV, JSON and PDF
// through them; each holds exactly the consumer's rows, no cell a
// spreadsheet would run; the redirect's presigned URL lives at most 300 s;
// a tampered link is refused, an expired or revoked one is gone.
func TestExportEndToEnd(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	dir := t.TempDir()
	// Windows-1252, CRLF, a title line, a formula typed into a note.
	list := "Spring refi leads export\r\n" +
		"First Name,Last Name,Mobile No.,E-mail,Cust ID,Notes\r\n" +
		"Zoë,Ångström,(646) 555-0188,zoe@example.com,C-9,=HYPERLINK(\"http://x\";\"click\")\r\n" +
		"Pat,Doe,6465550100,pat@example.com,C-10,call back\r\n" +
		"Zoë,Ångström,646.555.0188,,C-11,  @SUM(A1)\r\n"
	enc, err := charmap.Windows1252.NewEncoder().String(list)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "leads.csv")
	if err := os.WriteFile(file, []byte(enc), 0o600); err != nil {
		t.Fatal(err)
	}
	stacktest.AWS(t, s, "s3", "cp", file, "s3://"+s.Names["LeadsBucket"]+"/campaigns/spring/leads.csv")
	stacktest.WaitIdle(t, s)

	body := `{"phones":["+1 646 555 0188"],"jurisdiction":"CCPA"}`
	for _, tc := range []struct {
		role auth.Role
		want int
	}{{"", 401}, {auth.Agent, 403}, {auth.Auditor, 403}} {
		if code, b := apiCall(t, s, http.MethodPost, "/exports", tc.role, body); code != tc.want {
			t.Fatalf("POST /exports as %q = %d %s, want %d", tc.role, code, b, tc.want)
		}
	}
	code, b := apiCall(t, s, http.MethodPost, "/exports", auth.Supervisor, body)
	var x exportReply
	if err := json.Unmarshal(b, &x); code != http.StatusCreated || err != nil {
		t.Fatalf("POST /exports as supervisor = %d %s, want 201", code, b)
	}
	if x.Records != 2 || x.Coverage.Objects != 1 || !strings.HasPrefix(x.Links.CSV, s.APIURL+"/exports/"+x.ExportID+"/records.csv?token=") {
		t.Fatalf("export = %s, want 2 records of 1 list and links on the API", b)
	}

	// The CSV: Excel's BOM, the two rows of the phone, formulas defused.
	csvBytes := curl(t, x.Links.CSV, "")
	if !bytes.HasPrefix(csvBytes, []byte("\ufeff")) {
		t.Fatalf("CSV starts %q, want a UTF-8 byte-order mark", csvBytes[:min(8, len(csvBytes))])
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(csvBytes, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	var got []string
	for _, row := range rows[1:] {
		if len(row) == 0 || row[0] == "" || strings.HasPrefix(row[0], "#") {
			break
		}
		got = append(got, row[3])
		for _, cell := range row {
			if formula.Dangerous(cell) {
				t.Fatalf("CSV cell %q would run in a spreadsheet", cell)
			}
		}
	}
	if strings.Join(got, ",") != "1,3" || !bytes.Contains(csvBytes, []byte("Zoë")) || !bytes.Contains(csvBytes, []byte(`'=HYPERLINK`)) {
		t.Fatalf("CSV rows %v (of %s), want rows 1 and 3 with the name in UTF-8 and the formula quoted", got, csvBytes)
	}

	// The JSON: the same records, for portability.
	var doc struct {
		Request  struct{ ID, Jurisdiction string }
		Coverage struct{ Objects int }
		Records  []struct {
			Row    int
			Fields map[string]string
		}
	}
	if err := json.Unmarshal(curl(t, x.Links.JSON, ""), &doc); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if doc.Request.ID != x.ExportID || doc.Request.Jurisdiction != "CCPA" || len(doc.Records) != 2 ||
		doc.Records[0].Fields["Last Name"] != "Ångström" || doc.Records[1].Fields["Notes"] != "  @SUM(A1)" {
		t.Fatalf("JSON = %+v, want the request and the two rows as uploaded", doc)
	}

	// The PDF: the name readable.
	pdf := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(pdf, curl(t, x.Links.PDF, ""), 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (make test installs poppler-utils): %v", err)
	}
	if !bytes.Contains(text, []byte("Ångström")) || !bytes.Contains(text, []byte(x.ExportID)) || !bytes.Contains(text, []byte("646")) {
		t.Fatalf("PDF text lacks the name, the request ID or the phone:\n%s", text)
	}

	// The redirect is to a presigned URL of at most 300 seconds.
	loc := string(curl(t, x.Links.CSV, "%{redirect_url}"))
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	if exp, err := strconv.Atoi(u.Query().Get("X-Amz-Expires")); err != nil || exp > 300 || exp <= 0 {
		t.Fatalf("redirect %s: X-Amz-Expires %q, want at most 300", loc, u.Query().Get("X-Amz-Expires"))
	}

	// A tampered token, and a token of another export, are refused.
	tampered := x.Links.CSV[:len(x.Links.CSV)-3] + "AAA"
	if code := status(t, tampered); code != http.StatusForbidden {
		t.Fatalf("tampered link = %d, want 403", code)
	}
	secret := linkSecret(t, s)
	other := signed(t, secret, "another-export", time.Now().Add(time.Hour))
	if code := status(t, s.APIURL+"/exports/"+x.ExportID+"/records.csv?token="+other); code != http.StatusForbidden {
		t.Fatalf("link of another export = %d, want 403", code)
	}
	// A genuine link past its expiry is gone, in plain words.
	expired := signed(t, secret, x.ExportID, time.Now().Add(-time.Hour))
	if code := status(t, s.APIURL+"/exports/"+x.ExportID+"/records.csv?token="+expired); code != http.StatusGone {
		t.Fatalf("expired link = %d, want 410", code)
	}

	// The history names each download, by a hash, never an address.
	code, b = apiCall(t, s, http.MethodGet, "/exports/"+x.ExportID, auth.Admin, "")
	var st exportReply
	if err := json.Unmarshal(b, &st); code != 200 || err != nil || len(st.Downloads) != 4 {
		t.Fatalf("GET /exports/%s = %d %s, want 4 downloads in its history", x.ExportID, code, b)
	}
	history, _ := json.Marshal(st.Downloads)
	if d := st.Downloads[0]; d.By != "link" || len(d.IPHash) != 16 || strings.Contains(string(history), "127.0.0.1") {
		t.Fatalf("download %+v, want by link with a 16-digit hash and no address", d)
	}
	if code, _ := apiCall(t, s, http.MethodGet, "/exports/"+x.ExportID, auth.Agent, ""); code != 403 {
		t.Fatalf("GET /exports/{id} as agent = %d, want 403", code)
	}

	// Revoked: every link of the export is gone.
	if code, b := apiCall(t, s, http.MethodDelete, "/exports/"+x.ExportID, auth.Auditor, ""); code != 403 {
		t.Fatalf("DELETE as auditor = %d %s, want 403", code, b)
	}
	if code, b := apiCall(t, s, http.MethodDelete, "/exports/"+x.ExportID, auth.Supervisor, ""); code != 200 {
		t.Fatalf("DELETE as supervisor = %d %s, want 200", code, b)
	}
	for _, link := range []string{x.Links.CSV, x.Links.JSON, x.Links.PDF} {
		if code := status(t, link); code != http.StatusGone {
			t.Fatalf("revoked link = %d, want 410", code)
		}
	}
}

// apiCall calls the API as role ("" for anonymous) and returns the status
// and body.
func apiCall(t *testing.T, s *stack.Stack, method, path string, role auth.Role, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.APIURL+path, strings.NewReader(body))
	if role != "" {
		tok, err := s.TokenKey.Issue("dev-"+string(role), []string{string(role)}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

// curl fetches link as a consumer would, following the redirect; with
// write, it prints that curl -w variable instead of following.
func curl(t *testing.T, link, write string) []byte {
	t.Helper()
	args := []string{"-sS", "--fail", "-L", link}
	if write != "" {
		args = []string{"-sS", "-o", "/dev/null", "-w", write, link}
	}
	out, err := exec.Command("curl", args...).Output()
	if err != nil {
		t.Fatalf("curl %s: %v", link, err)
	}
	return out
}

// status is the status a link answers, not followed.
func status(t *testing.T, link string) int {
	t.Helper()
	code, err := strconv.Atoi(string(curl(t, link, "%{http_code}")))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// linkSecret reads the stack's link-signing secret through the AWS CLI.
func linkSecret(t *testing.T, s *stack.Stack) []byte {
	t.Helper()
	var out struct{ SecretString string }
	raw := stacktest.AWS(t, s, "secretsmanager", "get-secret-value", "--secret-id", s.Names["ExportLinkSecret"])
	if err := json.Unmarshal([]byte(raw), &out); err != nil || out.SecretString == "" {
		t.Fatalf("link secret: %v %s", err, raw)
	}
	return []byte(out.SecretString)
}

// signed is a genuine token for export id expiring at exp.
func signed(t *testing.T, secret []byte, id string, exp time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: id, Audience: jwt.ClaimStrings{"veil-export"},
		IssuedAt: jwt.NewNumericDate(exp.Add(-7 * 24 * time.Hour)), ExpiresAt: jwt.NewNumericDate(exp)}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
