package remediation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/workflowapi"
)

// Workflow steps of type "runbook" run a runbook, by workflowapi's
// step-runner contract. Their params: runbook (its name, required), env,
// version, and params (a map: the runbook's params).

// WorkflowStepType is the workflow step type whose runs are executions.
const WorkflowStepType = "runbook"

func (s *Service) registerWorkflowSteps() {
	starts := map[string]func(context.Context, workflowapi.StepJob) error{
		WorkflowStepType: s.startWorkflowStep,
		AgentStepType:    s.startAgentStep,
	}
	for typ, start := range starts {
		jobs.HandleFunc(s.jobs, workflowapi.RunnerKind(typ), jobs.KindOptions{MaxAttempts: 10, Timeout: time.Minute,
			Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * time.Second },
			GiveUp:  s.workflowStepGaveUp},
			func(ctx context.Context, _ *jobs.Job, j workflowapi.StepJob) error { return start(ctx, j) })
		jobs.HandleFunc(s.jobs, workflowapi.CancelKind(typ), jobs.KindOptions{MaxAttempts: 10, Timeout: time.Minute},
			func(ctx context.Context, _ *jobs.Job, j workflowapi.StepJob) error {
				return s.cancelWorkflowStep(ctx, j)
			})
	}
}

// workflowStepKey keys the execution of a step attempt, so a redelivered
// job starts it once.
func workflowStepKey(j workflowapi.StepJob) string {
	return fmt.Sprintf("workflow:%s/%s#%d", j.Instance, j.Step, j.Attempt)
}

// startWorkflowStep starts the runbook of a workflow step's attempt; a
// step that names no runbook, or one that does not exist, or params the
// runbook refuses, fails at once as the step's own error.
func (s *Service) startWorkflowStep(ctx context.Context, j workflowapi.StepJob) error {
	fail := func(err error) error {
		_, qerr := s.jobs.Enqueue(ctx, workflowapi.StepDoneKind, j.DoneFor(workflowapi.OutcomeFailed, nil, err.Error()), nil)
		return qerr
	}
	name, _ := j.Params["runbook"].(string)
	if name == "" {
		return fail(errors.New("param runbook: name the runbook to run"))
	}
	env, _ := j.Params["env"].(string)
	version := 0
	if v, ok := j.Params["version"].(float64); ok {
		version = int(v)
	}
	params := j.Params["params"]
	if params == nil {
		params = map[string]any{}
	}
	pj, err := json.Marshal(params)
	if err != nil {
		return fail(fmt.Errorf("param params: %w", err))
	}
	step := j
	step.Params = nil
	req := StartRequest{Runbook: name, Env: env, Version: version, Params: pj, Key: workflowStepKey(j),
		Trigger: Trigger{Kind: "workflow", By: "workflow:" + j.Workflow, Step: &step}}
	ex, dup, err := s.engine.start(ctx, req)
	switch {
	case errors.Is(err, ErrNotFound) || isParamsError(err):
		return fail(fmt.Errorf("runbook %s: %w", name, err))
	case err != nil:
		return err
	}
	if !dup {
		s.auditRecord(ctx, req.Trigger.By, "remediation.executions.start", "execution:"+ex.ID, "runbook="+name+" step="+j.Step)
	}
	return nil
}

// workflowStepGaveUp fails a step whose runbook could not be started
// after every retry of its job.
func (s *Service) workflowStepGaveUp(ctx context.Context, j *jobs.Job, cause error) {
	var sj workflowapi.StepJob
	if json.Unmarshal(j.Args, &sj) != nil {
		return
	}
	done := sj.DoneFor(workflowapi.OutcomePlatformFailed, nil, "start the runbook: "+cause.Error())
	if _, err := s.jobs.Enqueue(ctx, workflowapi.StepDoneKind, done, nil); err != nil {
		s.log.Error("report a workflow step whose runbook did not start", "instance", sj.Instance, "step", sj.Step, "error", err)
	}
}

// cancelWorkflowStep cancels the execution of a step attempt the
// workflow stopped or timed out.
func (s *Service) cancelWorkflowStep(ctx context.Context, j workflowapi.StepJob) error {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM remediation_executions WHERE trigger_key = ?`, workflowStepKey(j)).Scan(&id)
	if err != nil {
		return nil // never started: nothing to cancel
	}
	by := "workflow:" + j.Workflow
	err = s.engine.stopExec(ctx, id, by, ExecCancelled, fmt.Sprintf("workflow %s stopped step %s", j.Instance, j.Step))
	if err == nil {
		s.auditRecord(ctx, by, "remediation.executions.cancel", "execution:"+id, "step="+j.Step)
	}
	return err
}

// reportStep tells the workflow step an execution does, if any, that
// it ended as status, in the transaction that ends it.
func (s *Service) reportStep(ctx context.Context, tx *store.Tx, ex *Execution, status, why string) error {
	st := ex.Trigger.Step
	if st == nil {
		return nil
	}
	outcome := workflowapi.OutcomeSucceeded
	if status != ExecSucceeded {
		outcome = workflowapi.OutcomeFailed
		if why == "" {
			why = "the runbook's execution " + status
		}
	} else {
		why = ""
	}
	vars := map[string]any{}
	json.Unmarshal(ex.Vars, &vars)
	delete(vars, "_failure")
	out := map[string]any{"execution_id": ex.ID, "status": status, "vars": vars}
	if st.Type != "" && strings.EqualFold(st.Type, AgentStepType) {
		out["items"] = vars["items"]
	}
	done := st.DoneFor(outcome, out, why)
	done.Ref = "/remediation/executions/" + ex.ID
	_, err := s.jobs.EnqueueTx(ctx, tx, workflowapi.StepDoneKind, done, nil)
	return err
}
