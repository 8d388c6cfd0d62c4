package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestCELBudgetFlagsOnBinary: --events-cel-max-size changes the size
// budget of event conditions (a replace building 2,000 bytes is stopped
// at 1,000, and the replay says so), and a budget with a zero limit stops
// the server from starting with an error naming the flag.
func TestCELBudgetFlagsOnBinary(t *testing.T) {
	bin := platformtest.BuildGaffer(t)
	out, err := exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--roles", "events",
		"--events-cel-timeout", "0s").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "events-cel-timeout: must be positive") {
		t.Fatalf("serve with --events-cel-timeout 0s: %v\n%s", err, out)
	}

	dir := t.TempDir()
	srv := platformtest.StartServe(t, bin, dir, "--roles", "events", "--events-cel-max-size", "1000")
	b, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(b))
	post := func(path, ct string, body any) (int, []byte) {
		t.Helper()
		j, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(j))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	ev := map[string]any{"specversion": "1.0", "id": "cel-1", "source": "/celtest", "type": "gaffer.test.cel",
		"data": map[string]any{"s": strings.Repeat("a", 200)}}
	if code, body := post("/api/v1/events", "application/cloudevents+json", ev); code != http.StatusAccepted {
		t.Fatalf("publish: %d %s", code, body)
	}
	rule := func(cond string) map[string]any {
		return map[string]any{"since": "1h", "rule": map[string]any{"name": "try", "condition": `source == "/celtest" && ` + cond,
			"actions": []map[string]any{{"type": "publish", "event_type": "gaffer.test.out"}}}}
	}
	var res struct {
		Scanned, Matched, EvalErrors int
		BudgetExceeded               int    `json:"budget_exceeded"`
		LastEvalError                string `json:"last_eval_error"`
	}
	platformtest.Eventually(t, "the event to be replayable", func() bool {
		code, body := post("/api/v1/events/replay", "application/json", rule(`data.s.size() == 200`))
		return code == 200 && json.Unmarshal(body, &res) == nil && res.Matched == 1
	})
	// 200 bytes to 1,000 is within the budget; to 2,000 is not.
	for _, c := range []struct {
		cond    string
		matched int
	}{{`data.s.replace("a", "aaaaa").size() > 0`, 1}, {`data.s.replace("a", "aaaaaaaaaa").size() > 0`, 0}} {
		code, body := post("/api/v1/events/replay", "application/json", rule(c.cond))
		if code != 200 || json.Unmarshal(body, &res) != nil {
			t.Fatalf("replay %s: %d %s", c.cond, code, body)
		}
		if res.Matched != c.matched {
			t.Fatalf("replay %s: matched %d, want %d: %s", c.cond, res.Matched, c.matched, body)
		}
		if c.matched == 0 && (res.BudgetExceeded != 1 || !strings.Contains(res.LastEvalError, "CEL size limit of 1000")) {
			t.Fatalf("replay %s: %s, want the size budget of 1000 named", c.cond, body)
		}
	}
}
