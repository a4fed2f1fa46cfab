package sigv4

// AWS's published Signature Version 4 test suite, as kept in
// github.com/awslabs/aws-c-auth, tests/aws-signing-test-suite/v4/<name>/
// (request.txt, header-canonical-request.txt, header-string-to-sign.txt,
// header-signature.txt; commit 495329c2433034bd8fd53fc6ba9e0202d3fac876).
// Every case signs with AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
// for service "service" in us-east-1 at 20150830T123600Z. The values below
// are copied from those files by hand. Cases whose path needs escaping
// (get-utf8, get-space-*) or normalizing (get-relative-*, get-slash*) are
// left out: the suite escapes paths once, while execute-api, like the SDKs
// that sign for it, escapes them twice.

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	suiteKey    = "AKIDEXAMPLE"
	suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteDate   = "20150830T123600Z"
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

type vector struct {
	name          string
	method, path  string
	headers       [][2]string // besides Host and X-Amz-Date, in the order request.txt lists them
	body          string
	signedHeaders string
	canonical     string // header-canonical-request.txt
	stringHash    string // last line of header-string-to-sign.txt
	signature     string // header-signature.txt
}

var suite = []vector{
	{
		name: "get-vanilla", method: "GET", path: "/",
		signedHeaders: "host;x-amz-date",
		canonical:     "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptySHA256,
		stringHash:    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
		signature:     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	},
	{
		name: "post-vanilla", method: "POST", path: "/",
		signedHeaders: "host;x-amz-date",
		canonical:     "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptySHA256,
		stringHash:    "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
		signature:     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
	},
	{
		name: "get-vanilla-query-order-key-case", method: "GET", path: "/?Param2=value2&Param1=value1",
		signedHeaders: "host;x-amz-date",
		canonical:     "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptySHA256,
		stringHash:    "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
		signature:     "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
	},
	{
		// Pairs sort by their encoded keys: "%E1…" before "Param".
		name: "get-vanilla-query-order-encoded", method: "GET", path: "/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
		signedHeaders: "host;x-amz-date",
		canonical:     "GET\n/\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptySHA256,
		stringHash:    "868294f5c38bd141c4972a373a76654f1418a8e4fc18b2e7903ae45e8ae0ec71",
		signature:     "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
	},
	{
		name: "get-vanilla-query-unreserved", method: "GET",
		path:          "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
		signedHeaders: "host;x-amz-date",
		canonical:     "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptySHA256,
		stringHash:    "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
		signature:     "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
	},
	{
		name: "get-header-value-trim", method: "GET", path: "/",
		headers:       [][2]string{{"My-Header1", " value1"}, {"My-Header2", ` "a   b   c"`}},
		signedHeaders: "host;my-header1;my-header2;x-amz-date",
		canonical:     "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" + emptySHA256,
		stringHash:    "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
		signature:     "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
	},
	{
		// Repeated header lines keep their order, joined by commas.
		name: "get-header-key-duplicate", method: "GET", path: "/",
		headers:       [][2]string{{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}},
		signedHeaders: "host;my-header1;x-amz-date",
		canonical:     "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" + emptySHA256,
		stringHash:    "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
		signature:     "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
	},
	{
		name: "post-header-key-sort", method: "POST", path: "/",
		headers:       [][2]string{{"My-Header1", "value1"}},
		signedHeaders: "host;my-header1;x-amz-date",
		canonical:     "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" + emptySHA256,
		stringHash:    "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
		signature:     "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
	},
	{
		name: "get-vanilla-with-session-token", method: "GET", path: "/",
		headers:       [][2]string{{"X-Amz-Security-Token", "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"}},
		signedHeaders: "host;x-amz-date;x-amz-security-token",
		canonical:     "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n\nhost;x-amz-date;x-amz-security-token\n" + emptySHA256,
		stringHash:    "067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b",
		signature:     "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
	},
	{
		// The one case with a body and X-Amz-Content-Sha256 (sign_body).
		name: "post-x-www-form-urlencoded", method: "POST", path: "/",
		headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", "13"},
			{"X-Amz-Content-Sha256", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"}},
		body:          "Param1=value1",
		signedHeaders: "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
		canonical:     "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\nx-amz-date:20150830T123600Z\n\ncontent-length;content-type;host;x-amz-content-sha256;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
		stringHash:    "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb",
		signature:     "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
	},
}

func (tc vector) request(t *testing.T) *http.Request {
	t.Helper()
	req, err := http.NewRequest(tc.method, "http://example.amazonaws.com"+tc.path, strings.NewReader(tc.body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range tc.headers {
		req.Header.Add(h[0], h[1])
	}
	req.Header.Set("X-Amz-Date", suiteDate)
	return req
}

// TestSuiteVectors: each step (canonical request, string to sign,
// signature) gives the suite's published value, and Verify accepts the
// suite's signed request, at the suite's time and as the suite's key.
func TestSuiteVectors(t *testing.T) {
	at, _ := time.Parse(amzLayout, suiteDate)
	scope := []string{"20150830", "us-east-1", "service"}
	v := Verifier{Service: "service", Region: "us-east-1", Credentials: func(key string) (string, Principal, bool) {
		return suiteSecret, Principal{ARN: "arn:aws:iam::123456789012:user/example"}, key == suiteKey
	}}
	for _, tc := range suite {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.request(t)
			creq, err := canonicalRequest(req, strings.Split(tc.signedHeaders, ";"), sha256Hex(tc.body))
			if err != nil {
				t.Fatalf("canonicalRequest: %v", err)
			}
			if creq != tc.canonical {
				t.Fatalf("canonical request =\n%s\nwant\n%s", creq, tc.canonical)
			}
			sts := stringToSign(suiteDate, scope, creq)
			if want := "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" + tc.stringHash; sts != want {
				t.Fatalf("string to sign =\n%s\nwant\n%s", sts, want)
			}
			if got := signature(suiteSecret, scope, sts); got != tc.signature {
				t.Fatalf("signature = %s, want %s", got, tc.signature)
			}
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="+tc.signedHeaders+", Signature="+tc.signature)
			p, err := v.Verify(req, []byte(tc.body), at)
			if err != nil {
				t.Fatalf("Verify = %v, want the suite's key", err)
			}
			if p.AccessKeyID != suiteKey || p.ARN != "arn:aws:iam::123456789012:user/example" {
				t.Fatalf("principal = %+v, want AKIDEXAMPLE's", p)
			}
		})
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
