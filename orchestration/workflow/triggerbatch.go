package workflow

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// fireBatch starts the instances of due time triggers in few
// statements: per trigger, the move of its next time (a compare and set,
// so each firing starts one instance whatever the number of processes)
// and its workflow's instance counter; per batch, one count of running
// instances for the run strategies and one insert each of instances and
// steps. A trigger it cannot start this way (a second of one workflow in
// the batch, the last_only strategy, params that do not evaluate) is
// returned for fireOne, which takes them one at a time.
func (t *txn) fireBatch(batch []due, now time.Time) ([]due, error) {
	type firing struct {
		d      due
		c      *compiled
		params map[string]any
		row    *instRow
	}
	var slow []due
	var fired []*firing
	seen := map[string]bool{}
	for _, d := range batch {
		c, err := t.s.version(t.ctx, t.tx, d.workflow, d.ver)
		if err != nil || d.idx >= len(c.def.Workflow.TimeTriggers) || seen[d.workflow] {
			slow = append(slow, d)
			continue
		}
		seen[d.workflow] = true
		tt := c.def.Workflow.TimeTriggers[d.idx]
		sched, loc, err := tt.Schedule()
		if err != nil {
			slow = append(slow, d)
			continue
		}
		res, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_time_triggers SET next_at = ? WHERE workflow_id = ? AND idx = ? AND next_at = ?`,
			sched.Next(now.In(loc)).UnixMilli(), d.workflow, d.idx, d.at)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // another process fired it
		}
		var active int
		var no int64
		if err := t.tx.QueryRowContext(t.ctx, `UPDATE workflow_workflows SET next_instance = next_instance + 1 WHERE id = ?
			RETURNING active, next_instance - 1`, d.workflow).Scan(&active, &no); err != nil {
			return nil, fmt.Errorf("workflow %q: %w", d.workflow, err)
		}
		ac, err := t.s.version(t.ctx, t.tx, d.workflow, active)
		if err != nil {
			return nil, err
		}
		given := map[string]any{"RUN_POLICY": "START_FRESH_NEW_RUN"}
		for k, v := range runDateParams(time.UnixMilli(d.at).In(loc), tt) {
			given[k] = v
		}
		params, err := runParams(ac, t.s.now, given)
		if err != nil {
			// Skipped, as fireOne skips it: the trigger moves on, the
			// instance number is not used.
			t.s.log.Warn("start a workflow on its time trigger", "workflow", d.workflow, "error", err)
			if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_workflows SET next_instance = next_instance - 1 WHERE id = ?`, d.workflow); err != nil {
				return nil, err
			}
			continue
		}
		params["WORKFLOW_ID"], params["WORKFLOW_INSTANCE_ID"], params["WORKFLOW_VERSION_ID"] = d.workflow, no, int64(active)
		row := &instRow{id: instanceKey(d.workflow, no), workflow: d.workflow, no: no, version: active, by: "time trigger", params: params}
		fired = append(fired, &firing{d: d, c: ac, params: params, row: row})
	}
	if len(fired) == 0 {
		return slow, nil
	}
	// The run strategies: how many instances of each workflow run.
	ids := make([]any, 0, len(fired)+2)
	for _, f := range fired {
		ids = append(ids, f.d.workflow)
	}
	running := map[string]int{}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT workflow_id, COUNT(*) FROM workflow_instances WHERE workflow_id IN (`+placeholders(len(ids))+`)
		AND instance_no > 0 AND status IN (?, ?) GROUP BY workflow_id`, append(ids, InstanceInProgress, InstanceCreated)...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, err
		}
		running[id] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	insts := make([]*instRow, 0, len(fired))
	cs := make([]*compiled, 0, len(fired))
	for _, f := range fired {
		rs := f.c.def.Properties.RunStrategy
		n := running[f.d.workflow]
		switch {
		case rs.Rule == "parallel":
			f.row.status = InstanceInProgress
			if rs.Limit > 0 && n >= rs.Limit {
				f.row.status = InstanceCreated
			}
		case rs.Rule == "first_only" && n > 0:
			f.row.status = InstanceStopped
		case rs.Rule == "last_only" && n > 0, rs.Rule == "strict_sequential":
			// It stops the running ones, or a failed one holds it
			// back: the one-at-a-time path.
			if err := t.startFired(f.row, f.c); err != nil {
				return nil, err
			}
			continue
		case n > 0:
			f.row.status = InstanceCreated
		default:
			f.row.status = InstanceInProgress
		}
		if d := timeoutOf(f.c.def.Workflow.Timeout, f.params); d > 0 {
			if err := t.scheduleTimeout(wakeArgs{Instance: f.row.id, Reason: wakeInstanceTimeout, After: d.String()}, d); err != nil {
				return nil, err
			}
		}
		insts, cs = append(insts, f.row), append(cs, f.c)
	}
	return slow, t.createInstances(insts, cs)
}

// startFired starts one prepared instance the way startInstance does
// (its run strategy decides, and may stop the running ones).
func (t *txn) startFired(r *instRow, c *compiled) error {
	status, err := t.admit(r.workflow, c.def.Properties.RunStrategy)
	if err != nil {
		return err
	}
	r.status = status
	if d := timeoutOf(c.def.Workflow.Timeout, r.params); d > 0 {
		if err := t.scheduleTimeout(wakeArgs{Instance: r.id, Reason: wakeInstanceTimeout, After: d.String()}, d); err != nil {
			return err
		}
	}
	return t.createInstance(r, c)
}

// createInstances stores new top-level instances, rows[i] of version
// cs[i], and their top-level steps with multi-row inserts, then makes
// their first steps ready as createInstance does.
func (t *txn) createInstances(rows []*instRow, cs []*compiled) error {
	const perInsert = 100
	now := t.s.nowMS()
	for start := 0; start < len(rows); start += perInsert {
		part := rows[start:min(start+perInsert, len(rows))]
		var vals []string
		var args []any
		for _, r := range part {
			params, err := json.Marshal(r.params)
			if err != nil {
				return fmt.Errorf("instance %s params: %w", r.id, err)
			}
			vals = append(vals, "(?, ?, ?, ?, '', '', 0, '', ?, ?, '', ?, ?)")
			args = append(args, r.id, r.workflow, r.no, r.version, r.status, string(params), r.by, now)
		}
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO workflow_instances (id, workflow_id, instance_no, version, parent_id, parent_step, iteration,
			scope, status, params, error, created_by, created_at) VALUES `+strings.Join(vals, ", "), args...); err != nil {
			return fmt.Errorf("create %d instances: %w", len(part), err)
		}
	}
	var vals []string
	var args []any
	flush := func() error {
		if len(vals) == 0 {
			return nil
		}
		_, err := t.tx.ExecContext(t.ctx, `INSERT INTO workflow_steps (instance_id, step_id, status, attempts, pending, satisfied, params, output,
			error, iterations, started, done, failed) VALUES `+strings.Join(vals, ", "), args...)
		vals, args = vals[:0], args[:0]
		return err
	}
	for i, r := range rows {
		for _, st := range cs[i].lists[""] {
			status := StepNotCreated
			if cs[i].preds[st.ID] == 0 && r.status == InstanceInProgress {
				status = StepCreated
			}
			vals = append(vals, "(?, ?, ?, 0, ?, 0, '{}', '{}', '', 0, 0, 0, 0)")
			args = append(args, r.id, st.ID, status, cs[i].preds[st.ID])
			if len(vals) == perInsert {
				if err := flush(); err != nil {
					return fmt.Errorf("create steps: %w", err)
				}
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("create steps: %w", err)
	}
	for i, r := range rows {
		t.instanceEvent(r, r.status, "")
		if r.status == InstanceStopped {
			if _, err := t.tx.ExecContext(t.ctx, `UPDATE workflow_instances SET error = ?, finished_at = ? WHERE id = ?`,
				"an instance was already running (run strategy first_only)", now, r.id); err != nil {
				return err
			}
			continue
		}
		if r.status != InstanceInProgress {
			continue
		}
		if t.pausedIDs == nil {
			t.pausedIDs = map[string]bool{}
		}
		t.pausedIDs[r.id] = false // new, so not paused
		for _, st := range cs[i].lists[""] {
			if cs[i].preds[st.ID] == 0 {
				if err := t.ready(r, cs[i], st.ID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// placeholders is n comma-separated question marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
