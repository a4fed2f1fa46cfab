package connect_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// flow is the part of the Flow language the checks read.
type flow struct {
	Version     string
	StartAction string
	Actions     []action
}

type action struct {
	Identifier  string
	Type        string
	Parameters  map[string]json.RawMessage
	Transitions struct {
		NextAction string
		Conditions []struct {
			NextAction string
			Condition  struct {
				Operator string
				Operands []string
			}
		}
		Errors []struct {
			NextAction string
			ErrorType  string
		}
	}
}

// next returns every action a can move to.
func (a action) next() []string {
	var out []string
	if a.Transitions.NextAction != "" {
		out = append(out, a.Transitions.NextAction)
	}
	for _, c := range a.Transitions.Conditions {
		out = append(out, c.NextAction)
	}
	for _, e := range a.Transitions.Errors {
		out = append(out, e.NextAction)
	}
	return out
}

func (a action) str(t *testing.T, name string) string {
	t.Helper()
	var s string
	if raw, ok := a.Parameters[name]; ok {
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("%s.%s is not a string: %s", a.Identifier, name, raw)
		}
	}
	return s
}

func load(t *testing.T) (flow, map[string]action) {
	t.Helper()
	raw, err := os.ReadFile("privacy-request-flow.json")
	if err != nil {
		t.Fatal(err)
	}
	var f flow
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("flow: %v", err)
	}
	byID := map[string]action{}
	for _, a := range f.Actions {
		if a.Identifier == "" || strings.ContainsAny(a.Identifier, "%:(\\/)=$,;[]{}") || len(a.Identifier) > 50 {
			t.Fatalf("action identifier %q is not one the Flow language allows", a.Identifier)
		}
		if _, dup := byID[a.Identifier]; dup {
			t.Fatalf("action %s is defined twice", a.Identifier)
		}
		byID[a.Identifier] = a
	}
	return f, byID
}

var requestTypes = []string{"access", "delete", "correct", "opt_out"}

// TestFlowWiring: the flow's graph is whole. It starts at an action that
// exists, every transition names one, every action is reachable, and
// every path ends in a disconnect (nothing but a disconnect has no way
// on, and the disconnect has none).
func TestFlowWiring(t *testing.T) {
	f, byID := load(t)
	if f.Version != "2019-10-30" {
		t.Fatalf("Version = %q, want 2019-10-30", f.Version)
	}
	if _, ok := byID[f.StartAction]; !ok {
		t.Fatalf("StartAction %q is no action", f.StartAction)
	}
	for _, a := range f.Actions {
		for _, n := range a.next() {
			if _, ok := byID[n]; !ok {
				t.Errorf("%s moves to %q, which is no action", a.Identifier, n)
			}
		}
		switch {
		case a.Type == "DisconnectParticipant" && len(a.next()) != 0:
			t.Errorf("disconnect %s moves on", a.Identifier)
		case a.Type != "DisconnectParticipant" && (a.Transitions.NextAction == "" || len(a.Transitions.Errors) == 0):
			t.Errorf("%s (%s) has no NextAction or no error branch", a.Identifier, a.Type)
		}
	}
	seen := map[string]bool{}
	var walk func(string)
	walk = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		for _, n := range byID[id].next() {
			walk(n)
		}
	}
	walk(f.StartAction)
	for _, a := range f.Actions {
		if !seen[a.Identifier] {
			t.Errorf("%s is unreachable", a.Identifier)
		}
	}
}

// TestFlowInvokes: every Lambda invocation files a request of a known type
// through IntakeFunction, within Connect's 8-second limit, and answers with
// a flat string map (what HandleConnect returns).
func TestFlowInvokes(t *testing.T) {
	f, _ := load(t)
	var types []string
	for _, a := range f.Actions {
		if a.Type != "InvokeLambdaFunction" {
			continue
		}
		if arn := a.str(t, "LambdaFunctionARN"); !strings.HasPrefix(arn, "arn:aws:lambda:") || !strings.HasSuffix(arn, ":function:IntakeFunction") {
			t.Errorf("%s invokes %q, want IntakeFunction", a.Identifier, arn)
		}
		limit, err := strconv.Atoi(strings.Trim(string(a.Parameters["InvocationTimeLimitSeconds"]), `"`))
		if err != nil || limit < 1 || limit > 8 {
			t.Errorf("%s InvocationTimeLimitSeconds = %s, want 1 to 8", a.Identifier, a.Parameters["InvocationTimeLimitSeconds"])
		}
		var rv struct{ ResponseType string }
		if err := json.Unmarshal(a.Parameters["ResponseValidation"], &rv); err != nil || rv.ResponseType != "STRING_MAP" {
			t.Errorf("%s ResponseValidation = %s, want STRING_MAP", a.Identifier, a.Parameters["ResponseValidation"])
		}
		var attrs map[string]string
		if err := json.Unmarshal(a.Parameters["LambdaInvocationAttributes"], &attrs); err != nil {
			t.Fatalf("%s LambdaInvocationAttributes: %v", a.Identifier, err)
		}
		if attrs["action"] != "file_request" || !slices.Contains(requestTypes, attrs["requestType"]) {
			t.Errorf("%s passes %v, want action file_request and a requestType in %v", a.Identifier, attrs, requestTypes)
		}
		types = append(types, attrs["requestType"])
	}
	if len(types) == 0 {
		t.Fatal("the flow invokes no Lambda function")
	}
}

// TestFlowMenu: pressing 1, 2, 3 or 4 at the menu reaches an invocation
// filing access, delete, correct or opt_out, and the answer it speaks is
// the function's message and reference, the reference read out character
// by character; a refusal speaks the function's message.
func TestFlowMenu(t *testing.T) {
	f, byID := load(t)
	// The menu is the first input the caller gives; an access request asks
	// a second time, for the declaration under penalty of perjury.
	var menu *action
	for _, a := range f.Actions {
		if a.Type == "GetParticipantInput" {
			menu = &a
			break
		}
	}
	if menu == nil {
		t.Fatal("no GetParticipantInput menu")
	}
	pressed := func(a action, digit string) string {
		for _, c := range a.Transitions.Conditions {
			if c.Condition.Operator == "Equals" && slices.Equal(c.Condition.Operands, []string{digit}) {
				return c.NextAction
			}
		}
		return ""
	}
	for i, want := range requestTypes {
		digit := fmt.Sprint(i + 1)
		t.Run(digit+" "+want, func(t *testing.T) {
			id := ""
			for _, c := range menu.Transitions.Conditions {
				if c.Condition.Operator == "Equals" && slices.Equal(c.Condition.Operands, []string{digit}) {
					id = c.NextAction
				}
			}
			if id == "" {
				t.Fatalf("menu has no branch for %s", digit)
			}
			// Follow the success path (Set contact attributes and the like)
			// to the first invocation.
			declared := false
			for steps := 0; byID[id].Type != "InvokeLambdaFunction"; steps++ {
				if steps > len(f.Actions) || byID[id].Transitions.NextAction == "" {
					t.Fatalf("pressing %s never reaches a Lambda invocation", digit)
				}
				if a := byID[id]; a.Type == "GetParticipantInput" {
					if !strings.Contains(a.str(t, "Text"), "penalty of perjury") || pressed(a, "1") == "" {
						t.Fatalf("%s asks %q; the only second question is the declaration, confirmed by pressing 1", a.Identifier, a.str(t, "Text"))
					}
					declared, id = true, pressed(a, "1")
					continue
				}
				id = byID[id].Transitions.NextAction
			}
			inv := byID[id]
			var attrs map[string]string
			_ = json.Unmarshal(inv.Parameters["LambdaInvocationAttributes"], &attrs)
			if attrs["requestType"] != want {
				t.Fatalf("pressing %s files %q, want %q", digit, attrs["requestType"], want)
			}
			// Access needs the caller's declaration (CCPA regulations
			// §7062); the flow passes it only once the caller gave it.
			if (want == "access") != declared || (attrs["declaration"] == "true") != declared {
				t.Fatalf("pressing %s: declaration asked %v, passed %q; want both for access only", digit, declared, attrs["declaration"])
			}
			// IntakeFunction answers status "filed" with a reference, or
			// "invalid" with a message saying why; the flow checks which.
			check := byID[inv.Transitions.NextAction]
			if check.Type != "Compare" || check.str(t, "ComparisonValue") != "$.External.status" {
				t.Fatalf("after filing comes %s (%s), want a Compare of $.External.status", check.Identifier, check.Type)
			}
			filed := ""
			for _, c := range check.Transitions.Conditions {
				if c.Condition.Operator == "Equals" && slices.Equal(c.Condition.Operands, []string{"filed"}) {
					filed = c.NextAction
				}
			}
			answer := byID[filed]
			ssml := answer.str(t, "SSML")
			if answer.Type != "MessageParticipant" || !strings.Contains(ssml, "$.External.message") ||
				!strings.Contains(ssml, "<say-as interpret-as='characters'>$.External.reference</say-as>") {
				t.Fatalf("when filed, %s (%s) speaks %q; want the message and the reference read as characters", answer.Identifier, answer.Type, ssml)
			}
			if next := byID[answer.Transitions.NextAction]; next.Type != "DisconnectParticipant" {
				t.Fatalf("after the answer comes %s (%s), want a disconnect", next.Identifier, next.Type)
			}
			refusals := []string{check.Transitions.NextAction}
			for _, e := range check.Transitions.Errors {
				refusals = append(refusals, e.NextAction)
			}
			for _, id := range refusals {
				refused := byID[id]
				if refused.Type != "MessageParticipant" || !strings.Contains(refused.str(t, "Text"), "$.External.message") ||
					byID[refused.Transitions.NextAction].Type != "DisconnectParticipant" {
					t.Fatalf("when not filed, %s (%s) follows; want the function's message, then a disconnect", refused.Identifier, refused.Type)
				}
			}
			for _, e := range inv.Transitions.Errors {
				sorry := byID[e.NextAction]
				if sorry.Type != "MessageParticipant" || !strings.Contains(strings.ToLower(sorry.str(t, "Text")), "sorry") ||
					byID[sorry.Transitions.NextAction].Type != "DisconnectParticipant" {
					t.Fatalf("invocation error %s goes to %s, want an apology then a disconnect", e.ErrorType, sorry.Identifier)
				}
			}
		})
	}
}
