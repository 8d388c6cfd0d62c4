package failover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
	"github.com/gaffer-sre/gaffer/demand/failover/step"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Limits of one step job in wall time: waits up to maxInline are slept
// in the job; longer ones, or once the job has run maxJobTime, become a
// scheduled job.
const (
	maxInline  = 20 * time.Second
	maxJobTime = 2 * time.Minute
	// checkEvery is how many simulated checks pass between looks at the
	// execution's status (a pause, abort or rollback) and lease renewals.
	checkEvery = 64
)

// claim is a step job holding the execution's lease.
type claim struct {
	ex       *Execution
	rec      *PlanRecord
	seq      int
	phase    string
	st       plan.Step
	token    string
	progress step.Progress
	started  bool // the step started with this job
}

func (e *engine) handle(ctx context.Context, job *jobs.Job, a stepArgs) error {
	c, err := e.claim(ctx, a)
	if err != nil || c == nil {
		return err
	}
	if c.started {
		e.s.publishStep(ctx, c, "started", "")
	}
	f, err := e.s.FleetVersion(ctx, c.rec.Fleet, c.rec.FleetVersion)
	if err != nil {
		return e.finish(ctx, c, c.ex.ClockNow, provider.Permanent(err))
	}
	demand, err := e.s.demandOf(ctx, c.ex, c.rec.Demand)
	if err != nil {
		return e.finish(ctx, c, c.ex.ClockNow, provider.Permanent(err))
	}
	prov, err := e.provider(ctx, c.ex, f, demand)
	if err != nil {
		return e.finish(ctx, c, c.ex.ClockNow, err)
	}
	return e.run(ctx, c, prov)
}

// claim takes the execution's lease for step a.Seq, unless the execution
// has moved on, stopped, or another job holds it.
func (e *engine) claim(ctx context.Context, a stepArgs) (*claim, error) {
	var c *claim
	var planID string
	err := e.s.db.InTx(ctx, func(tx *store.Tx) error {
		ex, err := scanExec(tx.QueryRowContext(ctx, "SELECT "+execColumns+" FROM failover_executions WHERE id = ?"+forUpdate(e.s.db), a.Exec))
		if err != nil {
			return err
		}
		now := e.s.now().UnixMilli()
		if !active(ex.Status) || ex.Step != a.Seq || (ex.leaseUser != "" && ex.leaseEnd > now) {
			return nil
		}
		token := newID("lease")
		if _, err := tx.ExecContext(ctx, `UPDATE failover_executions SET lease_owner = ?, lease_until = ?, next_wake = 0, updated_at = ?
			WHERE id = ?`, token, now+e.s.settings.Lease.Milliseconds(), now, a.Exec); err != nil {
			return err
		}
		var status, progress string
		if err := tx.QueryRowContext(ctx, "SELECT status, progress FROM failover_steps WHERE execution_id = ? AND seq = ?", a.Exec, a.Seq).
			Scan(&status, &progress); err != nil {
			return err
		}
		c = &claim{ex: ex, seq: a.Seq, token: token}
		if err := json.Unmarshal([]byte(progress), &c.progress); err != nil {
			return fmt.Errorf("step %d progress: %w", a.Seq, err)
		}
		if status == StepPending {
			c.started = true
			wall := now
			if _, err := tx.ExecContext(ctx, `UPDATE failover_steps SET status = ?, clock_start = ?, wall_start = ?
				WHERE execution_id = ? AND seq = ?`, StepRunning, ex.ClockNow.UnixMilli(), wall, a.Exec, a.Seq); err != nil {
				return err
			}
		}
		planID = ex.PlanID
		return nil
	})
	if err != nil || c == nil {
		if err != nil {
			err = fmt.Errorf("claim step %d of %s: %w", a.Seq, a.Exec, err)
		}
		return nil, err
	}
	rec, err := e.s.Plan(ctx, planID)
	if err != nil {
		return nil, err
	}
	c.rec = rec
	var ok bool
	if c.st, c.phase, ok = stepOf(rec.Plan, c.seq); !ok {
		return c, e.finish(ctx, c, c.ex.ClockNow, provider.Permanent(fmt.Errorf("plan %s has no step %d", rec.ID, c.seq)))
	}
	return c, nil
}

// run checks the step until it is done, failed, or must wait longer
// than a job should.
func (e *engine) run(ctx context.Context, c *claim, prov provider.Provider) error {
	env := &step.Env{Plan: c.rec.Plan, Provider: prov, Key: fmt.Sprintf("%s/%d", c.ex.ID, c.seq)}
	now := c.ex.ClockNow
	if !c.ex.Simulated {
		now = e.s.now()
	}
	began := time.Now()
	for i := 1; ; i++ {
		env.Now = now
		o := step.Run(ctx, env, c.st, &c.progress)
		switch {
		case o.Err != nil:
			return e.finish(ctx, c, now, o.Err)
		case o.Done:
			return e.finish(ctx, c, now, nil)
		case c.ex.Simulated:
			now = now.Add(o.Wait)
			if i%checkEvery == 0 {
				if moved, err := e.renew(ctx, c); err != nil || moved {
					return e.yield(ctx, c, now, err)
				}
			}
		case o.Wait <= maxInline && time.Since(began)+o.Wait < maxJobTime:
			select {
			case <-ctx.Done():
				return e.yield(ctx, c, now, ctx.Err())
			case <-time.After(o.Wait):
			}
			if moved, err := e.renew(ctx, c); err != nil || moved {
				return e.yield(ctx, c, now, err)
			}
			now = e.s.now()
		default:
			return e.park(ctx, c, now, o.Wait)
		}
	}
}

// renew extends the lease and reports whether the execution moved (an
// operator paused, aborted or rolled it back) or the lease was lost.
func (e *engine) renew(ctx context.Context, c *claim) (bool, error) {
	now := e.s.now().UnixMilli()
	res, err := e.s.db.ExecContext(ctx, `UPDATE failover_executions SET lease_until = ? WHERE id = ? AND lease_owner = ?
		AND status IN (?, ?) AND step = ?`, now+e.s.settings.Lease.Milliseconds(), c.ex.ID, c.token, ExecRunning, ExecRollingBack, c.seq)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 0, err
}

func progressJSON(p step.Progress) string {
	b, _ := json.Marshal(p)
	return string(b)
}

// yield saves the step's progress and lets go of the lease, handing the
// execution to the job of wherever an operator moved it.
func (e *engine) yield(ctx context.Context, c *claim, now time.Time, cause error) error {
	err := e.s.db.InTx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		ex, err := scanExec(tx.QueryRowContext(ctx, "SELECT "+execColumns+" FROM failover_executions WHERE id = ?"+forUpdate(e.s.db), c.ex.ID))
		if err != nil || ex.leaseUser != c.token {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE failover_steps SET progress = ? WHERE execution_id = ? AND seq = ?",
			progressJSON(c.progress), c.ex.ID, c.seq); err != nil {
			return err
		}
		clock := ex.ClockNow.UnixMilli()
		if c.ex.Simulated && ex.Step == c.seq {
			clock = max(clock, now.UnixMilli())
		}
		if _, err := tx.ExecContext(ctx, `UPDATE failover_executions SET lease_owner = '', lease_until = 0, clock_now = ?, updated_at = ?
			WHERE id = ?`, clock, e.s.now().UnixMilli(), c.ex.ID); err != nil {
			return err
		}
		if active(ex.Status) && cause == nil {
			_, err = e.s.jobs.EnqueueTx(ctx, tx, stepKind, stepArgs{Exec: c.ex.ID, Seq: ex.Step}, nil)
		}
		return err
	})
	return errors.Join(cause, err)
}

// park saves the step's progress and schedules its next check.
func (e *engine) park(ctx context.Context, c *claim, now time.Time, wait time.Duration) error {
	at := e.s.now().Add(wait)
	return e.s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE failover_executions SET lease_owner = '', lease_until = 0, next_wake = ?, updated_at = ?
			WHERE id = ? AND lease_owner = ?`, at.UnixMilli(), e.s.now().UnixMilli(), c.ex.ID, c.token)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // the lease was lost: whoever has it carries on
		}
		if _, err := tx.ExecContext(ctx, "UPDATE failover_steps SET progress = ? WHERE execution_id = ? AND seq = ?",
			progressJSON(c.progress), c.ex.ID, c.seq); err != nil {
			return err
		}
		_, err = e.s.jobs.EnqueueTx(ctx, tx, stepKind, stepArgs{Exec: c.ex.ID, Seq: c.seq}, &jobs.EnqueueOptions{At: at})
		return err
	})
}
