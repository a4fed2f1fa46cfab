package indexing_test

// The indexing service against the real local stack (dynalite, gofakes3,
// the edge): manifests, replacement and removal, lists that cannot be
// indexed, campaign column maps, crash recovery at every step, the whole
// S3 → SQS → IndexFunction path, and no personal data in errors or logs.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/indexing"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/lambdafn/indexfn"
	"github.com/veil-privacy/veil/pkg/local/s3local"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/objectstore"
)

// testNow is the service's clock in these tests: minors are counted on it.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is one local stack with the indexing service built as IndexFunction
// builds it, on the stack's own table, bucket and secret.
type env struct {
	stack   *stack.Stack
	dataDir string
	s3      *s3.Client
	ddb     *dynamodb.Client
	store   *indexstore.Store
	objects *objectstore.Store
	svc     *indexing.Service
	bucket  string
	table   string
	secret  []byte
}

func newEnv(t *testing.T, hold bool) *env {
	t.Helper()
	opts := stacktest.Options(t)
	opts.HoldNotifications = hold
	s := stacktest.Start(t, opts)
	ctx := context.Background()
	secret, err := indexkey.Load(ctx, secretsmanager.NewFromConfig(s.AWS), s.Names["IndexKeySecret"])
	if err != nil {
		t.Fatalf("index key: %v", err)
	}
	e := &env{
		stack: s, dataDir: opts.DataDir,
		s3: s3.NewFromConfig(s.AWS), ddb: dynamodb.NewFromConfig(s.AWS),
		bucket: s.Names["LeadsBucket"], table: s.Names["IndexTable"], secret: secret,
	}
	e.store = indexstore.New(e.ddb, e.table)
	e.objects = objectstore.New(e.s3)
	e.svc = e.service(e.store)
	return e
}

// service returns a service like e.svc on idx.
func (e *env) service(idx indexing.Index) *indexing.Service {
	return &indexing.Service{Index: idx, Objects: e.objects, Secret: e.secret, KeyID: indexkey.ID(e.secret), BatchSize: 7,
		Now: func() time.Time { return testNow }, Logger: slog.New(slog.DiscardHandler)}
}

// put uploads body as key and returns the new version's ID.
func (e *env) put(t *testing.T, key string, body []byte) string {
	t.Helper()
	out, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	if aws.ToString(out.VersionId) == "" {
		t.Fatalf("put %s: no version ID (is the bucket versioned?)", key)
	}
	return aws.ToString(out.VersionId)
}

// remove deletes key (a delete marker) and returns the marker's version.
func (e *env) remove(t *testing.T, key string) string {
	t.Helper()
	out, err := e.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("delete %s: %v", key, err)
	}
	return aws.ToString(out.VersionId)
}

// deleteVersion permanently deletes one version of key.
func (e *env) deleteVersion(t *testing.T, key, version string) {
	t.Helper()
	if _, err := e.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), VersionId: aws.String(version)}); err != nil {
		t.Fatalf("delete %s@%s: %v", key, version, err)
	}
}

// held returns the held notifications as IndexFunction receives them: each
// one as the JSON S3 puts on the queue, read back by index.Changes.
func (e *env) held(t *testing.T) []indexing.ObjectChange {
	t.Helper()
	var out []indexing.ObjectChange
	for _, n := range e.stack.HeldNotifications() {
		body, err := s3local.EventJSON(n, stack.Region)
		if err != nil {
			t.Fatalf("event JSON: %v", err)
		}
		cs, err := indexfn.Changes(string(body))
		if err != nil {
			t.Fatalf("index.Changes(%s): %v", body, err)
		}
		out = append(out, cs...)
	}
	return out
}

// one returns the single held change.
func (e *env) one(t *testing.T) indexing.ObjectChange {
	t.Helper()
	cs := e.held(t)
	if len(cs) != 1 {
		t.Fatalf("held changes = %d, want 1: %+v", len(cs), cs)
	}
	return cs[0]
}

// sync applies the held changes in order and fails on any error.
func (e *env) sync(t *testing.T) {
	t.Helper()
	for _, c := range e.held(t) {
		if err := e.svc.Apply(context.Background(), c); err != nil {
			t.Fatalf("Apply(%s %s@%s) = %v, want nil", c.EventName, c.Key, c.VersionID, err)
		}
	}
}

func (e *env) manifest(t *testing.T, key string) indexing.Manifest {
	t.Helper()
	m, err := e.store.Manifest(context.Background(), e.bucket, key)
	if err != nil {
		t.Fatalf("manifest %s: %v", key, err)
	}
	return m
}

// row is an item of the Index table as these tests compare it: entries by
// PK, SK, version and byte range; manifests by status and version.
type row struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Bucket    string `dynamodbav:"bucket"`
	Key       string `dynamodbav:"key"`
	VersionID string `dynamodbav:"versionId"`
	Kind      string `dynamodbav:"kind"`
	Row       int64  `dynamodbav:"row"`
	Offset    int64  `dynamodbav:"offset"`
	Length    int64  `dynamodbav:"length"`
	Status    string `dynamodbav:"status"`
	Rows      int64  `dynamodbav:"rows"`
	Entries   int64  `dynamodbav:"entries"`
	Error     string `dynamodbav:"error"`
	Size      int64  `dynamodbav:"size"`
	KeyID     string `dynamodbav:"keyId"`
}

// entry is the part of an entry two indexes must agree on.
type entry struct {
	PK, SK, VersionID string
	Offset, Length    int64
}

// scan reads every item of table (a test's small table; never a request
// path) and returns the entries and manifests of bucket, by object key.
func (e *env) scan(t *testing.T, table string) (entries map[string][]row, manifests map[string]row) {
	t.Helper()
	entries, manifests = map[string][]row{}, map[string]row{}
	pages := dynamodb.NewScanPaginator(e.ddb, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		var items []row
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		for _, it := range items {
			switch {
			case it.Bucket != e.bucket:
			case strings.HasPrefix(it.PK, "ID#"):
				entries[it.Key] = append(entries[it.Key], it)
			case it.SK == "MANIFEST":
				manifests[it.Key] = it
			}
		}
	}
	return entries, manifests
}

// entries returns the entries of key in the Index table.
func (e *env) entries(t *testing.T, key string) []row {
	t.Helper()
	all, _ := e.scan(t, e.table)
	return all[key]
}

// versions returns the distinct versions of rows.
func versions(rows []row) []string {
	var vs []string
	for _, r := range rows {
		if !slices.Contains(vs, r.VersionID) {
			vs = append(vs, r.VersionID)
		}
	}
	sort.Strings(vs)
	return vs
}

// entrySet returns rows as a set of entries.
func entrySet(rows []row) map[entry]bool {
	set := make(map[entry]bool, len(rows))
	for _, r := range rows {
		set[entry{r.PK, r.SK, r.VersionID, r.Offset, r.Length}] = true
	}
	return set
}

// lookup returns the entries of one identifier value.
func (e *env) lookup(t *testing.T, kind identifiers.Kind, raw string) []indexing.Entry {
	t.Helper()
	norm, err := identifiers.NewNormalizer("")
	if err != nil {
		t.Fatal(err)
	}
	v, err := norm.Normalize(kind, raw)
	if err != nil {
		t.Fatalf("normalize %s %q: %v", kind, raw, err)
	}
	hits, err := e.store.Lookup(context.Background(), identifiers.Key(e.secret, kind, v), identifiers.Placeholder(kind, v))
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	return hits
}

// wantIndexed checks that key is indexed at version with exactly entries
// of that version, as many as the manifest counts.
func (e *env) wantIndexed(t *testing.T, key, version string) indexing.Manifest {
	t.Helper()
	m := e.manifest(t, key)
	if m.Status != indexing.StatusIndexed || m.VersionID != version {
		t.Fatalf("manifest of %s = %s@%s (error %q), want indexed@%s", key, m.Status, m.VersionID, m.Error, version)
	}
	e.wantKept(t, key, m)
	return m
}

// wantKept checks that key's entries are exactly those of the version m
// answers from and of the noncurrent versions it keeps, as many as it
// counts for each, and that S3 still has each noncurrent version.
func (e *env) wantKept(t *testing.T, key string, m indexing.Manifest) {
	t.Helper()
	want := map[string]int64{}
	if a, ok := m.Answering(); ok {
		want[a.VersionID] = a.Entries
	}
	for _, r := range m.Noncurrent {
		if _, err := e.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), VersionId: aws.String(r.VersionID)}); err != nil {
			t.Fatalf("%s keeps noncurrent version %s: %v", key, r.VersionID, err)
		}
		want[r.VersionID] = r.Entries
	}
	got := map[string]int64{}
	for _, r := range e.entries(t, key) {
		got[r.VersionID]++
	}
	for v, n := range want {
		if n == 0 {
			delete(want, v)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("entries of %s by version = %v, want %v (status %s)", key, got, want, m.Status)
	}
}

// noncurrentIDs returns the versions m keeps as noncurrent.
func noncurrentIDs(m indexing.Manifest) []string {
	var ids []string
	for _, r := range m.Noncurrent {
		ids = append(ids, r.VersionID)
	}
	return ids
}

// realistic is a lead list with every common column, in delimiter d.
func realistic(d string) []byte {
	lines := [][]string{
		{"First Name", "Last Name", "Mobile Phone", "Email Address", "Customer ID", "Date of Birth", "City"},
		{"Ana", "Lopez", "(212) 555-0101", "ana.lopez@example.com", "C-1001", "1980-04-12", "Austin"},
		{"Ben", "Ng", "+1 212 555 0102", "BEN@EXAMPLE.COM", "C-1002", "2015-06-30", "Boston"},
		{"Cy", "Park", "212.555.0103", "not-an-email", "C-1003", "03/15/2012", "Denver"},
		{"Di", "Ross", "2125550104", "di@example.org", "C-1004", "", "Miami"},
		{"Ed", "Sun", "", "ed@example.net", "C-1005", "1990-01-01", "Reno"},
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.Join(l, d) + "\r\n")
	}
	return []byte(b.String())
}

// TestManifest indexes a realistic list in each delimiter and checks what
// the manifest says about it, and that every identifier finds its row's
// exact bytes.
func TestManifest(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	wantColumns := []indexing.Column{
		{Header: "First Name", Kind: "first_name", By: "header"},
		{Header: "Last Name", Kind: "last_name", By: "header"},
		{Header: "Mobile Phone", Kind: "phone", By: "header"},
		{Header: "Email Address", Kind: "email", By: "header"},
		{Header: "Customer ID", Kind: "customer_id", By: "header"},
		{Header: "Date of Birth", Kind: "date_of_birth", By: "header"},
		{Header: "City", Kind: "city", By: "header"},
	}
	tests := []struct {
		name, delim string
	}{
		{"comma", ","}, {"semicolon", ";"}, {"tab", "\t"}, {"pipe", "|"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "campaigns/spring-refi/" + tc.name + ".csv"
			body := realistic(tc.delim)
			v := e.put(t, key, body)
			e.sync(t)
			m := e.wantIndexed(t, key, v)
			got := struct {
				Campaign, Delimiter                  string
				Header                               []string
				Columns                              []indexing.Column
				Rows, Entries, Invalid, Minors, Size int64
			}{m.Campaign, m.Delimiter, m.Header, m.Columns, m.Rows, m.Entries, m.Invalid, m.MinorsUnder16, m.Size}
			want := got
			want.Campaign, want.Delimiter = "spring-refi", tc.delim
			want.Header = []string{"First Name", "Last Name", "Mobile Phone", "Email Address", "Customer ID", "Date of Birth", "City"}
			want.Columns = wantColumns
			// 4 phones (one blank), 4 valid emails, 5 customer IDs; born
			// after 2010-03-01: 2015-06-30 and 03/15/2012.
			want.Rows, want.Entries, want.Invalid, want.Minors, want.Size = 5, 13, 1, 2, int64(len(body))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("manifest = %+v\nwant %+v", got, want)
			}
			if !m.IndexedAt.Equal(testNow) || m.Error != "" {
				t.Fatalf("indexedAt, error = %v, %q; want %v, none", m.IndexedAt, m.Error, testNow)
			}
			lines := strings.SplitAfter(string(body), "\r\n")
			for _, id := range []struct {
				kind identifiers.Kind
				raw  string
				row  int64
			}{
				{identifiers.Phone, "212-555-0101", 1}, {identifiers.Email, "ben@example.com", 2},
				{identifiers.CustomerID, "C-1003", 3}, {identifiers.Phone, "+12125550104", 4}, {identifiers.Email, "ED@example.net", 5},
			} {
				var hits []indexing.Entry
				for _, h := range e.lookup(t, id.kind, id.raw) {
					if h.ObjectKey == key {
						hits = append(hits, h)
					}
				}
				if len(hits) != 1 || hits[0].Row != id.row || hits[0].VersionID != v || hits[0].Kind != id.kind.String() {
					t.Fatalf("lookup %s %q in %s = %+v, want row %d of %s", id.kind, id.raw, key, hits, id.row, v)
				}
				b, err := e.objects.ReadRange(ctx, e.bucket, key, v, hits[0].Offset, hits[0].Offset+hits[0].Length)
				if err != nil {
					t.Fatal(err)
				}
				if string(b) != lines[id.row] {
					t.Fatalf("bytes of row %d = %q, want %q", id.row, b, lines[id.row])
				}
			}
		})
	}
	t.Run("minors at the boundary", func(t *testing.T) {
		// testNow is 2026-03-01 12:00 UTC: born 2010-03-01, 16 today.
		key := "campaigns/kids/dob.csv"
		v := e.put(t, key, []byte("phone,dob\n"+
			"2125550140,2010-03-01\n"+ // 16 today: not a minor
			"2125550141,2010-03-02\n"+ // 16 tomorrow
			"2125550142,03/02/2010\n"+ // the same, another layout
			"2125550143,2010-02-28\n"+
			"2125550144,19/05/2012\n"+ // day first: not read, not counted
			"2125550145,2025-12-31\n"+
			"2125550146,\n"))
		e.sync(t)
		if m := e.wantIndexed(t, key, v); m.MinorsUnder16 != 3 || m.Rows != 7 {
			t.Fatalf("minors, rows = %d, %d; want 3, 7", m.MinorsUnder16, m.Rows)
		}
	})
	t.Run("no date of birth, no campaign", func(t *testing.T) {
		key := "inbox/plain.csv"
		v := e.put(t, key, []byte("phone;email\n2125550150;a@example.com\n2125550151;b@example.com\n"))
		e.sync(t)
		m := e.wantIndexed(t, key, v)
		if m.MinorsUnder16 != -1 || m.Campaign != "" || m.Delimiter != ";" || m.Rows != 2 || m.Entries != 4 {
			t.Fatalf("manifest minors, campaign, delimiter, rows, entries = %d, %q, %q, %d, %d; want -1, \"\", \";\", 2, 4",
				m.MinorsUnder16, m.Campaign, m.Delimiter, m.Rows, m.Entries)
		}
	})
}

// list returns a small list whose entries differ with n.
func list(n int) []byte {
	return fmt.Appendf(nil, "name,phone,email\nA,212555%04d,a%d@example.com\nB,212555%04d,b%d@example.com\n", 100+n, n, 200+n, n)
}

// TestReplaceRemoveDeleteVersion: a replacement keeps the old version's
// entries as noncurrent beside the new version's, a removal keeps them all
// as noncurrent, and deleting an old version drops its entries and leaves
// the current one alone.
func TestReplaceRemoveDeleteVersion(t *testing.T) {
	e := newEnv(t, true)
	t.Run("replace", func(t *testing.T) {
		key := "campaigns/c/replace.csv"
		v1 := e.put(t, key, list(1))
		e.sync(t)
		e.wantIndexed(t, key, v1)
		v2 := e.put(t, key, list(2))
		e.sync(t)
		m := e.wantIndexed(t, key, v2)
		if got := noncurrentIDs(m); !reflect.DeepEqual(got, []string{v1}) {
			t.Fatalf("noncurrent versions = %v, want [%s]", got, v1)
		}
		if hits := e.lookup(t, identifiers.Phone, "2125550101"); len(hits) != 1 || hits[0].VersionID != v1 {
			t.Fatalf("old phone finds %+v, want row 1 of the noncurrent %s", hits, v1)
		}
		if hits := e.lookup(t, identifiers.Email, "b2@example.com"); len(hits) != 1 || hits[0].VersionID != v2 || hits[0].Row != 2 {
			t.Fatalf("new email finds %+v, want row 2 of %s", hits, v2)
		}
	})
	t.Run("remove", func(t *testing.T) {
		key := "campaigns/c/remove.csv"
		v1 := e.put(t, key, list(3))
		e.sync(t)
		e.wantIndexed(t, key, v1)
		e.remove(t, key)
		e.sync(t)
		m := e.manifest(t, key)
		if m.Status != indexing.StatusRemoved || !reflect.DeepEqual(noncurrentIDs(m), []string{v1}) {
			t.Fatalf("manifest = %s keeping %v, want removed keeping [%s]", m.Status, noncurrentIDs(m), v1)
		}
		e.wantKept(t, key, m)
		// The version under the delete marker deleted for good: its
		// entries go.
		e.deleteVersion(t, key, v1)
		e.sync(t)
		m = e.manifest(t, key)
		if m.Status != indexing.StatusRemoved || len(m.Noncurrent) != 0 {
			t.Fatalf("manifest = %s keeping %v, want removed keeping none", m.Status, noncurrentIDs(m))
		}
		if rows := e.entries(t, key); len(rows) != 0 {
			t.Fatalf("entries after the last version went = %d, want 0", len(rows))
		}
	})
	t.Run("delete old version", func(t *testing.T) {
		key := "campaigns/c/old.csv"
		v1 := e.put(t, key, list(4))
		v2 := e.put(t, key, list(5))
		e.sync(t)
		e.wantIndexed(t, key, v2)
		before := entrySet(e.entries(t, key))
		e.deleteVersion(t, key, v1)
		e.sync(t)
		e.wantIndexed(t, key, v2)
		if after := entrySet(e.entries(t, key)); !reflect.DeepEqual(after, before) {
			t.Fatalf("entries after deleting %s = %v, want unchanged %v", v1, after, before)
		}
	})
	// Deleting the current version (S3 makes the one before it current) is
	// not exercised: gofakes3 v1.2.0's s3mem leaves the key without data
	// and panics on the next HEAD of it.
}

// TestBadInput: a list that cannot be indexed fails with an InputError
// naming the reason, again on the same change, leaves the last indexed
// version's entries answering (and none of its own), another object's
// entries alone; a good version indexes.
func TestBadInput(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	other := "campaigns/bad/other.csv"
	otherV := e.put(t, other, list(9))
	e.sync(t)
	e.wantIndexed(t, other, otherV)
	otherEntries := entrySet(e.entries(t, other))

	tests := []struct {
		name       string
		body       []byte
		wantReason string
	}{
		{"binary", []byte("phone,email\n2125550161,a@example.com\n\x00\x01\x02\x03"), "binary content (NUL byte)"},
		{"empty", nil, "empty input"},
		{"header only", []byte("phone,email\n"), "header but no data records"},
		{"no identifier column", []byte("first name,city\nAna,Austin\nBen,Boston\nCy,Denver\n"), "no identifier column"},
		{"UTF-16 header only", append([]byte{0xFF, 0xFE}, []byte("p\x00h\x00o\x00n\x00e\x00\n\x00")...), "header but no data records"},
		// Headerless, and too short to tell a column's kind by its values.
		{"headerless, two rows", []byte("Ann,2125550162\nBob,2125550163\n"), "no identifier column"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("campaigns/bad/%d.csv", i)
			// A good version first: it goes on answering while the bad
			// one is current.
			first := e.put(t, key, list(20+i))
			e.sync(t)
			firstEntries := entrySet(e.entries(t, key))
			v := e.put(t, key, tc.body)
			c := e.one(t)
			for attempt := 1; attempt <= 2; attempt++ {
				err := e.svc.Apply(ctx, c)
				var ie *indexing.InputError
				if !errors.As(err, &ie) || !strings.Contains(ie.Reason, tc.wantReason) || ie.Key != key || ie.VersionID != v {
					t.Fatalf("attempt %d: Apply = %v, want an InputError on %s@%s naming %q", attempt, err, key, v, tc.wantReason)
				}
				m := e.manifest(t, key)
				if m.Status != indexing.StatusFailed || m.Error != ie.Reason || m.VersionID != v ||
					m.Previous == nil || m.Previous.VersionID != first || m.Previous.Entries != int64(len(firstEntries)) {
					t.Fatalf("attempt %d: manifest = %s@%s %q previous %+v, want failed@%s %q answering from %s",
						attempt, m.Status, m.VersionID, m.Error, m.Previous, v, ie.Reason, first)
				}
				if got := entrySet(e.entries(t, key)); !reflect.DeepEqual(got, firstEntries) {
					t.Fatalf("attempt %d: entries of %s = %d (versions %v), want the %d of %s", attempt, key, len(got),
						versions(e.entries(t, key)), len(firstEntries), first)
				}
				if got := entrySet(e.entries(t, other)); !reflect.DeepEqual(got, otherEntries) {
					t.Fatalf("attempt %d: entries of %s changed", attempt, other)
				}
			}
			good := e.put(t, key, list(40+i))
			e.sync(t)
			e.wantIndexed(t, key, good)
		})
	}
}

// TestColumnMap: a campaign's column map overrides what the header and the
// values say.
func TestColumnMap(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	refList := []byte("Name,Ref\nAna,2125550170\nBen,2125550171\nCy,2125550172\n")
	oddList := []byte("Name,Reach\nAna,2125550180\nBen,2125550181\nCy,n/a\n")
	tests := []struct {
		name      string
		columns   map[string]string // nil: no column map
		body      []byte
		wantKinds map[string]string // column → kind; nil: the list fails
		wantKind  string            // kind of every entry
		wantN     int
	}{
		{"ten digits are a phone by default", nil, refList, map[string]string{"Ref": "phone"}, "phone", 3},
		{"ten digits mapped to account_number", map[string]string{"ref": "account_number"}, refList, map[string]string{"Ref": "account_number"}, "account_number", 3},
		{"odd header says nothing", nil, oddList, nil, "", 0},
		{"odd header mapped to phone", map[string]string{"Reach": "phone"}, oddList, map[string]string{"Reach": "phone"}, "phone", 2},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			campaign := fmt.Sprintf("map%d", i)
			if tc.columns != nil {
				if err := e.store.PutColumnMap(ctx, campaign, indexing.ColumnMap{Columns: tc.columns}); err != nil {
					t.Fatal(err)
				}
			}
			key := "campaigns/" + campaign + "/list.csv"
			v := e.put(t, key, tc.body)
			err := e.svc.Apply(ctx, e.one(t))
			if tc.wantKinds == nil {
				var ie *indexing.InputError
				if !errors.As(err, &ie) || !strings.Contains(ie.Reason, "no identifier column") {
					t.Fatalf("Apply = %v, want an InputError: no identifier column", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply = %v", err)
			}
			m := e.wantIndexed(t, key, v)
			for _, c := range m.Columns {
				if want, ok := tc.wantKinds[c.Header]; ok && c.Kind != want {
					t.Fatalf("column %s = %s (by %s), want %s", c.Header, c.Kind, c.By, want)
				}
			}
			rows := e.entries(t, key)
			if len(rows) != tc.wantN {
				t.Fatalf("entries = %d, want %d", len(rows), tc.wantN)
			}
			for _, r := range rows {
				if r.Kind != tc.wantKind {
					t.Fatalf("entry kind = %s, want %s", r.Kind, tc.wantKind)
				}
			}
		})
	}
	t.Run("unknown kind in the map is a retryable error", func(t *testing.T) {
		if err := e.store.PutColumnMap(ctx, "badmap", indexing.ColumnMap{Columns: map[string]string{"Ref": "telephone"}}); err != nil {
			t.Fatal(err)
		}
		e.put(t, "campaigns/badmap/list.csv", refList)
		err := e.svc.Apply(ctx, e.one(t))
		var ie *indexing.InputError
		if err == nil || errors.As(err, &ie) || !errors.Is(err, identifiers.ErrUnknownKind) {
			t.Fatalf("Apply = %v, want ErrUnknownKind, not an InputError", err)
		}
	})
}

// errCrash is the failure faultIndex injects.
var errCrash = errors.New("injected crash")

// faultIndex is the real Index with a crash injected right after its n-th
// write (the write happened, the caller never learns it did), and a record
// of the writes made.
type faultIndex struct {
	indexing.Index
	crashAfter int // 0: never
	writes     []string
	// after, if set, runs after each write: another invocation's work
	// interleaved at that point.
	after func(n int, name string)
}

func (f *faultIndex) step(name string) error {
	f.writes = append(f.writes, name)
	if f.after != nil {
		f.after(len(f.writes), name)
	}
	if len(f.writes) == f.crashAfter {
		return errCrash
	}
	return nil
}

func (f *faultIndex) Claim(ctx context.Context, m indexing.Manifest, over string) (bool, error) {
	ok, err := f.Index.Claim(ctx, m, over)
	if err != nil {
		return ok, err
	}
	return ok, f.step("Claim " + m.Status)
}

func (f *faultIndex) Finish(ctx context.Context, m indexing.Manifest) (bool, error) {
	ok, err := f.Index.Finish(ctx, m)
	if err != nil {
		return ok, err
	}
	return ok, f.step("Finish " + m.Status)
}

func (f *faultIndex) PutEntries(ctx context.Context, es []indexing.Entry) error {
	if err := f.Index.PutEntries(ctx, es); err != nil {
		return err
	}
	return f.step("PutEntries")
}

func (f *faultIndex) DeleteEntries(ctx context.Context, bucket, key string, keep indexing.KeepFunc) (int, error) {
	n, err := f.Index.DeleteEntries(ctx, bucket, key, keep)
	if err != nil {
		return n, err
	}
	return n, f.step("DeleteEntries")
}

// TestCrashRecovery: wherever an Apply dies, the same change applied again
// (SQS redelivers it) completes the work; a stale change writes nothing.
func TestCrashRecovery(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()

	t.Run("claimed, never finished", func(t *testing.T) {
		key := "campaigns/crash/claimed.csv"
		v := e.put(t, key, list(50))
		c := e.one(t)
		ok, err := e.store.Claim(ctx, indexing.Manifest{Bucket: e.bucket, Key: key, VersionID: v, Sequencer: c.Sequencer,
			Status: indexing.StatusIndexing, MinorsUnder16: -1, UpdatedAt: testNow}, "")
		if err != nil || !ok {
			t.Fatalf("Claim = %v, %v; want true", ok, err)
		}
		if err := e.svc.Apply(ctx, c); err != nil {
			t.Fatalf("Apply = %v", err)
		}
		e.wantIndexed(t, key, v)
	})

	t.Run("stale change", func(t *testing.T) {
		key := "campaigns/crash/stale.csv"
		e.put(t, key, list(51))
		v2 := e.put(t, key, list(52))
		cs := e.held(t)
		if err := e.svc.Apply(ctx, cs[1]); err != nil {
			t.Fatal(err)
		}
		before := e.manifest(t, key)
		rec := &faultIndex{Index: e.store}
		if err := e.service(rec).Apply(ctx, cs[0]); err != nil {
			t.Fatalf("Apply(stale) = %v, want nil", err)
		}
		if len(rec.writes) != 0 {
			t.Fatalf("stale change wrote %v, want nothing", rec.writes)
		}
		if after := e.wantIndexed(t, key, v2); after.Sequencer != before.Sequencer {
			t.Fatalf("sequencer = %s, want %s kept", after.Sequencer, before.Sequencer)
		}
	})

	// Every scenario is crashed after each of its writes in turn.
	type scenario struct {
		name string
		// setup makes the bucket state and returns the change to apply
		// and the current version ("" when the key is removed).
		setup   func(t *testing.T, key string) (indexing.ObjectChange, string)
		wantBad bool
	}
	scenarios := []scenario{
		{"create", func(t *testing.T, key string) (indexing.ObjectChange, string) {
			v := e.put(t, key, list(60))
			return e.one(t), v
		}, false},
		{"replace", func(t *testing.T, key string) (indexing.ObjectChange, string) {
			e.put(t, key, list(61))
			e.sync(t)
			v := e.put(t, key, list(62))
			return e.one(t), v
		}, false},
		{"remove", func(t *testing.T, key string) (indexing.ObjectChange, string) {
			e.put(t, key, list(63))
			e.sync(t)
			e.remove(t, key)
			return e.one(t), ""
		}, false},
		{"old version deleted", func(t *testing.T, key string) (indexing.ObjectChange, string) {
			old := e.put(t, key, list(65))
			v := e.put(t, key, list(66))
			e.sync(t)
			e.deleteVersion(t, key, old)
			return e.one(t), v
		}, false},
		{"bad replacement", func(t *testing.T, key string) (indexing.ObjectChange, string) {
			e.put(t, key, list(64))
			e.sync(t)
			v := e.put(t, key, []byte("first name,city\nAna,Austin\n"))
			return e.one(t), v
		}, true},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			for n := 1; ; n++ {
				key := fmt.Sprintf("campaigns/crash/%s-%d.csv", strings.ReplaceAll(sc.name, " ", "-"), n)
				c, v := sc.setup(t, key)
				faulty := &faultIndex{Index: e.store, crashAfter: n}
				err := e.service(faulty).Apply(ctx, c)
				if len(faulty.writes) < n {
					// Fewer writes than n: every crash point is covered.
					if n == 1 {
						t.Fatalf("Apply made no write")
					}
					return
				}
				if !errors.Is(err, errCrash) {
					t.Fatalf("crash after %v: Apply = %v, want the crash", faulty.writes, err)
				}
				// SQS delivers the same change again.
				err = e.svc.Apply(ctx, c)
				var ie *indexing.InputError
				switch {
				case sc.wantBad:
					if !errors.As(err, &ie) {
						t.Fatalf("crash after %v: retry = %v, want an InputError", faulty.writes, err)
					}
					m := e.manifest(t, key)
					if m.Status != indexing.StatusFailed || m.VersionID != v || m.Previous == nil {
						t.Fatalf("crash after %v: manifest = %s@%s previous %+v, want failed@%s answering from the last indexed", faulty.writes, m.Status, m.VersionID, m.Previous, v)
					}
					e.wantKept(t, key, m)
				case err != nil:
					t.Fatalf("crash after %v: retry = %v", faulty.writes, err)
				case v == "":
					m := e.manifest(t, key)
					if m.Status != indexing.StatusRemoved {
						t.Fatalf("crash after %v: manifest = %s, want removed", faulty.writes, m.Status)
					}
					e.wantKept(t, key, m)
				default:
					e.wantIndexed(t, key, v)
				}
			}
		})
	}
}

// TestConcurrentChanges: two changes of one key applied at once (two
// Lambda invocations on one SQS batch's neighbours). The one that claimed
// first loses its claim to the later one while it writes; whatever it does
// then must leave the later one's entries alone.
func TestConcurrentChanges(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	// big has two batches of entries (BatchSize 7), so that the later
	// change can run between them.
	big := func(n int) []byte {
		var b strings.Builder
		b.WriteString("phone,email\n")
		for i := range 6 {
			fmt.Fprintf(&b, "212555%04d,u%d.%d@example.com\n", 100+10*n+i, n, i)
		}
		return []byte(b.String())
	}
	tests := []struct {
		name string
		// sameVersion: the later change is made before the first one
		// reads S3, so both index the same version.
		sameVersion bool
	}{
		{"both index the same version", true},
		{"the later one indexes a newer version", false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("campaigns/race/%d.csv", i)
			e.put(t, key, big(2*i))
			first := e.one(t)
			var want string
			var later indexing.ObjectChange
			if tc.sameVersion {
				want = e.put(t, key, big(2*i+1))
				later = e.one(t)
			}
			fired := false
			hooked := &faultIndex{Index: e.store, after: func(_ int, name string) {
				if name != "PutEntries" || fired {
					return
				}
				fired = true
				if !tc.sameVersion {
					want = e.put(t, key, big(2*i+1))
					later = e.one(t)
				}
				if err := e.svc.Apply(ctx, later); err != nil {
					t.Errorf("later Apply = %v", err)
				}
			}}
			if err := e.service(hooked).Apply(ctx, first); err != nil {
				t.Fatalf("first Apply = %v", err)
			}
			if !fired {
				t.Fatal("the later change never ran")
			}
			e.wantIndexed(t, key, want)
			if m := e.manifest(t, key); m.Entries != 12 {
				t.Fatalf("manifest entries = %d, want 12", m.Entries)
			}
		})
	}
}

// TestDeadLetter goes through the whole stack: a binary upload fails in
// IndexFunction on every receive and ends in the dead-letter queue.
func TestDeadLetter(t *testing.T) {
	e := newEnv(t, false)
	key := "campaigns/dlq/binary.csv"
	v := e.put(t, key, []byte("\x00\x01\x02PK\x03\x04 not a list"))
	good := e.put(t, "campaigns/dlq/good.csv", list(70))
	stacktest.WaitIdle(t, e.stack)

	dead := e.stack.DeadLetters("IndexQueue")
	var found int
	for _, body := range dead {
		cs, err := indexfn.Changes(body)
		if err != nil {
			t.Fatalf("dead letter %s: %v", body, err)
		}
		for _, c := range cs {
			if c.Key != key || c.VersionID != v {
				t.Fatalf("dead letter for %s@%s, want only %s@%s", c.Key, c.VersionID, key, v)
			}
			found++
		}
	}
	if found != 1 {
		t.Fatalf("dead letters for %s = %d, want 1", key, found)
	}
	rp, _ := e.stack.Template.Resources["IndexQueue"].Properties["RedrivePolicy"].(map[string]any)
	maxReceive, _ := rp["maxReceiveCount"].(int)
	f, err := os.Open(filepath.Join(e.dataDir, "dead-letters-IndexQueue.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var d struct{ Receives int }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		if maxReceive == 0 || d.Receives != maxReceive {
			t.Fatalf("dead-lettered after %d receives, want the queue's maxReceiveCount %d", d.Receives, maxReceive)
		}
	}
	m := e.manifest(t, key)
	if m.Status != indexing.StatusFailed || !strings.Contains(m.Error, "binary") || m.VersionID != v {
		t.Fatalf("manifest = %s@%s %q, want failed@%s naming binary content", m.Status, m.VersionID, m.Error, v)
	}
	e.wantIndexed(t, "campaigns/dlq/good.csv", good)
}

// TestNoPIIInErrorsOrLogs runs a list of distinctive values through the
// failure paths and a success, and looks for them in every error and log
// line the service writes.
func TestNoPIIInErrorsOrLogs(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	var logs bytes.Buffer
	e.svc.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	canaries := []string{"zq-canary", "2125550199", "212 555 0199", "555 0199", "5550199", "Zebulon"}
	const good = "Name,Phone,Email\nZebulon,+1 212 555 0199,zq-canary@example.com\n"
	tests := []struct {
		name string
		body string
		// indexes says the list is indexed despite its fault (a row read
		// leniently or counted unreadable) rather than failed.
		indexes bool
	}{
		{"no header (data first)", "Zebulon,+1 212 555 0199,zq-canary@example.com\nZebulon,+1 212 555 0199,zq-canary@example.com\n", false},
		{"invalid UTF-8", "Name,Phone,Email\nZebulon\xff,+1 212 555 0199,zq-canary@example.com\n", true},
		{"bare quote", "Name,Phone,Email\nZeb\"ulon,+1 212 555 0199,zq-canary@example.com\n", true},
		{"unterminated quote", "Name,Phone,Email\nZebulon,\"+1 212 555 0199,zq-canary@example.com\n", true},
		{"NUL in a row", "Name,Phone,Email\nZebulon\x00,+1 212 555 0199,zq-canary@example.com\n", false},
		{"field too large", "Name,Phone,Email\nZebulon,+1 212 555 0199,zq-canary@example.com" + strings.Repeat("y", 3<<20) + "\n", true},
		{"no identifier column", "Name,Town\nZebulon,zq-canary@example.com +1 212 555 0199\n", false},
		{"header only", "Zebulon Phone,zq-canary Email\n", false},
		{"good list", good, true},
	}
	var failures int
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("campaigns/pii/%d.csv", i)
			e.put(t, key, []byte(tc.body))
			c := e.one(t)
			for _, err := range []error{e.svc.Apply(ctx, c), e.svc.Apply(ctx, c)} {
				if tc.indexes {
					if err != nil {
						t.Fatalf("Apply = %v", err)
					}
					continue
				}
				var ie *indexing.InputError
				if !errors.As(err, &ie) {
					t.Fatalf("Apply = %v, want an InputError", err)
				}
				failures++
				for _, s := range canaries {
					if strings.Contains(err.Error(), s) {
						t.Fatalf("error %q contains %q", err, s)
					}
				}
			}
			m := e.manifest(t, key)
			for _, s := range canaries {
				if strings.Contains(m.Error, s) {
					t.Fatalf("manifest error %q contains %q", m.Error, s)
				}
			}
		})
	}
	if want := 2 * 4; failures != want {
		t.Fatalf("failures = %d, want %d", failures, want)
	}
	out := logs.String()
	if !strings.Contains(out, "object indexed") || !strings.Contains(out, "change already applied") {
		t.Fatalf("log lacks the success and duplicate lines, so it proves nothing:\n%s", out)
	}
	for _, s := range canaries {
		if strings.Contains(out, s) {
			t.Fatalf("log contains %q:\n%s", s, out)
		}
	}
}

// copyTable copies the Index table's key schema and secondary index into a new
// table called name.
func (e *env) copyTable(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	d, err := e.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(e.table)})
	if err != nil {
		t.Fatal(err)
	}
	var gsis []ddbtypes.GlobalSecondaryIndex
	for _, g := range d.Table.GlobalSecondaryIndexes {
		gsis = append(gsis, ddbtypes.GlobalSecondaryIndex{IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection})
	}
	if _, err := e.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name), AttributeDefinitions: d.Table.AttributeDefinitions, KeySchema: d.Table.KeySchema,
		GlobalSecondaryIndexes: gsis, BillingMode: ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(e.ddb, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 10*time.Second); err != nil {
		t.Fatalf("table %s: %v", name, err)
	}
}

// TestErasedListKeepsItsColumns: a version whose identifier cells are all
// masked (every sampled row erased) has the last indexed version's header,
// so it keeps that version's column classes rather than failing as a list
// without identifiers; a new header gets no such help.
func TestErasedListKeepsItsColumns(t *testing.T) {
	e := newEnv(t, true)
	key := "campaigns/erased/list.csv"
	e.put(t, key, []byte("email,name\nrosa.nunez@example.com,Rosa\n"))
	e.sync(t)
	before := e.manifest(t, key)
	v := e.put(t, key, []byte("email,name\nXXXXXXXXXXXXXXXXXXXXXX,XXXX\n"))
	e.sync(t)
	m := e.wantIndexed(t, key, v)
	kinds := func(cs []indexing.Column) (out []string) {
		for _, c := range cs {
			out = append(out, c.Header+"="+c.Kind)
		}
		return out
	}
	if !reflect.DeepEqual(kinds(m.Columns), kinds(before.Columns)) || m.Entries != 0 || m.Invalid != 1 {
		t.Fatalf("erased version: columns %+v entries %d invalid %d, want the columns %+v, no entry, one invalid email", m.Columns, m.Entries, m.Invalid, before.Columns)
	}
	e.put(t, key, []byte("contact,name\nXXXXXXXXXXXXXXXXXXXXXX,XXXX\n"))
	var ie *indexing.InputError
	if err := e.svc.Apply(context.Background(), e.one(t)); !errors.As(err, &ie) {
		t.Fatalf("Apply of a new header over masked values = %v, want an InputError", err)
	}
	if m := e.manifest(t, key); m.Status != indexing.StatusFailed {
		t.Fatalf("a new header over masked values: %s, want failed (no identifier column)", m.Status)
	}
}
