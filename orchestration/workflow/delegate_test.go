package workflow_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/workflowapi"
)

// echoRunner is a system of this test binary that runs steps of type
// "echo" by workflowapi's contract: it reports the outcome its params
// name (or the next of "outcomes", one per attempt) with its params as
// outputs, or holds the step when "hold" is set, and records the
// cancellations it gets.
type echoRunner struct {
	mu        sync.Mutex
	cancelled []workflowapi.StepJob
	attempts  map[string]int
}

func (e *echoRunner) Start(context.Context) error  { return nil }
func (e *echoRunner) Stop(context.Context) error   { return nil }
func (e *echoRunner) Health(context.Context) error { return nil }

func (e *echoRunner) run(ctx context.Context, q *jobs.Queue, j workflowapi.StepJob) error {
	if hold, _ := j.Params["hold"].(bool); hold {
		return nil
	}
	outcome, _ := j.Params["outcome"].(string)
	if list, ok := j.Params["outcomes"].([]any); ok {
		e.mu.Lock()
		n := e.attempts[j.Instance+"/"+j.Step]
		e.attempts[j.Instance+"/"+j.Step]++
		e.mu.Unlock()
		outcome, _ = list[min(n, len(list)-1)].(string)
	}
	if outcome == "" {
		outcome = workflowapi.OutcomeSucceeded
	}
	why := ""
	if outcome != workflowapi.OutcomeSucceeded {
		why = "echo was told to " + outcome
	}
	done := j.DoneFor(outcome, map[string]any{"said": j.Params["say"], "attempt": j.Attempt}, why)
	done.Ref = "/ui/echo/" + j.Step
	_, err := q.Enqueue(ctx, workflowapi.StepDoneKind, done, nil)
	return err
}

func (e *echoRunner) cancels() []workflowapi.StepJob {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]workflowapi.StepJob(nil), e.cancelled...)
}

func init() {
	platform.Register(platform.Module{Name: "echorunner", New: func(_ context.Context, d *platform.Deps) (platform.Service, error) {
		e := &echoRunner{attempts: map[string]int{}}
		jobs.HandleFunc(d.Jobs, workflowapi.RunnerKind("echo"), jobs.KindOptions{MaxAttempts: 3, Timeout: time.Minute},
			func(ctx context.Context, _ *jobs.Job, j workflowapi.StepJob) error { return e.run(ctx, d.Jobs, j) })
		jobs.HandleFunc(d.Jobs, workflowapi.CancelKind("echo"), jobs.KindOptions{MaxAttempts: 3, Timeout: time.Minute},
			func(_ context.Context, _ *jobs.Job, j workflowapi.StepJob) error {
				e.mu.Lock()
				defer e.mu.Unlock()
				e.cancelled = append(e.cancelled, j)
				return nil
			})
		return e, nil
	}})
}

func echoOf(srv *platformtest.Server) *echoRunner {
	svc, _ := srv.Deps().Lookup("echorunner")
	return svc.(*echoRunner)
}

// TestRunnerContract: a step of a type another system runs is handed to
// it with its evaluated params, and its outputs reach the next step; a
// user failure is retried by the error policy and a platform failure by
// the platform policy, counted apart; a failure past the limits fails
// the instance.
func TestRunnerContract(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	apply(t, srv, tok, `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "relay", "steps": [
	  {"step": {"id": "first", "type": "Echo", "params": {"say": {"expression": "'run ' + WORKFLOW_INSTANCE_ID", "type": "STRING"}},
	    "transition": {"successors": {"second": "true"}}}},
	  {"step": {"id": "second", "type": "echo", "params": {"say": {"expression": "params.getFromStep('first', 'said') + ' again'", "type": "STRING"}}}}]}}`)
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/relay/instances", tok, nil).JSON(t, &in)
	in = waitEnd(t, srv, tok, "relay", in.InstanceID)
	if in.Status != workflow.InstanceSucceeded {
		t.Fatalf("relay: %s %s %+v", in.Status, in.Error, in.Steps)
	}
	for _, s := range in.Steps {
		want := map[string]string{"first": "run 1", "second": "run 1 again"}[s.ID]
		if s.Output["said"] != want || s.Ref != "/ui/echo/"+s.ID {
			t.Errorf("step %s: output %v ref %q, want said=%q", s.ID, s.Output, s.Ref, want)
		}
	}

	fast := `"retry_policy": {"error_retry_limit": 1, "platform_retry_limit": 2,
	  "backoff": {"type": "FIXED_BACKOFF", "error_retry_backoff_in_secs": 0, "platform_retry_backoff_in_secs": 0}}`
	apply(t, srv, tok, fmt.Sprintf(`{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "flaky", "steps": [
	  {"step": {"id": "s", "type": "echo", %s, "params": {"outcomes": {"type": "STRING_ARRAY",
	    "value": ["platform_failed", "failed", "platform_failed", "succeeded"]}}}}]}}`, fast))
	srv.Do("POST", "/api/v1/workflows/flaky/instances", tok, nil).JSON(t, &in)
	in = waitEnd(t, srv, tok, "flaky", in.InstanceID)
	if in.Status != workflow.InstanceSucceeded || in.Steps[0].Attempts != 4 {
		t.Fatalf("flaky: %s after %d attempts (%s), want SUCCEEDED after 4: one user and two platform failures are within the limits",
			in.Status, in.Steps[0].Attempts, in.Steps[0].Error)
	}

	apply(t, srv, tok, fmt.Sprintf(`{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "broken", "steps": [
	  {"step": {"id": "s", "type": "echo", %s, "params": {"outcomes": {"type": "STRING_ARRAY",
	    "value": ["failed", "failed", "succeeded"]}}}}]}}`, fast))
	srv.Do("POST", "/api/v1/workflows/broken/instances", tok, nil).JSON(t, &in)
	in = waitEnd(t, srv, tok, "broken", in.InstanceID)
	if in.Status != workflow.InstanceFailed || in.Steps[0].Status != workflow.StepUserFailed || in.Steps[0].Attempts != 2 {
		t.Fatalf("broken: %s, step %s after %d attempts, want FAILED with USER_FAILED after 2", in.Status, in.Steps[0].Status, in.Steps[0].Attempts)
	}
}

// TestRunnerCancelled: stopping an instance, or a step's timeout, asks
// the runner to cancel the attempt it holds; a report after that
// changes nothing.
func TestRunnerCancelled(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	echo := echoOf(srv)
	apply(t, srv, tok, `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "held", "steps": [
	  {"step": {"id": "h", "type": "echo", "params": {"hold": {"value": true, "type": "BOOLEAN"}}}}]}}`)
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/held/instances", tok, nil).JSON(t, &in)
	platformtest.Eventually(t, "the held step to run", func() bool {
		srv.Do("GET", fmt.Sprintf("/api/v1/workflows/held/instances/%d", in.InstanceID), tok, nil).JSON(t, &in)
		return len(in.Steps) == 1 && in.Steps[0].Status == workflow.StepRunning
	})
	if r := srv.Do("POST", fmt.Sprintf("/api/v1/workflows/held/instances/%d/stop", in.InstanceID), tok, nil); r.Status != 200 {
		t.Fatalf("stop: %d %s", r.Status, r.Body)
	}
	platformtest.Eventually(t, "the runner to be told to cancel", func() bool { return len(echo.cancels()) == 1 })
	c := echo.cancels()[0]
	if c.Workflow != "held" || c.Step != "h" || c.Attempt != 1 || c.Params != nil {
		t.Errorf("cancel %+v", c)
	}
	// A late report of the stopped attempt is ignored.
	late := c.DoneFor(workflowapi.OutcomeSucceeded, nil, "")
	if _, err := srv.Deps().Jobs.Enqueue(context.Background(), workflowapi.StepDoneKind, late, nil); err != nil {
		t.Fatal(err)
	}
	in = waitEnd(t, srv, tok, "held", in.InstanceID)
	if in.Status != workflow.InstanceStopped || in.Steps[0].Status != workflow.StepStopped {
		t.Fatalf("held: %s, step %s", in.Status, in.Steps[0].Status)
	}
}

// TestStrictSequential: under strict_sequential a failed instance holds
// back the next, queued, until the workflow is unblocked (Maestro's
// unblock); then it runs, and the failed one keeps its status.
func TestStrictSequential(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	apply(t, srv, tok, `{"properties": {"run_strategy": "strict_sequential"}, "workflow": {"id": "strict",
	  "params": {"outcome": {"value": "succeeded", "type": "STRING"}},
	  "steps": [{"step": {"id": "s", "type": "echo", "retry_policy": {"error_retry_limit": 0},
	    "params": {"outcome": {"expression": "outcome", "type": "STRING"}}}}]}}`)
	start := func(outcome string) int64 {
		var in workflow.Instance
		if r := srv.Do("POST", "/api/v1/workflows/strict/instances", tok, map[string]any{"params": map[string]any{"outcome": outcome}}); r.Status != http.StatusCreated {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		} else {
			r.JSON(t, &in)
		}
		return in.InstanceID
	}
	status := func(no int64) string {
		var in workflow.Instance
		srv.Do("GET", fmt.Sprintf("/api/v1/workflows/strict/instances/%d", no), tok, nil).JSON(t, &in)
		return in.Status
	}
	first := start("failed")
	if end := waitEnd(t, srv, tok, "strict", first); end.Status != workflow.InstanceFailed {
		t.Fatalf("first: %s", end.Status)
	}
	second := start("succeeded")
	if s := status(second); s != workflow.InstanceCreated {
		t.Fatalf("second after a failure: %s, want CREATED (held back)", s)
	}
	if r := srv.Do("POST", "/api/v1/workflows/strict/unblock", tok, nil); r.Status != http.StatusNoContent {
		t.Fatalf("unblock: %d %s", r.Status, r.Body)
	}
	if end := waitEnd(t, srv, tok, "strict", second); end.Status != workflow.InstanceSucceeded {
		t.Fatalf("second after the unblock: %s", end.Status)
	}
	if s := status(first); s != workflow.InstanceFailed {
		t.Errorf("the failed instance became %s; unblocking keeps its status", s)
	}
	if r := srv.Do("POST", "/api/v1/workflows/nope/unblock", tok, nil); r.Status != http.StatusNotFound {
		t.Errorf("unblock an unknown workflow: %d", r.Status)
	}
}
