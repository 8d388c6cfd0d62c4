package notebook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/papermill"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/scrapbook"
)

// runKind is the job that executes a queued run.
const runKind = "notebook.run"

type runArgs struct {
	Run int64 `json:"run"`
}

// errProcessDied marks a run found running by a later attempt: the
// process that ran it died.
var errProcessDied = errors.New("the process running this notebook stopped before it finished")

// execute runs a queued run to its end and records the outcome. A run
// found already running was left by a process that died: it is marked
// failed, not repeated, unless rerun is set (an idempotent step).
func (s *Service) execute(ctx context.Context, id int64, rerun bool) (*Run, error) {
	r, err := s.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	switch r.Status {
	case RunCompleted, RunFailed, RunCancelled:
		return r, nil
	case RunRunning, RunWaiting:
		if !rerun {
			return s.finish(ctx, id, RunFailed, -1, errProcessDied.Error(), nil, nil)
		}
	}
	var cancelled int
	if err := s.db.QueryRowContext(ctx, "SELECT cancel_requested FROM notebook_runs WHERE id = ?", id).Scan(&cancelled); err != nil {
		return nil, err
	}
	if cancelled != 0 {
		return s.finish(ctx, id, RunCancelled, -1, "cancelled before it started", nil, nil)
	}
	_, _, content, err := s.Content(ctx, r.NotebookID, r.Version)
	if err != nil {
		return nil, err
	}
	nb, err := nbformat.Parse(content)
	if err != nil {
		return s.finish(ctx, id, RunFailed, -1, err.Error(), nil, nil)
	}
	spec, err := jupyter.FindKernelSpec(r.Kernel, s.kernelDirs())
	if err != nil {
		return s.finish(ctx, id, RunFailed, -1, err.Error(), nil, nil)
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE notebook_runs SET status = ?, started_at = ?, cells = ? WHERE id = ?",
		RunRunning, s.now().UnixMilli(), len(nb.Cells), id); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.running[id] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, id)
		s.mu.Unlock()
	}()
	go s.watchCancel(runCtx, id, cancel)

	lease, err := s.pool.Get(runCtx, spec)
	if err != nil {
		status := RunFailed
		if s.cancelRequested(id) {
			status = RunCancelled
		}
		return s.finish(ctx, id, status, -1, "start kernel: "+err.Error(), nil, nil)
	}
	defer lease.Release()
	var timeout time.Duration
	if r.Timeout != "" {
		timeout, _ = time.ParseDuration(r.Timeout)
	}
	partial := s.partialPath(id)
	defer os.Remove(partial)
	res, err := papermill.Run(runCtx, lease.Kernel, nb, papermill.Options{
		Params: papermill.ParamsFromMap(r.Params), InputPath: fmt.Sprintf("notebook:%s@%d", r.Notebook, r.Version), OutputPath: partial,
		KernelName: spec.Name, Language: spec.Language, LanguageInfo: lease.Kernel.Info.LanguageInfo,
		RunTimeout: timeout, CellTimeout: s.set.CellTimeout, Now: s.now, Version: gafferVersion(), Gate: s.gate(id),
		Progress: func(nb *nbformat.Notebook, cell int, status string) {
			if status != papermill.StatusRunning {
				s.db.ExecContext(ctx, "UPDATE notebook_runs SET cells = ?, cells_done = ? WHERE id = ?", len(nb.Cells), cell+1, id)
			}
		},
	})
	if err != nil {
		return s.finish(ctx, id, RunFailed, -1, err.Error(), nil, nil)
	}
	out, err := nb.Marshal()
	if err != nil {
		return nil, err
	}
	scraps, serr := scrapbook.Values(nb)
	status, errText := RunCompleted, ""
	switch {
	case res.Status == papermill.StatusFailed && s.cancelRequested(id):
		status, errText = RunCancelled, "cancelled"
	case res.Status == papermill.StatusFailed:
		status, errText = RunFailed, res.Error.Error()
	case serr != nil:
		status, errText = RunFailed, "read scraps: "+serr.Error()
	}
	done, err := s.finish(ctx, id, status, res.FailedCell, errText, scraps, out)
	if done != nil {
		done.kernelDied = res.KernelDied != nil
	}
	return done, err
}

// watchCancel cancels a run when a cancel is recorded for it, by this
// process or another.
func (s *Service) watchCancel(ctx context.Context, id int64, cancel context.CancelFunc) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.cancelRequested(id) {
				cancel()
				return
			}
		}
	}
}

func (s *Service) cancelRequested(id int64) bool {
	var c int
	s.db.QueryRowContext(context.Background(), "SELECT cancel_requested FROM notebook_runs WHERE id = ?", id).Scan(&c)
	return c != 0
}

// finish records a run's end.
func (s *Service) finish(ctx context.Context, id int64, status string, failedCell int, errText string, scraps map[string]any, output []byte) (*Run, error) {
	sj, err := json.Marshal(orEmpty(scraps))
	if err != nil {
		return nil, fmt.Errorf("encode scraps: %w", err)
	}
	if _, err := s.db.ExecContext(context.WithoutCancel(ctx), `UPDATE notebook_runs SET status = ?, failed_cell = ?, error = ?, scraps = ?, output = ?, ended_at = ?,
		cells_done = CASE WHEN ? >= 0 THEN ? + 1 ELSE cells_done END WHERE id = ?`,
		status, failedCell, errText, string(sj), string(output), s.now().UnixMilli(), failedCell, failedCell, id); err != nil {
		return nil, fmt.Errorf("record the end of run %d: %w", id, err)
	}
	return s.Run(context.WithoutCancel(ctx), id)
}
