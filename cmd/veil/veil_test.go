package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/backfill"
	"github.com/veil-privacy/veil/pkg/export"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/veil"
)

func TestRenderBar(t *testing.T) {
	tests := []struct {
		p    backfill.Progress
		want string
	}{
		{backfill.Progress{Listed: 450, Done: 120, Failed: 3}, "[=>        ] 120/450 objects  26%  3 failed"},
		{backfill.Progress{Listed: 450, Done: 0}, "[          ] 0/450 objects  0%"},
		{backfill.Progress{Listed: 450, Done: 450}, "[==========] 450/450 objects  100%"},
		{backfill.Progress{Listed: 100, Done: 50, Listing: true}, "[====>     ] 50/100 objects  50%  listing…"},
		{backfill.Progress{Listing: true}, "[          ] 0/0 objects  0%  listing…"},
	}
	for _, tc := range tests {
		if got := renderBar(tc.p, 10); got != tc.want {
			t.Errorf("renderBar(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestProgressBar: on a terminal the line is redrawn in place; elsewhere a
// plain line is written per tenth of the work and at the end, none while
// listing.
func TestProgressBar(t *testing.T) {
	steps := []backfill.Progress{
		{Listed: 50, Listing: true}, {Listed: 100, Listing: true}, {Listed: 100, Done: 5}, {Listed: 100, Done: 10},
		{Listed: 100, Done: 15, Failed: 1}, {Listed: 100, Done: 100, Failed: 1},
	}
	tests := []struct {
		tty  bool
		want string
	}{
		{false, "10/100 objects  10%\n100/100 objects  100%  1 failed\n"},
		{true, "\r[          ] 0/50 objects  0%  listing…" +
			"\r[          ] 0/100 objects  0%  listing…" +
			"\r[          ] 5/100 objects  5%          " +
			"\r[>         ] 10/100 objects  10%" +
			"\r[>         ] 15/100 objects  15%  1 failed" +
			"\r[==========] 100/100 objects  100%  1 failed\n"},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		b := newProgressBar(&buf, tc.tty)
		b.width = 10
		for _, p := range steps {
			b.update(p)
		}
		b.finish()
		if got := buf.String(); got != tc.want {
			t.Errorf("tty %v: wrote %q, want %q", tc.tty, got, tc.want)
		}
	}
}

func TestParseColumnMap(t *testing.T) {
	tests := []struct {
		in        string
		want      map[string]string
		wantField string
	}{
		{"Mobile No.=phone, Cust ID = customer_id", map[string]string{"Mobile No.": "phone", "Cust ID": "customer_id"}, ""},
		{"a=b=email", map[string]string{"a=b": "email"}, ""},
		{"Notes=business", map[string]string{"Notes": "business"}, ""},
		{"", nil, "-map"},
		{"Phone", nil, "-map entry 1"},
		{"Phone=phone,=email", nil, "-map entry 2"},
		{"Phone=phone,Mail=e-mail", nil, "-map entry 2 (Mail)"},
		{"Phone=phone,Phone=email", nil, "-map entry 2 (Phone)"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseColumnMap(tc.in)
			if tc.wantField != "" {
				var ve *veil.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.wantField {
					t.Fatalf("error = %v, want a ValidationError on %s", err, tc.wantField)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("parseColumnMap = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestCommandsOnTheLocalStack runs the commands as an operator would, with
// nothing but the SDK's standard environment pointing at the stack.
func TestCommandsOnTheLocalStack(t *testing.T) {
	opts := stacktest.Options(t)
	opts.HoldNotifications = true
	s := stacktest.Start(t, opts)
	for _, kv := range append(s.Environment(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=") {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bucket := s.Names["LeadsBucket"]
	api := s3.NewFromConfig(s.AWS)
	for key, body := range map[string]string{
		"campaigns/a/one.csv":   "Phone,Email\n2125550147,a@example.com\n",
		"campaigns/a/two.csv":   "Phone,Email\n2125550148,b@example.com\n",
		"campaigns/b/three.csv": "Phone,Email\n2125550149,c@example.com\n",
		"campaigns/b/bad.bin":   "\x00\x01\x02",
	} {
		if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	table := s.Names["IndexTable"]
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring
	}{
		{"dry run", []string{"backfill", "-bucket", bucket, "-prefix", "campaigns/", "-dry-run"}, exitOK,
			"dry run: 4 objects under s3://veil-leads/campaigns/ would be indexed", ""},
		{"backfill", []string{"backfill", "-bucket", bucket, "-prefix", "campaigns/", "-workers", "2", "-batch", "2"}, exitFailed,
			"backfill s3://veil-leads/campaigns/: 4 listed, 3 indexed, 1 failed, 0 folder markers skipped, 2 invocations\nfailed campaigns/b/bad.bin: lead list s3://veil-leads/campaigns/b/bad.bin@",
			"4/4 objects  100%  1 failed\n"},
		{"backfill one campaign", []string{"backfill", "-bucket", bucket, "-prefix", "campaigns/a/", "-json"}, exitOK,
			`"indexed": 2,`, "2/2 objects  100%\n"},
		{"no such function", []string{"backfill", "-bucket", bucket, "-function", "Nope"}, exitUsage, "", "invoke Nope"},
		{"no bucket", []string{"backfill", "-prefix", "campaigns/"}, exitUsage, "", "-bucket is required"},
		{"columns set", []string{"columns", "set", "-campaign", "a", "-table", table, "-map", "Phone=phone,Ref=customer_id"}, exitOK, "Phone=phone\nRef=customer_id\n", ""},
		{"columns get", []string{"columns", "get", "-campaign", "a", "-table", table}, exitOK, "Phone=phone\nRef=customer_id\n", ""},
		{"columns get none", []string{"columns", "get", "-campaign", "zzz", "-table", table}, exitOK, "", ""},
		{"columns set encoding", []string{"columns", "set", "-campaign", "jp", "-table", table, "-encoding", "Shift_JIS", "-map", "Tel=phone"}, exitOK, "encoding: shift_jis\nTel=phone\n", ""},
		{"columns get encoding", []string{"columns", "get", "-campaign", "jp", "-table", table}, exitOK, "encoding: shift_jis\nTel=phone\n", ""},
		{"columns encoding alone", []string{"columns", "set", "-campaign", "eu", "-table", table, "-encoding", "latin1"}, exitOK, "encoding: windows-1252\n", ""},
		{"columns bad encoding", []string{"columns", "set", "-campaign", "a", "-table", table, "-encoding", "klingon"}, exitUsage, "", `-encoding: unknown encoding "klingon"`},
		{"columns bad kind", []string{"columns", "set", "-campaign", "a", "-table", table, "-map", "Phone=mobile"}, exitUsage, "", `-map entry 1 (Phone): unknown kind "mobile"`},
		{"columns without campaign", []string{"columns", "get"}, exitUsage, "", "-campaign"},
		{"catalog get default", []string{"catalog", "get", "-campaign", "a", "-table", table}, exitOK, export.DefaultCatalog.Retention, ""},
		{"catalog set", []string{"catalog", "set", "-campaign", "a", "-table", table, "-file", catalogFile(t, `{"sources":["Acme Leads LLC"]}`)}, exitOK, `"Acme Leads LLC"`, ""},
		{"catalog get", []string{"catalog", "get", "-campaign", "a", "-table", table}, exitOK, `"sources": [
    "Acme Leads LLC"
  ],
  "purposes": [
    "` + export.DefaultCatalog.Purposes[0], ""},
		{"catalog set default", []string{"catalog", "set", "-campaign", "default", "-table", table, "-file", catalogFile(t, `{"retention":"Two years."}`)}, exitOK, `"retention": "Two years."`, ""},
		{"catalog get falls back to default", []string{"catalog", "get", "-campaign", "b", "-table", table}, exitOK, `"retention": "Two years."`, ""},
		{"catalog unknown field", []string{"catalog", "set", "-campaign", "a", "-table", table, "-file", catalogFile(t, `{"source":["x"]}`)}, exitUsage, "", `-file: want {`},
		{"catalog empty entry", []string{"catalog", "set", "-campaign", "a", "-table", table, "-file", catalogFile(t, `{"purposes":["ok"," "]}`)}, exitUsage, "", `purposes[1]: empty`},
		{"catalog without file", []string{"catalog", "set", "-campaign", "a", "-table", table}, exitUsage, "", `-file: required`},
		{"unknown command", []string{"reindex"}, exitUsage, "", "usage:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(ctx, tc.args, &stdout, &stderr)
			if code != tc.wantCode || !strings.Contains(stdout.String(), tc.wantStdout) || !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Fatalf("veil %s = %d\nstdout: %s\nstderr: %s\nwant %d, stdout with %q, stderr with %q",
					strings.Join(tc.args, " "), code, stdout.String(), stderr.String(), tc.wantCode, tc.wantStdout, tc.wantStderr)
			}
			if tc.name == "backfill one campaign" {
				var sum backfill.Summary
				if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || sum.Indexed != 2 || sum.Failed == nil {
					t.Fatalf("JSON summary = %+v, %v; want 2 indexed and an empty failed list", sum, err)
				}
			}
		})
	}
}

// catalogFile writes a catalog for veil catalog set -file.
func catalogFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "catalog.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
