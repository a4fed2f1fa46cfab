package asl

// Parallel and Map states run child threads and gather their outputs, in
// branch or item order, into the array that becomes the state's result.

import (
	"fmt"
	mrand "math/rand/v2"
)

func randFloat() float64 { return mrand.Float64() }

func (x *Execution) startParallel(th *thread, st *state) {
	eff, serr := x.effectiveInput(th, st)
	if serr != nil {
		x.handleError(th, st, serr)
		return
	}
	x.event(th, Event{Type: "ParallelStateStarted"})
	th.Phase = phaseBranches
	th.Results = make([]any, len(st.branches))
	th.Children = make([]*thread, len(st.branches))
	th.Left = len(st.branches)
	for i, b := range st.branches {
		c := x.newThread(th.ID, b.scope, b.startAt, eff)
		c.Index = i
		th.Children[i] = c
		x.queue = append(x.queue, c)
	}
}

func (x *Execution) startMap(th *thread, st *state) {
	if st.dist != nil {
		x.startMapRun(th, st)
		return
	}
	eff, serr := x.inputPath(th, st)
	if serr != nil {
		x.handleError(th, st, serr)
		return
	}
	list, serr := mapItems(st, eff)
	if serr != nil {
		x.handleError(th, st, serr)
		return
	}
	maxConc, ok := x.secondsFrom(st.maxConcurrency, st.maxConcurrencyPath, eff)
	if !ok && st.maxConcurrencyPath != nil {
		x.handleError(th, st, runtimeError("An error occurred while executing the state '%s'. MaxConcurrencyPath does not reference a positive integer.", st.name))
		return
	}
	inputs, serr := x.selectItems(th, st, eff, list)
	if serr != nil {
		x.handleError(th, st, serr)
		return
	}
	x.event(th, Event{Type: "MapStateStarted", Length: len(list)})
	if len(list) == 0 {
		x.event(th, Event{Type: "MapStateSucceeded"})
		x.complete(th, st, []any{})
		return
	}
	th.Phase = phaseBranches
	th.Items, th.NextItem, th.Running = inputs, 0, 0
	th.MaxConc = int(maxConc)
	th.Results = make([]any, len(list))
	th.Children = make([]*thread, len(list))
	th.Left = len(list)
	x.startItems(th, st)
}

// mapItems returns the array a Map state iterates over: ItemsPath applied
// to the effective input.
func mapItems(st *state, eff any) ([]any, *StateError) {
	items := eff
	if st.itemsPath != nil {
		v, ok := st.itemsPath.get(eff, nil)
		if !ok {
			return nil, runtimeError("An error occurred while executing the state '%s'. Invalid path '%s': The ItemsPath field references a path that does not exist.", st.name, st.itemsPath.raw)
		}
		items = v
	}
	list, ok := items.([]any)
	if !ok {
		return nil, runtimeError("An error occurred while executing the state '%s'. Items of a Map state must be a JSON array, got %s.", st.name, kind(items))
	}
	return list, nil
}

// selectItems applies ItemSelector to each item, with $$.Map.Item set to
// the item's index and value.
func (x *Execution) selectItems(th *thread, st *state, eff any, list []any) ([]any, *StateError) {
	inputs := make([]any, len(list))
	for i, item := range list {
		inputs[i] = item
		if st.itemSelector == nil {
			continue
		}
		ctx := x.contextObject(th, st, "")
		ctx["Map"] = map[string]any{"Item": map[string]any{"Index": intValue(int64(i)), "Value": item}}
		v, err := st.itemSelector.eval(eff, ctx)
		if err != nil {
			return nil, payloadError("ItemSelector", st.name, err)
		}
		inputs[i] = v
	}
	return inputs, nil
}

// startItems starts Map iterations up to MaxConcurrency (0: all).
func (x *Execution) startItems(th *thread, st *state) {
	if st.dist != nil {
		x.startChildren(th, st)
		return
	}
	for th.NextItem < len(th.Items) && (th.MaxConc == 0 || th.Running < th.MaxConc) {
		i := th.NextItem
		c := x.newThread(th.ID, st.processor.scope, st.processor.startAt, th.Items[i])
		c.Index = i
		th.Items[i] = nil
		th.Children[i] = c
		th.NextItem++
		th.Running++
		x.event(th, Event{Type: "MapIterationStarted", Name: st.name, Index: i})
		x.queue = append(x.queue, c)
	}
}

func (x *Execution) childDone(c *thread) {
	p := x.threads[c.Parent]
	delete(x.threads, c.ID)
	if p == nil || p.Phase != phaseBranches {
		return
	}
	st := x.state(p)
	if st.dist != nil {
		x.childSucceeded(p, st, c)
		return
	}
	p.Children[c.Index] = nil
	p.Results[c.Index] = c.Output
	p.Left--
	if st.typ == "Map" {
		p.Running--
		x.event(p, Event{Type: "MapIterationSucceeded", Name: st.name, Index: c.Index})
		x.startItems(p, st)
	}
	if p.Left > 0 {
		return
	}
	results := p.Results
	p.Results, p.Children, p.Items = nil, nil, nil
	p.Phase = phaseEnter // transient: complete moves it on
	if st.typ == "Map" {
		x.event(p, Event{Type: "MapStateSucceeded"})
	} else {
		x.event(p, Event{Type: "ParallelStateSucceeded"})
	}
	x.complete(p, st, results)
	x.resume(p)
}

func (x *Execution) childFailed(c *thread) {
	p := x.threads[c.Parent]
	delete(x.threads, c.ID)
	if p == nil || p.Phase != phaseBranches {
		return
	}
	st := x.state(p)
	if st.dist != nil {
		x.childRunFailed(p, st, c)
		return
	}
	for _, s := range p.Children {
		if s != nil && s != c {
			x.abortTree(s)
		}
	}
	p.Results, p.Children, p.Items = nil, nil, nil
	if st.typ == "Map" {
		x.event(p, Event{Type: "MapIterationFailed", Name: st.name, Index: c.Index})
		x.event(p, Event{Type: "MapStateFailed"})
	} else {
		x.event(p, Event{Type: "ParallelStateFailed", Error: c.Err.Name, Cause: c.Err.Cause})
	}
	p.Phase = phaseEnter // transient, as in childDone
	x.handleError(p, st, c.Err)
	x.resume(p)
}

// describe is for debugging panics in tests.
func (th *thread) String() string { return fmt.Sprintf("%s@%s/%s", th.ID, th.State, th.Phase) }
