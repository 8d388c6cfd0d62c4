package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// SignalRequest sends a signal.
type SignalRequest struct {
	Name   string         `json:"name"`
	Params map[string]any `json:"params,omitempty"`
}

// SignalResult is what a signal did.
type SignalResult struct {
	Seq int64 `json:"seq"`
	// Started are the instances the signal's triggers started.
	Started []Started `json:"started"`
}

// Started names an instance a signal started.
type Started struct {
	WorkflowID string `json:"workflow_id"`
	InstanceID int64  `json:"instance_id"`
}

// storedSignal is a signal as stored.
type storedSignal struct {
	seq    int64
	params map[string]any
}

// syncSignalTriggers records which signals a workflow's active version
// waits for.
func (s *Service) syncSignalTriggers(ctx context.Context, tx *store.Tx, id string, c *compiled) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM workflow_signal_triggers WHERE workflow_id = ?`, id); err != nil {
		return err
	}
	if c.def.IsActive != nil && !*c.def.IsActive {
		return nil
	}
	for i, tr := range c.def.Workflow.SignalTriggers {
		for name := range tr.Definitions {
			if _, err := tx.ExecContext(ctx, `INSERT INTO workflow_signal_triggers (workflow_id, idx, name) VALUES (?, ?, ?)`, id, i, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// Signal stores a signal and starts an instance of every workflow whose
// signal trigger it completes: each signal the trigger names has arrived
// with params matching its match_params, and the join keys agree.
func (s *Service) Signal(ctx context.Context, req SignalRequest, by string) (*SignalResult, error) {
	if strings.TrimSpace(req.Name) == "" || len(req.Name) > 200 {
		return nil, fmt.Errorf("name: a signal needs a name of 1–200 characters: %w", ErrInvalid)
	}
	if req.Params == nil {
		req.Params = map[string]any{}
	}
	pj, err := json.Marshal(req.Params)
	if err != nil {
		return nil, fmt.Errorf("params: %w: %w", err, ErrInvalid)
	}
	res := &SignalResult{Started: []Started{}}
	err = s.inTx(ctx, func(t *txn) error {
		if err := t.tx.QueryRowContext(ctx, `INSERT INTO workflow_signals (name, params, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING seq`,
			req.Name, string(pj), by, s.nowMS()).Scan(&res.Seq); err != nil {
			return err
		}
		if err := t.signalArrived(req.Name, decodeParams(string(pj))); err != nil {
			return fmt.Errorf("steps waiting for %s: %w", req.Name, err)
		}
		rows, err := t.tx.QueryContext(ctx, `SELECT t.workflow_id, t.idx, w.active FROM workflow_signal_triggers t
			JOIN workflow_workflows w ON w.id = t.workflow_id WHERE t.name = ? ORDER BY t.workflow_id, t.idx`, req.Name)
		if err != nil {
			return err
		}
		type trig struct {
			workflow    string
			idx, active int
		}
		var trigs []trig
		for rows.Next() {
			var x trig
			rows.Scan(&x.workflow, &x.idx, &x.active)
			trigs = append(trigs, x)
		}
		rows.Close()
		for _, x := range trigs {
			c, err := s.version(ctx, t.tx, x.workflow, x.active)
			if err != nil || x.idx >= len(c.def.Workflow.SignalTriggers) {
				continue
			}
			no, ok, err := t.fireSignalTrigger(x.workflow, x.idx, x.active, c.def.Workflow.SignalTriggers[x.idx], req.Name,
				storedSignal{seq: res.Seq, params: decodeParams(string(pj))}, by)
			if err != nil {
				return fmt.Errorf("workflow %s signal trigger %d: %w", x.workflow, x.idx, err)
			}
			if ok {
				res.Started = append(res.Started, Started{WorkflowID: x.workflow, InstanceID: no})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// fireSignalTrigger starts an instance if sig completes the trigger.
func (t *txn) fireSignalTrigger(workflow string, idx, active int, tr definition.SignalTrigger, name string, sig storedSignal, by string) (int64, bool, error) {
	if !matches(tr.Definitions[name], sig.params) {
		return 0, false, nil
	}
	names := sortedKeys(tr.Definitions)
	chosen := map[string]storedSignal{name: sig}
	for _, other := range names {
		if other == name {
			continue
		}
		found, ok, err := t.latestMatching(other, tr, chosen)
		if err != nil || !ok {
			return 0, false, err
		}
		chosen[other] = found
	}
	seqs := make([]string, 0, len(chosen))
	signals := map[string]any{}
	for n, c := range chosen {
		seqs = append(seqs, strconv.FormatInt(c.seq, 10))
		signals[n] = c.params
	}
	sort.Strings(seqs)
	c, err := t.s.version(t.ctx, t.tx, workflow, active)
	if err != nil {
		return 0, false, err
	}
	if tr.Condition != "" {
		ok, err := (evaluator{c, t.s.now}).condition(tr.Condition, signalScope(signals))
		if err != nil {
			return 0, false, fmt.Errorf("condition: %w", err)
		}
		if !ok {
			return 0, false, nil
		}
	}
	key := strings.Join(seqs, ",")
	if tr.DedupExpr != "" {
		// Signals whose dedup_expr gives a key already seen fire nothing.
		v, err := (evaluator{c, t.s.now}).expr(tr.DedupExpr, signalScope(signals))
		if err != nil {
			return 0, false, fmt.Errorf("dedup_expr: %w", err)
		}
		key = "dedup:" + fmt.Sprint(v)
	}
	res, err := t.tx.ExecContext(t.ctx, `INSERT INTO workflow_signal_firings (workflow_id, idx, signals) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		workflow, idx, key)
	if err != nil {
		return 0, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, false, nil // this set fired the trigger already
	}
	params, err := evaluator{c, t.s.now}.params(tr.Params, signalScope(signals))
	if err != nil {
		return 0, false, err
	}
	no, err := t.startInstance(workflow, StartRequest{Params: params}, by, map[string]any{"SIGNALS": signals, "INITIATOR_RUNNER_NAME": "signal"})
	return no, err == nil, err
}

// latestMatching finds the newest signal called name that matches its
// definition and joins the signals chosen so far.
func (t *txn) latestMatching(name string, tr definition.SignalTrigger, chosen map[string]storedSignal) (storedSignal, bool, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT seq, params FROM workflow_signals WHERE name = ? ORDER BY seq DESC LIMIT 1000`, name)
	if err != nil {
		return storedSignal{}, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var sig storedSignal
		var pj string
		if err := rows.Scan(&sig.seq, &pj); err != nil {
			return storedSignal{}, false, err
		}
		sig.params = decodeParams(pj)
		if matches(tr.Definitions[name], sig.params) && joins(tr, name, sig, chosen) {
			return sig, true, nil
		}
	}
	return storedSignal{}, false, rows.Err()
}

// joins reports whether sig's join keys equal, position by position,
// those of every signal chosen so far.
func joins(tr definition.SignalTrigger, name string, sig storedSignal, chosen map[string]storedSignal) bool {
	keys := tr.Definitions[name].JoinKeys
	for other, c := range chosen {
		okeys := tr.Definitions[other].JoinKeys
		for i := 0; i < len(keys) && i < len(okeys); i++ {
			if fmt.Sprint(sig.params[keys[i]]) != fmt.Sprint(c.params[okeys[i]]) {
				return false
			}
		}
	}
	return true
}

// matches reports whether params meet every match param.
func matches(m definition.SignalMatch, params map[string]any) bool {
	for name, mp := range m.MatchParams {
		v, ok := params[name]
		if !ok || !compare(v, mp.Operator, mp.Value) {
			return false
		}
	}
	return true
}

func compare(v any, op string, want any) bool {
	vf, vok := number(v)
	wf, wok := number(want)
	if vok && wok {
		switch op {
		case "=", "==":
			return vf == wf
		case "!=":
			return vf != wf
		case "<":
			return vf < wf
		case "<=":
			return vf <= wf
		case ">":
			return vf > wf
		case ">=":
			return vf >= wf
		}
		return false
	}
	a, b := fmt.Sprint(v), fmt.Sprint(want)
	switch op {
	case "=", "==":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

// signalScope is the scope of a signal trigger's params: the signals.
type signalScope map[string]any

func (s signalScope) Lookup(string) (any, bool) { return nil, false }
func (s signalScope) Param(name string) (any, error) {
	return nil, fmt.Errorf("no param %q: a signal trigger's params can read only the signals", name)
}
func (s signalScope) FromStep(step, _ string) (any, error) {
	return nil, fmt.Errorf("no step %q here", step)
}
func (s signalScope) FromInstance(name string) (any, error) { return s.Param(name) }
func (s signalScope) FromSignal(signal, name string) (any, error) {
	sig, ok := s[signal].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no signal %s here (this instance was not started by it)", signal)
	}
	v, ok := sig[name]
	if !ok {
		return nil, fmt.Errorf("signal %s has no param %q", signal, name)
	}
	return v, nil
}
