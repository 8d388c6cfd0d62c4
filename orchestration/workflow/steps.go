package workflow

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/workflowapi"
)

const wakeKind = "workflow.wake"

// wakeArgs end a Sleep step's attempt, or (Retry) run a step waiting
// for its retry.
type wakeArgs struct {
	Instance string `json:"instance"`
	Step     string `json:"step"`
	Attempt  int    `json:"attempt"`
	Retry    bool   `json:"retry,omitempty"`
	// Reason, when set, is a timeout (wakeStepTimeout,
	// wakeInstanceTimeout) of After.
	Reason string `json:"reason,omitempty"`
	After  string `json:"after,omitempty"`
}

// launch runs ready steps, each in its own goroutine.
func (s *Service) launch(refs []stepRef) {
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		return // Start picks them up again
	}
	for _, ref := range refs {
		s.running.Add(1)
		go func() {
			defer s.running.Done()
			// A few at a time: the store has one writer, and a crowd of
			// goroutines waiting on its lock is slower than a queue.
			s.slots <- struct{}{}
			defer func() { <-s.slots }()
			if err := s.run(context.Background(), ref); err != nil {
				s.log.Error("run a workflow step", "instance", ref.inst, "step", ref.step, "error", err)
			}
		}()
	}
}

// run claims a ready step and runs it, in one transaction: a step is
// never seen running without what carries it on (its iterations, its
// subworkflow's instance, its wake-up job), so a process killed at any
// point loses no step and runs none twice.
func (s *Service) run(ctx context.Context, ref stepRef) error {
	err := s.inTx(ctx, func(t *txn) error {
		var attempt int
		err := t.tx.QueryRowContext(ctx, `UPDATE workflow_steps SET status = ?, attempts = attempts + 1, started_at = ?
			WHERE instance_id = ? AND step_id = ? AND status = ? RETURNING attempts`, StepRunning, s.nowMS(), ref.inst, ref.step, StepCreated).Scan(&attempt)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // claimed by another run, or stopped
		}
		if err != nil {
			return err
		}
		r, err := loadInstRow(ctx, t.tx, ref.inst)
		if err != nil {
			return err
		}
		if paused, err := t.paused(r); err != nil || paused {
			return err // rolled back: the step waits, CREATED, for the resume
		}
		c, err := s.version(ctx, t.tx, r.workflow, r.version)
		if err != nil {
			return err
		}
		st := c.steps[ref.step]
		params, err := s.evalStepParams(ctx, t.tx, c, r, st)
		if err != nil {
			return t.finishStep(ref, attempt, StepUserFailed, nil, err.Error())
		}
		if len(params) > 0 {
			pj, err := json.Marshal(params)
			if err != nil {
				return t.finishStep(ref, attempt, StepUserFailed, nil, fmt.Sprintf("params: %v", err))
			}
			if _, err := t.tx.ExecContext(ctx, `UPDATE workflow_steps SET params = ? WHERE instance_id = ? AND step_id = ?`, string(pj), ref.inst, ref.step); err != nil {
				return err
			}
		}
		if d := timeoutOf(st.Timeout, r.params); d > 0 && !strings.EqualFold(st.Type, "NoOp") {
			a := wakeArgs{Instance: ref.inst, Step: ref.step, Attempt: attempt, Reason: wakeStepTimeout, After: d.String()}
			if err := t.scheduleTimeout(a, d); err != nil {
				return err
			}
		}
		if len(st.SignalDependencies) > 0 {
			waiting, err := t.awaitSignals(r, c, ref, attempt, st)
			if err != nil || waiting {
				return err
			}
		}
		return t.doStep(r, c, ref, attempt, st, params)
	})
	if errors.Is(err, errPaused) {
		return nil
	}
	return err
}

// sleepAt is a Sleep step's wake-up, also timed in this process.
type sleepAt struct {
	after time.Duration
	args  wakeArgs
}

// doStep does the work of a claimed attempt whose params are evaluated
// and whose signals, if it waits for any, have come.
func (t *txn) doStep(r *instRow, c *compiled, ref stepRef, attempt int, st *definition.Step, params map[string]any) error {
	s, ctx := t.s, t.ctx
	switch {
	case st.Kind == definition.KindForeach:
		return t.beginForeach(ref, attempt, st, params)
	case st.Kind == definition.KindSubworkflow:
		return t.startSubworkflow(r, ref, attempt, st, params)
	case st.Kind == definition.KindWhile:
		return t.whileNext(r, c, ref, attempt, st, params, 0)
	case strings.EqualFold(st.Type, "NoOp"):
		return t.finishStep(ref, attempt, StepSucceeded, nil, "")
	case external(st):
		_, err := s.jobs.EnqueueTx(ctx, t.tx, runKind, runArgs{Instance: ref.inst, Step: ref.step, Attempt: attempt}, nil)
		return err
	case st.Kind == definition.KindStep && s.jobs.HasKind(workflowapi.RunnerKind(st.Type)):
		return t.startRunner(r, ref, attempt, st, params)
	case strings.EqualFold(st.Type, "Sleep"):
		secs, err := definition.Coerce(definition.TypeLong, params["sleep_seconds"])
		if err != nil || secs.(int64) < 0 {
			return t.finishStep(ref, attempt, StepUserFailed, nil, fmt.Sprintf("sleep_seconds: want a number of seconds ≥ 0, got %v", params["sleep_seconds"]))
		}
		after := time.Duration(float64(time.Duration(secs.(int64))*time.Second) * s.set.SleepScale)
		wake := wakeArgs{Instance: ref.inst, Step: ref.step, Attempt: attempt}
		t.sleeps = append(t.sleeps, sleepAt{after, wake})
		// River compares At with the wall clock.
		_, err = s.jobs.EnqueueTx(ctx, t.tx, wakeKind, wake, &jobs.EnqueueOptions{At: time.Now().Add(after)})
		return err
	}
	return t.finishStep(ref, attempt, StepFatallyFailed, nil, fmt.Sprintf("%v %s", errNoRunner, st.Type))
}

// wake ends a Sleep step's attempt, or runs a step due for a retry.
func (s *Service) wake(ctx context.Context, a wakeArgs) error {
	if a.Retry {
		return s.run(ctx, stepRef{a.Instance, a.Step})
	}
	if a.Reason != "" {
		return s.inTx(ctx, func(t *txn) error { return t.timeOut(a) })
	}
	return s.inTx(ctx, func(t *txn) error {
		return t.finishStep(stepRef{a.Instance, a.Step}, a.Attempt, StepSucceeded, nil, "")
	})
}

// soon also wakes a sleep in this process (River may start a scheduled
// job a little late); the second wake finds nothing to do.
func (s *Service) soon(d time.Duration, a wakeArgs) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || d > 15*time.Minute {
		return
	}
	var tm *time.Timer
	tm = time.AfterFunc(d, func() {
		s.mu.Lock()
		_, live := s.timers[tm]
		delete(s.timers, tm)
		s.mu.Unlock()
		if live {
			if err := s.wake(context.Background(), a); err != nil {
				s.log.Warn("wake a sleep step", "instance", a.Instance, "step", a.Step, "error", err)
			}
		}
	})
	s.timers[tm] = struct{}{}
}

// beginForeach counts a foreach's iterations and starts the first.
func (t *txn) beginForeach(ref stepRef, attempt int, st *definition.Step, params map[string]any) error {
	loops, _ := params["loop_params"].(map[string]any)
	total := 1
	for _, v := range loops {
		total *= lenOf(v)
	}
	if len(loops) == 0 {
		total = 0
	}
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_steps SET iterations = ? WHERE instance_id = ? AND step_id = ?`, total, ref.inst, ref.step); err != nil {
		return err
	}
	if total == 0 {
		return t.finishStep(ref, attempt, StepSucceeded, map[string]any{"iterations": 0}, "")
	}
	conc := st.Concurrency
	if conc <= 0 {
		conc = 20
	}
	return t.startIterations(ref, min(conc, total))
}

// startIterations starts the next n iterations of a running foreach.
func (t *txn) startIterations(ref stepRef, n int) error {
	r, err := loadInstRow(t.ctx, t.tx, ref.inst)
	if err != nil {
		return err
	}
	c, err := t.s.version(t.ctx, t.tx, r.workflow, r.version)
	if err != nil {
		return err
	}
	params, err := t.s.foreachParams(t.ctx, t.tx, ref)
	if err != nil {
		return err
	}
	loops, _ := params["loop_params"].(map[string]any)
	names := sortedKeys(loops)
	for range n {
		// Count the iteration started before creating it: a NoOp body
		// runs in this transaction, and its end may start the next.
		var started int
		err := t.tx.QueryRowContext(t.ctx, `UPDATE workflow_steps SET started = started + 1 WHERE instance_id = ? AND step_id = ?
			AND started < iterations RETURNING started`, ref.inst, ref.step).Scan(&started)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // all started
		}
		if err != nil {
			return err
		}
		idx := started - 1
		child := map[string]any{}
		for key, v := range r.params {
			child[key] = v
		}
		for key, v := range params {
			if key != "loop_params" {
				child[key] = v
			}
		}
		// Mixed radix: the first loop param varies fastest, as Maestro's.
		rest := idx
		for _, name := range names {
			l := lenOf(loops[name])
			child[name] = itemOf(loops[name], rest%l)
			rest /= l
		}
		child["loop_index"] = int64(idx)
		id := ref.inst + "/" + ref.step + "/" + strconv.Itoa(idx+1)
		cr := &instRow{id: id, workflow: r.workflow, version: r.version, parent: ref.inst, parentStep: ref.step, iteration: idx + 1,
			scope: ref.step, status: InstanceInProgress, params: child, by: r.by}
		if err := t.createInstance(cr, c); err != nil {
			return err
		}
	}
	return nil
}

// startSubworkflow starts an instance of another workflow as a child.
func (t *txn) startSubworkflow(r *instRow, ref stepRef, attempt int, st *definition.Step, params map[string]any) error {
	ctx, s := t.ctx, t.s
	target, _ := params["subworkflow_id"].(string)
	version := 0
	if v, ok := params["subworkflow_version"]; ok && fmt.Sprint(v) != "latest" && fmt.Sprint(v) != "active" {
		n, err := strconv.Atoi(fmt.Sprint(v))
		if err != nil {
			return t.finishStep(ref, attempt, StepUserFailed, nil, fmt.Sprintf("subworkflow_version %v: want a number, latest or active", v))
		}
		version = n
	}
	sync := st.Sync == nil || *st.Sync
	var active, latest int
	var no int64
	if err := t.tx.QueryRowContext(ctx, `SELECT active, latest, next_instance FROM workflow_workflows WHERE id = ?`, target).Scan(&active, &latest, &no); err != nil {
		return t.finishStep(ref, attempt, StepUserFailed, nil, fmt.Sprintf("subworkflow %q: no such workflow", target))
	}
	if version == 0 {
		version = active
		if v, _ := params["subworkflow_version"].(string); v == "latest" {
			version = latest
		}
	}
	c, err := s.version(ctx, t.tx, target, version)
	if err != nil {
		return t.finishStep(ref, attempt, StepUserFailed, nil, err.Error())
	}
	given := map[string]any{}
	for _, name := range definition.Predefined { // the run's date and policy pass down
		if v, ok := r.params[name]; ok && !strings.HasPrefix(name, "WORKFLOW_") {
			given[name] = v
		}
	}
	if !st.ExplicitParams {
		for k, v := range r.params {
			if _, declared := c.def.Workflow.Params[k]; declared {
				given[k] = v
			}
		}
	}
	for k, v := range params {
		if k != "subworkflow_id" && k != "subworkflow_version" {
			given[k] = v
		}
	}
	childParams, err := runParams(c, s.now, given)
	if err != nil {
		return t.finishStep(ref, attempt, StepUserFailed, nil, err.Error())
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE workflow_workflows SET next_instance = next_instance + 1 WHERE id = ?`, target); err != nil {
		return err
	}
	childParams["WORKFLOW_ID"], childParams["WORKFLOW_INSTANCE_ID"], childParams["WORKFLOW_VERSION_ID"] = target, no, int64(version)
	parentStep := ref.step
	if !sync {
		parentStep = ""
	}
	cr := &instRow{id: instanceKey(target, no), workflow: target, no: no, version: version, parent: ref.inst, parentStep: parentStep,
		status: InstanceInProgress, params: childParams, by: r.by}
	if err := t.createInstance(cr, c); err != nil {
		return err
	}
	if !sync {
		return t.finishStep(ref, attempt, StepSucceeded, map[string]any{"subworkflow_instance_id": no}, "")
	}
	return nil
}

// resume runs the steps that were ready when the process stopped. A
// running step needs nothing: what carries it on (its wake-up or run
// job, its iterations, its subworkflow's instance) was committed with
// its claim.
func (s *Service) resume(ctx context.Context) error {
	// 'CREATED' is written out: the partial index workflow_steps_ready
	// serves only a query that names its condition.
	rows, err := s.db.QueryContext(ctx, `SELECT s.instance_id, s.step_id FROM workflow_steps s
		JOIN workflow_instances i ON i.id = s.instance_id WHERE s.status = 'CREATED' AND i.status = ?`, InstanceInProgress)
	if err != nil {
		return fmt.Errorf("resume workflow steps: %w", err)
	}
	var ready []stepRef
	for rows.Next() {
		var ref stepRef
		if err := rows.Scan(&ref.inst, &ref.step); err != nil {
			rows.Close()
			return err
		}
		ready = append(ready, ref)
	}
	rows.Close()
	s.launch(ready)
	return rows.Err()
}

func lenOf(v any) int {
	switch x := v.(type) {
	case []any:
		return len(x)
	case []int64:
		return len(x)
	case []string:
		return len(x)
	case []float64:
		return len(x)
	case []bool:
		return len(x)
	}
	return 0
}

func itemOf(v any, i int) any {
	switch x := v.(type) {
	case []any:
		return x[i]
	case []int64:
		return x[i]
	case []string:
		return x[i]
	case []float64:
		return x[i]
	case []bool:
		return x[i]
	}
	return nil
}

// foreachParams returns a running foreach step's evaluated params (its
// loop arrays included), decoded once and kept while it runs: every
// iteration's start reads them.
func (s *Service) foreachParams(ctx context.Context, q querier, ref stepRef) (map[string]any, error) {
	key := foreachKey(ref)
	s.mu.Lock()
	p, ok := s.loops[key]
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	var pj string
	if err := q.QueryRowContext(ctx, `SELECT params FROM workflow_steps WHERE instance_id = ? AND step_id = ?`, ref.inst, ref.step).Scan(&pj); err != nil {
		return nil, err
	}
	p = decodeParams(pj)
	s.mu.Lock()
	if len(s.loops) > 1000 { // a bound, not an LRU: a full cache starts over
		s.loops = map[string]map[string]any{}
	}
	s.loops[key] = p
	s.mu.Unlock()
	return p, nil
}

func foreachKey(ref stepRef) string { return ref.inst + "\x00" + ref.step }

// forgetForeach drops a finished foreach step's cached params.
func (s *Service) forgetForeach(ref stepRef) {
	s.mu.Lock()
	delete(s.loops, foreachKey(ref))
	s.mu.Unlock()
}
