package failover

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/step"
)

// Execution statuses.
const (
	ExecRunning     = "running"
	ExecPaused      = "paused"
	ExecSucceeded   = "succeeded"
	ExecFailed      = "failed"
	ExecAborted     = "aborted"
	ExecRollingBack = "rolling_back"
	ExecRolledBack  = "rolled_back"
)

// Phases of an execution.
const (
	PhaseForward  = "forward"
	PhaseRollback = "rollback"
)

// Step statuses.
const (
	StepPending   = "pending"
	StepRunning   = "running"
	StepSucceeded = "succeeded"
	StepFailed    = "failed"
)

func active(status string) bool { return status == ExecRunning || status == ExecRollingBack }

// Execution is a plan being carried out.
type Execution struct {
	ID        string `json:"id"`
	PlanID    string `json:"plan_id"`
	Fleet     string `json:"fleet"`
	Provider  string `json:"provider"`
	Simulated bool   `json:"simulated"`
	Status    string `json:"status"`
	Phase     string `json:"phase"`
	// Step is the sequence number of the current step.
	Step int `json:"step"`
	// ClockStart and ClockNow are the execution clock: simulated time
	// for a simulated provider, else wall time.
	ClockStart time.Time  `json:"clock_start"`
	ClockNow   time.Time  `json:"clock_now"`
	WallStart  time.Time  `json:"wall_start"`
	WallEnd    *time.Time `json:"wall_end,omitempty"`
	Error      string     `json:"error,omitempty"`
	Exercise   string     `json:"exercise,omitempty"`
	CreatedBy  string     `json:"created_by"`
	UpdatedAt  time.Time  `json:"updated_at"`
	// ClockSeconds is how long the execution took (or has taken) on its
	// clock; WallSeconds in wall time.
	ClockSeconds float64      `json:"clock_seconds"`
	WallSeconds  float64      `json:"wall_seconds"`
	Steps        []StepRecord `json:"steps,omitempty"`

	world     string
	leaseUser string
	leaseEnd  int64
}

// StepRecord is one step of an execution.
type StepRecord struct {
	Seq    int    `json:"seq"`
	Phase  string `json:"phase"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// Start and End are seconds on the execution clock since it started.
	Start    *float64      `json:"start,omitempty"`
	End      *float64      `json:"end,omitempty"`
	Wall     float64       `json:"wall_seconds,omitempty"`
	Progress step.Progress `json:"progress"`
	Error    string        `json:"error,omitempty"`
}

const execColumns = `id, plan_id, fleet, provider, world, simulated, status, phase, step, clock_start, clock_now, wall_start,
	wall_end, lease_owner, lease_until, error, exercise, created_by, updated_at`

type scanner interface{ Scan(...any) error }

func scanExec(row scanner) (*Execution, error) {
	var ex Execution
	var sim int
	var cs, cn, ws, up int64
	var we sql.NullInt64
	if err := row.Scan(&ex.ID, &ex.PlanID, &ex.Fleet, &ex.Provider, &ex.world, &sim, &ex.Status, &ex.Phase, &ex.Step, &cs, &cn, &ws,
		&we, &ex.leaseUser, &ex.leaseEnd, &ex.Error, &ex.Exercise, &ex.CreatedBy, &up); err != nil {
		return nil, err
	}
	ex.Simulated = sim != 0
	ex.ClockStart, ex.ClockNow, ex.WallStart, ex.UpdatedAt = ms(cs), ms(cn), ms(ws), ms(up)
	ex.ClockSeconds = float64(cn-cs) / 1000
	if we.Valid {
		t := ms(we.Int64)
		ex.WallEnd = &t
		ex.WallSeconds = float64(we.Int64-ws) / 1000
	} else {
		ex.WallSeconds = time.Since(ex.WallStart).Seconds()
	}
	return &ex, nil
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

// Execution returns an execution with its steps.
func (s *Service) Execution(ctx context.Context, id string) (*Execution, error) {
	ex, err := scanExec(s.db.QueryRowContext(ctx, "SELECT "+execColumns+" FROM failover_executions WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("execution %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load execution %s: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, phase, kind, name, status, clock_start, clock_end, wall_start, wall_end, progress, error
		FROM failover_steps WHERE execution_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("load steps of %s: %w", id, err)
	}
	defer rows.Close()
	origin := ex.ClockStart.UnixMilli()
	for rows.Next() {
		var st StepRecord
		var cs, ce, ws, we sql.NullInt64
		var progress string
		if err := rows.Scan(&st.Seq, &st.Phase, &st.Kind, &st.Name, &st.Status, &cs, &ce, &ws, &we, &progress, &st.Error); err != nil {
			return nil, fmt.Errorf("load steps of %s: %w", id, err)
		}
		if cs.Valid {
			v := float64(cs.Int64-origin) / 1000
			st.Start = &v
		}
		if ce.Valid {
			v := float64(ce.Int64-origin) / 1000
			st.End = &v
		}
		if ws.Valid && we.Valid {
			st.Wall = float64(we.Int64-ws.Int64) / 1000
		}
		json.Unmarshal([]byte(progress), &st.Progress)
		ex.Steps = append(ex.Steps, st)
	}
	return ex, rows.Err()
}

// Executions lists executions, newest first, started before the cursor.
func (s *Service) Executions(ctx context.Context, status string, before int64, limit int) ([]*Execution, int64, error) {
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+execColumns+` FROM failover_executions WHERE wall_start < ? AND (status = ? OR ? = '')
		ORDER BY wall_start DESC, id LIMIT ?`, before, status, status, limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("list executions: %w", err)
	}
	defer rows.Close()
	out := []*Execution{}
	var next int64
	for rows.Next() {
		ex, err := scanExec(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list executions: %w", err)
		}
		if len(out) == limit {
			next = out[len(out)-1].WallStart.UnixMilli()
			break
		}
		out = append(out, ex)
	}
	return out, next, rows.Err()
}
