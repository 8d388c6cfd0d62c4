package failover_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// client talks to a gaffer serve process.
type client struct {
	t     *testing.T
	url   string
	token string
}

func (c *client) do(method, path, contentType string, body []byte, want int, out any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// TestExecutionSurvivesSIGKILL kills the server while a step's call to
// the infrastructure is in flight; the restarted server takes the
// execution over and finishes it, and the repeated call changes nothing.
func TestExecutionSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs gaffer")
	}
	bin := platformtest.BuildGaffer(t)
	dir := t.TempDir()
	f := testFleet(t)
	in := newInfra(t, f)
	y, err := webhookFleet(t, in.srv.URL).YAML()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--failover-lease", "2s", "--roles", "failover", "--egress-allow", "127.0.0.0/8"} // the webhook is on loopback
	p := platformtest.StartServe(t, bin, dir, args...)
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, url: p.URL, token: strings.TrimSpace(string(tok))}
	c.do("PUT", "/api/v1/failover/fleets/streaming", "application/yaml", y, http.StatusCreated, nil)
	req, _ := json.Marshal(failover.PlanRequest{Fleet: "streaming", Request: plan.Request{Evacuate: "us-west-2"}})
	var rec failover.PlanRecord
	c.do("POST", "/api/v1/failover/plans", "application/json", req, http.StatusCreated, &rec)

	in.blockAt("/steer", 2)
	var ex failover.Execution
	c.do("POST", "/api/v1/failover/plans/"+rec.ID+"/execute", "", nil, http.StatusCreated, &ex)
	<-in.held
	if err := p.Signal(t, syscall.SIGKILL, 10*time.Second); err == nil {
		t.Fatal("gaffer exited cleanly after SIGKILL")
	}
	in.release() // the killed server's call now lands

	p = platformtest.StartServe(t, bin, dir, args...)
	c.url = p.URL
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c.do("GET", "/api/v1/failover/executions/"+ex.ID, "", nil, http.StatusOK, &ex)
		if ex.Status != failover.ExecRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not finished after the restart: %s\n%s", describe(&ex), p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ex.Status != failover.ExecSucceeded {
		t.Fatalf("after the restart: %s", describe(&ex))
	}
	// Five steering changes (four edge increments, one DNS flip); the
	// interrupted one was sent again and changed nothing.
	if got := in.count("/steer"); got != 6 {
		t.Errorf("%d steering calls, want 6 (one repeated)", got)
	}
	if calls := in.sim.Calls(); calls["steer_edge"] != 4 || calls["steer_dns"] != 1 || calls["scale"] != 1 || calls["ungate"] != 1 {
		t.Errorf("changes made: %v", calls)
	}
	keys := in.keys["/steer"]
	if keys[1] != keys[2] {
		t.Errorf("the repeated call has another idempotency key: %v", keys)
	}
	p.Signal(t, syscall.SIGTERM, 30*time.Second)
}
