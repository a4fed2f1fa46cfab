package apigw

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestIAMRoute: a request the SDK signs with the local credentials for
// execute-api in the stack's region reaches the function as the local
// account's root; another secret, region or service, a changed body or
// query, an unsigned payload, a stale signature, a JWT and no signature
// are 403 and reach nothing. sigv4's tests cover each check; this one
// covers the wiring.
func TestIAMRoute(t *testing.T) {
	a := newAPI(t)
	const body = `{"phones":["2125550147"]}`
	type signing struct {
		secret, region, service, payload string
		at                               time.Time
	}
	ok := signing{LocalSecretKey, "us-east-1", "execute-api", "", time.Now()}
	sign := func(s signing) func(*http.Request) {
		return func(req *http.Request) {
			sum := sha256.Sum256([]byte(body))
			hash := hex.EncodeToString(sum[:])
			if s.payload != "" {
				hash = s.payload
				req.Header.Set("X-Amz-Content-Sha256", s.payload)
			}
			creds := aws.Credentials{AccessKeyID: LocalAccessKey, SecretAccessKey: s.secret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, s.service, s.region, s.at); err != nil {
				t.Fatal(err)
			}
		}
	}
	with := func(f func(*signing)) signing { s := ok; f(&s); return s }
	for _, tc := range []struct {
		name     string
		query    string
		prep     func(*http.Request)
		sendBody string
		want     int
	}{
		{name: "signed", query: "x=a%20b&a=1", prep: sign(ok), want: 200},
		{name: "another secret", prep: sign(with(func(s *signing) { s.secret = "guess" })), want: 403},
		{name: "another region", prep: sign(with(func(s *signing) { s.region = "eu-west-1" })), want: 403},
		{name: "another service", prep: sign(with(func(s *signing) { s.service = "lambda" })), want: 403},
		{name: "unsigned payload", prep: sign(with(func(s *signing) { s.payload = "UNSIGNED-PAYLOAD" })), want: 403},
		{name: "stale", prep: sign(with(func(s *signing) { s.at = time.Now().Add(-16 * time.Minute) })), want: 403},
		{name: "another body", prep: sign(ok), sendBody: `{"phones":["2125550148"]}`, want: 403},
		{name: "another query", query: "x=a%20b&a=1", prep: func(req *http.Request) {
			sign(ok)(req)
			req.URL.RawQuery = "x=a%20b&a=2"
		}, want: 403},
		{name: "unsigned", prep: func(*http.Request) {}, want: 403},
		{name: "a JWT", prep: func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+a.token(t, "supervisor")) }, want: 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.calls()
			url := a.url + "/dialer/suppression/check"
			if tc.query != "" {
				url += "?" + tc.query
			}
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			tc.prep(req)
			if tc.sendBody != "" {
				req.Body = io.NopCloser(strings.NewReader(tc.sendBody))
				req.ContentLength = int64(len(tc.sendBody))
			}
			resp, got := do(t, req)
			if resp.StatusCode != tc.want {
				t.Fatalf("POST %s = %d %s, want %d", tc.name, resp.StatusCode, got, tc.want)
			}
			if tc.want != 200 {
				if a.calls() != before {
					t.Fatalf("a refused request reached the function")
				}
				return
			}
			iam := a.last(t).RequestContext.Authorizer.IAM
			want := events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
				AccessKey: "local", AccountID: "000000000000", CallerID: "000000000000",
				UserARN: "arn:aws:iam::000000000000:root", UserID: "000000000000",
			}
			if iam == nil || !reflect.DeepEqual(*iam, want) {
				t.Fatalf("IAM = %+v, want %+v", iam, want)
			}
		})
	}
}
