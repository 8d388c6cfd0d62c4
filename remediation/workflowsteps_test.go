package remediation_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
	"github.com/gaffer-sre/gaffer/remediation"
)

// applyWorkflow stores a workflow definition, failing the test on error.
func (s *server) applyWorkflow(src string) {
	s.t.Helper()
	resp := s.DoWith("POST", "/api/v1/workflows?file=wf.json", s.token, "application/json", src)
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		s.t.Fatalf("apply workflow: %d %s", resp.Status, resp.Body)
	}
}

// startWorkflow starts an instance and returns it once it has ended, or
// as soon as done says so.
func (s *server) startWorkflow(id string, done func(workflow.Instance) bool) workflow.Instance {
	s.t.Helper()
	var in workflow.Instance
	s.Do("POST", "/api/v1/workflows/"+id+"/instances", s.token, nil).JSON(s.t, &in)
	platformtest.Eventually(s.t, "workflow "+id, func() bool {
		s.Do("GET", fmt.Sprintf("/api/v1/workflows/%s/instances/%d", id, in.InstanceID), s.token, nil).JSON(s.t, &in)
		switch in.Status {
		case workflow.InstanceSucceeded, workflow.InstanceFailed, workflow.InstanceStopped:
			return true
		}
		return done != nil && done(in)
	})
	return in
}

// TestWorkflowRunbookStep: a workflow step of type runbook runs the
// runbook with the step's params, its variables feed the next step, a
// failed run fails the step, a runbook that does not exist fails it at
// once, and stopping the workflow cancels the run.
func TestWorkflowRunbookStep(t *testing.T) {
	s := start(t)
	s.apply(`name: greet
params:
  type: object
  properties: {who: {type: string}}
  required: [who]
steps:
  - name: hello
    type: noop
    output: "${{ 'hello ' + params.who }}"
    publish: {greeting: "${{ result }}"}
`)
	s.apply("name: refuse\nsteps:\n  - {name: n, type: noop, next: [{goto: fail}]}\n")
	s.apply("name: hold\nsteps:\n  - {name: ask, type: approval, question: Go on}\n")
	step := func(id, runbook, extra string) string {
		return fmt.Sprintf(`{"properties": {"run_strategy": "parallel"}, "workflow": {"id": %q, "steps": [
		  {"step": {"id": "rb", "type": "runbook", "retry_policy": {"error_retry_limit": 0}, "params": {
		    "runbook": {"value": %q, "type": "STRING"},
		    "params": {"value": {"who": "${WORKFLOW_ID}"}, "type": "STRING_MAP"}}%s}}]}}`, id, runbook, extra)
	}
	s.applyWorkflow(step("hi", "greet", `, "transition": {"successors": {"after": "true"}}}},
	  {"step": {"id": "after", "type": "NoOp", "params": {"got": {"expression": "params.getFromStep('rb', 'vars')['greeting']", "type": "STRING"}}`))
	in := s.startWorkflow("hi", nil)
	if in.Status != workflow.InstanceSucceeded {
		t.Fatalf("hi: %s %s %+v", in.Status, in.Error, in.Steps)
	}
	for _, st := range in.Steps {
		switch st.ID {
		case "rb":
			if st.Output["status"] != remediation.ExecSucceeded || st.Ref == "" {
				t.Errorf("rb: output %v ref %q", st.Output, st.Ref)
			}
		case "after":
			if st.Params["got"] != "hello hi" {
				t.Errorf("after: params %v, want got=hello hi", st.Params)
			}
		}
	}

	for id, rb := range map[string]string{"no": "refuse", "none": "no-such-runbook"} {
		s.applyWorkflow(step(id, rb, ""))
		in := s.startWorkflow(id, nil)
		if in.Status != workflow.InstanceFailed || in.Steps[0].Status != workflow.StepUserFailed || in.Steps[0].Error == "" {
			t.Errorf("%s: %s, step %s (%s), want FAILED with USER_FAILED and a reason", id, in.Status, in.Steps[0].Status, in.Steps[0].Error)
		}
	}

	s.applyWorkflow(step("held", "hold", ""))
	in = s.startWorkflow("held", func(in workflow.Instance) bool {
		return len(in.Steps) == 1 && in.Steps[0].Status == workflow.StepRunning
	})
	var exID string
	platformtest.Eventually(t, "the runbook's execution", func() bool {
		var list httpapi.Page[remediation.Execution]
		s.Do("GET", "/api/v1/remediation/executions?runbook=hold", s.token, nil).JSON(t, &list)
		if len(list.Items) == 1 && list.Items[0].Status == remediation.ExecRunning {
			exID = list.Items[0].ID
		}
		return exID != ""
	})
	if r := s.Do("POST", fmt.Sprintf("/api/v1/workflows/held/instances/%d/stop", in.InstanceID), s.token, nil); r.Status != http.StatusOK {
		t.Fatalf("stop: %d %s", r.Status, r.Body)
	}
	platformtest.Eventually(t, "the execution cancelled", func() bool {
		var ex remediation.Execution
		s.Do("GET", "/api/v1/remediation/executions/"+exID, s.token, nil).JSON(t, &ex)
		return ex.Status == remediation.ExecCancelled
	})
}

// TestWorkflowAgentStep: a workflow step of type agent runs a declared
// action on the agents its tags select, and its items reach the next
// step; an action's bad name fails the step with the param's name.
func TestWorkflowAgentStep(t *testing.T) {
	s := start(t)
	dir := actionsDir(t)
	s.startAgent("web-1", map[string]string{"role": "web"}, dir)
	s.startAgent("web-2", map[string]string{"role": "web"}, dir)
	s.startAgent("db-1", map[string]string{"role": "db"}, dir)
	s.applyWorkflow(`{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "du", "steps": [
	  {"step": {"id": "usage", "type": "agent", "params": {
	    "action": {"value": "disk-usage", "type": "STRING"},
	    "tags": {"value": {"role": "web"}, "type": "STRING_MAP"},
	    "params": {"value": {"path": "/"}, "type": "STRING_MAP"}},
	    "transition": {"successors": {"count": "true"}}}},
	  {"step": {"id": "count", "type": "NoOp", "params": {
	    "hosts": {"expression": "params.getFromStep('usage', 'items').length", "type": "LONG"}}}}]}}`)
	in := s.startWorkflow("du", nil)
	if in.Status != workflow.InstanceSucceeded {
		t.Fatalf("du: %s %s %+v", in.Status, in.Error, in.Steps)
	}
	for _, st := range in.Steps {
		if st.ID == "count" && st.Params["hosts"] != float64(2) {
			t.Errorf("count: params %v, want hosts=2 (the two web agents)", st.Params)
		}
		if st.ID == "usage" {
			items, _ := st.Output["items"].([]any)
			if len(items) != 2 || items[0].(map[string]any)["output"].(map[string]any)["path"] != "/" {
				t.Errorf("usage: items %v", st.Output["items"])
			}
		}
	}

	s.applyWorkflow(`{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "bad", "steps": [
	  {"step": {"id": "x", "type": "agent", "retry_policy": {"error_retry_limit": 0},
	    "params": {"action": {"value": "../etc", "type": "STRING"}, "agent": {"value": "web-1", "type": "STRING"}}}}]}}`)
	in = s.startWorkflow("bad", nil)
	if in.Status != workflow.InstanceFailed || !strings.Contains(in.Steps[0].Error, "param action") {
		t.Errorf("bad: %s, step error %q, want FAILED naming param action", in.Status, in.Steps[0].Error)
	}
}
