package asl

// Parsing and validating Amazon States Language definitions. Parse does all
// the checking AWS does at CreateStateMachine time that matters for running
// the machine: structure, transitions, field types, paths and intrinsics.

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// StateMachine is a parsed, validated definition, safe for concurrent use.
type StateMachine struct {
	source  string
	root    *branch
	scopes  map[string]*branch // "" is the root; "<state>#<i>" a Parallel branch or Map processor
	timeout int64              // TimeoutSeconds of the whole execution, 0 for none
	labels  map[string]bool    // Distributed Map labels, unique in a definition
}

type branch struct {
	scope   string
	startAt string
	states  map[string]*state
}

// optPath is InputPath or OutputPath: absent means "$", null means {}.
type optPath struct {
	null bool
	p    *path
}

// resultPath is ResultPath (or a Catcher's): absent means "$", null discards.
type resultPath struct {
	discard bool
	p       *path
}

type retrier struct {
	ErrorEquals []string
	Interval    float64
	MaxAttempts int
	Backoff     float64
	MaxDelay    float64 // 0 for no cap
	Jitter      bool
}

type catcher struct {
	errorEquals []string
	next        string
	resultPath  resultPath
}

type integration int

const (
	intNone         integration = iota
	intLambdaARN                // Resource is a Lambda function ARN
	intLambdaInvoke             // arn:aws:states:::lambda:invoke
)

type state struct {
	name, typ  string
	next       string
	end        bool
	inputPath  optPath
	outputPath optPath
	resultPath resultPath

	parameters, resultSelector, itemSelector *template
	result                                   any
	hasResult                                bool

	resource         string
	integration      integration
	waitForToken     bool
	timeoutSeconds   int64
	heartbeatSeconds int64
	timeoutPath      *path
	heartbeatPath    *path
	retry            []*retrier
	catch            []*catcher

	choices     []*choiceRule
	defaultNext string

	seconds       *int64
	timestamp     *time.Time
	secondsPath   *path
	timestampPath *path

	errorName, cause    string
	errorExpr, causeExp *expr

	branches           []*branch
	processor          *branch
	itemsPath          *path
	maxConcurrency     int64
	maxConcurrencyPath *path
	dist               *distributedMap // a Map state in DISTRIBUTED mode
	unsupported        string          // why this state cannot run locally, raised as States.Runtime
}

var commonFields = []string{"Type", "Comment", "QueryLanguage"}

var allowedFields = map[string][]string{
	"Pass":     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result"},
	"Task":     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Retry", "Catch", "Credentials"},
	"Choice":   {"InputPath", "OutputPath", "Choices", "Default"},
	"Wait":     {"Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
	"Succeed":  {"InputPath", "OutputPath"},
	"Fail":     {"Error", "Cause", "ErrorPath", "CausePath"},
	"Parallel": {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Branches", "Retry", "Catch"},
	"Map": {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ItemSelector", "ResultSelector", "ItemsPath", "MaxConcurrency", "MaxConcurrencyPath", "Iterator", "ItemProcessor", "ItemReader", "ItemBatcher", "ResultWriter",
		"ToleratedFailurePercentage", "ToleratedFailureCount", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath", "Label", "Retry", "Catch"},
}

// maxStateNameLen is AWS's limit on state names.
const maxStateNameLen = 80

// Parse parses and validates a definition. It returns *DefinitionError when
// the definition is not valid ASL or uses something the interpreter cannot
// run; it never panics, whatever the input.
func Parse(definition string) (*StateMachine, error) {
	v, err := decodeJSON([]byte(definition))
	if err != nil {
		return nil, &DefinitionError{Reason: "not valid JSON: " + err.Error()}
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, &DefinitionError{Reason: "the definition must be a JSON object"}
	}
	sm := &StateMachine{source: definition, scopes: map[string]*branch{}, labels: map[string]bool{}}
	for k, val := range top {
		switch k {
		case "StartAt", "States", "Comment", "Version":
		case "QueryLanguage":
			if val != "JSONPath" {
				return nil, &DefinitionError{Reason: "only the JSONPath query language is supported"}
			}
		case "TimeoutSeconds":
			n, ok := integer(val)
			if !ok || n <= 0 {
				return nil, &DefinitionError{Reason: "TimeoutSeconds must be a positive integer"}
			}
			sm.timeout = n
		default:
			return nil, &DefinitionError{Reason: fmt.Sprintf("the field %q is not supported at the top level", k)}
		}
	}
	names := map[string]bool{}
	root, err := parseBranch(top, "", sm, names)
	if err != nil {
		return nil, err
	}
	sm.root = root
	return sm, nil
}

// Definition returns the source text the machine was parsed from.
func (sm *StateMachine) Definition() string { return sm.source }

func parseBranch(m map[string]any, scope string, sm *StateMachine, names map[string]bool) (*branch, error) {
	owner := strings.SplitN(scope, "#", 2)[0]
	startAt, ok := m["StartAt"].(string)
	if !ok || startAt == "" {
		return nil, &DefinitionError{State: owner, Reason: "StartAt must be a non-empty string"}
	}
	statesObj, ok := m["States"].(map[string]any)
	if !ok || len(statesObj) == 0 {
		return nil, &DefinitionError{State: owner, Reason: "States must be a non-empty object"}
	}
	b := &branch{scope: scope, startAt: startAt, states: map[string]*state{}}
	sm.scopes[scope] = b
	for _, name := range sortedKeys(statesObj) {
		if names[name] {
			return nil, &DefinitionError{State: name, Reason: "state names must be unique within the state machine"}
		}
		names[name] = true
		if name == "" || len(name) > maxStateNameLen {
			return nil, &DefinitionError{State: name, Reason: fmt.Sprintf("state names must be 1 to %d characters", maxStateNameLen)}
		}
		sObj, ok := statesObj[name].(map[string]any)
		if !ok {
			return nil, &DefinitionError{State: name, Reason: "a state must be a JSON object"}
		}
		st, err := parseState(name, sObj, sm, names)
		if err != nil {
			return nil, err
		}
		b.states[name] = st
	}
	if _, ok := b.states[startAt]; !ok {
		return nil, &DefinitionError{State: owner, Reason: fmt.Sprintf("StartAt %q does not name a state", startAt)}
	}
	for _, name := range sortedKeys(statesObj) {
		st := b.states[name]
		targets := []string{st.next, st.defaultNext}
		for _, c := range st.catch {
			targets = append(targets, c.next)
		}
		for _, c := range st.choices {
			targets = append(targets, c.next)
		}
		for _, t := range targets {
			if t == "" {
				continue
			}
			if _, ok := b.states[t]; !ok {
				return nil, &DefinitionError{State: name, Reason: fmt.Sprintf("transition to %q, which is not a state of the same branch", t)}
			}
		}
	}
	return b, nil
}

func parseState(name string, m map[string]any, sm *StateMachine, names map[string]bool) (*state, error) {
	bad := func(format string, a ...any) error {
		return &DefinitionError{State: name, Reason: fmt.Sprintf(format, a...)}
	}
	typ, _ := m["Type"].(string)
	allowed, ok := allowedFields[typ]
	if !ok {
		return nil, bad("unknown state type %q", m["Type"])
	}
	for k := range m {
		if !slices.Contains(allowed, k) && !slices.Contains(commonFields, k) {
			return nil, bad("the field %q is not supported by a %s state", k, typ)
		}
	}
	if ql, ok := m["QueryLanguage"]; ok && ql != "JSONPath" {
		return nil, bad("only the JSONPath query language is supported")
	}
	st := &state{name: name, typ: typ}
	var err error

	// Transitions.
	_, hasNext := m["Next"]
	_, hasEnd := m["End"]
	if slices.Contains(allowed, "Next") {
		if hasNext {
			if st.next, ok = m["Next"].(string); !ok || st.next == "" {
				return nil, bad("Next must be a non-empty string")
			}
		}
		if hasEnd {
			if st.end, ok = m["End"].(bool); !ok || !st.end {
				return nil, bad("End must be true when present")
			}
		}
		if hasNext == hasEnd {
			return nil, bad("a %s state must have exactly one of Next and End", typ)
		}
	}

	// Paths.
	if st.inputPath, err = parseOptPath(m, "InputPath"); err != nil {
		return nil, bad("%v", err)
	}
	if st.outputPath, err = parseOptPath(m, "OutputPath"); err != nil {
		return nil, bad("%v", err)
	}
	if st.resultPath, err = parseResultPath(m, "ResultPath"); err != nil {
		return nil, bad("%v", err)
	}
	for _, f := range []struct {
		key string
		dst **template
	}{{"Parameters", &st.parameters}, {"ResultSelector", &st.resultSelector}, {"ItemSelector", &st.itemSelector}} {
		v, ok := m[f.key]
		if !ok {
			continue
		}
		if _, isObj := v.(map[string]any); !isObj && f.key != "Parameters" {
			return nil, bad("%s must be an object", f.key)
		}
		if *f.dst, err = compileTemplate(v, f.key); err != nil {
			return nil, bad("%v", err)
		}
	}
	if v, ok := m["Result"]; ok {
		st.result, st.hasResult = v, true
	}

	// Errors.
	if st.retry, err = parseRetry(m["Retry"]); err != nil {
		return nil, bad("Retry: %v", err)
	}
	if st.catch, err = parseCatch(m["Catch"]); err != nil {
		return nil, bad("Catch: %v", err)
	}

	switch typ {
	case "Task":
		err = parseTask(st, m)
	case "Choice":
		err = parseChoiceState(st, m)
	case "Wait":
		err = parseWait(st, m)
	case "Fail":
		err = parseFail(st, m)
	case "Parallel":
		list, ok := m["Branches"].([]any)
		if !ok || len(list) == 0 {
			return nil, bad("Branches must be a non-empty array")
		}
		for i, e := range list {
			bm, ok := e.(map[string]any)
			if !ok {
				return nil, bad("Branches[%d] must be an object", i)
			}
			for k := range bm {
				if k != "StartAt" && k != "States" && k != "Comment" && k != "QueryLanguage" {
					return nil, bad("Branches[%d]: the field %q is not supported", i, k)
				}
			}
			b, err := parseBranch(bm, fmt.Sprintf("%s#%d", name, i), sm, names)
			if err != nil {
				return nil, err
			}
			st.branches = append(st.branches, b)
		}
	case "Map":
		err = parseMap(st, m, sm, names)
	}
	if err != nil {
		var de *DefinitionError
		if asDefinitionError(err, &de) {
			return nil, err
		}
		return nil, bad("%v", err)
	}
	return st, nil
}

func asDefinitionError(err error, target **DefinitionError) bool {
	de, ok := err.(*DefinitionError)
	if ok {
		*target = de
	}
	return ok
}

func parseOptPath(m map[string]any, key string) (optPath, error) {
	v, ok := m[key]
	if !ok {
		return optPath{}, nil
	}
	if v == nil {
		return optPath{null: true}, nil
	}
	s, ok := v.(string)
	if !ok {
		return optPath{}, fmt.Errorf("%s must be a string or null", key)
	}
	p, err := parsePath(s)
	if err != nil {
		return optPath{}, fmt.Errorf("%s: %w", key, err)
	}
	if p.context {
		return optPath{}, fmt.Errorf("%s cannot refer to the context object", key)
	}
	return optPath{p: p}, nil
}

func parseResultPath(m map[string]any, key string) (resultPath, error) {
	v, ok := m[key]
	if !ok {
		return resultPath{}, nil
	}
	if v == nil {
		return resultPath{discard: true}, nil
	}
	s, ok := v.(string)
	if !ok {
		return resultPath{}, fmt.Errorf("%s must be a string or null", key)
	}
	p, err := parseReferencePath(s)
	if err != nil {
		return resultPath{}, fmt.Errorf("%s: %w", key, err)
	}
	if p.context {
		return resultPath{}, fmt.Errorf("%s cannot refer to the context object", key)
	}
	return resultPath{p: p}, nil
}

func stringList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, false
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok || s == "" {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// checkErrorEquals enforces AWS's rule that States.ALL stands alone, in the
// last retrier or catcher.
func checkErrorEquals(list []string, last bool) error {
	if slices.Contains(list, ErrAll) {
		if len(list) != 1 {
			return fmt.Errorf("States.ALL must appear alone in ErrorEquals")
		}
		if !last {
			return fmt.Errorf("States.ALL must be in the last retrier or catcher")
		}
	}
	return nil
}

func parseRetry(v any) ([]*retrier, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array")
	}
	var out []*retrier
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("[%d] must be an object", i)
		}
		r := &retrier{Interval: 1, MaxAttempts: 3, Backoff: 2}
		if r.ErrorEquals, ok = stringList(m["ErrorEquals"]); !ok {
			return nil, fmt.Errorf("[%d].ErrorEquals must be a non-empty array of strings", i)
		}
		if err := checkErrorEquals(r.ErrorEquals, i == len(list)-1); err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		for k, val := range m {
			switch k {
			case "ErrorEquals", "Comment":
			case "IntervalSeconds":
				n, ok := integer(val)
				if !ok || n < 1 {
					return nil, fmt.Errorf("[%d].IntervalSeconds must be a positive integer", i)
				}
				r.Interval = float64(n)
			case "MaxAttempts":
				n, ok := integer(val)
				if !ok || n < 0 || n > 99999999 {
					return nil, fmt.Errorf("[%d].MaxAttempts must be a non-negative integer", i)
				}
				r.MaxAttempts = int(n)
			case "BackoffRate":
				f, ok := number(val)
				if !ok || f < 1 {
					return nil, fmt.Errorf("[%d].BackoffRate must be a number >= 1.0", i)
				}
				r.Backoff = f
			case "MaxDelaySeconds":
				n, ok := integer(val)
				if !ok || n < 1 {
					return nil, fmt.Errorf("[%d].MaxDelaySeconds must be a positive integer", i)
				}
				r.MaxDelay = float64(n)
			case "JitterStrategy":
				switch val {
				case "FULL":
					r.Jitter = true
				case "NONE":
				default:
					return nil, fmt.Errorf("[%d].JitterStrategy must be FULL or NONE", i)
				}
			default:
				return nil, fmt.Errorf("[%d]: the field %q is not supported", i, k)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// delay is the wait before retry number n (0-based): IntervalSeconds ×
// BackoffRate^n, capped by MaxDelaySeconds.
func (r *retrier) delay(n int) time.Duration {
	d := r.Interval * math.Pow(r.Backoff, float64(n))
	if r.MaxDelay > 0 && d > r.MaxDelay {
		d = r.MaxDelay
	}
	return time.Duration(d * float64(time.Second))
}

func parseCatch(v any) ([]*catcher, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array")
	}
	var out []*catcher
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("[%d] must be an object", i)
		}
		c := &catcher{}
		if c.errorEquals, ok = stringList(m["ErrorEquals"]); !ok {
			return nil, fmt.Errorf("[%d].ErrorEquals must be a non-empty array of strings", i)
		}
		if err := checkErrorEquals(c.errorEquals, i == len(list)-1); err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		if c.next, ok = m["Next"].(string); !ok || c.next == "" {
			return nil, fmt.Errorf("[%d].Next must be a non-empty string", i)
		}
		for k := range m {
			if k != "ErrorEquals" && k != "Next" && k != "ResultPath" && k != "Comment" {
				return nil, fmt.Errorf("[%d]: the field %q is not supported", i, k)
			}
		}
		var err error
		if c.resultPath, err = parseResultPath(m, "ResultPath"); err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func positiveInt(m map[string]any, key string) (int64, error) {
	v, ok := m[key]
	if !ok {
		return 0, nil
	}
	n, ok := integer(v)
	if !ok || n <= 0 {
		return 0, fmt.Errorf("%s must be a positive integer", key)
	}
	return n, nil
}

func optReferencePath(m map[string]any, key string) (*path, error) {
	v, ok := m[key]
	if !ok {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%s must be a path string", key)
	}
	p, err := parseReferencePath(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return p, nil
}

func parseTask(st *state, m map[string]any) error {
	res, ok := m["Resource"].(string)
	if !ok || res == "" {
		return fmt.Errorf("a Task state needs a Resource URI")
	}
	st.resource = res
	switch {
	case res == "arn:aws:states:::lambda:invoke":
		st.integration = intLambdaInvoke
	case res == "arn:aws:states:::lambda:invoke.waitForTaskToken":
		st.integration, st.waitForToken = intLambdaInvoke, true
	case strings.HasPrefix(res, "arn:aws:lambda:") && strings.Contains(res, ":function:"):
		st.integration = intLambdaARN
	case strings.HasPrefix(res, "arn:"):
		st.unsupported = fmt.Sprintf("the resource %q is not supported by the local interpreter (Lambda only)", res)
	default:
		return fmt.Errorf("Resource %q is not an ARN", res)
	}
	var err error
	if st.timeoutSeconds, err = positiveInt(m, "TimeoutSeconds"); err != nil {
		return err
	}
	if st.heartbeatSeconds, err = positiveInt(m, "HeartbeatSeconds"); err != nil {
		return err
	}
	if st.timeoutPath, err = optReferencePath(m, "TimeoutSecondsPath"); err != nil {
		return err
	}
	if st.heartbeatPath, err = optReferencePath(m, "HeartbeatSecondsPath"); err != nil {
		return err
	}
	if st.timeoutSeconds > 0 && st.timeoutPath != nil {
		return fmt.Errorf("TimeoutSeconds and TimeoutSecondsPath are exclusive")
	}
	if st.heartbeatSeconds > 0 && st.heartbeatPath != nil {
		return fmt.Errorf("HeartbeatSeconds and HeartbeatSecondsPath are exclusive")
	}
	if st.heartbeatSeconds > 0 && st.timeoutSeconds > 0 && st.heartbeatSeconds >= st.timeoutSeconds {
		return fmt.Errorf("HeartbeatSeconds must be smaller than TimeoutSeconds")
	}
	return nil
}

func parseChoiceState(st *state, m map[string]any) error {
	list, ok := m["Choices"].([]any)
	if !ok || len(list) == 0 {
		return fmt.Errorf("Choices must be a non-empty array")
	}
	for i, e := range list {
		rm, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("Choices[%d] must be an object", i)
		}
		r, err := compileChoice(rm, true)
		if err != nil {
			return fmt.Errorf("Choices[%d]: %w", i, err)
		}
		st.choices = append(st.choices, r)
	}
	if v, ok := m["Default"]; ok {
		if st.defaultNext, ok = v.(string); !ok || st.defaultNext == "" {
			return fmt.Errorf("Default must be a non-empty string")
		}
	}
	return nil
}

func parseWait(st *state, m map[string]any) error {
	n := 0
	if v, ok := m["Seconds"]; ok {
		s, ok := integer(v)
		if !ok || s < 0 {
			return fmt.Errorf("Seconds must be a non-negative integer")
		}
		st.seconds = &s
		n++
	}
	if v, ok := m["Timestamp"]; ok {
		s, _ := v.(string)
		t, ok := parseTimestamp(s)
		if !ok {
			return fmt.Errorf("Timestamp must be an RFC 3339 timestamp")
		}
		st.timestamp = &t
		n++
	}
	var err error
	if st.secondsPath, err = optReferencePath(m, "SecondsPath"); err != nil {
		return err
	}
	if st.timestampPath, err = optReferencePath(m, "TimestampPath"); err != nil {
		return err
	}
	if st.secondsPath != nil {
		n++
	}
	if st.timestampPath != nil {
		n++
	}
	if n != 1 {
		return fmt.Errorf("a Wait state needs exactly one of Seconds, Timestamp, SecondsPath and TimestampPath")
	}
	return nil
}

func parseFail(st *state, m map[string]any) error {
	for _, f := range []struct {
		key, pathKey string
		dst          *string
		dstExpr      **expr
	}{{"Error", "ErrorPath", &st.errorName, &st.errorExpr}, {"Cause", "CausePath", &st.cause, &st.causeExp}} {
		_, hasStatic := m[f.key]
		_, hasPath := m[f.pathKey]
		if hasStatic && hasPath {
			return fmt.Errorf("%s and %s are exclusive", f.key, f.pathKey)
		}
		if hasStatic {
			s, ok := m[f.key].(string)
			if !ok {
				return fmt.Errorf("%s must be a string", f.key)
			}
			*f.dst = s
		}
		if hasPath {
			s, ok := m[f.pathKey].(string)
			if !ok {
				return fmt.Errorf("%s must be a path or intrinsic function", f.pathKey)
			}
			e, err := compileDynamic(s)
			if err != nil {
				return fmt.Errorf("%s: %w", f.pathKey, err)
			}
			*f.dstExpr = e
		}
	}
	return nil
}

func parseMap(st *state, m map[string]any, sm *StateMachine, names map[string]bool) error {
	proc, ok := m["ItemProcessor"].(map[string]any)
	if !ok {
		proc, ok = m["Iterator"].(map[string]any)
	}
	if !ok {
		return fmt.Errorf("a Map state needs an ItemProcessor (or Iterator) object")
	}
	if _, both := m["Iterator"]; both && m["ItemProcessor"] != nil {
		return fmt.Errorf("ItemProcessor and Iterator are exclusive")
	}
	if st.parameters != nil && st.itemSelector != nil {
		return fmt.Errorf("ItemSelector and Parameters are exclusive")
	}
	if st.parameters != nil {
		st.itemSelector, st.parameters = st.parameters, nil
	}
	for k := range proc {
		switch k {
		case "StartAt", "States", "Comment", "ProcessorConfig":
		default:
			return fmt.Errorf("ItemProcessor: the field %q is not supported", k)
		}
	}
	distributed, err := parseProcessorConfig(proc["ProcessorConfig"], m["ItemProcessor"] != nil)
	if err != nil {
		return err
	}
	b, err := parseBranch(proc, st.name+"#0", sm, names)
	if err != nil {
		return err
	}
	st.processor = b
	if v, ok := m["ItemsPath"]; ok {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("ItemsPath must be a path string")
		}
		if st.itemsPath, err = parsePath(s); err != nil {
			return fmt.Errorf("ItemsPath: %w", err)
		}
	}
	if v, ok := m["MaxConcurrency"]; ok {
		n, ok := integer(v)
		if !ok || n < 0 {
			return fmt.Errorf("MaxConcurrency must be a non-negative integer")
		}
		st.maxConcurrency = n
	}
	if st.maxConcurrencyPath, err = optReferencePath(m, "MaxConcurrencyPath"); err != nil {
		return err
	}
	if !distributed {
		for _, k := range distributedOnly {
			if _, ok := m[k]; ok {
				return fmt.Errorf("the field %q is only supported by a Map state in DISTRIBUTED mode (ItemProcessor.ProcessorConfig.Mode)", k)
			}
		}
		return nil
	}
	st.dist, err = parseDistributed(st, m, sm)
	return err
}
