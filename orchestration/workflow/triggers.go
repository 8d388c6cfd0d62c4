package workflow

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// triggerIdle is the longest the scheduler sleeps between looks at the
// next due trigger: an apply wakes it at once, and a clock set forward
// (a test's, an NTP step) is seen within it.
const triggerIdle = 250 * time.Millisecond

// syncTriggers stores the time triggers of a workflow's active version,
// each with its next firing after now.
func (s *Service) syncTriggers(ctx context.Context, tx *store.Tx, id string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM workflow_time_triggers WHERE workflow_id = ?`, id); err != nil {
		return err
	}
	var active int
	if err := tx.QueryRowContext(ctx, `SELECT active FROM workflow_workflows WHERE id = ?`, id).Scan(&active); err != nil {
		return err
	}
	c, err := s.version(ctx, tx, id, active)
	if err != nil {
		return err
	}
	if err := s.syncSignalTriggers(ctx, tx, id, c); err != nil {
		return err
	}
	defer s.nudgeScheduler()
	if c.def.IsActive != nil && !*c.def.IsActive {
		return nil
	}
	now := s.now()
	for i, tt := range c.def.Workflow.TimeTriggers {
		sched, loc, err := tt.Schedule()
		if err != nil {
			return fmt.Errorf("time trigger %d: %w", i, err)
		}
		next := sched.Next(now.In(loc))
		if _, err := tx.ExecContext(ctx, `INSERT INTO workflow_time_triggers (workflow_id, idx, version, next_at) VALUES (?, ?, ?, ?)`,
			id, i, active, next.UnixMilli()); err != nil {
			return err
		}
	}
	return nil
}

// schedule fires due time triggers until stop closes: it sleeps until
// the next trigger is due (at most triggerIdle, or until an apply changes
// the triggers), so an idle server asks the store for the next due time
// four times a second, one indexed MIN.
func (s *Service) schedule(stop <-chan struct{}) {
	defer s.running.Done()
	ctx := context.Background()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-stop:
			return
		case <-timer.C:
		case <-s.triggersChanged:
		}
		if err := s.fireDue(ctx); err != nil {
			s.log.Warn("fire workflow time triggers", "error", err)
		}
		wait := triggerIdle
		var next sql.NullInt64
		if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_at) FROM workflow_time_triggers`).Scan(&next); err == nil && next.Valid {
			wait = min(wait, max(0, time.UnixMilli(next.Int64).Sub(s.now())))
		}
		timer.Reset(wait)
	}
}

// nudgeScheduler tells the scheduler the triggers changed.
func (s *Service) nudgeScheduler() {
	select {
	case s.triggersChanged <- struct{}{}:
	default:
	}
}

// fireDue starts an instance for every time trigger whose time has
// come, and moves each to its next time after now (a trigger missed
// while no process ran fires once, not once per missed time).
func (s *Service) fireDue(ctx context.Context) error {
	// The first steps run, and the events go out, once every instance
	// due has started: sooner, they would take SQLite's one writer and
	// the CPU from the starts.
	var later deferral
	defer func() {
		s.launch(later.steps)
		s.publish(later.events)
	}()
	for {
		n, err := s.fireSome(ctx, &later)
		if err != nil || n < dueLimit {
			return err
		}
	}
}

// dueLimit is how many due triggers one query reads.
const dueLimit = 1000

// fireSome fires up to dueLimit due triggers and says how many it read;
// it adds the steps the instances made ready, and their events, to later.
func (s *Service) fireSome(ctx context.Context, later *deferral) (int, error) {
	now := s.now()
	rows, err := s.db.QueryContext(ctx, `SELECT workflow_id, idx, version, next_at FROM workflow_time_triggers WHERE next_at <= ?
		ORDER BY next_at LIMIT `+fmt.Sprint(dueLimit), now.UnixMilli())
	if err != nil {
		return 0, err
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.workflow, &d.idx, &d.ver, &d.at); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, d)
	}
	rows.Close()
	read := len(list)
	// Fire them in batches, one transaction each, with few statements
	// (fireBatch); a batch that fails as a whole, and the triggers it
	// leaves, go one at a time, a savepoint each, so one failure does not
	// undo the others.
	for len(list) > 0 {
		batch := list[:min(len(list), triggerBatch)]
		list = list[len(batch):]
		var slow []due
		err := s.inTxDeferring(ctx, later, func(t *txn) error {
			t.starting = true
			var err error
			slow, err = t.fireBatch(batch, now)
			return err
		})
		if err != nil {
			s.log.Warn("start workflows on their time triggers together; starting them one at a time", "error", err)
			slow = batch
		}
		if len(slow) == 0 {
			continue
		}
		err = s.inTxDeferring(ctx, later, func(t *txn) error {
			t.starting = true
			for i, d := range slow {
				if err := t.fireOne(d.workflow, d.idx, d.ver, d.at, now, i); err != nil {
					s.log.Warn("start a workflow on its time trigger", "workflow", d.workflow, "error", err)
				}
			}
			return nil
		})
		if err != nil {
			return read, err
		}
	}
	return read, nil
}

// due is a time trigger whose time has come.
type due struct {
	workflow string
	idx, ver int
	at       int64
}

// triggerBatch is how many due triggers one transaction fires.
const triggerBatch = 200

// fireOne starts the instance of a due trigger and moves it to its next
// time, under a savepoint: on error it undoes only its own changes.
func (t *txn) fireOne(workflow string, idx, ver int, at int64, now time.Time, n int) error {
	c, err := t.s.version(t.ctx, t.tx, workflow, ver)
	if err != nil || idx >= len(c.def.Workflow.TimeTriggers) {
		return err
	}
	tt := c.def.Workflow.TimeTriggers[idx]
	sched, loc, err := tt.Schedule()
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_time_triggers SET next_at = ? WHERE workflow_id = ? AND idx = ? AND next_at = ?`,
		sched.Next(now.In(loc)).UnixMilli(), workflow, idx, at)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // another process fired it
	}
	// A firing that cannot start its instance is skipped (and logged):
	// the trigger still moves on.
	sp := fmt.Sprintf("fire%d", n)
	if _, err := t.tx.ExecContext(t.ctx, "SAVEPOINT "+sp); err != nil {
		return err
	}
	runs, events := len(t.toRun), len(t.events)
	if _, err := t.startInstance(workflow, StartRequest{}, "time trigger", runDateParams(time.UnixMilli(at).In(loc), tt)); err != nil {
		t.toRun, t.events = t.toRun[:runs], t.events[:events]
		if _, rerr := t.tx.ExecContext(t.ctx, "ROLLBACK TO SAVEPOINT "+sp); rerr != nil {
			return fmt.Errorf("%w (and undo it: %w)", err, rerr)
		}
		return err
	}
	_, err = t.tx.ExecContext(t.ctx, "RELEASE SAVEPOINT "+sp)
	return err
}

// runDateParams are the params of an instance a time trigger started
// for at: its date and hour in the trigger's zone, as Maestro's.
func runDateParams(at time.Time, tt definition.TimeTrigger) map[string]any {
	date := int64(at.Year()*10000 + int(at.Month())*100 + at.Day())
	return map[string]any{"TARGET_RUN_DATE": date, "TARGET_RUN_HOUR": int64(at.Hour()), "TARGET_RUN_TS": at.UnixMilli(),
		"RUN_TS": at.UnixMilli(), "FIRST_TIME_TRIGGER_TIMEZONE": at.Location().String(), "INITIATOR_RUNNER_NAME": "time-trigger"}
}
