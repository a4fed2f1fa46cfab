package asl

// A Map state in DISTRIBUTED mode runs a Map Run: its items come from the
// state input or from an ItemReader (see itemreader.go), are optionally
// grouped by an ItemBatcher, and each item or batch is a child workflow
// execution. Child executions run in-process, as threads of the parent
// like inline iterations, but as on AWS each keeps its own history (the
// parent's shows only the Map Run events), its own $$.Execution and its own
// history limit, and a failed child does not fail the Map state unless the
// failures exceed the tolerated failure threshold, which is zero by default.

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Resources of an ItemReader.
const (
	readerListObjects = "arn:aws:states:::s3:listObjectsV2"
	readerGetObject   = "arn:aws:states:::s3:getObject"
)

const (
	// maxBatchBytes is AWS's cap on a batch, and the default of
	// MaxInputBytesPerBatch once items are batched.
	maxBatchBytes = 256 * 1024
	// maxMapRunConcurrency is how many child executions run at once when
	// MaxConcurrency is 0 or absent.
	maxMapRunConcurrency = 10000
	// maxReaderItems is AWS's cap on ReaderConfig.MaxItems.
	maxReaderItems = 100_000_000
	// maxLabelLen is AWS's limit on a Map state's Label.
	maxLabelLen = 40
)

// distributedOnly are the Map fields AWS accepts only in DISTRIBUTED mode.
var distributedOnly = []string{"ItemReader", "ItemBatcher", "ResultWriter", "Label",
	"ToleratedFailurePercentage", "ToleratedFailureCount", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"}

// distributedMap is the configuration of a Map state in DISTRIBUTED mode.
type distributedMap struct {
	label        string
	reader       *itemReader  // nil: the items come from the state input
	batcher      *itemBatcher // nil: one item per child execution
	tolCount     *int64
	tolCountPath *path
	tolPct       *float64
	tolPctPath   *path
}

// itemBatcher is an ItemBatcher: a limit of 0 means none.
type itemBatcher struct {
	maxItems, maxBytes         int64
	maxItemsPath, maxBytesPath *path
	batchInput                 *template
}

// childRun is one child execution of a Map Run, as the parent keeps it.
type childRun struct {
	Name string `json:"name"`
	// Input is the child's input; it is dropped once the child succeeds.
	Input  any         `json:"input,omitempty"`
	Start  time.Time   `json:"start,omitzero"`
	Stop   time.Time   `json:"stop,omitzero"`
	Status Status      `json:"status,omitempty"`
	Output any         `json:"output,omitempty"`
	Err    *StateError `json:"err,omitempty"`
	// Events is the length of the child's own history.
	Events int `json:"events,omitempty"`
}

// tolerance is a Map Run's tolerated failure threshold; nil fields are not
// set, and a nil *tolerance tolerates no failure.
type tolerance struct {
	Count   *int64   `json:"count,omitempty"`
	Percent *float64 `json:"percent,omitempty"`
}

// ---- parsing ----

// parseProcessorConfig reports whether an ItemProcessor's ProcessorConfig
// selects DISTRIBUTED mode.
func parseProcessorConfig(v any, inItemProcessor bool) (bool, error) {
	if v == nil {
		return false, nil
	}
	if !inItemProcessor {
		return false, fmt.Errorf("ProcessorConfig is only supported in ItemProcessor, not in Iterator")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false, fmt.Errorf("ItemProcessor.ProcessorConfig must be an object")
	}
	mode, execType := "INLINE", ""
	for k, val := range m {
		switch k {
		case "Mode":
			if mode, ok = val.(string); !ok || (mode != "INLINE" && mode != "DISTRIBUTED") {
				return false, fmt.Errorf("ItemProcessor.ProcessorConfig.Mode must be INLINE or DISTRIBUTED")
			}
		case "ExecutionType":
			if execType, ok = val.(string); !ok || (execType != "STANDARD" && execType != "EXPRESS") {
				return false, fmt.Errorf("ItemProcessor.ProcessorConfig.ExecutionType must be STANDARD or EXPRESS")
			}
		default:
			return false, fmt.Errorf("ItemProcessor.ProcessorConfig: the field %q is not supported", k)
		}
	}
	if mode == "DISTRIBUTED" && execType == "" {
		return false, fmt.Errorf("ItemProcessor.ProcessorConfig.ExecutionType is required in DISTRIBUTED mode")
	}
	if mode == "INLINE" && execType != "" {
		return false, fmt.Errorf("ItemProcessor.ProcessorConfig.ExecutionType is only supported in DISTRIBUTED mode")
	}
	return mode == "DISTRIBUTED", nil
}

var labelForbidden = regexp.MustCompile("[\\s?*<>{}\\[\\]:;,\\\\|^~$#%&`\"\\x00-\\x1f\\x7f-\\x9f]")

func parseDistributed(st *state, m map[string]any, sm *StateMachine) (*distributedMap, error) {
	d := &distributedMap{}
	if v, ok := m["Label"]; ok {
		s, ok := v.(string)
		if !ok || s == "" || len([]rune(s)) > maxLabelLen || labelForbidden.MatchString(s) {
			return nil, fmt.Errorf("Label must be 1 to %d characters, without whitespace, wildcards, brackets or special characters", maxLabelLen)
		}
		if sm.labels[s] {
			return nil, fmt.Errorf("Label %q is used by another Map state; labels must be unique within a state machine", s)
		}
		sm.labels[s] = true
		d.label = s
	}
	var err error
	if v, ok := m["ToleratedFailurePercentage"]; ok {
		f, ok := number(v)
		if !ok || f < 0 || f > 100 {
			return nil, fmt.Errorf("ToleratedFailurePercentage must be a number between 0 and 100")
		}
		d.tolPct = &f
	}
	if v, ok := m["ToleratedFailureCount"]; ok {
		n, ok := integer(v)
		if !ok || n < 0 {
			return nil, fmt.Errorf("ToleratedFailureCount must be a non-negative integer")
		}
		d.tolCount = &n
	}
	if d.tolPctPath, err = optReferencePath(m, "ToleratedFailurePercentagePath"); err != nil {
		return nil, err
	}
	if d.tolCountPath, err = optReferencePath(m, "ToleratedFailureCountPath"); err != nil {
		return nil, err
	}
	if d.tolPct != nil && d.tolPctPath != nil {
		return nil, fmt.Errorf("ToleratedFailurePercentage and ToleratedFailurePercentagePath are exclusive")
	}
	if d.tolCount != nil && d.tolCountPath != nil {
		return nil, fmt.Errorf("ToleratedFailureCount and ToleratedFailureCountPath are exclusive")
	}
	if _, ok := m["MaxConcurrency"]; ok && st.maxConcurrencyPath != nil {
		return nil, fmt.Errorf("MaxConcurrency and MaxConcurrencyPath are exclusive")
	}
	if v, ok := m["ItemReader"]; ok {
		if st.itemsPath != nil {
			return nil, fmt.Errorf("ItemsPath selects items in the state input; it cannot be used with ItemReader")
		}
		if d.reader, err = parseItemReader(st, v); err != nil {
			return nil, err
		}
	}
	if v, ok := m["ItemBatcher"]; ok {
		if d.batcher, err = parseItemBatcher(v); err != nil {
			return nil, err
		}
	}
	if _, ok := m["ResultWriter"]; ok {
		st.unsupported = "the Map field ResultWriter (exporting a Map Run's results to S3) is not supported by the local interpreter"
	}
	return d, nil
}

func parseItemBatcher(v any) (*itemBatcher, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("ItemBatcher must be an object")
	}
	b := &itemBatcher{}
	var err error
	for k, val := range m {
		switch k {
		case "MaxItemsPerBatch", "MaxInputBytesPerBatch":
			n, ok := integer(val)
			if !ok || n <= 0 {
				return nil, fmt.Errorf("ItemBatcher.%s must be a positive integer", k)
			}
			if k == "MaxItemsPerBatch" {
				b.maxItems = n
			} else if b.maxBytes = n; n > maxBatchBytes {
				return nil, fmt.Errorf("ItemBatcher.MaxInputBytesPerBatch must be at most %d (256 KiB)", maxBatchBytes)
			}
		case "MaxItemsPerBatchPath":
			b.maxItemsPath, err = optReferencePath(m, k)
		case "MaxInputBytesPerBatchPath":
			b.maxBytesPath, err = optReferencePath(m, k)
		case "BatchInput":
			b.batchInput, err = compileTemplate(val, "ItemBatcher.BatchInput")
		case "Comment":
		default:
			return nil, fmt.Errorf("ItemBatcher: the field %q is not supported", k)
		}
		if err != nil {
			return nil, fmt.Errorf("ItemBatcher: %w", err)
		}
	}
	if b.maxItems > 0 && b.maxItemsPath != nil {
		return nil, fmt.Errorf("ItemBatcher: MaxItemsPerBatch and MaxItemsPerBatchPath are exclusive")
	}
	if b.maxBytes > 0 && b.maxBytesPath != nil {
		return nil, fmt.Errorf("ItemBatcher: MaxInputBytesPerBatch and MaxInputBytesPerBatchPath are exclusive")
	}
	if b.maxItems == 0 && b.maxBytes == 0 && b.maxItemsPath == nil && b.maxBytesPath == nil {
		return nil, fmt.Errorf("ItemBatcher needs MaxItemsPerBatch, MaxInputBytesPerBatch or one of their Path variants")
	}
	return b, nil
}

// ---- running a Map Run ----

// startMapRun starts (or, on a retry, restarts) a Distributed Map: each
// attempt is a new Map Run.
func (x *Execution) startMapRun(th *thread, st *state) {
	d := st.dist
	eff, serr := x.inputPath(th, st)
	if serr != nil {
		x.handleError(th, st, serr)
		return
	}
	var list []any
	if d.reader == nil {
		if list, serr = mapItems(st, eff); serr != nil {
			x.handleError(th, st, serr)
			return
		}
	}
	maxConc, tol, serr := x.mapRunSettings(st, eff)
	if serr != nil {
		x.handleError(th, st, serr)
		return
	}
	th.MapRun, th.Label = newUUID(), d.label
	if th.Label == "" {
		th.Label = th.MapRun
	}
	th.MaxConc, th.Tolerance = maxConc, tol
	// AWS reports a length of 0 when the items are still to be read.
	x.event(th, Event{Type: "MapStateStarted", Length: len(list)})
	x.event(th, Event{Type: "MapRunStarted", MapRunARN: x.mapRunARN(th)})
	if d.reader != nil {
		x.readItems(th, st, eff)
		return
	}
	x.runItems(th, st, eff, list)
}

// mapRunSettings evaluates MaxConcurrency and the tolerated failure
// threshold.
func (x *Execution) mapRunSettings(st *state, eff any) (int, *tolerance, *StateError) {
	d := st.dist
	maxConc := st.maxConcurrency
	if st.maxConcurrencyPath != nil {
		v, ok := st.maxConcurrencyPath.get(eff, nil)
		n, isInt := integer(v)
		if !ok || !isInt || n < 0 {
			return 0, nil, runtimeError("An error occurred while executing the state '%s'. MaxConcurrencyPath does not reference a non-negative integer.", st.name)
		}
		maxConc = n
	}
	if maxConc == 0 || maxConc > maxMapRunConcurrency {
		maxConc = maxMapRunConcurrency
	}
	tol := &tolerance{Count: d.tolCount, Percent: d.tolPct}
	if d.tolCountPath != nil {
		v, ok := d.tolCountPath.get(eff, nil)
		n, isInt := integer(v)
		if !ok || !isInt || n < 0 {
			return 0, nil, runtimeError("An error occurred while executing the state '%s'. ToleratedFailureCountPath does not reference a non-negative integer: '%s'", st.name, d.tolCountPath.raw)
		}
		tol.Count = &n
	}
	if d.tolPctPath != nil {
		v, ok := d.tolPctPath.get(eff, nil)
		f, isNum := number(v)
		if !ok || !isNum || f < 0 || f > 100 {
			return 0, nil, runtimeError("An error occurred while executing the state '%s'. ToleratedFailurePercentagePath does not reference a number between 0 and 100: '%s'", st.name, d.tolPctPath.raw)
		}
		tol.Percent = &f
	}
	if tol.Count == nil && tol.Percent == nil {
		tol = nil
	}
	return int(maxConc), tol, nil
}

// runItems turns the Map Run's items into child executions and starts as
// many as MaxConcurrency allows.
func (x *Execution) runItems(th *thread, st *state, eff any, list []any) {
	inputs, serr := x.selectItems(th, st, eff, list)
	if serr != nil {
		x.mapRunFailed(th, st, serr)
		return
	}
	var counts []int
	if st.dist.batcher != nil {
		if inputs, counts, serr = x.batchItems(th, st, eff, inputs); serr != nil {
			x.mapRunFailed(th, st, serr)
			return
		}
	}
	th.TotalItems, th.FailedItems = len(list), 0
	if len(inputs) == 0 {
		x.mapRunSucceeded(th, st)
		return
	}
	th.Phase = phaseBranches
	th.Items, th.Counts, th.NextItem, th.Running = inputs, counts, 0, 0
	th.Runs = make([]childRun, len(inputs))
	th.Children = make([]*thread, len(inputs))
	th.Left = len(inputs)
	x.startChildren(th, st)
}

// batchItems groups items into the inputs of child executions,
// {"BatchInput": …, "Items": […]}, within MaxItemsPerBatch and
// MaxInputBytesPerBatch (the size of the whole child input). It returns the
// batches and how many items each holds; an item too big for any batch
// fails the Map Run with States.Runtime.
func (x *Execution) batchItems(th *thread, st *state, eff any, items []any) ([]any, []int, *StateError) {
	b := st.dist.batcher
	limit := func(fixed int64, p *path, field string, max int64) (int64, *StateError) {
		if p == nil {
			return fixed, nil
		}
		v, ok := p.get(eff, nil)
		n, isInt := integer(v)
		if !ok || !isInt || n <= 0 || (max > 0 && n > max) {
			return 0, runtimeError("An error occurred while executing the state '%s'. ItemBatcher.%sPath does not reference a positive integer%s: '%s'", st.name, field, limitText(max), p.raw)
		}
		return n, nil
	}
	maxItems, serr := limit(b.maxItems, b.maxItemsPath, "MaxItemsPerBatch", 0)
	if serr != nil {
		return nil, nil, serr
	}
	maxBytes, serr := limit(b.maxBytes, b.maxBytesPath, "MaxInputBytesPerBatch", maxBatchBytes)
	if serr != nil {
		return nil, nil, serr
	}
	if maxBytes == 0 {
		maxBytes = maxBatchBytes
	}
	var batchInput any
	if b.batchInput != nil {
		v, err := b.batchInput.eval(eff, x.contextObject(th, st, ""))
		if err != nil {
			return nil, nil, payloadError("ItemBatcher.BatchInput", st.name, err)
		}
		batchInput = v
	}
	wrap := func(items []any) any {
		m := map[string]any{"Items": items}
		if b.batchInput != nil {
			m["BatchInput"] = batchInput
		}
		return m
	}
	overhead := int64(len(encodeJSON(wrap([]any{}))))
	var batches []any
	var counts []int
	var cur []any
	size := overhead
	for i, item := range items {
		n := int64(len(encodeJSON(item)))
		if overhead+n > maxBytes {
			return nil, nil, runtimeError("An error occurred while executing the state '%s'. The item at index %d is %d bytes: a batch holding it would exceed MaxInputBytesPerBatch (%d bytes).", st.name, i, n, maxBytes)
		}
		sep := int64(0)
		if len(cur) > 0 {
			sep = 1 // the comma
		}
		if len(cur) > 0 && ((maxItems > 0 && int64(len(cur)) >= maxItems) || size+sep+n > maxBytes) {
			batches, counts = append(batches, wrap(cur)), append(counts, len(cur))
			cur, size, sep = nil, overhead, 0
		}
		cur = append(cur, item)
		size += sep + n
	}
	if len(cur) > 0 {
		batches, counts = append(batches, wrap(cur)), append(counts, len(cur))
	}
	return batches, counts, nil
}

func limitText(max int64) string {
	if max == 0 {
		return ""
	}
	return fmt.Sprintf(" of at most %d", max)
}

// startChildren starts child executions up to MaxConcurrency.
func (x *Execution) startChildren(th *thread, st *state) {
	now := x.e.clock.Now()
	for th.NextItem < len(th.Items) && th.Running < th.MaxConc {
		i := th.NextItem
		c := x.newThread(th.ID, st.processor.scope, st.processor.startAt, th.Items[i])
		c.Root, c.Index = c.ID, i
		th.Runs[i] = childRun{Name: newUUID(), Input: th.Items[i], Start: now, Status: StatusRunning}
		th.Items[i] = nil
		th.Children[i] = c
		th.NextItem++
		th.Running++
		x.event(c, Event{Type: "ExecutionStarted"})
		x.queue = append(x.queue, c)
	}
}

// childSucceeded records a child execution's output and ends the Map Run
// when it was the last.
func (x *Execution) childSucceeded(p *thread, st *state, c *thread) {
	run := &p.Runs[c.Index]
	run.Status, run.Stop, run.Output, run.Input = StatusSucceeded, x.e.clock.Now(), c.Output, nil
	x.childEnded(p, st, c)
}

// childRunFailed records a failed child execution; the Map Run fails once
// the failed items exceed the tolerated failure threshold.
func (x *Execution) childRunFailed(p *thread, st *state, c *thread) {
	run := &p.Runs[c.Index]
	run.Status, run.Stop, run.Err = StatusFailed, x.e.clock.Now(), c.Err
	if run.Err == nil {
		run.Err = &StateError{Name: ErrRuntime}
	}
	p.FailedItems += p.itemsOf(c.Index)
	if !p.toleranceExceeded() {
		x.childEnded(p, st, c)
		return
	}
	for _, s := range p.Children {
		if s != nil && s != c {
			x.abortTree(s)
		}
	}
	cause := fmt.Sprintf("The specified tolerated failure threshold was exceeded: %d of %d items failed. Child execution %s failed with %s", p.FailedItems, p.TotalItems, x.childExecutionARN(p, run), run.Err.Name)
	if run.Err.Cause != "" {
		cause += ": " + run.Err.Cause
	}
	x.mapRunFailed(p, st, &StateError{Name: ErrExceedToleratedFailureThreshold, Cause: cause})
	x.resume(p)
}

func (x *Execution) childEnded(p *thread, st *state, c *thread) {
	p.Children[c.Index] = nil
	p.Left--
	p.Running--
	x.startChildren(p, st)
	if p.Left > 0 {
		return
	}
	x.mapRunSucceeded(p, st)
	x.resume(p)
}

// failChild fails the child execution th belongs to outright, as AWS fails
// an execution (uncatchably) that reaches its history limit.
func (x *Execution) failChild(th *thread, serr *StateError) {
	root := x.threads[th.Root]
	if root == nil {
		return
	}
	x.abortTree(root)
	root.Phase, root.Err = phaseFailed, serr
	x.childFailed(root)
}

// itemsOf returns how many items child execution i was given.
func (th *thread) itemsOf(i int) int {
	if th.Counts == nil {
		return 1
	}
	return th.Counts[i]
}

// toleranceExceeded reports whether the failed items exceed the Map Run's
// threshold: either of ToleratedFailureCount and ToleratedFailurePercentage
// (of all items) when set, any failure when neither is.
func (th *thread) toleranceExceeded() bool {
	t := th.Tolerance
	if t == nil {
		return th.FailedItems > 0
	}
	if t.Count != nil && int64(th.FailedItems) > *t.Count {
		return true
	}
	return t.Percent != nil && float64(th.FailedItems)*100 > *t.Percent*float64(th.TotalItems)
}

// mapRunSucceeded completes the Map state with the child executions'
// results, in item order. A tolerated failed child is represented as AWS
// represents a child whose result it returns unchanged: its execution
// record, with Status FAILED, Error and Cause (the ResultWriter docs: "If a
// child workflow execution fails, Step Functions returns its execution
// result unchanged").
func (x *Execution) mapRunSucceeded(th *thread, st *state) {
	results := make([]any, len(th.Runs))
	for i := range th.Runs {
		if r := &th.Runs[i]; r.Status == StatusSucceeded {
			results[i] = r.Output
		} else {
			results[i] = x.failedRecord(th, r)
		}
	}
	x.event(th, Event{Type: "MapRunSucceeded"})
	x.event(th, Event{Type: "MapStateSucceeded"})
	endMapRun(th)
	th.Phase = phaseEnter // transient: complete moves it on
	x.complete(th, st, results)
}

// mapRunFailed fails the Map Run, then the Map state with serr (which Retry
// and Catch see).
func (x *Execution) mapRunFailed(th *thread, st *state, serr *StateError) {
	x.event(th, Event{Type: "MapRunFailed", Error: serr.Name, Cause: serr.Cause})
	x.event(th, Event{Type: "MapStateFailed"})
	endMapRun(th)
	th.Phase = phaseEnter // transient, as in mapRunSucceeded
	x.handleError(th, st, serr)
}

func endMapRun(th *thread) {
	th.Runs, th.Children, th.Items, th.Counts, th.Tolerance = nil, nil, nil, nil, nil
	th.MapRun, th.Label, th.TotalItems, th.FailedItems = "", "", 0, 0
	th.NextItem, th.Running, th.Left, th.MaxConc = 0, 0, 0, 0
}

// failedRecord is a failed child execution as AWS describes it in a Map
// Run's results (the fields of DescribeExecution). Redrive fields are left
// out: the local interpreter does not redrive.
func (x *Execution) failedRecord(p *thread, r *childRun) map[string]any {
	rec := map[string]any{
		"ExecutionArn":    x.childExecutionARN(p, r),
		"Name":            r.Name,
		"StateMachineArn": x.mapRunResource(p, "stateMachine"),
		"Input":           encodeJSON(r.Input),
		"InputDetails":    map[string]any{"Included": true},
		"StartDate":       formatTime(r.Start),
		"StopDate":        formatTime(r.Stop),
		"Status":          string(StatusFailed),
	}
	if r.Err != nil {
		rec["Error"] = r.Err.Name
		if r.Err.Cause != "" {
			rec["Cause"] = r.Err.Cause
		}
	}
	return rec
}

// runOf returns the Map thread and the record of the child execution th
// runs in, or nils when th is not in one.
func (x *Execution) runOf(th *thread) (*thread, *childRun) {
	if th == nil || th.Root == "" {
		return nil, nil
	}
	root := x.threads[th.Root]
	if root == nil {
		return nil, nil
	}
	p := x.threads[root.Parent]
	if p == nil || root.Index < 0 || root.Index >= len(p.Runs) {
		return nil, nil
	}
	return p, &p.Runs[root.Index]
}

// mapRunResource names a Map Run's resources as AWS does:
// arn:aws:states:<region>:<account>:<kind>:<stateMachine>/<label>; kind is
// stateMachine (the child executions' state machine), execution (followed
// by :<name>) or mapRun (followed by :<id>).
func (x *Execution) mapRunResource(p *thread, kind string) string {
	id := x.rec.StateMachineID
	if i := strings.Index(id, ":stateMachine:"); i >= 0 {
		return id[:i] + ":" + kind + ":" + id[i+len(":stateMachine:"):] + "/" + p.Label
	}
	return fmt.Sprintf("arn:aws:states:%s::%s:%s/%s", x.e.opts.Region, kind, x.rec.StateMachineName, p.Label)
}

func (x *Execution) mapRunARN(p *thread) string {
	return x.mapRunResource(p, "mapRun") + ":" + p.MapRun
}

func (x *Execution) childExecutionARN(p *thread, r *childRun) string {
	return x.mapRunResource(p, "execution") + ":" + r.Name
}
