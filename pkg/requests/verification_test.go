package requests

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/veil"
)

var (
	at       = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	email    = Proof{Kind: identifiers.Email, Value: "rosa@example.com", Method: ByCode, By: "otp", At: at}
	email2   = Proof{Kind: identifiers.Email, Value: "rosa.n@example.org", Method: ByCode, By: "otp", At: at}
	phone    = Proof{Kind: identifiers.Phone, Value: "+14155550167", Method: ByCode, By: "otp", At: at}
	attested = Proof{Kind: identifiers.CustomerID, Value: "C-1001", Method: ByAttestation, By: "agent-7", At: at}
)

func with(p Proof, m Method) Proof { p.Method = m; return p }

func TestDefaultPolicyCheck(t *testing.T) {
	pol := DefaultPolicy()
	cases := []struct {
		name        string
		typ         Type
		proofs      []Proof
		declaration bool
		corrections map[string]string
		want        string // "" for met, else a substring of the error
	}{
		{"access: two codes and the declaration", Access, []Proof{email, phone}, true, nil, ""},
		{"access: a code and an attestation", Access, []Proof{email, attested}, true, nil, ""},
		{"access: one code", Access, []Proof{email}, true, nil, "access needs 2 proven identifiers, at least 1 by one-time code, has 1"},
		{"access: two attestations", Access, []Proof{attested, with(phone, ByAttestation)}, true, nil, "has 2, 0 by code"},
		{"access: no declaration", Access, []Proof{email, phone}, false, nil, "access needs the declaration under penalty of perjury"},
		{"access: nothing", Access, nil, false, nil, "has 0, 0 by code, and the declaration"},
		{"access: one identifier proven twice", Access, []Proof{email, with(email, ByAttestation)}, true, nil, "has 1"},
		{"delete: one attestation", Delete, []Proof{attested}, false, nil, ""},
		{"delete: one code", Delete, []Proof{phone}, false, nil, ""},
		{"delete: nothing", Delete, nil, false, nil, "delete needs 1 proven identifier, has 0"},
		{"opt_out: nothing", OptOut, nil, false, nil, ""},
		{"correct: one code", Correct, []Proof{email}, false, map[string]string{"last_name": "Núñez"}, ""},
		{"correct: the proof's kind is being corrected", Correct, []Proof{email}, false,
			map[string]string{"email": "rosa.new@example.com"}, "correct needs 1 proven identifier, has 0 (1 more rests on a value being corrected"},
		{"correct: key written loosely", Correct, []Proof{email}, false, map[string]string{" Email ": "x@example.com"}, "has 0"},
		{"correct: the proof's value is a new value", Correct, []Proof{attested}, false,
			map[string]string{"account_number": " c-1001 "}, "has 0"},
		{"correct: another kind still counts", Correct, []Proof{email, phone}, false, map[string]string{"email": "rosa.new@example.com"}, ""},
		{"delete ignores corrections", Delete, []Proof{email}, false, map[string]string{"email": "rosa.new@example.com"}, ""},
		{"a proof without a method", Delete, []Proof{with(email, "")}, false, nil, "has 0"},
		{"a proof of an unknown method", Delete, []Proof{with(email, "guess")}, false, nil, "has 0"},
		{"a proof without a value", Delete, []Proof{{Kind: identifiers.Email, Method: ByCode}}, false, nil, "has 0"},
		{"a proof of a non-identifier", Delete, []Proof{{Kind: identifiers.LastName, Value: "núñez", Method: ByAttestation}}, false, nil, "has 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := pol.Check(tc.typ, tc.proofs, tc.declaration, tc.corrections)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var ue *UnmetError
			if !errors.As(err, &ue) || ue.Type != tc.typ {
				t.Fatalf("Check = %v (%T), want an *UnmetError for %s", err, err, tc.typ)
			}
			if !errors.Is(err, veil.ErrConflict) {
				t.Fatalf("errors.Is(%v, veil.ErrConflict) = false, want true", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check = %q, want it to contain %q", err, tc.want)
			}
			for _, p := range tc.proofs {
				if p.Value != "" && strings.Contains(strings.ToLower(err.Error()), strings.ToLower(p.Value)) {
					t.Fatalf("Check = %q quotes an identifier", err)
				}
			}
			for _, v := range tc.corrections {
				if strings.TrimSpace(v) != "" && strings.Contains(err.Error(), strings.TrimSpace(v)) {
					t.Fatalf("Check = %q quotes a corrected value", err)
				}
			}
		})
	}
}

// TestCheckDuplicates: repeating a proof never makes up for a missing
// identifier, and a duplicate by code upgrades the identifier to "by code".
func TestCheckDuplicates(t *testing.T) {
	pol := Policy{Access: {Proofs: 2, Codes: 2}}
	if err := pol.Check(Access, []Proof{email, email, email}, false, nil); err == nil {
		t.Fatal("Check(one email three times) = nil, want unmet")
	}
	if err := pol.Check(Access, []Proof{with(email, ByAttestation), with(phone, ByAttestation), email, phone}, false, nil); err != nil {
		t.Fatalf("Check(attested then coded) = %v, want nil", err)
	}
}

func TestCheckUnknownType(t *testing.T) {
	err := Policy{Delete: {Proofs: 1}}.Check(Access, []Proof{email, phone}, true, nil)
	var ve *veil.ValidationError
	if !errors.As(err, &ve) || ve.Field != "type" {
		t.Fatalf("Check(type without a rule) = %v, want a *veil.ValidationError for type", err)
	}
}

func TestProven(t *testing.T) {
	got := Proven([]Proof{email, with(email, ByAttestation), phone, attested, with(email2, ""), {Kind: identifiers.City, Value: "x", Method: ByCode}})
	want := map[string]bool{"email:rosa@example.com": true, "phone:+14155550167": true, "customer_id:C-1001": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Proven = %v, want %v", got, want)
	}
}

func TestProofJSON(t *testing.T) {
	b, err := json.Marshal(attested)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"kind":"customer_id","value":"C-1001","method":"attestation","by":"agent-7","at":"2026-12-01T10:00:00Z"}`; string(b) != want {
		t.Fatalf("json = %s, want %s", b, want)
	}
	var back Proof
	if err := json.Unmarshal(b, &back); err != nil || back != attested {
		t.Fatalf("round trip = %+v, %v; want %+v", back, err, attested)
	}
}

func TestParsePolicy(t *testing.T) {
	def := DefaultPolicy()
	withRule := func(t Type, r Rule) Policy {
		p := DefaultPolicy()
		p[t] = r
		return p
	}
	cases := []struct {
		name string
		in   string
		want Policy
	}{
		{"empty", "", def},
		{"only commas", " , ,", def},
		{"the defaults spelled out", "access=2/1+declaration,delete=1,correct=1,opt_out=0", def},
		{"one override", "access=3/1+declaration", withRule(Access, Rule{Proofs: 3, Codes: 1, Declaration: true})},
		{"loose spelling", " DELETE = 2 / 1 + Declaration ,", withRule(Delete, Rule{Proofs: 2, Codes: 1, Declaration: true})},
		{"declaration dropped", "access=2/1", withRule(Access, Rule{Proofs: 2, Codes: 1})},
		{"opt-out verified", "opt_out=1/0", withRule(OptOut, Rule{Proofs: 1})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePolicy(tc.in)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParsePolicy(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			back, err := ParsePolicy(got.String())
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("ParsePolicy(%q) = %v, %v; want %v", got.String(), back, err, got)
			}
		})
	}
}

func TestPolicyString(t *testing.T) {
	if got, want := DefaultPolicy().String(), "access=2/1+declaration,delete=1,correct=1,opt_out=0"; got != want {
		t.Fatalf("DefaultPolicy().String() = %q, want %q", got, want)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	huge := strings.Repeat("x", 10000)
	cases := []struct {
		name, in, want string
	}{
		{"no equals", "access", "item 1: must be type=proofs"},
		{"no type", "=2", "item 1: must be type=proofs"},
		{"unknown type", "delete=1,erase=1", "item 2 (erase): not a request type"},
		{"twice", "delete=1,DELETE=2", "item 2 (delete): set more than once"},
		{"no number", "delete=", "item 1 (delete): proofs must be a whole number"},
		{"negative", "delete=-1", "proofs must be a whole number"},
		{"not a number", "delete=one", "proofs must be a whole number"},
		{"too many", "delete=23", "proofs must be a whole number from 0 to 22"},
		{"long number", "delete=0001", "proofs must be a whole number"},
		{"empty codes", "access=2/+declaration", "codes must be a whole number"},
		{"three parts", "access=2/1/1", "codes must be a whole number"},
		{"codes over proofs", "access=1/2", "item 1 (access): more codes than proofs"},
		{"another suffix", "access=2/1+affidavit", "item 1 (access): only +declaration may follow"},
		{"declaration twice", "access=2/1+declaration+declaration", "codes must be a whole number"},
		{"declaration alone", "access=+declaration", "proofs must be a whole number"},
		{"huge type", huge + "=1", "not a request type"},
		{"huge value", "access=" + huge, "proofs must be a whole number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePolicy(tc.in)
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != "VERIFICATION_POLICY" {
				t.Fatalf("ParsePolicy(%.40q) = %v, %v; want a *veil.ValidationError for VERIFICATION_POLICY", tc.in, p, err)
			}
			if !strings.Contains(ve.Reason, tc.want) {
				t.Fatalf("reason = %q, want it to contain %q", ve.Reason, tc.want)
			}
			if len(err.Error()) > 200 {
				t.Fatalf("error is %d bytes long, want at most 200", len(err.Error()))
			}
		})
	}
}

// FuzzParsePolicy: any input parses or fails with a short
// *veil.ValidationError; what parses names every type, keeps codes within
// proofs, and round-trips through String.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{"", "access=2/1+declaration,delete=1,correct=1,opt_out=0", "delete=2/2", "access=1/2",
		"opt_out=0,opt_out=1", " Correct = 0 + DECLARATION ", "access=2/1+declaration+declaration", "=", ",,=,", "délete=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePolicy(s)
		if err != nil {
			var ve *veil.ValidationError
			if !errors.As(err, &ve) || ve.Field != "VERIFICATION_POLICY" {
				t.Fatalf("ParsePolicy(%q) = %v (%T), want a *veil.ValidationError", s, err, err)
			}
			if len(err.Error()) > 200 {
				t.Fatalf("error is %d bytes long, want at most 200", len(err.Error()))
			}
			return
		}
		if len(p) != len(types) {
			t.Fatalf("ParsePolicy(%q) has %d types, want %d", s, len(p), len(types))
		}
		for typ, r := range p {
			if r.Codes > r.Proofs || r.Proofs > maxCount || r.Codes < 0 {
				t.Fatalf("ParsePolicy(%q)[%s] = %+v, want 0 ≤ codes ≤ proofs ≤ %d", s, typ, r, maxCount)
			}
		}
		back, err := ParsePolicy(p.String())
		if err != nil || !reflect.DeepEqual(back, p) {
			t.Fatalf("ParsePolicy(%q) = %v, %v; want %v", p.String(), back, err, p)
		}
	})
}
