package sigv4_test

// Acceptance is judged by the AWS SDK's own signer: what it signs, Verify
// takes. Refusals are built by hand, each a correctly signed request but
// for the one thing AWS refuses, so each fails on its own check.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/veil-privacy/veil/pkg/local/sigv4"
)

const (
	key     = "AKIDDIALEREXAMPLE"
	secret  = "dialer-secret-EXAMPLE-0123456789"
	region  = "us-east-1"
	service = "execute-api"
	target  = "http://api.veil.local:3000/dialer/suppression/check"
	body    = `{"phones":["2125550147"]}`
	body2   = `{"phones":["2125550148"]}` // as long as body: only the bytes differ
)

// now is just after midnight, so a scope dated the day before is within
// the skew but not the request's date.
var now = time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC)

var dialer = sigv4.Principal{AccountID: "111122223333", ARN: "arn:aws:sts::111122223333:assumed-role/dialer/call-1",
	UserID: "AROAEXAMPLE:call-1", CallerID: "AROAEXAMPLE:call-1"}

var verifier = sigv4.Verifier{Service: service, Region: region, Credentials: func(id string) (string, sigv4.Principal, bool) {
	if id != key {
		return "", sigv4.Principal{}, false
	}
	return secret, dialer, true
}}

// sdkSigned is a POST of body to target signed by the SDK: prep runs
// before signing; payload "" means the body's hash, unsent.
type sdkSigning struct {
	key, secret, region, service string
	at                           time.Time
	payload                      string
	url                          string
	prep                         func(*http.Request)
}

func sdkSigned(t testing.TB, s sdkSigning) *http.Request {
	t.Helper()
	if s.key == "" {
		s.key = key
	}
	if s.secret == "" {
		s.secret = secret
	}
	if s.region == "" {
		s.region = region
	}
	if s.service == "" {
		s.service = service
	}
	if s.at.IsZero() {
		s.at = now
	}
	if s.url == "" {
		s.url = target
	}
	req, err := http.NewRequest(http.MethodPost, s.url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.prep != nil {
		s.prep(req)
	}
	hash := hexSHA256(body)
	if s.payload != "" {
		hash = s.payload
	}
	creds := aws.Credentials{AccessKeyID: s.key, SecretAccessKey: s.secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, s.service, s.region, s.at); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestVerifyAcceptsWhatTheSDKSigns(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    sdkSigning
	}{
		{"a JSON POST", sdkSigning{}},
		{"with a query", sdkSigning{url: target + "?x=a%20b&a=2&a=1&empty="}},
		{"an escaped path", sdkSigning{url: "http://api.veil.local:3000/dialer/a%20b/%E1%88%B4/c%2Fd"}},
		{"X-Amz-Content-Sha256 of the body", sdkSigning{prep: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", hexSHA256(body)) }}},
		{"a session token", sdkSigning{prep: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "FwoGZXIvYXdzEXAMPLE") }}},
		{"header values with runs of spaces", sdkSigning{prep: func(r *http.Request) { r.Header.Set("X-Call-Id", "  a   b ") }}},
		{"a repeated header", sdkSigning{prep: func(r *http.Request) { r.Header.Add("X-Call-Id", "2"); r.Header.Add("X-Call-Id", "1") }}},
		{"signed 15 minutes ago", sdkSigning{at: now.Add(-15 * time.Minute)}},
		{"signed 15 minutes ahead", sdkSigning{at: now.Add(15 * time.Minute)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := verifier.Verify(sdkSigned(t, tc.s), []byte(body), now)
			if err != nil {
				t.Fatalf("Verify = %v, want the dialer", err)
			}
			want := dialer
			want.AccessKeyID = key
			if p != want {
				t.Fatalf("principal = %+v, want %+v", p, want)
			}
		})
	}
}

// TestVerifyOverHTTP: what a server receives (Host moved out of the
// header, Content-Length in it) verifies as what the client signed.
func TestVerifyOverHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if _, err := verifier.Verify(r, b, now); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name     string
		query    string
		sendBody string
		want     int
	}{
		{"signed", "a=1&b=%2F", body, 200},
		{"body changed in flight", "", body2, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := srv.URL + "/dialer/suppression/check"
			if tc.query != "" {
				url += "?" + tc.query
			}
			req := sdkSigned(t, sdkSigning{url: url})
			req.Body = io.NopCloser(strings.NewReader(tc.sendBody))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, msg, tc.want)
			}
		})
	}
}

// handSigned is a POST of body to /dialer/suppression/check on host
// api.veil.local with the given headers, whose canonical request is
// written out by hand (headers: the canonical header lines) and signed by
// handSign.
type handSigning struct {
	headers       map[string]string
	signedHeaders string
	canonHeaders  string
	scopeDate     string
	amzDate       string
}

func handSigned(t *testing.T, h handSigning) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://api.veil.local/dialer/suppression/check", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h.headers {
		req.Header.Set(k, v)
	}
	canonical := "POST\n/dialer/suppression/check\n\n" + h.canonHeaders + "\n" + h.signedHeaders + "\n" + hexSHA256(body)
	sig := handSign(secret, h.scopeDate, region, service, h.amzDate, canonical)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/"+h.scopeDate+"/"+region+"/"+service+"/aws4_request, SignedHeaders="+h.signedHeaders+", Signature="+sig)
	return req
}

// handSign is SigV4's signature as the IAM User Guide spells it out,
// written apart from the package; TestHandSignMatchesSuite checks it.
func handSign(secret, date, region, service, amzDate, canonical string) string {
	mac := func(k []byte, s string) []byte { m := hmac.New(sha256.New, k); m.Write([]byte(s)); return m.Sum(nil) }
	k := mac(mac(mac(mac([]byte("AWS4"+secret), date), region), service), "aws4_request")
	return hex.EncodeToString(mac(k, "AWS4-HMAC-SHA256\n"+amzDate+"\n"+date+"/"+region+"/"+service+"/aws4_request\n"+hexSHA256(canonical)))
}

// TestHandSignMatchesSuite: handSign gives get-vanilla's published
// signature (awslabs/aws-c-auth, tests/aws-signing-test-suite/v4/get-vanilla).
func TestHandSignMatchesSuite(t *testing.T) {
	canonical := "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + hexSHA256("")
	got := handSign("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "service", "20150830T123600Z", canonical)
	if want := "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"; got != want {
		t.Fatalf("handSign(get-vanilla) = %s, want %s", got, want)
	}
}

func TestVerifyHandBuilt(t *testing.T) {
	const stamp = "20261201T000500Z"
	amz := map[string]string{"X-Amz-Date": stamp}
	for _, tc := range []struct {
		name string
		h    handSigning
		want sigv4.Check // "" for accepted
	}{
		{"host and x-amz-date signed", handSigning{headers: amz, signedHeaders: "host;x-amz-date",
			canonHeaders: "host:api.veil.local\nx-amz-date:" + stamp + "\n", scopeDate: "20261201", amzDate: stamp}, ""},
		{"Date in place of X-Amz-Date", handSigning{headers: map[string]string{"Date": stamp}, signedHeaders: "date;host",
			canonHeaders: "date:" + stamp + "\nhost:api.veil.local\n", scopeDate: "20261201", amzDate: stamp}, ""},
		{"host unsigned", handSigning{headers: amz, signedHeaders: "x-amz-date",
			canonHeaders: "x-amz-date:" + stamp + "\n", scopeDate: "20261201", amzDate: stamp}, sigv4.CheckSignedHeaders},
		{"x-amz-date unsigned", handSigning{headers: amz, signedHeaders: "host",
			canonHeaders: "host:api.veil.local\n", scopeDate: "20261201", amzDate: stamp}, sigv4.CheckSignedHeaders},
		{"Date signed, the X-Amz-Date that overrides it not", handSigning{
			headers: map[string]string{"Date": stamp, "X-Amz-Date": stamp}, signedHeaders: "date;host",
			canonHeaders: "date:" + stamp + "\nhost:api.veil.local\n", scopeDate: "20261201", amzDate: stamp}, sigv4.CheckSignedHeaders},
		{"SignedHeaders unsorted", handSigning{headers: amz, signedHeaders: "x-amz-date;host",
			canonHeaders: "x-amz-date:" + stamp + "\nhost:api.veil.local\n", scopeDate: "20261201", amzDate: stamp}, sigv4.CheckSignedHeaders},
		{"a signed header the request lacks", handSigning{headers: amz, signedHeaders: "host;x-amz-date;x-call-id",
			canonHeaders: "host:api.veil.local\nx-amz-date:" + stamp + "\nx-call-id:\n", scopeDate: "20261201", amzDate: stamp}, sigv4.CheckSignedHeaders},
		{"scope date the day before the request's", handSigning{headers: amz, signedHeaders: "host;x-amz-date",
			canonHeaders: "host:api.veil.local\nx-amz-date:" + stamp + "\n", scopeDate: "20261130", amzDate: stamp}, sigv4.CheckScopeDate},
		{"X-Amz-Date not ISO 8601 basic", handSigning{headers: map[string]string{"X-Amz-Date": "2026-12-01T00:05:00Z"}, signedHeaders: "host;x-amz-date",
			canonHeaders: "host:api.veil.local\nx-amz-date:2026-12-01T00:05:00Z\n", scopeDate: "20261201", amzDate: "2026-12-01T00:05:00Z"}, sigv4.CheckDate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifier.Verify(handSigned(t, tc.h), []byte(body), now)
			assertCheck(t, err, tc.want)
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	good := func(t *testing.T) *http.Request { return sdkSigned(t, sdkSigning{}) }
	withAuth := func(f func(string) string) func(*testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r := good(t)
			r.Header.Set("Authorization", f(r.Header.Get("Authorization")))
			return r
		}
	}
	for _, tc := range []struct {
		name string
		req  func(*testing.T) *http.Request
		body string
		want sigv4.Check
	}{
		{"body changed after signing", good, body2, sigv4.CheckSignature},
		{"body changed, X-Amz-Content-Sha256 of the signed one", func(t *testing.T) *http.Request {
			return sdkSigned(t, sdkSigning{prep: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", hexSHA256(body)) }})
		}, body2, sigv4.CheckPayload},
		{"UNSIGNED-PAYLOAD", func(t *testing.T) *http.Request {
			return sdkSigned(t, sdkSigning{payload: "UNSIGNED-PAYLOAD", prep: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") }})
		}, body, sigv4.CheckPayload},
		{"X-Amz-Content-Sha256 unsigned and wrong", func(t *testing.T) *http.Request {
			r := good(t)
			r.Header.Set("X-Amz-Content-Sha256", hexSHA256(body2))
			return r
		}, body, sigv4.CheckPayload},
		{"another region", func(t *testing.T) *http.Request { return sdkSigned(t, sdkSigning{region: "eu-west-1"}) }, body, sigv4.CheckRegion},
		{"another service", func(t *testing.T) *http.Request { return sdkSigned(t, sdkSigning{service: "lambda"}) }, body, sigv4.CheckService},
		{"signed 16 minutes ago", func(t *testing.T) *http.Request { return sdkSigned(t, sdkSigning{at: now.Add(-16 * time.Minute)}) }, body, sigv4.CheckSkew},
		{"signed 16 minutes ahead", func(t *testing.T) *http.Request { return sdkSigned(t, sdkSigning{at: now.Add(16 * time.Minute)}) }, body, sigv4.CheckSkew},
		{"another secret", func(t *testing.T) *http.Request { return sdkSigned(t, sdkSigning{secret: "guess"}) }, body, sigv4.CheckSignature},
		{"an unknown key", func(t *testing.T) *http.Request { return sdkSigned(t, sdkSigning{key: "AKIDOTHER"}) }, body, sigv4.CheckAccessKey},
		{"query added after signing", func(t *testing.T) *http.Request {
			r := good(t)
			r.URL.RawQuery = "all=1"
			return r
		}, body, sigv4.CheckSignature},
		{"an unparseable pair added after signing", func(t *testing.T) *http.Request {
			// Dropping it, as url.Values does, would leave the signature
			// good and the pair in the request.
			r := good(t)
			r.URL.RawQuery = "a=%zz"
			return r
		}, body, sigv4.CheckQuery},
		{"a signed header changed", func(t *testing.T) *http.Request {
			r := good(t)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, body, sigv4.CheckSignature},
		{"signature truncated", withAuth(func(a string) string { return a[:len(a)-1] }), body, sigv4.CheckSignature},
		{"signature in upper case", withAuth(func(a string) string {
			i := strings.LastIndex(a, "=")
			return a[:i+1] + strings.ToUpper(a[i+1:])
		}), body, sigv4.CheckSignature},
		{"signature extended", withAuth(func(a string) string { return a + "00" }), body, sigv4.CheckSignature},
		{"no Authorization", func(t *testing.T) *http.Request {
			r := good(t)
			r.Header.Del("Authorization")
			return r
		}, body, sigv4.CheckAuthorization},
		{"a bearer token", withAuth(func(string) string { return "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x" }), body, sigv4.CheckAuthorization},
		{"two Authorization headers", func(t *testing.T) *http.Request {
			r := good(t)
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return r
		}, body, sigv4.CheckAuthorization},
		{"a field twice", withAuth(func(a string) string { return a + ", Signature=" + strings.Repeat("0", 64) }), body, sigv4.CheckAuthorization},
		{"another algorithm", withAuth(func(a string) string { return strings.Replace(a, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1) }), body, sigv4.CheckAuthorization},
		{"a scope of four parts", withAuth(func(a string) string { return strings.Replace(a, "/aws4_request", "", 1) }), body, sigv4.CheckCredential},
		{"no X-Amz-Date", func(t *testing.T) *http.Request {
			r := good(t)
			r.Header.Del("X-Amz-Date")
			return r
		}, body, sigv4.CheckDate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifier.Verify(tc.req(t), []byte(tc.body), now)
			assertCheck(t, err, tc.want)
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q holds the secret", err)
			}
		})
	}
}

// TestErrorHoldsNoSecret: refusing another secret's signature says
// neither the secret nor the signature that would have passed.
func TestErrorHoldsNoSecret(t *testing.T) {
	right := sdkSigned(t, sdkSigning{}).Header.Get("Authorization")
	wantSig := right[strings.LastIndex(right, "=")+1:]
	_, err := verifier.Verify(sdkSigned(t, sdkSigning{secret: "guess"}), []byte(body), now)
	if err == nil {
		t.Fatal("Verify(another secret) = nil, want an error")
	}
	if msg := err.Error(); strings.Contains(msg, secret) || strings.Contains(msg, wantSig) {
		t.Fatalf("error %q holds the secret or the expected signature", msg)
	}
}

func assertCheck(t *testing.T, err error, want sigv4.Check) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("Verify = %v, want accepted", err)
		}
		return
	}
	var e *sigv4.Error
	if !errors.As(err, &e) {
		t.Fatalf("Verify = %v, want a *sigv4.Error for %s", err, want)
	}
	if e.Check != want {
		t.Fatalf("Verify failed %s (%v), want %s", e.Check, err, want)
	}
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
