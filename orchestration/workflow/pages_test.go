package workflow_test

import (
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

// TestPages: the list, a workflow's graph (a foreach's body collapsible,
// a subworkflow linked), an instance's live view with its timeline, and
// a backfill's progress.
func TestPages(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	apply(t, srv, tok, child)
	apply(t, srv, tok, parent)
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/parent/instances", tok, nil).JSON(t, &in)
	waitEnd(t, srv, tok, "parent", in.InstanceID)
	var b workflow.Backfill
	srv.Do("POST", "/api/v1/workflows/child/backfills", tok, map[string]any{"from": "2026-12-01T00:00:00Z", "to": "2026-12-03T00:00:00Z"}).JSON(t, &b)
	for path, wants := range map[string][]string{
		"/workflows":                         {`href="/workflows/parent"`, "child"},
		"/workflows/parent":                  {`class="dag"`, "Steps of <span class=\"mono\">loop</span>", `href="/workflows/child"`, "#1", "Start an instance"},
		"/workflows/parent/instances/1":      {`id="gantt"`, "SUCCEEDED", "loop/6/body2", "UNSATISFIED", `class="badge succeeded"`},
		"/workflows/child/backfills/" + b.ID: {"<progress", "of 2 instances ended"},
	} {
		resp := srv.Do("GET", path, tok, nil)
		if resp.Status != 200 {
			t.Errorf("%s: %d", path, resp.Status)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(string(resp.Body), w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
	}
	if resp := srv.Do("GET", "/workflows/nosuch", tok, nil); resp.Status != 404 {
		t.Errorf("an unknown workflow's page: %d", resp.Status)
	}
}

// TestDemo: the demo's workflow applies, its backfill of three days runs
// to SUCCEEDED, and loading the demo again changes nothing.
func TestDemo(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	s := service(t, srv)
	for range 2 {
		if err := s.LoadDemo(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	var list []workflow.Instance
	srv.Do("GET", "/api/v1/workflows/nightly-report/instances", srv.AdminToken, nil).JSON(t, &list)
	if len(list) != 3 {
		t.Fatalf("%d instances, want 3 (one backfill)", len(list))
	}
	for _, in := range list {
		if end := waitEnd(t, srv, srv.AdminToken, "nightly-report", in.InstanceID); end.Status != workflow.InstanceSucceeded {
			t.Errorf("instance %d: %s %s", in.InstanceID, end.Status, end.Error)
		}
	}
}
