package failover_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gaffer-sre/gaffer/demand/failover"
	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

func putFleet(t *testing.T, srv *platformtest.Server, f *fleet.Fleet) {
	t.Helper()
	y, err := f.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if resp := srv.DoWith("PUT", "/api/v1/failover/fleets/"+f.Name, srv.AdminToken, "application/yaml", y); resp.Status >= 300 {
		t.Fatalf("PUT fleet: %d %s", resp.Status, resp.Body)
	}
}

func planOf(t *testing.T, srv *platformtest.Server, req failover.PlanRequest) *failover.PlanRecord {
	t.Helper()
	var rec failover.PlanRecord
	call(t, srv, "POST", "/api/v1/failover/plans", req, http.StatusCreated, &rec)
	return &rec
}

func execute(t *testing.T, srv *platformtest.Server, planID string) *failover.Execution {
	t.Helper()
	var ex failover.Execution
	call(t, srv, "POST", "/api/v1/failover/plans/"+planID+"/execute", nil, http.StatusCreated, &ex)
	return &ex
}

// events returns the failover events in the stream, oldest first.
func events(t *testing.T, srv *platformtest.Server) []*bus.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b := srv.Deps().Bus
	c, err := b.JS.OrderedConsumer(ctx, bus.StreamName, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"gaffer.failover.>"}})
	if err != nil {
		t.Fatal(err)
	}
	var out []*bus.Event
	for {
		batch, err := c.FetchNoWait(100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			ev, err := bus.ParseEvent(m.Data())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ev)
		}
		if n == 0 {
			return out
		}
	}
}

// TestExecuteOnWebhook runs a plan end to end on the webhook provider in
// wall time: every step acts, checks and hands over to the next, and
// each publishes its events.
func TestExecuteOnWebhook(t *testing.T) {
	srv, _ := start(t, platformtest.Options{EgressAllow: platformtest.AllowLoopback}) // the infrastructure's webhook is on 127.0.0.1
	f := testFleet(t)
	in := newInfra(t, f)
	putFleet(t, srv, webhookFleet(t, in.srv.URL))
	rec := planOf(t, srv, failover.PlanRequest{Fleet: "streaming", Request: plan.Request{Evacuate: "us-west-2"}})
	if rec.Status != plan.Feasible {
		t.Fatalf("plan: %v", rec.Err())
	}
	var diff failover.DiffResult
	call(t, srv, "GET", "/api/v1/failover/plans/"+rec.ID+"/diff", nil, 200, &diff)
	if len(diff.Lines) == 0 {
		t.Fatal("empty diff")
	}
	ex := execute(t, srv, rec.ID)
	if ex.Simulated || ex.Provider != "webhook" {
		t.Fatalf("execution %+v", ex)
	}
	ex = waitExecution(t, srv, ex.ID, "the end", statusIs(failover.ExecSucceeded, failover.ExecFailed, failover.ExecRolledBack))
	if ex.Status != failover.ExecSucceeded {
		t.Fatalf("execution: %s", describe(ex))
	}
	for _, s := range ex.Steps {
		if (s.Phase == failover.PhaseForward) != (s.Status == failover.StepSucceeded) {
			t.Errorf("step %d %s: %s", s.Seq, s.Kind, s.Status)
		}
	}
	ss, err := in.sim.SteeringStatus(context.Background(), provider.Call{At: time.Now(), Key: "check"})
	if err != nil || ss.Served["us-west-2"] != 0 || !ss.DNSPropagated {
		t.Fatalf("us-west-2 still served: %+v %v", ss, err)
	}
	if in.count("/scale") != 1 || in.count("/ungate") != 1 || in.count("/steer") != 5 {
		t.Errorf("calls: scale %d ungate %d steer %d", in.count("/scale"), in.count("/ungate"), in.count("/steer"))
	}
	types := map[string]int{}
	for _, ev := range events(t, srv) {
		types[ev.Type]++
		if ev.Source != "/failover" {
			t.Errorf("event %s from %s", ev.Type, ev.Source)
		}
	}
	if types["gaffer.failover.execution.started"] != 1 || types["gaffer.failover.evacuation.started"] != 1 ||
		types["gaffer.failover.step.started"] != len(rec.Steps) || types["gaffer.failover.step.finished"] != len(rec.Steps) ||
		types["gaffer.failover.execution.succeeded"] != 1 {
		t.Errorf("events %v", types)
	}
}

// TestInfeasiblePlanNeverRuns: the shortfall is in the plan, and execute
// is refused with it.
func TestInfeasiblePlanNeverRuns(t *testing.T) {
	srv, _ := start(t, platformtest.Options{})
	f := testFleet(t)
	for i := range f.Services[0].Clusters {
		f.Services[0].Clusters[i].Max = f.Services[0].Clusters[i].Size
	}
	putFleet(t, srv, f)
	rec := planOf(t, srv, failover.PlanRequest{Fleet: "streaming", Request: plan.Request{Evacuate: "us-east-1"}})
	if rec.Status != plan.Infeasible || len(rec.Shortfalls) == 0 || rec.Shortfalls[0].Service != "playback" {
		t.Fatalf("plan: %+v", rec.Shortfalls)
	}
	resp := srv.Do("POST", "/api/v1/failover/plans/"+rec.ID+"/execute", srv.AdminToken, nil)
	if resp.Status != 409 || resp.ErrorCode() != "infeasible" || !strings.Contains(string(resp.Body), "playback short by") {
		t.Fatalf("execute: %d %s", resp.Status, resp.Body)
	}
	var page struct{ Items []failover.Execution }
	call(t, srv, "GET", "/api/v1/failover/executions", nil, 200, &page)
	if len(page.Items) != 0 {
		t.Fatalf("an execution exists: %+v", page.Items)
	}
	for _, req := range []any{map[string]any{"fleet": "streaming", "evacuate": "mars"}, map[string]any{"fleet": "nope", "evacuate": "x"},
		map[string]any{"fleet": "streaming"}, map[string]any{"fleet": "streaming", "from": "us-east-1", "fraction": 2}} {
		resp := srv.Do("POST", "/api/v1/failover/plans", srv.AdminToken, req)
		if resp.Status != 400 && resp.Status != 404 {
			t.Errorf("%v: %d %s", req, resp.Status, resp.Body)
		}
	}
}

// TestPauseResumeAbortRollback drives an execution by hand while a
// webhook call is held.
func TestPauseResumeAbortRollback(t *testing.T) {
	srv, _ := start(t, platformtest.Options{EgressAllow: platformtest.AllowLoopback}) // the infrastructure's webhook is on 127.0.0.1
	f := testFleet(t)
	in := newInfra(t, f)
	putFleet(t, srv, webhookFleet(t, in.srv.URL))
	rec := planOf(t, srv, failover.PlanRequest{Fleet: "streaming", Request: plan.Request{Evacuate: "us-west-2"}})

	// Pause while the second shift's steering call is held: the step
	// stops at its next check, keeping what it did, until resumed; no
	// call is repeated.
	in.blockAt("/steer", 2)
	ex := execute(t, srv, rec.ID)
	held := <-in.held
	var paused failover.Execution
	call(t, srv, "POST", "/api/v1/failover/executions/"+ex.ID+"/pause", nil, 200, &paused)
	if paused.Status != failover.ExecPaused {
		t.Fatalf("pause: %+v", paused)
	}
	in.release()
	second := paused.Step
	waitExecution(t, srv, ex.ID, "the held step to stop", func(e *failover.Execution) bool { return e.Steps[second].Progress.Acted })
	waitStepsIdle(t, srv, ex.ID)
	call(t, srv, "GET", "/api/v1/failover/executions/"+ex.ID, nil, 200, &paused)
	if paused.Status != failover.ExecPaused || paused.Step != second || paused.Steps[second+1].Status != failover.StepPending || in.count("/steer") != 2 {
		t.Fatalf("after the held %s: %s", held, describe(&paused))
	}
	call(t, srv, "POST", "/api/v1/failover/executions/"+ex.ID+"/resume", nil, 200, nil)
	done := waitExecution(t, srv, ex.ID, "success", statusIs(failover.ExecSucceeded, failover.ExecFailed))
	if done.Status != failover.ExecSucceeded || in.count("/steer") != 5 {
		t.Fatalf("after resume (%d steering calls): %s", in.count("/steer"), describe(done))
	}
	resp := srv.Do("POST", "/api/v1/failover/executions/"+ex.ID+"/resume", srv.AdminToken, nil)
	if resp.Status != 409 {
		t.Errorf("resume of a finished execution: %d", resp.Status)
	}

	// Roll the finished evacuation back: traffic returns to us-west-2.
	call(t, srv, "POST", "/api/v1/failover/executions/"+ex.ID+"/rollback", nil, 200, nil)
	back := waitExecution(t, srv, ex.ID, "rolled back", statusIs(failover.ExecRolledBack, failover.ExecFailed))
	if back.Status != failover.ExecRolledBack {
		t.Fatalf("rollback: %s", describe(back))
	}
	ss, _ := in.sim.SteeringStatus(context.Background(), provider.Call{At: time.Now().Add(time.Second), Key: "check"})
	if ss.Served["us-west-2"] < 0.2 {
		t.Errorf("us-west-2 serves %.3f after the rollback", ss.Served["us-west-2"])
	}

	// Abort a second execution while a call is held: nothing runs after.
	in2 := newInfra(t, f)
	g := webhookFleet(t, in2.srv.URL)
	putFleet(t, srv, g)
	rec2 := planOf(t, srv, failover.PlanRequest{Fleet: "streaming", Request: plan.Request{From: "us-west-2", Fraction: 0.5}})
	in2.blockAt("/steer", 1)
	ex2 := execute(t, srv, rec2.ID)
	<-in2.held
	call(t, srv, "POST", "/api/v1/failover/executions/"+ex2.ID+"/abort", nil, 200, nil)
	in2.release()
	aborted := waitExecution(t, srv, ex2.ID, "aborted", statusIs(failover.ExecAborted))
	waitStepsIdle(t, srv, ex2.ID)
	if steers := in2.count("/steer"); steers != 1 {
		t.Errorf("steering went on after the abort: %d calls", in2.count("/steer"))
	}
	if aborted.WallEnd == nil {
		t.Errorf("aborted without an end: %+v", aborted)
	}
}

// TestFailedStepRollsBack: the infrastructure has no room for the
// launches, so the scale-out fails and the plan rolls back by itself.
func TestFailedStepRollsBack(t *testing.T) {
	srv, _ := start(t, platformtest.Options{})
	f := testFleet(t)
	f.Provider.Simulator = &fleet.Simulator{RegionInstanceLimit: 295}
	putFleet(t, srv, f)
	rec := planOf(t, srv, failover.PlanRequest{Fleet: "streaming", Request: plan.Request{Evacuate: "us-west-2"}})
	ex := execute(t, srv, rec.ID)
	ex = waitExecution(t, srv, ex.ID, "the end", statusIs(failover.ExecRolledBack, failover.ExecFailed, failover.ExecSucceeded))
	if ex.Status != failover.ExecRolledBack || !strings.Contains(ex.Error, "insufficient capacity") {
		t.Fatalf("%s", describe(ex))
	}
	var failed, restored int
	for _, s := range ex.Steps {
		if s.Status == failover.StepFailed {
			failed++
		}
		if s.Phase == failover.PhaseRollback && s.Status == failover.StepSucceeded {
			restored++
		}
	}
	if failed != 1 || restored != len(rec.Rollback) {
		t.Errorf("failed %d, rollback steps done %d of %d", failed, restored, len(rec.Rollback))
	}
	types := map[string]int{}
	for _, ev := range events(t, srv) {
		types[ev.Type]++
		if ev.Type == "gaffer.failover.step.failed" {
			var d map[string]any
			json.Unmarshal(ev.Data, &d)
			if !strings.Contains(d["error"].(string), "insufficient capacity") {
				t.Errorf("step.failed without the reason: %s", ev.Data)
			}
		}
	}
	if types["gaffer.failover.step.failed"] != 1 || types["gaffer.failover.execution.rolling_back"] != 1 ||
		types["gaffer.failover.execution.rolled_back"] != 1 {
		t.Errorf("events %v", types)
	}
}
