package remediation

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/orchestration/workflow/workflowapi"
)

// Execution statuses.
const (
	ExecRunning   = "running"
	ExecPaused    = "paused"
	ExecWaiting   = "waiting" // an operator must decide (see Attention)
	ExecSucceeded = "succeeded"
	ExecFailed    = "failed"
	ExecCancelled = "cancelled"
)

// Step statuses.
const (
	StepPending   = "pending"
	StepRunning   = "running"
	StepWaiting   = "waiting" // approval, sleep or event
	StepSucceeded = "succeeded"
	StepFailed    = "failed"
	StepCancelled = "cancelled"
	StepUnknown   = "unknown" // may or may not have happened; an operator decides
)

func execDone(status string) bool {
	return status == ExecSucceeded || status == ExecFailed || status == ExecCancelled
}

func stepDone(status string) bool {
	return status == StepSucceeded || status == StepFailed || status == StepCancelled
}

// Trigger tells how an execution started.
type Trigger struct {
	// Kind is manual, event, cron, workflow or test.
	Kind string `json:"kind"`
	By   string `json:"by,omitempty"`
	// Event is the CloudEvent that started an event-triggered run.
	Event json.RawMessage `json:"event,omitempty"`
	Rule  string          `json:"rule,omitempty"`
	// Step is the workflow step a workflow-started run does (its params
	// left out): the run's end is reported to it.
	Step *workflowapi.StepJob `json:"workflow_step,omitempty"`
}

// Execution is one run of a runbook version.
type Execution struct {
	ID         string          `json:"id"`
	Runbook    string          `json:"runbook"`
	Version    int             `json:"version"`
	Env        string          `json:"env,omitempty"`
	Status     string          `json:"status"`
	Params     json.RawMessage `json:"params"`
	Vars       json.RawMessage `json:"vars"`
	Trigger    Trigger         `json:"trigger"`
	StartedBy  string          `json:"started_by"`
	Attention  string          `json:"attention,omitempty"`
	Error      string          `json:"error,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	Deadline   time.Time       `json:"deadline"`
	Steps      []StepState     `json:"steps,omitempty"`
	History    []HistoryEntry  `json:"history,omitempty"`

	failed bool
}

// StepState is the state of one step (or one item of a fan-out step).
type StepState struct {
	Key          string          `json:"key"`
	Name         string          `json:"name"`
	Type         string          `json:"type,omitempty"`
	Parent       string          `json:"parent,omitempty"`
	Index        int             `json:"index"`
	Item         json.RawMessage `json:"item,omitempty"`
	Status       string          `json:"status"`
	Attempt      int             `json:"attempt"`
	Agent        string          `json:"agent,omitempty"`
	RunID        string          `json:"run_id,omitempty"`
	ItemsTotal   int             `json:"items_total,omitempty"`
	ItemsDone    int             `json:"items_done,omitempty"`
	ItemsFailed  int             `json:"items_failed,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	StartedAt    *time.Time      `json:"started_at,omitempty"`
	FinishedAt   *time.Time      `json:"finished_at,omitempty"`
	Output       json.RawMessage `json:"output,omitempty"`
	Error        string          `json:"error,omitempty"`
	Detail       json.RawMessage `json:"detail,omitempty"`
	itemsStarted int
	owner        string
	lease        int64
	boot         string
}

// HistoryEntry is one thing that happened to an execution, and who did it.
type HistoryEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	What   string    `json:"what"`
	Step   string    `json:"step,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const execColumns = `id, runbook, version, env, status, params, vars, trigger_info, started_by, attention, error,
	failed, created_at, updated_at, finished_at, deadline`

func scanExec(sc interface{ Scan(...any) error }) (*Execution, error) {
	var (
		ex                      Execution
		params, vars, trig      string
		failed                  int
		created, updated, deadl int64
		finished                sql.NullInt64
	)
	if err := sc.Scan(&ex.ID, &ex.Runbook, &ex.Version, &ex.Env, &ex.Status, &params, &vars, &trig, &ex.StartedBy,
		&ex.Attention, &ex.Error, &failed, &created, &updated, &finished, &deadl); err != nil {
		return nil, err
	}
	ex.Params, ex.Vars = json.RawMessage(params), json.RawMessage(vars)
	json.Unmarshal([]byte(trig), &ex.Trigger)
	ex.failed = failed != 0
	ex.CreatedAt, ex.UpdatedAt, ex.Deadline = fromMS(created), fromMS(updated), fromMS(deadl)
	if finished.Valid {
		t := fromMS(finished.Int64)
		ex.FinishedAt = &t
	}
	return &ex, nil
}

func loadExec(ctx context.Context, q querier, id string) (*Execution, error) {
	ex, err := scanExec(q.QueryRowContext(ctx, `SELECT `+execColumns+` FROM remediation_executions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("execution %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load execution %s: %w", id, err)
	}
	return ex, nil
}

const stepColumns = `step_key, name, parent, item_index, item, status, attempt, agent, run_id, agent_boot, items_total,
	items_started, items_done, items_failed, created_at, started_at, finished_at, output, error, detail, owner, lease_until`

func scanStep(sc interface{ Scan(...any) error }, withOutput bool) (*StepState, error) {
	var (
		s                 StepState
		item, detail      string
		created, lease    int64
		started, finished sql.NullInt64
		output            []byte
	)
	if err := sc.Scan(&s.Key, &s.Name, &s.Parent, &s.Index, &item, &s.Status, &s.Attempt, &s.Agent, &s.RunID, &s.boot,
		&s.ItemsTotal, &s.itemsStarted, &s.ItemsDone, &s.ItemsFailed, &created, &started, &finished, &output, &s.Error,
		&detail, &s.owner, &lease); err != nil {
		return nil, err
	}
	s.lease = lease
	if item != "" {
		s.Item = json.RawMessage(item)
	}
	if detail != "" {
		s.Detail = json.RawMessage(detail)
	}
	if withOutput && len(output) > 0 {
		s.Output = json.RawMessage(output)
	}
	s.CreatedAt = fromMS(created)
	if started.Valid {
		t := fromMS(started.Int64)
		s.StartedAt = &t
	}
	if finished.Valid {
		t := fromMS(finished.Int64)
		s.FinishedAt = &t
	}
	return &s, nil
}

func loadStep(ctx context.Context, q querier, execID, key string) (*StepState, error) {
	s, err := scanStep(q.QueryRowContext(ctx, `SELECT `+stepColumns+` FROM remediation_steps WHERE execution_id = ? AND step_key = ?`,
		execID, key), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("execution %s step %q: %w", execID, key, ErrNotFound)
	}
	return s, err
}

// loadSteps returns the steps of an execution in creation order; parent
// "" gives the top-level steps, "*" every row.
func loadSteps(ctx context.Context, q querier, execID, parent string, withOutput bool) ([]StepState, error) {
	query := `SELECT ` + stepColumns + ` FROM remediation_steps WHERE execution_id = ?`
	args := []any{execID}
	if parent != "*" {
		query += ` AND parent = ?`
		args = append(args, parent)
	}
	if !withOutput {
		query = strings.Replace(query, " output,", " NULL,", 1)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY seq, item_index, step_key`, args...)
	if err != nil {
		return nil, fmt.Errorf("load steps of %s: %w", execID, err)
	}
	defer rows.Close()
	var out []StepState
	for rows.Next() {
		s, err := scanStep(rows, withOutput)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, rows.Err()
}

// ExecFilter selects executions.
type ExecFilter struct {
	Runbook string
	Status  string
	Before  string // cursor: "<created_at ms>:<id>"
	Limit   int
}

func listExecs(ctx context.Context, q querier, f ExecFilter) ([]Execution, string, error) {
	query := `SELECT ` + execColumns + ` FROM remediation_executions WHERE 1 = 1`
	var args []any
	if f.Runbook != "" {
		query += ` AND runbook = ?`
		args = append(args, f.Runbook)
	}
	if f.Status != "" {
		query += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Before != "" {
		var ms int64
		var id string
		if _, err := fmt.Sscanf(strings.Replace(f.Before, ":", " ", 1), "%d %s", &ms, &id); err == nil {
			query += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
			args = append(args, ms, ms, id)
		}
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, f.Limit+1)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list executions: %w", err)
	}
	defer rows.Close()
	var out []Execution
	for rows.Next() {
		ex, err := scanExec(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, *ex)
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = fmt.Sprintf("%d:%s", last.CreatedAt.UnixMilli(), last.ID)
	}
	return out, next, rows.Err()
}

func loadHistory(ctx context.Context, q querier, execID string) ([]HistoryEntry, error) {
	rows, err := q.QueryContext(ctx, `SELECT at, actor, what, step_key, detail FROM remediation_history
		WHERE execution_id = ? ORDER BY id`, execID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var h HistoryEntry
		var at int64
		if err := rows.Scan(&at, &h.Actor, &h.What, &h.Step, &h.Detail); err != nil {
			return nil, err
		}
		h.At = fromMS(at)
		out = append(out, h)
	}
	return out, rows.Err()
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Service) addHistory(ctx context.Context, x execer, execID, actor, what, step, detail string) error {
	_, err := x.ExecContext(ctx, `INSERT INTO remediation_history (execution_id, at, actor, what, step_key, detail)
		VALUES (?, ?, ?, ?, ?, ?)`, execID, s.nowMS(), actor, what, step, truncate(detail, 2000))
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
