package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/remediation"
	"github.com/gaffer-sre/gaffer/remediation/agent"
)

// TestAgentImpersonationClosed is issue #15 item 8 against the real
// binaries. Someone holding the embedded NATS server's own credentials
// (a stolen nats.secret) sees a run request to agent h1 but cannot make
// the agent run anything: a replay, an edited copy and an unsigned
// request are refused. Minting h1 a new token (admin) revokes the old one
// over HTTP and NATS.
func TestAgentImpersonationClosed(t *testing.T) {
	s := startRemediation(t)
	var tok remediation.AgentToken
	if code := call(t, "POST", s.url("/api/v1/remediation/agents/h1/token"), s.admin, nil, &tok); code != 201 {
		t.Fatalf("agent token: %d", code)
	}
	oldTokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(oldTokFile, []byte(tok.Secret), 0o600)
	actions := copyActions(t)
	oldAgent := s.startAgent(t, "h1", oldTokFile, actions, "")

	natsURL, err := bus.LocalURL(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	spy, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer spy.Close()
	seen, err := spy.SubscribeSync(agent.ToAgent("h1") + "." + agent.VerbRun)
	if err != nil {
		t.Fatal(err)
	}
	spy.Flush()
	applyRunbook(t, s, fmt.Sprintf(sleeperRunbook, false))
	id := runRunbook(t, s, "sleeper", map[string]any{"seconds": 1})
	msg, err := seen.NextMsg(30 * time.Second)
	if err != nil {
		t.Fatalf("no run request seen: %v", err)
	}
	if ex := s.waitExec(t, id, func(e remediation.Execution) bool { return e.FinishedAt != nil }); ex.Status != "succeeded" {
		t.Fatalf("signed run: %s %s", ex.Status, ex.Error)
	}
	var signed agent.SignedRequest
	if err := json.Unmarshal(msg.Data, &signed); err != nil || len(signed.Sig) == 0 || signed.Agent != "h1" {
		t.Fatalf("the server's run request is not signed: %s", msg.Data)
	}
	edited := signed
	edited.Body = json.RawMessage(strings.Replace(string(signed.Body), `"seconds":1`, `"seconds":9`, 1))
	editedData, _ := json.Marshal(edited)
	for _, c := range []struct {
		name, want string
		data       []byte
	}{
		{"replayed", "already received", msg.Data},
		{"edited", "does not verify", editedData},
		{"unsigned", "not signed by the server", []byte(`{"run":"forged-1","action":"sleep","params":{"seconds":1}}`)},
	} {
		rep, err := spy.Request(agent.ToAgent("h1")+"."+agent.VerbRun, c.data, 10*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var rr agent.RunReply
		json.Unmarshal(rep.Data, &rr)
		if rr.Accepted || !strings.Contains(rr.Error, c.want) {
			t.Fatalf("%s run request: %s", c.name, rep.Data)
		}
	}
	if log := oldAgent.Log(); !strings.Contains(log, "refused a request") {
		t.Fatalf("the agent did not log the refusals:\n%s", log)
	}

	// A new token for h1 revokes the old one, over HTTP and NATS.
	var tok2 remediation.AgentToken
	if code := call(t, "POST", s.url("/api/v1/remediation/agents/h1/token"), s.admin, nil, &tok2); code != 201 {
		t.Fatalf("re-mint: %d", code)
	}
	if code := call(t, "GET", s.url("/api/v1/remediation/agent/bootstrap"), tok.Secret, nil, nil); code != 401 {
		t.Fatalf("old token over HTTP: %d", code)
	}
	var boot agent.Bootstrap
	if code := call(t, "GET", s.url("/api/v1/remediation/agent/bootstrap"), tok2.Secret, nil, &boot); code != 200 {
		t.Fatalf("new token over HTTP: %d", code)
	}
	if nc, err := nats.Connect("nats://"+s.nats, nats.UserInfo("agent:h1", tok.Secret), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("the old token connected to NATS")
	}
	oldAgent.Cmd.Process.Signal(syscall.SIGKILL)
	oldAgent.Cmd.Wait()
	newTokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(newTokFile, []byte(tok2.Secret), 0o600)
	s.startAgent(t, "h1", newTokFile, actions, "")
	id = runRunbook(t, s, "sleeper", map[string]any{"seconds": 1})
	if ex := s.waitExec(t, id, func(e remediation.Execution) bool { return e.FinishedAt != nil }); ex.Status != "succeeded" {
		t.Fatalf("run on the re-minted agent: %s %s", ex.Status, ex.Error)
	}
}
