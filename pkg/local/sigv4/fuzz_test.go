package sigv4_test

import (
	"context"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// FuzzVerify: whatever the Authorization header, the dates, host, query,
// payload header, an extra header and the body, Verify does not panic,
// and it accepts only what the SDK's signer, signing that same request
// over the same headers with the key's secret, signs alike: a request
// nobody signed is never accepted.
func FuzzVerify(f *testing.F) {
	seed := sdkSigned(f, sdkSigning{url: target + "?a=1"})
	auth, stamp := seed.Header.Get("Authorization"), seed.Header.Get("X-Amz-Date")
	const host = "api.veil.local:3000"
	f.Add(auth, stamp, "", host, "a=1", "", "", "", []byte(body))
	f.Add(auth, stamp, "", host, "a=1", "", "", "", []byte(body2))
	f.Add(auth, stamp, "", host, "a=2", "", "", "", []byte(body))
	f.Add(auth, stamp, "", host, "a=1", hexSHA256(body), "X-Call-Id", " 1  2 ", []byte(body))
	f.Add(auth, stamp, stamp, host, "a=1", "UNSIGNED-PAYLOAD", "Content-Type", "application/json", []byte(body2))
	f.Add(strings.Replace(auth, "host;", "", 1), stamp, "", host, "", "", "", "", []byte(""))
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature=", "", "", "", "%", "", "", "", []byte(nil))
	f.Add("AWS4-HMAC-SHA256 ", "20261301T250000Z", "x", "", "a=%zz&b", "", "Authorization", "x", []byte(nil))

	f.Fuzz(func(t *testing.T, auth, amzDate, date, host, query, payload, extraName, extraValue string, b []byte) {
		req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for _, h := range [][2]string{{extraName, extraValue}, {"X-Amz-Date", amzDate}, {"Date", date}, {"X-Amz-Content-Sha256", payload}, {"Authorization", auth}} {
			if h[0] != "" && h[1] != "" {
				req.Header.Set(h[0], h[1])
			}
		}
		if host != "" {
			req.Host = host
		}
		req.URL.RawQuery = query

		p, err := verifier.Verify(req, b, now)
		if err != nil {
			return
		}
		if p.AccessKeyID != key || p.ARN != dialer.ARN {
			t.Fatalf("accepted as %+v, want the dialer", p)
		}
		fields := map[string]string{}
		for _, part := range strings.Split(strings.TrimPrefix(req.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "), ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			fields[k] = v
		}
		at, err := time.Parse("20060102T150405Z", req.Header.Get("X-Amz-Date"))
		if err != nil {
			t.Fatalf("accepted with X-Amz-Date %q", req.Header.Get("X-Amz-Date"))
		}
		clone := req.Clone(context.Background())
		clone.Header = http.Header{}
		for _, n := range strings.Split(fields["SignedHeaders"], ";") {
			if n != "host" && n != "content-length" {
				clone.Header[textproto.CanonicalMIMEHeaderKey(n)] = req.Header.Values(n)
			}
		}
		creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, clone, hexSHA256(string(b)), service, region, at); err != nil {
			t.Fatal(err)
		}
		sdk := clone.Header.Get("Authorization")
		if want := sdk[strings.LastIndex(sdk, "=")+1:]; fields["Signature"] != want {
			t.Fatalf("accepted signature %s for a request the SDK signs %s (%s)", fields["Signature"], want, sdk)
		}
	})
}
