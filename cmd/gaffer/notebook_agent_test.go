package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

// TestHostNotebookOnAgent: a host-side notebook — a workflow's agent
// step runs examples/actions/notebook on a real `gaffer agent`, which
// runs the notebook kept with the action on its host with its own
// gaffer binary — and the notebook's scraps come back as the step's
// output, which the next step reads.
func TestHostNotebookOnAgent(t *testing.T) {
	spec, err := jupyter.FindKernelSpec("python3", jupyter.KernelDirs())
	if err != nil {
		t.Skipf("no python3 kernel spec (install python3-ipykernel): %v", err)
	}
	if err := exec.Command(spec.Argv[0], "-c", "import ipykernel").Run(); err != nil {
		t.Skipf("python3-ipykernel is not importable: %v", err)
	}
	s := startRemediation(t)
	actions := t.TempDir()
	if err := os.CopyFS(filepath.Join(actions, "notebook"), os.DirFS("../../examples/actions/notebook")); err != nil {
		t.Fatal(err)
	}
	agentWithToken(t, s, actions)()
	def := `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "host-report", "steps": [
	  {"step": {"id": "report", "type": "agent", "params": {
	    "action": {"value": "notebook", "type": "STRING"},
	    "agent": {"value": "h1", "type": "STRING"},
	    "params": {"type": "MAP", "value": {
	      "notebook": {"value": "host-report", "type": "STRING"},
	      "parameters": {"type": "STRING_MAP", "value": {"path": "/"}}}}},
	    "transition": {"successors": {"check": "true"}}}},
	  {"step": {"id": "check", "type": "NoOp", "params": {
	    "used": {"expression": "params.getFromStep('report', 'items')[0]['output']['used_percent']", "type": "DOUBLE"}}}}]}}`
	call(t, "POST", s.url("/api/v1/workflows?file=host-report.json"), s.admin, def, nil)
	var in workflow.Instance
	call(t, "POST", s.url("/api/v1/workflows/host-report/instances"), s.admin, map[string]any{}, &in)
	platformtest.WaitFor(2*time.Minute, func() bool {
		call(t, "GET", s.url(fmt.Sprintf("/api/v1/workflows/host-report/instances/%d", in.InstanceID)), s.admin, nil, &in)
		return in.FinishedAt != nil
	})
	if in.Status != workflow.InstanceSucceeded {
		t.Fatalf("instance %s %s %+v", in.Status, in.Error, in.Steps)
	}
	for _, st := range in.Steps {
		if st.ID != "report" {
			continue
		}
		items, _ := st.Output["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("report items %v", st.Output)
		}
		out, _ := items[0].(map[string]any)["output"].(map[string]any)
		if out["path"] != "/" || out["used_percent"] == nil {
			t.Errorf("the notebook's scraps %v", out)
		}
	}
}
