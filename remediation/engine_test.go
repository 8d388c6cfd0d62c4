package remediation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation"
	"github.com/gaffer-sre/gaffer/remediation/agent"
)

func TestChainOfNoopSteps(t *testing.T) {
	s := start(t)
	s.apply(`
name: chain
params:
  type: object
  properties:
    n: {type: integer, default: 2}
steps:
  - name: a
    type: noop
    output: {x: "${{ params.n * 2 }}"}
  - name: b
    type: noop
    output: "${{ steps.a.output.x + 1 }}"
    next:
      - if: result > 100
        goto: fail
      - goto: c
  - name: c
    type: noop
    output: "done ${{ steps.b.output }}"
`)
	id := s.run("chain", map[string]any{"n": 3})
	ex := s.waitStatus(id, "succeeded", "failed")
	if ex.Status != "succeeded" {
		t.Fatalf("status %s: %s", ex.Status, ex.Error)
	}
	if got := string(step(ex, "c").Output); got != `"done 7"` {
		t.Fatalf("c output %s", got)
	}
}

func TestFanOutJoinAndTolerance(t *testing.T) {
	s := start(t)
	s.apply(`
name: fan
steps:
  - name: split
    type: noop
    next: [{goto: [left, right]}]
  - name: left
    type: noop
    for_each: "[1, 2, 3, 4, 5]"
    concurrency: 2
    output: "${{ item * 10 }}"
    next: [{goto: join}]
  - name: right
    type: sleep
    duration: 50ms
    next: [{goto: join}]
  - name: join
    type: noop
    join: [left, right]
    output: "${{ steps.left.output.items.map(i, i.output) }}"
    next: [{goto: tolerant}]
  - name: tolerant
    type: noop
    for_each: "[1, 0, 2]"
    tolerance: 1
    output: "${{ 10 / item }}"
    next: [{goto: strict}]
  - name: strict
    type: noop
    for_each: "[1, 0]"
    output: "${{ 10 / item }}"
`)
	ex := s.waitStatus(s.run("fan", nil), "succeeded", "failed")
	if got := string(step(ex, "join").Output); got != `[10,20,30,40,50]` {
		t.Fatalf("join output %s (status %s: %s)", got, ex.Status, ex.Error)
	}
	joins := 0
	for _, st := range ex.Steps {
		if st.Name == "join" {
			joins++
		}
	}
	if joins != 1 {
		t.Fatalf("join ran %d times", joins)
	}
	if st := step(ex, "tolerant"); st.Status != "succeeded" || st.ItemsFailed != 1 {
		t.Fatalf("tolerant: %s, %d failed", st.Status, st.ItemsFailed)
	}
	if ex.Status != "failed" || !strings.Contains(ex.Error, "strict") || !strings.Contains(ex.Error, "tolerance 0") {
		t.Fatalf("want failed by strict: %s %s", ex.Status, ex.Error)
	}
}

func TestRetriesTimeoutsAndOnFailure(t *testing.T) {
	var calls atomic.Int32
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flaky":
			if calls.Add(1) < 3 {
				w.WriteHeader(503)
				return
			}
			fmt.Fprint(w, `{"ok": true}`)
		case "/slow": // answers only after the step has given up
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		}
	}))
	defer web.Close()
	s := startAllowing(t, platformtest.AllowLoopback) // the steps call a test server on 127.0.0.1
	s.apply(`
name: retry
params: {type: object, properties: {base: {type: string}}}
on_failure: cleanup
steps:
  - name: flaky
    type: http
    url: "${{ params.base }}/flaky"
    retry: {attempts: 3, backoff: 10ms}
    publish: {ok: "${{ result.body.ok }}"}
  - name: slow
    type: http
    url: "${{ params.base }}/slow"
    timeout: 100ms
  - name: never
    type: noop
  - name: cleanup
    type: noop
    output: "${{ failure }}"
`)
	ex := s.waitStatus(s.run("retry", map[string]any{"base": web.URL}), "failed")
	if st := step(ex, "flaky"); st.Status != "succeeded" || st.Attempt != 3 {
		t.Fatalf("flaky: %s after %d attempts", st.Status, st.Attempt)
	}
	if !strings.Contains(string(ex.Vars), `"ok":true`) {
		t.Fatalf("vars %s", ex.Vars)
	}
	if st := step(ex, "slow"); st.Status != "failed" || !strings.Contains(st.Error, "timed out") {
		t.Fatalf("slow: %s %s", st.Status, st.Error)
	}
	if step(ex, "never") != nil {
		t.Fatal("a step after the failure ran")
	}
	if c := output(t, step(ex, "cleanup")); c["step"] != "slow" {
		t.Fatalf("cleanup saw %v", c)
	}
}

func TestApprovals(t *testing.T) {
	s := start(t)
	s.apply(`
name: approve
steps:
  - name: ask
    type: approval
    question: "Restart ${{ params.host }}?"
    approvers: [alice]
    answer: {type: object, properties: {confirm: {const: true}}, required: [confirm]}
  - name: after
    type: noop
    output: "${{ steps.ask.output.by }}"
`)
	alice := s.identityToken("alice", "remediation:read")
	bob := s.identityToken("bob", "remediation:write")
	id := s.run("approve", map[string]any{"host": "web-1"})
	platformtest.Eventually(t, "approval waiting", func() bool {
		st := step(s.exec(id), "ask")
		return st != nil && st.Status == "waiting"
	})
	path := "/api/v1/remediation/executions/" + id + "/steps/ask/approve"
	if r := s.Do("POST", path, bob, map[string]any{"answer": map[string]any{"confirm": true}}); r.Status != 403 {
		t.Fatalf("bob, not an approver: %d %s", r.Status, r.Body)
	}
	if r := s.Do("POST", path, alice, map[string]any{"answer": map[string]any{"confirm": false}}); r.Status != 400 {
		t.Fatalf("answer against the schema: %d %s", r.Status, r.Body)
	}
	if r := s.Do("POST", path, alice, map[string]any{"answer": map[string]any{"confirm": true}}); r.Status != 200 {
		t.Fatalf("alice approves: %d %s", r.Status, r.Body)
	}
	ex := s.waitStatus(id, "succeeded")
	if got := string(step(ex, "after").Output); got != `"alice"` {
		t.Fatalf("after: %s", got)
	}
	found := false
	for _, h := range ex.History {
		found = found || (h.What == "approved" && h.Actor == "alice")
	}
	if !found {
		t.Fatalf("history lacks alice's approval: %+v", ex.History)
	}

	id = s.run("approve", map[string]any{"host": "web-2"})
	platformtest.Eventually(t, "approval waiting", func() bool { st := step(s.exec(id), "ask"); return st != nil && st.Status == "waiting" })
	if r := s.Do("POST", "/api/v1/remediation/executions/"+id+"/steps/ask/reject", alice, map[string]any{"reason": "not now"}); r.Status != 200 {
		t.Fatalf("reject: %d %s", r.Status, r.Body)
	}
	if ex := s.waitStatus(id, "failed"); !strings.Contains(ex.Error, "not now") {
		t.Fatalf("rejected run: %s", ex.Error)
	}

	s.apply("name: expire\nsteps:\n  - {name: ask, type: approval, question: \"ok?\", expires: 50ms}\n")
	if ex := s.waitStatus(s.run("expire", nil), "failed"); !strings.Contains(ex.Error, "expired") {
		t.Fatalf("expired approval: %s", ex.Error)
	}
}

func TestWaitForEvent(t *testing.T) {
	s := start(t)
	s.apply(`
name: waiter
steps:
  - name: wait
    type: wait_event
    condition: event.type == "gaffer.deploy.done" && event.data.app == params.app
    timeout: 30s
  - name: got
    type: noop
    output: "${{ steps.wait.output.data.version }}"
`)
	id := s.run("waiter", map[string]any{"app": "shop"})
	platformtest.Eventually(t, "waiting", func() bool { st := step(s.exec(id), "wait"); return st != nil && st.Status == "waiting" })
	for _, app := range []string{"other", "shop"} {
		ev := fmt.Sprintf(`{"specversion":"1.0","id":"d-%s","source":"/ci","type":"gaffer.deploy.done","data":{"app":%q,"version":"v2"}}`, app, app)
		s.DoWith("POST", "/api/v1/events", s.token, "application/cloudevents+json", ev)
	}
	ex := s.waitStatus(id, "succeeded", "failed")
	if got := string(step(ex, "got").Output); got != `"v2"` {
		t.Fatalf("got %s (%s %s)", got, ex.Status, ex.Error)
	}
}

// TestPauseResumeCancelRerun pauses, resumes, re-runs and cancels
// executions, on each database.
func TestPauseResumeCancelRerun(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		s := startWith(t, platformtest.Options{Backend: b, EgressAllow: platformtest.AllowLoopback}) // the steps call a test server on 127.0.0.1
		s.apply(`
name: control
steps:
  - name: nap
    type: sleep
    duration: 2s
  - name: after
    type: noop
  - name: check
    type: http
    url: "${{ params.url }}"
`)
		id := s.run("control", map[string]any{"url": "http://127.0.0.1:1/nothing"})
		post := func(path string, want int) {
			t.Helper()
			if r := s.Do("POST", "/api/v1/remediation/executions/"+id+path, s.token, nil); r.Status != want {
				t.Fatalf("%s: %d %s", path, r.Status, r.Body)
			}
		}
		// Pause once the nap sleeps: a pause that came before the step
		// started would hold the step itself back until the resume. (The
		// nap is long enough that the poll sees it asleep under load.)
		platformtest.Eventually(t, "the nap to sleep", func() bool {
			st := step(s.exec(id), "nap")
			return st != nil && st.Status == "waiting"
		})
		post("/pause", 200)
		post("/pause", 409)
		// The nap ends while paused.
		platformtest.Eventually(t, "the nap to end", func() bool {
			st := step(s.exec(id), "nap")
			return st != nil && st.Status == "succeeded"
		})
		s.waitWakesDone(id)
		if ex := s.exec(id); ex.Status != "paused" || step(ex, "after") == nil || step(ex, "after").Status != "pending" {
			b, _ := json.MarshalIndent(ex, "", "  ")
			t.Fatalf("the paused run went on, or its nap did not end:\n%s", b)
		}
		post("/resume", 200)
		ex := s.waitStatus(id, "failed")
		if step(ex, "after").Status != "succeeded" {
			t.Fatal("after did not run on resume")
		}
		// Fix the cause and re-run the failed step.
		web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		defer web.Close()
		s.Deps().Store.ExecContext(context.Background(), `UPDATE remediation_executions SET params = ? WHERE id = ?`,
			`{"url":"`+web.URL+`"}`, id)
		post("/steps/check/rerun", 200)
		if ex := s.waitStatus(id, "succeeded", "failed"); ex.Status != "succeeded" {
			t.Fatalf("rerun: %s %s", ex.Status, ex.Error)
		}
		id = s.run("control", map[string]any{"url": "x"})
		post("/cancel", 200)
		ex = s.waitStatus(id, "cancelled")
		if st := step(ex, "nap"); st.Status != "cancelled" {
			t.Fatalf("nap %s", st.Status)
		}
		s.waitWakesDone(id) // the nap's end comes after the cancel
		if step(s.exec(id), "after") != nil {
			t.Fatal("a cancelled run went on")
		}
	})
}

func TestVersionsPromotionAndRollback(t *testing.T) {
	s := start(t)
	v1 := "name: rb\nsteps:\n  - {name: a, type: noop, output: one}\n"
	v2 := "name: rb\nsteps:\n  - {name: a, type: noop, output: two}\n"
	if r := s.apply(v1); r.Version != 1 {
		t.Fatalf("v1 = %d", r.Version)
	}
	if r := s.apply(v1); !r.Unchanged || r.Version != 1 {
		t.Fatalf("re-apply: %+v", r)
	}
	if r := s.apply(v2); r.Version != 2 {
		t.Fatalf("v2 = %d", r.Version)
	}
	promote := func(op, env string) remediation.Deployment {
		t.Helper()
		r := s.Do("POST", "/api/v1/remediation/runbooks/rb/"+op, s.token, map[string]any{"env": env})
		if r.Status != 200 {
			t.Fatalf("%s %s: %d %s", op, env, r.Status, r.Body)
		}
		var d remediation.Deployment
		r.JSON(t, &d)
		return d
	}
	if r := s.Do("POST", "/api/v1/remediation/runbooks/rb/promote", s.token, map[string]any{"env": "prod"}); r.Status != 400 {
		t.Fatalf("promote to prod before test: %d %s", r.Status, r.Body)
	}
	promote("promote", "test")
	if d := promote("promote", "prod"); d.Version != 2 {
		t.Fatalf("prod = %d", d.Version)
	}
	run := func() string {
		return string(step(s.waitStatus(s.run("rb", nil), "succeeded"), "a").Output)
	}
	if got := run(); got != `"two"` {
		t.Fatalf("prod run: %s", got)
	}
	// prod was 2 from the start; deploy 1 then roll back to 2, and back.
	s.Do("POST", "/api/v1/remediation/runbooks/rb/promote", s.token, map[string]any{"env": "prod", "version": 1})
	if got := run(); got != `"one"` {
		t.Fatalf("after deploying v1 to prod: %s", got)
	}
	if d := promote("rollback", "prod"); d.Version != 2 {
		t.Fatalf("rollback: %+v", d)
	}
	if got := run(); got != `"two"` {
		t.Fatalf("after rollback: %s", got)
	}
	var diff []remediation.DiffLine
	s.Do("GET", "/api/v1/remediation/runbooks/rb/diff?from=1&to=2", s.token, nil).JSON(t, &diff)
	if len(diff) != 5 || diff[2].Op != "-" || diff[3].Op != "+" {
		t.Fatalf("diff %+v", diff)
	}
	r := s.DoWith("POST", "/api/v1/remediation/runbooks", s.token, "application/yaml", "name: rb\nsteps:\n  - {name: a, type: nope}\n")
	if r.Status != 422 || !strings.Contains(string(r.Body), `"line":3`) {
		t.Fatalf("invalid apply: %d %s", r.Status, r.Body)
	}
}

func TestAnalysisSteps(t *testing.T) {
	s := start(t)
	s.apply(`
name: analyse
steps:
  - name: cp
    type: changepoint
    series: "[1.0, 1.1, 0.9, 1.0, 1.2, 0.8, 1.0, 1.1, 0.9, 1.0, 9.0, 9.2, 8.9, 9.1, 9.0, 8.8]"
    algorithm: binseg
    n_bkps: 1
  - name: corr
    type: correlate
    series: "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,5,6,5,6,5,6,5,6,5,6]"
    candidates: |
      {"flat": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],
       "moved": [2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,9,9,9,9,9,9,9,9,9,9]}
    window: {start: "${{ steps.cp.output.change_points[0] + 20 }}", end: 40}
  - name: q
    type: metrics
    query: up
`)
	ex := s.waitStatus(s.run("analyse", nil), "failed")
	cp := output(t, step(ex, "cp"))
	if pts := cp["change_points"].([]any); len(pts) != 1 || pts[0].(float64) != 10 {
		t.Fatalf("change points %v", cp)
	}
	if st := step(ex, "corr"); st.Status != "succeeded" {
		t.Fatalf("correlate: %s", st.Error)
	}
	if c := output(t, step(ex, "corr")); c["top"] != "moved" {
		t.Fatalf("correlate: %v (%s)", c, step(ex, "corr").Error)
	}
	if st := step(ex, "q"); !strings.Contains(st.Error, "metrics system is not running") {
		t.Fatalf("metrics step without metrics: %s", st.Error)
	}
}

func TestCronSchedule(t *testing.T) {
	s := start(t)
	s.apply(`
name: nightly
schedule: {cron: "30 2 * * *", params: {who: cron}}
params: {type: object, properties: {who: {type: string}}}
steps:
  - {name: a, type: noop, output: "${{ params.who + ' ' + trigger.kind }}"}
`)
	at := time.Date(2030, 1, 2, 2, 30, 20, 0, time.UTC)
	for i := 0; i < 3; i++ { // the same due time starts one run
		if err := remediation.RunSchedules(s.svc(), at); err != nil {
			t.Fatal(err)
		}
	}
	if err := remediation.RunSchedules(s.svc(), at.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	var list struct{ Items []remediation.Execution }
	s.Do("GET", "/api/v1/remediation/executions?runbook=nightly", s.token, nil).JSON(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("%d scheduled runs, want 1", len(list.Items))
	}
	ex := s.waitStatus(list.Items[0].ID, "succeeded")
	if got := string(step(ex, "a").Output); got != `"cron cron"` {
		t.Fatalf("output %s", got)
	}
}

func TestOutputLimit(t *testing.T) {
	s := start(t)
	s.apply("name: big\nsteps:\n  - {name: wait, type: sleep, duration: 1h}\n")
	id := s.run("big", nil)
	platformtest.Eventually(t, "waiting", func() bool { st := step(s.exec(id), "wait"); return st != nil && st.Status == "waiting" })
	blob := strings.Repeat("x", remediation.MaxOutputBytes)
	if err := remediation.FinishStep(s.svc(), id, "wait", 1, blob); err != nil {
		t.Fatal(err)
	}
	ex := s.waitStatus(id, "failed")
	if !strings.Contains(step(ex, "wait").Error, "at most 8388608 are stored") {
		t.Fatalf("oversized output: %s", step(ex, "wait").Error)
	}
}

// TestEngineOnEachBackend runs the engine, an agent, an approval and the
// bundle list on SQLite and PostgreSQL: every remediation table is
// written and read.
func TestEngineOnEachBackend(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		s := startWith(t, platformtest.Options{Backend: b})
		s.startAgent("pg-1", map[string]string{"role": "db"}, actionsDir(t))
		s.apply(`
name: pg
steps:
  - name: each
    type: noop
    for_each: "[1, 2, 3]"
    concurrency: 2
    output: "${{ item + 1 }}"
  - name: du
    type: agent
    action: disk-usage
    targets: {tags: {role: db}}
  - name: ok
    type: approval
    question: "fine?"
`)
		id := s.run("pg", nil)
		platformtest.Eventually(t, "approval", func() bool { st := step(s.exec(id), "ok"); return st != nil && st.Status == "waiting" })
		// Another operator approves (the starter may not: four eyes).
		s.Do("POST", "/api/v1/remediation/executions/"+id+"/steps/ok/approve", s.identityToken("olga", remediation.WriteScope), map[string]any{})
		ex := s.waitStatus(id, "succeeded", "failed")
		if ex.Status != "succeeded" || len(ex.Steps) != 7 {
			t.Fatalf("%s %s, %d steps", ex.Status, ex.Error, len(ex.Steps))
		}
		var agents httpapi.Page[remediation.AgentInfo]
		get(t, s, "/api/v1/remediation/agents", &agents)
		if len(agents.Items) != 1 || agents.Items[0].Name != "pg-1" || agents.Items[0].Tags["role"] != "db" {
			t.Errorf("agents: %+v", agents.Items)
		}
		data, sum, err := agent.PackBundle(filepath.Join(actionsDir(t), "noop"))
		if err != nil {
			t.Fatal(err)
		}
		if r := s.DoWith("PUT", "/api/v1/remediation/bundles/noop/9", s.token, "application/gzip", data); r.Status != 201 {
			t.Fatalf("put bundle: %d %s", r.Status, r.Body)
		}
		var bundles httpapi.Page[remediation.BundleInfo]
		get(t, s, "/api/v1/remediation/bundles", &bundles)
		if len(bundles.Items) != 1 || bundles.Items[0].SHA256 != sum || bundles.Items[0].Size != len(data) {
			t.Errorf("bundles: %+v", bundles.Items)
		}
	})
}

// get decodes a 200 answer to GET path into v.
func get(t *testing.T, s *server, path string, v any) {
	t.Helper()
	r := s.Do("GET", path, s.token, nil)
	if r.Status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	r.JSON(t, v)
}

// TestOnExternalNATS runs an agent step over an external NATS server
// (skipped unless GAFFER_TEST_NATS_URL is set). There the operator owns the
// users: the agent connects with what the server accepts.
func TestOnExternalNATS(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{ExternalNATS: true, Args: []string{"--remediation-lease", "1s",
		"--remediation-agent-heartbeat", "200ms"}})
	s := &server{Server: srv, t: t, token: srv.AdminToken}
	name := fmt.Sprintf("ext-%d", time.Now().UnixNano()%1_000_000_000)
	s.startAgent(name, nil, actionsDir(t))
	s.apply("name: ext\nsteps:\n  - {name: du, type: agent, action: disk-usage, targets: {agent: " + name + "}}\n")
	if ex := s.waitStatus(s.run("ext", nil), "succeeded", "failed"); ex.Status != "succeeded" {
		t.Fatalf("%s %s", ex.Status, ex.Error)
	}
}

func TestRunTimeout(t *testing.T) {
	s := start(t)
	s.apply("name: slowpoke\ntimeout: 300ms\nsteps:\n  - {name: nap, type: sleep, duration: 1h}\n  - {name: after, type: noop}\n")
	ex := s.waitStatus(s.run("slowpoke", nil), "failed")
	if !strings.Contains(ex.Error, "timeout") || step(ex, "nap").Status != "cancelled" || step(ex, "after") != nil {
		t.Fatalf("%s: nap %s", ex.Error, step(ex, "nap").Status)
	}
}

// TestCronAcrossADay walks the schedule's clock over a whole day in
// 53-second steps (the cron job runs every 15 s; 53 s does not divide a
// minute or an hour) for a runbook due at minute 17 of every fifth hour:
// each of the five due times starts exactly one run, keyed by its time.
func TestCronAcrossADay(t *testing.T) {
	s := start(t)
	s.apply(`
name: fifth-hour
schedule: {cron: "17 */5 * * *"}
steps:
  - {name: a, type: noop}
`)
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for at := day; at.Before(day.Add(24 * time.Hour)); at = at.Add(53 * time.Second) {
		if err := remediation.RunSchedules(s.svc(), at); err != nil {
			t.Fatalf("at %s: %v", at.Format("15:04:05"), err)
		}
	}
	var list struct{ Items []remediation.Execution }
	s.Do("GET", "/api/v1/remediation/executions?runbook=fifth-hour&limit=100", s.token, nil).JSON(t, &list)
	if len(list.Items) != 5 {
		t.Fatalf("%d scheduled runs over the day, want 5 (00:17, 05:17, 10:17, 15:17, 20:17)", len(list.Items))
	}
}
