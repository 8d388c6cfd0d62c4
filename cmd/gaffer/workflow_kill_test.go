package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

const chaosWorkflow = `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "chaos", "steps": [
  {"step": {"id": "prep", "type": "NoOp", "params": {"x": {"value": 1, "type": "LONG"}}, "transition": {"successors": {"nap": "true"}}}},
  {"step": {"id": "nap", "type": "Sleep", "params": {"sleep_seconds": {"value": 1, "type": "LONG"}}, "transition": {"successors": {"loop": "true"}}}},
  {"foreach": {"id": "loop", "concurrency": 3,
    "params": {"loop_params": {"value": {"i": {"value": [1, 2, 3, 4, 5, 6], "type": "LONG_ARRAY"}}, "type": "MAP"}},
    "steps": [{"step": {"id": "work", "type": "Sleep", "params": {"sleep_seconds": {"value": 1, "type": "LONG"}}}}],
    "transition": {"successors": {"sub": "true"}}}},
  {"subworkflow": {"id": "sub", "params": {"subworkflow_id": {"value": "chaos-child", "type": "STRING"}}}}]}}`

const chaosChild = `{"workflow": {"id": "chaos-child", "steps": [
  {"step": {"id": "c1", "type": "NoOp", "params": {"y": {"value": "${WORKFLOW_ID}", "type": "STRING"}}, "transition": {"successors": {"c2": "true"}}}},
  {"step": {"id": "c2", "type": "Sleep", "params": {"sleep_seconds": {"value": 1, "type": "LONG"}}}}]}}`

// TestWorkflowSIGKILLAtRandomPoints kills `gaffer serve` or `gaffer
// worker` (which runs the wake-up jobs) with SIGKILL 20 times, each at a
// random point of a running instance (after a random number of its
// steps succeeded), and restarts it. Every instance must end SUCCEEDED
// with every step SUCCEEDED once: no step lost, none run twice.
func TestWorkflowSIGKILLAtRandomPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("kills gaffer processes 20 times: about a minute")
	}
	bin := platformtest.BuildGaffer(t)
	dir := t.TempDir()
	common := []string{"--job-poll-interval", "50ms", "--job-rescue-after", "3s", "--workflow-sleep-scale", "0.3"}
	serve := func() *platformtest.Process {
		return platformtest.StartServe(t, bin, dir, append([]string{"--job-workers", "0"}, common...)...)
	}
	worker := func() *platformtest.Process {
		p := platformtest.StartProcess(t, bin, append([]string{"worker", "--data-dir", dir, "--job-workers", "4"}, common...)...)
		platformtest.Eventually(t, "worker to be ready", func() bool { return strings.Contains(p.Log(), "worker is ready") })
		return p
	}
	srv, wrk := serve(), worker()
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(tok))
	for _, def := range []string{chaosChild, chaosWorkflow} {
		var a workflow.Applied
		if code := call(t, "POST", srv.URL+"/api/v1/workflows", admin, json.RawMessage(def), &a); code != 201 {
			t.Fatalf("apply: %d", code)
		}
	}
	rng := rand.New(rand.NewPCG(22, 20))
	succeeded := func(no int64) int {
		var in workflow.Instance
		call(t, "GET", fmt.Sprintf("%s/api/v1/workflows/chaos/instances/%d", srv.URL, no), admin, nil, &in)
		n := 0
		for _, s := range in.Steps {
			if s.Status == workflow.StepSucceeded {
				n++
			}
		}
		return n
	}
	var started []int64
	for i := range 20 {
		var in workflow.Instance
		if code := call(t, "POST", srv.URL+"/api/v1/workflows/chaos/instances", admin, map[string]any{}, &in); code != 201 {
			t.Fatalf("start: %d", code)
		}
		started = append(started, in.InstanceID)
		k := rng.IntN(9)
		platformtest.Eventually(t, fmt.Sprintf("instance %d to pass %d steps", in.InstanceID, k), func() bool { return succeeded(in.InstanceID) >= k })
		if rng.IntN(2) == 0 {
			t.Logf("kill %d: gaffer serve after %d steps of instance %d", i, k, in.InstanceID)
			srv.Cmd.Process.Signal(syscall.SIGKILL)
			srv.Cmd.Wait()
			srv = serve()
		} else {
			t.Logf("kill %d: gaffer worker after %d steps of instance %d", i, k, in.InstanceID)
			wrk.Cmd.Process.Signal(syscall.SIGKILL)
			wrk.Cmd.Wait()
			wrk = worker()
		}
	}
	for _, no := range started {
		var in workflow.Instance
		platformtest.Eventually(t, fmt.Sprintf("instance %d to end", no), func() bool {
			in = workflow.Instance{}
			call(t, "GET", fmt.Sprintf("%s/api/v1/workflows/chaos/instances/%d", srv.URL, no), admin, nil, &in)
			return in.Status == workflow.InstanceSucceeded || in.Status == workflow.InstanceFailed
		})
		if in.Status != workflow.InstanceSucceeded {
			t.Errorf("instance %d %s: %s", no, in.Status, in.Error)
		}
		if len(in.Steps) != 10 {
			t.Errorf("instance %d has %d step instances, want 10", no, len(in.Steps))
		}
		for _, s := range in.Steps {
			if s.Status != workflow.StepSucceeded || s.Attempts != 1 {
				t.Errorf("instance %d step %s: %s after %d attempts (%s)", no, s.ID, s.Status, s.Attempts, s.Error)
			}
		}
	}
	var kids []workflow.Instance
	call(t, "GET", srv.URL+"/api/v1/workflows/chaos-child/instances?limit=100", admin, nil, &kids)
	if len(kids) != 20 {
		t.Errorf("%d subworkflow instances, want 20 (one per instance)", len(kids))
	}
	for _, k := range kids {
		if k.Status != workflow.InstanceSucceeded {
			t.Errorf("subworkflow instance %d: %s", k.InstanceID, k.Status)
		}
	}
}
