package workflow

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// txn is one transaction of the engine and what to do once it commits.
type txn struct {
	s       *Service
	ctx     context.Context
	tx      *store.Tx
	toRun   []stepRef
	inlined int // NoOp steps run in this transaction
	// starting marks a transaction that fires time triggers.
	starting bool
	// deferred, when set, collects the steps to run and the events to
	// publish after a series of transactions (see inTxDeferring).
	deferred *deferral
	// pausedIDs caches whether an instance (or an ancestor) is paused.
	pausedIDs map[string]bool
	retries   []retryAt
	sleeps    []sleepAt // Sleep steps started, to wake in this process too
	events    []event
}

// retryAt runs a step again after a delay.
type retryAt struct {
	ref   stepRef
	after time.Duration
}

type event struct {
	typ  string
	data map[string]any
}

// inTx runs fn in a transaction, then launches the steps it made ready
// and publishes its events.
func (s *Service) inTx(ctx context.Context, fn func(t *txn) error) error {
	return s.inTxDeferring(ctx, nil, fn)
}

// deferral is what a series of transactions leaves for after the last:
// steps to run and events to publish.
type deferral struct {
	steps  []stepRef
	events []event
}

// inTxDeferring is inTx that, when deferred is not nil, adds the steps to
// run and the events to publish to it instead of running and publishing
// them.
func (s *Service) inTxDeferring(ctx context.Context, deferred *deferral, fn func(t *txn) error) error {
	var t *txn
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		t = &txn{s: s, ctx: ctx, tx: tx, deferred: deferred}
		return fn(t)
	})
	if err != nil {
		return err
	}
	if t.deferred != nil {
		t.deferred.steps = append(t.deferred.steps, t.toRun...)
		t.deferred.events = append(t.deferred.events, t.events...)
		t.toRun, t.events = nil, nil
	} else {
		s.launch(t.toRun)
	}
	for _, r := range t.retries {
		s.retryLater(ctx, r)
	}
	for _, sl := range t.sleeps {
		s.soon(sl.after, sl.args)
	}
	s.publish(t.events)
	return nil
}

// maxInline bounds the NoOp steps one transaction runs itself.
const maxInline = 256

// maxInline is the bound of this transaction: none in one that starts
// instances on time triggers, whose first duty is to start them all on
// time.
func (t *txn) maxInline() int {
	if t.starting {
		return 0
	}
	return maxInline
}

// ready runs a step that has just become ready: a plain NoOp (no params,
// no signals) at once, in this transaction, up to maxInline of them;
// any other step after the commit, in its own goroutine.
func (t *txn) ready(r *instRow, c *compiled, step string) error {
	st := c.steps[step]
	if paused, _ := t.paused(r); paused {
		t.toRun = append(t.toRun, stepRef{r.id, step}) // its run waits for the resume
		return nil
	}
	if t.inlined >= t.maxInline() || st.Kind != definition.KindStep || !strings.EqualFold(st.Type, "NoOp") ||
		len(st.Params) > 0 || len(st.SignalDependencies) > 0 {
		t.toRun = append(t.toRun, stepRef{r.id, step})
		return nil
	}
	t.inlined++
	var attempt int
	err := t.tx.QueryRowContext(t.ctx, `UPDATE workflow_steps SET status = ?, attempts = attempts + 1, started_at = ?
		WHERE instance_id = ? AND step_id = ? AND status = ? RETURNING attempts`, StepRunning, t.s.nowMS(), r.id, step, StepCreated).Scan(&attempt)
	if err != nil {
		return fmt.Errorf("run step %s of %s: %w", step, r.id, err)
	}
	return t.finishStep(stepRef{r.id, step}, attempt, StepSucceeded, nil, "")
}

// finishStep records a step attempt's end and moves the instance on.
func (t *txn) finishStep(ref stepRef, attempt int, status string, output map[string]any, why string) error {
	r, err := loadInstRow(t.ctx, t.tx, ref.inst)
	if err != nil {
		return err
	}
	c, err := t.s.version(t.ctx, t.tx, r.workflow, r.version)
	if err != nil {
		return err
	}
	st := c.steps[ref.step]
	if col := failureColumn(status); col != "" {
		var failures int
		err := t.tx.QueryRowContext(t.ctx, `UPDATE workflow_steps SET `+col+` = `+col+` + 1
			WHERE instance_id = ? AND step_id = ? AND status = ? AND attempts = ? RETURNING `+col, ref.inst, ref.step, StepRunning, attempt).Scan(&failures)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // a late or repeated report
		}
		if err != nil {
			return err
		}
		if delay, retry := retryDelay(st, status, failures, r.params); retry {
			return t.retryStep(r, ref, attempt, delay, status+": "+why)
		}
	}
	if stepFailed(status) && strings.EqualFold(st.FailureMode, "ignore_failure") {
		status = StepCompletedWithError
	}
	out, _ := json.Marshal(output)
	if output == nil {
		out = []byte("{}")
	}
	res, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_steps SET status = ?, output = ?, error = ?, finished_at = ?
		WHERE instance_id = ? AND step_id = ? AND status = ? AND attempts = ?`, status, string(out), why, t.s.nowMS(), ref.inst, ref.step, StepRunning, attempt)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // a late or repeated report
	}
	if st.Kind == definition.KindForeach {
		t.s.forgetForeach(ref)
	}
	if len(st.SignalDependencies) > 0 {
		if err := t.forgetWaits(ref.inst, ref.step); err != nil {
			return err
		}
	}
	t.stepEvent(r, ref.step, status, why)
	if stepFailed(status) {
		reason := fmt.Sprintf("step %s %s: %s", ref.step, status, why)
		if strings.EqualFold(st.FailureMode, "fail_immediately") {
			return t.stopInstance(r.id, InstanceFailed, reason)
		}
		// fail_after_running (Maestro's default): the steps running go
		// on; no other starts; the instance fails when they are done.
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_instances SET error = ? WHERE id = ? AND error = ''`, reason, r.id); err != nil {
			return err
		}
		r.failing = reason
		if err := t.propagate(r, c, ref.step, false); err != nil {
			return err
		}
		return t.checkDone(r)
	}
	if err := t.propagate(r, c, ref.step, true); err != nil {
		return err
	}
	return t.checkDone(r)
}

// retryStep makes a failed attempt's step ready again after delay.
func (t *txn) retryStep(r *instRow, ref stepRef, attempt int, delay time.Duration, why string) error {
	res, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_steps SET status = ?, error = ? WHERE instance_id = ? AND step_id = ? AND status = ? AND attempts = ?`,
		StepCreated, fmt.Sprintf("attempt %d failed (%s); retrying in %s", attempt, why, delay), ref.inst, ref.step, StepRunning, attempt)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	t.stepEvent(r, ref.step, "retrying", why)
	t.retries = append(t.retries, retryAt{ref: ref, after: delay})
	return nil
}

// propagate settles the edges out of a finished step: a successor whose
// predecessors are all done runs if one of its edges was taken, and is
// UNSATISFIED (and passes that on) otherwise.
func (t *txn) propagate(r *instRow, c *compiled, step string, ran bool) error {
	st := c.steps[step]
	var scope exprScope
	if ran {
		sc, err := t.stepScope(r, step)
		if err != nil {
			return err
		}
		scope = sc
	}
	for _, next := range st.Transition.Order {
		taken := false
		if ran {
			ok, err := evaluator{c, t.s.now}.condition(st.Transition.Successors[next], scope)
			if err != nil {
				return t.stopInstance(r.id, InstanceFailed, fmt.Sprintf("step %s: condition to %s: %v", step, next, err))
			}
			taken = ok
		}
		sat := 0
		if taken {
			sat = 1
		}
		var pending, satisfied int
		if err := t.tx.QueryRowContext(t.ctx, `UPDATE workflow_steps SET pending = pending - 1, satisfied = satisfied + ?
			WHERE instance_id = ? AND step_id = ? RETURNING pending, satisfied`, sat, r.id, next).Scan(&pending, &satisfied); err != nil {
			return fmt.Errorf("step %s of %s: %w", next, r.id, err)
		}
		if pending > 0 {
			continue
		}
		if satisfied > 0 && r.failing == "" {
			if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_steps SET status = ? WHERE instance_id = ? AND step_id = ? AND status = ?`,
				StepCreated, r.id, next, StepNotCreated); err != nil {
				return err
			}
			if err := t.ready(r, c, next); err != nil {
				return err
			}
			continue
		}
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_steps SET status = ?, finished_at = ? WHERE instance_id = ? AND step_id = ?`,
			StepUnsatisfied, t.s.nowMS(), r.id, next); err != nil {
			return err
		}
		if err := t.propagate(r, c, next, false); err != nil {
			return err
		}
	}
	return nil
}

// checkDone completes an instance whose steps are all final.
func (t *txn) checkDone(r *instRow) error {
	var open int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM workflow_steps WHERE instance_id = ? AND status IN (?, ?, ?)`,
		r.id, StepNotCreated, StepCreated, StepRunning).Scan(&open); err != nil {
		return err
	}
	if open > 0 {
		return nil
	}
	if r.failing != "" {
		return t.endInstance(r, InstanceFailed, r.failing)
	}
	return t.endInstance(r, InstanceSucceeded, "")
}

// errNoRunner is the failure of a step type Gaffer cannot run.
var errNoRunner = errors.New("no runner for step type")
