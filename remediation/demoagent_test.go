package remediation_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	platformserver "github.com/gaffer-sre/gaffer/internal/platform/server"
	"github.com/gaffer-sre/gaffer/internal/platform/tlsca"
	"github.com/gaffer-sre/gaffer/remediation"
)

// TestDemoAgentRunsTheDemoRunbook: under --demo the server runs
// demo-agent itself; demo-restart, given only defaults, restarts demo-web
// on it — which touches nothing but the agent's state directory — and a
// service that is not a demo service is refused by the action's schema.
// After a restart the agent comes back with the token it had.
func TestDemoAgentRunsTheDemoRunbook(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil { // as the server wants it
		t.Fatal(err)
	}
	s := startWith(t, platformtest.Options{Demo: true, DataDir: dir, Roles: []string{remediation.Name}})
	waitOnline(s, remediation.DemoAgentName)
	ex := s.waitStatus(s.run("demo-restart", map[string]any{}), "succeeded", "failed")
	if ex.Status != "succeeded" {
		t.Fatalf("demo-restart on the demo agent: %s: %s", ex.Status, ex.Error)
	}
	health := output(t, step(ex, "health"))
	item := health["items"].([]any)[0].(map[string]any)
	out := item["output"].(map[string]any)
	if item["agent"] != remediation.DemoAgentName || out["service"] != "demo-web" || out["restarted_at"] == "" {
		t.Fatalf("health step: %v", item)
	}
	if _, err := os.Stat(filepath.Join(dir, remediation.DemoAgentName, "state", "demo-web.restarted")); err != nil {
		t.Fatalf("the restart is not recorded in the demo agent's state: %v", err)
	}
	ex = s.waitStatus(s.run("demo-restart", map[string]any{"agent": remediation.DemoAgentName, "service": "sshd"}), "succeeded", "failed")
	if ex.Status != "failed" || !strings.Contains(ex.Error+step(ex, "restart").Error, "service") {
		t.Fatalf("restart of sshd on the demo agent: %s %q %q, want refused by the action's schema", ex.Status, ex.Error, step(ex, "restart").Error)
	}
	tokens := liveTokens(s)
	s.Shutdown()

	s = startWith(t, platformtest.Options{Demo: true, DataDir: dir, Roles: []string{remediation.Name}})
	waitOnline(s, remediation.DemoAgentName)
	if again := liveTokens(s); again != tokens {
		t.Fatalf("the demo agent's tokens changed across a restart: %q, then %q", tokens, again)
	}
}

func waitOnline(s *server, name string) {
	s.t.Helper()
	platformtest.Eventually(s.t, "agent "+name+" online", func() bool {
		var page struct{ Items []remediation.AgentInfo }
		s.Do("GET", "/api/v1/remediation/agents", s.token, nil).JSON(s.t, &page)
		for _, a := range page.Items {
			if a.Name == name && a.State == "online" {
				return true
			}
		}
		return false
	})
}

// liveTokens lists the IDs of the tokens of the demo agent.
func liveTokens(s *server) string {
	s.t.Helper()
	list, err := s.Deps().Tokens.List(s.t.Context())
	if err != nil {
		s.t.Fatal(err)
	}
	var ids []string
	for _, tok := range list {
		if tok.Identity == "agent:"+remediation.DemoAgentName {
			ids = append(ids, tok.ID)
		}
	}
	return strings.Join(ids, ",")
}

// TestDemoAgentOverTLS: under --tls the demo agent reaches the embedded
// NATS with the data directory's CA, as a `gaffer agent` would with
// --ca-file.
func TestDemoAgentOverTLS(t *testing.T) {
	s := startWith(t, platformtest.Options{Demo: true, Roles: []string{remediation.Name},
		Configure: func(c *platformserver.Config) { c.TLS = true }})
	pinned, err := tlsca.ClientConfig(filepath.Join(s.DataDir, tlsca.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: pinned}}
	platformtest.Eventually(t, "demo agent online over TLS", func() bool {
		req, _ := http.NewRequest("GET", "https://"+s.Addr()+"/api/v1/remediation/agents", nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var page struct{ Items []remediation.AgentInfo }
		json.NewDecoder(resp.Body).Decode(&page)
		for _, a := range page.Items {
			if a.Name == remediation.DemoAgentName && a.State == "online" {
				return true
			}
		}
		return false
	})
}
