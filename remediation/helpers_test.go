package remediation_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation"
	"github.com/gaffer-sre/gaffer/remediation/agent"
)

// server is a test server with the remediation system.
type server struct {
	*platformtest.Server
	t     testing.TB
	token string
}

func start(t testing.TB, args ...string) *server {
	t.Helper()
	return startWith(t, platformtest.Options{}, args...)
}

// startWith is start with the server's options (o.Args are replaced).
func startWith(t testing.TB, o platformtest.Options, args ...string) *server {
	t.Helper()
	o.Args = append([]string{"--remediation-lease", "1s", "--remediation-agent-heartbeat", "200ms"}, args...)
	srv := platformtest.Start(t, o)
	return &server{Server: srv, t: t, token: srv.AdminToken}
}

func (s *server) svc() *remediation.Service {
	svc, ok := s.Deps().Lookup(remediation.Name)
	if !ok {
		s.t.Fatal("remediation is not running")
	}
	return svc.(*remediation.Service)
}

// apply stores a runbook, failing the test on error.
func (s *server) apply(src string) remediation.ApplyResult {
	s.t.Helper()
	resp := s.DoWith("POST", "/api/v1/remediation/runbooks", s.token, "application/yaml", src)
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		s.t.Fatalf("apply: %d %s", resp.Status, resp.Body)
	}
	var res remediation.ApplyResult
	resp.JSON(s.t, &res)
	return res
}

// run starts a runbook and returns the execution's ID.
func (s *server) run(name string, params any) string {
	s.t.Helper()
	p, _ := json.Marshal(params)
	resp := s.Do("POST", "/api/v1/remediation/runbooks/"+name+"/run", s.token, map[string]any{"params": json.RawMessage(p)})
	if resp.Status != http.StatusCreated {
		s.t.Fatalf("run %s: %d %s", name, resp.Status, resp.Body)
	}
	var ex remediation.Execution
	resp.JSON(s.t, &ex)
	return ex.ID
}

func (s *server) exec(id string) *remediation.Execution {
	s.t.Helper()
	resp := s.Do("GET", "/api/v1/remediation/executions/"+id, s.token, nil)
	if resp.Status != 200 {
		s.t.Fatalf("get execution %s: %d %s", id, resp.Status, resp.Body)
	}
	var ex remediation.Execution
	resp.JSON(s.t, &ex)
	return &ex
}

// waitStatus waits until the execution is in one of the statuses.
func (s *server) waitStatus(id string, statuses ...string) *remediation.Execution {
	s.t.Helper()
	var ex *remediation.Execution
	deadline := time.Now().Add(30 * time.Second)
	for {
		ex = s.exec(id)
		for _, st := range statuses {
			if ex.Status == st {
				return ex
			}
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(ex, "", "  ")
			s.t.Fatalf("execution %s is %s, want %v:\n%s", id, ex.Status, statuses, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func step(ex *remediation.Execution, key string) *remediation.StepState {
	for i := range ex.Steps {
		if ex.Steps[i].Key == key {
			return &ex.Steps[i]
		}
	}
	return nil
}

func output(t *testing.T, st *remediation.StepState) map[string]any {
	t.Helper()
	if st == nil {
		t.Fatal("no such step")
	}
	var m map[string]any
	if err := json.Unmarshal(st.Output, &m); err != nil {
		t.Fatalf("step %s output %s: %v", st.Key, st.Output, err)
	}
	return m
}

// identityToken creates a token bound to an identity.
func (s *server) identityToken(identity string, scopes ...string) string {
	s.t.Helper()
	_, secret, err := s.Deps().Tokens.Create(context.Background(), auth.CreateRequest{Name: identity, Identity: identity, Scopes: scopes})
	if err != nil {
		s.t.Fatal(err)
	}
	return secret
}

// agentToken creates a token for agent name.
func (s *server) agentToken(name string) string {
	s.t.Helper()
	resp := s.Do("POST", "/api/v1/remediation/agents/"+name+"/token", s.token, nil)
	if resp.Status != http.StatusCreated {
		s.t.Fatalf("agent token: %d %s", resp.Status, resp.Body)
	}
	var tok remediation.AgentToken
	resp.JSON(s.t, &tok)
	return tok.Secret
}

// startAgent runs an in-process agent with the example actions until the
// test ends.
func (s *server) startAgent(name string, tags map[string]string, actionsDir string) *agent.Agent {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, agent.Config{Server: s.URL, Token: s.agentToken(name), ActionsDir: actionsDir, Tags: tags,
		Hostname: name + ".test", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		cancel()
		s.t.Fatalf("agent %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	s.t.Cleanup(func() { cancel(); <-done })
	platformtest.Eventually(s.t, "agent "+name+" online", func() bool {
		resp := s.Do("GET", "/api/v1/remediation/agents", s.token, nil)
		return strings.Contains(string(resp.Body), `"name":"`+name+`"`) && strings.Contains(string(resp.Body), `"online"`)
	})
	return a
}

// actionsDir copies the example actions and testdata actions to a
// temporary directory.
func actionsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, src := range []string{"../examples/actions", "testdata/actions"} {
		entries, err := os.ReadDir(src)
		if err != nil {
			continue
		}
		for _, e := range entries {
			copyDir(t, filepath.Join(src, e.Name()), filepath.Join(dir, e.Name()))
		}
	}
	return dir
}

func copyDir(t testing.TB, from, to string) {
	t.Helper()
	filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, fi.Mode())
	})
}

// waitWakesDone waits until every wake job of the execution (a sleep's
// end, a retry, a timeout) has finished, so that whatever it was to set
// off has happened by the time the caller looks.
func (s *server) waitWakesDone(id string) {
	s.t.Helper()
	platformtest.Eventually(s.t, "the wake jobs of "+id+" to finish", func() bool {
		list, err := s.Deps().Jobs.List(s.t.Context(), jobs.ListFilter{Kinds: []string{"remediation.wake"},
			States: []string{jobs.StateAvailable, jobs.StateScheduled, jobs.StateRunning, jobs.StateRetryable, jobs.StatePending}, Limit: 1000})
		if err != nil {
			s.t.Fatalf("list wake jobs: %v", err)
		}
		for _, j := range list.Jobs {
			// Decoded, not matched as text: PostgreSQL stores the
			// arguments as jsonb, which spaces them differently.
			var args struct{ Exec, Reason string }
			if err := json.Unmarshal(j.Args, &args); err != nil {
				s.t.Fatalf("wake job %d arguments %s: %v", j.ID, j.Args, err)
			}
			if args.Exec == id && args.Reason != "deadline" {
				return false
			}
		}
		return true
	})
}
