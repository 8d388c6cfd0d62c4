package workflowapi

import "strings"

// The step-runner contract. A step whose type another system runs (a
// notebook, a runbook, an agent action, a Genie job, SQL) goes through
// the job queue both ways, so neither system imports the other and a
// step survives any process dying:
//
//  1. In the transaction that starts the step's attempt, the workflow
//     system enqueues a job of kind RunnerKind(type) with StepJob
//     arguments — if a handler for that kind is registered; otherwise
//     the step fails with "no runner for step type X".
//  2. The runner system handles that job: it starts the work and may
//     return at once (a long run ends later) or do it all in the
//     handler. A handler that runs again after its process died (its
//     job attempt > 1) must not repeat a non-idempotent side effect.
//     Its jobs.KindOptions.GiveUp should report OutcomePlatformFailed,
//     so a step is not left running when its job is discarded.
//  3. When the work ends — however much later — the runner enqueues a
//     job of kind StepDoneKind with StepDone arguments naming the same
//     instance, step and attempt. The workflow system ignores a StepDone
//     for an attempt that is no longer running (stopped, timed out, or
//     superseded), so sending one twice is harmless.
//  4. When a running attempt is stopped or times out, the workflow system
//     enqueues CancelKind(type) with the StepJob (Params omitted) if a
//     handler for it is registered, so the runner can kill the work.

// RunnerKind is the job kind of the runner of a step type: its handler
// receives a StepJob. Step types are matched without regard to case.
func RunnerKind(stepType string) string {
	return "workflow.runner." + strings.ToLower(stepType)
}

// CancelKind is the optional job kind that cancels a step type's running
// attempt; its handler receives the attempt's StepJob without Params.
func CancelKind(stepType string) string {
	return RunnerKind(stepType) + ".cancel"
}

// StepDoneKind is the job kind a runner enqueues, with StepDone
// arguments, when a step attempt it runs has ended.
const StepDoneKind = "workflow.step_done"

// StepJob names one attempt of a step for its runner, with the step's
// evaluated params.
type StepJob struct {
	Instance string `json:"instance"`
	Workflow string `json:"workflow"`
	Step     string `json:"step"`
	Attempt  int    `json:"attempt"`
	// Type is the step's type as written in the definition.
	Type string `json:"type"`
	// Params are the step's params after evaluation: names to JSON values.
	Params map[string]any `json:"params,omitempty"`
	// Idempotent says the step may run again after its process died
	// mid-run (the definition's "idempotent" flag).
	Idempotent bool `json:"idempotent,omitempty"`
	// Timeout is the step's timeout as a Go duration ("" for none); the
	// workflow system enforces it too, and cancels the attempt then.
	Timeout string `json:"timeout,omitempty"`
}

// Outcomes a StepDone reports.
const (
	// OutcomeSucceeded: the step did its work; Outputs are its output params.
	OutcomeSucceeded = "succeeded"
	// OutcomeFailed: the step's own failure (a cell raised, a query was
	// wrong); its retry policy for user errors applies.
	OutcomeFailed = "failed"
	// OutcomePlatformFailed: the platform failed the step (a kernel or an
	// agent died); its retry policy for platform errors applies.
	OutcomePlatformFailed = "platform_failed"
	// OutcomeFatal: the step failed and must not be retried.
	OutcomeFatal = "fatal"
)

// StepDone reports the end of a step attempt that a runner ran.
type StepDone struct {
	Instance string `json:"instance"`
	Step     string `json:"step"`
	Attempt  int    `json:"attempt"`
	// Outcome is one of the Outcome constants.
	Outcome string `json:"outcome"`
	// Outputs become the step's output params, readable by successors as
	// params of the step (Maestro's `stepId__name`).
	Outputs map[string]any `json:"outputs,omitempty"`
	// Error says why the step failed; empty on success.
	Error string `json:"error,omitempty"`
	// Ref links the runner's own record of the work (a notebook run, a
	// runbook execution, a Genie job) for the instance's page: a path on
	// this server such as "/ui/notebooks/runs/42", or "".
	Ref string `json:"ref,omitempty"`
}

// DoneFor returns the StepDone of a StepJob's attempt with an outcome.
func (j StepJob) DoneFor(outcome string, outputs map[string]any, errText string) StepDone {
	return StepDone{Instance: j.Instance, Step: j.Step, Attempt: j.Attempt, Outcome: outcome, Outputs: outputs, Error: errText}
}
