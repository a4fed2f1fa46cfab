package sfnlocal

// The JSON 1.0 protocol: POST with X-Amz-Target "AWSStepFunctions.<Op>",
// a JSON body in, a JSON body out, errors as HTTP 400 with __type.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil/pkg/asl"
)

const contentType = "application/x-amz-json-1.0"

// maxBody bounds request bodies; AWS's definition limit is 1 MiB and
// payloads 256 KiB.
const maxBody = 4 << 20

type operation func(s *Server, ctx context.Context, body []byte) (any, error)

var operations = map[string]operation{
	"CreateStateMachine":               decodeThen((*Server).createStateMachine),
	"UpdateStateMachine":               decodeThen((*Server).updateStateMachine),
	"DescribeStateMachine":             decodeThen((*Server).describeStateMachine),
	"DescribeStateMachineForExecution": decodeThen((*Server).describeStateMachineForExecution),
	"ListStateMachines":                decodeThen((*Server).listStateMachines),
	"DeleteStateMachine":               decodeThen((*Server).deleteStateMachine),
	"StartExecution":                   decodeThen((*Server).startExecution),
	"DescribeExecution":                decodeThen((*Server).describeExecution),
	"ListExecutions":                   decodeThen((*Server).listExecutions),
	"GetExecutionHistory":              decodeThen((*Server).getExecutionHistory),
	"StopExecution":                    decodeThen((*Server).stopExecution),
	"SendTaskSuccess":                  decodeThen((*Server).sendTaskSuccess),
	"SendTaskFailure":                  decodeThen((*Server).sendTaskFailure),
	"SendTaskHeartbeat":                decodeThen((*Server).sendTaskHeartbeat),
}

// decodeThen adapts a typed operation to the dispatch table.
func decodeThen[In any](f func(*Server, context.Context, *In) (any, error)) operation {
	return func(s *Server, ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, in); err != nil {
				return nil, apiErrorf("SerializationException", "could not parse the request body: %v", err)
			}
		}
		return f(s, ctx, in)
	}
}

// ServeHTTP answers one Step Functions API call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
	f := operations[op]
	if !ok || f == nil {
		writeError(w, apiErrorf("UnknownOperationException", "Unknown operation %q", r.Header.Get("X-Amz-Target")))
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, apiErrorf("ValidationException", "%s requires POST", op))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, apiErrorf("SerializationException", "could not read the request body"))
		return
	}
	if len(body) > maxBody {
		writeError(w, apiErrorf("ValidationException", "request body too large"))
		return
	}
	out, err := f(s, r.Context(), body)
	if err != nil {
		writeError(w, toAPIError(err))
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, toAPIError(err))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-RequestId", newExecutionName())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e *APIError) {
	status := http.StatusBadRequest
	if e.Type == "InternalFailure" {
		status = http.StatusInternalServerError
	}
	b, _ := json.Marshal(map[string]string{"__type": e.Type, "message": e.Message})
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.Header().Set("X-Amzn-RequestId", newExecutionName())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ---- state machines ----

type createStateMachineInput struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
	RoleARN    string `json:"roleArn"`
	Type       string `json:"type"`
}

type createStateMachineOutput struct {
	StateMachineARN string `json:"stateMachineArn"`
	CreationDate    *epoch `json:"creationDate"`
}

func (s *Server) createStateMachine(_ context.Context, in *createStateMachineInput) (any, error) {
	if err := validName(in.Name); err != nil {
		return nil, err
	}
	if in.Definition == "" {
		return nil, apiErrorf("MissingRequiredParameter", "definition is required")
	}
	typ := in.Type
	if typ == "" {
		typ = "STANDARD"
	}
	if typ != "STANDARD" && typ != "EXPRESS" {
		return nil, apiErrorf("ValidationException", "type must be STANDARD or EXPRESS")
	}
	sm, err := asl.Parse(in.Definition)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	arn := s.StateMachineARN(in.Name)
	if m, ok := s.machines[arn]; ok {
		if m.rec.Definition != in.Definition || m.rec.RoleARN != in.RoleARN || m.rec.Type != typ {
			return nil, apiErrorf("StateMachineAlreadyExists", "State Machine Already Exists: '%s'", arn)
		}
		return createStateMachineOutput{StateMachineARN: arn, CreationDate: epochPtr(m.rec.Created)}, nil
	}
	m := &machine{rec: machineRecord{ARN: arn, Name: in.Name, Definition: in.Definition, RoleARN: in.RoleARN,
		Type: typ, Created: s.opts.Clock.Now()}, sm: sm}
	if err := s.saveMachine(m); err != nil {
		return nil, err
	}
	s.machines[arn] = m
	return createStateMachineOutput{StateMachineARN: arn, CreationDate: epochPtr(m.rec.Created)}, nil
}

// machineByARN returns the state machine; callers hold s.mu.
func (s *Server) machineByARN(arn string) (*machine, error) {
	if _, err := s.parseARN(arn, "stateMachine"); err != nil {
		return nil, err
	}
	m, ok := s.machines[arn]
	if !ok {
		return nil, apiErrorf("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	return m, nil
}

type updateStateMachineInput struct {
	StateMachineARN string `json:"stateMachineArn"`
	Definition      string `json:"definition"`
	RoleARN         string `json:"roleArn"`
}

func (s *Server) updateStateMachine(_ context.Context, in *updateStateMachineInput) (any, error) {
	if in.Definition == "" && in.RoleARN == "" {
		return nil, apiErrorf("MissingRequiredParameter", "Either the definition or the roleArn must be specified")
	}
	var sm *asl.StateMachine
	if in.Definition != "" {
		var err error
		if sm, err = asl.Parse(in.Definition); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.machineByARN(in.StateMachineARN)
	if err != nil {
		return nil, err
	}
	rec := m.rec
	if sm != nil {
		rec.Definition = in.Definition
	}
	if in.RoleARN != "" {
		rec.RoleARN = in.RoleARN
	}
	rec.Updated = s.opts.Clock.Now()
	if s.store != nil {
		if err := s.store.saveMachine(rec); err != nil {
			return nil, err
		}
	}
	m.rec = rec
	if sm != nil {
		m.sm = sm
	}
	return map[string]any{"updateDate": epochPtr(rec.Updated)}, nil
}

type stateMachineARNInput struct {
	StateMachineARN string `json:"stateMachineArn"`
}

type describeStateMachineOutput struct {
	StateMachineARN      string         `json:"stateMachineArn"`
	Name                 string         `json:"name"`
	Status               string         `json:"status,omitempty"`
	Definition           string         `json:"definition"`
	RoleARN              string         `json:"roleArn"`
	Type                 string         `json:"type,omitempty"`
	CreationDate         *epoch         `json:"creationDate,omitempty"`
	UpdateDate           *epoch         `json:"updateDate,omitempty"`
	LoggingConfiguration map[string]any `json:"loggingConfiguration"`
	TracingConfiguration map[string]any `json:"tracingConfiguration"`
}

func describeMachine(rec machineRecord) describeStateMachineOutput {
	return describeStateMachineOutput{StateMachineARN: rec.ARN, Name: rec.Name, Status: "ACTIVE",
		Definition: rec.Definition, RoleARN: rec.RoleARN, Type: rec.Type, CreationDate: epochPtr(rec.Created),
		LoggingConfiguration: map[string]any{"level": "OFF", "includeExecutionData": false},
		TracingConfiguration: map[string]any{"enabled": false}}
}

func (s *Server) describeStateMachine(_ context.Context, in *stateMachineARNInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.machineByARN(in.StateMachineARN)
	if err != nil {
		return nil, err
	}
	return describeMachine(m.rec), nil
}

func (s *Server) describeStateMachineForExecution(_ context.Context, in *executionARNInput) (any, error) {
	x, err := s.execution(in.ExecutionARN)
	if err != nil {
		return nil, err
	}
	info := x.Info()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := describeMachine(machineRecord{ARN: info.StateMachineID, Name: info.StateMachineName, RoleARN: info.RoleARN})
	out.Definition = x.Definition()
	out.Status, out.Type, out.CreationDate = "", "", nil
	if m, ok := s.machines[info.StateMachineID]; ok {
		out.UpdateDate = epochPtr(m.rec.Updated)
	}
	return out, nil
}

type pageInput struct {
	MaxResults int    `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

// page returns the [from, to) window of n items and the next token.
func (p pageInput) page(n int) (int, int, string, error) {
	from := 0
	if p.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(p.NextToken)
		if err != nil {
			return 0, 0, "", apiErrorf("InvalidToken", "Invalid Token: '%s'", p.NextToken)
		}
		if from, err = strconv.Atoi(string(b)); err != nil || from < 0 {
			return 0, 0, "", apiErrorf("InvalidToken", "Invalid Token: '%s'", p.NextToken)
		}
	}
	size := p.MaxResults
	if size <= 0 || size > 1000 {
		size = 100
	}
	from = min(from, n)
	to := min(n, from+size)
	next := ""
	if to < n {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(to)))
	}
	return from, to, next, nil
}

type stateMachineListItem struct {
	StateMachineARN string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	CreationDate    *epoch `json:"creationDate"`
}

func (s *Server) listStateMachines(_ context.Context, in *pageInput) (any, error) {
	s.mu.Lock()
	recs := make([]machineRecord, 0, len(s.machines))
	for _, m := range s.machines {
		recs = append(recs, m.rec)
	}
	s.mu.Unlock()
	slices.SortFunc(recs, func(a, b machineRecord) int { return strings.Compare(a.Name, b.Name) })
	from, to, next, err := in.page(len(recs))
	if err != nil {
		return nil, err
	}
	items := []stateMachineListItem{}
	for _, r := range recs[from:to] {
		items = append(items, stateMachineListItem{StateMachineARN: r.ARN, Name: r.Name, Type: r.Type, CreationDate: epochPtr(r.Created)})
	}
	out := map[string]any{"stateMachines": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (s *Server) deleteStateMachine(_ context.Context, in *stateMachineARNInput) (any, error) {
	if _, err := s.parseARN(in.StateMachineARN, "stateMachine"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store != nil {
		if err := s.store.deleteMachine(in.StateMachineARN); err != nil {
			return nil, err
		}
	}
	delete(s.machines, in.StateMachineARN)
	return struct{}{}, nil
}

// ---- executions ----

type startExecutionInput struct {
	StateMachineARN string  `json:"stateMachineArn"`
	Name            string  `json:"name"`
	Input           *string `json:"input"`
}

type startExecutionOutput struct {
	ExecutionARN string `json:"executionArn"`
	StartDate    *epoch `json:"startDate"`
}

func (s *Server) startExecution(_ context.Context, in *startExecutionInput) (any, error) {
	name := in.Name
	if name == "" {
		name = newExecutionName()
	} else if err := validName(name); err != nil {
		return nil, err
	}
	input := "{}"
	if in.Input != nil {
		input = *in.Input
	}
	if !json.Valid([]byte(input)) {
		return nil, apiErrorf("InvalidExecutionInput", "Invalid Execution Input: the input is not valid JSON")
	}
	// Holding s.mu makes the name check and the start atomic.
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.machineByARN(in.StateMachineARN)
	if err != nil {
		return nil, err
	}
	arn := s.executionARN(m.rec.Name, name)
	if x, ok := s.engine.Execution(arn); ok {
		// AWS: same name and input while the execution is open returns the
		// original response; otherwise ExecutionAlreadyExists.
		info := x.Info()
		if info.Status == asl.StatusRunning && sameInput(info.Input, input) {
			return startExecutionOutput{ExecutionARN: arn, StartDate: epochPtr(info.StartDate)}, nil
		}
		return nil, apiErrorf("ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn)
	}
	x, err := s.engine.Start(m.sm, asl.StartInput{ExecutionID: arn, Name: name, StateMachineID: m.rec.ARN,
		StateMachineName: m.rec.Name, RoleARN: m.rec.RoleARN, Input: input})
	if err != nil {
		return nil, err
	}
	return startExecutionOutput{ExecutionARN: arn, StartDate: epochPtr(x.Info().StartDate)}, nil
}

// sameInput compares two JSON inputs, ignoring insignificant whitespace.
func sameInput(a, b string) bool {
	if a == b {
		return true
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, []byte(a)) != nil || json.Compact(&cb, []byte(b)) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

type executionARNInput struct {
	ExecutionARN string `json:"executionArn"`
}

func (s *Server) execution(arn string) (*asl.Execution, error) {
	if _, err := s.parseARN(arn, "execution"); err != nil {
		return nil, err
	}
	x, ok := s.engine.Execution(arn)
	if !ok {
		return nil, apiErrorf("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
	}
	return x, nil
}

type describeExecutionOutput struct {
	ExecutionARN    string          `json:"executionArn"`
	StateMachineARN string          `json:"stateMachineArn"`
	Name            string          `json:"name"`
	Status          asl.Status      `json:"status"`
	StartDate       *epoch          `json:"startDate"`
	StopDate        *epoch          `json:"stopDate,omitempty"`
	Input           string          `json:"input"`
	InputDetails    map[string]bool `json:"inputDetails"`
	Output          *string         `json:"output,omitempty"`
	OutputDetails   map[string]bool `json:"outputDetails,omitempty"`
	Error           string          `json:"error,omitempty"`
	Cause           string          `json:"cause,omitempty"`
}

func (s *Server) describeExecution(_ context.Context, in *executionARNInput) (any, error) {
	x, err := s.execution(in.ExecutionARN)
	if err != nil {
		return nil, err
	}
	info := x.Info()
	out := describeExecutionOutput{ExecutionARN: info.ID, StateMachineARN: info.StateMachineID, Name: info.Name,
		Status: info.Status, StartDate: epochPtr(info.StartDate), StopDate: epochPtr(info.StopDate),
		Input: info.Input, InputDetails: map[string]bool{"included": true}, Error: info.Error, Cause: info.Cause}
	if info.Status == asl.StatusSucceeded {
		out.Output = &info.Output
		out.OutputDetails = map[string]bool{"included": true}
	}
	return out, nil
}

type listExecutionsInput struct {
	pageInput
	StateMachineARN string `json:"stateMachineArn"`
	StatusFilter    string `json:"statusFilter"`
}

type executionListItem struct {
	ExecutionARN    string     `json:"executionArn"`
	StateMachineARN string     `json:"stateMachineArn"`
	Name            string     `json:"name"`
	Status          asl.Status `json:"status"`
	StartDate       *epoch     `json:"startDate"`
	StopDate        *epoch     `json:"stopDate,omitempty"`
}

func (s *Server) listExecutions(_ context.Context, in *listExecutionsInput) (any, error) {
	s.mu.Lock()
	_, err := s.machineByARN(in.StateMachineARN)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	switch in.StatusFilter {
	case "", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE":
	default:
		return nil, apiErrorf("ValidationException", "statusFilter %q is not a valid status", in.StatusFilter)
	}
	var infos []asl.ExecutionInfo
	for _, x := range s.engine.Executions() {
		info := x.Info()
		if info.StateMachineID != in.StateMachineARN || (in.StatusFilter != "" && string(info.Status) != in.StatusFilter) {
			continue
		}
		infos = append(infos, info)
	}
	// Newest first, as AWS lists them.
	slices.SortFunc(infos, func(a, b asl.ExecutionInfo) int {
		if c := b.StartDate.Compare(a.StartDate); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	from, to, next, err := in.page(len(infos))
	if err != nil {
		return nil, err
	}
	items := []executionListItem{}
	for _, i := range infos[from:to] {
		items = append(items, executionListItem{ExecutionARN: i.ID, StateMachineARN: i.StateMachineID, Name: i.Name,
			Status: i.Status, StartDate: epochPtr(i.StartDate), StopDate: epochPtr(i.StopDate)})
	}
	out := map[string]any{"executions": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

type getExecutionHistoryInput struct {
	pageInput
	ExecutionARN         string `json:"executionArn"`
	ReverseOrder         bool   `json:"reverseOrder"`
	IncludeExecutionData *bool  `json:"includeExecutionData"`
}

func (s *Server) getExecutionHistory(_ context.Context, in *getExecutionHistoryInput) (any, error) {
	x, err := s.execution(in.ExecutionARN)
	if err != nil {
		return nil, err
	}
	events := x.History()
	if in.ReverseOrder {
		slices.Reverse(events)
	}
	from, to, next, err := in.page(len(events))
	if err != nil {
		return nil, err
	}
	withData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	items := make([]map[string]any, 0, to-from)
	for _, ev := range events[from:to] {
		items = append(items, historyEvent(ev, withData))
	}
	out := map[string]any{"events": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

type stopExecutionInput struct {
	ExecutionARN string `json:"executionArn"`
	Error        string `json:"error"`
	Cause        string `json:"cause"`
}

func (s *Server) stopExecution(_ context.Context, in *stopExecutionInput) (any, error) {
	if _, err := s.execution(in.ExecutionARN); err != nil {
		return nil, err
	}
	stop, err := s.engine.Stop(in.ExecutionARN, in.Error, in.Cause)
	if err != nil {
		return nil, err
	}
	return map[string]any{"stopDate": epochPtr(stop)}, nil
}

// ---- task tokens ----

type sendTaskInput struct {
	TaskToken string `json:"taskToken"`
	Output    string `json:"output"`
	Error     string `json:"error"`
	Cause     string `json:"cause"`
}

func (s *Server) sendTaskSuccess(_ context.Context, in *sendTaskInput) (any, error) {
	if in.TaskToken == "" {
		return nil, apiErrorf("InvalidToken", "Invalid Token: taskToken is required")
	}
	if err := s.engine.SendTaskSuccess(in.TaskToken, in.Output); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) sendTaskFailure(_ context.Context, in *sendTaskInput) (any, error) {
	if in.TaskToken == "" {
		return nil, apiErrorf("InvalidToken", "Invalid Token: taskToken is required")
	}
	if err := s.engine.SendTaskFailure(in.TaskToken, in.Error, in.Cause); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) sendTaskHeartbeat(_ context.Context, in *sendTaskInput) (any, error) {
	if in.TaskToken == "" {
		return nil, apiErrorf("InvalidToken", "Invalid Token: taskToken is required")
	}
	if err := s.engine.SendTaskHeartbeat(in.TaskToken); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// ---- history events ----

// detailKeys maps event types to the field that carries their details.
func detailKey(typ string) string {
	switch {
	case strings.HasSuffix(typ, "StateEntered"):
		return "stateEnteredEventDetails"
	case strings.HasSuffix(typ, "StateExited"):
		return "stateExitedEventDetails"
	case strings.HasPrefix(typ, "MapIteration"):
		return "mapIteration" + strings.TrimPrefix(typ, "MapIteration") + "EventDetails"
	}
	switch typ {
	case "ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut",
		"TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskFailed", "TaskTimedOut",
		"LambdaFunctionScheduled", "LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut",
		"MapStateStarted", "MapRunStarted", "MapRunFailed":
		return strings.ToLower(typ[:1]) + typ[1:] + "EventDetails"
	}
	return ""
}

func historyEvent(ev asl.Event, withData bool) map[string]any {
	out := map[string]any{"id": ev.ID, "previousEventId": ev.PreviousID, "timestamp": epoch(ev.Timestamp), "type": ev.Type}
	key := detailKey(ev.Type)
	if key == "" {
		return out
	}
	d := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	set("name", ev.Name)
	set("error", ev.Error)
	set("cause", ev.Cause)
	set("resource", ev.Resource)
	set("resourceType", ev.ResourceType)
	set("region", ev.Region)
	set("roleArn", ev.RoleARN)
	set("mapRunArn", ev.MapRunARN)
	if ev.Type == "TaskScheduled" {
		d["parameters"] = ev.Parameters
	}
	if ev.TimeoutSeconds > 0 {
		d["timeoutInSeconds"] = ev.TimeoutSeconds
	}
	if ev.HeartbeatSeconds > 0 {
		d["heartbeatInSeconds"] = ev.HeartbeatSeconds
	}
	if strings.HasPrefix(ev.Type, "MapIteration") {
		d["index"] = ev.Index
	}
	if ev.Type == "MapStateStarted" {
		d["length"] = ev.Length
	}
	if ev.Input != "" {
		if withData {
			d["input"] = ev.Input
		}
		d["inputDetails"] = map[string]bool{"truncated": false}
	}
	if ev.Output != "" {
		if withData {
			d["output"] = ev.Output
		}
		d["outputDetails"] = map[string]bool{"truncated": false}
	}
	out[key] = d
	return out
}
