package intakefn

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/veil"
)

// The status token comes in the body or as ?token=; both the same is
// fine, two different tokens are refused.
func TestDecodeVerify(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		query     map[string]string
		want      VerifyBody
		wantField string
	}{
		{"token in body", `{"token":"t1","identifier":"+14155550101","code":"123456"}`, nil,
			VerifyBody{Token: "t1", Identifier: "+14155550101", Code: "123456"}, ""},
		{"token in query", `{"identifier":"a@example.com","code":"000001"}`, map[string]string{"token": "t2"},
			VerifyBody{Token: "t2", Identifier: "a@example.com", Code: "000001"}, ""},
		{"both, the same", `{"token":"t3","identifier":"x","code":"1"}`, map[string]string{"token": "t3"},
			VerifyBody{Token: "t3", Identifier: "x", Code: "1"}, ""},
		{"no token", `{"identifier":"x","code":"1"}`, nil, VerifyBody{Identifier: "x", Code: "1"}, ""},
		{"both, different", `{"token":"t4","identifier":"x","code":"1"}`, map[string]string{"token": "t5"}, VerifyBody{}, "token"},
		{"unknown field", `{"token":"t","requestId":"r"}`, nil, VerifyBody{}, "body"},
		{"two objects", `{"token":"t"}{"token":"u"}`, nil, VerifyBody{}, "body"},
		{"not an object", `["t"]`, nil, VerifyBody{}, "body"},
		{"code as a number", `{"code":123456}`, nil, VerifyBody{}, "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeVerify(tc.body, tc.query)
			var ve *veil.ValidationError
			switch {
			case tc.wantField == "" && err != nil:
				t.Fatalf("DecodeVerify = %v, want %+v", err, tc.want)
			case tc.wantField == "" && got != tc.want:
				t.Fatalf("DecodeVerify = %+v, want %+v", got, tc.want)
			case tc.wantField != "" && (!errors.As(err, &ve) || ve.Field != tc.wantField):
				t.Fatalf("DecodeVerify = %+v, %v; want a ValidationError on %s", got, err, tc.wantField)
			}
		})
	}
}

// FuzzDecodeVerify: whatever a stranger posts to verify, decoding either
// names the body or the token as wrong, without quoting the token or the
// code, or yields the body's own fields (read here by a plain
// json.Unmarshal) with the one token given; it never panics.
func FuzzDecodeVerify(f *testing.F) {
	raw, err := os.ReadFile("../../../events/intake/apigw-post-request-verify.json")
	if err != nil {
		f.Fatal(err)
	}
	var sample events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &sample); err != nil {
		f.Fatal(err)
	}
	f.Add(sample.Body, "")
	f.Add(`{"identifier":"+14155550101","code":"123456"}`, "0123456789abcdef0123456789abcdef0123456789abcdef")
	f.Add(`{"token":"a","identifier":"b","code":"c"}`, "z")
	f.Add(`{"Token":"a","TOKEN":"b"}`, "")
	f.Add(`{"code":"\u0000"}`, "")
	f.Fuzz(func(t *testing.T, body, queryToken string) {
		var query map[string]string
		if queryToken != "" {
			query = map[string]string{"token": queryToken}
		}
		got, err := DecodeVerify(body, query)
		if err != nil {
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || (ve.Field != "body" && ve.Field != "token") {
				t.Fatalf("DecodeVerify = %v, want a ValidationError on body or token", err)
			}
			if len(queryToken) >= 8 && !strings.Contains(body, queryToken) && strings.Contains(err.Error(), queryToken) {
				t.Fatalf("error %q quotes the token", err)
			}
			return
		}
		var plain map[string]any
		if json.Unmarshal([]byte(body), &plain) != nil {
			t.Fatalf("DecodeVerify accepted %q, which is not a JSON object", body)
		}
		bodyToken := ""
		for k, v := range plain {
			if !strings.EqualFold(k, "token") && !strings.EqualFold(k, "identifier") && !strings.EqualFold(k, "code") {
				t.Fatalf("DecodeVerify accepted unknown field %q", k)
			}
			if s, ok := v.(string); ok && k == "token" {
				bodyToken = s
			}
		}
		switch {
		case bodyToken != "" && got.Token != bodyToken && len(plain) == len(lowerKeys(plain)):
			t.Fatalf("token = %q, want the body's %q", got.Token, bodyToken)
		case got.Token == "" && queryToken != "":
			t.Fatalf("token empty, want ?token= %q", queryToken)
		case got.Token != "" && queryToken != "" && got.Token != queryToken:
			t.Fatalf("token = %q with ?token= %q: two different tokens were accepted", got.Token, queryToken)
		}
	})
}

// lowerKeys is the set of m's keys folded to lower case.
func lowerKeys(m map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[strings.ToLower(k)] = true
	}
	return out
}
