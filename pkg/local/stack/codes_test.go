package stack_test

// The attacks of issue 19 on one-time codes and status tokens, played
// against the running stack.

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
)

// TestCodeGuessesAcrossRequests: 15 guesses over 3 requests get 5. An
// attacker files three web requests naming the victim's phone and their
// own email, proves the email on each, and guesses the phone's code five
// times on each: the first four are wrong, the fifth locks the phone, and
// every guess after it is refused as locked whatever the request, as is
// the right code. The victim's phone is told once; the lock's item in the
// Requests table is keyed by an HMAC, never the number.
func TestCodeGuessesAcrossRequests(t *testing.T) {
	d := newDesk(t)
	const victim, attacker = "+14155550177", "eve@example.com"
	ids := make([]string, 3)
	phoneCodes := map[string]bool{}
	for i := range ids {
		ids[i], _ = file(t, d, "", "/requests", fmt.Sprintf(`{"type":"delete","jurisdiction":"CA","name":"Eve %d","phones":["(415) 555-0177"],"emails":["%s"]}`, i+1, attacker))
		d.waiting(ids[i], requeststore.WaitVerification)
		phoneCodes[d.code(victim)] = true
		d.verify(ids[i], attacker)
	}
	wrong := "000000"
	for i := 1; phoneCodes[wrong]; i++ {
		wrong = fmt.Sprintf("%06d", i)
	}
	n := 0
	for _, id := range ids {
		for range 5 {
			n++
			code, body := d.call(http.MethodPost, "/requests/"+id+"/verify?token="+d.token(id), "", `{"identifier":"`+victim+`","code":"`+wrong+`"}`)
			want := http.StatusBadRequest
			if n >= 5 {
				want = http.StatusLocked
			}
			if code != want {
				t.Fatalf("guess %d (request %d) = %d %v, want %d", n, (n-1)/5+1, code, body, want)
			}
		}
	}
	for i, id := range ids {
		for right := range phoneCodes {
			if code, body := d.call(http.MethodPost, "/requests/"+id+"/verify", "", `{"token":"`+d.token(id)+`","identifier":"`+victim+`","code":"`+right+`"}`); code != http.StatusLocked {
				t.Fatalf("a right code on request %d after the lock = %d %v, want 423", i+1, code, body)
			}
		}
		if r, _ := d.store.Get(context.Background(), id); len(requests.Proven(r.Proofs)) != 1 || r.Proofs[0].Kind != identifiers.Email {
			t.Fatalf("request %d proofs = %+v, want the attacker's email alone", i+1, r.Proofs)
		}
	}
	if code, body := d.call(http.MethodPost, "/requests/"+ids[0]+"/resend?token="+d.token(ids[0]), "", `{"identifier":"`+victim+`"}`); code != http.StatusLocked {
		t.Fatalf("resend to the locked phone = %d %v, want 423", code, body)
	}
	notices := 0
	for _, m := range d.messages(victim) {
		if strings.Contains(m.Body, "cannot be verified by code for 24 hours") {
			notices++
		}
	}
	if notices != 1 {
		t.Fatalf("lock notices to the victim's phone = %d, want 1", notices)
	}
	out, err := dynamodb.NewFromConfig(d.s.AWS).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(d.s.Names["RequestsTable"])})
	if err != nil {
		t.Fatal(err)
	}
	var counted []int
	for _, it := range out.Items {
		pk := it["PK"].(*ddbtypes.AttributeValueMemberS).Value
		if strings.HasPrefix(pk, "OTPID#") {
			if strings.Contains(pk, "5550177") || strings.Contains(pk, "eve") || len(pk) != len("OTPID#phone#")+identifiers.KeyLen && len(pk) != len("OTPID#email#")+identifiers.KeyLen {
				t.Fatalf("guess counter key %q, want OTPID#<kind>#<HMAC>", pk)
			}
			tries, _ := it["tries"].(*ddbtypes.AttributeValueMemberL)
			if tries != nil && len(tries.Value) > 0 {
				counted = append(counted, len(tries.Value))
			}
		}
	}
	if len(counted) != 1 || counted[0] != 5 {
		t.Fatalf("counted tries = %v, want the phone's 5 alone (the email's right codes count nothing)", counted)
	}
}

// TestIdempotencyKeyReplayByAStranger: every anonymous filer is the
// subject "consumer", so a stranger can send a filer's Idempotency-Key:
// with another body it is refused (409) with no request ID and no status
// token; with the same body it is the same request.
func TestIdempotencyKeyReplayByAStranger(t *testing.T) {
	d := newDesk(t)
	mine := `{"type":"delete","jurisdiction":"CA","name":"Ana Lopez","emails":["ana@example.com"]}`
	theirs := `{"type":"access","jurisdiction":"CA","name":"Mallory","declaration":true,"emails":["mallory@example.com"]}`
	code, first := rawFile(t, d, "shared-key-1", mine)
	if code != http.StatusCreated || first["statusToken"] == nil {
		t.Fatalf("first filing = %d %v, want 201 with a status token", code, first)
	}
	code, stranger := rawFile(t, d, "shared-key-1", theirs)
	if code != http.StatusConflict || stranger["statusToken"] != nil || stranger["id"] != nil || stranger["reference"] != nil {
		t.Fatalf("a stranger's filing under the key = %d %v, want 409 with no request and no token", code, stranger)
	}
	if msg, _ := stranger["error"].(string); strings.Contains(msg, first["id"].(string)) || strings.Contains(msg, first["reference"].(string)) {
		t.Fatalf("409 = %q, names the first request", msg)
	}
	code, again := rawFile(t, d, "shared-key-1", mine)
	if code != http.StatusOK || again["id"] != first["id"] || again["reference"] != first["reference"] {
		t.Fatalf("the same body again = %d %v, want 200 and request %v", code, again, first["id"])
	}
}

// TestVerifyAnswersStrangersAlike: verify, resend and appeal answer an
// unknown request, a wrong token, no token and an identifier the request
// does not name with one status and one body; none of them spends the
// consumer's tries. Resending after the code was used is a 409.
func TestVerifyAnswersStrangersAlike(t *testing.T) {
	d := newDesk(t)
	id, token := file(t, d, "", "/requests", `{"type":"delete","jurisdiction":"CA","name":"Kim Park","phones":["415-555-0188"],"emails":["kim@example.com"]}`)
	d.waiting(id, requeststore.WaitVerification)
	const unknown = "3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f"
	type answer struct {
		code int
		body map[string]any
	}
	ask := func(path, body string) answer {
		t.Helper()
		code, out := d.call(http.MethodPost, path, "", body)
		delete(out, "requestId") // the invocation's own ID
		return answer{code, out}
	}
	cases := map[string]answer{}
	for i := range 5 { // five of each: as many as would lock a code
		cases["verify, wrong token"] = ask("/requests/"+id+"/verify?token=0123456789abcdef", `{"identifier":"kim@example.com","code":"12345`+fmt.Sprint(i)+`"}`)
	}
	cases["verify, no token"] = ask("/requests/"+id+"/verify", `{"identifier":"kim@example.com","code":"123456"}`)
	cases["verify, unknown request"] = ask("/requests/"+unknown+"/verify?token="+token, `{"identifier":"kim@example.com","code":"123456"}`)
	cases["verify, identifier not named"] = ask("/requests/"+id+"/verify?token="+token, `{"identifier":"lee@example.com","code":"123456"}`)
	cases["verify, phone not named"] = ask("/requests/"+id+"/verify", `{"token":"`+token+`","identifier":"415-555-0199","code":"123456"}`)
	cases["resend, wrong token"] = ask("/requests/"+id+"/resend", `{"token":"wrong","identifier":"kim@example.com"}`)
	cases["resend, unknown request"] = ask("/requests/"+unknown+"/resend?token="+token, `{"identifier":"kim@example.com"}`)
	cases["resend, identifier not named"] = ask("/requests/"+id+"/resend?token="+token, `{"identifier":"lee@example.com"}`)
	cases["appeal, wrong token"] = ask("/requests/"+id+"/appeal?token=wrong", `{"reason":"x"}`)
	cases["appeal, unknown request"] = ask("/requests/"+unknown+"/appeal", `{"token":"`+token+`","reason":"x"}`)
	want := answer{http.StatusNotFound, map[string]any{"error": "Not Found"}}
	for name, got := range cases {
		if got.code != want.code || !maps.Equal(got.body, want.body) {
			t.Errorf("%s = %d %v, want %d %v", name, got.code, got.body, want.code, want.body)
		}
	}
	// The strangers spent none of the email's tries.
	if code, out := d.call(http.MethodPost, "/requests/"+id+"/verify?token="+token, "", `{"identifier":"kim@example.com","code":"`+notCode(d.code("kim@example.com"))+`"}`); code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["error"]), "4 tries left") {
		t.Fatalf("the consumer's first wrong code = %d %v, want 400 with 4 tries left", code, out)
	}
	d.verify(id, "kim@example.com")
	code, out := d.call(http.MethodPost, "/requests/"+id+"/resend?token="+token, "", `{"identifier":"kim@example.com"}`)
	if code != http.StatusConflict || !strings.Contains(fmt.Sprint(out["error"]), "verified already") {
		t.Fatalf("resend after the code was used = %d %v, want 409 verified already", code, out)
	}
}

// notCode returns a six-digit code other than code.
func notCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}
