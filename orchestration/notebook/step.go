package notebook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/notebookapi"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/workflowapi"
)

// The workflow step runner (workflowapi's contract): a step of type
// "notebook" runs a stored notebook on a worker and reports its scraps as
// the step's outputs. Its params are documented on notebookapi.StepType.

// stepRequest reads a notebook step's params.
func stepRequest(j workflowapi.StepJob) (string, RunRequest, error) {
	var req RunRequest
	ref, ok := j.Params["notebook"].(string)
	if !ok || ref == "" {
		return "", req, fmt.Errorf("%w: param notebook: want the stored notebook's name or id", ErrInvalid)
	}
	if p, ok := j.Params["parameters"]; ok && p != nil {
		m, ok := p.(map[string]any)
		if !ok {
			return "", req, fmt.Errorf("%w: param parameters: want an object of names to values, got %T", ErrInvalid, p)
		}
		req.Parameters = m
	}
	if k, ok := j.Params["kernel"]; ok {
		if req.Kernel, ok = k.(string); !ok {
			return "", req, fmt.Errorf("%w: param kernel: want a kernel spec name", ErrInvalid)
		}
	}
	req.Timeout = j.Timeout
	if t, ok := j.Params["timeout"]; ok {
		if req.Timeout, ok = t.(string); !ok {
			return "", req, fmt.Errorf("%w: param timeout: want a Go duration such as 30m", ErrInvalid)
		}
	}
	return ref, req, nil
}

// runStep handles workflowapi.RunnerKind("notebook").
func (s *Service) runStep(ctx context.Context, job *jobs.Job, j workflowapi.StepJob) error {
	ref, req, err := stepRequest(j)
	if err != nil {
		return s.stepDone(ctx, j.DoneFor(workflowapi.OutcomeFatal, nil, err.Error()))
	}
	if req.Kernel == "" {
		if req.Kernel, err = s.workflowKernel(ctx, j.Workflow); err != nil {
			return err
		}
	}
	actor := fmt.Sprintf("workflow %s instance %s step %s", j.Workflow, j.Instance, j.Step)
	run, err := s.newRun(ctx, ref, req, &StepRef{j.Instance, j.Step, j.Attempt}, actor)
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return s.stepDone(ctx, j.DoneFor(workflowapi.OutcomeFatal, nil, err.Error()))
	}
	if err != nil {
		return err
	}
	run, err = s.execute(ctx, run.ID, j.Idempotent)
	if err != nil {
		return err
	}
	var done workflowapi.StepDone
	switch {
	case run.Status == RunCompleted:
		done = j.DoneFor(workflowapi.OutcomeSucceeded, run.Scraps, "")
	case run.kernelDied || run.Error == errProcessDied.Error() || run.FailedCell == nil:
		done = j.DoneFor(workflowapi.OutcomePlatformFailed, nil, run.Error)
	default:
		done = j.DoneFor(workflowapi.OutcomeFailed, nil, run.Error)
	}
	done.Ref = fmt.Sprintf("/notebook-runs/%d", run.ID)
	return s.stepDone(ctx, done)
}

func (s *Service) stepDone(ctx context.Context, d workflowapi.StepDone) error {
	if _, err := s.jobs.Enqueue(context.WithoutCancel(ctx), workflowapi.StepDoneKind, d, nil); err != nil {
		return fmt.Errorf("report step %s of %s: %w", d.Step, d.Instance, err)
	}
	return nil
}

// cancelStep handles workflowapi.CancelKind("notebook"): it records the
// cancel, which kills the run's kernel wherever it runs.
func (s *Service) cancelStep(ctx context.Context, _ *jobs.Job, j workflowapi.StepJob) error {
	var id int64
	err := s.db.QueryRowContext(ctx, "SELECT id FROM notebook_runs WHERE step_instance = ? AND step = ? AND step_attempt = ?", j.Instance, j.Step, j.Attempt).Scan(&id)
	if err != nil {
		return nil // no run was recorded: nothing to stop
	}
	if _, err := s.CancelRun(ctx, id); err != nil && !errors.Is(err, ErrConflict) {
		return err
	}
	return nil
}

// registerRunners registers the job kinds of runs and of workflow steps.
func (s *Service) registerRunners(q *jobs.Queue) {
	jobs.HandleFunc(q, runKind, jobs.KindOptions{MaxAttempts: 2, Timeout: -1},
		func(ctx context.Context, _ *jobs.Job, a runArgs) error {
			_, err := s.execute(ctx, a.Run, false)
			if errors.Is(err, ErrNotFound) {
				return jobs.Cancel(err)
			}
			return err
		})
	jobs.HandleFunc(q, workflowapi.RunnerKind(notebookapi.StepType), jobs.KindOptions{MaxAttempts: 3, Timeout: -1}, s.runStep)
	jobs.HandleFunc(q, workflowapi.CancelKind(notebookapi.StepType), jobs.KindOptions{MaxAttempts: 5, Timeout: time.Minute}, s.cancelStep)
}
