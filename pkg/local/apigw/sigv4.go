package apigw

// AWS_IAM routes: API Gateway checks the request's Signature Version 4
// (service execute-api) and hands the function the caller's identity. The
// local stack has one set of credentials (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY "local"): a request signed with them is the local
// account's root, as a signed request of a role is that role on AWS.

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// LocalAccessKey and LocalSecretKey are the local stack's credentials.
const (
	LocalAccessKey = "local"
	LocalSecretKey = "local"
	localAccount   = "000000000000"
)

// maxSkew is how far a signature's time may be from now, as on AWS.
const maxSkew = 15 * time.Minute

// verifySigV4 checks r's Authorization header against a signature made
// with the local credentials over the same request and body, and returns
// the caller API Gateway would describe; ok is false for an unsigned
// request, another key, a bad signature or a stale one.
func verifySigV4(r *http.Request, body []byte, now time.Time) (*events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription, bool) {
	authz := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(authz, algo) {
		return nil, false
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(authz, algo), ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			fields[k] = v
		}
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[0] != LocalAccessKey || scope[3] != "execute-api" || scope[4] != "aws4_request" {
		return nil, false
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || at.Sub(now) > maxSkew || now.Sub(at) > maxSkew {
		return nil, false
	}
	// The signature over the request as the caller canonicalized it (its
	// SignedHeaders, in its order), made with the local secret: they agree
	// only if the caller knew it.
	want := signature(r, body, fields["SignedHeaders"], scope, r.Header.Get("X-Amz-Date"))
	if subtle.ConstantTimeCompare([]byte(want), []byte(fields["Signature"])) != 1 {
		return nil, false
	}
	return &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
		AccessKey: LocalAccessKey, AccountID: localAccount, CallerID: localAccount,
		UserARN: "arn:aws:iam::" + localAccount + ":root", UserID: localAccount,
	}, true
}

// signature computes a Signature Version 4 signature of r (body its
// payload) over signedHeaders, for the credential scope scope
// (key/date/region/service/aws4_request) at amzDate, under LocalSecretKey.
func signature(r *http.Request, body []byte, signedHeaders string, scope []string, amzDate string) string {
	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canon.WriteString(path + "\n")
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k)+"="+uriEncode(v))
		}
	}
	canon.WriteString(strings.Join(pairs, "&") + "\n")
	for _, h := range strings.Split(signedHeaders, ";") {
		v := strings.Join(r.Header.Values(h), ",")
		switch {
		case h == "host":
			v = r.Host
		case h == "content-length" && v == "" && r.ContentLength >= 0:
			v = strconv.FormatInt(r.ContentLength, 10) // a client's request keeps it apart
		}
		canon.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	canon.WriteString("\n" + signedHeaders + "\n")
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	canon.WriteString(payload)
	creq := sha256.Sum256([]byte(canon.String()))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(creq[:])
	key := []byte("AWS4" + LocalSecretKey)
	for _, part := range scope[1:] {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// uriEncode encodes s as SigV4 canonical query strings do: every byte
// but unreserved characters as %XY.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
