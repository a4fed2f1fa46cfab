// The real template.yaml must parse, every reference in it must name
// something, and the local stack's resolution of it must succeed.
package samtemplate

import (
	"reflect"
	"strings"
	"testing"
)

func loadReal(t *testing.T) *Template {
	t.Helper()
	tpl, err := Load("../../template.yaml")
	if err != nil {
		t.Fatalf("Load(template.yaml) error = %v", err)
	}
	return tpl
}

func TestRealTemplateReferences(t *testing.T) {
	tpl := loadReal(t)
	for _, err := range tpl.CheckReferences() {
		t.Errorf("CheckReferences: %v", err)
	}
}

func TestRealTemplateFunctions(t *testing.T) {
	tpl := loadReal(t)
	fns := tpl.Functions()
	var ids []string
	for _, f := range fns {
		ids = append(ids, f.LogicalID)
	}
	if got, want := strings.Join(ids, ","), "ExportFunction,IndexFunction,IntakeFunction,PseudonymizeFunction,SearchFunction"; got != want {
		t.Fatalf("Functions() = %s, want %s", got, want)
	}
	// Globals give every function only these; each function names the
	// tables, buckets, keys and secrets it reaches itself.
	globalVars := []string{"PHONE_REGION", "LOG_LEVEL"}
	own := map[string][]string{
		"IntakeFunction":       {"REQUESTS_TABLE", "REQUEST_KEY_SECRET_ARN", "STATE_MACHINE_ARN"},
		"IndexFunction":        {"INDEX_TABLE", "INDEX_KEY_SECRET_ARN"},
		"SearchFunction":       {"INDEX_TABLE", "INDEX_KEY_SECRET_ARN", "LEADS_BUCKET", "REQUESTS_TABLE", "EXPORTS_BUCKET"},
		"ExportFunction":       {"INDEX_TABLE", "INDEX_KEY_SECRET_ARN", "REQUESTS_TABLE", "EXPORTS_BUCKET", "EXPORT_LINK_SECRET_ARN"},
		"PseudonymizeFunction": {"INDEX_TABLE", "INDEX_KEY_SECRET_ARN", "REQUESTS_TABLE", "EXPORTS_BUCKET", "PSEUDONYMIZE_FUNCTION"},
	}
	for _, f := range fns {
		if f.Handler != "bootstrap" || f.CodeURI != "." || f.BuildMethod != "makefile" {
			t.Errorf("%s Handler, CodeURI, BuildMethod = %q, %q, %q; want bootstrap, ., makefile", f.LogicalID, f.Handler, f.CodeURI, f.BuildMethod)
		}
		for _, v := range append(globalVars, own[f.LogicalID]...) {
			if _, ok := f.Environment[v]; !ok {
				t.Errorf("%s has no %s", f.LogicalID, v)
			}
		}
	}
	if got := tpl.Resources["PseudonymizeFunction"].Properties["Timeout"]; got != 900 {
		t.Errorf("PseudonymizeFunction Timeout = %#v, want the number 900", got)
	}
	if got := asMap(tpl.Globals["Function"])["Timeout"]; got != 30 {
		t.Errorf("Globals Timeout = %#v, want the number 30", got)
	}
	if got := tpl.Functions()[1].Events["LeadsChanged"].Properties["BatchSize"]; got != 10 {
		t.Errorf("IndexFunction BatchSize = %#v, want the number 10", got)
	}

	// Which routes each function serves is checked against the functions
	// in pkg/local/stack; here, that every route is read whole, goes to
	// the function of its capability and takes the API's default
	// authorizer.
	routes := tpl.Routes()
	if len(routes) == 0 {
		t.Fatal("Routes() is empty")
	}
	// The public routes: the download link, whose token is its
	// credential, and the consumer's own request routes (the web form,
	// the status token's, the codes').
	public := map[string]bool{"GET /exports/{id}/{file}": true, "POST /requests": true, "GET /requests/{id}/status": true,
		"POST /requests/{id}/verify": true, "POST /requests/{id}/resend": true, "POST /requests/{id}/appeal": true}
	// The one IAM route is the dialer's suppression check.
	iam := map[string]bool{"POST /dialer/suppression/check": true}
	// Routes by path prefix to the function that owns their capability.
	owner := func(path string) string {
		switch {
		case path == "/search" || strings.HasPrefix(path, "/suppression/") || strings.HasPrefix(path, "/dialer/") || strings.HasPrefix(path, "/lists/"):
			return "SearchFunction"
		case strings.HasPrefix(path, "/exports"):
			return "ExportFunction"
		case strings.HasPrefix(path, "/pseudonymize") || path == "/corrections":
			return "PseudonymizeFunction"
		}
		return "IntakeFunction"
	}
	for _, rt := range routes {
		want := "CognitoJWT"
		if public[rt.Method+" "+rt.Path] {
			want = "NONE"
		}
		if iam[rt.Method+" "+rt.Path] {
			want = "AWS_IAM"
		}
		if fn := owner(rt.Path); rt.Function != fn || rt.Method == "" || !strings.HasPrefix(rt.Path, "/") || rt.Authorizer != want {
			t.Errorf("route %+v, want a %s route with method, path and the %s authorizer", rt, fn, want)
		}
	}
	if want := (Route{Function: "IntakeFunction", Method: "GET", Path: "/audit", Authorizer: "CognitoJWT"}); routes[0] != want {
		t.Errorf("Routes()[0] = %+v, want %+v (sorted by path)", routes[0], want)
	}
}

// realResolver resolves the template as the local stack does: every
// resource has a physical name and the attributes the template uses.
func realResolver(tpl *Template) *Resolver {
	r := &Resolver{
		Template: tpl,
		Pseudo: map[string]string{"AWS::Region": "us-east-1", "AWS::AccountId": "000000000000", "AWS::StackName": "veil",
			"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"},
		Refs:  map[string]string{},
		Attrs: map[string]string{},
	}
	for id := range tpl.Resources {
		r.Refs[id] = "local-" + id
		for _, attr := range []string{"Arn", "Name", "QueueName"} {
			r.Attrs[id+"."+attr] = "local-" + id + "-" + attr
		}
	}
	return r
}

func TestRealTemplateResolves(t *testing.T) {
	tpl := loadReal(t)
	r := realResolver(tpl)
	for id, res := range tpl.Resources {
		if _, err := r.Value(res.Properties); err != nil {
			t.Errorf("Resources.%s: %v", id, err)
		}
	}
	// Empty by default on purpose: a deployment without a custom domain,
	// and the built-in masking policy.
	mayBeEmpty := map[string]bool{"PUBLIC_API_URL": true, "MASKING_POLICY": true, "SUPERVISORS_EMAIL": true,
		"COMPLIANCE_EMAIL": true, "VERIFICATION_POLICY": true, "JURISDICTION_OVERRIDES": true, "AGENT_INTAKE_OFF_CAMPAIGNS": true,
		// No dialer role until an operator names one: the dialer route admits no one.
		"DIALER_ROLE_ARNS": true}
	for _, f := range tpl.Functions() {
		for name, v := range f.Environment {
			if s, err := r.String(v); err != nil || (s == "" && !mayBeEmpty[name]) {
				t.Errorf("%s %s = %q, %v; want a value", f.LogicalID, name, s, err)
			}
		}
	}
	if _, err := r.Value(tpl.Outputs); err != nil {
		t.Errorf("Outputs: %v", err)
	}

	tests := []struct {
		name  string
		value func() any
		want  any
	}{
		{name: "leads bucket name", value: func() any { return tpl.Resources["LeadsBucket"].Properties["BucketName"] }, want: "veil-leads-000000000000"},
		{name: "phone region default", value: func() any { return map[string]any{"Ref": "PhoneRegion"} }, want: "US"},
		{name: "retention days", value: func() any {
			rules := asMap(tpl.Resources["ExportsBucket"].Properties["LifecycleConfiguration"])["Rules"].([]any)
			return asMap(rules[0])["ExpirationInDays"]
		}, want: "30"},
		{name: "alarm topic uses its own key", value: func() any { return tpl.Resources["AlarmTopic"].Properties["KmsMasterKeyId"] }, want: "local-AlarmTopicKey-Arn"},
		{name: "no alarm email, no subscription", value: func() any { return map[string]any{"Condition": tpl.Resources["AlarmEmailSubscription"].Condition} }, want: false},
		{name: "number parameter as environment", value: func() any { return map[string]any{"Ref": "IndexChunkBytes"} }, want: "67108864"},
		{name: "HasConnect is false by default", value: func() any { return map[string]any{"Condition": "HasConnect"} }, want: false},
		{name: "api URL", value: func() any { return asMap(tpl.Outputs["ApiUrl"])["Value"] }, want: "https://local-HttpApi.execute-api.us-east-1.amazonaws.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Value(tc.value())
			if err != nil {
				t.Fatalf("Value error = %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Value = %#v, want %#v", got, tc.want)
			}
		})
	}

	// With an alarm address the subscription appears, to the alarm topic.
	r.Params = map[string]string{"AlarmEmail": "ops@example.com"}
	sub := tpl.Resources["AlarmEmailSubscription"]
	if on, err := r.Value(map[string]any{"Condition": sub.Condition}); err != nil || on != true {
		t.Fatalf("AlarmEmailSubscription condition %q = %v, %v; want true", sub.Condition, on, err)
	}
	got, err := r.Value(sub.Properties)
	if err != nil {
		t.Fatalf("AlarmEmailSubscription error = %v", err)
	}
	want := map[string]any{"TopicArn": "local-AlarmTopic", "Protocol": "email", "Endpoint": "ops@example.com"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("AlarmEmailSubscription = %#v, want %#v", got, want)
	}
}
