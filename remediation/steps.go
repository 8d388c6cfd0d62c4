package remediation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// stepRun is what a step's handler works with.
type stepRun struct {
	e    *engine
	ex   *Execution
	c    *Compiled
	cs   *cstep
	st   *StepState
	vars map[string]any
}

// run runs a step this process claimed, and records its outcome.
func (e *engine) run(execID, key string) {
	ctx := context.Background()
	started := e.s.now()
	ex, err := loadExec(ctx, e.db, execID)
	if err != nil {
		e.log.Error("run step: load execution", "execution", execID, "error", err)
		return
	}
	st, err := loadStep(ctx, e.db, execID, key)
	if err != nil {
		e.log.Error("run step", "execution", execID, "step", key, "error", err)
		return
	}
	if st.Status != StepRunning || st.owner != e.owner {
		return
	}
	if ex.Status == ExecCancelled || ex.Status == ExecPaused {
		// Claimed but not begun: a paused run starts it on resume.
		status := StepPending
		if ex.Status == ExecCancelled {
			status = StepCancelled
		}
		e.db.ExecContext(ctx, `UPDATE remediation_steps SET status = ?, owner = '' WHERE execution_id = ? AND step_key = ? AND attempt = ?`,
			status, execID, key, st.Attempt)
		return
	}
	c, err := e.s.runbooks.compiled(ctx, ex.Runbook, ex.Version)
	if err != nil {
		e.finish(ctx, execID, key, st.Attempt, outcome{status: StepFailed, err: err.Error(), noRetry: true})
		return
	}
	cs := c.step(st.Name)
	if e.onStarted != nil {
		e.onStarted(execID, key, started)
	}
	r := &stepRun{e: e, ex: ex, c: c, cs: cs, st: st}
	if st.Parent == "" && (cs.forEach != nil || cs.Targets != nil) {
		if err := r.fanOut(ctx); err != nil {
			e.finish(ctx, execID, key, st.Attempt, outcome{status: StepFailed, err: err.Error(), noRetry: true})
		}
		return
	}
	if cs.Type != TypeAgent {
		if err := r.loadVars(ctx); err != nil {
			e.finish(ctx, execID, key, st.Attempt, failed(err))
			return
		}
	}
	if !cs.idempotent && st.StartedAt == nil {
		// Recorded before any side effect, so that a crash from here on
		// leaves an outcome known to be unknown.
		if _, err := e.db.ExecContext(ctx, `UPDATE remediation_steps SET started_at = ? WHERE execution_id = ? AND step_key = ? AND attempt = ?`,
			started.UnixMilli(), execID, key, st.Attempt); err != nil {
			e.log.Error("record step start", "execution", execID, "step", key, "error", err)
			return
		}
	}
	sctx, cancel := context.WithTimeout(ctx, cs.timeout)
	e.mu.Lock()
	e.cancels[execID+"/"+key] = cancel
	e.mu.Unlock()
	out := r.do(sctx)
	ctxErr := sctx.Err()
	e.mu.Lock()
	delete(e.cancels, execID+"/"+key)
	e.mu.Unlock()
	cancel()
	if out.status == "" {
		return // parked
	}
	if out.status == StepFailed && errors.Is(ctxErr, context.DeadlineExceeded) {
		out.err = fmt.Sprintf("timed out after %s: %s", cs.timeout, out.err)
	}
	if out.status == StepFailed && errors.Is(ctxErr, context.Canceled) {
		out.status, out.err = StepCancelled, "cancelled"
	}
	out.started = started
	if err := e.finish(ctx, execID, key, st.Attempt, out); err != nil {
		e.log.Error("finish step", "execution", execID, "step", key, "error", err)
	}
}

func (r *stepRun) loadVars(ctx context.Context) error {
	steps, err := loadSteps(ctx, r.e.db, r.ex.ID, "", true)
	if err != nil {
		return err
	}
	r.vars = baseVars(r.ex, steps)
	if r.st.Parent != "" {
		var item struct {
			Item  any `json:"item"`
			Agent any `json:"agent"`
		}
		json.Unmarshal(r.st.Item, &item)
		r.vars["item"] = decodeJSON(r.st.Item)
		r.vars["index"] = int64(r.st.Index)
	}
	return nil
}

// do performs the step by type.
func (r *stepRun) do(ctx context.Context) outcome {
	switch r.cs.Type {
	case TypeNoop:
		v, err := r.cs.output.eval(r.vars)
		if err != nil {
			return failed(err)
		}
		return succeeded(v)
	case TypeAgent:
		return r.agent(ctx)
	case TypeHTTP:
		return r.http(ctx)
	case TypeMetrics:
		return r.metrics(ctx)
	case TypeChangepoint:
		return r.changepoint(ctx)
	case TypeCorrelate:
		return r.correlate(ctx)
	case TypePublish:
		return r.publish(ctx)
	case TypeSleep:
		return r.park(ctx, r.cs.duration, wakeSleep, nil)
	case TypeWaitEvent:
		return r.park(ctx, r.cs.timeout, wakeTimeout, map[string]any{"condition": r.cs.Condition})
	case TypeApproval:
		return r.approval(ctx)
	}
	return outcome{status: StepFailed, err: "unknown step type " + r.cs.Type, noRetry: true}
}

// park sets the step waiting and schedules its wake-up.
func (r *stepRun) park(ctx context.Context, after time.Duration, reason string, detail map[string]any) outcome {
	// "until" is shown on the service's clock; the job is scheduled on
	// the wall clock River compares with.
	at := wallNow().Add(after)
	if detail == nil {
		detail = map[string]any{}
	}
	detail["until"] = r.e.s.now().Add(after).UTC().Format(time.RFC3339Nano)
	dj, _ := json.Marshal(detail)
	err := r.e.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE remediation_steps SET status = ?, owner = '', detail = ?, started_at = ?
			WHERE execution_id = ? AND step_key = ? AND attempt = ? AND status = ?`,
			StepWaiting, string(dj), r.e.s.nowMS(), r.ex.ID, r.st.Key, r.st.Attempt, StepRunning)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = r.e.s.jobs.EnqueueTx(ctx, tx, wakeKind, wakeArgs{Exec: r.ex.ID, Key: r.st.Key, Attempt: r.st.Attempt, Reason: reason},
			&jobs.EnqueueOptions{At: at})
		return err
	})
	if err != nil {
		return failed(err)
	}
	r.e.soon(after, wakeArgs{Exec: r.ex.ID, Key: r.st.Key, Attempt: r.st.Attempt, Reason: reason})
	if r.cs.Type == TypeWaitEvent {
		r.e.s.waiters.changed()
	}
	return parked
}

// fanOut creates the items of a for_each or agent step and starts the
// first ones.
func (r *stepRun) fanOut(ctx context.Context) error {
	var items []any
	var agents []string
	var details []string
	if r.cs.Targets != nil {
		if err := r.loadVars(ctx); err != nil {
			return err
		}
		tv, err := r.cs.targets.eval(r.vars)
		if err != nil {
			return fmt.Errorf("targets: %w", err)
		}
		tm := tv.(map[string]any)
		t := &Targets{Tags: map[string]string{}}
		t.Agent, _ = tm["agent"].(string)
		for k, v := range tm["tags"].(map[string]any) {
			t.Tags[k] = fmt.Sprint(v)
		}
		sel, err := r.e.s.agents.selectAgents(ctx, t)
		if err != nil {
			return err
		}
		if len(sel) == 0 {
			return fmt.Errorf("no connected agent matches the targets %s", targetString(t))
		}
		for _, a := range sel {
			item := map[string]any{"agent": a.Name, "hostname": a.Hostname, "tags": a.Tags}
			items = append(items, item)
			agents = append(agents, a.Name)
			// The action's parameters are worked out now, once per item,
			// so that dispatching an item needs no variables.
			params := map[string]any{}
			if r.cs.params != nil {
				r.vars["item"], r.vars["index"] = item, int64(len(agents)-1)
				v, err := r.cs.params.eval(r.vars)
				if err != nil {
					return fmt.Errorf("params: %w", err)
				}
				params = v.(map[string]any)
			}
			d, _ := json.Marshal(map[string]any{"params": params})
			details = append(details, string(d))
		}
	} else {
		if err := r.loadVars(ctx); err != nil {
			return err
		}
		v, err := r.cs.forEach.eval(r.vars)
		if err != nil {
			return fmt.Errorf("for_each: %w", err)
		}
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("for_each: %s: want a list, got %s", r.cs.ForEach, short(v))
		}
		items = list
	}
	if len(items) > 10000 {
		return fmt.Errorf("%d items; at most 10000", len(items))
	}
	var toRun []string
	err := r.e.db.InTx(ctx, func(tx *store.Tx) error {
		toRun = nil
		ex, err := r.e.lockExec(ctx, tx, r.ex.ID)
		if err != nil {
			return err
		}
		n := min(len(items), r.cs.concurrency)
		if !active(ex.Status) {
			n = 0
		}
		lease := r.e.leaseUntil()
		seq, err := nextSeq(ctx, tx, r.ex.ID)
		if err != nil {
			return err
		}
		for i, it := range items {
			ij, _ := json.Marshal(it)
			status, owner, l := StepPending, "", int64(0)
			if i < n {
				status, owner, l = StepRunning, r.e.owner, lease
			}
			key := itemKey(r.st.Key, i)
			agentName, detail := "", ""
			if agents != nil {
				agentName, detail = agents[i], details[i]
			}
			if err := r.e.insertItem(ctx, tx, r.ex.ID, key, r.st.Name, r.st.Key, i, ij, status, owner, l, agentName, detail, seq+int64(i)); err != nil {
				return err
			}
			if status == StepRunning {
				toRun = append(toRun, key)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE remediation_steps SET items_total = ?, items_started = ?, started_at = ?
			WHERE execution_id = ? AND step_key = ?`, len(items), n, r.e.s.nowMS(), r.ex.ID, r.st.Key)
		return err
	})
	if err != nil {
		return err
	}
	if len(items) == 0 {
		t := outcome{status: StepSucceeded, output: map[string]any{"items": []any{}, "succeeded": 0, "failed": 0}}
		return r.e.finish(ctx, r.ex.ID, r.st.Key, r.st.Attempt, t)
	}
	r.e.launch(r.ex.ID, toRun)
	return nil
}

func targetString(t *Targets) string {
	if t.Agent != "" {
		return "agent=" + t.Agent
	}
	b, _ := json.Marshal(t.Tags)
	return "tags=" + string(b)
}
