package remediation

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/remediation/schema"
)

// Limits of executions.
const (
	// MaxOutputBytes bounds one step's stored output.
	MaxOutputBytes = 8 << 20
	// maxLoops bounds how often a step may run in one execution.
	maxLoops = 100
)

// engine runs executions. Every state change is a transaction; a step is
// recorded before it runs, and run at once by the process that recorded
// it, which holds a lease on it and renews it while the step runs. When a
// process dies its leases expire and the recovery loop of any other (or
// the restarted) process takes the steps over: an idempotent step runs
// again, any other waits for an operator. Waits — retry backoff, sleeps,
// approval expiry, timeouts, the run's deadline — are scheduled jobs.
type engine struct {
	s     *Service
	db    *store.Store
	log   *slog.Logger
	owner string
	lease time.Duration

	mu      sync.Mutex
	cancels map[string]context.CancelFunc // execID/key of steps running here
	timers  map[*time.Timer]struct{}
	stopped bool
	running sync.WaitGroup
	// onStarted and onFinished, when set, are told when a step starts
	// and when an execution ends (for benchmarks).
	onStarted  func(execID, key string, at time.Time)
	onFinished func(execID, status string)
}

func newID(prefix string) string {
	var b [10]byte
	rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// outcome is how a step attempt ended. An empty status means the step is
// parked: something else (an agent's result, an approval, a job) will
// finish it.
type outcome struct {
	status  string
	output  any
	err     string
	noRetry bool
	started time.Time
}

func succeeded(output any) outcome { return outcome{status: StepSucceeded, output: output} }

func failed(err error) outcome { return outcome{status: StepFailed, err: err.Error()} }

var parked = outcome{}

// StartRequest asks for a run.
type StartRequest struct {
	Runbook string          `json:"runbook"`
	Env     string          `json:"env,omitempty"`
	Version int             `json:"version,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Trigger Trigger         `json:"-"`
	// Key, when set, makes the start idempotent: a second start with the
	// same key returns the first execution.
	Key string `json:"-"`
}

// start creates an execution and runs its first step.
func (e *engine) start(ctx context.Context, req StartRequest) (*Execution, bool, error) {
	c, version, env, err := e.s.runbooks.resolve(ctx, req.Runbook, req.Env, req.Version)
	if err != nil {
		return nil, false, err
	}
	params, err := c.checkParams(req.Params)
	if err != nil {
		return nil, false, err
	}
	pj, _ := json.Marshal(params)
	tj, _ := json.Marshal(req.Trigger)
	id := newID("ex")
	now := e.s.nowMS()
	deadline := now + c.timeout.Milliseconds()
	var dup string
	var toRun []string
	err = e.db.InTx(ctx, func(tx *store.Tx) error {
		toRun = nil
		var key any
		if req.Key != "" {
			key = req.Key
			if err := tx.QueryRowContext(ctx, `SELECT id FROM remediation_executions WHERE trigger_key = ?`, req.Key).Scan(&dup); err == nil {
				return nil
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO remediation_executions (id, runbook, version, env, status, params, vars,
			trigger_info, trigger_key, started_by, attention, error, failed, created_at, updated_at, deadline)
			VALUES (?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, '', '', 0, ?, ?, ?)`,
			id, c.Name, version, env, ExecRunning, string(pj), string(tj), key, req.Trigger.By, now, now, deadline); err != nil {
			return err
		}
		if err := e.s.addHistory(ctx, tx, id, req.Trigger.By, "started", "", fmt.Sprintf("%s run of %s version %d", req.Trigger.Kind, c.Name, version)); err != nil {
			return err
		}
		if _, err := e.s.jobs.EnqueueTx(ctx, tx, wakeKind, wakeArgs{Exec: id, Reason: wakeDeadline},
			&jobs.EnqueueOptions{At: wallNow().Add(c.timeout)}); err != nil { // wall clock: River's At
			return err
		}
		t := &txn{e: e, tx: tx, ctx: ctx, c: c, ex: &Execution{ID: id, Runbook: c.Name, Version: version, Status: ExecRunning, Trigger: req.Trigger}}
		if err := t.startStep(c.start, nil); err != nil {
			return err
		}
		toRun = t.toRun
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("start %s: %w", req.Runbook, err)
	}
	if dup != "" {
		ex, err := loadExec(ctx, e.db, dup)
		return ex, true, err
	}
	e.launch(id, toRun)
	e.soon(c.timeout, wakeArgs{Exec: id, Reason: wakeDeadline})
	ex, err := loadExec(ctx, e.db, id)
	return ex, false, err
}

// checkParams validates params against the runbook's schema, filling in
// top-level defaults.
func (c *Compiled) checkParams(raw json.RawMessage) (map[string]any, error) {
	params := map[string]any{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &params); err != nil {
			return nil, &ParamsError{Err: fmt.Errorf("want a JSON object: %w", err)}
		}
	}
	if c.params == nil {
		return params, nil
	}
	var sch struct {
		Properties map[string]struct {
			Default any `json:"default"`
		} `json:"properties"`
	}
	json.Unmarshal(c.params.Source, &sch)
	for name, p := range sch.Properties {
		if _, ok := params[name]; !ok && p.Default != nil {
			params[name] = p.Default
		}
	}
	b, _ := json.Marshal(params)
	if err := c.params.ValidateJSON(b); err != nil {
		var se *schema.Error
		if errors.As(err, &se) {
			return nil, &ParamsError{Err: fmt.Errorf("do not match the runbook's schema: %w", err)}
		}
		return nil, err
	}
	return params, nil
}

// ParamsError is a run refused for its parameters.
type ParamsError struct{ Err error }

func (e *ParamsError) Error() string { return "params: " + e.Err.Error() }

func (e *ParamsError) Unwrap() error { return e.Err }

// launch runs the steps this process claimed.
func (e *engine) launch(execID string, keys []string) {
	for _, k := range keys {
		e.running.Add(1)
		go func() {
			defer e.running.Done()
			e.run(execID, k)
		}()
	}
}

// finish records a step attempt's outcome and moves the execution on.
func (e *engine) finish(ctx context.Context, execID, key string, attempt int, out outcome) error {
	ex0, err := loadExec(ctx, e.db, execID)
	if err != nil {
		return err
	}
	c, err := e.s.runbooks.compiled(ctx, ex0.Runbook, ex0.Version)
	if err != nil {
		return err
	}
	var t *txn
	err = e.db.InTx(ctx, func(tx *store.Tx) error {
		ex, err := e.lockExec(ctx, tx, execID)
		if err != nil {
			return err
		}
		st, err := loadStep(ctx, tx, execID, key)
		if err != nil {
			return err
		}
		t = &txn{e: e, tx: tx, ctx: ctx, c: c, ex: ex}
		if stepDone(st.Status) || st.Attempt != attempt {
			return nil // a late or repeated report
		}
		return t.complete(st, out)
	})
	if err != nil {
		return fmt.Errorf("execution %s step %s: %w", execID, key, err)
	}
	t.after()
	return nil
}

func (e *engine) lockExec(ctx context.Context, tx *store.Tx, id string) (*Execution, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE remediation_executions SET updated_at = ? WHERE id = ?`, e.s.nowMS(), id); err != nil {
		return nil, err
	}
	return loadExec(ctx, tx, id)
}

// txn is one state change of an execution: what it decided to run and to
// cancel once committed.
type txn struct {
	e       *engine
	tx      *store.Tx
	ctx     context.Context
	c       *Compiled
	ex      *Execution
	toRun   []string
	cancels []StepState
	vars    map[string]any
	events  []string
	wakes   []wakeAt
}

type wakeAt struct {
	at   time.Time // on the wall clock (see wallNow)
	args wakeArgs
}

// after acts on a committed change.
func (t *txn) after() {
	t.e.launch(t.ex.ID, t.toRun)
	for _, st := range t.cancels {
		t.e.cancelStep(t.ex.ID, st)
	}
	for _, status := range t.events {
		t.e.s.publishFinished(t.ex, status)
		if t.e.onFinished != nil {
			t.e.onFinished(t.ex.ID, status)
		}
	}
	for _, w := range t.wakes {
		t.e.soon(time.Until(w.at), w.args)
	}
}

func (t *txn) complete(st *StepState, out outcome) error {
	cs := t.c.step(st.Name)
	if cs == nil {
		return fmt.Errorf("step %s is not in runbook %s version %d", st.Name, t.ex.Runbook, t.ex.Version)
	}
	if out.status == StepFailed && !out.noRetry && st.Attempt < cs.attempts && !execDone(t.ex.Status) {
		backoff := cs.backoffFor(st.Attempt + 1)
		// The history shows the service's clock; the job is on the wall
		// clock that River and the in-process timer compare with.
		shown, at := t.e.s.now().Add(backoff), wallNow().Add(backoff)
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE remediation_steps SET status = ?, error = ?, owner = '' WHERE execution_id = ? AND step_key = ?`,
			StepPending, out.err, t.ex.ID, st.Key); err != nil {
			return err
		}
		t.e.s.addHistory(t.ctx, t.tx, t.ex.ID, "engine", "retry scheduled", st.Key, fmt.Sprintf("attempt %d failed: %s; next at %s", st.Attempt, out.err, shown.UTC().Format(time.RFC3339)))
		a := wakeArgs{Exec: t.ex.ID, Key: st.Key, Attempt: st.Attempt, Reason: wakeRetry}
		t.wakes = append(t.wakes, wakeAt{at: at, args: a})
		_, err := t.e.s.jobs.EnqueueTx(t.ctx, t.tx, wakeKind, a, &jobs.EnqueueOptions{At: at})
		return err
	}
	output, err := encodeOutput(out.output)
	if err != nil {
		out.status, out.err, output = StepFailed, err.Error(), nil
	}
	var started any
	if !out.started.IsZero() {
		started = out.started.UnixMilli()
	}
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE remediation_steps SET status = ?, output = ?, error = ?, finished_at = ?,
		started_at = COALESCE(started_at, ?), owner = '' WHERE execution_id = ? AND step_key = ?`,
		out.status, output, out.err, t.e.s.nowMS(), started, t.ex.ID, st.Key); err != nil {
		return err
	}
	st.Status, st.Output, st.Error = out.status, output, out.err
	if st.Parent != "" {
		return t.itemDone(st, cs)
	}
	return t.stepDone(st, cs, out)
}

func encodeOutput(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		if len(raw) > MaxOutputBytes {
			return nil, fmt.Errorf("output is %d bytes; at most %d are stored", len(raw), MaxOutputBytes)
		}
		return raw, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	if len(b) > MaxOutputBytes {
		return nil, fmt.Errorf("output is %d bytes; at most %d are stored", len(b), MaxOutputBytes)
	}
	return b, nil
}

// itemDone counts a finished item of a fan-out step, starts the next one
// and finishes the step when all are done or too many failed.
func (t *txn) itemDone(item *StepState, cs *cstep) error {
	parent, err := loadStep(t.ctx, t.tx, t.ex.ID, item.Parent)
	if err != nil {
		return err
	}
	if stepDone(parent.Status) {
		return nil
	}
	bad := 0
	if item.Status != StepSucceeded {
		bad = 1
	}
	parent.ItemsDone++
	parent.ItemsFailed += bad
	allowed := cs.allowedFailures(parent.ItemsTotal)
	if parent.ItemsFailed > allowed {
		if err := t.stopItems(parent); err != nil {
			return err
		}
		return t.finishParent(parent, cs, StepFailed, fmt.Sprintf("%d of %d items failed (tolerance %d); last: %s: %s",
			parent.ItemsFailed, parent.ItemsTotal, allowed, item.Key, item.Error))
	}
	if parent.ItemsDone >= parent.ItemsTotal {
		return t.finishParent(parent, cs, StepSucceeded, "")
	}
	next := parent.itemsStarted
	if next < parent.ItemsTotal && active(t.ex.Status) {
		if err := t.claimItem(parent, next); err != nil {
			return err
		}
		parent.itemsStarted++
	}
	_, err = t.tx.ExecContext(t.ctx, `UPDATE remediation_steps SET items_done = ?, items_failed = ?, items_started = ?
		WHERE execution_id = ? AND step_key = ?`, parent.ItemsDone, parent.ItemsFailed, parent.itemsStarted, t.ex.ID, parent.Key)
	return err
}

func itemKey(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

func (t *txn) claimItem(parent *StepState, i int) error {
	key := itemKey(parent.Key, i)
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE remediation_steps SET status = ?, attempt = attempt + 1, owner = ?, lease_until = ?
		WHERE execution_id = ? AND step_key = ? AND status = ?`,
		StepRunning, t.e.owner, t.e.leaseUntil(), t.ex.ID, key, StepPending); err != nil {
		return err
	}
	t.toRun = append(t.toRun, key)
	return nil
}

// stopItems cancels a fan-out step's unfinished items.
func (t *txn) stopItems(parent *StepState) error {
	items, err := loadSteps(t.ctx, t.tx, t.ex.ID, parent.Key, false)
	if err != nil {
		return err
	}
	for _, it := range items {
		if stepDone(it.Status) {
			continue
		}
		if it.Status == StepRunning || it.Status == StepWaiting {
			t.cancels = append(t.cancels, it)
		}
	}
	_, err = t.tx.ExecContext(t.ctx, `UPDATE remediation_steps SET status = ?, finished_at = ?, owner = '' WHERE execution_id = ?
		AND parent = ? AND status IN (?, ?, ?, ?)`, StepCancelled, t.e.s.nowMS(), t.ex.ID, parent.Key,
		StepPending, StepRunning, StepWaiting, StepUnknown)
	return err
}

// finishParent ends a fan-out step with the list of its items' results.
func (t *txn) finishParent(parent *StepState, cs *cstep, status, errMsg string) error {
	items, err := loadSteps(t.ctx, t.tx, t.ex.ID, parent.Key, true)
	if err != nil {
		return err
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Index < items[j].Index })
	type itemResult struct {
		Item     json.RawMessage `json:"item,omitempty"`
		Agent    string          `json:"agent,omitempty"`
		Status   string          `json:"status"`
		Output   json.RawMessage `json:"output,omitempty"`
		Error    string          `json:"error,omitempty"`
		ExitCode *int            `json:"exit_code,omitempty"`
		Stdout   *string         `json:"stdout,omitempty"`
		Stderr   *string         `json:"stderr,omitempty"`
	}
	res := struct {
		Items     []itemResult `json:"items"`
		Succeeded int          `json:"succeeded"`
		Failed    int          `json:"failed"`
		Truncated bool         `json:"truncated,omitempty"`
	}{Items: []itemResult{}}
	size := 0
	for _, it := range items {
		r := itemResult{Item: it.Item, Agent: it.Agent, Status: it.Status, Output: it.Output, Error: it.Error}
		if it.Agent != "" {
			// An agent's result: its parsed output, exit code and streams.
			var ar struct {
				ExitCode *int            `json:"exit_code"`
				Stdout   *string         `json:"stdout"`
				Stderr   *string         `json:"stderr"`
				Output   json.RawMessage `json:"output"`
			}
			json.Unmarshal(it.Output, &ar)
			r.Item, r.Output, r.ExitCode, r.Stdout, r.Stderr = nil, ar.Output, ar.ExitCode, ar.Stdout, ar.Stderr
		}
		size += len(it.Output) + len(it.Item) + 100
		if size > MaxOutputBytes/2 {
			r.Output, res.Truncated = nil, true
		}
		if it.Status == StepSucceeded {
			res.Succeeded++
		} else {
			res.Failed++
		}
		res.Items = append(res.Items, r)
	}
	out := outcome{status: status, output: res, err: errMsg, noRetry: true}
	output, err := encodeOutput(out.output)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE remediation_steps SET status = ?, output = ?, error = ?, finished_at = ?, owner = '',
		items_done = ?, items_failed = ? WHERE execution_id = ? AND step_key = ?`,
		status, output, errMsg, t.e.s.nowMS(), parent.ItemsDone, parent.ItemsFailed, t.ex.ID, parent.Key); err != nil {
		return err
	}
	parent.Status, parent.Output, parent.Error = status, output, errMsg
	return t.stepDone(parent, cs, out)
}

// stepDone follows a finished top-level step's transitions.
func (t *txn) stepDone(st *StepState, cs *cstep, out outcome) error {
	var targets []string
	if st.Status == StepSucceeded {
		var vars map[string]any
		if cs.needsVars() {
			var err error
			if vars, err = t.varsFor(st); err != nil {
				return err
			}
		}
		if cs.publish != nil {
			if err := t.publishVars(cs, vars); err != nil {
				return t.failStep(st, cs, fmt.Errorf("publish: %w", err))
			}
		}
		var err error
		if targets, err = t.transition(st, cs, vars); err != nil {
			return t.failStep(st, cs, err)
		}
	} else {
		return t.failStep(st, cs, errors.New(st.Error))
	}
	for _, name := range targets {
		if err := t.goTo(name, st); err != nil {
			return err
		}
	}
	return t.checkDone()
}

// failStep follows a failed step's on_failure, or fails the run.
func (t *txn) failStep(st *StepState, cs *cstep, cause error) error {
	if st.Status == StepSucceeded {
		// A step that ran but whose transition could not be worked out.
		if _, err := t.tx.ExecContext(t.ctx, `UPDATE remediation_steps SET status = ?, error = ? WHERE execution_id = ? AND step_key = ?`,
			StepFailed, cause.Error(), t.ex.ID, st.Key); err != nil {
			return err
		}
		st.Status, st.Error = StepFailed, cause.Error()
	}
	t.setFailure(st, cause)
	if cs.OnFailure != "" {
		if err := t.goTo(cs.OnFailure, st); err != nil {
			return err
		}
		return t.checkDone()
	}
	if err := t.failRun(fmt.Sprintf("step %s failed: %v", st.Key, cause)); err != nil {
		return err
	}
	if t.c.OnFailure != "" && t.ex.Status != ExecCancelled {
		var n int
		if err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM remediation_steps WHERE execution_id = ? AND name = ? AND parent = ''`,
			t.ex.ID, t.c.OnFailure).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if err := t.startStep(t.c.OnFailure, st); err != nil {
				return err
			}
		}
	}
	return t.checkDone()
}

// setFailure records {step, error} in the run's variables as "failure".
func (t *txn) setFailure(st *StepState, cause error) {
	vars := map[string]any{}
	json.Unmarshal(t.ex.Vars, &vars)
	vars["_failure"] = map[string]any{"step": st.Key, "error": cause.Error()}
	b, _ := json.Marshal(vars)
	t.ex.Vars = b
	t.tx.ExecContext(t.ctx, `UPDATE remediation_executions SET vars = ? WHERE id = ?`, string(b), t.ex.ID)
	t.vars = nil
}

func (t *txn) publishVars(cs *cstep, vars map[string]any) error {
	v, err := cs.publish.eval(vars)
	if err != nil {
		return err
	}
	cur := map[string]any{}
	json.Unmarshal(t.ex.Vars, &cur)
	for k, val := range v.(map[string]any) {
		cur[k] = val
	}
	b, err := json.Marshal(cur)
	if err != nil {
		return err
	}
	t.ex.Vars = b
	t.vars = nil
	_, err = t.tx.ExecContext(t.ctx, `UPDATE remediation_executions SET vars = ? WHERE id = ?`, string(b), t.ex.ID)
	return err
}

// transition picks the next steps of a succeeded step.
func (t *txn) transition(st *StepState, cs *cstep, vars map[string]any) ([]string, error) {
	if len(cs.next) == 0 {
		if n := t.c.nextSequential(cs); n != "" {
			return []string{n}, nil
		}
		return nil, nil
	}
	for i, tr := range cs.next {
		if tr.cond != nil {
			ok, err := tr.cond.evalBool(vars)
			if err != nil {
				return nil, fmt.Errorf("next[%d].if: %w", i, err)
			}
			if !ok {
				continue
			}
		}
		return tr.targets, nil
	}
	return nil, nil // no transition holds: the branch ends
}

func (t *txn) goTo(name string, via *StepState) error {
	switch name {
	case GotoEnd:
		return nil
	case GotoFail:
		return t.failRun(fmt.Sprintf("runbook went to fail after step %s", via.Key))
	}
	return t.startStep(name, via)
}

func (t *txn) failRun(msg string) error {
	if t.ex.failed {
		return nil
	}
	t.ex.failed = true
	t.ex.Error = msg
	_, err := t.tx.ExecContext(t.ctx, `UPDATE remediation_executions SET failed = 1, error = ? WHERE id = ?`, msg, t.ex.ID)
	return err
}

// startStep records step name as the next to run (running, owned here,
// when the execution is running; pending when it is paused), unless it
// joins branches that have not all finished.
func (t *txn) startStep(name string, via *StepState) error {
	cs := t.c.step(name)
	if cs == nil {
		return fmt.Errorf("no step %q", name)
	}
	if len(cs.Join) > 0 {
		latest, err := t.latestByName()
		if err != nil {
			return err
		}
		if s, ok := latest[name]; ok && !stepDone(s.Status) {
			return nil // already started by another branch
		}
		for _, j := range cs.Join {
			if s, ok := latest[j]; !ok || !stepDone(s.Status) {
				return nil // the last branch to finish starts it
			}
		}
	}
	var n int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM remediation_steps WHERE execution_id = ? AND name = ? AND parent = ''`,
		t.ex.ID, name).Scan(&n); err != nil {
		return err
	}
	if n >= maxLoops {
		return t.failRun(fmt.Sprintf("step %s ran %d times; stopping the loop", name, n))
	}
	key := name
	if n > 0 {
		key = fmt.Sprintf("%s#%d", name, n+1)
	}
	status, owner, lease := StepPending, "", int64(0)
	if active(t.ex.Status) {
		status, owner, lease = StepRunning, t.e.owner, t.e.leaseUntil()
	}
	detail := ""
	if via != nil {
		detail = fmt.Sprintf(`{"via":%q}`, via.Key)
	}
	if err := t.e.insertStep(t.ctx, t.tx, t.ex.ID, key, name, "", -1, nil, status, owner, lease, detail); err != nil {
		return err
	}
	if status == StepRunning {
		t.toRun = append(t.toRun, key)
	}
	return nil
}

func (e *engine) insertStep(ctx context.Context, tx *store.Tx, execID, key, name, parent string, index int, item []byte,
	status, owner string, lease int64, detail string) error {
	seq, err := nextSeq(ctx, tx, execID)
	if err != nil {
		return err
	}
	return e.insertItem(ctx, tx, execID, key, name, parent, index, item, status, owner, lease, "", detail, seq)
}

// nextSeq is the order number of an execution's next recorded step.
func nextSeq(ctx context.Context, tx *store.Tx, execID string) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM remediation_steps WHERE execution_id = ?`, execID).Scan(&seq)
	return seq, err
}

// insertItem records a step, or an item of a fan-out step (for an agent
// step, with its agent).
func (e *engine) insertItem(ctx context.Context, tx *store.Tx, execID, key, name, parent string, index int, item []byte,
	status, owner string, lease int64, agent, detail string, seq int64) error {
	attempt := 0
	if status == StepRunning {
		attempt = 1
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO remediation_steps (execution_id, step_key, name, parent, item_index, item, status,
		attempt, owner, lease_until, run_id, agent, agent_boot, items_total, items_started, items_done, items_failed, created_at,
		error, detail, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, '', 0, 0, 0, 0, ?, '', ?, ?)`,
		execID, key, name, parent, index, string(item), status, attempt, owner, lease, agent, e.s.nowMS(), detail, seq)
	return err
}

func (t *txn) latestByName() (map[string]StepState, error) {
	steps, err := loadSteps(t.ctx, t.tx, t.ex.ID, "", false)
	if err != nil {
		return nil, err
	}
	out := map[string]StepState{}
	for _, s := range steps {
		out[s.Name] = s
	}
	return out, nil
}

// checkDone ends the execution when no step is left to finish.
func (t *txn) checkDone() error {
	if execDone(t.ex.Status) {
		return nil
	}
	var open, unknown int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = ? THEN 1 ELSE 0 END), 0)
		FROM remediation_steps WHERE execution_id = ? AND status IN (?, ?, ?, ?)`,
		StepUnknown, t.ex.ID, StepPending, StepRunning, StepWaiting, StepUnknown).Scan(&open, &unknown); err != nil {
		return err
	}
	if open > 0 {
		if t.ex.Status == ExecWaiting && unknown == 0 {
			t.ex.Status = ExecRunning
			_, err := t.tx.ExecContext(t.ctx, `UPDATE remediation_executions SET status = ?, attention = '' WHERE id = ?`, ExecRunning, t.ex.ID)
			return err
		}
		return nil
	}
	status := ExecSucceeded
	if t.ex.failed {
		status = ExecFailed
	}
	t.ex.Status = status
	t.events = append(t.events, status)
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE remediation_executions SET status = ?, attention = '', finished_at = ? WHERE id = ?`,
		status, t.e.s.nowMS(), t.ex.ID); err != nil {
		return err
	}
	if err := t.e.s.addHistory(t.ctx, t.tx, t.ex.ID, "engine", status, "", t.ex.Error); err != nil {
		return err
	}
	return t.e.s.reportStep(t.ctx, t.tx, t.ex, status, t.ex.Error)
}

// varsFor returns the CEL variables as the step st sees them.
func (t *txn) varsFor(st *StepState) (map[string]any, error) {
	if t.vars == nil {
		steps, err := loadSteps(t.ctx, t.tx, t.ex.ID, "", true)
		if err != nil {
			return nil, err
		}
		t.vars = baseVars(t.ex, steps)
	}
	v := make(map[string]any, len(t.vars)+1)
	for k, val := range t.vars {
		v[k] = val
	}
	v["result"] = decodeJSON(st.Output)
	return v, nil
}

// baseVars builds the variables every expression sees.
func baseVars(ex *Execution, steps []StepState) map[string]any {
	sm := map[string]any{}
	for _, s := range steps {
		sm[s.Name] = map[string]any{"status": s.Status, "output": decodeJSON(s.Output), "error": s.Error, "key": s.Key}
	}
	vars := map[string]any{}
	json.Unmarshal(ex.Vars, &vars)
	failure := vars["_failure"]
	delete(vars, "_failure")
	trig := map[string]any{"kind": ex.Trigger.Kind, "by": ex.Trigger.By, "rule": ex.Trigger.Rule, "event": decodeJSON(ex.Trigger.Event)}
	return map[string]any{
		"params":    decodeJSON(ex.Params),
		"steps":     sm,
		"vars":      vars,
		"trigger":   trig,
		"execution": map[string]any{"id": ex.ID, "runbook": ex.Runbook, "version": int64(ex.Version), "env": ex.Env},
		"failure":   failure,
	}
}

// decodeJSON decodes a stored value for expressions: whole numbers become
// integers (so that params.n * 2 works in CEL), others doubles.
func decodeJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return string(b)
	}
	return numbers(v)
}

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

// active reports whether an execution starts new steps: it does while
// running, and while an operator settles one step (other branches go on).
func active(status string) bool { return status == ExecRunning || status == ExecWaiting }

// leaseUntil is when a claim made now lapses. Leases are on the wall
// clock (see wallNow): they measure how long a process has been silent.
func (e *engine) leaseUntil() int64 { return wallNow().Add(e.lease).UnixMilli() }
