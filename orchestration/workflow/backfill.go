package workflow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// MaxBackfill bounds the instances one backfill starts.
const MaxBackfill = 1000

// BackfillRequest starts an instance for every time a workflow's time
// trigger would have fired in [From, To).
type BackfillRequest struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Trigger is the index of the time trigger (default 0); a workflow
	// without one is backfilled daily at midnight UTC.
	Trigger int `json:"trigger,omitempty"`
	// Params are given to every instance.
	Params map[string]any `json:"params,omitempty"`
}

// Backfill is a backfill and its progress.
type Backfill struct {
	ID         string         `json:"id"`
	WorkflowID string         `json:"workflow_id"`
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
	Total      int            `json:"total"`
	Statuses   map[string]int `json:"statuses"`
	// Done counts the instances that have ended.
	Done      int       `json:"done"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// StartBackfill starts the instances of a backfill, in time order, in
// one transaction: the workflow's run strategy decides how many run at
// once (sequential: one after the other).
func (s *Service) StartBackfill(ctx context.Context, workflow string, req BackfillRequest, by string) (*Backfill, error) {
	if !req.From.Before(req.To) {
		return nil, fmt.Errorf("from %s must be before to %s: %w", req.From.Format(time.RFC3339), req.To.Format(time.RFC3339), ErrInvalid)
	}
	id := "bf_" + randomHex(8)
	err := s.inTx(ctx, func(t *txn) error {
		var active int
		if err := t.tx.QueryRowContext(ctx, `SELECT active FROM workflow_workflows WHERE id = ?`, workflow).Scan(&active); err != nil {
			return fmt.Errorf("workflow %q: %w", workflow, ErrNotFound)
		}
		c, err := s.version(ctx, t.tx, workflow, active)
		if err != nil {
			return err
		}
		tt := definition.TimeTrigger{Type: "PREDEFINED", Expression: "@daily"}
		if n := len(c.def.Workflow.TimeTriggers); n > 0 {
			if req.Trigger < 0 || req.Trigger >= n {
				return fmt.Errorf("trigger %d: the workflow has %d time triggers: %w", req.Trigger, n, ErrInvalid)
			}
			tt = c.def.Workflow.TimeTriggers[req.Trigger]
		}
		times, err := firings(tt, req.From, req.To)
		if err != nil {
			return err
		}
		if len(times) == 0 {
			return fmt.Errorf("the trigger does not fire between %s and %s: %w", req.From.Format(time.RFC3339), req.To.Format(time.RFC3339), ErrInvalid)
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO workflow_backfills (id, workflow_id, from_at, to_at, total, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, workflow, req.From.UnixMilli(), req.To.UnixMilli(), len(times), by, s.nowMS()); err != nil {
			return err
		}
		for _, at := range times {
			params := runDateParams(at, tt)
			params["INITIATOR_RUNNER_NAME"], params["BACKFILL_ID"] = "backfill", id
			no, err := t.startInstance(workflow, StartRequest{Params: req.Params}, by, params)
			if err != nil {
				return fmt.Errorf("the instance for %s: %w", at.Format(time.RFC3339), err)
			}
			if _, err := t.tx.ExecContext(ctx, `UPDATE workflow_instances SET backfill_id = ? WHERE id = ?`, id, instanceKey(workflow, no)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Backfill(ctx, workflow, id)
}

// firings lists the times tt fires in [from, to), at most MaxBackfill.
func firings(tt definition.TimeTrigger, from, to time.Time) ([]time.Time, error) {
	sched, loc, err := tt.Schedule()
	if err != nil {
		return nil, err
	}
	var out []time.Time
	// Next is strictly after its argument: start just before from.
	for at := next(sched, from.In(loc).Add(-time.Second)); at.Before(to); at = next(sched, at) {
		if len(out) == MaxBackfill {
			return nil, fmt.Errorf("more than %d instances between %s and %s: backfill a shorter range: %w",
				MaxBackfill, from.Format(time.RFC3339), to.Format(time.RFC3339), ErrInvalid)
		}
		out = append(out, at)
	}
	return out, nil
}

func next(s cron.Schedule, t time.Time) time.Time {
	n := s.Next(t)
	if n.IsZero() {
		return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return n
}

// Backfill returns a backfill with its instances' statuses.
func (s *Service) Backfill(ctx context.Context, workflow, id string) (*Backfill, error) {
	b := &Backfill{ID: id, WorkflowID: workflow, Statuses: map[string]int{}}
	var from, to, created int64
	if err := s.db.QueryRowContext(ctx, `SELECT from_at, to_at, total, created_by, created_at FROM workflow_backfills WHERE id = ? AND workflow_id = ?`,
		id, workflow).Scan(&from, &to, &b.Total, &b.CreatedBy, &created); err != nil {
		return nil, fmt.Errorf("backfill %s of %s: %w", id, workflow, ErrNotFound)
	}
	b.From, b.To, b.CreatedAt = time.UnixMilli(from).UTC(), time.UnixMilli(to).UTC(), time.UnixMilli(created).UTC()
	rows, err := s.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM workflow_instances WHERE backfill_id = ? GROUP BY status`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		b.Statuses[st] = n
		if instanceTerminal(st) {
			b.Done += n
		}
	}
	return b, rows.Err()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
