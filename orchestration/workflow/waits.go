package workflow

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// Steps that wait for signals (Maestro's signal_dependencies): a claimed
// attempt whose signals have not all come stays RUNNING, its missing
// dependencies stored with the params each must match; a signal that
// meets the last of them does the step's work in the transaction that
// stores it.

// wantParam is one match param of a dependency, evaluated.
type wantParam struct {
	Value    any    `json:"value"`
	Operator string `json:"operator"`
}

// awaitSignals evaluates an attempt's signal dependencies and stores
// those no signal received so far meets; waiting is true when any is
// missing, or when the attempt ended (its match params did not
// evaluate), so the step's work is not to be done now.
func (t *txn) awaitSignals(r *instRow, c *compiled, ref stepRef, attempt int, st *definition.Step) (bool, error) {
	var missing []string
	for i, d := range st.SignalDependencies {
		match := map[string]definition.Param{}
		ops := map[string]string{}
		for name, m := range d.MatchParams {
			match[name], ops[name] = m.Param, m.Operator
		}
		vals, err := t.s.evalStepParams(t.ctx, t.tx, c, r, &definition.Step{ID: st.ID, Params: match})
		if err != nil {
			return true, t.finishStep(ref, attempt, StepUserFailed, nil, fmt.Sprintf("signal_dependencies[%d] (%s): %v", i, d.Name, err))
		}
		want := map[string]wantParam{}
		for name, v := range vals {
			want[name] = wantParam{Value: v, Operator: ops[name]}
		}
		met, err := t.signalMet(d.Name, want)
		if err != nil {
			return false, err
		}
		if met {
			continue
		}
		wj, err := json.Marshal(want)
		if err != nil {
			return false, err
		}
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO workflow_signal_waits (instance_id, step_id, attempt, idx, name, matches) VALUES (?, ?, ?, ?, ?, ?)`,
			ref.inst, ref.step, attempt, i, d.Name, string(wj)); err != nil {
			return false, err
		}
		missing = append(missing, d.Name)
	}
	if len(missing) == 0 {
		return false, nil
	}
	sort.Strings(missing)
	why := "waiting for signals: " + strings.Join(missing, ", ")
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_steps SET error = ? WHERE instance_id = ? AND step_id = ?`, why, ref.inst, ref.step); err != nil {
		return false, err
	}
	t.stepEvent(r, ref.step, "waiting_for_signals", why)
	return true, nil
}

// signalMet reports whether a signal called name, received at any time,
// has params meeting want (the newest 1,000 are looked at).
func (t *txn) signalMet(name string, want map[string]wantParam) (bool, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT params FROM workflow_signals WHERE name = ? ORDER BY seq DESC LIMIT 1000`, name)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var pj string
		if err := rows.Scan(&pj); err != nil {
			return false, err
		}
		if meets(decodeParams(pj), want) {
			return true, nil
		}
	}
	return false, rows.Err()
}

// meets reports whether a signal's params meet every wanted param.
func meets(params map[string]any, want map[string]wantParam) bool {
	for name, w := range want {
		v, ok := params[name]
		if !ok || !compare(v, w.Operator, w.Value) {
			return false
		}
	}
	return true
}

// signalArrived settles the waits a new signal meets, and does the work
// of each step it leaves waiting for nothing.
func (t *txn) signalArrived(name string, params map[string]any) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT instance_id, step_id, attempt, idx, matches FROM workflow_signal_waits WHERE name = ?`, name)
	if err != nil {
		return err
	}
	type wait struct {
		ref          stepRef
		attempt, idx int
	}
	var met []wait
	for rows.Next() {
		var w wait
		var mj string
		if err := rows.Scan(&w.ref.inst, &w.ref.step, &w.attempt, &w.idx, &mj); err != nil {
			rows.Close()
			return err
		}
		var want map[string]wantParam
		if json.Unmarshal([]byte(mj), &want) == nil && meets(params, want) {
			met = append(met, w)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, w := range met {
		if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM workflow_signal_waits WHERE instance_id = ? AND step_id = ? AND attempt = ? AND idx = ?`,
			w.ref.inst, w.ref.step, w.attempt, w.idx); err != nil {
			return err
		}
		var left int
		if err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM workflow_signal_waits WHERE instance_id = ? AND step_id = ? AND attempt = ?`,
			w.ref.inst, w.ref.step, w.attempt).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			if err := t.signalsCame(w.ref, w.attempt); err != nil {
				return err
			}
		}
	}
	return nil
}

// signalsCame does the work of a step attempt whose signals have all
// come, if it still runs.
func (t *txn) signalsCame(ref stepRef, attempt int) error {
	var status, pj string
	var attempts int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT status, attempts, params FROM workflow_steps WHERE instance_id = ? AND step_id = ?`,
		ref.inst, ref.step).Scan(&status, &attempts, &pj); err != nil {
		return nil // gone
	}
	if status != StepRunning || attempts != attempt {
		return nil
	}
	r, err := loadInstRow(t.ctx, t.tx, ref.inst)
	if err != nil {
		return err
	}
	c, err := t.s.version(t.ctx, t.tx, r.workflow, r.version)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_steps SET error = '' WHERE instance_id = ? AND step_id = ?`, ref.inst, ref.step); err != nil {
		return err
	}
	return t.doStep(r, c, ref, attempt, c.steps[ref.step], decodeParams(pj))
}

// forgetWaits drops the waits of an instance's steps (of step, or all
// when step is "") once they no longer run.
func (t *txn) forgetWaits(inst, step string) error {
	q, args := `DELETE FROM workflow_signal_waits WHERE instance_id = ?`, []any{inst}
	if step != "" {
		q, args = q+` AND step_id = ?`, append(args, step)
	}
	_, err := t.tx.ExecContext(t.ctx, q, args...)
	return err
}
