package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation"
)

// napRunbook is one agent step, with no retry policy, and a noop after it.
const napRunbook = `name: napper
params:
  type: object
  properties: {seconds: {type: integer}}
steps:
  - name: nap
    type: agent
    action: sleep
    params: {seconds: "${{ params.seconds }}"}
    targets: {agent: h1}
    idempotent: %v
  - name: after
    type: noop
    output: done
`

// agentWithToken starts agent h1 and returns how to restart it.
func agentWithToken(t *testing.T, s *remediationServer, actions string) (start func() *platformtest.Process) {
	t.Helper()
	var tok remediation.AgentToken
	call(t, "POST", s.url("/api/v1/remediation/agents/h1/token"), s.admin, nil, &tok)
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte(tok.Secret), 0o600)
	return func() *platformtest.Process { return s.startAgent(t, "h1", tokFile, actions, "") }
}

// kill ends an agent process with SIGKILL.
func kill(p *platformtest.Process) {
	p.Cmd.Process.Signal(syscall.SIGKILL)
	p.Cmd.Wait()
}

// unknownEvents returns the data of the gaffer.remediation.unknown_outcome
// events stored for execution id.
func unknownEvents(t *testing.T, s *remediationServer, id string) []map[string]any {
	t.Helper()
	var page struct {
		Items []struct {
			Event json.RawMessage `json:"event"`
		} `json:"items"`
	}
	call(t, "GET", s.url("/api/v1/events?type="+remediation.UnknownOutcomeEvent+"&limit=500"), s.admin, nil, &page)
	var out []map[string]any
	for _, it := range page.Items {
		var ev struct {
			Data map[string]any `json:"data"`
		}
		json.Unmarshal(it.Event, &ev)
		if ev.Data["execution"] == id {
			out = append(out, ev.Data)
		}
	}
	return out
}

// TestAgentSIGKILLMidAction kills a real agent while it runs an action and
// restarts it. An idempotent step with no retry policy runs again (a lost
// run is not a failure of the action); a step that is not idempotent is
// not run again: the execution asks a person — attention on the page,
// the step's three actions, a gaffer.remediation.unknown_outcome event —
// and goes on when they mark it done.
func TestAgentSIGKILLMidAction(t *testing.T) {
	s := startRemediation(t)
	restart := agentWithToken(t, s, copyActions(t))
	agent := restart()
	for _, idempotent := range []bool{true, false} {
		applyRunbook(t, s, fmt.Sprintf(napRunbook, idempotent))
		id := runRunbook(t, s, "napper", map[string]any{"seconds": 2})
		platformtest.Eventually(t, "the action's first output", func() bool {
			var lines []remediation.LogLine
			call(t, "GET", s.url("/api/v1/remediation/executions/"+id+"/logs"), s.admin, nil, &lines)
			return len(lines) > 0 && strings.Contains(lines[0].Data, "slept 0")
		})
		kill(agent)
		agent = restart()
		if idempotent {
			ex := s.waitExec(t, id, func(e remediation.Execution) bool { return e.FinishedAt != nil })
			st := stepNamed(ex, "nap[0]")
			if ex.Status != "succeeded" || st.Attempt != 2 {
				t.Fatalf("idempotent, no retry policy: execution %s (%s), step attempt %d; want succeeded on attempt 2", ex.Status, ex.Error, st.Attempt)
			}
			if !historyHas(ex, "run lost, running again", "restarted during the action") {
				t.Errorf("the history does not say the lost run ran again: %+v", ex.History)
			}
			continue
		}
		ex := s.waitExec(t, id, func(e remediation.Execution) bool { return e.Status == "waiting" })
		if st := stepNamed(ex, "nap[0]"); st.Status != "unknown" ||
			!strings.Contains(ex.Attention, "the outcome of step nap[0] on host h1 is unknown") ||
			!strings.Contains(ex.Attention, "restarted during the action") {
			t.Fatalf("not idempotent: step %s, attention %q", st.Status, ex.Attention)
		}
		platformtest.Eventually(t, "the unknown_outcome event", func() bool { return len(unknownEvents(t, s, id)) == 1 })
		if ev := unknownEvents(t, s, id)[0]; ev["step"] != "nap[0]" || ev["host"] != "h1" || ev["actions"] == nil {
			t.Errorf("event data %v", ev)
		}
		page := getPage(t, s, "/remediation/executions/"+id)
		for _, want := range []string{"Run it again", "Mark it done", "Fail it"} {
			if !strings.Contains(page, want) {
				t.Errorf("the execution page lacks %q", want)
			}
		}
		call(t, "POST", s.url("/api/v1/remediation/executions/"+id+"/steps/nap[0]/resolve"), s.admin,
			map[string]any{"as": "succeeded", "note": "checked by hand"}, nil)
		if ex := s.waitExec(t, id, func(e remediation.Execution) bool { return e.FinishedAt != nil }); ex.Status != "succeeded" {
			t.Errorf("after marking it done: %s %s", ex.Status, ex.Error)
		}
	}
}

// TestUnknownOutcomeTimesOut: a step of unknown outcome nobody settles
// fails its execution, with the reason, after --remediation-unknown-timeout.
func TestUnknownOutcomeTimesOut(t *testing.T) {
	s := startRemediation(t, "--remediation-unknown-timeout", "2s")
	restart := agentWithToken(t, s, copyActions(t))
	agent := restart()
	applyRunbook(t, s, fmt.Sprintf(napRunbook, false))
	id := runRunbook(t, s, "napper", map[string]any{"seconds": 30})
	s.waitExec(t, id, func(e remediation.Execution) bool { return stepNamed(e, "nap[0]").RunID != "" })
	kill(agent)
	restart()
	s.waitExec(t, id, func(e remediation.Execution) bool { return e.Status == "waiting" })
	ex := s.waitExec(t, id, func(e remediation.Execution) bool { return e.FinishedAt != nil })
	if ex.Status != "failed" || !strings.Contains(ex.Error, "the outcome of step nap[0] on host h1 stayed unknown for 2s") {
		t.Fatalf("execution %s: %q", ex.Status, ex.Error)
	}
}

// historyHas reports whether an entry of the execution's history is what,
// with detail containing detail.
func historyHas(ex remediation.Execution, what, detail string) bool {
	for _, h := range ex.History {
		if h.What == what && strings.Contains(h.Detail, detail) {
			return true
		}
	}
	return false
}

// getPage returns a page of the UI, read with the admin token.
func getPage(t *testing.T, s *remediationServer, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url(path), nil)
	req.Header.Set("Authorization", "Bearer "+s.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// chainRunbook is four agent steps, idempotent and not in turn, each
// recording its runs; then a noop.
const chainRunbook = `name: chain
params:
  type: object
  properties: {log: {type: string}}
steps:
  - {name: a, type: agent, action: mark, targets: {agent: h1}, idempotent: true,
     params: {log: "${{ params.log }}", tag: "${{ execution.id }}/a"}}
  - {name: b, type: agent, action: mark, targets: {agent: h1}, idempotent: false,
     params: {log: "${{ params.log }}", tag: "${{ execution.id }}/b"}}
  - {name: c, type: agent, action: mark, targets: {agent: h1}, idempotent: true,
     params: {log: "${{ params.log }}", tag: "${{ execution.id }}/c"}}
  - {name: d, type: agent, action: mark, targets: {agent: h1}, idempotent: false,
     params: {log: "${{ params.log }}", tag: "${{ execution.id }}/d"}}
  - {name: after, type: noop}
`

// markAction appends "TAG start" to LOG, works for half a second, and
// appends "TAG end".
var markAction = map[string]string{
	"action.yaml": `name: mark
version: "1.0.0"
description: Record a run in a log file (for tests).
command: ./mark.sh
params:
  type: object
  properties: {log: {type: string}, tag: {type: string}}
  required: [log, tag]
timeout: 1m
`,
	"mark.sh": `#!/bin/sh
set -eu
echo "$PARAM_TAG start" >> "$PARAM_LOG"
echo "working"
sleep 0.5
echo "$PARAM_TAG end" >> "$PARAM_LOG"
echo "done"
`,
}

// TestAgentKilledAtRandomPoints kills the real agent 20 times, each at a
// random point of a four-step runbook (a step dispatched, or its action
// started), restarts it, and settles what the engine asks a person to
// settle with a random choice. Every execution must end (succeeded or
// failed), a step that is not idempotent must never have run twice
// unless a person chose to run it again, and the history must say what
// happened to every lost run.
func TestAgentKilledAtRandomPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("kills an agent 20 times: about a minute")
	}
	s := startRemediation(t)
	actions := copyActions(t)
	os.MkdirAll(filepath.Join(actions, "mark"), 0o755)
	for name, body := range markAction {
		if err := os.WriteFile(filepath.Join(actions, "mark", name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	runs := filepath.Join(t.TempDir(), "runs.log")
	restart := agentWithToken(t, s, actions)
	agent := restart()
	applyRunbook(t, s, chainRunbook)
	rng := rand.New(rand.NewPCG(21, 20))
	steps := []string{"a[0]", "b[0]", "c[0]", "d[0]"}
	idempotent := map[string]bool{"a": true, "b": false, "c": true, "d": false}
	ended := map[string]int{}
	for i := range 20 {
		id := runRunbook(t, s, "chain", map[string]any{"log": runs})
		k, started := rng.IntN(len(steps)), rng.IntN(2) == 1
		where := fmt.Sprintf("kill %d: step %s %s", i, steps[k], map[bool]string{true: "started", false: "dispatched"}[started])
		platformtest.Eventually(t, where, func() bool {
			if started {
				b, _ := os.ReadFile(runs)
				return strings.Contains(string(b), id+"/"+steps[k][:1]+" start")
			}
			return stepNamed(s.execution(t, id), steps[k]).RunID != ""
		})
		kill(agent)
		agent = restart()
		reruns := map[string]int{}
		for {
			ex := s.waitExec(t, id, func(e remediation.Execution) bool { return e.FinishedAt != nil || e.Status == "waiting" })
			if ex.FinishedAt != nil {
				ended[ex.Status]++
				checkLostRuns(t, where, ex, runs, reruns, idempotent)
				break
			}
			for _, st := range ex.Steps {
				if st.Status != "unknown" {
					continue
				}
				base := "/api/v1/remediation/executions/" + id + "/steps/" + st.Key
				switch rng.IntN(3) {
				case 0:
					reruns[st.Key[:1]]++
					call(t, "POST", s.url(base+"/rerun"), s.admin, nil, nil)
				case 1:
					call(t, "POST", s.url(base+"/resolve"), s.admin, map[string]any{"as": "succeeded"}, nil)
				default:
					call(t, "POST", s.url(base+"/resolve"), s.admin, map[string]any{"as": "failed"}, nil)
				}
			}
			s.waitExec(t, id, func(e remediation.Execution) bool { return e.Status != "waiting" })
		}
	}
	t.Logf("20 executions with the agent killed: %v", ended)
	if ended["succeeded"]+ended["failed"] != 20 {
		t.Errorf("executions ended %v; want all succeeded or failed", ended)
	}
}

// checkLostRuns checks one ended execution: no step that is not
// idempotent started more often than once plus the times a person ran it
// again, and every unknown outcome and rerun lost run is in the history.
func checkLostRuns(t *testing.T, where string, ex remediation.Execution, runs string, reruns map[string]int, idempotent map[string]bool) {
	t.Helper()
	b, _ := os.ReadFile(runs)
	starts := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		if tag, ok := strings.CutSuffix(line, " start"); ok && strings.HasPrefix(tag, ex.ID+"/") {
			starts[strings.TrimPrefix(tag, ex.ID+"/")]++
		}
	}
	for step, n := range starts {
		if !idempotent[step] && n > 1+reruns[step] {
			t.Errorf("%s: step %s is not idempotent and started %d times (%d reruns asked); history %+v", where, step, n, reruns[step], ex.History)
		}
	}
	lostAgain, operator := 0, 0
	for _, h := range ex.History {
		switch h.What {
		case "run lost, running again":
			lostAgain++
		case "needs an operator":
			operator++
		}
	}
	if lostAgain+operator == 0 && ex.Status != "failed" {
		t.Errorf("%s: the agent was killed, but the history tells of no lost run: %+v", where, ex.History)
	}
}
