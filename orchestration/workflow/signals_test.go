package workflow_test

import (
	"fmt"
	"strings"
	"testing"

	_ "github.com/gaffer-sre/gaffer/events"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

const signalWF = `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "on-signals",
  "signal_triggers": [{"definitions": {
      "table_ready": {"match_params": {"table": {"value": "sales", "operator": "="}, "watermark": {"value": 100, "operator": ">="}}, "join_keys": ["day"]},
      "qa_passed": {"join_keys": ["date"]}},
    "params": {"source": {"value": "signals", "type": "STRING"}}}],
  "params": {"source": {"value": "manual", "type": "STRING"}},
  "steps": [{"step": {"id": "use", "type": "NoOp", "params": {"day": {"value": "${source}", "type": "STRING"}}}}]}}`

// TestSignals: a signal trigger starts an instance once every signal it
// names has arrived with matching params and the join keys agree; the
// same set does not fire it twice.
func TestSignals(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.Token(workflow.ScopeWrite, workflow.ScopeRead)
	apply(t, srv, tok, signalWF)
	send := func(name string, params map[string]any) workflow.SignalResult {
		t.Helper()
		var res workflow.SignalResult
		resp := srv.Do("POST", "/api/v1/workflows/signals", tok, map[string]any{"name": name, "params": params})
		if resp.Status != 201 {
			t.Fatalf("signal: %d %s", resp.Status, resp.Body)
		}
		resp.JSON(t, &res)
		return res
	}
	if r := send("table_ready", map[string]any{"table": "sales", "watermark": 50, "day": 20261207}); len(r.Started) != 0 {
		t.Fatalf("a signal below the watermark started %v", r.Started)
	}
	if r := send("table_ready", map[string]any{"table": "sales", "watermark": 120, "day": 20261207}); len(r.Started) != 0 {
		t.Fatalf("half the signals started %v", r.Started)
	}
	if r := send("qa_passed", map[string]any{"date": 20261206}); len(r.Started) != 0 {
		t.Fatalf("a signal for another day started %v", r.Started)
	}
	r := send("qa_passed", map[string]any{"date": 20261207})
	if len(r.Started) != 1 || r.Started[0].WorkflowID != "on-signals" {
		t.Fatalf("the completing signal started %v", r.Started)
	}
	in := waitEnd(t, srv, tok, "on-signals", r.Started[0].InstanceID)
	if in.Status != workflow.InstanceSucceeded || in.Steps[0].Params["day"] != "signals" {
		t.Errorf("instance %s, params %v", in.Status, in.Steps[0].Params)
	}
	sig, _ := in.Params["SIGNALS"].(map[string]any)
	if tr, _ := sig["table_ready"].(map[string]any); tr["watermark"] != float64(120) {
		t.Errorf("the instance's signals %v", in.Params["SIGNALS"])
	}
	if r := send("qa_passed", map[string]any{"date": 20261207}); len(r.Started) != 1 {
		t.Errorf("a second qa signal joins the same table signal into a new set: started %v", r.Started)
	}
	if resp := srv.Do("POST", "/api/v1/workflows/signals", tok, map[string]any{"name": ""}); resp.Status != 400 {
		t.Errorf("a signal without a name: %d", resp.Status)
	}
}

// TestEventRulesStartAndSignal: an events rule starts a workflow, and
// another delivers a signal, through job actions of kinds
// workflow.start and workflow.signal.
func TestEventRulesStartAndSignal(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	apply(t, srv, tok, child)
	apply(t, srv, tok, signalWF)
	for _, rule := range []map[string]any{
		{"name": "deploys start child", "condition": `type == "gaffer.test.deploy"`,
			"actions": []map[string]any{{"type": "job", "kind": workflow.StartJob, "args": `{"workflow": "child", "params": {"who": data.who}}`}}},
		{"name": "tables signal", "condition": `type == "gaffer.test.table"`,
			"actions": []map[string]any{{"type": "job", "kind": workflow.SignalJob, "args": `{"name": data.name, "params": data.params}`}}},
	} {
		if resp := srv.Do("POST", "/api/v1/events/rules", tok, rule); resp.Status != 201 {
			t.Fatalf("rule: %d %s", resp.Status, resp.Body)
		}
	}
	publish := func(id, typ string, data map[string]any) {
		t.Helper()
		ev := map[string]any{"specversion": "1.0", "id": id, "source": "/test", "type": typ, "data": data}
		if resp := srv.DoWith("POST", "/api/v1/events", tok, "application/cloudevents+json", ev); resp.Status != 202 {
			t.Fatalf("publish: %d %s", resp.Status, resp.Body)
		}
	}
	publish("d1", "gaffer.test.deploy", map[string]any{"who": "grace"})
	publish("s1", "gaffer.test.table", map[string]any{"name": "table_ready", "params": map[string]any{"table": "sales", "watermark": 200, "day": 1}})
	publish("s2", "gaffer.test.table", map[string]any{"name": "qa_passed", "params": map[string]any{"date": 1}})
	in := waitEnd(t, srv, tok, "child", 1)
	if in.Steps[0].Params["greeting"] != "hi grace" {
		t.Errorf("the rule's params: %v", in.Steps[0].Params)
	}
	if in := waitEnd(t, srv, tok, "on-signals", 1); in.Status != workflow.InstanceSucceeded {
		t.Errorf("signalled instance: %s", in.Status)
	}
}

// TestValidatorsAndDedup: a param that fails its validator refuses the
// start, naming it; a signal trigger's dedup_expr fires once per key.
func TestValidatorsAndDedup(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	apply(t, srv, tok, `{"workflow": {"id": "checked", "params": {"n": {"value": 1, "type": "LONG", "validator": "param > 0"}},
	  "signal_triggers": [{"definitions": {"day_done": {}}, "dedup_expr": "params.getFromSignal('day_done', 'day')"}],
	  "steps": [{"step": {"id": "a", "type": "NoOp"}}]}}`)
	if resp := srv.Do("POST", "/api/v1/workflows/checked/instances", tok, map[string]any{"params": map[string]any{"n": -3}}); resp.Status != 400 ||
		!strings.Contains(string(resp.Body), `param n: -3 does not pass its validator`) {
		t.Errorf("a param failing its validator: %d %s", resp.Status, resp.Body)
	}
	if resp := srv.Do("POST", "/api/v1/workflows/checked/instances", tok, map[string]any{"params": map[string]any{"n": 3}}); resp.Status != 201 {
		t.Errorf("a param passing its validator: %d %s", resp.Status, resp.Body)
	}
	started := 0
	for _, day := range []int{1, 1, 2} {
		var res workflow.SignalResult
		srv.Do("POST", "/api/v1/workflows/signals", tok, map[string]any{"name": "day_done", "params": map[string]any{"day": day}}).JSON(t, &res)
		started += len(res.Started)
	}
	if started != 2 {
		t.Errorf("three signals for days 1, 1, 2 started %d instances, want 2 (dedup by day)", started)
	}
}

// TestStepSignalDependencies: a step with signal_dependencies waits,
// RUNNING, until signals of those names with matching params have come
// (a signal that came before counts); its params are evaluated for the
// instance (here the run's day), so another day's signal does not.
func TestStepSignalDependencies(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	apply(t, srv, tok, `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "waiter",
	  "params": {"day": {"value": 20261207, "type": "LONG"}},
	  "steps": [{"step": {"id": "load", "type": "NoOp", "signal_dependencies": [
	    {"name": "table_ready", "match_params": {"day": {"param": {"expression": "day", "type": "LONG"}, "operator": "="},
	                                            "table": {"param": {"value": "visits", "type": "STRING"}, "operator": "=="}}},
	    {"name": "quota_ok"}]}}]}}`)
	signal := func(name string, params map[string]any) {
		if r := srv.Do("POST", "/api/v1/workflows/signals", tok, map[string]any{"name": name, "params": params}); r.Status != 201 {
			t.Fatalf("signal %s: %d %s", name, r.Status, r.Body)
		}
	}
	signal("quota_ok", nil) // before the instance: it counts
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/waiter/instances", tok, nil).JSON(t, &in)
	get := func() workflow.Instance {
		var now workflow.Instance
		srv.Do("GET", fmt.Sprintf("/api/v1/workflows/waiter/instances/%d", in.InstanceID), tok, nil).JSON(t, &now)
		return now
	}
	platformtest.Eventually(t, "the step to wait", func() bool {
		now := get()
		return len(now.Steps) == 1 && now.Steps[0].Status == workflow.StepRunning && now.Steps[0].Error == "waiting for signals: table_ready"
	})
	signal("table_ready", map[string]any{"day": 20261206, "table": "visits"}) // another day
	signal("table_ready", map[string]any{"day": 20261207, "table": "clicks"}) // another table
	if now := get(); now.Status != workflow.InstanceInProgress {
		t.Fatalf("after signals that do not match: %s", now.Status)
	}
	signal("table_ready", map[string]any{"day": 20261207, "table": "visits"})
	if end := waitEnd(t, srv, tok, "waiter", in.InstanceID); end.Status != workflow.InstanceSucceeded || end.Steps[0].Error != "" {
		t.Fatalf("after the signal: %s %+v", end.Status, end.Steps)
	}

	r := srv.DoWith("POST", "/api/v1/workflows?file=bad.json", tok, "application/json", `{"workflow": {"id": "bad", "steps": [
	  {"step": {"id": "s", "type": "NoOp", "signal_dependencies": [{"name": "x", "match_params": {"a": {"param": {"value": 1, "type": "LONG"}, "operator": "~"}}}]}}]}}`)
	if r.Status != 422 || !strings.Contains(string(r.Body), "signal_dependencies[0].match_params.a.operator") {
		t.Errorf("a bad operator: %d %s", r.Status, r.Body)
	}
}
