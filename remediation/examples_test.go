package remediation_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func applyExample(t *testing.T, s *server, name string) {
	t.Helper()
	b, err := os.ReadFile("../examples/runbooks/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	s.apply(string(b))
}

// TestExampleRunbooks runs the shipped runbooks against agents running the
// shipped actions.
func TestExampleRunbooks(t *testing.T) {
	s := start(t)
	dir := actionsDir(t)
	s.startAgent("web-1", map[string]string{"role": "web"}, dir)
	s.startAgent("web-2", map[string]string{"role": "web"}, dir)
	// Runs start with the admin token; another operator approves them.
	approver := s.identityToken("olga", "remediation:write")
	for _, n := range []string{"collect-diagnostics", "clean-disk", "restart-service", "rollback-on-error"} {
		applyExample(t, s, n)
	}

	t.Run("collect-diagnostics", func(t *testing.T) {
		ex := s.waitStatus(s.run("collect-diagnostics", map[string]any{"role": "web"}), "succeeded", "failed")
		if ex.Status != "succeeded" || !strings.Contains(string(ex.Vars), `"hosts":2`) {
			t.Fatalf("%s %s vars %s", ex.Status, ex.Error, ex.Vars)
		}
	})

	t.Run("clean-disk", func(t *testing.T) {
		junk, err := os.MkdirTemp("/var/tmp", "gaffer-clean-test-")
		if err != nil {
			t.Skipf("no /var/tmp: %v", err)
		}
		defer os.RemoveAll(junk)
		old := junk + "/old.log"
		os.WriteFile(old, []byte("x"), 0o644)
		past := time.Now().Add(-30 * 24 * time.Hour)
		os.Chtimes(old, past, past)
		os.WriteFile(junk+"/new.log", []byte("y"), 0o644)
		ex := s.waitStatus(s.run("clean-disk", map[string]any{"host": "web-1", "path": junk, "threshold": 0}), "succeeded", "failed", "running")
		for ex.Status == "running" {
			if st := step(ex, "approve"); st != nil && st.Status == "waiting" {
				s.Do("POST", "/api/v1/remediation/executions/"+ex.ID+"/steps/approve/approve", approver,
					map[string]any{"answer": map[string]any{"confirm": true}})
			}
			time.Sleep(20 * time.Millisecond)
			ex = s.exec(ex.ID)
		}
		if ex.Status != "succeeded" {
			t.Fatalf("%s %s", ex.Status, ex.Error)
		}
		if _, err := os.Stat(old); !os.IsNotExist(err) {
			t.Fatal("the old file is still there")
		}
		if _, err := os.Stat(junk + "/new.log"); err != nil {
			t.Fatal("the new file was deleted")
		}
	})

	t.Run("restart-service", func(t *testing.T) {
		svc := fmt.Sprintf("demo-test-%d", time.Now().UnixNano())
		os.MkdirAll("/tmp/gaffer-demo-services", 0o755)
		os.WriteFile("/tmp/gaffer-demo-services/"+svc+".down", nil, 0o644)
		ex := s.waitStatus(s.run("restart-service", map[string]any{"host": "web-2", "service": svc}), "succeeded", "failed")
		if ex.Status != "succeeded" || step(ex, "health").Status != "succeeded" {
			t.Fatalf("%s %s", ex.Status, ex.Error)
		}
		if got := output(t, step(ex, "before"))["items"].([]any)[0].(map[string]any)["output"].(map[string]any)["active"]; got != false {
			t.Fatalf("before the restart the service was active=%v", got)
		}
	})

	t.Run("rollback-on-error", func(t *testing.T) {
		app := fmt.Sprintf("app%d", time.Now().UnixNano())
		ok := s.waitStatus(s.run("rollback-on-error", map[string]any{"app": app, "version": "v2", "previous": "v1"}), "succeeded", "failed")
		if ok.Status != "succeeded" {
			t.Fatalf("good deploy: %s", ok.Error)
		}
		bad := s.waitStatus(s.run("rollback-on-error", map[string]any{"app": app, "version": "v3-bad", "previous": "v2"}), "succeeded", "failed")
		if bad.Status != "failed" || step(bad, "rollback").Status != "succeeded" {
			t.Fatalf("bad deploy: %s %s", bad.Status, bad.Error)
		}
		b, _ := os.ReadFile("/tmp/gaffer-demo-apps/" + app)
		if strings.TrimSpace(string(b)) != "v2" {
			t.Fatalf("after the rollback the app runs %q", b)
		}
	})
}
