package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/suppression"
)

// importCSV has a header, CRLF line ends, a reason with a comma in
// quotes, a kind that is none (line 4), a phone that does not parse
// (line 5) and a duplicate of line 3 written differently (line 7).
const importCSV = "kind,value,reason\r\n" +
	"phone,(212) 555-0147,\"asked twice, by phone\"\r\n" +
	"email,Ann.Lee@Example.com,\r\n" +
	"fax,2125550199,\r\n" +
	"phone,555-01,\r\n" +
	"customerId,CUST-0099,\r\n" +
	"email,ann.lee@example.com,again\r\n"

// rawValues are the values of importCSV as written and as normalized;
// none may be stored or printed.
var rawValues = []string{"(212) 555-0147", "2125550147", "+12125550147", "5550147", "Ann.Lee", "ann.lee", "xample.com",
	"2125550199", "555-01", "CUST-0099", "CUST0099"}

// TestSuppressOnTheLocalStack imports a list, checks the table holds keys
// only, imports it again (nothing new), and checks values through the CLI.
// The steps run in order.
func TestSuppressOnTheLocalStack(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options(t))
	for _, kv := range append(s.Environment(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=") {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	table, secret := s.Names["IndexTable"], s.Names["IndexKeySecret"]
	dir := t.TempDir()
	file := filepath.Join(dir, "dnc-2026.csv")
	if err := os.WriteFile(file, []byte(importCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	noHeader := filepath.Join(dir, "noheader.csv")
	if err := os.WriteFile(noHeader, []byte("tel,number\r\n2125550147,x\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	veil := func(t *testing.T, wantCode int, args ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args = append([]string{"suppress"}, args...)
		if code := run(ctx, args, &stdout, &stderr); code != wantCode {
			t.Fatalf("veil %s = %d, want %d\nstdout:\n%s\nstderr: %s", strings.Join(args, " "), code, wantCode, stdout.String(), stderr.String())
		}
		for _, v := range rawValues {
			if strings.Contains(stdout.String()+stderr.String(), v) {
				t.Fatalf("veil %s printed the value %q:\n%s%s", strings.Join(args, " "), v, stdout.String(), stderr.String())
			}
		}
		return stdout.String(), stderr.String()
	}

	t.Run("import", func(t *testing.T) {
		out, errOut := veil(t, exitFailed, "import", file, "-secret", secret, "-table", table)
		want := "suppress import dnc-2026.csv: 6 rows read, 4 valid, 2 invalid; 4 entries written (3 new) under 1 HMAC key(s), " +
			"action do-not-contact, origin import:dnc-2026.csv, "
		if !strings.HasPrefix(out, want) || !strings.HasSuffix(out, "s\nline 4: kind \"fax\" unknown\nline 5: phone does not parse (not a valid number)\n") {
			t.Fatalf("summary = %q, want %q… and lines 4 and 5", out, want)
		}
		if !strings.Contains(errOut, "6 rows  100%  2 invalid\n") {
			t.Fatalf("progress = %q, want a last line of 6 rows, 100%%", errOut)
		}
	})
	t.Run("table holds keys only", func(t *testing.T) {
		pages := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(s.AWS), &dynamodb.ScanInput{TableName: aws.String(table)})
		pk := regexp.MustCompile(`^SUP#[0-9a-f]{64}$`)
		n := 0
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, item := range page.Items {
				var all strings.Builder
				for name, v := range item {
					if sv, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
						all.WriteString(name + "=" + sv.Value + ";")
					}
				}
				for _, v := range rawValues {
					if strings.Contains(all.String(), v) {
						t.Fatalf("item %s holds the value %q", all.String(), v)
					}
				}
				if p := item["PK"].(*ddbtypes.AttributeValueMemberS).Value; strings.HasPrefix(p, "SUP#") {
					n++
					if !pk.MatchString(p) {
						t.Fatalf("PK %q, want SUP#<HMAC in hex>", p)
					}
				}
			}
		}
		if n != 3 {
			t.Fatalf("%d suppression items, want 3", n)
		}
	})
	t.Run("import again", func(t *testing.T) {
		out, _ := veil(t, exitFailed, "import", file, "-secret", secret, "-table", table, "-json", "-origin", "second")
		var rep importReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 6 || rep.Entries != 4 || rep.New != 0 || rep.Invalid != 2 || rep.Origin != "import:second" || len(rep.KeyIDs) != 1 {
			t.Fatalf("JSON summary = %+v, want 6 rows, 4 entries, none new", rep)
		}
	})
	t.Run("check", func(t *testing.T) {
		out, _ := veil(t, exitFailed, "check", "-kind", "phone", "-secret", secret, "-table", table, "+12125550147", "212-555-0148", "12")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 3 || !regexp.MustCompile(`^value 1: suppressed: do-not-contact since \S+Z \(import:dnc-2026\.csv\)$`).MatchString(lines[0]) ||
			lines[1] != "value 2: not suppressed" || !strings.HasPrefix(lines[2], "value 3: invalid: phone does not parse") {
			t.Fatalf("check = %q, want value 1 suppressed by the first import, 2 not, 3 invalid", out)
		}
		out, _ = veil(t, exitOK, "check", "-kind", "email", "-secret", secret, "-table", table, "-json", " ANN.LEE@example.COM ")
		var res []checkResult
		if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 || !res[0].Suppressed || res[0].Entries[0].Origin != "import:dnc-2026.csv" {
			t.Fatalf("check -json = %s, %v; want the email suppressed by the first import", out, err)
		}
	})
	t.Run("usage", func(t *testing.T) {
		tests := []struct {
			name       string
			args       []string
			wantStderr string
		}{
			{"no secret", []string{"import", file}, "-secret is required"},
			{"no file", []string{"import", "-secret", secret}, "want one FILE"},
			{"missing file", []string{"import", filepath.Join(dir, "nope.csv"), "-secret", secret}, "no such file"},
			{"bad action", []string{"import", file, "-secret", secret, "-action", "erase"}, "-action"},
			{"no header", []string{"import", noHeader, "-secret", secret, "-table", table}, "want a header"},
			{"check without kind", []string{"check", "-secret", secret, "2125550147"}, "-kind"},
			{"check bad kind", []string{"check", "-kind", "fax", "-secret", secret, "2125550147"}, "-kind"},
			{"unknown verb", []string{"list"}, "usage:"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if _, stderr := veil(t, exitUsage, tc.args...); !strings.Contains(stderr, tc.wantStderr) {
					t.Fatalf("stderr = %q, want %q", stderr, tc.wantStderr)
				}
			})
		}
	})
}

func TestImportBar(t *testing.T) {
	tests := []struct {
		tty  bool
		want string
	}{
		{false, "20 rows  50%\n40 rows  100%  1 invalid\n"},
		{true, "\r[          ] 10 rows  5%\r[====>     ] 20 rows  50%\r[==========] 40 rows  100%  1 invalid\n"},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		b := &importBar{w: &buf, tty: tc.tty, width: 10, size: 200}
		b.update(suppressionProgress(10, 10, 0))
		b.update(suppressionProgress(100, 20, 0))
		b.update(suppressionProgress(200, 40, 1))
		b.finish()
		if got := buf.String(); got != tc.want {
			t.Errorf("tty %v: wrote %q, want %q", tc.tty, got, tc.want)
		}
	}
}

func suppressionProgress(bytes int64, rows, invalid int) suppression.ImportProgress {
	return suppression.ImportProgress{Bytes: bytes, Rows: rows, Invalid: invalid}
}
