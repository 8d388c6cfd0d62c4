package workflow_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

// applyTemplate stores a step template and returns the answer's status.
func applyTemplate(t *testing.T, srv *platformtest.Server, src string) (int, string) {
	t.Helper()
	r := srv.DoWith("POST", "/api/v1/workflow-templates?file=t.yaml", srv.AdminToken, "application/yaml", src)
	return r.Status, string(r.Body)
}

// TestStepTemplates: a template step becomes its template's step with
// the step's params over the template's; a workflow keeps the template
// version it was applied with until it is applied again; an unknown
// template or a template without a type is refused naming the field.
func TestStepTemplates(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	greet := `id: greet
description: say something through the echo runner
step:
  type: echo
  retry_policy: {error_retry_limit: 0}
  params:
    say: {value: hello, type: STRING}
`
	if code, body := applyTemplate(t, srv, greet); code != http.StatusCreated {
		t.Fatalf("apply template: %d %s", code, body)
	}
	if code, _ := applyTemplate(t, srv, greet); code != http.StatusOK {
		t.Errorf("the same template again: %d, want 200 (unchanged)", code)
	}
	apply(t, srv, tok, `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "t", "steps": [
	  {"template": {"id": "a", "sub_type": "greet", "params": {"say": {"value": "hi", "type": "STRING"}},
	    "transition": {"successors": {"b": "true"}}}},
	  {"template": {"id": "b", "sub_type": "greet"}}]}}`)
	said := func() map[string]any {
		var in workflow.Instance
		srv.Do("POST", "/api/v1/workflows/t/instances", tok, nil).JSON(t, &in)
		in = waitEnd(t, srv, tok, "t", in.InstanceID)
		if in.Status != workflow.InstanceSucceeded {
			t.Fatalf("t: %s %s %+v", in.Status, in.Error, in.Steps)
		}
		out := map[string]any{}
		for _, s := range in.Steps {
			out[s.ID] = s.Output["said"]
		}
		return out
	}
	if got := said(); got["a"] != "hi" || got["b"] != "hello" {
		t.Errorf("said %v, want a=hi (its own param) b=hello (the template's)", got)
	}
	if code, body := applyTemplate(t, srv, strings.Replace(greet, "value: hello", "value: bonjour", 1)); code != http.StatusCreated {
		t.Fatalf("template v2: %d %s", code, body)
	}
	if got := said(); got["b"] != "hello" {
		t.Errorf("after the template changed, b said %v: the workflow's version keeps the template it was applied with", got["b"])
	}
	var tm workflow.Template
	srv.Do("GET", "/api/v1/workflow-templates/greet", tok, nil).JSON(t, &tm)
	if tm.Version != 2 || tm.Type != "echo" {
		t.Errorf("template %+v, want version 2 of type echo", tm)
	}

	r := srv.DoWith("POST", "/api/v1/workflows?file=u.json", tok, "application/json",
		`{"workflow": {"id": "u", "steps": [{"template": {"id": "x", "sub_type": "nope"}}]}}`)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "workflow.steps[0](x).sub_type") ||
		!strings.Contains(string(r.Body), "nope") {
		t.Errorf("unknown template: %d %s", r.Status, r.Body)
	}
	if code, body := applyTemplate(t, srv, "id: typeless\nstep: {params: {}}\n"); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "step.type") {
		t.Errorf("template without a type: %d %s", code, body)
	}
}
