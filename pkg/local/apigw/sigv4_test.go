package apigw

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestVerifySigV4: a request the SDK signs with the local credentials is
// the local account; another secret, a changed body or query, another
// service, a stale signature and no signature are not.
func TestVerifySigV4(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"phones":["2125550147"]}`)
	signed := func(secret, service string, at time.Time) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:3000/dialer/suppression/check?x=a%20b&a=1", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: LocalAccessKey, SecretAccessKey: secret},
			req, hex.EncodeToString(sum[:]), service, "us-east-1", at); err != nil {
			t.Fatal(err)
		}
		return req
	}
	if iam, ok := verifySigV4(signed(LocalSecretKey, "execute-api", now), body, now); !ok || iam.UserARN != "arn:aws:iam::000000000000:root" {
		t.Fatalf("a signed request = %+v, %v; want the local account", iam, ok)
	}
	tampered := signed(LocalSecretKey, "execute-api", now)
	tampered.URL.RawQuery = "x=a%20b&a=2"
	for name, tc := range map[string]struct {
		req  *http.Request
		body []byte
	}{
		"another secret":  {signed("guess", "execute-api", now), body},
		"another body":    {signed(LocalSecretKey, "execute-api", now), []byte(`{"phones":[]}`)},
		"another query":   {tampered, body},
		"another service": {signed(LocalSecretKey, "s3", now), body},
		"stale":           {signed(LocalSecretKey, "execute-api", now.Add(-time.Hour)), body},
		"unsigned": {func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:3000/x", nil)
			return r
		}(), body},
	} {
		if _, ok := verifySigV4(tc.req, tc.body, now); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}
