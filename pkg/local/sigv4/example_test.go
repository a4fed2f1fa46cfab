package sigv4_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/veil-privacy/veil/pkg/local/sigv4"
)

// A service checks each request against its own name and region, looks
// keys up in its own store, and on refusal learns which check failed.
func ExampleVerifier_Verify() {
	v := sigv4.Verifier{Service: "execute-api", Region: "us-east-1",
		Credentials: func(id string) (string, sigv4.Principal, bool) {
			if id != "local" {
				return "", sigv4.Principal{}, false
			}
			return "local", sigv4.Principal{AccountID: "000000000000", ARN: "arn:aws:iam::000000000000:root"}, true
		}}
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	body := `{"phones":["2125550147"]}`
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:3000/dialer/suppression/check", strings.NewReader(body))
	_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"},
		req, hexSHA256(body), "execute-api", "us-east-1", at)

	p, err := v.Verify(req, []byte(body), at.Add(time.Minute))
	fmt.Println(p.ARN, err)

	_, err = v.Verify(req, []byte(`{"phones":["2125550148"]}`), at.Add(time.Minute))
	var e *sigv4.Error
	if errors.As(err, &e) {
		fmt.Println(e.Check)
	}
	// Output:
	// arn:aws:iam::000000000000:root <nil>
	// signature
}
