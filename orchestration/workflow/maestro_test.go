package workflow_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// maestroSamples reads the sample workflows of Maestro's public
// repository from a local mirror (GAFFER_MAESTRO_REPO, or the library's
// beside the checkout), or skips.
func maestroSamples(t *testing.T) map[string][]byte {
	t.Helper()
	repo := os.Getenv("GAFFER_MAESTRO_REPO")
	if repo == "" {
		repo = "../../../.mirror/Netflix+maestro/repo"
	}
	if _, err := os.Stat(repo); err != nil {
		t.Skipf("no mirror of Maestro's repository at %s (set GAFFER_MAESTRO_REPO): its samples are not run", repo)
	}
	out, err := exec.Command("git", "-C", repo, "ls-tree", "-r", "--name-only", "HEAD", "maestro-server/src/test/resources/samples").Output()
	if err != nil {
		t.Skipf("read the mirror: %v", err)
	}
	samples := map[string][]byte{}
	for _, path := range strings.Fields(string(out)) {
		if ext := filepath.Ext(path); ext != ".json" && ext != ".yaml" {
			continue
		}
		src, err := exec.Command("git", "-C", repo, "show", "HEAD:"+path).Output()
		if err != nil {
			t.Fatal(err)
		}
		samples[filepath.Base(path)] = src
	}
	return samples
}

// runnable reports whether a definition has only NoOp, Sleep, foreach,
// while and subworkflow steps.
func runnable(steps []definition.Step) bool {
	for _, s := range steps {
		switch {
		case s.Kind == definition.KindForeach || s.Kind == definition.KindWhile:
			if !runnable(s.Steps) {
				return false
			}
		case s.Kind == definition.KindSubworkflow:
		case len(s.SignalDependencies) > 0:
			return false // not supported yet
		case s.Kind == definition.KindStep && (strings.EqualFold(s.Type, "NoOp") || strings.EqualFold(s.Type, "Sleep")):
		default:
			return false
		}
	}
	return true
}

// TestMaestroSamplesRun applies every sample workflow of Maestro's
// repository unchanged — expressions compiled — and runs those made of
// NoOp, Sleep, foreach, while and subworkflow steps to SUCCEEDED.
func TestMaestroSamplesRun(t *testing.T) {
	samples := maestroSamples(t)
	srv := platformtest.Start(t, platformtest.Options{Args: []string{"--workflow-sleep-scale", "0.01"}})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	names := make([]string, 0, len(samples))
	for n := range samples {
		names = append(names, n)
	}
	sort.Strings(names)
	defs := map[string]*definition.Definition{}
	for _, n := range names {
		resp := srv.DoWith("POST", "/api/v1/workflows?file="+n, tok, "application/json", samples[n])
		if resp.Status != 201 && resp.Status != 200 {
			t.Errorf("apply %s: %d %s", n, resp.Status, resp.Body)
			continue
		}
		d, _ := definition.Parse(n, samples[n])
		defs[n] = d
	}
	ran := 0
	for _, n := range names {
		d := defs[n]
		if d == nil || !runnable(d.Workflow.Steps) || strings.Contains(n, "large") {
			continue
		}
		var in workflow.Instance
		resp := srv.Do("POST", "/api/v1/workflows/"+d.Workflow.ID+"/instances", tok, nil)
		if resp.Status != 201 {
			t.Errorf("start %s: %d %s", n, resp.Status, resp.Body)
			continue
		}
		resp.JSON(t, &in)
		in = waitEnd(t, srv, tok, d.Workflow.ID, in.InstanceID)
		ran++
		if in.Status != workflow.InstanceSucceeded {
			var bad []string
			for _, s := range in.Steps {
				if s.Status != workflow.StepSucceeded {
					bad = append(bad, s.ID+" "+s.Status+" "+s.Error)
				}
			}
			t.Errorf("%s: %s (%s); steps not SUCCEEDED: %v", n, in.Status, in.Error, bad)
		}
	}
	t.Logf("%d samples applied, %d run", len(defs), ran)
}
