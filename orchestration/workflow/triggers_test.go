package workflow_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

const cronWF = `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "every5",
  "time_triggers": [{"type": "CRON", "cron": "*/5 * * * *", "timezone": "Asia/Tokyo"}],
  "steps": [{"step": {"id": "a", "type": "NoOp"}}]}}`

// TestTimeTrigger: a cron trigger starts an instance when its time comes
// on the service clock, with TARGET_RUN_DATE and TARGET_RUN_HOUR in the
// trigger's zone; times missed while nothing ran fire once, not once
// each.
func TestTimeTrigger(t *testing.T) {
	clock := clocktest.NewManual(time.Date(2026, 12, 7, 15, 3, 0, 0, time.UTC)) // 00:03 on the 8th in Tokyo
	srv := platformtest.Start(t, platformtest.Options{Now: clock.Now})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	apply(t, srv, tok, cronWF)
	instances := func() []workflow.Instance {
		var list []workflow.Instance
		srv.Do("GET", "/api/v1/workflows/every5/instances", tok, nil).JSON(t, &list)
		return list
	}
	if n := len(instances()); n != 0 {
		t.Fatalf("%d instances before the trigger's time", n)
	}
	clock.Advance(2 * time.Minute) // 15:05 UTC
	platformtest.Eventually(t, "the 00:05 instance", func() bool { return len(instances()) == 1 })
	in := waitEnd(t, srv, tok, "every5", 1)
	if in.Params["TARGET_RUN_DATE"] != float64(20261208) || in.Params["TARGET_RUN_HOUR"] != float64(0) {
		t.Errorf("params %v, want TARGET_RUN_DATE 20261208 and hour 0 (Tokyo)", in.Params)
	}
	var wf workflow.Workflow
	srv.Do("GET", "/api/v1/workflows/every5", tok, nil).JSON(t, &wf)
	if want := time.Date(2026, 12, 7, 15, 10, 0, 0, time.UTC); len(wf.NextRuns) != 1 || !wf.NextRuns[0].Equal(want) {
		t.Errorf("next runs %v, want %s", wf.NextRuns, want)
	}
	clock.Advance(22 * time.Minute) // 15:27: four firings missed, one instance
	platformtest.Eventually(t, "the catch-up instance", func() bool { return len(instances()) == 2 })
	srv.Do("GET", "/api/v1/workflows/every5", tok, nil).JSON(t, &wf)
	if want := time.Date(2026, 12, 7, 15, 30, 0, 0, time.UTC); len(wf.NextRuns) != 1 || !wf.NextRuns[0].Equal(want) {
		t.Errorf("after the catch-up, next runs %v, want %s (the missed times fire once)", wf.NextRuns, want)
	}
	if n := len(instances()); n != 2 {
		t.Errorf("%d instances, want 2", n)
	}
}

// TestBackfill: one instance per firing of the time trigger in [from,
// to), with its run date, run one after the other (sequential).
func TestBackfill(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	apply(t, srv, tok, `{"workflow": {"id": "nightly", "time_triggers": [{"type": "CRON", "cron": "0 30 2 * * ? *", "timezone": "UTC"}],
	  "steps": [{"step": {"id": "a", "type": "NoOp"}}]}}`)
	var b workflow.Backfill
	resp := srv.Do("POST", "/api/v1/workflows/nightly/backfills", tok, map[string]any{"from": "2026-12-01T00:00:00Z", "to": "2026-12-04T00:00:00Z"})
	if resp.Status != 201 {
		t.Fatalf("backfill: %d %s", resp.Status, resp.Body)
	}
	resp.JSON(t, &b)
	if b.Total != 3 {
		t.Fatalf("backfill %+v, want 3 instances", b)
	}
	platformtest.Eventually(t, "the backfill to end", func() bool {
		var now workflow.Backfill
		srv.Do("GET", "/api/v1/workflows/nightly/backfills/"+b.ID, tok, nil).JSON(t, &now)
		b = now
		return b.Done == 3
	})
	if b.Statuses[workflow.InstanceSucceeded] != 3 || len(b.Statuses) != 1 {
		t.Fatalf("statuses %v", b.Statuses)
	}
	for no, want := range map[int64]float64{1: 20261201, 2: 20261202, 3: 20261203} {
		in := waitEnd(t, srv, tok, "nightly", no)
		if in.Params["TARGET_RUN_DATE"] != want || in.Params["TARGET_RUN_HOUR"] != float64(2) {
			t.Errorf("instance %d params %v, want TARGET_RUN_DATE %v", no, in.Params, want)
		}
	}
	for _, bad := range []map[string]any{{"from": "2026-12-04T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
		{"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}} {
		if resp := srv.Do("POST", "/api/v1/workflows/nightly/backfills", tok, bad); resp.Status != 400 {
			t.Errorf("backfill %v: %d %s", bad, resp.Status, resp.Body)
		}
	}
}

// TestTimeTriggerFailureSkips: a firing whose instance cannot start (its
// param throws) is skipped and the trigger moves on; the other
// workflows due at the same time start.
func TestTimeTriggerFailureSkips(t *testing.T) {
	clock := clocktest.NewManual(time.Date(2026, 12, 7, 15, 3, 0, 0, time.UTC))
	srv := platformtest.Start(t, platformtest.Options{Now: clock.Now})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	apply(t, srv, tok, strings.Replace(cronWF, `"every5"`, `"good"`, 1))
	apply(t, srv, tok, strings.Replace(strings.Replace(cronWF, `"every5"`, `"bad"`, 1), `"steps"`,
		`"params": {"p": {"expression": "throw \"no data yet\";", "type": "STRING"}}, "steps"`, 1))
	clock.Advance(2 * time.Minute)
	waitEnd(t, srv, tok, "good", 1)
	var wf workflow.Workflow
	platformtest.Eventually(t, "the bad trigger to move on", func() bool {
		wf = workflow.Workflow{}
		srv.Do("GET", "/api/v1/workflows/bad", tok, nil).JSON(t, &wf)
		return len(wf.NextRuns) == 1 && wf.NextRuns[0].Equal(time.Date(2026, 12, 7, 15, 10, 0, 0, time.UTC))
	})
	var list []workflow.Instance
	srv.Do("GET", "/api/v1/workflows/bad/instances", tok, nil).JSON(t, &list)
	if len(list) != 0 {
		t.Errorf("the failing firing left instances %+v", list)
	}
}

// TestTimeTriggersTogether: workflows due at the same instant start in
// one batch with each run strategy applied — sequential queues behind a
// running instance, first_only is stopped, last_only stops the running
// one — a workflow with two triggers due starts twice, and a firing that
// cannot start leaves no gap in its workflow's instance numbers.
func TestTimeTriggersTogether(t *testing.T) {
	clock := clocktest.NewManual(time.Date(2026, 12, 7, 15, 3, 0, 0, time.UTC))
	srv := platformtest.Start(t, platformtest.Options{Now: clock.Now})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	def := func(id, rule, triggers, params string) string {
		return `{"properties": {"run_strategy": "` + rule + `"}, "workflow": {"id": "` + id + `", "time_triggers": [` + triggers + `],` + params + `
		  "steps": [{"step": {"id": "s", "type": "Sleep", "params": {"sleep_seconds": {"value": "${wait}", "type": "LONG"}}}}],
		  "params": {"wait": {"value": 3600, "type": "LONG"}}}}`
	}
	every5 := `{"type": "CRON", "cron": "*/5 * * * *"}`
	for _, id := range []string{"sequential", "first_only", "last_only"} {
		apply(t, srv, tok, def(id, id, every5, ""))
		var in workflow.Instance
		srv.Do("POST", "/api/v1/workflows/"+id+"/instances", tok, nil).JSON(t, &in) // runs for an hour
	}
	apply(t, srv, tok, strings.Replace(def("twice", "parallel", every5+`, {"type": "CRON", "cron": "*/5 * * * *", "timezone": "Asia/Tokyo"}`, ""),
		`"value": 3600`, `"value": 0`, 1))
	apply(t, srv, tok, strings.Replace(def("bad", "parallel", every5, ""), `"params": {"wait"`,
		`"params": {"p": {"expression": "throw \"no data yet\";", "type": "STRING"}, "wait"`, 1))
	clock.Advance(2 * time.Minute)
	status := func(id string, no int64) string {
		var in workflow.Instance
		if r := srv.Do("GET", "/api/v1/workflows/"+id+"/instances/"+strconv.FormatInt(no, 10), tok, nil); r.Status == 200 {
			r.JSON(t, &in)
		}
		return in.Status
	}
	platformtest.Eventually(t, "the due instances", func() bool {
		return status("sequential", 2) == workflow.InstanceCreated && status("first_only", 2) == workflow.InstanceStopped &&
			status("last_only", 2) == workflow.InstanceInProgress && status("last_only", 1) == workflow.InstanceStopped &&
			status("twice", 1) == workflow.InstanceSucceeded && status("twice", 2) == workflow.InstanceSucceeded
	})
	if s := status("sequential", 1); s != workflow.InstanceInProgress {
		t.Errorf("sequential 1: %s, want IN_PROGRESS", s)
	}
	// "bad" skipped its firing: its first instance is number 1.
	apply(t, srv, tok, def("bad", "parallel", every5, ""))
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/bad/instances", tok, nil).JSON(t, &in)
	if in.InstanceID != 1 {
		t.Errorf("bad's first instance is number %d, want 1", in.InstanceID)
	}
}
