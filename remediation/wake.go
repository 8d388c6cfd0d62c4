package remediation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// wakeKind is the job that wakes a step or an execution at a set time.
const wakeKind = "remediation.wake"

// Wake reasons.
const (
	wakeRetry    = "retry"    // run the next attempt of a failed step
	wakeSleep    = "sleep"    // a sleep step is over
	wakeExpire   = "expire"   // an approval expired
	wakeTimeout  = "timeout"  // a waiting or dispatched step timed out
	wakeDeadline = "deadline" // the run's timeout
	wakeUnknown  = "unknown"  // nobody settled a step of unknown outcome
)

type wakeArgs struct {
	Exec    string `json:"exec"`
	Key     string `json:"key,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	Reason  string `json:"reason"`
}

func (e *engine) registerJobs(q *jobs.Queue) {
	jobs.HandleFunc(q, wakeKind, jobs.KindOptions{MaxAttempts: 20, Timeout: time.Minute},
		func(ctx context.Context, _ *jobs.Job, a wakeArgs) error { return e.wake(ctx, a) })
}

func (e *engine) wake(ctx context.Context, a wakeArgs) error {
	if a.Reason == wakeDeadline {
		return e.stopExec(ctx, a.Exec, "engine", ExecFailed, "the run's timeout passed")
	}
	st, err := loadStep(ctx, e.db, a.Exec, a.Key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Attempt != a.Attempt {
		return nil
	}
	switch a.Reason {
	case wakeRetry:
		if st.Status != StepPending {
			return nil
		}
		ex, err := loadExec(ctx, e.db, a.Exec)
		if err != nil || !active(ex.Status) {
			return err // a paused run retries on resume
		}
		res, err := e.db.ExecContext(ctx, `UPDATE remediation_steps SET status = ?, attempt = attempt + 1, owner = ?, lease_until = ?,
			started_at = NULL WHERE execution_id = ? AND step_key = ? AND status = ? AND attempt = ?`,
			StepRunning, e.owner, e.leaseUntil(), a.Exec, a.Key, StepPending, a.Attempt)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			e.launch(a.Exec, []string{a.Key})
		}
		return nil
	case wakeSleep:
		if st.Status == StepWaiting {
			return e.finish(ctx, a.Exec, a.Key, a.Attempt, succeeded(map[string]any{"slept_until": e.s.now().UTC()}))
		}
	case wakeExpire:
		if st.Status == StepWaiting {
			return e.finish(ctx, a.Exec, a.Key, a.Attempt, outcome{status: StepFailed, err: "approval expired unanswered", noRetry: true})
		}
	case wakeUnknown:
		if st.Status == StepUnknown {
			where := ""
			if st.Agent != "" {
				where = " on host " + st.Agent
			}
			return e.stopExec(ctx, a.Exec, "engine", ExecFailed, fmt.Sprintf(
				"the outcome of step %s%s stayed unknown for %s and nobody ran it again, marked it done or failed it",
				a.Key, where, e.s.settings.UnknownTimeout))
		}
	case wakeTimeout:
		if st.Status == StepWaiting {
			return e.finish(ctx, a.Exec, a.Key, a.Attempt, failed(errors.New("no matching event before the step's timeout")))
		}
		if st.Status == StepRunning && st.RunID != "" {
			e.cancelStep(a.Exec, *st)
			return e.finish(ctx, a.Exec, a.Key, a.Attempt, failed(fmt.Errorf("agent %s did not report run %s before the step's timeout", st.Agent, st.RunID)))
		}
	}
	return nil
}

func (e *engine) scheduleTimeout(ctx context.Context, execID, key string, attempt int, after time.Duration) {
	a := wakeArgs{Exec: execID, Key: key, Attempt: attempt, Reason: wakeTimeout}
	if _, err := e.s.jobs.Enqueue(ctx, wakeKind, a, &jobs.EnqueueOptions{At: wallNow().Add(after)}); err != nil { // wall clock: River's At
		e.log.Error("schedule step timeout", "execution", execID, "step", key, "error", err)
	}
	e.soon(after, a)
}

// maxTimer is the longest wait this process also keeps a timer for.
const maxTimer = 15 * time.Minute

// soon wakes a step (or the execution) in this process after d, as well
// as through its durable job: River's scheduler may start a scheduled job
// a few seconds late, and the job takes over when this process dies. The
// wake that comes second finds nothing to do.
func (e *engine) soon(d time.Duration, a wakeArgs) {
	if d > maxTimer {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		e.mu.Lock()
		_, live := e.timers[t]
		delete(e.timers, t)
		e.mu.Unlock()
		if !live {
			return
		}
		if err := e.wake(context.Background(), a); err != nil {
			e.log.Warn("wake step", "execution", a.Exec, "step", a.Key, "reason", a.Reason, "error", err)
		}
	})
	e.timers[t] = struct{}{}
}

// stopTimers ends the in-process timers (their jobs remain).
func (e *engine) stopTimers() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopped = true
	for t := range e.timers {
		t.Stop()
	}
	e.timers = nil
}

// markUnknown records that a step's outcome cannot be known: the
// execution waits for an operator to run the step again, mark it done or
// fail it — said on the page, in the CLI and as a
// gaffer.remediation.unknown_outcome event — and fails with that reason
// if nobody answers within --remediation-unknown-timeout.
func (e *engine) markUnknown(ctx context.Context, execID, key string, attempt int, why string) error {
	var ex *Execution
	var where string
	err := e.db.InTx(ctx, func(tx *store.Tx) error {
		ex = nil
		st, err := loadStep(ctx, tx, execID, key)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE remediation_steps SET status = ?, error = ?, owner = '' WHERE execution_id = ?
			AND step_key = ? AND attempt = ? AND status IN (?, ?)`, StepUnknown, why, execID, key, attempt, StepRunning, StepWaiting)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if st.Agent != "" {
			where = " on host " + st.Agent
		}
		attention := fmt.Sprintf("the outcome of step %s%s is unknown: %s. Run it again, mark it done or fail it; "+
			"without an answer the execution fails in %s", key, where, why, e.s.settings.UnknownTimeout)
		if _, err := tx.ExecContext(ctx, `UPDATE remediation_executions SET status = ?, attention = ?, updated_at = ?
			WHERE id = ? AND status IN (?, ?)`, ExecWaiting, attention, e.s.nowMS(), execID, ExecRunning, ExecWaiting); err != nil {
			return err
		}
		if ex, err = loadExec(ctx, tx, execID); err != nil {
			return err
		}
		a := wakeArgs{Exec: execID, Key: key, Attempt: attempt, Reason: wakeUnknown}
		if _, err := e.s.jobs.EnqueueTx(ctx, tx, wakeKind, a, &jobs.EnqueueOptions{At: wallNow().Add(e.s.settings.UnknownTimeout)}); err != nil {
			return err
		}
		return e.s.addHistory(ctx, tx, execID, "engine", "needs an operator", key, why)
	})
	if err != nil || ex == nil {
		return err
	}
	e.soon(e.s.settings.UnknownTimeout, wakeArgs{Exec: execID, Key: key, Attempt: attempt, Reason: wakeUnknown})
	e.s.publishUnknown(ex, key, strings.TrimPrefix(where, " on host "), why)
	return nil
}

// cancelStep stops a step running here, or tells its agent to stop.
func (e *engine) cancelStep(execID string, st StepState) {
	e.mu.Lock()
	cancel := e.cancels[execID+"/"+st.Key]
	e.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if st.RunID != "" && st.Agent != "" {
		e.s.agents.cancel(st.Agent, st.RunID)
	}
}

// stopExec ends an execution as cancelled (by an operator) or failed (its
// deadline passed), stopping its unfinished steps.
func (e *engine) stopExec(ctx context.Context, execID, actor, status, why string) error {
	var stop []StepState
	var ex *Execution
	err := e.db.InTx(ctx, func(tx *store.Tx) error {
		stop = nil
		var err error
		if ex, err = e.lockExec(ctx, tx, execID); err != nil {
			return err
		}
		if execDone(ex.Status) {
			ex = nil
			return nil
		}
		steps, err := loadSteps(ctx, tx, execID, "*", false)
		if err != nil {
			return err
		}
		for _, s := range steps {
			if s.Status == StepRunning || s.Status == StepWaiting {
				stop = append(stop, s)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE remediation_steps SET status = ?, finished_at = ?, owner = '' WHERE execution_id = ?
			AND status IN (?, ?, ?, ?)`, StepCancelled, e.s.nowMS(), execID, StepPending, StepRunning, StepWaiting, StepUnknown); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE remediation_executions SET status = ?, error = ?, attention = '', finished_at = ?
			WHERE id = ?`, status, why, e.s.nowMS(), execID); err != nil {
			return err
		}
		ex.Status = status
		if err := e.s.addHistory(ctx, tx, execID, actor, status, "", why); err != nil {
			return err
		}
		return e.s.reportStep(ctx, tx, ex, status, why)
	})
	if err != nil {
		return err
	}
	for _, s := range stop {
		e.cancelStep(execID, s)
	}
	if ex != nil {
		e.s.publishFinished(ex, status)
	}
	return nil
}

// ErrConflict is an operation the execution's state does not allow.
var ErrConflict = errors.New("conflict")

// setPaused pauses or resumes an execution.
func (e *engine) setPaused(ctx context.Context, execID, actor string, pause bool) error {
	var toRun []string
	err := e.db.InTx(ctx, func(tx *store.Tx) error {
		toRun = nil
		ex, err := e.lockExec(ctx, tx, execID)
		if err != nil {
			return err
		}
		from, to, what := ExecRunning, ExecPaused, "paused"
		if !pause {
			from, to, what = ExecPaused, ExecRunning, "resumed"
		}
		if ex.Status != from {
			return fmt.Errorf("execution %s is %s, not %s: %w", execID, ex.Status, from, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE remediation_executions SET status = ? WHERE id = ?`, to, execID); err != nil {
			return err
		}
		if err := e.s.addHistory(ctx, tx, execID, actor, what, "", ""); err != nil {
			return err
		}
		if pause {
			return nil
		}
		// Start what the pause held back: pending steps (a retry that
		// was waiting for its backoff runs now) and fan-out items up to
		// the concurrency.
		steps, err := loadSteps(ctx, tx, execID, "*", false)
		if err != nil {
			return err
		}
		c, err := e.s.runbooks.compiledTx(ctx, tx, ex.Runbook, ex.Version)
		if err != nil {
			return err
		}
		running := map[string]int{}
		for _, s := range steps {
			if s.Parent != "" && s.Status == StepRunning {
				running[s.Parent]++
			}
		}
		for _, s := range steps {
			if s.Status != StepPending {
				continue
			}
			if s.Parent != "" {
				cs := c.step(s.Name)
				if cs == nil || running[s.Parent] >= cs.concurrency {
					continue
				}
				running[s.Parent]++
				if _, err := tx.ExecContext(ctx, `UPDATE remediation_steps SET items_started = items_started + 1 WHERE execution_id = ? AND step_key = ?`,
					execID, s.Parent); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE remediation_steps SET status = ?, attempt = attempt + 1, owner = ?, lease_until = ?
				WHERE execution_id = ? AND step_key = ?`, StepRunning, e.owner, e.leaseUntil(), execID, s.Key); err != nil {
				return err
			}
			toRun = append(toRun, s.Key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.launch(execID, toRun)
	return nil
}

// rerun runs a failed, cancelled or unknown step again (a new attempt) and
// reopens its execution.
func (e *engine) rerun(ctx context.Context, execID, key, actor string) error {
	err := e.db.InTx(ctx, func(tx *store.Tx) error {
		ex, err := e.lockExec(ctx, tx, execID)
		if err != nil {
			return err
		}
		st, err := loadStep(ctx, tx, execID, key)
		if err != nil {
			return err
		}
		if st.Status != StepFailed && st.Status != StepUnknown && st.Status != StepCancelled {
			return fmt.Errorf("step %s is %s; only a failed, cancelled or unknown step can run again: %w", key, st.Status, ErrConflict)
		}
		if ex.Status == ExecRunning || ex.Status == ExecPaused {
			if st.Status != StepUnknown {
				return fmt.Errorf("execution %s is %s: %w", execID, ex.Status, ErrConflict)
			}
		}
		if st.Parent != "" && st.Status != StepUnknown {
			return fmt.Errorf("step %s is an item of %s; re-run %s: %w", key, st.Parent, st.Parent, ErrConflict)
		}
		if st.Parent == "" {
			// A fan-out step fans out again.
			if _, err := tx.ExecContext(ctx, `DELETE FROM remediation_steps WHERE execution_id = ? AND parent = ?`, execID, key); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE remediation_steps SET status = ?, attempt = attempt + 1, owner = ?, lease_until = ?,
			error = '', output = NULL, finished_at = NULL, started_at = NULL, run_id = '', items_total = 0, items_started = 0,
			items_done = 0, items_failed = 0 WHERE execution_id = ? AND step_key = ?`, StepRunning, e.owner, e.leaseUntil(), execID, key); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE remediation_executions SET status = ?, failed = 0, error = '', attention = '',
			finished_at = NULL WHERE id = ?`, ExecRunning, execID); err != nil {
			return err
		}
		if now := e.s.now(); ex.Deadline.Before(now) {
			c, err := e.s.runbooks.compiledTx(ctx, tx, ex.Runbook, ex.Version)
			if err != nil {
				return err
			}
			// The stored deadline is on the service's clock; the job's At on
			// the wall clock River compares with.
			tx.ExecContext(ctx, `UPDATE remediation_executions SET deadline = ? WHERE id = ?`, now.Add(c.timeout).UnixMilli(), execID)
			if _, err := e.s.jobs.EnqueueTx(ctx, tx, wakeKind, wakeArgs{Exec: execID, Reason: wakeDeadline},
				&jobs.EnqueueOptions{At: wallNow().Add(c.timeout)}); err != nil {
				return err
			}
		}
		return e.s.addHistory(ctx, tx, execID, actor, "re-ran step", key, "")
	})
	if err != nil {
		return err
	}
	e.launch(execID, []string{key})
	return nil
}

// resolve settles an unknown step as the operator says it ended.
func (e *engine) resolve(ctx context.Context, execID, key, actor, as, note string) error {
	st, err := loadStep(ctx, e.db, execID, key)
	if err != nil {
		return err
	}
	if st.Status != StepUnknown {
		return fmt.Errorf("step %s is %s, not unknown: %w", key, st.Status, ErrConflict)
	}
	if _, err := e.db.ExecContext(ctx, `UPDATE remediation_steps SET status = ? WHERE execution_id = ? AND step_key = ? AND status = ?`,
		StepRunning, execID, key, StepUnknown); err != nil {
		return err
	}
	e.s.addHistory(ctx, e.db, execID, actor, "resolved as "+as, key, note)
	out := outcome{status: StepSucceeded, output: map[string]any{"resolved_by": actor, "note": note}}
	if as == StepFailed {
		out = outcome{status: StepFailed, err: "resolved as failed by " + actor + ": " + note, noRetry: true}
	}
	return e.finish(ctx, execID, key, st.Attempt, out)
}
