package workflow

import (
	"context"
	"fmt"
)

// RestartInstance runs a FAILED or STOPPED instance again from where it
// stopped: the steps that succeeded keep their results; every other step
// (a foreach with all its iterations) is reset and runs when its
// predecessors are done, as on the first run. by names who asked.
func (s *Service) RestartInstance(ctx context.Context, workflow string, no int64, by string) error {
	id := instanceKey(workflow, no)
	return s.inTx(ctx, func(t *txn) error {
		r, err := loadInstRow(ctx, t.tx, id)
		if err != nil {
			return err
		}
		if r.status != InstanceFailed && r.status != InstanceStopped {
			return fmt.Errorf("workflow %s instance %d is %s; only a FAILED or STOPPED instance restarts: %w", workflow, no, r.status, ErrConflict)
		}
		c, err := s.version(ctx, t.tx, r.workflow, r.version)
		if err != nil {
			return err
		}
		status := map[string]string{}
		rows, err := t.tx.QueryContext(ctx, `SELECT step_id, status FROM workflow_steps WHERE instance_id = ?`, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var step, st string
			rows.Scan(&step, &st)
			status[step] = st
		}
		rows.Close()
		done := func(step string) bool { return status[step] == StepSucceeded || status[step] == StepCompletedWithError }
		if _, err := t.tx.ExecContext(ctx, `UPDATE workflow_instances SET status = ?, error = '', finished_at = NULL WHERE id = ?`,
			InstanceInProgress, id); err != nil {
			return err
		}
		r.status, r.failing = InstanceInProgress, ""
		var unsatisfied []string
		for _, st := range c.lists[""] {
			if done(st.ID) {
				continue
			}
			if err := t.dropIterations(id, st.ID); err != nil {
				return err
			}
			pending, satisfied := 0, 0
			for _, p := range c.from[st.ID] {
				if !done(p) {
					pending++
					continue
				}
				sc, err := t.stepScope(r, p)
				if err != nil {
					return err
				}
				ok, err := evaluator{c, s.now}.condition(c.steps[p].Transition.Successors[st.ID], sc)
				if err != nil {
					return fmt.Errorf("step %s: condition to %s: %w", p, st.ID, err)
				}
				if ok {
					satisfied++
				}
			}
			next := StepNotCreated
			switch {
			case pending > 0:
			case satisfied > 0 || len(c.from[st.ID]) == 0:
				next = StepCreated
				t.toRun = append(t.toRun, stepRef{id, st.ID})
			default:
				next = StepUnsatisfied
				unsatisfied = append(unsatisfied, st.ID)
			}
			if _, err := t.tx.ExecContext(ctx, `UPDATE workflow_steps SET status = ?, pending = ?, satisfied = ?, error = '', output = '{}',
				iterations = 0, started = 0, done = 0, failed = 0, user_failures = 0, platform_failures = 0, timeout_failures = 0,
				ref = '', started_at = NULL, finished_at = NULL WHERE instance_id = ? AND step_id = ?`,
				next, pending, satisfied, id, st.ID); err != nil {
				return err
			}
		}
		for _, step := range unsatisfied {
			if err := t.propagate(r, c, step, false); err != nil {
				return err
			}
		}
		t.instanceEvent(r, InstanceInProgress, "restarted by "+by)
		return t.checkDone(r)
	})
}

// dropIterations deletes a foreach step's iterations (and theirs).
func (t *txn) dropIterations(inst, step string) error {
	prefix := likePrefix(inst + "/" + step + "/")
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM workflow_steps WHERE instance_id LIKE ? ESCAPE '\'`, prefix); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(t.ctx, `DELETE FROM workflow_instances WHERE id LIKE ? ESCAPE '\' AND instance_no = 0`, prefix)
	return err
}
