package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/workflowapi"
)

// Steps another system runs (workflowapi's step-runner contract): the
// attempt's claim enqueues the runner's job, and the runner's StepDone
// job ends it.

// startRunner hands a claimed attempt to the system that runs its type,
// in the claim's transaction.
func (t *txn) startRunner(r *instRow, ref stepRef, attempt int, st *definition.Step, params map[string]any) error {
	job := workflowapi.StepJob{Instance: ref.inst, Workflow: r.workflow, Step: ref.step, Attempt: attempt, Type: st.Type,
		Params: params, Idempotent: st.Idempotent != nil && *st.Idempotent}
	if d := timeoutOf(st.Timeout, r.params); d > 0 {
		job.Timeout = d.String()
	}
	_, err := t.s.jobs.EnqueueTx(t.ctx, t.tx, workflowapi.RunnerKind(st.Type), job, nil)
	return err
}

// outcomeStatus is the step status of a StepDone's outcome.
func outcomeStatus(outcome string) (string, error) {
	switch outcome {
	case workflowapi.OutcomeSucceeded:
		return StepSucceeded, nil
	case workflowapi.OutcomeFailed:
		return StepUserFailed, nil
	case workflowapi.OutcomePlatformFailed:
		return StepPlatformFailed, nil
	case workflowapi.OutcomeFatal:
		return StepFatallyFailed, nil
	}
	return "", fmt.Errorf("outcome %q: want succeeded, failed, platform_failed or fatal", outcome)
}

// stepDone ends the attempt a runner reports on; a report for an
// attempt no longer running changes nothing.
func (s *Service) stepDone(ctx context.Context, d workflowapi.StepDone) error {
	status, err := outcomeStatus(d.Outcome)
	if err != nil {
		return jobs.Cancel(fmt.Errorf("step %s of %s: %w", d.Step, d.Instance, err))
	}
	if status == StepSucceeded {
		d.Error = ""
	} else if d.Error == "" {
		d.Error = "the runner reported " + d.Outcome + " without a reason"
	}
	return s.inTx(ctx, func(t *txn) error {
		if d.Ref != "" {
			if _, err := t.tx.ExecContext(ctx, `UPDATE workflow_steps SET ref = ? WHERE instance_id = ? AND step_id = ? AND status = ? AND attempts = ?`,
				d.Ref, d.Instance, d.Step, StepRunning, d.Attempt); err != nil {
				return err
			}
		}
		return t.finishStep(stepRef{d.Instance, d.Step}, d.Attempt, status, d.Outputs, d.Error)
	})
}

// cancelRunners asks the runners of an instance's running attempts (of
// step, or of every step when step is "") to stop their work, where
// their system takes cancellations. Call it before the attempts end.
func (t *txn) cancelRunners(inst, step string) error {
	q := `SELECT step_id, attempts FROM workflow_steps WHERE instance_id = ? AND status = ?`
	args := []any{inst, StepRunning}
	if step != "" {
		q += ` AND step_id = ?`
		args = append(args, step)
	}
	rows, err := t.tx.QueryContext(t.ctx, q, args...)
	if err != nil {
		return err
	}
	type running struct {
		step    string
		attempt int
	}
	var list []running
	for rows.Next() {
		var r running
		if err := rows.Scan(&r.step, &r.attempt); err != nil {
			rows.Close()
			return err
		}
		list = append(list, r)
	}
	rows.Close()
	if len(list) == 0 {
		return nil
	}
	r, err := loadInstRow(t.ctx, t.tx, inst)
	if err != nil {
		return err
	}
	c, err := t.s.version(t.ctx, t.tx, r.workflow, r.version)
	if err != nil {
		return err
	}
	for _, run := range list {
		st := c.steps[run.step]
		if st == nil || st.Kind != definition.KindStep || !t.s.jobs.HasKind(workflowapi.CancelKind(st.Type)) {
			continue
		}
		job := workflowapi.StepJob{Instance: inst, Workflow: r.workflow, Step: run.step, Attempt: run.attempt, Type: st.Type}
		if _, err := t.s.jobs.EnqueueTx(t.ctx, t.tx, workflowapi.CancelKind(strings.ToLower(st.Type)), job, nil); err != nil {
			return err
		}
	}
	return nil
}
