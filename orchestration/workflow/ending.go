package workflow

import (
	"context"
	"fmt"
)

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
	if err := t.cancelRunners(id, ""); err != nil {
		return err
	}
	if err := t.forgetWaits(id, ""); err != nil {
		return err
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
	rs := c.def.Properties.RunStrategy
	if rs.Rule == "parallel" && rs.Limit > 0 && running >= rs.Limit || rs.Rule != "parallel" && running > 0 {
		return nil
	}
	if rs.Rule == "strict_sequential" {
		if blocked, err := t.blocked(workflow); err != nil || blocked {
			return err
		}
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
	if child.scope != "" && total == 0 { // a while: its next iteration, if its condition holds
		return t.whileIterationEnded(child, ref, attempt)
	}
	if done == total {
		return t.finishStep(ref, attempt, StepSucceeded, map[string]any{"iterations": total}, "")
	}
	if started < total {
		return t.startIterations(ref, 1)
	}
	return nil
}

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
