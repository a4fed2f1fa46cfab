package otp_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/otp"
)

// A challenge accepts its code once, counts wrong codes, and keeps the
// count when a new code is sent.
func ExampleChallenge_Check() {
	secret := []byte("otp-code-secret-0123456789abcdef")
	key := identifiers.Key([]byte("index-key-secret-0123456789abcdef"), identifiers.Phone, "+12125550147")
	sent := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c, code, _ := otp.NewChallenge(secret, nil, "r1", identifiers.Phone, key, sent)

	err := c.Check(secret, "12345", sent)
	fmt.Println(err, c.Tries)

	var wrong *otp.WrongCodeError
	if err := c.Check(secret, otherCode(code), sent.Add(time.Minute)); errors.As(err, &wrong) {
		fmt.Println("wrong,", wrong.TriesLeft, "tries left")
	}

	var soon *otp.TooSoonError
	if errors.As(c.CanResend(sent.Add(20*time.Second)), &soon) {
		fmt.Println("resend in", soon.RetryAfter)
	}
	code, _ = c.Reissue(secret, nil, sent.Add(2*time.Minute))
	fmt.Println(c.Check(secret, code, sent.Add(3*time.Minute)), c.Tries)
	fmt.Println(c.Check(secret, code, sent.Add(4*time.Minute)))
	// Output:
	// code: must be 6 digits 0
	// wrong, 4 tries left
	// resend in 40s
	// <nil> 1
	// otp: code already used
}

func otherCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}
