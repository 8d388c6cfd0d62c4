package workflow_test

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

const child = `{"properties": {"owner": "tester"}, "workflow": {"id": "child",
  "params": {"who": {"value": "nobody", "type": "STRING"}, "n": {"value": 1, "type": "LONG"}},
  "steps": [{"step": {"id": "hello", "type": "NoOp", "params": {"greeting": {"value": "hi ${who}", "type": "STRING"}}}}]}}`

const parent = `{"properties": {"owner": "tester", "run_strategy": "parallel"}, "workflow": {"id": "parent",
  "params": {"who": {"value": "ada", "type": "STRING"}},
  "steps": [
    {"step": {"id": "a", "type": "NoOp", "transition": {"successors": {"b": "true", "skip": "false"}}}},
    {"step": {"id": "skip", "type": "NoOp", "transition": {"successors": {"after-skip": "true"}}}},
    {"step": {"id": "after-skip", "type": "NoOp"}},
    {"step": {"id": "b", "type": "Sleep", "params": {"sleep_seconds": {"value": 0, "type": "LONG"}},
      "transition": {"successors": {"loop": "true", "sub": "true"}}}},
    {"foreach": {"id": "loop", "concurrency": 2,
      "params": {"loop_params": {"value": {"i": {"value": [1, 2, 3], "type": "LONG_ARRAY"}, "s": {"value": ["x", "y"], "type": "STRING_ARRAY"}}, "type": "MAP"}},
      "steps": [{"step": {"id": "body", "type": "NoOp", "transition": {"successors": {"body2": "true"}}}}, {"step": {"id": "body2", "type": "NoOp"}}]}},
    {"subworkflow": {"id": "sub", "params": {"subworkflow_id": {"value": "child", "type": "STRING"}}}}
  ]}}`

func apply(t *testing.T, srv *platformtest.Server, tok, src string) workflow.Applied {
	t.Helper()
	resp := srv.DoWith("POST", "/api/v1/workflows?file=x.json", tok, "application/json", src)
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		t.Fatalf("apply: %d %s", resp.Status, resp.Body)
	}
	var a workflow.Applied
	resp.JSON(t, &a)
	return a
}

func waitEnd(t *testing.T, srv *platformtest.Server, tok, wf string, no int64) workflow.Instance {
	t.Helper()
	var in workflow.Instance
	platformtest.Eventually(t, fmt.Sprintf("%s instance %d to end", wf, no), func() bool {
		resp := srv.Do("GET", fmt.Sprintf("/api/v1/workflows/%s/instances/%d", wf, no), tok, nil)
		if resp.Status == http.StatusNotFound {
			return false // not started yet
		}
		in = workflow.Instance{}
		resp.JSON(t, &in)
		switch in.Status {
		case workflow.InstanceSucceeded, workflow.InstanceFailed, workflow.InstanceStopped, workflow.InstanceTimedOut:
			return true
		}
		return false
	})
	return in
}

// TestRunsADag: NoOp, Sleep, a false edge (UNSATISFIED, passed on), a
// foreach of 3 × 2 iterations two at a time, and a subworkflow, to
// SUCCEEDED, with the step instances Maestro would create.
func TestRunsADag(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, backend platformtest.Backend) { runsADag(t, backend) })
}

func runsADag(t *testing.T, backend platformtest.Backend) {
	srv := platformtest.Start(t, platformtest.Options{Backend: backend})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	apply(t, srv, tok, child)
	if a := apply(t, srv, tok, parent); a.ID != "parent" || a.Version != 1 {
		t.Fatalf("applied %+v", a)
	}
	var in workflow.Instance
	resp := srv.Do("POST", "/api/v1/workflows/parent/instances", tok, map[string]any{})
	if resp.Status != http.StatusCreated {
		t.Fatalf("start: %d %s", resp.Status, resp.Body)
	}
	resp.JSON(t, &in)
	in = waitEnd(t, srv, tok, "parent", in.InstanceID)
	if in.Status != workflow.InstanceSucceeded {
		t.Fatalf("instance %s: %s %+v", in.Status, in.Error, in.Steps)
	}
	got := map[string]string{}
	for _, s := range in.Steps {
		got[s.ID] = s.Status
	}
	want := map[string]string{"a": "SUCCEEDED", "skip": "UNSATISFIED", "after-skip": "UNSATISFIED", "b": "SUCCEEDED",
		"loop": "SUCCEEDED", "sub": "SUCCEEDED"}
	for i := 1; i <= 6; i++ {
		want[fmt.Sprintf("loop/%d/body", i)] = "SUCCEEDED"
		want[fmt.Sprintf("loop/%d/body2", i)] = "SUCCEEDED"
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("steps:\n got %v\nwant %v", got, want)
	}
	for _, s := range in.Steps {
		if s.ID == "loop" && (s.Iterations == nil || s.Iterations.Total != 6 || s.Iterations.Succeeded != 6) {
			t.Errorf("loop iterations %+v", s.Iterations)
		}
	}
	var kids []workflow.Instance
	srv.Do("GET", "/api/v1/workflows/child/instances", tok, nil).JSON(t, &kids)
	if len(kids) != 1 || kids[0].Status != workflow.InstanceSucceeded {
		t.Fatalf("child instances %+v", kids)
	}
	ch := waitEnd(t, srv, tok, "child", kids[0].InstanceID)
	if g := ch.Steps[0].Params["greeting"]; g != "hi ada" {
		t.Errorf("the subworkflow's param: %v (want the parent's who passed down)", g)
	}
}

// TestLoopParams: every combination of the loop params, the first
// varying fastest, with loop_index.
func TestLoopParams(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	apply(t, srv, tok, parent)
	apply(t, srv, tok, child)
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/parent/instances", tok, nil).JSON(t, &in)
	in = waitEnd(t, srv, tok, "parent", in.InstanceID)
	var seen []string
	srv2 := map[string]bool{}
	for _, s := range in.Steps {
		if strings.HasSuffix(s.ID, "/body") {
			seen = append(seen, s.ID)
			srv2[s.ID] = true
		}
	}
	sort.Strings(seen)
	if len(seen) != 6 {
		t.Fatalf("iterations %v", seen)
	}
}

// TestBadApply: a definition with problems is refused whole, naming
// them, and nothing is stored.
func TestBadApply(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	bad := `{"workflow": {"id": "bad", "steps": [{"step": {"id": "a", "type": "NoOp", "transition": {"successors": {"zz": "true"}}}},
	  {"step": {"id": "a", "type": "NoOp"}}]}}`
	resp := srv.DoWith("POST", "/api/v1/workflows?file=bad.json", tok, "application/json", bad)
	if resp.Status != http.StatusUnprocessableEntity || !strings.Contains(string(resp.Body), `bad.json: workflow.steps[0](a).transition.successors: unknown successor \"zz\"`) ||
		!strings.Contains(string(resp.Body), "duplicate step id") {
		t.Fatalf("apply: %d %s", resp.Status, resp.Body)
	}
	if resp := srv.Do("GET", "/api/v1/workflows/bad", tok, nil); resp.Status != http.StatusNotFound {
		t.Fatalf("a refused workflow was stored: %d", resp.Status)
	}
	if resp := srv.Do("POST", "/api/v1/workflows/nosuch/instances", tok, nil); resp.Status != http.StatusNotFound {
		t.Fatalf("start of an unknown workflow: %d", resp.Status)
	}
}

// TestVersions: every apply that changes the definition is a version;
// an instance runs the active one; activate rolls back.
func TestVersions(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	v1 := apply(t, srv, tok, child)
	if again := apply(t, srv, tok, child); !again.Unchanged || again.Version != 1 {
		t.Fatalf("re-apply: %+v", again)
	}
	v2 := apply(t, srv, tok, strings.Replace(child, `"hello"`, `"hello2"`, 1))
	if v1.Version != 1 || v2.Version != 2 {
		t.Fatalf("versions %d %d", v1.Version, v2.Version)
	}
	if resp := srv.Do("POST", "/api/v1/workflows/child/versions/1/activate", tok, nil); resp.Status != 200 {
		t.Fatalf("activate: %d %s", resp.Status, resp.Body)
	}
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/child/instances", tok, nil).JSON(t, &in)
	in = waitEnd(t, srv, tok, "child", in.InstanceID)
	if in.Version != 1 || in.Steps[0].ID != "hello" {
		t.Errorf("instance ran version %d, steps %+v", in.Version, in.Steps)
	}
	if resp := srv.Do("POST", "/api/v1/workflows/child/instances", tok, map[string]any{"params": map[string]any{"n": "ten"}}); resp.Status != http.StatusBadRequest ||
		!strings.Contains(string(resp.Body), `param n: want LONG, got the string \"ten\"`) {
		t.Errorf("a string for a LONG param: %d %s", resp.Status, resp.Body)
	}
}

// TestExampleWorkflow runs examples/workflows/daily-etl.json: a
// "${regions}" array param feeding a foreach, string interpolation of
// loop params.
func TestExampleWorkflow(t *testing.T) {
	src, err := os.ReadFile("../../examples/workflows/daily-etl.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	apply(t, srv, tok, string(src))
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/daily-etl/instances", tok, map[string]any{"params": map[string]any{"pause": "0"}}).JSON(t, &in)
	in = waitEnd(t, srv, tok, "daily-etl", in.InstanceID)
	if in.Status != workflow.InstanceSucceeded {
		t.Fatalf("%s %s %+v", in.Status, in.Error, in.Steps)
	}
	targets := map[string]bool{}
	for _, s := range in.Steps {
		if strings.HasSuffix(s.ID, "/load-region") {
			targets[fmt.Sprint(s.Params["target"])] = true
		}
	}
	if len(targets) != 3 || !targets["warehouse.eu-west-1"] {
		t.Errorf("targets %v", targets)
	}
}

// TestWhile: a while runs its body while its condition holds, its loop
// params taking the values of the body's params of the same names.
func TestWhile(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	apply(t, srv, tok, `{"workflow": {"id": "loop", "steps": [
	  {"while": {"id": "w", "condition": "i <= 20200105",
	    "params": {"loop_params": {"value": {"i": {"value": 20200101, "type": "LONG"}}, "type": "MAP"}},
	    "steps": [{"step": {"id": "next", "type": "NoOp", "params": {"i": {"expression": "i + 1", "type": "LONG"}}}}]}}]}}`)
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/loop/instances", tok, nil).JSON(t, &in)
	in = waitEnd(t, srv, tok, "loop", in.InstanceID)
	if in.Status != workflow.InstanceSucceeded {
		t.Fatalf("%s %s %+v", in.Status, in.Error, in.Steps)
	}
	var w workflow.StepInstance
	iterations := 0
	for _, s := range in.Steps {
		if s.ID == "w" {
			w = s
		} else if strings.HasSuffix(s.ID, "/next") {
			iterations++
		}
	}
	if iterations != 5 || w.Output["iterations"] != float64(5) {
		t.Errorf("%d iterations, output %v; want 5 (i from 20200101 to 20200105)", iterations, w.Output)
	}
	if lp, _ := w.Output["loop_params"].(map[string]any); lp["i"] != float64(20200106) {
		t.Errorf("loop params at the end %v, want i 20200106", w.Output["loop_params"])
	}
}
