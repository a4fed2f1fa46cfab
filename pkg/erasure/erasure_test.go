package erasure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/pseudonymizefn"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/masking"
	"github.com/veil-privacy/veil/pkg/objectstore"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/veil"
)

// env is a local stack and the erasure service PseudonymizeFunction builds
// on it.
type env struct {
	t      *testing.T
	stack  *stack.Stack
	s3     *s3.Client
	svc    *erasure.Service
	bucket string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options(t))
	cfg, err := pseudonymizefn.ConfigFromEnv(func(k string) string { return s.FunctionEnv("PseudonymizeFunction", k) })
	if err != nil {
		t.Fatal(err)
	}
	finder, err := lambdafn.SearchService(t.Context(), s.AWS, cfg.Search)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := lambdafn.ErasureService(s.AWS, cfg.Erasure, finder)
	if err != nil {
		t.Fatal(err)
	}
	svc.TempDir = t.TempDir()
	return &env{t: t, stack: s, s3: s3.NewFromConfig(s.AWS), svc: svc, bucket: s.Names["LeadsBucket"]}
}

// put uploads body as key and returns its version.
func (e *env) put(key string, body []byte) string {
	e.t.Helper()
	out, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.VersionId)
}

// get returns the current bytes of key.
func (e *env) get(key string) []byte {
	e.t.Helper()
	out, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	if err != nil {
		e.t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// versions lists key's versions and delete markers with the real AWS CLI.
func (e *env) versions(key string) (versions, markers []string) {
	e.t.Helper()
	var out struct {
		Versions      []struct{ Key, VersionId string }
		DeleteMarkers []struct{ Key, VersionId string }
	}
	raw := stacktest.AWS(e.t, e.stack, "s3api", "list-object-versions", "--bucket", e.bucket, "--prefix", key)
	if strings.TrimSpace(raw) != "" {
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			e.t.Fatalf("list-object-versions: %v\n%s", err, raw)
		}
	}
	for _, v := range out.Versions {
		if v.Key == key {
			versions = append(versions, v.VersionId)
		}
	}
	for _, m := range out.DeleteMarkers {
		if m.Key == key {
			markers = append(markers, m.VersionId)
		}
	}
	return versions, markers
}

// noPlaintext checks, through the AWS CLI, that no version of any key
// holds any of secrets (in UTF-8, Windows-1252 or UTF-16).
func (e *env) noPlaintext(keys []string, secrets ...string) {
	e.t.Helper()
	for _, key := range keys {
		vs, _ := e.versions(key)
		for _, v := range vs {
			path := e.t.TempDir() + "/object"
			stacktest.AWS(e.t, e.stack, "s3api", "get-object", "--bucket", e.bucket, "--key", key, "--version-id", v, path)
			body := readFile(e.t, path)
			for _, s := range secrets {
				for _, enc := range encodings(s) {
					if bytes.Contains(body, enc) {
						e.t.Errorf("s3://%s/%s@%s still holds %q", e.bucket, key, v, s)
					}
				}
			}
		}
	}
}

func encodings(s string) [][]byte {
	out := [][]byte{[]byte(s)}
	if b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s)); err == nil {
		out = append(out, b)
	}
	if b, err := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().Bytes([]byte(s)); err == nil {
		out = append(out, b)
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cp1252(t *testing.T, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func utf16le(t *testing.T, s string) []byte {
	t.Helper()
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var rosa = []search.Identifier{
	{Field: "phone", Kind: identifiers.Phone, Value: "(415) 555-0199"},
	{Field: "email", Kind: identifiers.Email, Value: "rosa.nunez@example.com"},
}

// The lists of TestEraseEveryCopy: Rosa is in three of them (one replaced
// before the request, so in its old version only), and in one removed.
const (
	excelTitle = "Leads export 2026-11-02\r\n\r\n"
	excelList  = "First Name,Last Name,Phone,Email,Notes,Offer\r\n" +
		"José,Muñoz,2125550101,jose@example.com,\"called, \"\"twice\"\"\",Refi\r\n" +
		"Rosa,Núñez,(415) 555-0199,rosa.nunez@example.com,\"line one\r\nline two\",Café 3.1%\r\n" +
		"Ann,Lee,2125550103,ann@example.com,,Auto\r\n"
	dialerList = "phone\temail\tagent\tdisposition\n" +
		"+1 415-555-0199\tROSA.NUNEZ@EXAMPLE.COM\tkim\tcallback\n" +
		"2125550104\tbo@example.com\tkim\tsale\n"
	oldList = "name,phone\nRosa Nunez,4155550199\nDee Roe,2125550105\n"
	newList = "name,phone\nDee Roe,2125550105\n"
	gone    = "name,email\nRosa,rosa.nunez@example.com\n"
)

// TestEraseEveryCopy: a consumer in a Windows-1252 Excel export (title
// lines, quoted fields with CRLF inside), a UTF-16 dialer export, a list
// replaced before the request and a removed one is erased from every
// version of each: the preview changes nothing, the job rewrites the two
// current lists byte for byte but for her cells, purges every version that
// held her (the old one and the removed one's with its marker), verifies,
// suppresses her and certifies it, without a value of hers in the job.
func TestEraseEveryCopy(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	excel, dialer, replaced, removed := "campaigns/spring/leads.csv", "campaigns/spring/dialer.txt", "campaigns/fall/list.csv", "campaigns/old/gone.csv"
	excelBytes := append(cp1252(t, excelTitle), cp1252(t, excelList)...)
	dialerBytes := utf16le(t, dialerList)
	e.put(excel, excelBytes)
	e.put(dialer, dialerBytes)
	oldVersion := e.put(replaced, []byte(oldList))
	e.put("campaigns/old/gone.csv", []byte(gone))
	stacktest.WaitIdle(t, e.stack)
	e.put(replaced, []byte(newList))
	if _, err := e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(removed)}); err != nil {
		t.Fatal(err)
	}
	stacktest.WaitIdle(t, e.stack)
	req := erasure.Request{Operation: erasure.Erasure, Jurisdiction: "CCPA", Identifiers: rosa, Requester: "sup-1"}

	p, err := e.svc.Preview(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 2 || p.Versions != 4 || len(p.Objects) != 4 || p.Strategy != "alternate" {
		t.Fatalf("preview = %+v, want 2 rows in 2 current versions, and 2 noncurrent versions, alternate", p)
	}
	if vs, _ := e.versions(replaced); len(vs) != 2 {
		t.Fatalf("the preview changed the bucket: %s has %d versions", replaced, len(vs))
	}

	j, err := e.svc.Start(ctx, erasure.NewID(), req)
	if err != nil {
		t.Fatal(err)
	}
	j, err = e.svc.Run(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != erasure.StatusCompleted || j.Totals.ObjectsRewritten != 2 || j.Totals.RowsEdited != 2 || j.Verification.Status != "passed" {
		t.Fatalf("job = %+v, want completed: 2 objects, 2 rows, verified", j)
	}

	// Every byte but her cells', in each list's own encoding.
	wantExcel := append(cp1252(t, excelTitle), cp1252(t, strings.NewReplacer(
		"Rosa,Núñez,(415) 555-0199,rosa.nunez@example.com,\"line one\r\nline two\"",
		mask("Rosa", "Núñez", "(415) 555-0199", "rosa.nunez@example.com")+",\"line one\r\nline two\"").Replace(excelList))...)
	if got := e.get(excel); !bytes.Equal(got, wantExcel) {
		t.Fatalf("excel list after erasure:\n%q\nwant\n%q", got, wantExcel)
	}
	wantDialer := utf16le(t, strings.Replace(dialerList, "+1 415-555-0199\tROSA.NUNEZ@EXAMPLE.COM", masking.MaskAlternate("+1 415-555-0199")+"\t"+masking.MaskAlternate("ROSA.NUNEZ@EXAMPLE.COM"), 1))
	if got := e.get(dialer); !bytes.Equal(got, wantDialer) {
		t.Fatalf("dialer list after erasure:\n%q\nwant\n%q", got, wantDialer)
	}
	if got := e.get(replaced); string(got) != newList {
		t.Fatalf("the replaced list's current version changed: %q", got)
	}
	if vs, _ := e.versions(replaced); len(vs) != 1 || vs[0] == oldVersion {
		t.Fatalf("versions of %s = %v, want only the current one (%s purged)", replaced, vs, oldVersion)
	}
	if vs, ms := e.versions(removed); len(vs) != 0 || len(ms) != 0 {
		t.Fatalf("%s keeps versions %v and markers %v, want none", removed, vs, ms)
	}
	for _, key := range []string{excel, dialer} {
		if vs, _ := e.versions(key); len(vs) != 1 {
			t.Fatalf("%s has %d versions, want the rewritten one alone", key, len(vs))
		}
	}
	e.noPlaintext([]string{excel, dialer, replaced, removed}, "555-0199", "5550199", "rosa.nunez", "ROSA.NUNEZ", "Núñez")

	// Proof without her data: the job, its certificate, its input gone.
	stacktest.WaitIdle(t, e.stack)
	raw, _ := json.Marshal(j)
	for _, f := range []string{j.Certificate.JSON, j.Certificate.PDF} {
		rc, err := e.svc.Files.Open(ctx, f)
		if err != nil {
			t.Fatalf("certificate %s: %v", f, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		raw = append(raw, b...)
	}
	for _, s := range []string{"0199", "rosa", "ROSA", "Núñez", "Nunez"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the job or its certificate holds %q", s)
		}
	}
	if _, err := e.svc.Files.Open(ctx, erasure.InputKey(j.ID)); err == nil {
		t.Errorf("the job's input is still in the exports bucket")
	}
	// Checked as SearchFunction checks, in its table.
	checker, err := lambdafn.SuppressionChecker(e.stack.AWS, e.stack.FunctionEnv("SearchFunction", "INDEX_TABLE"), e.svc.Search.Secrets, e.svc.Region)
	if err != nil {
		t.Fatal(err)
	}
	res, err := checker.Check(ctx, identifiers.Phone, []string{"415.555.0199"})
	if err != nil || len(res) != 1 || !res[0].Suppressed() || res[0].Entries[0].Action != suppression.Mask || res[0].Entries[0].Origin != "erasure:"+j.ID {
		t.Fatalf("suppression of her phone = %+v, %v; want masked, from the job", res, err)
	}
	// Searched again once the index caught up: nothing of hers anywhere.
	after, err := e.svc.Search.Search(ctx, rosa)
	if err != nil || len(after.Records) != 0 || len(after.Noncurrent) != 0 {
		t.Fatalf("search after erasure = %+v, %v; want nothing", after, err)
	}
	// Run again: the job ended, nothing changes.
	again, err := e.svc.Run(ctx, j.ID)
	if err != nil || again.Status != j.Status || !bytes.Equal(e.get(excel), wantExcel) {
		t.Fatalf("rerun = %+v, %v; want the ended job, the list untouched", again, err)
	}
}

// faultyBucket fails the n-th write (a conditional put, a version deleted)
// and every one after it, as a function killed at that point would stop.
type faultyBucket struct {
	erasure.Bucket
	mu     sync.Mutex
	n      int
	writes int
}

var errKilled = errors.New("killed")

func (f *faultyBucket) write() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.writes >= f.n {
		return errKilled
	}
	return nil
}

func (f *faultyBucket) PutIfMatch(ctx context.Context, bucket, key, etag string, body io.Reader, size int64, ct string) (string, error) {
	if err := f.write(); err != nil {
		return "", err
	}
	return f.Bucket.PutIfMatch(ctx, bucket, key, etag, body, size, ct)
}

func (f *faultyBucket) DeleteVersion(ctx context.Context, bucket, key, version string) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.Bucket.DeleteVersion(ctx, bucket, key, version)
}

// afterWrite runs a function after the write it wraps: a crash just after
// it, or another upload racing the job.
type afterWrite struct {
	erasure.Bucket
	before func()
	once   sync.Once
}

func (a *afterWrite) PutIfMatch(ctx context.Context, bucket, key, etag string, body io.Reader, size int64, ct string) (string, error) {
	a.once.Do(a.before)
	return a.Bucket.PutIfMatch(ctx, bucket, key, etag, body, size, ct)
}

// TestKilledAtEachStepThenRerun: a job killed at each of its writes (and
// with the index caught up or not before the rerun) finishes on the rerun
// with the same lists as a job never killed: her cells masked once, every
// version that held her gone. Each step erases another consumer: the one
// before is suppressed, and the stack's IndexFunction would scrub her
// uploads itself.
func TestKilledAtEachStepThenRerun(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	real := e.svc.Bucket
	done := false
	for n := 1; !done; n++ {
		t.Run(fmt.Sprint("kill at write ", n), func(t *testing.T) {
			a, b := fmt.Sprintf("campaigns/k%d/a.csv", n), fmt.Sprintf("campaigns/k%d/b.csv", n)
			phone, email := fmt.Sprintf("41555502%02d", n), fmt.Sprintf("rosa.nunez%d@example.com", n)
			e.put(a, []byte("name,phone\nRosa Nunez,"+phone+"\nDee Roe,2125550105\n"))
			stacktest.WaitIdle(t, e.stack)
			e.put(a, []byte("name,phone,email\nRosa Nunez,"+phone+","+email+"\nDee Roe,2125550105,dee@example.com\n"))
			e.put(b, []byte("email,name\n"+email+",Rosa\n"))
			stacktest.WaitIdle(t, e.stack)
			req := erasure.Request{Operation: erasure.Erasure, Jurisdiction: "CCPA", Identifiers: []search.Identifier{
				{Field: "phone", Kind: identifiers.Phone, Value: phone}, {Field: "email", Kind: identifiers.Email, Value: email}}}
			j, err := e.svc.Start(ctx, erasure.NewID(), req)
			if err != nil {
				t.Fatal(err)
			}
			e.svc.Bucket = &faultyBucket{Bucket: real, n: n}
			_, err = e.svc.Run(ctx, j.ID)
			e.svc.Bucket = real
			if err == nil && n > 5 {
				// Past the job's last write (a: a put and two versions
				// purged, b: a put and one): every step was killed.
				done = true
				return
			}
			if !errors.Is(err, errKilled) {
				t.Fatalf("killed run = %v, want the kill", err)
			}
			if n%2 == 0 {
				stacktest.WaitIdle(t, e.stack) // the index caught up with the writes before the kill
			}
			j, err = e.svc.Run(ctx, j.ID)
			if err != nil || j.Status != erasure.StatusCompleted {
				t.Fatalf("rerun = %+v, %v; want completed", j, err)
			}
			if got, want := string(e.get(a)), "name,phone,email\n"+mask("Rosa Nunez", phone, email)+"\nDee Roe,2125550105,dee@example.com\n"; got != want {
				t.Fatalf("a after the rerun = %q, want %q", got, want)
			}
			if got, want := string(e.get(b)), "email,name\n"+mask(email, "Rosa")+"\n"; got != want {
				t.Fatalf("b after the rerun = %q, want %q", got, want)
			}
			for _, key := range []string{a, b} {
				if vs, ms := e.versions(key); len(vs) != 1 || len(ms) != 0 {
					t.Fatalf("%s: versions %v markers %v, want the rewritten version alone", key, vs, ms)
				}
			}
			e.noPlaintext([]string{a, b}, phone, email)
		})
	}
}

// TestConcurrentUpload: a list uploaded again while the job rewrites it
// is not lost: the write conditional on the version read fails, and the
// job edits the new upload instead, purging both plaintext versions.
func TestConcurrentUpload(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	key := "campaigns/race/list.csv"
	e.put(key, []byte("name,phone\nRosa,4155550199\nDee,2125550105\n"))
	stacktest.WaitIdle(t, e.stack)
	upload := "name,phone\nNew Lead,2125550106\nRosa,415 555 0199\nDee,2125550105\n"
	e.svc.Bucket = &afterWrite{Bucket: e.svc.Bucket, before: func() { e.put(key, []byte(upload)) }}
	j, err := e.svc.Start(ctx, erasure.NewID(), erasure.Request{Operation: erasure.Erasure, Jurisdiction: "CCPA", Identifiers: rosa[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if j, err = e.svc.Run(ctx, j.ID); err != nil || j.Status != erasure.StatusCompleted {
		t.Fatalf("job = %+v, %v; want completed", j, err)
	}
	if got, want := string(e.get(key)), "name,phone\nNew Lead,2125550106\n"+mask("Rosa", "415 555 0199")+"\nDee,2125550105\n"; got != want {
		t.Fatalf("after the race = %q, want the concurrent upload with her row masked: %q", got, want)
	}
	if vs, _ := e.versions(key); len(vs) != 1 {
		t.Fatalf("versions = %v, want the job's version alone", vs)
	}
	e.noPlaintext([]string{key}, "4155550199", "415 555 0199")
}

// TestCorrection: a correction sets her email in every row that has an
// email column, every other byte kept; run again, it changes nothing.
func TestCorrection(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	key := "campaigns/fix/list.csv"
	e.put(key, []byte("Name;Phone;E-mail\r\n\"Núñez, Rosa\";4155550199;rosa.nunez@example.com\r\nDee;2125550105;dee@example.com\r\n"))
	stacktest.WaitIdle(t, e.stack)
	req := erasure.Request{Operation: erasure.Correction, Identifiers: rosa[:1],
		Correction: &masking.Correction{Set: map[string]string{"email": "rosa@example.org"}}}
	for run := range 2 {
		j, err := e.svc.Start(ctx, erasure.NewID(), req)
		if err != nil {
			t.Fatal(err)
		}
		if j, err = e.svc.Run(ctx, j.ID); err != nil || j.Status != erasure.StatusCompleted {
			t.Fatalf("run %d = %+v, %v; want completed", run, j, err)
		}
		if want := int64(1 - run); j.Totals.RowsEdited != want {
			t.Fatalf("run %d edited %d rows, want %d", run, j.Totals.RowsEdited, want)
		}
		if got, want := string(e.get(key)), "Name;Phone;E-mail\r\n\"Núñez, Rosa\";4155550199;rosa@example.org\r\nDee;2125550105;dee@example.com\r\n"; got != want {
			t.Fatalf("after run %d = %q, want %q", run, got, want)
		}
		stacktest.WaitIdle(t, e.stack)
	}
	e.noPlaintext([]string{key}, "rosa.nunez")
	if _, err := e.svc.Preview(ctx, erasure.Request{Operation: erasure.Correction, Identifiers: rosa[:1],
		Correction: &masking.Correction{Set: map[string]string{"email": "not an email"}}}); err == nil {
		t.Fatalf("a correction to a value that is no email was accepted")
	}
}

// mask returns cells as the alternate strategy masks them, joined by commas.
func mask(cells ...string) string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = masking.MaskAlternate(c)
	}
	return strings.Join(out, ",")
}

func dynamoOf(e *env) *dynamodb.Client { return dynamodb.NewFromConfig(e.stack.AWS) }

// TestLargeListInParts: a list past the multipart threshold is written in
// parts, completed conditionally on the version read: another upload
// before the completion makes it fail (412, the parts aborted) and the
// job edits the new upload instead, every other byte kept.
func TestLargeListInParts(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	parts := objectstore.New(s3.NewFromConfig(e.stack.AWS, objectstore.ClientOptions))
	parts.MultipartThreshold, parts.PartSize = 1<<20, 5<<20
	key := "campaigns/big/list.csv"
	var b strings.Builder
	b.WriteString("name,phone,notes\n")
	// Phones in the first rows only (the index classifies from them), so
	// that the stack indexes a few hundred entries, not 250,000.
	for i := range 250_000 {
		if i == 60_000 {
			b.WriteString("Rosa Nunez,4155550199,\"called, twice\"\n")
		}
		phone := ""
		if i < 200 {
			phone = fmt.Sprintf("2125%06d", i)
		}
		fmt.Fprintf(&b, "Lead %d,%s,filler text for the size of it\n", i, phone)
	}
	first := b.String()
	e.put(key, []byte(first))
	stacktest.WaitIdle(t, e.stack)
	second := first + "Late Lead,2125559999,uploaded during the job\n"
	e.svc.Bucket = &afterWrite{Bucket: parts, before: func() { e.put(key, []byte(second)) }}
	j, err := e.svc.Start(ctx, erasure.NewID(), erasure.Request{Operation: erasure.Erasure, Jurisdiction: "CCPA", Identifiers: rosa[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if j, err = e.svc.Run(ctx, j.ID); err != nil || j.Status != erasure.StatusCompleted || j.Totals.RowsEdited != 1 {
		t.Fatalf("job = %+v, %v; want completed, 1 row", j, err)
	}
	if len(first) < 2*(5<<20) {
		t.Fatalf("the list is %d bytes, want at least two parts", len(first))
	}
	want := strings.Replace(second, "Rosa Nunez,4155550199,", mask("Rosa Nunez", "4155550199")+",", 1)
	if got := string(e.get(key)); got != want {
		t.Fatalf("the list after the job differs from the upload during it with her row masked (%d bytes vs %d)", len(got), len(want))
	}
	if vs, _ := e.versions(key); len(vs) != 1 {
		t.Fatalf("versions = %v, want the job's alone", vs)
	}
	out, err := e.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(e.bucket)})
	if err != nil || len(out.Uploads) != 0 {
		t.Fatalf("multipart uploads left = %+v, %v; want the failed one aborted", out.Uploads, err)
	}
}

// TestUnreadableVersionFailsTheJob: a list whose newest upload cannot be
// read (the index answers from the version before it) fails the job,
// loudly, naming the object: the plaintext may be in the upload, and the
// job cannot say it is not.
func TestUnreadableVersionFailsTheJob(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	key := "campaigns/broken/list.csv"
	e.put(key, []byte("name,phone\nRosa Nunez,4155550199\n"))
	stacktest.WaitIdle(t, e.stack)
	e.put(key, []byte("\x00\x01binary\x00"))
	stacktest.WaitIdle(t, e.stack)
	j, err := e.svc.Start(ctx, erasure.NewID(), erasure.Request{Operation: erasure.Erasure, Jurisdiction: "CCPA", Identifiers: rosa[:1]})
	if err != nil {
		t.Fatal(err)
	}
	j, err = e.svc.Run(ctx, j.ID)
	if err != nil || j.Status != erasure.StatusFailed || !strings.Contains(j.Error, "s3://"+e.bucket+"/"+key) || j.Certificate == nil {
		t.Fatalf("job = %+v, %v; want failed naming %s, with its certificate", j, err, key)
	}
}

// TestConfirmOnceWhenTwoConfirmAtOnce: a job held for a second person is
// confirmed by one of two supervisors confirming at the same moment (real
// goroutines against the Requests table); the other is told it moved on,
// and the one who asked cannot confirm at all.
func TestConfirmOnceWhenTwoConfirmAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	req := erasure.Request{Operation: erasure.Erasure, Identifiers: rosa[:1], Requester: "sup-ann", Reason: "ticket 77"}
	j, err := e.svc.Hold(ctx, erasure.NewID(), req)
	if err != nil || j.Status != erasure.StatusAwaitingConfirmation {
		t.Fatalf("Hold = %+v, %v; want a job awaiting confirmation", j, err)
	}
	if _, err := e.svc.Confirm(ctx, j.ID, "sup-ann"); !errors.Is(err, erasure.ErrSameRequester) {
		t.Fatalf("Confirm by the requester error = %v, want ErrSameRequester", err)
	}
	confirmers := []string{"sup-bea", "adm-cal"}
	errs := make([]error, len(confirmers))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, who := range confirmers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = e.svc.Confirm(ctx, j.ID, who)
		}()
	}
	close(start)
	wg.Wait()
	var won []string
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, confirmers[i])
		case !errors.Is(err, veil.ErrConflict):
			t.Fatalf("Confirm by %s error = %v, want nil or a conflict", confirmers[i], err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("confirmed by %v, want exactly one of %v", won, confirmers)
	}
	got, err := e.svc.Jobs.Get(ctx, j.ID)
	if err != nil || got.Status != erasure.StatusQueued || got.Confirmer != won[0] {
		t.Fatalf("job = %+v, %v; want queued, confirmed by %s", got, err, won[0])
	}
}
