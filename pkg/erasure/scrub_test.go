package erasure_test

import (
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/masking"
	"github.com/veil-privacy/veil/pkg/suppression"
)

// TestUploadIsScrubbed: a list uploaded with a row of an erased consumer
// (suppressed, action mask) and one of an opt-out (do-not-contact) is
// scrubbed by the stack's IndexFunction: the erased row masked in a new
// version, the upload deleted, the opt-out's row left as it is; the
// list's scrub report names both rows, with the entries' origins, and no
// value.
func TestUploadIsScrubbed(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	h, err := suppression.NewHasher(e.svc.Search.Secrets, "")
	if err != nil {
		t.Fatal(err)
	}
	var entries []suppression.Entry
	for _, s := range []struct {
		value  string
		action suppression.Action
		origin string
	}{{"4155550199", suppression.Mask, "request:r-9"}, {"2125550107", suppression.DoNotContact, "import:dnc.csv"}} {
		es, err := h.Entries(identifiers.Phone, s.value, s.action, s.origin, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, es...)
	}
	if _, err := e.svc.Suppression.Add(ctx, entries); err != nil {
		t.Fatal(err)
	}
	key := "campaigns/winter/list.csv"
	list := "name,phone,offer\nAl Bo,2125550106,Auto\nRosa Nunez,(415) 555-0199,Refi\nOpted Out,212-555-0107,Auto\n"
	e.put(key, []byte(list))
	stacktest.WaitIdle(t, e.stack)

	want := strings.Replace(list, "Rosa Nunez,(415) 555-0199", masking.MaskRedact("Rosa Nunez")+","+masking.MaskRedact("(415) 555-0199"), 1)
	if got := string(e.get(key)); got != want {
		t.Fatalf("list after the scrub = %q, want %q", got, want)
	}
	vs, _ := e.versions(key)
	if len(vs) != 1 {
		t.Fatalf("versions = %v, want the scrubbed one alone (the upload deleted)", vs)
	}
	e.noPlaintext([]string{key}, "555-0199", "Rosa")
	reports := &suppression.Reports{API: dynamoOf(e), Table: e.stack.Names["IndexTable"]}
	r, err := reports.Get(ctx, e.bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	if r.VersionID != vs[0] || r.Checked.IsZero() || len(r.Rows) != 2 || r.Masked != 1 || r.DoNotContact != 1 {
		t.Fatalf("report = %+v, want the current version checked, 2 rows: one masked, one do-not-contact", r)
	}
	if r.Rows[0].Row != 2 || !r.Rows[0].Masked || r.Rows[0].Origins[0] != "request:r-9" ||
		r.Rows[1].Row != 3 || r.Rows[1].Masked || r.Rows[1].Actions[0] != suppression.DoNotContact || r.Rows[1].Origins[0] != "import:dnc.csv" {
		t.Fatalf("report rows = %+v, want row 2 masked (request:r-9) and row 3 do-not-contact (import:dnc.csv)", r.Rows)
	}
}
