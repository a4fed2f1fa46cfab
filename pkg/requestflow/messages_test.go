package requestflow

import (
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
)

// TestDeniedMessage: a denial says why and, where the law gives one, how
// to appeal; a denied appeal names where to complain (the attorney
// general's contact); a law without an appeal names it too.
func TestDeniedMessage(t *testing.T) {
	co, err := requests.Lookup("CO")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := requests.Lookup("CA")
	if err != nil {
		t.Fatal(err)
	}
	r := requeststore.Request{Reference: "VR-TEST-0001", Type: requests.Delete,
		Decision: &requeststore.Decision{Decision: Deny, Reason: "lists under a litigation hold."},
		Appeal:   &requeststore.Appeal{Decision: &requeststore.Decision{Decision: Deny, Reason: "the hold stands"}}}
	tests := []struct {
		name   string
		j      requests.Jurisdiction
		appeal bool
		want   []string
		not    []string
	}{
		{"first denial where an appeal exists", co, false, []string{"litigation hold.", "You may appeal"}, []string{"hold stands", co.AppealContact}},
		{"denied appeal", co, true, []string{"the hold stands", "appeal has been decided and denied", co.AppealContact}, []string{"litigation"}},
		{"no appeal right", ca, false, []string{"litigation hold"}, []string{"You may appeal"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := deniedMessage(r, tc.j, tc.appeal).Body
			for _, w := range tc.want {
				if w != "" && !strings.Contains(body, w) {
					t.Fatalf("notice %q lacks %q", body, w)
				}
			}
			for _, n := range tc.not {
				if n != "" && strings.Contains(body, n) {
					t.Fatalf("notice %q holds %q", body, n)
				}
			}
		})
	}
	if co.AppealContact == "" {
		t.Fatal("Colorado's row names no appeal contact")
	}
}
