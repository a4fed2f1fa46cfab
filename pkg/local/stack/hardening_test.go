package stack_test

// The template's hardening, against AWS's own guidance (the Well-Architected
// security pillar, S3's and Cognito's security best practices), checked on
// the parsed template: what cfn-lint does not require, but a reviewer of a
// stack holding consumers' personal data would. Each check is also run on a
// copy of the template with one safeguard taken out, so that a check which
// cannot fail is caught.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// Written by hand: what the stack holds that must outlive a mistaken
// `sam delete`, and what must be watched.
var (
	retained = []string{"IndexTable", "RequestsTable", "LeadsBucket", "ExportsBucket", "LeadsKey", "ExportsKey", "IndexKeySecret", "ExportLinkSecret", "AuditAnchorBucket"}
	tables   = []string{"IndexTable", "RequestsTable"}
	buckets  = []string{"LeadsBucket", "ExportsBucket", "IndexWorkBucket", "AuditAnchorBucket"}
	// lockedBuckets hold what no one may rewrite: Object Lock in
	// compliance mode, for at least this many days (the trail's 24 months).
	lockedBuckets  = map[string]int{"AuditAnchorBucket": 731}
	kmsBuckets     = map[string]string{"LeadsBucket": "LeadsKey", "ExportsBucket": "ExportsKey"}
	functions      = []string{"IntakeFunction", "IndexFunction", "SearchFunction", "ExportFunction", "PseudonymizeFunction"}
	stateMachines  = []string{"PrivacyRequestStateMachine", "BackfillStateMachine", "IndexListStateMachine"}
	anonymousPaths = []string{"POST /requests", "GET /requests/{id}/status", "POST /requests/{id}/verify", "POST /requests/{id}/resend", "POST /requests/{id}/appeal", "GET /exports/{id}/{file}"}
)

func hardeningProblems(tmpl *samtemplate.Template) []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	for _, id := range retained {
		r := tmpl.Resources[id]
		if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
			add("%s: DeletionPolicy %q UpdateReplacePolicy %q, want Retain", id, r.DeletionPolicy, r.UpdateReplacePolicy)
		}
	}
	for _, id := range tables {
		if tmpl.Resources[id].Properties["DeletionProtectionEnabled"] != true {
			add("%s: no deletion protection", id)
		}
	}
	tlsDenied := map[string]bool{}
	for _, id := range tmpl.OfType("AWS::S3::BucketPolicy") {
		p := tmpl.Resources[id].Properties
		bucket, _ := asMap(p["Bucket"])["Ref"].(string)
		doc, _ := p["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			cond, _ := st["Condition"].(map[string]any)
			b, _ := cond["Bool"].(map[string]any)
			if st["Effect"] == "Deny" && st["Principal"] == "*" && st["Action"] == "s3:*" && b["aws:SecureTransport"] == "false" {
				tlsDenied[bucket] = true
			}
		}
	}
	for _, id := range buckets {
		props := tmpl.Resources[id].Properties
		if !tlsDenied[id] {
			add("%s: its bucket policy does not deny non-TLS requests", id)
		}
		lc, _ := props["LifecycleConfiguration"].(map[string]any)
		rules, _ := lc["Rules"].([]any)
		aborts := false
		for _, r := range rules {
			if _, ok := asMap(r)["AbortIncompleteMultipartUpload"]; ok {
				aborts = true
			}
		}
		if !aborts {
			add("%s: no AbortIncompleteMultipartUpload rule", id)
		}
		if days, ok := lockedBuckets[id]; ok {
			lock := asMap(props["ObjectLockConfiguration"])
			ret := asMap(asMap(lock["Rule"])["DefaultRetention"])
			got, _ := ret["Days"].(int)
			versioned := asMap(props["VersioningConfiguration"])["Status"] == "Enabled"
			if props["ObjectLockEnabled"] != true || lock["ObjectLockEnabled"] != "Enabled" || ret["Mode"] != "COMPLIANCE" || got < days || !versioned {
				add("%s: not versioned under Object Lock COMPLIANCE for %d days", id, days)
			}
		}
		if key, ok := kmsBuckets[id]; ok {
			enc, _ := props["BucketEncryption"].(map[string]any)
			cfgs, _ := enc["ServerSideEncryptionConfiguration"].([]any)
			kms := false
			for _, c := range cfgs {
				d := asMap(asMap(c)["ServerSideEncryptionByDefault"])
				arn, _ := asMap(d["KMSMasterKeyID"])["Fn::GetAtt"].([]any)
				if d["SSEAlgorithm"] == "aws:kms" && len(arn) == 2 && arn[0] == key {
					kms = true
				}
			}
			if !kms {
				add("%s: not SSE-KMS under %s", id, key)
			}
		}
	}
	for _, id := range functions {
		props := tmpl.Resources[id].Properties
		lc, _ := props["LoggingConfig"].(map[string]any)
		group, _ := asMap(lc["LogGroup"])["Ref"].(string)
		lg, ok := tmpl.Resources[group]
		if !ok || lg.Type != "AWS::Logs::LogGroup" {
			add("%s: no log group of its own", id)
		} else if r, _ := lg.Properties["RetentionInDays"].(map[string]any); r["Ref"] != "LogRetentionDays" {
			add("%s: log group %s keeps logs without the retention parameter", id, group)
		}
	}
	watched := func(namespace, metric, dimension string) bool {
		for _, id := range tmpl.OfType("AWS::CloudWatch::Alarm") {
			p := tmpl.Resources[id].Properties
			if p["Namespace"] != namespace || p["MetricName"] != metric {
				continue
			}
			dims, _ := p["Dimensions"].([]any)
			actions, _ := p["AlarmActions"].([]any)
			topic := len(actions) == 1 && fmt.Sprint(actions[0]) == fmt.Sprint(map[string]any{"Ref": "AlarmTopic"})
			for _, d := range dims {
				v := asMap(asMap(d)["Value"])
				if v["Ref"] == dimension && topic {
					return true
				}
			}
		}
		return false
	}
	for _, id := range functions {
		if !watched("AWS/Lambda", "Errors", id) {
			add("%s: no Errors alarm reaching AlarmTopic", id)
		}
	}
	for _, id := range stateMachines {
		if !watched("AWS/States", "ExecutionsFailed", id) {
			add("%s: no ExecutionsFailed alarm reaching AlarmTopic", id)
		}
	}
	if mfa := tmpl.Resources["UserPool"].Properties["MfaConfiguration"]; mfa != "ON" {
		add("UserPool: MfaConfiguration %v, want ON", mfa)
	}
	api := tmpl.Resources["HttpApi"].Properties
	logs, _ := api["AccessLogSettings"].(map[string]any)
	format, _ := logs["Format"].(string)
	if format == "" {
		add("HttpApi: no access log")
	}
	// Status and download tokens travel in the query string.
	for _, leak := range []string{"querystring", "rawQueryString", "$request."} {
		if strings.Contains(format, leak) {
			add("HttpApi: the access log records %s", leak)
		}
	}
	def, _ := api["DefaultRouteSettings"].(map[string]any)
	if def["ThrottlingRateLimit"] == nil || def["ThrottlingBurstLimit"] == nil {
		add("HttpApi: no stage throttling")
	}
	routes, _ := api["RouteSettings"].(map[string]any)
	for _, key := range anonymousPaths {
		rs, _ := routes[key].(map[string]any)
		if fmt.Sprint(rs["ThrottlingRateLimit"]) != fmt.Sprint(map[string]any{"Ref": "AnonymousRateLimit"}) {
			add("HttpApi: anonymous route %s is not throttled by AnonymousRateLimit", key)
		}
	}
	// Every route a stranger reaches is in the list above.
	for _, r := range tmpl.Routes() {
		if key := r.Method + " " + r.Path; r.Authorizer == "NONE" && !slices.Contains(anonymousPaths, key) {
			add("route %s has no authorizer and no throttle of its own", key)
		}
	}
	if r := tmpl.Resources["IntakeFunction"].Properties["ReservedConcurrentExecutions"]; r == nil {
		add("IntakeFunction: no reserved concurrency")
	}
	return out
}

func TestTemplateHardening(t *testing.T) {
	for _, p := range hardeningProblems(loadTemplate(t)) {
		t.Error(p)
	}
}

// TestTemplateHardeningChecksBite takes one safeguard out at a time and
// wants the check to name it.
func TestTemplateHardeningChecksBite(t *testing.T) {
	cases := []struct {
		name    string
		breakIt func(*samtemplate.Template)
		want    string
	}{
		{"requests table deletable", func(tm *samtemplate.Template) {
			r := tm.Resources["RequestsTable"]
			r.DeletionPolicy = "Delete"
			tm.Resources["RequestsTable"] = r
		}, "RequestsTable: DeletionPolicy"},
		{"leads key deleted with the stack", func(tm *samtemplate.Template) {
			r := tm.Resources["LeadsKey"]
			r.UpdateReplacePolicy = ""
			tm.Resources["LeadsKey"] = r
		}, "LeadsKey: DeletionPolicy"},
		{"index table unprotected", func(tm *samtemplate.Template) {
			delete(tm.Resources["IndexTable"].Properties, "DeletionProtectionEnabled")
		}, "IndexTable: no deletion protection"},
		{"exports bucket allows HTTP", func(tm *samtemplate.Template) { delete(tm.Resources, "ExportsBucketPolicy") }, "ExportsBucket: its bucket policy"},
		{"leads bucket under S3's key", func(tm *samtemplate.Template) {
			tm.Resources["LeadsBucket"].Properties["BucketEncryption"] = map[string]any{}
		}, "LeadsBucket: not SSE-KMS"},
		{"work bucket keeps abandoned uploads", func(tm *samtemplate.Template) {
			tm.Resources["IndexWorkBucket"].Properties["LifecycleConfiguration"] = map[string]any{}
		}, "IndexWorkBucket: no AbortIncompleteMultipartUpload"},
		{"anchors under governance", func(tm *samtemplate.Template) {
			tm.Resources["AuditAnchorBucket"].Properties["ObjectLockConfiguration"] = map[string]any{"ObjectLockEnabled": "Enabled",
				"Rule": map[string]any{"DefaultRetention": map[string]any{"Mode": "GOVERNANCE", "Days": 731}}}
		}, "AuditAnchorBucket: not versioned under Object Lock COMPLIANCE"},
		{"anchors kept a year", func(tm *samtemplate.Template) {
			asMap(asMap(tm.Resources["AuditAnchorBucket"].Properties["ObjectLockConfiguration"])["Rule"])["DefaultRetention"] = map[string]any{"Mode": "COMPLIANCE", "Days": 365}
		}, "AuditAnchorBucket: not versioned under Object Lock COMPLIANCE"},
		{"anchors deleted with the stack", func(tm *samtemplate.Template) {
			r := tm.Resources["AuditAnchorBucket"]
			r.DeletionPolicy = ""
			tm.Resources["AuditAnchorBucket"] = r
		}, "AuditAnchorBucket: DeletionPolicy"},
		{"search logs forever", func(tm *samtemplate.Template) {
			delete(tm.Resources["SearchFunction"].Properties, "LoggingConfig")
		}, "SearchFunction: no log group"},
		{"export errors unwatched", func(tm *samtemplate.Template) { delete(tm.Resources, "ExportFunctionErrorsAlarm") }, "ExportFunction: no Errors alarm"},
		{"backfill failures unwatched", func(tm *samtemplate.Template) { delete(tm.Resources, "BackfillStateMachineFailedAlarm") }, "BackfillStateMachine: no ExecutionsFailed"},
		{"MFA optional", func(tm *samtemplate.Template) { tm.Resources["UserPool"].Properties["MfaConfiguration"] = "OPTIONAL" }, "UserPool: MfaConfiguration"},
		{"access log with query strings", func(tm *samtemplate.Template) {
			tm.Resources["HttpApi"].Properties["AccessLogSettings"] = map[string]any{"Format": `{"q":"$request.querystring.token"}`}
		}, "the access log records querystring"},
		{"status route unthrottled", func(tm *samtemplate.Template) {
			delete(tm.Resources["HttpApi"].Properties["RouteSettings"].(map[string]any), "GET /requests/{id}/status")
		}, "anonymous route GET /requests/{id}/status"},
		{"intake unreserved", func(tm *samtemplate.Template) {
			delete(tm.Resources["IntakeFunction"].Properties, "ReservedConcurrentExecutions")
		}, "IntakeFunction: no reserved concurrency"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := loadTemplate(t) // a fresh parse: the cases never share state
			tc.breakIt(tmpl)
			problems := hardeningProblems(tmpl)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("problems = %q, want one containing %q", problems, tc.want)
			}
		})
	}
}

// TestPseudonymizeTimeoutIsRetried: a Lambda timeout reaches Step
// Functions as Sandbox.Timedout (Lambda.Unknown on older runtimes: "Handle
// Lambda service exceptions", Step Functions Developer Guide); an erasure
// job resumes where it stopped, so the workflow tries it again rather than
// failing the request.
func TestPseudonymizeTimeoutIsRetried(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(stacktest.Root(t), "statemachine", "privacy_request.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		States map[string]struct {
			Retry []struct {
				ErrorEquals []string
				MaxAttempts *int
			}
		}
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Sandbox.Timedout", "Lambda.Unknown"} {
		retried := false
		for _, r := range def.States["Pseudonymize"].Retry {
			if slices.Contains(r.ErrorEquals, name) && (r.MaxAttempts == nil || *r.MaxAttempts > 0) {
				retried = true
			}
		}
		if !retried {
			t.Errorf("Pseudonymize does not retry %s", name)
		}
	}
}
