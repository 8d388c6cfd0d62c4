package failover

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/demand/failover/sim"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Job kinds.
const (
	stepKind     = "failover.step"
	detectKind   = "failover.detect"
	darkPoolKind = "failover.darkpools"
)

// ErrInfeasible is returned for executing a plan that does not fit.
var ErrInfeasible = errors.New("plan is infeasible")

// engine runs executions as chains of jobs: each job runs one step (or
// part of a long wait) while holding the execution's lease, and records
// the step's end, the execution's new position and the job of the next
// step in one transaction. A process that dies loses its lease; the
// recovery loop of any server then enqueues the step again, and the step
// (whose calls carry absolute targets, and which remembers having acted)
// picks up where it was.
type engine struct {
	s *Service

	mu   sync.Mutex
	sims map[string]*sim.Simulator // by world key
	// onStep, when set, is called after each step's transition commits
	// (tests).
	onStep func(execID string, seq int, status string)
}

func newEngine(s *Service) *engine {
	return &engine{s: s, sims: map[string]*sim.Simulator{}}
}

type stepArgs struct {
	Exec string `json:"exec"`
	Seq  int    `json:"seq"`
}

// ExecuteOptions adjust a new execution.
type ExecuteOptions struct {
	By string
	// Exercise links the execution to an exercise (its world is the
	// exercise's).
	Exercise string
	// ClockStart sets a simulated execution's clock (default now).
	ClockStart time.Time
}

// Execute starts carrying out a stored plan. An infeasible plan is refused
// with ErrInfeasible: nothing of it runs.
func (s *Service) Execute(ctx context.Context, planID string, o ExecuteOptions) (*Execution, error) {
	rec, err := s.Plan(ctx, planID)
	if err != nil {
		return nil, err
	}
	if rec.Status != plan.Feasible {
		return nil, fmt.Errorf("%w: %w", ErrInfeasible, rec.Err())
	}
	f, err := s.FleetVersion(ctx, rec.Fleet, rec.FleetVersion)
	if err != nil {
		return nil, err
	}
	now := s.now()
	world := fleetWorld(rec.Fleet, rec.FleetVersion)
	if o.Exercise != "" {
		world = exerciseWorld(o.Exercise)
	}
	simulated := f.ProviderType() == "simulator"
	clock := now
	if simulated && !o.ClockStart.IsZero() {
		clock = o.ClockStart
	}
	id := newID("ex")
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO failover_executions (`+execColumns+`, next_wake)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, NULL, '', 0, '', ?, ?, ?, 0)`,
			id, rec.ID, rec.Fleet, f.ProviderType(), world, boolInt(simulated), ExecRunning, PhaseForward,
			clock.UnixMilli(), clock.UnixMilli(), now.UnixMilli(), o.Exercise, o.By, now.UnixMilli()); err != nil {
			return err
		}
		seq := 0
		for _, list := range []struct {
			phase string
			steps []plan.Step
		}{{PhaseForward, rec.Steps}, {PhaseRollback, rec.Rollback}} {
			for _, st := range list.steps {
				if _, err := tx.ExecContext(ctx, `INSERT INTO failover_steps (execution_id, seq, phase, kind, name, status, progress, error)
					VALUES (?, ?, ?, ?, ?, ?, '{}', '')`, id, seq, list.phase, st.Kind, st.Name, StepPending); err != nil {
					return err
				}
				seq++
			}
		}
		_, err := s.jobs.EnqueueTx(ctx, tx, stepKind, stepArgs{Exec: id, Seq: 0}, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start execution of plan %s: %w", planID, err)
	}
	ex, err := s.Execution(ctx, id)
	if err != nil {
		return nil, err
	}
	s.publishExecution(ctx, ex, "started", rec)
	return ex, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// phaseBounds returns the first step of the rollback and the end of all.
func phaseBounds(p *plan.Plan) (rollbackStart, end int) {
	return len(p.Steps), len(p.Steps) + len(p.Rollback)
}

// stepOf returns step seq of the plan.
func stepOf(p *plan.Plan, seq int) (plan.Step, string, bool) {
	switch {
	case seq >= 0 && seq < len(p.Steps):
		return p.Steps[seq], PhaseForward, true
	case seq >= len(p.Steps) && seq < len(p.Steps)+len(p.Rollback):
		return p.Rollback[seq-len(p.Steps)], PhaseRollback, true
	}
	return plan.Step{}, "", false
}

// Control actions on an execution.
const (
	ActionPause    = "pause"
	ActionResume   = "resume"
	ActionAbort    = "abort"
	ActionRollback = "rollback"
)

// ActionSummaries describe the control actions.
var ActionSummaries = map[string]string{
	ActionPause:    "Pause an execution: it stops at its step's next check",
	ActionResume:   "Resume a paused execution",
	ActionAbort:    "Abort an execution for good",
	ActionRollback: "Roll an execution back (also once it has succeeded)",
}

// Control pauses, resumes, aborts or rolls back an execution. A running
// step notices at its next check (a simulated one at once).
func (s *Service) Control(ctx context.Context, id, action, by string) (*Execution, error) {
	var rec *PlanRecord
	var planID string
	if err := s.db.QueryRowContext(ctx, "SELECT plan_id FROM failover_executions WHERE id = ?", id).Scan(&planID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("execution %q: %w", id, ErrNotFound)
		}
		return nil, err
	}
	rec, err := s.Plan(ctx, planID)
	if err != nil {
		return nil, err
	}
	var before string
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ex, err := scanExec(tx.QueryRowContext(ctx, "SELECT "+execColumns+" FROM failover_executions WHERE id = ?"+forUpdate(s.db), id))
		if err != nil {
			return err
		}
		before = ex.Status
		now := s.now().UnixMilli()
		set := func(status, phase string, step int, wallEnd bool) error {
			q := "UPDATE failover_executions SET status = ?, phase = ?, step = ?, updated_at = ?"
			if wallEnd {
				q += ", wall_end = " + fmt.Sprint(now)
			}
			_, err := tx.ExecContext(ctx, q+" WHERE id = ?", status, phase, step, now, id)
			return err
		}
		enqueue := func(seq int) error {
			_, err := s.jobs.EnqueueTx(ctx, tx, stepKind, stepArgs{Exec: id, Seq: seq}, nil)
			return err
		}
		switch action {
		case ActionPause:
			if !active(ex.Status) {
				return fmt.Errorf("%w: execution %s is %s; only a running execution pauses", ErrConflict, id, ex.Status)
			}
			return set(ExecPaused, ex.Phase, ex.Step, false)
		case ActionResume:
			if ex.Status != ExecPaused {
				return fmt.Errorf("%w: execution %s is %s, not paused", ErrConflict, id, ex.Status)
			}
			status := ExecRunning
			if ex.Phase == PhaseRollback {
				status = ExecRollingBack
			}
			if err := set(status, ex.Phase, ex.Step, false); err != nil {
				return err
			}
			return enqueue(ex.Step)
		case ActionAbort:
			if !active(ex.Status) && ex.Status != ExecPaused {
				return fmt.Errorf("%w: execution %s is %s; it has stopped already", ErrConflict, id, ex.Status)
			}
			return set(ExecAborted, ex.Phase, ex.Step, true)
		case ActionRollback:
			if ex.Phase == PhaseRollback && ex.Status != ExecAborted && ex.Status != ExecFailed {
				return fmt.Errorf("%w: execution %s is %s: it is rolling back already", ErrConflict, id, ex.Status)
			}
			start, _ := phaseBounds(rec.Plan)
			if _, err := tx.ExecContext(ctx, `UPDATE failover_steps SET status = ?, clock_start = NULL, clock_end = NULL,
				wall_start = NULL, wall_end = NULL, progress = '{}', error = '' WHERE execution_id = ? AND seq >= ?`,
				StepPending, id, start); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE failover_executions SET wall_end = NULL WHERE id = ?", id); err != nil {
				return err
			}
			if err := set(ExecRollingBack, PhaseRollback, start, false); err != nil {
				return err
			}
			return enqueue(start)
		}
		return fmt.Errorf("action %q: want pause, resume, abort or rollback", action)
	})
	if err != nil {
		return nil, err
	}
	ex, err := s.Execution(ctx, id)
	if err != nil {
		return nil, err
	}
	if ex.Status != before {
		s.publishExecution(ctx, ex, map[string]string{ActionPause: "paused", ActionResume: "resumed", ActionAbort: "aborted",
			ActionRollback: "rolling_back"}[action], rec)
	}
	return ex, nil
}

// recoverLoop enqueues the current step of executions that are running
// but whose step no process holds or has scheduled: after a crash (the
// lease ran out) or a lost hand-off.
func (e *engine) recoverLoop(stop chan struct{}) {
	t := time.NewTicker(recoverInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if err := e.recoverOnce(context.Background()); err != nil {
			e.s.log.Warn("failover: recover executions", "error", err)
		}
	}
}

func (e *engine) recoverOnce(ctx context.Context) error {
	now := e.s.now().UnixMilli()
	quiet := recoverInterval.Milliseconds()
	rows, err := e.s.db.QueryContext(ctx, `SELECT id, step FROM failover_executions WHERE status IN (?, ?) AND lease_until < ?
		AND next_wake < ? AND updated_at < ?`, ExecRunning, ExecRollingBack, now, now-10_000, now-quiet)
	if err != nil {
		return err
	}
	var todo []stepArgs
	for rows.Next() {
		var a stepArgs
		if err := rows.Scan(&a.Exec, &a.Seq); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, a)
	}
	rows.Close()
	for _, a := range todo {
		if _, err := e.s.db.ExecContext(ctx, "UPDATE failover_executions SET updated_at = ? WHERE id = ?", now, a.Exec); err != nil {
			return err
		}
		if _, err := e.s.jobs.Enqueue(ctx, stepKind, a, nil); err != nil {
			return err
		}
		e.s.log.Info("failover: execution picked up again", "execution", a.Exec, "step", a.Seq)
	}
	return nil
}
