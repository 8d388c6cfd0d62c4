package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// StartRequest starts an instance.
type StartRequest struct {
	// Params override the workflow's params (values are coerced to the
	// declared types; "10" is a LONG 10 where the param is a LONG).
	Params map[string]any `json:"params,omitempty"`
	// Version runs this version instead of the active one.
	Version int `json:"version,omitempty"`
}

// stepRef names a step of an instance row.
type stepRef struct{ inst, step string }

// txn is one transaction of the engine and what to do once it commits.
type txn struct {
	s       *Service
	ctx     context.Context
	tx      *store.Tx
	toRun   []stepRef
	inlined int // NoOp steps run in this transaction
	// starting marks a transaction that fires time triggers.
	starting bool
	// deferred, when set, collects the steps to run after a series of
	// transactions instead of after this one.
	deferred *[]stepRef
	// pausedIDs caches whether an instance (or an ancestor) is paused.
	pausedIDs map[string]bool
	retries   []retryAt
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

// inTxDeferring is inTx that, when deferred is not nil, adds the steps to
// run to it instead of launching them.
func (s *Service) inTxDeferring(ctx context.Context, deferred *[]stepRef, fn func(t *txn) error) error {
	var t *txn
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		t = &txn{s: s, ctx: ctx, tx: tx, deferred: deferred}
		return fn(t)
	})
	if err != nil {
		return err
	}
	if t.deferred != nil {
		*t.deferred = append(*t.deferred, t.toRun...)
	} else {
		s.launch(t.toRun)
	}
	for _, r := range t.retries {
		s.retryLater(ctx, r)
	}
	s.publish(t.events)
	return nil
}

// StartInstance starts an instance of workflow; by names who asked.
func (s *Service) StartInstance(ctx context.Context, workflow string, req StartRequest, by string) (*Instance, error) {
	var no int64
	err := s.inTx(ctx, func(t *txn) error {
		var err error
		no, err = t.startInstance(workflow, req, by, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Instance(ctx, workflow, no)
}

// startInstance creates a top-level instance; initiator adds params
// the start sets (a trigger's TARGET_RUN_DATE, say).
func (t *txn) startInstance(workflow string, req StartRequest, by string, initiator map[string]any) (int64, error) {
	ctx := t.ctx
	var active int
	var no int64
	if err := t.tx.QueryRowContext(ctx, `UPDATE workflow_workflows SET next_instance = next_instance + 1 WHERE id = ?
		RETURNING active, next_instance - 1`, workflow).Scan(&active, &no); err != nil {
		return 0, fmt.Errorf("workflow %q: %w", workflow, ErrNotFound)
	}
	version := active
	if req.Version > 0 {
		version = req.Version
	}
	c, err := t.s.version(ctx, t.tx, workflow, version)
	if err != nil {
		return 0, err
	}
	// Maestro's predefined params of a run: its date in UTC unless a
	// trigger says otherwise, and that it is a new run.
	now := t.s.now().UTC()
	given := map[string]any{"RUN_POLICY": "START_FRESH_NEW_RUN"}
	for k, v := range runDateParams(now, definition.TimeTrigger{}) {
		given[k] = v
	}
	given["INITIATOR_RUNNER_NAME"] = "manual"
	for k, v := range initiator {
		given[k] = v
	}
	for k, v := range req.Params {
		given[k] = v
	}
	params, err := runParams(c, t.s.now, given)
	if err != nil {
		return 0, err
	}
	params["WORKFLOW_ID"], params["WORKFLOW_INSTANCE_ID"], params["WORKFLOW_VERSION_ID"] = workflow, no, int64(version)
	status, err := t.admit(workflow, c.def.Properties.RunStrategy)
	if err != nil {
		return 0, err
	}
	id := instanceKey(workflow, no)
	if d := timeoutOf(c.def.Workflow.Timeout, params); d > 0 {
		if err := t.scheduleTimeout(wakeArgs{Instance: id, Reason: wakeInstanceTimeout, After: d.String()}, d); err != nil {
			return 0, err
		}
	}
	return no, t.createInstance(&instRow{id: id, workflow: workflow, no: no, version: version, status: status, params: params, by: by}, c)
}

// runParams evaluates the workflow's params with the run's overrides.
func runParams(c *compiled, now func() time.Time, given map[string]any) (map[string]any, error) {
	d := c.def
	out := map[string]any{}
	for name, v := range given {
		p, declared := d.Workflow.Params[name]
		if !declared {
			out[name] = v
			continue
		}
		cv, err := definition.Coerce(p.Type, v)
		if err != nil {
			return nil, fmt.Errorf("param %s: %w: %w", name, err, ErrInvalid)
		}
		if err := (evaluator{c, now}).validate(p, cv, mapScope(given)); err != nil {
			return nil, fmt.Errorf("param %s: %w: %w", name, err, ErrInvalid)
		}
		out[name] = cv
	}
	rest := map[string]definition.Param{}
	for name, p := range d.Workflow.Params {
		if _, ok := out[name]; !ok {
			rest[name] = p
		}
	}
	vals, err := evaluator{c, now}.params(rest, mapScope(out))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	for k, v := range vals {
		out[k] = v
	}
	return out, nil
}

// admit decides, by the run strategy, whether a new top-level instance
// starts now (IN_PROGRESS), waits its turn (CREATED) or is stopped.
func (t *txn) admit(workflow string, rs definition.RunStrategy) (string, error) {
	var running int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM workflow_instances WHERE workflow_id = ? AND instance_no > 0 AND status IN (?, ?)`,
		workflow, InstanceInProgress, InstanceCreated).Scan(&running); err != nil {
		return "", err
	}
	switch rs.Rule {
	case "parallel":
		if rs.Limit > 0 && running >= rs.Limit {
			return InstanceCreated, nil
		}
		return InstanceInProgress, nil
	case "first_only":
		if running > 0 {
			return InstanceStopped, nil
		}
	case "last_only":
		rows, err := t.tx.QueryContext(t.ctx, `SELECT id FROM workflow_instances WHERE workflow_id = ? AND instance_no > 0 AND status IN (?, ?)`,
			workflow, InstanceInProgress, InstanceCreated)
		if err != nil {
			return "", err
		}
		var ids []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			if err := t.stopInstance(id, InstanceStopped, "a newer instance started (run strategy last_only)"); err != nil {
				return "", err
			}
		}
	default: // sequential, strict_sequential
		if running > 0 {
			return InstanceCreated, nil
		}
	}
	return InstanceInProgress, nil
}

// createInstance stores an instance and the steps of its scope; those
// without predecessors are ready when it is in progress.
func (t *txn) createInstance(r *instRow, c *compiled) error {
	params, _ := json.Marshal(r.params)
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO workflow_instances (id, workflow_id, instance_no, version, parent_id, parent_step, iteration,
		scope, status, params, error, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)`,
		r.id, r.workflow, r.no, r.version, r.parent, r.parentStep, r.iteration, r.scope, r.status, string(params), r.by, t.s.nowMS()); err != nil {
		return fmt.Errorf("create instance %s: %w", r.id, err)
	}
	var roots []string
	for _, st := range c.lists[r.scope] {
		status := StepNotCreated
		if c.preds[st.ID] == 0 && r.status == InstanceInProgress {
			status = StepCreated
			roots = append(roots, st.ID)
		}
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO workflow_steps (instance_id, step_id, status, attempts, pending, satisfied, params, output,
			error, iterations, started, done, failed) VALUES (?, ?, ?, 0, ?, 0, '{}', '{}', '', 0, 0, 0, 0)`,
			r.id, st.ID, status, c.preds[st.ID]); err != nil {
			return fmt.Errorf("create step %s of %s: %w", st.ID, r.id, err)
		}
	}
	if r.no > 0 {
		t.instanceEvent(r, r.status, "")
	}
	if r.status == InstanceStopped {
		_, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_instances SET error = ?, finished_at = ? WHERE id = ?`,
			"an instance was already running (run strategy first_only)", t.s.nowMS(), r.id)
		return err
	}
	for _, id := range roots {
		if err := t.ready(r, c, id); err != nil {
			return err
		}
	}
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
	if status == StepUserFailed {
		if delay, retry := retryDelay(st, attempt, r.params); retry {
			return t.retryStep(r, ref, attempt, delay, why)
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

// stopInstance ends an unfinished instance as status (FAILED, STOPPED):
// its running and ready steps are stopped, its iterations and
// synchronous subworkflows too.
func (t *txn) stopInstance(id, status, why string) error {
	r, err := loadInstRow(t.ctx, t.tx, id)
	if err != nil {
		return err
	}
	if instanceTerminal(r.status) {
		return nil
	}
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_steps SET status = ?, finished_at = ?, error = CASE WHEN error = '' THEN ? ELSE error END
		WHERE instance_id = ? AND status IN (?, ?)`, StepStopped, t.s.nowMS(), "the instance ended: "+why, id, StepCreated, StepRunning); err != nil {
		return err
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id FROM workflow_instances WHERE parent_id = ? AND status IN (?, ?)`, id, InstanceInProgress, InstanceCreated)
	if err != nil {
		return err
	}
	var children []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		children = append(children, c)
	}
	rows.Close()
	for _, c := range children {
		if err := t.endChildQuietly(c, status, why); err != nil {
			return err
		}
	}
	return t.endInstance(r, status, why)
}

// endChildQuietly stops a child whose parent is ending, without
// reporting back to the parent.
func (t *txn) endChildQuietly(id, status, why string) error {
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_instances SET parent_step = '' WHERE id = ?`, id); err != nil {
		return err
	}
	return t.stopInstance(id, status, "its parent ended: "+why)
}

// endInstance records an instance's end and tells its parent, or starts
// the next queued instance of its workflow.
func (t *txn) endInstance(r *instRow, status, why string) error {
	res, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_instances SET status = ?, error = ?, finished_at = ? WHERE id = ? AND status IN (?, ?, ?)`,
		status, why, t.s.nowMS(), r.id, InstanceInProgress, InstanceCreated, InstancePaused)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if r.no > 0 {
		t.instanceEvent(r, status, why)
	}
	if r.parent != "" && r.parentStep != "" {
		return t.childEnded(r, status)
	}
	if r.no > 0 {
		return t.startQueued(r.workflow)
	}
	return nil
}

// startQueued starts the oldest instance waiting its turn.
func (t *txn) startQueued(workflow string) error {
	var id string
	err := t.tx.QueryRowContext(t.ctx, `SELECT id FROM workflow_instances WHERE workflow_id = ? AND instance_no > 0 AND status = ?
		ORDER BY instance_no LIMIT 1`, workflow, InstanceCreated).Scan(&id)
	if err != nil {
		return nil // none waiting
	}
	var running int
	t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM workflow_instances WHERE workflow_id = ? AND instance_no > 0 AND status = ?`,
		workflow, InstanceInProgress).Scan(&running)
	r, err := loadInstRow(t.ctx, t.tx, id)
	if err != nil {
		return err
	}
	c, err := t.s.version(t.ctx, t.tx, r.workflow, r.version)
	if err != nil {
		return err
	}
	if rs := c.def.Properties.RunStrategy; rs.Rule == "parallel" && rs.Limit > 0 && running >= rs.Limit || rs.Rule != "parallel" && running > 0 {
		return nil
	}
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_instances SET status = ? WHERE id = ?`, InstanceInProgress, id); err != nil {
		return err
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT step_id FROM workflow_steps WHERE instance_id = ? AND pending = 0 AND status = ?`, id, StepNotCreated)
	if err != nil {
		return err
	}
	var ready []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		ready = append(ready, s)
	}
	rows.Close()
	for _, s := range ready {
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_steps SET status = ? WHERE instance_id = ? AND step_id = ?`, StepCreated, id, s); err != nil {
			return err
		}
		t.toRun = append(t.toRun, stepRef{id, s})
	}
	t.instanceEvent(r, InstanceInProgress, "")
	return nil
}

// childEnded moves the parent step of an iteration or a subworkflow on.
func (t *txn) childEnded(child *instRow, status string) error {
	ref := stepRef{child.parent, child.parentStep}
	var attempt, total, started, done, failed int
	var stStatus string
	if err := t.tx.QueryRowContext(t.ctx, `SELECT status, attempts, iterations, started, done, failed FROM workflow_steps WHERE instance_id = ? AND step_id = ?`,
		ref.inst, ref.step).Scan(&stStatus, &attempt, &total, &started, &done, &failed); err != nil {
		return fmt.Errorf("parent step of %s: %w", child.id, err)
	}
	if stStatus != StepRunning {
		return nil
	}
	if child.no > 0 { // a subworkflow's instance
		if status == InstanceSucceeded {
			return t.finishStep(ref, attempt, StepSucceeded, map[string]any{"subworkflow_instance_id": child.no}, "")
		}
		return t.finishStep(ref, attempt, StepUserFailed, nil, fmt.Sprintf("subworkflow %s instance %d %s", child.workflow, child.no, status))
	}
	fail := 0
	if status != InstanceSucceeded {
		fail = 1
	}
	if err := t.tx.QueryRowContext(t.ctx, `UPDATE workflow_steps SET done = done + 1, failed = failed + ? WHERE instance_id = ? AND step_id = ?
		RETURNING done, failed`, fail, ref.inst, ref.step).Scan(&done, &failed); err != nil {
		return err
	}
	if failed > 0 {
		return t.finishStep(ref, attempt, StepUserFailed, nil, fmt.Sprintf("iteration %d %s", child.iteration, status))
	}
	if done == total {
		return t.finishStep(ref, attempt, StepSucceeded, map[string]any{"iterations": total}, "")
	}
	if started < total {
		return t.startIterations(ref, 1)
	}
	return nil
}

// errNoRunner is the failure of a step type Gaffer cannot run.
var errNoRunner = errors.New("no runner for step type")

// StopInstance stops an unfinished instance; by names who asked.
func (s *Service) StopInstance(ctx context.Context, workflow string, no int64, by string) error {
	id := instanceKey(workflow, no)
	return s.inTx(ctx, func(t *txn) error {
		r, err := loadInstRow(ctx, t.tx, id)
		if err != nil {
			return err
		}
		if instanceTerminal(r.status) {
			return fmt.Errorf("workflow %s instance %d is %s already: %w", workflow, no, r.status, ErrConflict)
		}
		return t.stopInstance(id, InstanceStopped, "stopped by "+by)
	})
}
