package searchfn

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/veil"
)

// fakeSuppression is a pure fake of SuppressionChecker: a value holding
// "0147" is do-not-contact since 1 March 2026, one holding "bad" invalid.
type fakeSuppression struct{ err error }

func (f fakeSuppression) Check(_ context.Context, kind identifiers.Kind, values []string) ([]suppression.Result, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := make([]suppression.Result, len(values))
	for i, v := range values {
		switch {
		case strings.Contains(v, "bad"):
			out[i].Invalid = kind.String() + " does not parse"
		case strings.Contains(v, "0147"):
			out[i].Entries = []suppression.Entry{{Action: suppression.DoNotContact, Added: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}}
		}
	}
	return out, nil
}

func TestCheckSuppression(t *testing.T) {
	agent := map[string]string{"sub": "u-agent", "cognito:groups": "[agent]"}
	resp := call(t, newRoutes(fakeSearch{}, fakeSuppression{}), "POST /suppression/check", agent, func(ev *events.APIGatewayV2HTTPRequest) {
		ev.Body = `{"phones":["(212) 555-0147","212-555-0100","bad"],"emails":["a@example.com"]}`
	})
	var got CheckResponse
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /suppression/check = %d %s", resp.StatusCode, resp.Body)
	}
	if len(got.Phones) != 3 || !got.Phones[0].Suppressed || got.Phones[0].Actions[0] != "do-not-contact" || got.Phones[0].Since.IsZero() ||
		got.Phones[1].Suppressed || got.Phones[2].Invalid == "" || len(got.Emails) != 1 || got.Emails[0].Suppressed {
		t.Fatalf("answer = %+v, want the first phone do-not-contact, the second clear, the third invalid, the email clear", got)
	}
	if strings.Contains(resp.Body, "555") || strings.Contains(resp.Body, "example.com") {
		t.Fatalf("answer %s echoes a value", resp.Body)
	}
	resp = call(t, newRoutes(fakeSearch{}, fakeSuppression{err: errors.New("dynamodb down")}), "POST /suppression/check", agent, nil)
	if resp.StatusCode != 500 {
		t.Fatalf("check with the store down = %d, want 500", resp.StatusCode)
	}
}

func TestParseCheckRequest(t *testing.T) {
	for body, field := range map[string]string{
		``: "body", `{}`: "body", `{"phones":[]}`: "body", `{"fax":["1"]}`: "body", `{"phones":"1"}`: "body", `{"phones":["1"]}{}`: "body",
		`{"phones":[` + strings.TrimSuffix(strings.Repeat(`"1",`, suppression.MaxCheck+1), ",") + `]}`: "body",
	} {
		_, err := ParseCheckRequest(body)
		var ve *veil.ValidationError
		if !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("ParseCheckRequest(%.30q) = %v, want a validation error on %s", body, err, field)
		}
	}
	if r, err := ParseCheckRequest(`{"phones":["1"],"emails":["a@b.c"]}`); err != nil || len(r.Phones) != 1 || len(r.Emails) != 1 {
		t.Fatalf("ParseCheckRequest = %+v, %v", r, err)
	}
}

// FuzzParseCheckRequest: any body is a request or a validation error, and
// an error never quotes the body.
func FuzzParseCheckRequest(f *testing.F) {
	for _, s := range []string{`{"phones":["(212) 555-0147"]}`, `{"emails":["a@b.c"]}`, `{}`, `{"phones":[1]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r, err := ParseCheckRequest(body)
		if err == nil {
			if n := len(r.Phones) + len(r.Emails); n == 0 || n > suppression.MaxCheck {
				t.Fatalf("accepted %d values", n)
			}
			return
		}
		var ve *veil.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("error = %#v, want a validation error", err)
		}
		if len(body) >= 8 && strings.Contains(ve.Error(), body) {
			t.Fatalf("error %q quotes the body", ve.Error())
		}
	})
}
