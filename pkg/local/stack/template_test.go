package stack_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/pkg/lambdafn/intake"
	"github.com/veil-privacy/veil/pkg/local/stack"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/samtemplate"
)

func loadTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Load(filepath.Join(stacktest.Root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestTemplateReferencesResolve(t *testing.T) {
	for _, err := range loadTemplate(t).CheckReferences() {
		t.Error(err)
	}
}

// TestTemplateFunctionsBuild: every function is built by a Makefile target
// sam build can call, that target's package compiles, the local stack knows
// the function, and it has a sample event.
func TestTemplateFunctionsBuild(t *testing.T) {
	root := stacktest.Root(t)
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	fns := loadTemplate(t).Functions()
	if len(fns) != len(stack.Builders) {
		t.Errorf("template has %d functions, stack.Builders %d", len(fns), len(stack.Builders))
	}
	for _, f := range fns {
		t.Run(f.LogicalID, func(t *testing.T) {
			if f.BuildMethod != "makefile" || f.CodeURI != "." || f.Handler != "bootstrap" {
				t.Fatalf("BuildMethod/CodeUri/Handler = %s/%s/%s, want makefile/./bootstrap", f.BuildMethod, f.CodeURI, f.Handler)
			}
			target := regexp.MustCompile(`(?m)^build-` + f.LogicalID + `:.*$`)
			if !target.Match(makefile) {
				t.Fatalf("Makefile has no build-%s target", f.LogicalID)
			}
			name := strings.ToLower(strings.TrimSuffix(f.LogicalID, "Function"))
			pkg := "./functions/" + name
			cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", os.DevNull, pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build %s: %v\n%s", pkg, err, out)
			}
			if _, ok := stack.Builders[f.LogicalID]; !ok {
				t.Fatalf("stack.Builders lacks %s", f.LogicalID)
			}
			samples, _ := filepath.Glob(filepath.Join(root, "events", name, "*.json"))
			if len(samples) == 0 {
				t.Fatalf("no sample event under events/%s/", name)
			}
			if props := loadTemplate(t).Resources[f.LogicalID].Properties; props["Policies"] == nil {
				t.Fatalf("%s has no Policies: every function gets least-privilege policies", f.LogicalID)
			}
		})
	}
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// TestStateMachineSubstitutions: each DefinitionUri exists and its
// placeholders and the DefinitionSubstitutions name the same set.
func TestStateMachineSubstitutions(t *testing.T) {
	tmpl := loadTemplate(t)
	ids := tmpl.OfType("AWS::Serverless::StateMachine")
	if len(ids) == 0 {
		t.Fatal("no state machine in template.yaml")
	}
	for _, id := range ids {
		props := tmpl.Resources[id].Properties
		uri, _ := props["DefinitionUri"].(string)
		def, err := os.ReadFile(filepath.Join(stacktest.Root(t), uri))
		if err != nil {
			t.Fatalf("%s DefinitionUri: %v", id, err)
		}
		used := map[string]bool{}
		for _, m := range placeholder.FindAllStringSubmatch(string(def), -1) {
			used[m[1]] = true
		}
		subs, _ := props["DefinitionSubstitutions"].(map[string]any)
		var missing, unused []string
		for name := range used {
			if _, ok := subs[name]; !ok {
				missing = append(missing, name)
			}
		}
		for name := range subs {
			if !used[name] {
				unused = append(unused, name)
			}
		}
		sort.Strings(missing)
		sort.Strings(unused)
		if len(missing)+len(unused) > 0 {
			t.Errorf("%s: placeholders without substitution %v, substitutions never used %v", id, missing, unused)
		}
	}
}

// TestRoutesMatchIntake: the API routes in template.yaml and the routes
// IntakeFunction serves are the same set.
func TestRoutesMatchIntake(t *testing.T) {
	served := intake.New(intake.Config{}, nil).RouteKeys()
	declared := map[string]bool{}
	for _, rt := range loadTemplate(t).Routes() {
		key := rt.Method + " " + rt.Path
		declared[key] = true
		if rt.Function != "IntakeFunction" {
			continue
		}
		roles, ok := served[key]
		if !ok {
			t.Errorf("template routes %s to IntakeFunction, which does not serve it", key)
		}
		if public := rt.Authorizer == "NONE"; public != (len(roles) == 0) {
			t.Errorf("%s: template authorizer %q but intake roles %v", key, rt.Authorizer, roles)
		}
	}
	for key := range served {
		if !declared[key] {
			t.Errorf("IntakeFunction serves %s, which template.yaml does not route", key)
		}
	}
}

// The index path's production settings tie together: IndexFunction's time
// and memory, the queue that feeds it and its dead letters, the alarms on
// both and the encrypted topic they publish to. Each check is a function of
// the template, so that TestIndexPathChecksCatchBreakage can show it fails on
// a template broken the way it guards against.

const (
	indexFunctionID = "IndexFunction"
	alarmTopicID    = "AlarmTopic"
	// lambdaMaxTimeout is Lambda's longest Timeout, in seconds.
	lambdaMaxTimeout = 900
	// oneVCPUMemory is the MemorySize (MB) at which a function gets one vCPU.
	oneVCPUMemory = 1769
)

type indexCheck struct {
	name  string
	check func(*samtemplate.Template) error
	// breaks edit a parsed template in ways the check must catch.
	breaks map[string]func(*samtemplate.Template)
}

var indexChecks = []indexCheck{
	{
		name: "IndexFunction Timeout is Lambda's maximum",
		check: func(tpl *samtemplate.Template) error {
			n, err := indexTimeout(tpl)
			if err != nil {
				return err
			}
			if n != lambdaMaxTimeout {
				return fmt.Errorf("IndexFunction Timeout = %d, want %d", n, lambdaMaxTimeout)
			}
			return nil
		},
		breaks: map[string]func(*samtemplate.Template){
			"Timeout 150": func(tpl *samtemplate.Template) { props(tpl, indexFunctionID)["Timeout"] = 150 },
			"no Timeout":  func(tpl *samtemplate.Template) { delete(props(tpl, indexFunctionID), "Timeout") },
		},
	},
	{
		name: "IndexFunction has a full vCPU",
		check: func(tpl *samtemplate.Template) error {
			v := props(tpl, indexFunctionID)["MemorySize"]
			if v == nil {
				v = asMap(tpl.Globals["Function"])["MemorySize"]
			}
			n, err := intOf(tpl, v)
			if err != nil {
				return fmt.Errorf("IndexFunction MemorySize: %w", err)
			}
			if n < oneVCPUMemory {
				return fmt.Errorf("IndexFunction MemorySize = %d, want at least %d (one vCPU)", n, oneVCPUMemory)
			}
			return nil
		},
		breaks: map[string]func(*samtemplate.Template){
			"Globals' 512 MB": func(tpl *samtemplate.Template) { delete(props(tpl, indexFunctionID), "MemorySize") },
			"1024 MB":         func(tpl *samtemplate.Template) { props(tpl, indexFunctionID)["MemorySize"] = 1024 },
		},
	},
	{
		name: "index queue VisibilityTimeout is at least 6 x IndexFunction Timeout",
		check: func(tpl *samtemplate.Template) error {
			timeout, err := indexTimeout(tpl)
			if err != nil {
				return err
			}
			id, q, err := indexQueue(tpl)
			if err != nil {
				return err
			}
			vis, err := intOf(tpl, q["VisibilityTimeout"])
			if err != nil {
				return fmt.Errorf("%s VisibilityTimeout (SQS's default is 30 s): %w", id, err)
			}
			if vis < 6*timeout || vis > 43200 {
				return fmt.Errorf("%s VisibilityTimeout = %d, want from 6 x %d = %d to SQS's maximum 43200", id, vis, timeout, 6*timeout)
			}
			return nil
		},
		breaks: map[string]func(*samtemplate.Template){
			"the old 900": func(tpl *samtemplate.Template) { props(tpl, "IndexQueue")["VisibilityTimeout"] = 900 },
			"one short": func(tpl *samtemplate.Template) {
				props(tpl, "IndexQueue")["VisibilityTimeout"] = 6*lambdaMaxTimeout - 1
			},
			"unset": func(tpl *samtemplate.Template) { delete(props(tpl, "IndexQueue"), "VisibilityTimeout") },
			"a parameter defaulting short": func(tpl *samtemplate.Template) {
				tpl.Parameters["IndexQueueVisibility"] = samtemplate.Parameter{Type: "Number", Default: 3600}
				props(tpl, "IndexQueue")["VisibilityTimeout"] = map[string]any{"Ref": "IndexQueueVisibility"}
			},
		},
	},
	{
		name: "index queue keeps its dead-letter queue",
		check: func(tpl *samtemplate.Template) error {
			id, q, err := indexQueue(tpl)
			if err != nil {
				return err
			}
			rp := asMap(q["RedrivePolicy"])
			if dlq := target(rp["deadLetterTargetArn"]); tpl.Resources[dlq].Type != "AWS::SQS::Queue" {
				return fmt.Errorf("%s RedrivePolicy deadLetterTargetArn = %v, want a queue of the template", id, rp["deadLetterTargetArn"])
			}
			if n, err := intOf(tpl, rp["maxReceiveCount"]); err != nil || n < 1 {
				return fmt.Errorf("%s RedrivePolicy maxReceiveCount = %v (%v), want at least 1", id, rp["maxReceiveCount"], err)
			}
			return nil
		},
		breaks: map[string]func(*samtemplate.Template){
			"no RedrivePolicy": func(tpl *samtemplate.Template) { delete(props(tpl, "IndexQueue"), "RedrivePolicy") },
			"no maxReceiveCount": func(tpl *samtemplate.Template) {
				delete(asMap(props(tpl, "IndexQueue")["RedrivePolicy"]), "maxReceiveCount")
			},
			"a literal queue ARN": func(tpl *samtemplate.Template) {
				asMap(props(tpl, "IndexQueue")["RedrivePolicy"])["deadLetterTargetArn"] = "arn:aws:sqs:us-east-1:1:x"
			},
		},
	},
	{
		name: "index queue event source caps its concurrency",
		check: func(tpl *samtemplate.Template) error {
			e, err := indexEvent(tpl)
			if err != nil {
				return err
			}
			n, err := intOf(tpl, asMap(e.Properties["ScalingConfig"])["MaximumConcurrency"])
			if err != nil {
				return fmt.Errorf("IndexFunction event %s ScalingConfig.MaximumConcurrency: %w", e.Name, err)
			}
			if n < 2 || n > 1000 {
				return fmt.Errorf("IndexFunction event %s ScalingConfig.MaximumConcurrency = %d, want 2 to 1000", e.Name, n)
			}
			return nil
		},
		breaks: map[string]func(*samtemplate.Template){
			"no ScalingConfig": func(tpl *samtemplate.Template) {
				delete(asMap(asMap(asMap(props(tpl, indexFunctionID)["Events"])["LeadsChanged"])["Properties"]), "ScalingConfig")
			},
			"parameter default 1": func(tpl *samtemplate.Template) {
				tpl.Parameters["IndexMaxConcurrency"] = samtemplate.Parameter{Type: "Number", Default: 1}
			},
		},
	},
	{
		name: "IndexFunction reads INDEX_WRITERS and INDEX_CHUNK_BYTES",
		check: func(tpl *samtemplate.Template) error {
			f, err := indexFunction(tpl)
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range []string{"INDEX_WRITERS", "INDEX_CHUNK_BYTES"} {
				if n, err := intOf(tpl, f.Environment[name]); err != nil || n < 1 {
					errs = append(errs, fmt.Errorf("IndexFunction %s = %v (%v), want a positive integer", name, f.Environment[name], err))
				}
			}
			return errors.Join(errs...)
		},
		breaks: map[string]func(*samtemplate.Template){
			"no INDEX_WRITERS": func(tpl *samtemplate.Template) { delete(indexEnv(tpl), "INDEX_WRITERS") },
			"chunk bytes text": func(tpl *samtemplate.Template) { indexEnv(tpl)["INDEX_CHUNK_BYTES"] = "64MiB" },
			"zero writers": func(tpl *samtemplate.Template) {
				tpl.Parameters["IndexWriters"] = samtemplate.Parameter{Type: "Number", Default: 0}
			},
		},
	},
	{
		name: "alarm on IndexFunction Errors",
		check: func(tpl *samtemplate.Template) error {
			return checkAnyAlarm(tpl, "AWS/Lambda", "Errors", "FunctionName", indexFunctionID)
		},
		breaks: alarmBreaks("AWS/Lambda", "Errors"),
	},
	{
		name: "alarm on IndexFunction Throttles",
		check: func(tpl *samtemplate.Template) error {
			return checkAnyAlarm(tpl, "AWS/Lambda", "Throttles", "FunctionName", indexFunctionID)
		},
		breaks: alarmBreaks("AWS/Lambda", "Throttles"),
	},
	{
		name: "alarm on the index dead-letter queue",
		check: func(tpl *samtemplate.Template) error {
			_, q, err := indexQueue(tpl)
			if err != nil {
				return err
			}
			dlq := target(asMap(q["RedrivePolicy"])["deadLetterTargetArn"])
			return checkAnyAlarm(tpl, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlq)
		},
		breaks: alarmBreaks("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
	},
	{
		name: "alarm on the index queue's oldest message, between Timeout and VisibilityTimeout",
		check: func(tpl *samtemplate.Template) error {
			timeout, err := indexTimeout(tpl)
			if err != nil {
				return err
			}
			queue, q, err := indexQueue(tpl)
			if err != nil {
				return err
			}
			vis, _ := intOf(tpl, q["VisibilityTimeout"])
			id, p, err := alarmOn(tpl, "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue)
			if err != nil {
				return err
			}
			// Below Timeout a healthy long invocation alarms; at or past
			// VisibilityTimeout a retried message goes unnoticed.
			threshold, err := intOf(tpl, p["Threshold"])
			if err != nil || threshold < timeout || threshold >= vis || str(p["ComparisonOperator"]) != "GreaterThanThreshold" {
				return fmt.Errorf("%s %v %v (%v), want GreaterThanThreshold from IndexFunction Timeout %d to below VisibilityTimeout %d",
					id, p["ComparisonOperator"], p["Threshold"], err, timeout, vis)
			}
			return publishesToAlarmTopic(tpl, id)
		},
		breaks: map[string]func(*samtemplate.Template){
			"threshold a minute": func(tpl *samtemplate.Template) {
				tpl.Parameters["IndexBacklogAlarmSeconds"] = samtemplate.Parameter{Type: "Number", Default: 60}
			},
			"threshold past VisibilityTimeout": func(tpl *samtemplate.Template) {
				props(tpl, findAlarm(tpl, "AWS/SQS", "ApproximateAgeOfOldestMessage"))["Threshold"] = 6 * lambdaMaxTimeout
			},
			"on the dead-letter queue": func(tpl *samtemplate.Template) {
				dims := props(tpl, findAlarm(tpl, "AWS/SQS", "ApproximateAgeOfOldestMessage"))["Dimensions"].([]any)
				asMap(dims[0])["Value"] = map[string]any{"Fn::GetAtt": []any{"IndexDeadLetterQueue", "QueueName"}}
			},
			"no actions": func(tpl *samtemplate.Template) {
				delete(props(tpl, findAlarm(tpl, "AWS/SQS", "ApproximateAgeOfOldestMessage")), "AlarmActions")
			},
			"removed": func(tpl *samtemplate.Template) {
				delete(tpl.Resources, findAlarm(tpl, "AWS/SQS", "ApproximateAgeOfOldestMessage"))
			},
		},
	},
	{
		name: "alarm on IndexFunction Duration before its Timeout",
		check: func(tpl *samtemplate.Template) error {
			timeout, err := indexTimeout(tpl)
			if err != nil {
				return err
			}
			id, p, err := alarmOn(tpl, "AWS/Lambda", "Duration", "FunctionName", indexFunctionID)
			if err != nil {
				return err
			}
			// Duration is in milliseconds; at the Timeout the invocation
			// has already failed and the Errors alarm says so.
			ms, err := intOf(tpl, p["Threshold"])
			if err != nil || ms <= 0 || ms >= timeout*1000 {
				return fmt.Errorf("%s Threshold = %v (%v), want milliseconds below IndexFunction Timeout %d s", id, p["Threshold"], err, timeout)
			}
			return publishesToAlarmTopic(tpl, id)
		},
		breaks: map[string]func(*samtemplate.Template){
			"threshold at the Timeout": func(tpl *samtemplate.Template) {
				props(tpl, findAlarm(tpl, "AWS/Lambda", "Duration"))["Threshold"] = 900000
			},
			"removed": func(tpl *samtemplate.Template) { delete(tpl.Resources, findAlarm(tpl, "AWS/Lambda", "Duration")) },
		},
	},
	{
		name: "every alarm publishes to the alarm topic",
		check: func(tpl *samtemplate.Template) error {
			ids := tpl.OfType("AWS::CloudWatch::Alarm")
			if len(ids) == 0 {
				return errors.New("no AWS::CloudWatch::Alarm")
			}
			var errs []error
			for _, id := range ids {
				errs = append(errs, publishesToAlarmTopic(tpl, id))
			}
			return errors.Join(errs...)
		},
		breaks: map[string]func(*samtemplate.Template){
			"a silent alarm": func(tpl *samtemplate.Template) {
				tpl.Resources["SilentAlarm"] = samtemplate.Resource{Type: "AWS::CloudWatch::Alarm", Properties: map[string]any{}}
			},
			"an alarm to another topic": func(tpl *samtemplate.Template) {
				props(tpl, "FailedExecutionsAlarm")["AlarmActions"] = []any{map[string]any{"Ref": "OtherTopic"}}
			},
		},
	},
	{
		name:  "alarm topic is encrypted with a key CloudWatch may use",
		check: checkAlarmTopicKey,
		breaks: map[string]func(*samtemplate.Template){
			"alias/aws/sns": func(tpl *samtemplate.Template) { props(tpl, alarmTopicID)["KmsMasterKeyId"] = "alias/aws/sns" },
			"unencrypted":   func(tpl *samtemplate.Template) { delete(props(tpl, alarmTopicID), "KmsMasterKeyId") },
			"the exports key, which grants CloudWatch nothing": func(tpl *samtemplate.Template) {
				props(tpl, alarmTopicID)["KmsMasterKeyId"] = map[string]any{"Fn::GetAtt": []any{"ExportsKey", "Arn"}}
			},
			"Decrypt only": func(tpl *samtemplate.Template) {
				cloudWatchStatement(tpl)["Action"] = "kms:Decrypt"
			},
			"a Deny": func(tpl *samtemplate.Template) { cloudWatchStatement(tpl)["Effect"] = "Deny" },
			"another service": func(tpl *samtemplate.Template) {
				cloudWatchStatement(tpl)["Principal"] = map[string]any{"Service": "events.amazonaws.com"}
			},
			"no account administrator": func(tpl *samtemplate.Template) {
				policy := asMap(props(tpl, "AlarmTopicKey")["KeyPolicy"])
				policy["Statement"] = []any{cloudWatchStatement(tpl)}
			},
			"no rotation": func(tpl *samtemplate.Template) { props(tpl, "AlarmTopicKey")["EnableKeyRotation"] = false },
		},
	},
	{
		name:  "alarm topic policy lets this account's CloudWatch publish",
		check: checkAlarmTopicPolicy,
		breaks: map[string]func(*samtemplate.Template){
			"no topic policy": func(tpl *samtemplate.Template) {
				for _, id := range tpl.OfType("AWS::SNS::TopicPolicy") {
					delete(tpl.Resources, id)
				}
			},
			"no confused-deputy condition": func(tpl *samtemplate.Template) {
				for _, id := range tpl.OfType("AWS::SNS::TopicPolicy") {
					for _, st := range asMap(props(tpl, id)["PolicyDocument"])["Statement"].([]any) {
						delete(asMap(st), "Condition")
					}
				}
			},
		},
	},
	{
		name: "alarm topic ARN is an output",
		check: func(tpl *samtemplate.Template) error {
			for _, o := range tpl.Outputs {
				if target(asMap(o)["Value"]) == alarmTopicID {
					return nil
				}
			}
			return fmt.Errorf("no output's Value refers to %s", alarmTopicID)
		},
		breaks: map[string]func(*samtemplate.Template){
			"removed": func(tpl *samtemplate.Template) { delete(tpl.Outputs, "AlarmTopicArn") },
		},
	},
}

// TestIndexPathTemplate checks the real template.yaml's index path.
func TestIndexPathTemplate(t *testing.T) {
	for _, c := range indexChecks {
		t.Run(c.name, func(t *testing.T) {
			if err := c.check(loadTemplate(t)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestIndexPathChecksCatchBreakage: every check of TestIndexPathTemplate
// fails on the real template broken the ways it guards against.
func TestIndexPathChecksCatchBreakage(t *testing.T) {
	for _, c := range indexChecks {
		if len(c.breaks) == 0 {
			t.Errorf("check %q has no breakage to catch", c.name)
		}
		for name, brk := range c.breaks {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				tpl := loadTemplate(t)
				brk(tpl)
				if err := c.check(tpl); err == nil {
					t.Fatalf("check = nil on a template with %s, want an error", name)
				}
			})
		}
	}
}

func checkAnyAlarm(tpl *samtemplate.Template, namespace, metric, dimension, of string) error {
	id, p, err := alarmOn(tpl, namespace, metric, dimension, of)
	if err != nil {
		return err
	}
	if n, err := intOf(tpl, p["Threshold"]); err != nil || n != 0 || str(p["ComparisonOperator"]) != "GreaterThanThreshold" {
		return fmt.Errorf("%s %v %v, want GreaterThanThreshold 0", id, p["ComparisonOperator"], p["Threshold"])
	}
	return publishesToAlarmTopic(tpl, id)
}

// alarmBreaks are the breakages every "any one is too many" alarm must
// catch.
func alarmBreaks(namespace, metric string) map[string]func(*samtemplate.Template) {
	alarm := func(tpl *samtemplate.Template) map[string]any { return props(tpl, findAlarm(tpl, namespace, metric)) }
	return map[string]func(*samtemplate.Template){
		"removed":        func(tpl *samtemplate.Template) { delete(tpl.Resources, findAlarm(tpl, namespace, metric)) },
		"another metric": func(tpl *samtemplate.Template) { alarm(tpl)["MetricName"] = "Invocations" },
		"threshold 5":    func(tpl *samtemplate.Template) { alarm(tpl)["Threshold"] = 5 },
		"no actions":     func(tpl *samtemplate.Template) { alarm(tpl)["AlarmActions"] = []any{} },
		"another topic": func(tpl *samtemplate.Template) {
			alarm(tpl)["AlarmActions"] = []any{map[string]any{"Ref": "OtherTopic"}}
		},
		"OK to elsewhere": func(tpl *samtemplate.Template) { alarm(tpl)["OKActions"] = []any{"arn:aws:sns:us-east-1:1:x"} },
		"no dimension":    func(tpl *samtemplate.Template) { delete(alarm(tpl), "Dimensions") },
	}
}

func checkAlarmTopicKey(tpl *samtemplate.Template) error {
	kms := props(tpl, alarmTopicID)["KmsMasterKeyId"]
	key := target(kms)
	if tpl.Resources[key].Type == "AWS::KMS::Alias" {
		key = target(props(tpl, key)["TargetKeyId"])
	}
	if tpl.Resources[key].Type != "AWS::KMS::Key" {
		return fmt.Errorf("%s KmsMasterKeyId = %#v, want a reference to a customer-managed AWS::KMS::Key (CloudWatch cannot use alias/aws/sns)", alarmTopicID, kms)
	}
	p := props(tpl, key)
	if p["EnableKeyRotation"] != true {
		return fmt.Errorf("%s EnableKeyRotation = %v, want true", key, p["EnableKeyRotation"])
	}
	root := fmt.Sprintf("arn:aws:iam::%s:root", stack.AccountID)
	var admin, cloudWatch bool
	for _, v := range asSlice(asMap(p["KeyPolicy"])["Statement"]) {
		st := asMap(v)
		if st["Effect"] != "Allow" {
			continue
		}
		principal := asMap(st["Principal"])
		if aws, err := resolver(tpl).Value(principal["AWS"]); err == nil && contains(strs(aws), root) && allows(st, "kms:*") {
			admin = true
		}
		if contains(strs(principal["Service"]), "cloudwatch.amazonaws.com") && allows(st, "kms:Decrypt") && allows(st, "kms:GenerateDataKey*") {
			cloudWatch = true
		}
	}
	if !admin {
		return fmt.Errorf("%s KeyPolicy: no statement lets %s administer the key (kms:*)", key, root)
	}
	if !cloudWatch {
		return fmt.Errorf("%s KeyPolicy: no statement allows cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*", key)
	}
	return nil
}

func checkAlarmTopicPolicy(tpl *samtemplate.Template) error {
	for _, id := range tpl.OfType("AWS::SNS::TopicPolicy") {
		p := props(tpl, id)
		var ofTopic bool
		for _, v := range asSlice(p["Topics"]) {
			ofTopic = ofTopic || target(v) == alarmTopicID
		}
		if !ofTopic {
			continue
		}
		for _, v := range asSlice(asMap(p["PolicyDocument"])["Statement"]) {
			st := asMap(v)
			cond := asMap(st["Condition"])
			// Without aws:SourceAccount or aws:SourceArn any account's
			// alarms could publish through CloudWatch.
			scoped := asMap(cond["StringEquals"])["aws:SourceAccount"] != nil || asMap(cond["ArnLike"])["aws:SourceArn"] != nil
			if st["Effect"] == "Allow" && contains(strs(asMap(st["Principal"])["Service"]), "cloudwatch.amazonaws.com") &&
				allows(st, "sns:Publish") && scoped {
				return nil
			}
		}
	}
	return fmt.Errorf("no AWS::SNS::TopicPolicy of %s allows cloudwatch.amazonaws.com sns:Publish on condition of this account's alarms", alarmTopicID)
}

// publishesToAlarmTopic checks that alarm id's AlarmActions, and its
// OKActions if any, all go to the alarm topic.
func publishesToAlarmTopic(tpl *samtemplate.Template, id string) error {
	p := props(tpl, id)
	actions := asSlice(p["AlarmActions"])
	if len(actions) == 0 {
		return fmt.Errorf("%s has no AlarmActions, want %s", id, alarmTopicID)
	}
	for _, v := range append(actions, asSlice(p["OKActions"])...) {
		if target(v) != alarmTopicID {
			return fmt.Errorf("%s publishes to %#v, want %s", id, v, alarmTopicID)
		}
	}
	if tpl.Resources[alarmTopicID].Type != "AWS::SNS::Topic" {
		return fmt.Errorf("%s is not an AWS::SNS::Topic", alarmTopicID)
	}
	return nil
}

// alarmOn returns the alarm on metric of namespace whose dimension refers to
// resource of.
func alarmOn(tpl *samtemplate.Template, namespace, metric, dimension, of string) (string, map[string]any, error) {
	for _, id := range tpl.OfType("AWS::CloudWatch::Alarm") {
		p := props(tpl, id)
		if str(p["Namespace"]) != namespace || str(p["MetricName"]) != metric {
			continue
		}
		for _, d := range asSlice(p["Dimensions"]) {
			if str(asMap(d)["Name"]) == dimension && target(asMap(d)["Value"]) == of {
				return id, p, nil
			}
		}
	}
	return "", nil, fmt.Errorf("no AWS::CloudWatch::Alarm on %s %s with %s of %s", namespace, metric, dimension, of)
}

// findAlarm returns the first alarm on metric of namespace, for breakages.
func findAlarm(tpl *samtemplate.Template, namespace, metric string) string {
	for _, id := range tpl.OfType("AWS::CloudWatch::Alarm") {
		if p := props(tpl, id); str(p["Namespace"]) == namespace && str(p["MetricName"]) == metric {
			return id
		}
	}
	return "NoSuchAlarm"
}

// cloudWatchStatement returns AlarmTopicKey's statement for CloudWatch, for
// breakages.
func cloudWatchStatement(tpl *samtemplate.Template) map[string]any {
	for _, v := range asSlice(asMap(props(tpl, "AlarmTopicKey")["KeyPolicy"])["Statement"]) {
		if st := asMap(v); contains(strs(asMap(st["Principal"])["Service"]), "cloudwatch.amazonaws.com") {
			return st
		}
	}
	return map[string]any{}
}

func indexFunction(tpl *samtemplate.Template) (samtemplate.Function, error) {
	for _, f := range tpl.Functions() {
		if f.LogicalID == indexFunctionID {
			return f, nil
		}
	}
	return samtemplate.Function{}, fmt.Errorf("no %s", indexFunctionID)
}

func indexEnv(tpl *samtemplate.Template) map[string]any {
	return asMap(asMap(props(tpl, indexFunctionID)["Environment"])["Variables"])
}

// indexTimeout returns IndexFunction's Timeout in seconds, its own or
// Globals'.
func indexTimeout(tpl *samtemplate.Template) (int, error) {
	v := props(tpl, indexFunctionID)["Timeout"]
	if v == nil {
		v = asMap(tpl.Globals["Function"])["Timeout"]
	}
	n, err := intOf(tpl, v)
	if err != nil {
		return 0, fmt.Errorf("IndexFunction Timeout: %w", err)
	}
	return n, nil
}

// indexEvent returns IndexFunction's one SQS event.
func indexEvent(tpl *samtemplate.Template) (samtemplate.Event, error) {
	f, err := indexFunction(tpl)
	if err != nil {
		return samtemplate.Event{}, err
	}
	var sqs []samtemplate.Event
	for _, e := range f.Events {
		if e.Type == "SQS" {
			sqs = append(sqs, e)
		}
	}
	if len(sqs) != 1 {
		return samtemplate.Event{}, fmt.Errorf("IndexFunction has %d SQS events, want 1", len(sqs))
	}
	return sqs[0], nil
}

// indexQueue returns the queue IndexFunction's SQS event reads.
func indexQueue(tpl *samtemplate.Template) (string, map[string]any, error) {
	e, err := indexEvent(tpl)
	if err != nil {
		return "", nil, err
	}
	id := target(e.Properties["Queue"])
	if tpl.Resources[id].Type != "AWS::SQS::Queue" {
		return "", nil, fmt.Errorf("IndexFunction event %s Queue = %v, want a queue of the template", e.Name, e.Properties["Queue"])
	}
	return id, props(tpl, id), nil
}

// resolver resolves parameters (their defaults) and pseudo parameters;
// resources resolve to their logical IDs.
func resolver(tpl *samtemplate.Template) *samtemplate.Resolver {
	r := &samtemplate.Resolver{Template: tpl, Refs: map[string]string{}, Attrs: map[string]string{}, Pseudo: map[string]string{
		"AWS::Region": stack.Region, "AWS::AccountId": stack.AccountID, "AWS::StackName": "veil", "AWS::Partition": "aws",
		"AWS::URLSuffix": "amazonaws.com",
	}}
	for id := range tpl.Resources {
		r.Refs[id] = id
	}
	return r
}

// intOf resolves v, a number or a reference to a parameter, to an integer.
func intOf(tpl *samtemplate.Template, v any) (int, error) {
	if v == nil {
		return 0, errors.New("not set")
	}
	s, err := resolver(tpl).String(v)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}

// target returns the logical ID v refers to through Ref or Fn::GetAtt, or "".
func target(v any) string {
	m := asMap(v)
	if len(m) != 1 {
		return ""
	}
	if id, ok := m["Ref"].(string); ok {
		return id
	}
	if parts := asSlice(m["Fn::GetAtt"]); len(parts) == 2 {
		return str(parts[0])
	}
	return ""
}

// allows reports whether statement st's Action covers action, IAM
// wildcards and case included.
func allows(st map[string]any, action string) bool {
	for _, a := range strs(st["Action"]) {
		if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(action)); ok {
			return true
		}
	}
	return false
}

// props returns the Properties of resource id (nil for none, which reads as
// empty).
func props(tpl *samtemplate.Template, id string) map[string]any {
	return tpl.Resources[id].Properties
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// strs reads a policy field that is one string or a list of them.
func strs(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	for _, x := range asSlice(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
