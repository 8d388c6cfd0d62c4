package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// StartRequest starts an instance.
type StartRequest struct {
	// Params override the workflow's params (values are coerced to the
	// declared types; "10" is a LONG 10 where the param is a LONG).
	Params map[string]any `json:"params,omitempty"`
	// Version runs this version instead of the active one.
	Version int `json:"version,omitempty"`
}

// stepRef names a step of an instance row.
type stepRef struct{ inst, step string }

// StartInstance starts an instance of workflow; by names who asked.
func (s *Service) StartInstance(ctx context.Context, workflow string, req StartRequest, by string) (*Instance, error) {
	var no int64
	err := s.inTx(ctx, func(t *txn) error {
		var err error
		no, err = t.startInstance(workflow, req, by, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Instance(ctx, workflow, no)
}

// startInstance creates a top-level instance; initiator adds params
// the start sets (a trigger's TARGET_RUN_DATE, say).
func (t *txn) startInstance(workflow string, req StartRequest, by string, initiator map[string]any) (int64, error) {
	ctx := t.ctx
	var active int
	var no int64
	if err := t.tx.QueryRowContext(ctx, `UPDATE workflow_workflows SET next_instance = next_instance + 1 WHERE id = ?
		RETURNING active, next_instance - 1`, workflow).Scan(&active, &no); err != nil {
		return 0, fmt.Errorf("workflow %q: %w", workflow, ErrNotFound)
	}
	version := active
	if req.Version > 0 {
		version = req.Version
	}
	c, err := t.s.version(ctx, t.tx, workflow, version)
	if err != nil {
		return 0, err
	}
	// Maestro's predefined params of a run: its date in UTC unless a
	// trigger says otherwise, and that it is a new run.
	now := t.s.now().UTC()
	given := map[string]any{"RUN_POLICY": "START_FRESH_NEW_RUN"}
	for k, v := range runDateParams(now, definition.TimeTrigger{}) {
		given[k] = v
	}
	given["INITIATOR_RUNNER_NAME"] = "manual"
	for k, v := range initiator {
		given[k] = v
	}
	for k, v := range req.Params {
		given[k] = v
	}
	params, err := runParams(c, t.s.now, given)
	if err != nil {
		return 0, err
	}
	params["WORKFLOW_ID"], params["WORKFLOW_INSTANCE_ID"], params["WORKFLOW_VERSION_ID"] = workflow, no, int64(version)
	status, err := t.admit(workflow, c.def.Properties.RunStrategy)
	if err != nil {
		return 0, err
	}
	id := instanceKey(workflow, no)
	if d := timeoutOf(c.def.Workflow.Timeout, params); d > 0 {
		if err := t.scheduleTimeout(wakeArgs{Instance: id, Reason: wakeInstanceTimeout, After: d.String()}, d); err != nil {
			return 0, err
		}
	}
	return no, t.createInstance(&instRow{id: id, workflow: workflow, no: no, version: version, status: status, params: params, by: by}, c)
}

// runParams evaluates the workflow's params with the run's overrides.
func runParams(c *compiled, now func() time.Time, given map[string]any) (map[string]any, error) {
	d := c.def
	out := map[string]any{}
	for name, v := range given {
		p, declared := d.Workflow.Params[name]
		if !declared {
			out[name] = v
			continue
		}
		cv, err := definition.Coerce(p.Type, v)
		if err != nil {
			return nil, fmt.Errorf("param %s: %w: %w", name, err, ErrInvalid)
		}
		if err := (evaluator{c, now}).validate(p, cv, mapScope(given)); err != nil {
			return nil, fmt.Errorf("param %s: %w: %w", name, err, ErrInvalid)
		}
		out[name] = cv
	}
	rest := map[string]definition.Param{}
	for name, p := range d.Workflow.Params {
		if _, ok := out[name]; !ok {
			rest[name] = p
		}
	}
	vals, err := evaluator{c, now}.params(rest, mapScope(out))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	for k, v := range vals {
		out[k] = v
	}
	return out, nil
}

// admit decides, by the run strategy, whether a new top-level instance
// starts now (IN_PROGRESS), waits its turn (CREATED) or is stopped.
func (t *txn) admit(workflow string, rs definition.RunStrategy) (string, error) {
	var running int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM workflow_instances WHERE workflow_id = ? AND instance_no > 0 AND status IN (?, ?)`,
		workflow, InstanceInProgress, InstanceCreated).Scan(&running); err != nil {
		return "", err
	}
	switch rs.Rule {
	case "parallel":
		if rs.Limit > 0 && running >= rs.Limit {
			return InstanceCreated, nil
		}
		return InstanceInProgress, nil
	case "first_only":
		if running > 0 {
			return InstanceStopped, nil
		}
	case "last_only":
		rows, err := t.tx.QueryContext(t.ctx, `SELECT id FROM workflow_instances WHERE workflow_id = ? AND instance_no > 0 AND status IN (?, ?)`,
			workflow, InstanceInProgress, InstanceCreated)
		if err != nil {
			return "", err
		}
		var ids []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			if err := t.stopInstance(id, InstanceStopped, "a newer instance started (run strategy last_only)"); err != nil {
				return "", err
			}
		}
	case "strict_sequential":
		if running > 0 {
			return InstanceCreated, nil
		}
		if blocked, err := t.blocked(workflow); err != nil || blocked {
			return InstanceCreated, err
		}
	default: // sequential
		if running > 0 {
			return InstanceCreated, nil
		}
	}
	return InstanceInProgress, nil
}

// createInstance stores an instance and the steps of its scope; those
// without predecessors are ready when it is in progress.
func (t *txn) createInstance(r *instRow, c *compiled) error {
	params, _ := json.Marshal(r.params)
	if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO workflow_instances (id, workflow_id, instance_no, version, parent_id, parent_step, iteration,
		scope, status, params, error, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)`,
		r.id, r.workflow, r.no, r.version, r.parent, r.parentStep, r.iteration, r.scope, r.status, string(params), r.by, t.s.nowMS()); err != nil {
		return fmt.Errorf("create instance %s: %w", r.id, err)
	}
	var roots []string
	for _, st := range c.lists[r.scope] {
		status := StepNotCreated
		if c.preds[st.ID] == 0 && r.status == InstanceInProgress {
			status = StepCreated
			roots = append(roots, st.ID)
		}
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO workflow_steps (instance_id, step_id, status, attempts, pending, satisfied, params, output,
			error, iterations, started, done, failed) VALUES (?, ?, ?, 0, ?, 0, '{}', '{}', '', 0, 0, 0, 0)`,
			r.id, st.ID, status, c.preds[st.ID]); err != nil {
			return fmt.Errorf("create step %s of %s: %w", st.ID, r.id, err)
		}
	}
	if r.no > 0 {
		t.instanceEvent(r, r.status, "")
	}
	if r.status == InstanceStopped {
		_, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_instances SET error = ?, finished_at = ? WHERE id = ?`,
			"an instance was already running (run strategy first_only)", t.s.nowMS(), r.id)
		return err
	}
	for _, id := range roots {
		if err := t.ready(r, c, id); err != nil {
			return err
		}
	}
	return nil
}
