package asl

// Restoring an execution from its snapshot: timers are re-armed from the
// deadlines the threads recorded; those that fell due while the engine was
// down fire at once, in deadline order; Lambda invocations that were in
// flight are made again (Lambda is at-least-once anyway), and so are
// ItemReader reads.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Restore loads an execution from a snapshot that Options.Persist received
// and resumes it if it was running. It fails if the snapshot is corrupt, its
// definition no longer parses, or the execution is already loaded.
func (e *Engine) Restore(snapshot []byte) (*Execution, error) {
	var rec execRecord
	d := json.NewDecoder(bytes.NewReader(snapshot))
	d.UseNumber()
	if err := d.Decode(&rec); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if rec.ID == "" || rec.Root == nil {
		return nil, fmt.Errorf("restore: snapshot has no execution")
	}
	sm, err := Parse(rec.Definition)
	if err != nil {
		return nil, fmt.Errorf("restore %s: %w", rec.ID, err)
	}
	input, err := decodeJSON([]byte(rec.Input))
	if err != nil {
		return nil, fmt.Errorf("restore %s: input: %w", rec.ID, err)
	}
	x := &Execution{e: e, sm: sm, input: input, rec: rec, threads: map[string]*thread{},
		timers: map[string]Timer{}, cancels: map[string]context.CancelFunc{}}
	if err := e.register(rec.ID, x, "restore: execution %s is already loaded"); err != nil {
		return nil, err
	}

	x.mu.Lock()
	if x.rec.Status == StatusRunning {
		x.resumeAll()
	}
	x.commit()
	x.mu.Unlock()
	e.notify()
	return x, nil
}

type dueTimer struct {
	id, kind string
	at       time.Time
}

// resumeAll re-arms every thread's timers and restarts lost work.
func (x *Execution) resumeAll() {
	now := x.e.clock.Now()
	var overdue []dueTimer
	armOrFire := func(id, kind string, at time.Time) {
		if at.IsZero() {
			return
		}
		if at.After(now) {
			x.arm(id, kind, at)
			return
		}
		overdue = append(overdue, dueTimer{id, kind, at})
	}
	armOrFire("", "execution", x.rec.TimeoutAt)
	var walk func(th *thread)
	walk = func(th *thread) {
		if th == nil {
			return
		}
		x.threads[th.ID] = th
		switch th.Phase {
		case phaseEnter:
			x.queue = append(x.queue, th)
		case phaseWait, phaseRetry:
			armOrFire(th.ID, "due", th.Due)
		case phaseRead:
			x.restartRead(th)
		case phaseInvoke, phaseToken:
			armOrFire(th.ID, "timeout", th.TimeoutAt)
			if th.Phase == phaseToken {
				armOrFire(th.ID, "heartbeat", th.HeartAt)
			}
			if th.Phase == phaseInvoke || !th.Submitted {
				x.invoke(th, x.state(th))
			}
		}
		for _, c := range th.Children {
			walk(c)
		}
	}
	walk(x.rec.Root)
	sort.SliceStable(overdue, func(i, j int) bool { return overdue[i].at.Before(overdue[j].at) })
	for _, t := range overdue {
		x.fire(t.id, t.kind, t.at)
		// Drain between timers so that each fires on the state it found.
		for len(x.queue) > 0 {
			th := x.queue[0]
			x.queue = x.queue[1:]
			for th.Phase == phaseEnter && x.rec.Status == StatusRunning {
				x.enter(th)
			}
		}
	}
	x.dirty = true
}
