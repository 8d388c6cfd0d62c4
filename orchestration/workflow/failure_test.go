package workflow_test

import (
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

func failing(mode string) string {
	return `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "f-` + mode + `", "steps": [
	  {"step": {"id": "k8s", "type": "Kubernetes", "failure_mode": "` + mode + `", "transition": {"successors": {"after": "true"}}}},
	  {"step": {"id": "after", "type": "NoOp"}},
	  {"step": {"id": "other", "type": "Sleep", "params": {"sleep_seconds": {"value": 1, "type": "LONG"}}}}]}}`
}

// TestFailureModes: a step without a runner fails with the reason; by
// default (fail_after_running) the other branch runs to its end, the
// failed step's successor never runs, and the instance fails;
// fail_immediately stops the other branch; ignore_failure goes on.
func TestFailureModes(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	for mode, want := range map[string]map[string]string{
		"fail_after_running": {"k8s": "FATALLY_FAILED", "after": "UNSATISFIED", "other": "SUCCEEDED", "": "FAILED"},
		"fail_immediately":   {"k8s": "FATALLY_FAILED", "after": "NOT_CREATED", "other": "STOPPED", "": "FAILED"},
		"ignore_failure":     {"k8s": "COMPLETED_WITH_ERROR", "after": "SUCCEEDED", "other": "SUCCEEDED", "": "SUCCEEDED"},
	} {
		apply(t, srv, tok, failing(mode))
		var in workflow.Instance
		srv.Do("POST", "/api/v1/workflows/f-"+mode+"/instances", tok, nil).JSON(t, &in)
		in = waitEnd(t, srv, tok, "f-"+mode, in.InstanceID)
		got := map[string]string{"": in.Status}
		for _, s := range in.Steps {
			got[s.ID] = s.Status
			if s.ID == "k8s" && !strings.Contains(s.Error, "no runner for step type Kubernetes") {
				t.Errorf("%s: k8s error %q", mode, s.Error)
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %q is %s, want %s (all: %v; %s)", mode, k, got[k], v, got, in.Error)
			}
		}
	}
}

// TestRetries: a user error is retried as the step's retry policy says
// (error_retry_limit 2: three attempts), then fails the instance.
func TestRetries(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	apply(t, srv, tok, `{"workflow": {"id": "flaky", "steps": [{"step": {"id": "a", "type": "NoOp",
	  "params": {"x": {"value": "${nosuch}", "type": "STRING"}},
	  "retry_policy": {"error_retry_limit": 2, "backoff": {"type": "FIXED_BACKOFF", "error_retry_backoff_in_secs": 0}}}}]}}`)
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/flaky/instances", tok, nil).JSON(t, &in)
	in = waitEnd(t, srv, tok, "flaky", in.InstanceID)
	a := in.Steps[0]
	if in.Status != workflow.InstanceFailed || a.Status != workflow.StepUserFailed || a.Attempts != 3 || !strings.Contains(a.Error, "no param nosuch") {
		t.Fatalf("instance %s, step %s after %d attempts: %s", in.Status, a.Status, a.Attempts, a.Error)
	}
}

// TestRestart: a failed instance restarts from its failed step — here
// a subworkflow whose definition was fixed since — and the steps that
// succeeded are not run again.
func TestRestart(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	apply(t, srv, tok, `{"workflow": {"id": "job", "steps": [{"step": {"id": "run", "type": "Kubernetes"}}]}}`)
	apply(t, srv, tok, `{"workflow": {"id": "rs", "steps": [
	  {"step": {"id": "first", "type": "NoOp", "transition": {"successors": {"sub": "true"}}}},
	  {"subworkflow": {"id": "sub", "retry_policy": {"error_retry_limit": 0}, "transition": {"successors": {"last": "true"}},
	    "params": {"subworkflow_id": {"value": "job", "type": "STRING"}, "subworkflow_version": {"value": "latest", "type": "STRING"}}}},
	  {"step": {"id": "last", "type": "NoOp"}}]}}`)
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/rs/instances", tok, nil).JSON(t, &in)
	if in = waitEnd(t, srv, tok, "rs", in.InstanceID); in.Status != workflow.InstanceFailed {
		t.Fatalf("first run: %s", in.Status)
	}
	apply(t, srv, tok, `{"workflow": {"id": "job", "steps": [{"step": {"id": "run", "type": "NoOp"}}]}}`)
	if resp := srv.Do("POST", "/api/v1/workflows/rs/instances/1/restart", tok, nil); resp.Status != 200 {
		t.Fatalf("restart: %d %s", resp.Status, resp.Body)
	}
	in = waitEnd(t, srv, tok, "rs", 1)
	attempts := map[string]int{}
	for _, s := range in.Steps {
		attempts[s.ID] = s.Attempts
	}
	if in.Status != workflow.InstanceSucceeded || attempts["first"] != 1 || attempts["sub"] != 2 || attempts["last"] != 1 {
		t.Errorf("after restart: %s (%s), attempts %v", in.Status, in.Error, attempts)
	}
	if resp := srv.Do("POST", "/api/v1/workflows/rs/instances/1/restart", tok, nil); resp.Status != 409 {
		t.Errorf("restart of a succeeded instance: %d", resp.Status)
	}
	if resp := srv.Do("POST", "/api/v1/workflows/rs/instances/9/restart", tok, nil); resp.Status != 404 {
		t.Errorf("restart of no instance: %d", resp.Status)
	}
}

// TestTimeouts: a step still running after its timeout ends TIMED_OUT
// (its subworkflow's instance stopped), failing the instance; an
// instance still running after the workflow's timeout ends TIMED_OUT.
func TestTimeouts(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	apply(t, srv, tok, `{"workflow": {"id": "slow-child", "steps": [{"step": {"id": "nap", "type": "Sleep", "params": {"sleep_seconds": {"value": 300, "type": "LONG"}}}}]}}`)
	apply(t, srv, tok, `{"workflow": {"id": "step-timeout", "steps": [
	  {"subworkflow": {"id": "sub", "timeout": "1s", "params": {"subworkflow_id": {"value": "slow-child", "type": "STRING"}}}}]}}`)
	apply(t, srv, tok, `{"workflow": {"id": "wf-timeout", "timeout": 1, "steps": [
	  {"step": {"id": "nap", "type": "Sleep", "params": {"sleep_seconds": {"value": 300, "type": "LONG"}}}}]}}`)
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/step-timeout/instances", tok, nil).JSON(t, &in)
	in = waitEnd(t, srv, tok, "step-timeout", in.InstanceID)
	if in.Status != workflow.InstanceFailed || in.Steps[0].Status != workflow.StepTimedOut || !strings.Contains(in.Steps[0].Error, "timeout (1s) passed") {
		t.Errorf("step timeout: %s, step %s %s", in.Status, in.Steps[0].Status, in.Steps[0].Error)
	}
	if kid := waitEnd(t, srv, tok, "slow-child", 1); kid.Status != workflow.InstanceStopped {
		t.Errorf("the timed-out step's subworkflow: %s", kid.Status)
	}
	srv.Do("POST", "/api/v1/workflows/wf-timeout/instances", tok, nil).JSON(t, &in)
	in = waitEnd(t, srv, tok, "wf-timeout", in.InstanceID)
	if in.Status != workflow.InstanceTimedOut || in.Steps[0].Status != workflow.StepStopped {
		t.Errorf("instance timeout: %s (%s), step %s", in.Status, in.Error, in.Steps[0].Status)
	}
}

// TestPauseResume: a paused instance lets its running step finish and
// starts no other until it resumes.
func TestPauseResume(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	apply(t, srv, tok, `{"workflow": {"id": "pausable", "params": {"n": {"value": 1, "type": "LONG"}}, "steps": [
	  {"step": {"id": "nap", "type": "Sleep", "params": {"sleep_seconds": {"value": "${n}", "type": "LONG"}}, "transition": {"successors": {"after": "true"}}}},
	  {"step": {"id": "after", "type": "NoOp"}}]}}`)
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/pausable/instances", tok, nil).JSON(t, &in)
	if resp := srv.Do("POST", "/api/v1/workflows/pausable/instances/1/pause", tok, nil); resp.Status != 200 {
		t.Fatalf("pause: %d %s", resp.Status, resp.Body)
	}
	step := func(id string) workflow.StepInstance {
		var x workflow.Instance
		srv.Do("GET", "/api/v1/workflows/pausable/instances/1", tok, nil).JSON(t, &x)
		for _, s := range x.Steps {
			if s.ID == id {
				return s
			}
		}
		return workflow.StepInstance{}
	}
	platformtest.Eventually(t, "the sleep to finish while paused", func() bool { return step("nap").Status == workflow.StepSucceeded })
	if s := step("after"); s.Attempts != 0 {
		t.Fatalf("a step started while paused: %+v", s)
	}
	if resp := srv.Do("POST", "/api/v1/workflows/pausable/instances/1/pause", tok, nil); resp.Status != 409 {
		t.Errorf("pause of a paused instance: %d", resp.Status)
	}
	if resp := srv.Do("POST", "/api/v1/workflows/pausable/instances/1/resume", tok, nil); resp.Status != 200 {
		t.Fatalf("resume: %d %s", resp.Status, resp.Body)
	}
	if in = waitEnd(t, srv, tok, "pausable", 1); in.Status != workflow.InstanceSucceeded {
		t.Errorf("after resume: %s %s", in.Status, in.Error)
	}
}
