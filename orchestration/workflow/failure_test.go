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
