package papermill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
)

// Kernel is what a run needs of a kernel; *jupyter.Kernel implements it.
type Kernel interface {
	Execute(ctx context.Context, code string, onOutput jupyter.OutputHandler) (*jupyter.ExecuteReply, error)
	Interrupt(ctx context.Context) error
	Kill()
}

// Options configure Run.
type Options struct {
	Params Params
	// InputPath and OutputPath are recorded in the papermill metadata;
	// when OutputPath is set, the notebook is written there at the start,
	// after every cell and at the end.
	InputPath, OutputPath string
	// KernelName and Language describe the kernel; LanguageInfo is its
	// kernel_info language_info, recorded in the notebook's metadata.
	KernelName, Language string
	LanguageInfo         json.RawMessage
	// CellTimeout and RunTimeout bound one cell and the whole run (0: no
	// bound). When one passes, the kernel is interrupted, and killed if
	// the cell does not end within InterruptGrace (default 5 s).
	CellTimeout, RunTimeout, InterruptGrace time.Duration
	// OutputLimit bounds the bytes of output one cell keeps (default
	// 8 MiB); the rest is dropped with a note in the cell.
	OutputLimit int
	// Progress, if set, is called when a cell starts and when it ends,
	// with the notebook as it stands (do not keep it past the call).
	Progress func(nb *nbformat.Notebook, cell int, status string)
	// Gate, if set, is called before each cell runs (after the cells
	// before it were written out). An error stops the run there: the cell
	// is marked failed with the error as its output. A runbook uses it to
	// wait for a person's approval.
	Gate func(ctx context.Context, nb *nbformat.Notebook, cell int) error
	// Now is the clock (default time.Now); Version is recorded as
	// metadata.papermill.version.
	Now     func() time.Time
	Version string
}

// Cell statuses in metadata.papermill.status, as papermill writes them.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
)

// Result is the outcome of a run.
type Result struct {
	// Status is "completed" or "failed".
	Status   string
	Duration time.Duration
	// Cells is the number of cells in the executed notebook.
	Cells int
	// FailedCell is the index of the cell that failed in the executed
	// notebook (before the error marker cells were inserted), or -1.
	FailedCell int
	// Error says why the run failed: the cell's exception, a timeout, or
	// the kernel's death.
	Error error
	// KernelDied is set when the kernel process died or was killed.
	KernelDied *jupyter.DeathError
	// Warning is set when the parameters went to the top of the notebook.
	Warning string
}

// CellError is the exception a cell raised.
type CellError struct {
	Cell      int
	Ename     string
	Evalue    string
	Traceback []string
}

func (e *CellError) Error() string {
	return fmt.Sprintf("cell %d raised %s: %s", e.Cell, e.Ename, e.Evalue)
}

// isoTime is papermill's timestamp format: UTC, microseconds, no zone.
const isoTime = "2006-01-02T15:04:05.000000"

// Run parameterises nb (when Params are given), runs its cells in order
// on k and records outputs, execution counts and papermill's metadata in
// nb. It stops at the first cell that raises, times out or kills the
// kernel, marks that cell, and puts papermill's error marker cells in.
// The returned error is for failures to write the output notebook or bad
// parameters; a failed cell is reported in Result.
func Run(ctx context.Context, k Kernel, nb *nbformat.Notebook, opts Options) (*Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.InterruptGrace == 0 {
		opts.InterruptGrace = 5 * time.Second
	}
	if opts.OutputLimit == 0 {
		opts.OutputLimit = 8 << 20
	}
	res := &Result{Status: StatusCompleted, FailedCell: -1}
	if len(opts.Params) > 0 {
		if err := opts.Params.Check(); err != nil {
			return nil, err
		}
		w, err := Parameterize(nb, opts.Params)
		if err != nil {
			return nil, err
		}
		res.Warning = w
	}
	start := opts.Now()
	r := &run{k: k, nb: nb, opts: opts, res: res}
	r.prepare(start)
	if err := r.write(); err != nil {
		return nil, err
	}
	runCtx := ctx
	if opts.RunTimeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, opts.RunTimeout)
		defer cancel()
	}
	for i, c := range nb.Cells {
		if err := r.cell(runCtx, ctx, i, c); err != nil {
			return nil, err
		}
		if res.FailedCell >= 0 {
			break
		}
	}
	end := opts.Now()
	res.Duration = end.Sub(start)
	res.Cells = len(nb.Cells)
	pm := papermillMeta(nb.Metadata)
	pm["end_time"] = end.UTC().Format(isoTime)
	pm["duration"] = res.Duration.Seconds()
	pm["exception"] = res.FailedCell >= 0
	if res.FailedCell >= 0 {
		res.Status = StatusFailed
		insertErrorMarkers(nb, res.FailedCell)
	}
	if err := r.write(); err != nil {
		return nil, err
	}
	return res, nil
}

type run struct {
	k    Kernel
	nb   *nbformat.Notebook
	opts Options
	res  *Result
}

func papermillMeta(meta map[string]any) map[string]any {
	pm, _ := meta["papermill"].(map[string]any)
	if pm == nil {
		pm = map[string]any{}
		meta["papermill"] = pm
	}
	return pm
}

// prepare resets outputs and counts and writes the pending metadata, as
// papermill does before the first cell runs.
func (r *run) prepare(start time.Time) {
	nb := r.nb
	if nb.Metadata == nil {
		nb.Metadata = map[string]any{}
	}
	pm := papermillMeta(nb.Metadata)
	params := map[string]any{}
	for _, p := range r.opts.Params {
		params[p.Name] = p.Value
	}
	pm["parameters"] = params
	if _, ok := pm["environment_variables"]; !ok {
		pm["environment_variables"] = map[string]any{}
	}
	pm["version"] = r.opts.Version
	pm["input_path"] = nullable(r.opts.InputPath)
	pm["output_path"] = nullable(r.opts.OutputPath)
	pm["start_time"] = start.UTC().Format(isoTime)
	pm["end_time"] = nil
	pm["duration"] = nil
	pm["exception"] = nil
	if r.opts.KernelName != "" {
		ks, _ := nb.Metadata["kernelspec"].(map[string]any)
		if ks == nil || ks["name"] != r.opts.KernelName {
			nb.Metadata["kernelspec"] = map[string]any{"name": r.opts.KernelName, "display_name": r.opts.KernelName, "language": r.opts.Language}
		}
	}
	if len(r.opts.LanguageInfo) > 0 {
		var li any
		if json.Unmarshal(r.opts.LanguageInfo, &li) == nil {
			nb.Metadata["language_info"] = li
		}
	}
	for _, c := range nb.Cells {
		if c.CellType == "code" {
			c.ExecutionCount = nil
			c.Outputs = []*nbformat.Output{}
		}
		if c.Metadata == nil {
			c.Metadata = map[string]any{}
		}
		c.Metadata["papermill"] = map[string]any{"exception": nil, "start_time": nil, "end_time": nil, "duration": nil, "status": StatusPending}
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (r *run) write() error {
	if r.opts.OutputPath == "" {
		return nil
	}
	return r.nb.WriteFile(r.opts.OutputPath)
}

func (r *run) progress(i int, status string) {
	if r.opts.Progress != nil {
		r.opts.Progress(r.nb, i, status)
	}
}

// cell runs cell i. runCtx carries the run's timeout, ctx the caller's
// cancellation. Failures of the cell go into r.res; the error is for a
// failed write.
func (r *run) cell(runCtx, ctx context.Context, i int, c *nbformat.Cell) error {
	meta := c.Metadata["papermill"].(map[string]any)
	start := r.opts.Now()
	meta["start_time"] = start.UTC().Format(isoTime)
	meta["status"] = StatusRunning
	r.progress(i, StatusRunning)
	var failure error
	if r.opts.Gate != nil {
		if err := r.opts.Gate(runCtx, r.nb, i); err != nil {
			failure = fmt.Errorf("cell %d: %w", i, err)
			if c.CellType == "code" {
				c.Outputs = append(c.Outputs, &nbformat.Output{OutputType: "error", Ename: "RunStopped", Evalue: err.Error(), Traceback: []string{"RunStopped: " + err.Error()}})
			}
		}
	}
	if failure == nil && c.CellType == "code" && strings.TrimSpace(c.Source) != "" {
		failure = r.execute(runCtx, ctx, i, c)
	}
	end := r.opts.Now()
	meta["end_time"] = end.UTC().Format(isoTime)
	meta["duration"] = end.Sub(start).Seconds()
	meta["status"] = StatusCompleted
	meta["exception"] = false
	if failure != nil {
		meta["status"] = StatusFailed
		meta["exception"] = true
		r.res.FailedCell = i
		r.res.Error = failure
	}
	r.progress(i, meta["status"].(string))
	return r.write()
}

// execute runs a code cell and returns why it failed, if it did.
func (r *run) execute(runCtx, ctx context.Context, i int, c *nbformat.Cell) error {
	cellCtx := runCtx
	var cancel context.CancelFunc = func() {}
	if r.opts.CellTimeout > 0 {
		cellCtx, cancel = context.WithTimeout(runCtx, r.opts.CellTimeout)
	}
	defer cancel()
	col := newCollector(c, r.opts.OutputLimit)
	reply, err := r.k.Execute(cellCtx, c.Source, col.handle)
	if err != nil && cellCtx.Err() != nil {
		ename, why := "CellTimeoutError", fmt.Sprintf("the cell did not finish within %s", r.opts.CellTimeout)
		switch {
		case ctx.Err() != nil:
			ename, why = "CellCancelledError", "the run was cancelled"
			r.k.Kill()
		case runCtx.Err() != nil:
			why = fmt.Sprintf("the run did not finish within %s", r.opts.RunTimeout)
			r.interrupt()
		default:
			r.interrupt()
		}
		col.finish()
		col.add(&nbformat.Output{OutputType: "error", Ename: ename, Evalue: why, Traceback: []string{ename + ": " + why}})
		return fmt.Errorf("cell %d: %s", i, why)
	}
	col.finish()
	if err != nil {
		var d *jupyter.DeathError
		if errors.As(err, &d) {
			r.res.KernelDied = d
			col.add(&nbformat.Output{OutputType: "error", Ename: "DeadKernelError", Evalue: d.Error(), Traceback: []string{"DeadKernelError: " + d.Error()}})
			return fmt.Errorf("cell %d: %w", i, d)
		}
		col.add(&nbformat.Output{OutputType: "error", Ename: "KernelError", Evalue: err.Error(), Traceback: []string{err.Error()}})
		return fmt.Errorf("cell %d: %w", i, err)
	}
	c.ExecutionCount = &reply.ExecutionCount
	if reply.Status == "ok" || systemExitZero(reply) {
		return nil
	}
	if reply.Status == "aborted" {
		return fmt.Errorf("cell %d: the kernel aborted it", i)
	}
	return &CellError{Cell: i, Ename: reply.Ename, Evalue: reply.Evalue, Traceback: reply.Traceback}
}

// systemExitZero reports sys.exit() or sys.exit(0), which papermill does
// not count as a failure.
func systemExitZero(r *jupyter.ExecuteReply) bool {
	return r.Ename == "SystemExit" && (r.Evalue == "" || r.Evalue == "0")
}

// interrupt interrupts the kernel and waits up to InterruptGrace for the
// interrupted cell to end, then kills the kernel if it has not. The
// interrupted request's reply went to a waiter that has gone; a fresh
// request queues behind it, so its reply means the cell has ended.
func (r *run) interrupt() {
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.InterruptGrace)
	defer cancel()
	if err := r.k.Interrupt(ctx); err != nil {
		r.k.Kill()
		return
	}
	if _, err := r.k.Execute(ctx, "", nil); err != nil {
		r.k.Kill()
	}
}
