package workflow

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// maxWhileIterations bounds a while loop.
const maxWhileIterations = 10_000

// whileNext starts a while step's next iteration if its condition holds
// over its loop params, or finishes the step; n iterations have run.
func (t *txn) whileNext(r *instRow, c *compiled, ref stepRef, attempt int, st *definition.Step, params map[string]any, n int) error {
	loops, _ := params["loop_params"].(map[string]any)
	sc := &dbScope{ctx: t.ctx, s: t.s, q: t.tx, inst: r, local: mergeParams(params, loops)}
	ok, err := (evaluator{c, t.s.now}).condition(st.Condition, sc)
	if err != nil {
		return t.finishStep(ref, attempt, StepUserFailed, nil, fmt.Sprintf("condition: %v", err))
	}
	if !ok {
		return t.finishStep(ref, attempt, StepSucceeded, map[string]any{"iterations": int64(n), "loop_params": loops}, "")
	}
	if n >= maxWhileIterations {
		return t.finishStep(ref, attempt, StepUserFailed, nil, fmt.Sprintf("still true after %d iterations, the most a while runs", n))
	}
	child := mergeParams(r.params, params)
	for k, v := range loops {
		child[k] = v
	}
	child["loop_index"] = int64(n)
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_steps SET started = started + 1 WHERE instance_id = ? AND step_id = ?`, ref.inst, ref.step); err != nil {
		return err
	}
	id := ref.inst + "/" + ref.step + "/" + strconv.Itoa(n+1)
	return t.createInstance(&instRow{id: id, workflow: r.workflow, version: r.version, parent: ref.inst, parentStep: ref.step,
		iteration: n + 1, scope: ref.step, status: InstanceInProgress, params: child, by: r.by}, c)
}

// whileIterationEnded takes a while's loop params from the iteration's
// steps (a later step's value wins) and goes on to the next iteration.
func (t *txn) whileIterationEnded(child *instRow, ref stepRef, attempt int) error {
	r, err := loadInstRow(t.ctx, t.tx, ref.inst)
	if err != nil {
		return err
	}
	c, err := t.s.version(t.ctx, t.tx, r.workflow, r.version)
	if err != nil {
		return err
	}
	var pj string
	if err := t.tx.QueryRowContext(t.ctx, `SELECT params FROM workflow_steps WHERE instance_id = ? AND step_id = ?`, ref.inst, ref.step).Scan(&pj); err != nil {
		return err
	}
	params := decodeParams(pj)
	loops, _ := params["loop_params"].(map[string]any)
	rows, err := t.tx.QueryContext(t.ctx, `SELECT params FROM workflow_steps WHERE instance_id = ? ORDER BY started_at, step_id`, child.id)
	if err != nil {
		return err
	}
	var stepParams []string
	for rows.Next() {
		var p string
		rows.Scan(&p)
		stepParams = append(stepParams, p)
	}
	rows.Close()
	for _, p := range stepParams {
		for k, v := range decodeParams(p) {
			if _, isLoop := loops[k]; isLoop {
				loops[k] = v
			}
		}
	}
	params["loop_params"] = loops
	b, err := json.Marshal(params)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_steps SET params = ? WHERE instance_id = ? AND step_id = ?`, string(b), ref.inst, ref.step); err != nil {
		return err
	}
	return t.whileNext(r, c, ref, attempt, c.steps[ref.step], params, child.iteration)
}

// mergeParams is a copy of a with b's entries over it, without the loop
// params' definitions.
func mergeParams(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if k != "loop_params" {
			out[k] = v
		}
	}
	return out
}
