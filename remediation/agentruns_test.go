package remediation_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation/remediationapi"
)

// replyKind is the job kind of the test's caller of agent runs.
const replyKind = "agentruntest.reply"

// replyCollector is a system that asks for agent runs and keeps the
// replies, by key.
type replyCollector struct {
	mu      sync.Mutex
	replies map[string][]remediationapi.AgentReply
}

func (c *replyCollector) Start(context.Context) error  { return nil }
func (c *replyCollector) Stop(context.Context) error   { return nil }
func (c *replyCollector) Health(context.Context) error { return nil }

func init() {
	platform.Register(platform.Module{Name: "agentruntest", New: func(_ context.Context, d *platform.Deps) (platform.Service, error) {
		c := &replyCollector{replies: map[string][]remediationapi.AgentReply{}}
		jobs.HandleFunc(d.Jobs, replyKind, jobs.KindOptions{MaxAttempts: 1, Timeout: time.Minute},
			func(_ context.Context, _ *jobs.Job, r remediationapi.AgentReply) error {
				c.mu.Lock()
				defer c.mu.Unlock()
				c.replies[r.Key] = append(c.replies[r.Key], r)
				return nil
			})
		return c, nil
	}})
}

func collectorOf(s *server) *replyCollector {
	svc, _ := s.Deps().Lookup("agentruntest")
	return svc.(*replyCollector)
}

// result waits for the result of key and returns it with the output
// that came before it.
func (c *replyCollector) result(t *testing.T, key string) (remediationapi.AgentRunResult, string) {
	t.Helper()
	var res *remediationapi.AgentRunResult
	var out strings.Builder
	platformtest.Eventually(t, "the result of "+key, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		out.Reset()
		for _, r := range c.replies[key] {
			if r.Output != nil {
				out.Write(r.Output.Data)
			}
			if r.Result != nil {
				res = r.Result
			}
		}
		return res != nil
	})
	return *res, out.String()
}

func (c *replyCollector) hasOutput(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.replies[key] {
		if r.Output != nil {
			return true
		}
	}
	return false
}

func enqueue(t *testing.T, s *server, kind string, args any) {
	t.Helper()
	if _, err := s.Deps().Jobs.Enqueue(t.Context(), kind, args, nil); err != nil {
		t.Fatal(err)
	}
}

// TestAgentRunsForOtherSystems: a system runs a declared action on a
// named agent through the job queue and hears its output and result;
// runs it cannot start, and cancels before and during a run, reach it
// as results too.
func TestAgentRunsForOtherSystems(t *testing.T) {
	platformtest.EachBackend(t, testAgentRunsForOtherSystems)
}

func testAgentRunsForOtherSystems(t *testing.T, b platformtest.Backend) {
	s := startWith(t, platformtest.Options{Backend: b})
	s.startAgent("h1", nil, actionsDir(t))
	c := collectorOf(s)
	run := func(key, agentName, action, params string) {
		enqueue(t, s, remediationapi.AgentRunKind, remediationapi.AgentRun{Agent: agentName, Action: action,
			Params: json.RawMessage(params), ReplyKind: replyKind, Key: key, By: "ana"})
	}

	run("ok", "h1", "sleep", `{"seconds": 1}`)
	res, out := c.result(t, "ok")
	if res.Status != "succeeded" || res.ExitCode != 0 || res.Stdout != "slept 0\ndone\n" {
		t.Errorf("result %+v", res)
	}
	if out != "" && !strings.HasPrefix(res.Stdout, out) {
		t.Errorf("streamed output %q is not the start of the result's %q", out, res.Stdout)
	}

	for _, c2 := range []struct{ key, agent, action, params, status, err string }{
		{"ghost", "ghost", "sleep", `{"seconds": 1}`, remediationapi.AgentRunUndispatched, "not connected"},
		{"undeclared", "h1", "format-disks", `{}`, "rejected", "not declared"},
		{"badparams", "h1", "sleep", `{"seconds": "x"}`, "rejected", "schema"},
		{"noaction", "h1", "", `{}`, remediationapi.AgentRunUndispatched, "action: required"},
	} {
		run(c2.key, c2.agent, c2.action, c2.params)
		res, _ := c.result(t, c2.key)
		if res.Status != c2.status || !strings.Contains(res.Error, c2.err) {
			t.Errorf("%s: result %+v, want %s with an error holding %q", c2.key, res, c2.status, c2.err)
		}
	}

	// Cancelled before it was asked for: it never starts.
	enqueue(t, s, remediationapi.AgentCancelKind, remediationapi.AgentCancel{ReplyKind: replyKind, Key: "early", By: "ana"})
	platformtest.Eventually(t, "the early cancel recorded", func() bool {
		var n int
		s.Deps().Store.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM remediation_agent_runs WHERE caller_key = 'early'`).Scan(&n)
		return n == 1
	})
	run("early", "h1", "sleep", `{"seconds": 1}`)
	if res, _ := c.result(t, "early"); res.Status != "cancelled" || !strings.Contains(res.Error, "before it started") {
		t.Errorf("early cancel: result %+v", res)
	}

	// Cancelled while it runs: the agent kills it.
	run("long", "h1", "sleep", `{"seconds": 300}`)
	platformtest.Eventually(t, "output of the long run", func() bool { return c.hasOutput("long") })
	enqueue(t, s, remediationapi.AgentCancelKind, remediationapi.AgentCancel{ReplyKind: replyKind, Key: "long", By: "ana"})
	if res, _ := c.result(t, "long"); res.Status != "cancelled" {
		t.Errorf("cancel during the run: result %+v", res)
	}
}

// TestOldAgentRunsAreRemoved: the records of runs ended more than 30
// days ago go; recent ones and running ones stay.
func TestOldAgentRunsAreRemoved(t *testing.T) {
	platformtest.EachBackend(t, testOldAgentRunsAreRemoved)
}

func testOldAgentRunsAreRemoved(t *testing.T, b platformtest.Backend) {
	s := startWith(t, platformtest.Options{Backend: b})
	db := s.Deps().Store
	old := time.Now().Add(-31 * 24 * time.Hour).UnixMilli()
	for _, r := range []struct {
		id, status string
		at         int64
	}{{"ar-old-done", "done", old}, {"ar-old-cancelled", "cancelled", old}, {"ar-old-running", "running", old},
		{"ar-new-done", "done", time.Now().UnixMilli()}} {
		if _, err := db.ExecContext(t.Context(), `INSERT INTO remediation_agent_runs (run_id, reply_kind, caller_key, agent, action,
			status, created_at) VALUES (?, ?, ?, 'h1', 'noop', ?, ?)`, r.id, replyKind, r.id, r.status, r.at); err != nil {
			t.Fatal(err)
		}
	}
	enqueue(t, s, "remediation.agent_runs_cleanup", struct{}{})
	platformtest.Eventually(t, "old runs removed", func() bool {
		var n int
		db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM remediation_agent_runs WHERE run_id LIKE 'ar-old-%'`).Scan(&n)
		return n == 1
	})
	var left []string
	rows, err := db.QueryContext(t.Context(), `SELECT run_id FROM remediation_agent_runs ORDER BY run_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		left = append(left, id)
	}
	rows.Close()
	if strings.Join(left, " ") != "ar-new-done ar-old-running" {
		t.Errorf("runs left: %v", left)
	}
}
