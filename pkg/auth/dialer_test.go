package auth

import (
	"errors"
	"testing"

	"github.com/veil-privacy/veil/pkg/veil"
)

// The ARNs are AWS's own forms (IAM User Guide, "IAM identifiers": a role
// arn:aws:iam::123456789012:role/Accounting-Role and its session
// arn:aws:sts::123456789012:assumed-role/Accounting-Role/Mary).
func TestDialerRolesAllows(t *testing.T) {
	roles, err := ParseDialerRoles("arn:aws:iam::123456789012:role/Accounting-Role, arn:aws:iam::123456789012:role/ops/dialers/Dialer")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		caller string
		want   bool
	}{
		{"arn:aws:sts::123456789012:assumed-role/Accounting-Role/Mary", true},
		// A role under a path: its session ARN drops the path.
		{"arn:aws:sts::123456789012:assumed-role/Dialer/i-0abc", true},
		{"arn:aws:sts::123456789012:assumed-role/Other-Role/Mary", false},
		// The same role name in another account.
		{"arn:aws:sts::210987654321:assumed-role/Accounting-Role/Mary", false},
		{"arn:aws:iam::123456789012:user/Mary", false},
		{"arn:aws:iam::123456789012:root", false},
		{"arn:aws:iam::123456789012:role/Accounting-Role", false},
		{"arn:aws:sts::123456789012:assumed-role/Accounting-Role", false},
		{"", false},
	}
	for _, tc := range cases {
		if got := roles.Allows(tc.caller); got != tc.want {
			t.Errorf("Allows(%q) = %v, want %v", tc.caller, got, tc.want)
		}
	}
	if none, _ := ParseDialerRoles(""); none.Allows("arn:aws:sts::123456789012:assumed-role/Accounting-Role/Mary") {
		t.Error("an empty list allows a caller")
	}
}

func TestParseDialerRolesRejects(t *testing.T) {
	for _, in := range []string{"Accounting-Role", "arn:aws:iam::123456789012:user/Mary", "arn:aws:sts::123456789012:assumed-role/A/B", "arn:aws:iam:::role/NoAccount"} {
		_, err := ParseDialerRoles(in)
		var v *veil.ValidationError
		if !errors.As(err, &v) || v.Field != "DIALER_ROLE_ARNS" {
			t.Errorf("ParseDialerRoles(%q) error = %v, want a ValidationError on DIALER_ROLE_ARNS", in, err)
		}
	}
}
