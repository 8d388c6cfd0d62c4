package failover

import (
	"context"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// finish records the step's end (stepErr nil for success), moves the
// execution on — to the next step, to the rollback when a forward step
// failed (unless the fleet says not to), or to its end — and enqueues the
// next step's job, all in one transaction. If an operator moved the
// execution meanwhile, their move stands.
func (e *engine) finish(ctx context.Context, c *claim, now time.Time, stepErr error) error {
	ctx = context.WithoutCancel(ctx)
	status, errText := StepSucceeded, ""
	if stepErr != nil {
		status, errText = StepFailed, stepErr.Error()
	}
	var ex *Execution
	moved := false
	err := e.s.db.InTx(ctx, func(tx *store.Tx) error {
		cur, err := scanExec(tx.QueryRowContext(ctx, "SELECT "+execColumns+" FROM failover_executions WHERE id = ?"+forUpdate(e.s.db), c.ex.ID))
		if err != nil {
			return err
		}
		if cur.leaseUser != c.token {
			return nil // another job took over after our lease ran out
		}
		wall := e.s.now().UnixMilli()
		clock := now.UnixMilli()
		if !c.ex.Simulated {
			clock = wall
		}
		if _, err := tx.ExecContext(ctx, `UPDATE failover_steps SET status = ?, clock_end = ?, wall_end = ?, progress = ?, error = ?
			WHERE execution_id = ? AND seq = ?`, status, clock, wall, progressJSON(c.progress), errText, c.ex.ID, c.seq); err != nil {
			return err
		}
		next, phase, execStatus, execErr := cur.Step, cur.Phase, cur.Status, cur.Error
		rollbackStart, end := phaseBounds(c.rec.Plan)
		if cur.Step == c.seq && cur.Phase == c.phase && (active(cur.Status) || cur.Status == ExecPaused) {
			moved = true
			switch {
			case stepErr == nil && c.phase == PhaseForward && c.seq+1 >= rollbackStart:
				next, execStatus = c.seq+1, ExecSucceeded
			case stepErr == nil && c.seq+1 >= end:
				next, execStatus = c.seq+1, ExecRolledBack
			case stepErr == nil:
				next = c.seq + 1
			case c.phase == PhaseForward && !c.rec.Settings.NoAutoRollback:
				next, phase, execStatus = rollbackStart, PhaseRollback, ExecRollingBack
				execErr = c.st.Name + ": " + errText
			default:
				execStatus = ExecFailed
				if c.phase == PhaseRollback {
					execErr = "rollback failed at " + c.st.Name + ": " + errText
				} else {
					execErr = c.st.Name + ": " + errText
				}
			}
			if cur.Status == ExecPaused && active(execStatus) {
				execStatus = ExecPaused
			}
		}
		wallEnd := any(nil)
		if !active(execStatus) && execStatus != ExecPaused {
			wallEnd = wall
		}
		if _, err := tx.ExecContext(ctx, `UPDATE failover_executions SET status = ?, phase = ?, step = ?, error = ?, clock_now = ?,
			wall_end = COALESCE(wall_end, ?), lease_owner = '', lease_until = 0, next_wake = 0, updated_at = ? WHERE id = ?`,
			execStatus, phase, next, execErr, max(clock, cur.ClockNow.UnixMilli()), wallEnd, wall, c.ex.ID); err != nil {
			return err
		}
		if active(execStatus) {
			if _, err := e.s.jobs.EnqueueTx(ctx, tx, stepKind, stepArgs{Exec: c.ex.ID, Seq: next}, nil); err != nil {
				return err
			}
		}
		ex = cur
		ex.Status, ex.Phase, ex.Step, ex.Error = execStatus, phase, next, execErr
		return nil
	})
	if err != nil || ex == nil {
		return err
	}
	event := "finished"
	if stepErr != nil {
		event = "failed"
	}
	e.s.publishStep(ctx, c, event, errText)
	if moved && ex.Status != c.ex.Status {
		e.s.publishExecution(ctx, ex, ex.Status, c.rec)
	}
	if !active(ex.Status) && ex.Status != ExecPaused {
		e.forget(ex.world)
	}
	if e.onStep != nil {
		e.onStep(c.ex.ID, c.seq, status)
	}
	return nil
}
