package workflow

import (
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// Why a wake-up job runs, besides a sleep's end and a retry.
const (
	wakeStepTimeout     = "step-timeout"
	wakeInstanceTimeout = "instance-timeout"
)

// timeoutOf reads a step's or workflow's timeout; a "${param}" template
// is resolved from params; 0 when there is none.
func timeoutOf(d definition.Duration, params map[string]any) time.Duration {
	s := string(d)
	if strings.Contains(s, "${") {
		s = interpolation.ReplaceAllStringFunc(s, func(m string) string { return fmt.Sprint(params[m[2:len(m)-1]]) })
	}
	v, err := definition.ParseDuration(s)
	if err != nil {
		return 0
	}
	return v
}

// scheduleTimeout enqueues, in t, the wake-up that ends what is still
// running after d.
func (t *txn) scheduleTimeout(a wakeArgs, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	// River compares At with the wall clock.
	_, err := t.s.jobs.EnqueueTx(t.ctx, t.tx, wakeKind, a, &jobs.EnqueueOptions{At: time.Now().Add(d)})
	return err
}

// timeOut ends a step still running its attempt, or an unfinished
// instance, when its timeout has passed.
func (t *txn) timeOut(a wakeArgs) error {
	if a.Reason == wakeInstanceTimeout {
		return t.stopInstance(a.Instance, InstanceTimedOut, fmt.Sprintf("the instance's timeout (%s) passed", a.After))
	}
	var status string
	var attempts int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT status, attempts FROM workflow_steps WHERE instance_id = ? AND step_id = ?`,
		a.Instance, a.Step).Scan(&status, &attempts); err != nil {
		return nil // gone
	}
	if status != StepRunning || attempts != a.Attempt {
		return nil
	}
	if err := t.stopChildren(a.Instance, a.Step, "its step timed out"); err != nil {
		return err
	}
	if err := t.cancelRunners(a.Instance, a.Step); err != nil {
		return err
	}
	return t.finishStep(stepRef{a.Instance, a.Step}, a.Attempt, StepTimedOut, nil, fmt.Sprintf("the step's timeout (%s) passed", a.After))
}

// stopChildren stops the unfinished iterations or subworkflow instance
// of a step, without reporting back to it.
func (t *txn) stopChildren(inst, step, why string) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id FROM workflow_instances WHERE parent_id = ? AND parent_step = ? AND status IN (?, ?)`,
		inst, step, InstanceInProgress, InstanceCreated)
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := t.endChildQuietly(id, InstanceStopped, why); err != nil {
			return err
		}
	}
	return nil
}
