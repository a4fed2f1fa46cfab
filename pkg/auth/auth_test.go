package auth

import (
	"errors"
	"reflect"
	"testing"

	"github.com/veil-privacy/veil/pkg/veil"
)

func TestParseGroups(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"[admin]", []string{"admin"}},
		{"[agent supervisor]", []string{"agent", "supervisor"}},
		{`["agent","auditor"]`, []string{"agent", "auditor"}},
		{"agent,admin", []string{"agent", "admin"}},
		{"auditor", []string{"auditor"}},
	}
	for _, tc := range tests {
		if got := ParseGroups(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseGroups(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFromClaimsAndRequire(t *testing.T) {
	c, err := FromClaims(map[string]string{"sub": "u1", GroupsClaim: "[agent marketing auditor]"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Roles, []Role{Agent, Auditor}) {
		t.Fatalf("roles = %v, want [agent auditor] (unknown groups dropped)", c.Roles)
	}
	if err := c.Require(Supervisor, Admin); !errors.Is(err, veil.ErrForbidden) {
		t.Fatalf("Require(supervisor, admin) = %v, want ErrForbidden", err)
	}
	if err := c.Require(Admin, Auditor); err != nil {
		t.Fatalf("Require(admin, auditor) = %v, want nil", err)
	}
	if _, err := FromClaims(map[string]string{GroupsClaim: "[admin]"}); !errors.Is(err, veil.ErrUnauthenticated) {
		t.Fatalf("FromClaims without sub = %v, want ErrUnauthenticated", err)
	}
	if _, err := FromClaims(nil); !errors.Is(err, veil.ErrUnauthenticated) {
		t.Fatalf("FromClaims(nil) = %v, want ErrUnauthenticated", err)
	}
}

func FuzzParseGroups(f *testing.F) {
	for _, s := range []string{"[a b]", `["a"]`, "a,b", "[", `["`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, g := range ParseGroups(s) {
			if g == "" {
				t.Fatalf("ParseGroups(%q) yielded an empty group", s)
			}
		}
	})
}
