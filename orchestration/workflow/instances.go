package workflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Instance is one run of a workflow.
type Instance struct {
	WorkflowID string         `json:"workflow_id"`
	InstanceID int64          `json:"instance_id"`
	Version    int            `json:"version"`
	Status     string         `json:"status"`
	Params     map[string]any `json:"params"`
	Error      string         `json:"error,omitempty"`
	CreatedBy  string         `json:"created_by"`
	CreatedAt  time.Time      `json:"created_at"`
	FinishedAt *time.Time     `json:"finished_at,omitempty"`
	// Parent is the instance and step that started this one (a
	// subworkflow step), "" for a run started by a person or trigger.
	Parent string         `json:"parent,omitempty"`
	Steps  []StepInstance `json:"steps,omitempty"`
}

// StepInstance is a step of an instance (or, for steps inside a
// foreach, of one of its iterations: the id is "<foreach>/<n>/<step>").
type StepInstance struct {
	ID         string         `json:"id"`
	Status     string         `json:"status"`
	Attempts   int            `json:"attempts"`
	Params     map[string]any `json:"params,omitempty"`
	Output     map[string]any `json:"output,omitempty"`
	Error      string         `json:"error,omitempty"`
	Iterations *Iterations    `json:"iterations,omitempty"`
	// Ref links the record another system keeps of the step's run (a
	// notebook run, a runbook execution): a path on this server.
	Ref        string     `json:"ref,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// Iterations counts a foreach step's iterations.
type Iterations struct {
	Total     int `json:"total"`
	Started   int `json:"started"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
}

// instRow is an instance as stored; failing is the reason it will fail
// once its running steps are done (fail_after_running).
type instRow struct {
	id, workflow, parent, parentStep, scope, status, by, failing string
	no                                                           int64
	version, iteration                                           int
	params                                                       map[string]any
}

func instanceKey(workflow string, no int64) string { return workflow + "/" + strconv.FormatInt(no, 10) }

func loadInstRow(ctx context.Context, q querier, id string) (*instRow, error) {
	r := &instRow{id: id}
	var params string
	err := q.QueryRowContext(ctx, `SELECT workflow_id, instance_no, version, parent_id, parent_step, iteration, scope, status, params, created_by, error
		FROM workflow_instances WHERE id = ?`, id).Scan(&r.workflow, &r.no, &r.version, &r.parent, &r.parentStep, &r.iteration,
		&r.scope, &r.status, &params, &r.by, &r.failing)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("instance %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	r.params = decodeParams(params)
	return r, nil
}

// Instance returns an instance of a workflow with its steps, those of
// its foreach iterations included.
func (s *Service) Instance(ctx context.Context, workflow string, no int64) (*Instance, error) {
	id := instanceKey(workflow, no)
	var in Instance
	var params string
	var created int64
	var finished sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT workflow_id, instance_no, version, status, params, error, created_by, created_at, finished_at, parent_id
		FROM workflow_instances WHERE id = ?`, id).Scan(&in.WorkflowID, &in.InstanceID, &in.Version, &in.Status, &params, &in.Error,
		&in.CreatedBy, &created, &finished, &in.Parent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("workflow %s instance %d: %w", workflow, no, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	in.Params = decodeParams(params)
	in.CreatedAt = time.UnixMilli(created).UTC()
	in.FinishedAt = msPtr(finished)
	// The instance's steps, then its iterations' (their ids start with
	// the instance's and a slash).
	rows, err := s.db.QueryContext(ctx, `SELECT instance_id, step_id, status, attempts, params, output, error, iterations, started, done, failed,
		ref, started_at, finished_at FROM workflow_steps WHERE instance_id = ? OR instance_id LIKE ? ESCAPE '\' ORDER BY instance_id, started_at, step_id`,
		id, likePrefix(id+"/"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var st StepInstance
		var inst, p, o string
		var total, started, done, failed int
		var sa, fa sql.NullInt64
		if err := rows.Scan(&inst, &st.ID, &st.Status, &st.Attempts, &p, &o, &st.Error, &total, &started, &done, &failed, &st.Ref, &sa, &fa); err != nil {
			return nil, err
		}
		if inst != id {
			st.ID = strings.TrimPrefix(inst, id+"/") + "/" + st.ID
		}
		st.Params, st.Output = decodeParams(p), decodeParams(o)
		if total > 0 || started > 0 {
			st.Iterations = &Iterations{Total: total, Started: started, Succeeded: done - failed, Failed: failed}
		}
		st.StartedAt, st.FinishedAt = msPtr(sa), msPtr(fa)
		in.Steps = append(in.Steps, st)
	}
	return &in, rows.Err()
}

// Instances lists a workflow's instances, newest first.
func (s *Service) Instances(ctx context.Context, workflow string, limit int) ([]Instance, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, `SELECT instance_no, version, status, error, created_by, created_at, finished_at FROM workflow_instances
		WHERE workflow_id = ? AND instance_no > 0 ORDER BY instance_no DESC LIMIT `+strconv.Itoa(limit), workflow)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Instance{}
	for rows.Next() {
		in := Instance{WorkflowID: workflow}
		var created int64
		var finished sql.NullInt64
		if err := rows.Scan(&in.InstanceID, &in.Version, &in.Status, &in.Error, &in.CreatedBy, &created, &finished); err != nil {
			return nil, err
		}
		in.CreatedAt, in.FinishedAt = time.UnixMilli(created).UTC(), msPtr(finished)
		out = append(out, in)
	}
	return out, rows.Err()
}

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

// likePrefix is a LIKE pattern matching strings that start with p.
func likePrefix(p string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(p) + "%"
}

// InstanceStatus returns an instance's status alone (cheap to poll).
func (s *Service) InstanceStatus(ctx context.Context, workflow string, no int64) (string, error) {
	var st string
	err := s.db.QueryRowContext(ctx, `SELECT status FROM workflow_instances WHERE id = ?`, instanceKey(workflow, no)).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("workflow %s instance %d: %w", workflow, no, ErrNotFound)
	}
	return st, err
}
