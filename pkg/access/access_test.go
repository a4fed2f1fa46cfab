package access_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/export"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/exportfn"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// env starts a local stack holding one list and returns it with the
// export service ExportFunction builds on it.
func env(t *testing.T) (*stack.Stack, *access.Service) {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options(t))
	list := "Full Name,Phone,Email,DOB,Offer\nDana Whitfield,(212) 555-0147,dana@example.com,1980-02-03,Refi 3.1%\nPat Doe,2125550100,pat@example.com,,=1+1\n"
	if _, err := s3.NewFromConfig(s.AWS).PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(s.Names["LeadsBucket"]),
		Key: aws.String("campaigns/spring/list.csv"), Body: strings.NewReader(list)}); err != nil {
		t.Fatal(err)
	}
	stacktest.WaitIdle(t, s)
	cfg, err := exportfn.ConfigFromEnv(func(k string) string { return s.FunctionEnv("ExportFunction", k) })
	if err != nil {
		t.Fatal(err)
	}
	finder, err := lambdafn.SearchService(t.Context(), s.AWS, cfg.Search)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := lambdafn.AccessService(t.Context(), s.AWS, cfg.Access, finder)
	if err != nil {
		t.Fatal(err)
	}
	return s, svc
}

var dana = []search.Identifier{{Field: "phones[0]", Kind: identifiers.Phone, Value: "+1 212 555 0147"}}

// TestExportIsWrittenOnce: exporting an ID again returns the export as it
// was written, its files untouched; a download of a file the export does
// not have is not found; its history keeps every download.
func TestExportIsWrittenOnce(t *testing.T) {
	s, svc := env(t)
	ctx := t.Context()
	x, err := svc.Export(ctx, access.Input{ID: "req-1", Requester: "consumer", Identifiers: dana})
	if err != nil {
		t.Fatal(err)
	}
	if x.Records != 1 || !slices.Equal(x.Files, []string{"records.csv", "records.json", "report-001.pdf"}) || x.Status != access.StatusReady {
		t.Fatalf("export = %+v, want 1 record in the CSV, JSON and one PDF volume", x)
	}
	objects := func() map[string]time.Time {
		out, err := s3.NewFromConfig(s.AWS).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s.Names["ExportsBucket"]), Prefix: aws.String("exports/req-1/")})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]time.Time{}
		for _, o := range out.Contents {
			m[*o.Key] = *o.LastModified
		}
		return m
	}
	before := objects()
	if len(before) != 4 { // the search's records.jsonl, and the three files
		t.Fatalf("objects = %v, want records.jsonl and the export's 3 files", before)
	}
	again, err := svc.Export(ctx, access.Input{ID: "req-1", Requester: "someone else", Identifiers: dana})
	if err != nil {
		t.Fatal(err)
	}
	if again.Requester != "consumer" || !again.Answered.Equal(x.Answered) {
		t.Fatalf("second export = %+v, want the first one as written", again)
	}
	if after := objects(); len(after) != len(before) {
		t.Fatalf("objects after a second export = %v, want %v", after, before)
	} else {
		for k, at := range before {
			if !after[k].Equal(at) {
				t.Fatalf("%s was written again", k)
			}
		}
	}

	tok, _, err := svc.Signer.Token("req-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Download(ctx, "req-1", "records.xlsx", tok, "198.51.100.4"); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("download of a file the export lacks: %v, want not found", err)
	}
	link, err := svc.Download(ctx, "req-1", "records.csv", tok, "198.51.100.4")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("Dana Whitfield")) || bytes.Contains(body, []byte("Pat Doe")) {
		t.Fatalf("presigned GET = %d %q, want Dana's row only", resp.StatusCode, body)
	}
	st, err := svc.Status(ctx, "req-1")
	if err != nil || len(st.Downloads) != 1 || st.Downloads[0].File != "records.csv" || st.Downloads[0].IPHash != svc.Signer.IPHash("198.51.100.4") {
		t.Fatalf("status = %+v, %v; want the CSV download with its IP hash", st, err)
	}
	if _, err := svc.Download(ctx, "req-2", "records.csv", tok, ""); !errors.Is(err, veil.ErrForbidden) {
		t.Fatalf("req-1's token on req-2: %v, want forbidden", err)
	}
}

// TestExportFromRecordsKey: the workflow's path. The search's records are
// read from the exports bucket, the coverage is the one passed, and the
// disclosure takes the campaign's catalog (its empty parts from the
// default) and the categories of the fields the consumer's rows hold.
func TestExportFromRecordsKey(t *testing.T) {
	s, svc := env(t)
	ctx := t.Context()
	store := indexstore.New(dynamodb.NewFromConfig(s.AWS), s.Names["IndexTable"])
	if err := store.PutCatalog(ctx, "spring", export.Catalog{Sources: []string{"Acme Leads LLC"}}); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Search.Search(ctx, dana)
	if err != nil {
		t.Fatal(err)
	}
	key, err := access.PutRecords(ctx, svc.Files, "req-9", res.Records)
	if err != nil {
		t.Fatal(err)
	}
	cov := res.Coverage
	cov.Objects = 7
	x, err := svc.Export(ctx, access.Input{ID: "req-9", RecordsKey: key, Coverage: cov, Jurisdiction: "CCPA"})
	if err != nil {
		t.Fatal(err)
	}
	if x.Records != 1 || x.Coverage.Objects != 7 {
		t.Fatalf("export = %+v, want the record and the coverage passed", x)
	}
	body, err := svc.Files.Open(ctx, access.ExportPrefix("req-9")+access.JSONFile)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	b, _ := io.ReadAll(body)
	for _, want := range []string{`"Acme Leads LLC"`, export.DefaultCatalog.Purposes[0], `"Identifiers: telephone number"`,
		`"Characteristics of protected classifications: age (date of birth)"`, `"jurisdiction":"CCPA"`, `"objects":7`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Fatalf("records.json lacks %s:\n%s", want, b)
		}
	}
	if _, err := svc.Export(ctx, access.Input{ID: "req-10", RecordsKey: "exports/none/records.jsonl"}); !isValidation(err, "recordsKey") {
		t.Fatalf("export of missing records: %v, want a validation error on recordsKey", err)
	}
	if _, err := svc.Export(ctx, access.Input{ID: "../x", Identifiers: dana}); !isValidation(err, "exportId") {
		t.Fatalf("export ID ../x: %v, want a validation error on exportId", err)
	}
	if _, err := svc.Export(ctx, access.Input{ID: "req-11"}); !isValidation(err, "identifiers") {
		t.Fatalf("export of nothing: %v, want a validation error on identifiers", err)
	}
}

func isValidation(err error, field string) bool {
	var ve *veil.ValidationError
	return errors.As(err, &ve) && ve.Field == field
}

// TestRevokedExportIsGone: after a revocation every link of the export
// answers gone, in plain words, and revoking twice keeps the first.
func TestRevokedExportIsGone(t *testing.T) {
	_, svc := env(t)
	ctx := context.Background()
	if _, err := svc.Export(ctx, access.Input{ID: "req-3", Identifiers: dana}); err != nil {
		t.Fatal(err)
	}
	tok, _, _ := svc.Signer.Token("req-3")
	if err := svc.Revoke(ctx, "req-3", "staff:a"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Revoke(ctx, "req-3", "staff:b"); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Download(ctx, "req-3", "records.csv", tok, "")
	if !errors.Is(err, veil.ErrGone) || !strings.Contains(err.Error(), "withdrawn") {
		t.Fatalf("download after revocation: %v, want gone, withdrawn", err)
	}
	if st, _ := svc.Status(ctx, "req-3"); st.RevokedBy != "staff:a" {
		t.Fatalf("revoked by %q, want the first revoker", st.RevokedBy)
	}
	if err := svc.Revoke(ctx, "req-nope", "staff:a"); !errors.Is(err, veil.ErrNotFound) {
		t.Fatalf("revoking an unknown export: %v, want not found", err)
	}
}
