package remediation_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation"
	"github.com/gaffer-sre/gaffer/remediation/agent"
)

// TestAgentTokenReminting is issue #15 item 8: remediation:write mints
// only a new name's first token; minting again needs admin and revokes
// the old token, over HTTP and NATS.
func TestAgentTokenReminting(t *testing.T) {
	s := start(t)
	writer := s.identityToken("wendy", remediation.WriteScope)
	// mint returns the answer's status, its body, and the secret minted.
	mint := func(name, token string) (int, string, string) {
		t.Helper()
		r := s.Do("POST", "/api/v1/remediation/agents/"+name+"/token", token, nil)
		var tok remediation.AgentToken
		if r.Status == http.StatusCreated {
			r.JSON(t, &tok)
		}
		return r.Status, string(r.Body), tok.Secret
	}
	code, body, first := mint("m1", writer)
	if code != http.StatusCreated {
		t.Fatalf("first token from a writer: %d %s", code, body)
	}
	if code, body, _ := mint("m1", writer); code != http.StatusForbidden || !strings.Contains(body, `agent \"m1\" already exists`) ||
		!strings.Contains(body, "only an admin") {
		t.Fatalf("second token from a writer: %d %s", code, body)
	}

	// The agent runs with its first token.
	dir := actionsDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := agent.New(ctx, agent.Config{Server: s.URL, Token: first, ActionsDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	platformtest.Eventually(t, "m1 online", func() bool {
		return strings.Contains(string(s.Do("GET", "/api/v1/remediation/agents", s.token, nil).Body), `"state":"online"`)
	})

	// An admin mints it again: the old token is dead over HTTP and NATS.
	code, body, second := mint("m1", s.token)
	if code != http.StatusCreated {
		t.Fatalf("admin re-mint: %d %s", code, body)
	}
	if r := s.Do("GET", "/api/v1/remediation/agent/bootstrap", first, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("old token over HTTP: %d %s", r.Status, r.Body)
	}
	var boot agent.Bootstrap
	s.Do("GET", "/api/v1/remediation/agent/bootstrap", second, nil).JSON(t, &boot)
	if boot.Name != "m1" || len(boot.NATS) == 0 {
		t.Fatalf("bootstrap with the new token: %+v", boot)
	}
	if nc, err := nats.Connect(boot.NATS[0], nats.UserInfo("agent:m1", first), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("the old token connected to NATS")
	}
	platformtest.Eventually(t, "the agent on the old token shown revoked", func() bool {
		return strings.Contains(string(s.Do("GET", "/api/v1/remediation/agents", s.token, nil).Body), `"state":"revoked"`)
	})
	entries, _, err := s.Deps().Audit.List(context.Background(), audit.Filter{Action: "remediation.agents.token", Target: "agent:m1"})
	if err != nil {
		t.Fatal(err)
	}
	var denied, revoking int
	for _, e := range entries {
		switch {
		case e.Outcome == audit.OutcomeDenied:
			denied++
		case e.Outcome == audit.OutcomeSuccess && strings.Contains(e.Detail, " revoked=tok_"):
			revoking++
		}
	}
	if denied != 1 || revoking != 1 {
		t.Fatalf("audit: %d denied, %d revoking mints: %+v", denied, revoking, entries)
	}

	// Revoking an agent does not free its name for a writer.
	if code, body, _ := mint("m2", writer); code != http.StatusCreated {
		t.Fatalf("m2: %d %s", code, body)
	}
	if r := s.Do("DELETE", "/api/v1/remediation/agents/m2", writer, nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke m2: %d %s", r.Status, r.Body)
	}
	if code, body, _ := mint("m2", writer); code != http.StatusForbidden {
		t.Fatalf("writer re-minting a revoked agent: %d %s", code, body)
	}
}

// TestAgentRefusesUnsignedRuns: a request on an agent's subject from a
// NATS user other than the server's signer (here the internal user
// itself, as a stolen nats.secret would allow) is refused; a pinned key
// that is not the server's stops the agent from starting.
func TestAgentRefusesUnsignedRuns(t *testing.T) {
	s := start(t)
	dir := actionsDir(t)
	s.startAgent("h1", nil, dir)
	var boot agent.Bootstrap
	tok := s.agentToken("h2")
	s.Do("GET", "/api/v1/remediation/agent/bootstrap", tok, nil).JSON(t, &boot)
	if _, err := agent.ParseRequestKey(boot.RequestKey); err != nil {
		t.Fatalf("bootstrap request key: %v", err)
	}
	nc := s.Deps().Bus.Conn
	forged, _ := agent.NewRequestSigner(ed25519.NewKeyFromSeed(make([]byte, 32)), nil).Sign("h1", "", agent.VerbRun,
		agent.RunRequest{Run: "x1", Action: "noop", Params: json.RawMessage(`{}`)})
	for name, data := range map[string][]byte{
		"unsigned": []byte(`{"run":"x1","action":"noop","params":{}}`),
		"forged":   forged,
	} {
		msg, err := nc.Request(agent.ToAgent("h1")+"."+agent.VerbRun, data, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var rep agent.RunReply
		json.Unmarshal(msg.Data, &rep)
		if rep.Accepted || !strings.Contains(rep.Error, "refused") {
			t.Fatalf("%s run request: %s", name, msg.Data)
		}
	}
	other := agent.FormatRequestKey(ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey))
	_, err := agent.New(context.Background(), agent.Config{Server: s.URL, Token: tok, ActionsDir: dir, RequestKey: other})
	if err == nil || !strings.Contains(err.Error(), "not the pinned request key") {
		t.Fatalf("pinned to another key: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, agent.Config{Server: s.URL, Token: tok, ActionsDir: dir, RequestKey: boot.RequestKey})
	if err != nil {
		t.Fatalf("pinned to the server's key: %v", err)
	}
	cancel()
	a.Run(ctx) // closes its connection
}
