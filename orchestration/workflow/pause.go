package workflow

import (
	"context"
	"fmt"
)

// PauseInstance pauses an instance: its running steps finish, and no
// other starts until it resumes. by names who asked.
func (s *Service) PauseInstance(ctx context.Context, workflow string, no int64, by string) error {
	id := instanceKey(workflow, no)
	return s.inTx(ctx, func(t *txn) error {
		res, err := t.tx.ExecContext(ctx, `UPDATE workflow_instances SET status = ? WHERE id = ? AND status = ?`, InstancePaused, id, InstanceInProgress)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return t.notIn(id, workflow, no, InstanceInProgress)
		}
		r, err := loadInstRow(ctx, t.tx, id)
		if err != nil {
			return err
		}
		t.instanceEvent(r, InstancePaused, "paused by "+by)
		return nil
	})
}

// ResumeInstance resumes a paused instance and runs its ready steps.
func (s *Service) ResumeInstance(ctx context.Context, workflow string, no int64, by string) error {
	id := instanceKey(workflow, no)
	return s.inTx(ctx, func(t *txn) error {
		res, err := t.tx.ExecContext(ctx, `UPDATE workflow_instances SET status = ? WHERE id = ? AND status = ?`, InstanceInProgress, id, InstancePaused)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return t.notIn(id, workflow, no, InstancePaused)
		}
		r, err := loadInstRow(ctx, t.tx, id)
		if err != nil {
			return err
		}
		rows, err := t.tx.QueryContext(ctx, `SELECT step_id FROM workflow_steps WHERE instance_id = ? AND status = ?`, id, StepCreated)
		if err != nil {
			return err
		}
		for rows.Next() {
			var step string
			rows.Scan(&step)
			t.toRun = append(t.toRun, stepRef{id, step})
		}
		rows.Close()
		t.instanceEvent(r, InstanceInProgress, "resumed by "+by)
		return t.checkDone(r)
	})
}

// notIn is the error for an instance that is not in the status an
// action needs.
func (t *txn) notIn(id, workflow string, no int64, want string) error {
	r, err := loadInstRow(t.ctx, t.tx, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("workflow %s instance %d is %s, not %s: %w", workflow, no, r.status, want, ErrConflict)
}

// errPaused rolls back a step's claim in a paused instance.
var errPaused = fmt.Errorf("the instance is paused")

// paused reports (with errPaused, which rolls the claim back) whether
// r's top-level instance is paused: an iteration or subworkflow of a
// paused instance waits too.
func (t *txn) paused(r *instRow) (bool, error) {
	if p, ok := t.pausedIDs[r.id]; ok {
		if p {
			return true, errPaused
		}
		return false, nil
	}
	p, err := t.pausedChain(r)
	if t.pausedIDs == nil {
		t.pausedIDs = map[string]bool{}
	}
	t.pausedIDs[r.id] = p
	return p, err
}

func (t *txn) pausedChain(r *instRow) (bool, error) {
	for id := r.id; id != ""; {
		var status, parent string
		if err := t.tx.QueryRowContext(t.ctx, `SELECT status, parent_id FROM workflow_instances WHERE id = ?`, id).Scan(&status, &parent); err != nil {
			return false, nil
		}
		if status == InstancePaused {
			return true, errPaused
		}
		id = parent
	}
	return false, nil
}
