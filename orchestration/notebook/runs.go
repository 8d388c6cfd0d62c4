package notebook

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/papermill"
)

// Run statuses.
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunCompleted = "completed"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
)

// Run is one execution of a stored notebook, kept with its parameters,
// scraps and output notebook.
type Run struct {
	ID         int64          `json:"id"`
	NotebookID string         `json:"notebook_id"`
	Notebook   string         `json:"notebook"`
	Version    int            `json:"version"`
	Kernel     string         `json:"kernel"`
	Params     map[string]any `json:"parameters"`
	Timeout    string         `json:"timeout,omitempty"`
	Status     string         `json:"status"`
	Cells      int            `json:"cells"`
	CellsDone  int            `json:"cells_done"`
	FailedCell *int           `json:"failed_cell"`
	Error      string         `json:"error,omitempty"`
	Scraps     map[string]any `json:"scraps"`
	// Approval is set once the run reached a cell tagged approval.
	Approval *ApprovalState `json:"approval,omitempty"`
	// Step names the workflow step attempt that started the run, if any.
	Step      *StepRef   `json:"step,omitempty"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// kernelDied is set by execute when the run's kernel died, for the
	// step's outcome; it is not stored (the Error says so).
	kernelDied bool
}

// StepRef names a workflow step attempt.
type StepRef struct {
	Instance string `json:"instance"`
	Step     string `json:"step"`
	Attempt  int    `json:"attempt"`
}

// RunRequest starts a run.
type RunRequest struct {
	// Parameters are injected as papermill injects them.
	Parameters map[string]any `json:"parameters,omitempty"`
	// Version of the notebook to run (0: the latest).
	Version int `json:"version,omitempty"`
	// Kernel is the kernel spec (default: the notebook's own).
	Kernel string `json:"kernel,omitempty"`
	// Timeout bounds the whole run, a Go duration ("" for none).
	Timeout string `json:"timeout,omitempty"`
}

const runCols = `r.id, r.notebook_id, n.name, r.version, r.kernel, r.params, r.timeout_ms, r.status, r.cells, r.cells_done, r.failed_cell, r.error,
	r.scraps, r.step_instance, r.step, r.step_attempt, r.created_by, r.created_at, r.started_at, r.ended_at`

func scanRun(row interface{ Scan(...any) error }) (*Run, error) {
	var r Run
	var params, scraps, stepInstance, step string
	var timeout, created, started, ended int64
	var failed, attempt int
	if err := row.Scan(&r.ID, &r.NotebookID, &r.Notebook, &r.Version, &r.Kernel, &params, &timeout, &r.Status, &r.Cells, &r.CellsDone,
		&failed, &r.Error, &scraps, &stepInstance, &step, &attempt, &r.CreatedBy, &created, &started, &ended); err != nil {
		return nil, err
	}
	if err := decodeNumbers(params, &r.Params); err != nil {
		return nil, fmt.Errorf("run %d params: %w", r.ID, err)
	}
	if err := decodeNumbers(scraps, &r.Scraps); err != nil {
		return nil, fmt.Errorf("run %d scraps: %w", r.ID, err)
	}
	if timeout > 0 {
		r.Timeout = (time.Duration(timeout) * time.Millisecond).String()
	}
	if failed >= 0 {
		r.FailedCell = &failed
	}
	if stepInstance != "" {
		r.Step = &StepRef{stepInstance, step, attempt}
	}
	r.CreatedAt = time.UnixMilli(created).UTC()
	if started > 0 {
		t := time.UnixMilli(started).UTC()
		r.StartedAt = &t
	}
	if ended > 0 {
		t := time.UnixMilli(ended).UTC()
		r.EndedAt = &t
	}
	return &r, nil
}

func decodeNumbers(s string, v any) error {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	return d.Decode(v)
}

// newRun records a queued run of a stored notebook and returns its ID.
// A step's run is unique per attempt; asking again returns the same run.
func (s *Service) newRun(ctx context.Context, ref string, req RunRequest, step *StepRef, actor string) (*Run, error) {
	n, version, content, err := s.Content(ctx, ref, req.Version)
	if err != nil {
		return nil, err
	}
	if n.Archived {
		return nil, fmt.Errorf("%w: notebook %s is archived", ErrConflict, n.Name)
	}
	params := papermill.ParamsFromMap(req.Parameters)
	if err := params.Check(); err != nil {
		return nil, fmt.Errorf("%w: parameters: %w", ErrInvalid, err)
	}
	var timeout time.Duration
	if req.Timeout != "" {
		if timeout, err = time.ParseDuration(req.Timeout); err != nil || timeout <= 0 {
			return nil, fmt.Errorf("%w: timeout %q: want a positive Go duration such as 10m", ErrInvalid, req.Timeout)
		}
	}
	nb, err := nbformat.Parse(content)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	kernel := KernelName(nb, req.Kernel)
	if _, err := jupyter.FindKernelSpec(kernel, s.kernelDirs()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	pjson, err := json.Marshal(orEmpty(req.Parameters))
	if err != nil {
		return nil, fmt.Errorf("%w: parameters: %w", ErrInvalid, err)
	}
	var si, sn string
	var sa int
	if step != nil {
		si, sn, sa = step.Instance, step.Step, step.Attempt
		var id int64
		err := s.db.QueryRowContext(ctx, "SELECT id FROM notebook_runs WHERE step_instance = ? AND step = ? AND step_attempt = ?", si, sn, sa).Scan(&id)
		if err == nil {
			return s.Run(ctx, id)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	var id int64
	err = s.db.QueryRowContext(ctx, `INSERT INTO notebook_runs (notebook_id, version, kernel, params, timeout_ms, status, step_instance, step, step_attempt, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		n.ID, version, kernel, string(pjson), timeout.Milliseconds(), RunQueued, si, sn, sa, actor, s.now().UnixMilli()).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("record a run of %s: %w", n.Name, err)
	}
	return s.Run(ctx, id)
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// StartRun records a run of a stored notebook and queues it for a worker.
func (s *Service) StartRun(ctx context.Context, ref string, req RunRequest, actor string) (*Run, error) {
	run, err := s.newRun(ctx, ref, req, nil, actor)
	if err != nil {
		return nil, err
	}
	if _, err := s.jobs.Enqueue(ctx, runKind, runArgs{Run: run.ID}, nil); err != nil {
		return nil, fmt.Errorf("queue run %d: %w", run.ID, err)
	}
	return run, nil
}

// Run returns a run.
func (s *Service) Run(ctx context.Context, id int64) (*Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, "SELECT "+runCols+" FROM notebook_runs r JOIN notebook_notebooks n ON n.id = r.notebook_id WHERE r.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if r.Approval, err = s.approval(ctx, id); err != nil {
		return nil, err
	}
	return r, nil
}

// Runs lists a notebook's runs (all notebooks' for ref ""), newest first.
func (s *Service) Runs(ctx context.Context, ref string, limit int) ([]Run, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	q := "SELECT " + runCols + " FROM notebook_runs r JOIN notebook_notebooks n ON n.id = r.notebook_id"
	args := []any{}
	if ref != "" {
		n, err := s.Notebook(ctx, ref)
		if err != nil {
			return nil, err
		}
		q += " WHERE r.notebook_id = ?"
		args = append(args, n.ID)
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY r.id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	out := []Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// Output returns a run's output notebook: the final one, or while it
// runs, the partial one written after its last finished cell.
func (s *Service) Output(ctx context.Context, id int64) ([]byte, error) {
	var out string
	err := s.db.QueryRowContext(ctx, "SELECT output FROM notebook_runs WHERE id = ?", id).Scan(&out)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if out != "" {
		return []byte(out), nil
	}
	data, err := os.ReadFile(s.partialPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("run %d has no output yet: %w", id, ErrNotFound)
	}
	return data, err
}

func (s *Service) partialPath(id int64) string {
	return filepath.Join(s.runDir, fmt.Sprintf("run-%d.ipynb", id))
}

// CancelRun asks a queued or running run to stop: its kernel is killed
// within a second, wherever it runs.
func (s *Service) CancelRun(ctx context.Context, id int64) (*Run, error) {
	r, err := s.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status != RunQueued && r.Status != RunRunning && r.Status != RunWaiting {
		return nil, fmt.Errorf("%w: run %d has ended (%s)", ErrConflict, id, r.Status)
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE notebook_runs SET cancel_requested = 1 WHERE id = ?", id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	cancel := s.running[id]
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return s.Run(ctx, id)
}
