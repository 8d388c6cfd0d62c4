package remediation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/remediation/agent"
)

// renewLeases extends the leases of the steps this process runs.
func (e *engine) renewLeases(ctx context.Context) {
	if _, err := e.db.ExecContext(ctx, `UPDATE remediation_steps SET lease_until = ? WHERE owner = ? AND status = ?`,
		e.leaseUntil(), e.owner, StepRunning); err != nil {
		e.log.Warn("renew step leases", "error", err)
	}
}

// recoverSteps takes over running steps whose owner stopped renewing their
// lease (its process died).
func (e *engine) recoverSteps(ctx context.Context) {
	rows, err := e.db.QueryContext(ctx, `SELECT execution_id, step_key, lease_until FROM remediation_steps
		WHERE status = ? AND lease_until < ? LIMIT 500`, StepRunning, wallNow().UnixMilli())
	if err != nil {
		e.log.Warn("look for abandoned steps", "error", err)
		return
	}
	type ref struct {
		exec, key string
		lease     int64
	}
	var found []ref
	for rows.Next() {
		var r ref
		rows.Scan(&r.exec, &r.key, &r.lease)
		found = append(found, r)
	}
	rows.Close()
	for _, r := range found {
		res, err := e.db.ExecContext(ctx, `UPDATE remediation_steps SET owner = ?, lease_until = ? WHERE execution_id = ?
			AND step_key = ? AND status = ? AND lease_until = ?`, e.owner, e.leaseUntil(), r.exec, r.key, StepRunning, r.lease)
		if err != nil {
			continue
		}
		if n, _ := res.RowsAffected(); n == 1 {
			e.takeOver(ctx, r.exec, r.key)
		}
	}
}

// takeOver resumes a step whose process died while it ran.
func (e *engine) takeOver(ctx context.Context, execID, key string) {
	st, err := loadStep(ctx, e.db, execID, key)
	if err != nil {
		return
	}
	ex, err := loadExec(ctx, e.db, execID)
	if err != nil {
		return
	}
	c, err := e.s.runbooks.compiled(ctx, ex.Runbook, ex.Version)
	if err != nil {
		return
	}
	cs := c.step(st.Name)
	e.log.Info("taking over an abandoned step", "execution", execID, "step", key)
	switch {
	case st.Parent == "" && (cs.forEach != nil || cs.Targets != nil):
		var n int
		e.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM remediation_steps WHERE execution_id = ? AND parent = ?`, execID, key).Scan(&n)
		if n == 0 {
			e.launch(execID, []string{key})
		}
		// Otherwise its items carry the work.
	case st.RunID != "":
		e.askAgent(ctx, execID, st)
	case st.StartedAt == nil || cs.idempotent:
		e.launch(execID, []string{key})
	default:
		e.markUnknown(ctx, execID, key, st.Attempt, "the server stopped while the step ran; it is not idempotent, so it is not run again")
	}
}

// askAgent finds out what became of a dispatched run.
func (e *engine) askAgent(ctx context.Context, execID string, st *StepState) {
	rep, err := e.s.agents.status(ctx, st.Agent, []string{st.RunID})
	switch {
	case errors.Is(err, nats.ErrNoResponders), err != nil:
		// The agent is away; if it stays away, its heartbeats tell.
		return
	case rep.Boot != st.boot:
		e.lost(ctx, execID, st.Key, st.Attempt, "agent "+st.Agent+" restarted during the action")
	case rep.Runs[st.RunID] == agent.StatusUnknown:
		e.lost(ctx, execID, st.Key, st.Attempt, "agent "+st.Agent+" does not know run "+st.RunID)
	default:
		// Running, or finished: the agent sends (again) its result.
		e.s.agents.track(st.RunID, execID, st.Key)
	}
}

// lost settles a step whose run is known to be lost: an idempotent step
// fails and is retried by its policy; any other waits for an operator.
func (e *engine) lost(ctx context.Context, execID, key string, attempt int, why string) {
	ex, err := loadExec(ctx, e.db, execID)
	if err != nil {
		return
	}
	st, err := loadStep(ctx, e.db, execID, key)
	if err != nil || st.Attempt != attempt || st.Status != StepRunning {
		return
	}
	c, err := e.s.runbooks.compiled(ctx, ex.Runbook, ex.Version)
	if err != nil {
		return
	}
	if cs := c.step(st.Name); cs != nil && cs.idempotent {
		if again, err := e.runLostAgain(ctx, execID, key, attempt, why); err != nil || again {
			return
		}
		e.finish(ctx, execID, key, attempt, failed(fmt.Errorf("%s (its run was lost %d times)", why, maxLostRuns)))
		return
	}
	e.markUnknown(ctx, execID, key, attempt, why+"; the action is not idempotent, so it is not run again")
}

// maxLostRuns is how many lost runs of an idempotent step are run again
// before the step fails (and its retry policy, if any, applies): a run
// that kills its agent every time must not loop for ever.
const maxLostRuns = 3

// lostRunWhat is the history entry of a lost run run again.
const lostRunWhat = "run lost, running again"

// runLostAgain starts a new attempt of an idempotent step whose run was
// lost (its agent restarted or forgot it, or it may not have started),
// unless it has been lost maxLostRuns times already. This does not
// count against the step's retry policy: the action did not fail. It
// reports whether it started one.
func (e *engine) runLostAgain(ctx context.Context, execID, key string, attempt int, why string) (bool, error) {
	again := false
	err := e.db.InTx(ctx, func(tx *store.Tx) error {
		var lost int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM remediation_history WHERE execution_id = ? AND step_key = ? AND what = ?`,
			execID, key, lostRunWhat).Scan(&lost); err != nil {
			return err
		}
		if lost >= maxLostRuns {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE remediation_steps SET attempt = attempt + 1, owner = ?, lease_until = ?,
			started_at = NULL, run_id = '', error = '' WHERE execution_id = ? AND step_key = ? AND attempt = ? AND status IN (?, ?)`,
			e.owner, e.leaseUntil(), execID, key, attempt, StepRunning, StepUnknown)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // settled meanwhile
		}
		if _, err := tx.ExecContext(ctx, `UPDATE remediation_steps SET status = ? WHERE execution_id = ? AND step_key = ?`,
			StepRunning, execID, key); err != nil {
			return err
		}
		again = true
		return e.s.addHistory(ctx, tx, execID, "engine", lostRunWhat, key,
			fmt.Sprintf("%s; the step is idempotent, so attempt %d runs it again (lost run %d of %d)", why, attempt+1, lost+1, maxLostRuns))
	})
	if err != nil {
		e.log.Warn("run a lost step again", "execution", execID, "step", key, "error", err)
		return false, err
	}
	if again {
		e.log.Info("running a lost idempotent step again", "execution", execID, "step", key, "why", why)
		e.launch(execID, []string{key})
	}
	return again, nil
}

// loop runs the engine's background work until stop closes.
func (e *engine) loop(stop <-chan struct{}) {
	renew := time.NewTicker(max(e.lease/3, 100*time.Millisecond))
	defer renew.Stop()
	sweep := time.NewTicker(max(e.lease/2, 200*time.Millisecond))
	defer sweep.Stop()
	seen := time.NewTicker(e.s.agents.heartbeat)
	defer seen.Stop()
	ctx := context.Background()
	e.recoverSteps(ctx)
	for {
		select {
		case <-stop:
			return
		case <-renew.C:
			e.renewLeases(ctx)
		case <-sweep.C:
			e.recoverSteps(ctx)
		case <-seen.C:
			e.s.agents.flushSeen(ctx)
		}
	}
}

// renewLoop only renews leases (in a `gaffer worker`).
func (e *engine) renewLoop(stop <-chan struct{}) {
	t := time.NewTicker(max(e.lease/3, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			e.renewLeases(context.Background())
		}
	}
}
