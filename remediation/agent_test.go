package remediation_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation/agent"
)

func TestAgentRunsDeclaredActionsOnTargets(t *testing.T) {
	s := start(t)
	dir := actionsDir(t)
	s.startAgent("web-1", map[string]string{"role": "web"}, dir)
	s.startAgent("web-2", map[string]string{"role": "web"}, dir)
	s.startAgent("db-1", map[string]string{"role": "db"}, dir)
	s.apply(`
name: usage
steps:
  - name: du
    type: agent
    action: disk-usage
    params: {path: /}
    targets: {tags: {role: "${{ params.role }}"}, concurrency: 1}
  - name: check
    type: noop
    output: "${{ steps.du.output.items.map(i, i.agent) }}"
`)
	id := s.run("usage", map[string]any{"role": "web"})
	ex := s.waitStatus(id, "succeeded", "failed")
	if ex.Status != "succeeded" {
		t.Fatalf("status %s: %s", ex.Status, ex.Error)
	}
	if got := string(step(ex, "check").Output); got != `["web-1","web-2"]` {
		t.Fatalf("targets %s", got)
	}
	du := output(t, step(ex, "du"))
	item := du["items"].([]any)[0].(map[string]any)
	if item["output"].(map[string]any)["path"] != "/" || item["exit_code"].(float64) != 0 {
		t.Fatalf("item %v", item)
	}
}

func TestAgentLimits(t *testing.T) {
	s := start(t)
	dir := actionsDir(t)
	t.Setenv("SECRET_TOKEN", "do-not-leak")
	s.startAgent("h1", nil, dir)
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	s.apply(`
name: limits
steps:
  - name: big
    type: agent
    action: emit
    params: {bytes: 5000}
    targets: {agent: h1}
  - name: hang
    type: agent
    action: spawn-child
    params: {pidfile: "${{ params.pidfile }}"}
    targets: {agent: h1}
    on_failure: after
  - name: after
    type: noop
`)
	id := s.run("limits", map[string]any{"pidfile": pidfile})
	ex := s.waitStatus(id, "succeeded", "failed")
	big := output(t, step(ex, "big"))["items"].([]any)[0].(map[string]any)
	if out := big["stdout"].(string); len(out) != 1024 {
		t.Errorf("stdout kept %d bytes, want the 1 KiB cap", len(out))
	}
	if e := big["stderr"].(string); !strings.Contains(e, "to stderr") || !strings.Contains(e, "\n0\n") {
		t.Errorf("stderr %q: want the line, and no SECRET_ variable in the action's environment", e)
	}
	hang := step(ex, "hang[0]")
	if hang.Status != "failed" || !strings.Contains(hang.Error, "timed out") {
		t.Fatalf("hang: %s %s", hang.Status, hang.Error)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	platformtest.Eventually(t, "the action's background child killed with its process group", func() bool {
		return syscall.Kill(pid, 0) != nil
	})
	// Output was streamed into the execution's log.
	resp := s.Do("GET", "/api/v1/remediation/executions/"+id+"/logs", s.token, nil)
	if !strings.Contains(string(resp.Body), "to stderr") {
		t.Errorf("logs lack the streamed stderr: %s", resp.Body)
	}
}

// TestAgentSecurity: an undeclared action is refused, an agent cannot
// read another agent's subjects, and a revoked token cannot connect.
func TestAgentSecurity(t *testing.T) {
	s := start(t)
	dir := actionsDir(t)
	s.startAgent("a1", nil, dir)
	s.apply(`
name: undeclared
steps:
  - name: x
    type: agent
    action: rm-rf
    targets: {agent: a1}
`)
	ex := s.waitStatus(s.run("undeclared", nil), "failed")
	if e := step(ex, "x[0]").Error; !strings.Contains(e, `action "rm-rf" is not declared`) {
		t.Fatalf("undeclared action: %s", e)
	}

	// Agent b2 connects to NATS with its own token and tries a1's subjects.
	tok := s.agentToken("b2")
	var boot agent.Bootstrap
	resp := s.Do("GET", "/api/v1/remediation/agent/bootstrap", tok, nil)
	resp.JSON(t, &boot)
	if boot.Name != "b2" || len(boot.NATS) == 0 || strings.Contains(boot.NATS[0], "@") {
		t.Fatalf("bootstrap %s", resp.Body)
	}
	errs := make(chan error, 10)
	nc, err := nats.Connect(boot.NATS[0], nats.UserInfo("agent:b2", tok),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatalf("b2 connect: %v", err)
	}
	defer nc.Close()
	for _, subj := range []string{agent.ToAgent("a1") + ".run", agent.FromAgent("a1") + ".result", "gaffer.>", "_gaffer.>"} {
		nc.SubscribeSync(subj)
		nc.Flush()
		select {
		case err := <-errs:
			if !strings.Contains(err.Error(), "Permissions Violation") {
				t.Fatalf("subscribe %s: %v", subj, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("b2 subscribed to %s without a permissions violation", subj)
		}
	}
	// It cannot pose as a1 either.
	nc.Publish(agent.FromAgent("a1")+".result", []byte(`{}`))
	nc.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("b2 published as a1")
	}
	// Another agent's token, and a token of the right name without the
	// agent scope, are refused.
	if _, err := nats.Connect(boot.NATS[0], nats.UserInfo("agent:a1", tok), nats.MaxReconnects(0)); err == nil {
		t.Fatal("b2's token connected as a1")
	}
	if _, err := nats.Connect(boot.NATS[0], nats.UserInfo("agent:b2", s.token), nats.MaxReconnects(0)); err == nil {
		t.Fatal("the admin token connected as an agent")
	}

	// Revoking b2 disconnects it, and its token no longer connects.
	if r := s.Do("DELETE", "/api/v1/remediation/agents/b2", s.token, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	platformtest.Eventually(t, "b2 disconnected", func() bool { return !nc.IsConnected() })
	if _, err := nats.Connect(boot.NATS[0], nats.UserInfo("agent:b2", tok), nats.MaxReconnects(0)); err == nil {
		t.Fatal("revoked token connected")
	}
	if _, err := agent.New(context.Background(), agent.Config{Server: s.URL, Token: tok, ActionsDir: dir}); err == nil {
		t.Fatal("agent with a revoked token started")
	}
}

func TestAgentBundles(t *testing.T) {
	s := start(t)
	src := filepath.Join(actionsDir(t), "noop")
	data, sum, err := agent.PackBundle(src)
	if err != nil {
		t.Fatal(err)
	}
	resp := s.DoWith("PUT", "/api/v1/remediation/bundles/noop/9", s.token, "application/gzip", data)
	if resp.Status != 201 || !strings.Contains(string(resp.Body), sum) {
		t.Fatalf("put bundle: %d %s", resp.Status, resp.Body)
	}
	// An agent whose lock names the wrong checksum refuses the bundle.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, agent.LockFile), []byte("noop 9 "+strings.Repeat("0", 64)+"\n"), 0o644)
	_, err = agent.New(context.Background(), agent.Config{Server: s.URL, Token: s.agentToken("b1"), ActionsDir: bad})
	if err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("wrong checksum: %v", err)
	}
	good := t.TempDir()
	os.WriteFile(filepath.Join(good, agent.LockFile), []byte("noop 9 "+sum+"\n"), 0o644)
	s.startAgent("b2", nil, good)
	s.apply("name: bundled\nsteps:\n  - {name: n, type: agent, action: noop, targets: {agent: b2}}\n")
	if ex := s.waitStatus(s.run("bundled", nil), "succeeded", "failed"); ex.Status != "succeeded" {
		t.Fatalf("bundled action: %s", ex.Error)
	}
	var _ = json.Marshal
}

// TestAgentReload: actions added to the directory are declared to the
// server after a reload (SIGHUP in `gaffer agent`).
func TestAgentReload(t *testing.T) {
	s := start(t)
	dir := t.TempDir()
	copyDir(t, "../examples/actions/noop", filepath.Join(dir, "noop"))
	a := s.startAgent("r1", nil, dir)
	copyDir(t, "../examples/actions/disk-usage", filepath.Join(dir, "disk-usage"))
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	platformtest.Eventually(t, "the new action registered", func() bool {
		return strings.Contains(string(s.Do("GET", "/api/v1/remediation/agents", s.token, nil).Body), `"disk-usage"`)
	})
}
