// Package sigv4 checks an AWS Signature Version 4 in a request's
// Authorization header as strictly as an AWS service does, and says who
// signed it: the local stack's API Gateway uses it for AWS_IAM routes, and
// the edge can use it to tell callers apart.
//
// Only header signatures over a whole body are checked: no presigned query
// strings, no streaming (aws-chunked) or UNSIGNED-PAYLOAD bodies, which are
// Amazon S3's options (see Verify).
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm Verify accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxSkew is how far a request's signing time may be from the verifier's
// clock, either way, as on AWS.
const MaxSkew = 15 * time.Minute

// Principal is who signed a request.
type Principal struct {
	AccessKeyID string // the key that signed; Verify sets it
	AccountID   string
	ARN         string
	UserID      string
	CallerID    string
}

// Credentials looks up an access key ID: its secret and the principal it
// belongs to, or ok false for a key it does not know.
type Credentials func(accessKeyID string) (secret string, principal Principal, ok bool)

// Verifier checks signatures made for one service in one region.
type Verifier struct {
	Service     string // the credential scope's service, e.g. "execute-api"
	Region      string // the credential scope's region, e.g. "us-east-1"
	Credentials Credentials
}

// Check names the part of a signed request that failed verification.
type Check string

// The checks Verify makes; a request fails on the first it does not pass.
const (
	CheckAuthorization Check = "authorization"  // the header is missing, repeated or not AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…
	CheckCredential    Check = "credential"     // the scope is not key/yyyymmdd/region/service/aws4_request
	CheckService       Check = "service"        // the scope names another service
	CheckRegion        Check = "region"         // the scope names another region
	CheckDate          Check = "date"           // no X-Amz-Date (or Date) in ISO 8601 basic format
	CheckScopeDate     Check = "scope-date"     // the scope's date is not the request's date
	CheckSkew          Check = "skew"           // the request's time is more than MaxSkew from now
	CheckSignedHeaders Check = "signed-headers" // host or the date header unsigned, or the list malformed
	CheckQuery         Check = "query"          // the query string does not parse
	CheckPayload       Check = "payload"        // X-Amz-Content-Sha256 is not the body's SHA-256
	CheckAccessKey     Check = "access-key"     // Credentials does not know the key
	CheckSignature     Check = "signature"      // not 64 lowercase hex digits, or not the signature of this request
)

// Error is why Verify refused a request. It names the check and what the
// request held; it never holds a secret or the signature Verify expected.
type Error struct {
	Check  Check
	Reason string
}

// Error is "sigv4: <check>: <reason>".
func (e *Error) Error() string { return "sigv4: " + string(e.Check) + ": " + e.Reason }

func fail(c Check, reason string) *Error { return &Error{Check: c, Reason: reason} }

const (
	dateLayout   = "20060102"
	amzLayout    = "20060102T150405Z"
	hdrAmzDate   = "x-amz-date"
	hdrDate      = "date"
	hdrHost      = "host"
	hdrPayload   = "X-Amz-Content-Sha256"
	hdrLength    = "content-length"
	scopeTrailer = "aws4_request"
)

// Verify checks r's Authorization header against a Signature Version 4 of
// r and body made with the secret v.Credentials gives for the signing key,
// at now, and returns that key's principal. On failure it returns a
// *Error naming the first check that failed.
//
// As on AWS (for services other than Amazon S3), the canonical request
// ends with the SHA-256 of body: an X-Amz-Content-Sha256 header, if
// present, must equal it, so UNSIGNED-PAYLOAD is refused. host and the
// header that carries the time (X-Amz-Date, else Date) must be signed.
func (v Verifier) Verify(r *http.Request, body []byte, now time.Time) (Principal, error) {
	auth, err := parseAuthorization(r.Header.Values("Authorization"))
	if err != nil {
		return Principal{}, err
	}
	scope := strings.Split(auth.credential, "/")
	if len(scope) != 5 || scope[0] == "" || scope[4] != scopeTrailer {
		return Principal{}, fail(CheckCredential, "want key/yyyymmdd/region/service/aws4_request")
	}
	if _, err := time.Parse(dateLayout, scope[1]); err != nil || len(scope[1]) != len(dateLayout) {
		return Principal{}, fail(CheckCredential, "scope date "+strconv.Quote(scope[1])+" is not yyyymmdd")
	}
	if scope[3] != v.Service {
		return Principal{}, fail(CheckService, "scope service "+strconv.Quote(scope[3])+", want "+strconv.Quote(v.Service))
	}
	if scope[2] != v.Region {
		return Principal{}, fail(CheckRegion, "scope region "+strconv.Quote(scope[2])+", want "+strconv.Quote(v.Region))
	}

	// X-Amz-Date overrides Date; Date counts only in the same format.
	dateHeader := hdrAmzDate
	stamp := r.Header.Values(hdrAmzDate)
	if len(stamp) == 0 {
		dateHeader, stamp = hdrDate, r.Header.Values(hdrDate)
	}
	if len(stamp) != 1 {
		return Principal{}, fail(CheckDate, "want one X-Amz-Date (or Date) header")
	}
	at, err := time.Parse(amzLayout, stamp[0])
	if err != nil || len(stamp[0]) != len(amzLayout) {
		return Principal{}, fail(CheckDate, dateHeader+" "+strconv.Quote(stamp[0])+" is not yyyymmddThhmmssZ")
	}
	if scope[1] != stamp[0][:8] {
		return Principal{}, fail(CheckScopeDate, "scope date "+scope[1]+", request date "+stamp[0][:8])
	}
	if d := at.Sub(now); d > MaxSkew || d < -MaxSkew {
		return Principal{}, fail(CheckSkew, "signed at "+stamp[0]+", "+d.Round(time.Second).String()+" from now")
	}

	names, err := signedHeaders(auth.signedHeaders, dateHeader)
	if err != nil {
		return Principal{}, err
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	if claimed := r.Header.Values(hdrPayload); len(claimed) > 0 {
		if len(claimed) != 1 || claimed[0] != payload {
			return Principal{}, fail(CheckPayload, "X-Amz-Content-Sha256 "+strconv.Quote(strings.Join(claimed, ","))+" is not the body's SHA-256")
		}
	}
	creq, err := canonicalRequest(r, names, payload)
	if err != nil {
		return Principal{}, err
	}
	if !isSignature(auth.signature) {
		return Principal{}, fail(CheckSignature, "want 64 lowercase hex digits")
	}

	secret, principal, ok := v.Credentials(scope[0])
	if !ok {
		return Principal{}, fail(CheckAccessKey, "unknown access key "+strconv.Quote(scope[0]))
	}
	want := signature(secret, scope[1:4], stringToSign(stamp[0], scope[1:4], creq))
	if subtle.ConstantTimeCompare([]byte(want), []byte(auth.signature)) != 1 {
		return Principal{}, fail(CheckSignature, "does not match the request")
	}
	principal.AccessKeyID = scope[0]
	return principal, nil
}

// canonicalRequest is SigV4's canonical form of r over the signed header
// names, ending with the payload's hash.
func canonicalRequest(r *http.Request, names []string, payload string) (string, error) {
	headers, err := canonicalHeaders(r, names)
	if err != nil {
		return "", err
	}
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	return strings.Join([]string{r.Method, canonicalURI(r.URL), query, headers, strings.Join(names, ";"), payload}, "\n"), nil
}

// stringToSign is what the signature covers: the algorithm, the time
// (yyyymmddThhmmssZ), the credential scope (date, region, service) and
// the canonical request's hash.
func stringToSign(amzDate string, scope []string, creq string) string {
	sum := sha256.Sum256([]byte(creq))
	return Algorithm + "\n" + amzDate + "\n" + strings.Join(scope, "/") + "/" + scopeTrailer + "\n" + hex.EncodeToString(sum[:])
}

// signature signs toSign with the key derived from secret for scope (date,
// region, service), in hex.
func signature(secret string, scope []string, toSign string) string {
	key := []byte("AWS4" + secret)
	for _, part := range scope {
		key = hmacSHA256(key, part)
	}
	key = hmacSHA256(key, scopeTrailer)
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

type authorization struct{ credential, signedHeaders, signature string }

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…": each field once, nothing else.
func parseAuthorization(values []string) (authorization, error) {
	var a authorization
	if len(values) != 1 {
		return a, fail(CheckAuthorization, "want one Authorization header, got "+strconv.Itoa(len(values)))
	}
	rest, ok := strings.CutPrefix(values[0], Algorithm+" ")
	if !ok {
		return a, fail(CheckAuthorization, "not "+Algorithm)
	}
	fields := map[string]*string{"Credential": &a.credential, "SignedHeaders": &a.signedHeaders, "Signature": &a.signature}
	seen := 0
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		dst, known := fields[k]
		if !ok || !known || *dst != "" || val == "" {
			return a, fail(CheckAuthorization, "want Credential=…, SignedHeaders=…, Signature=…, each once")
		}
		*dst = val
		seen++
	}
	if seen != len(fields) {
		return a, fail(CheckAuthorization, "want Credential=…, SignedHeaders=…, Signature=…, each once")
	}
	return a, nil
}

// signedHeaders splits a SignedHeaders list, which must be lowercase,
// sorted, without repeats, and name host and the date header.
func signedHeaders(list, dateHeader string) ([]string, error) {
	names := strings.Split(list, ";")
	var hasHost, hasDate bool
	for i, n := range names {
		if n == "" || n != strings.ToLower(n) || (i > 0 && names[i-1] >= n) {
			return nil, fail(CheckSignedHeaders, "want lowercase names, sorted, each once")
		}
		hasHost = hasHost || n == hdrHost
		hasDate = hasDate || n == dateHeader
	}
	if !hasHost {
		return nil, fail(CheckSignedHeaders, "host is not signed")
	}
	if !hasDate {
		return nil, fail(CheckSignedHeaders, dateHeader+" is not signed")
	}
	return names, nil
}

// canonicalHeaders writes "name:value\n" for each signed header: values
// joined by commas, spaces trimmed and runs of spaces made one, as the
// SDKs sign them. A signed header the request lacks is refused.
func canonicalHeaders(r *http.Request, names []string) (string, error) {
	var b strings.Builder
	for _, n := range names {
		var vals []string
		switch {
		case n == hdrHost:
			h := r.Host
			if h == "" {
				h = r.URL.Host
			}
			if h != "" {
				vals = []string{h}
			}
		case n == hdrLength && len(r.Header.Values(n)) == 0 && r.ContentLength > 0:
			// A client's request holds its length apart from its headers.
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		default:
			vals = r.Header.Values(n)
		}
		if len(vals) == 0 {
			return "", fail(CheckSignedHeaders, strconv.Quote(n)+" is signed but not in the request")
		}
		b.WriteString(n + ":")
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(trimSpaces(v))
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// trimSpaces drops leading and trailing spaces and makes each run of
// spaces one (spaces only, as the SDKs do, not tabs).
func trimSpaces(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// canonicalURI is the path encoded twice (its escaped form, escaped again),
// as SigV4 has it for every service but Amazon S3.
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	return uriEncode(p, true)
}

// canonicalQuery sorts the query's encoded pairs by key, then value. A
// query that does not parse is refused rather than partly signed.
func canonicalQuery(raw string) (string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", fail(CheckQuery, "query string does not parse")
	}
	var pairs [][2]string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, [2]string{uriEncode(k, false), uriEncode(v, false)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p[0] + "=" + p[1]
	}
	return strings.Join(out, "&"), nil
}

// uriEncode encodes every byte of s but the unreserved characters (and
// '/' when keepSlash) as %XY.
func uriEncode(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/') {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func isSignature(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
