package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation"
)

// call sends a JSON request to a gaffer process and decodes the answer.
func call(t *testing.T, method, url, token string, body, out any) int {
	t.Helper()
	return callWith(t, http.DefaultClient, method, url, token, body, out)
}

// callWith sends a JSON (or, for a string body, YAML) request with client
// and decodes a 2xx answer into out; other answers are logged.
func callWith(t *testing.T, client *http.Client, method, url, token string, body, out any) int {
	t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/yaml"
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ct)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// copyActions copies the example actions for an agent process.
func copyActions(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-r", "../../examples/actions/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy actions: %v %s", err, out)
	}
	return dir
}

// remediationServer is a `gaffer serve` process on a fixed NATS port, so
// agents can reconnect after a restart.
type remediationServer struct {
	bin, dir, nats string
	admin          string
	proc           *platformtest.Process
	extra          []string // more flags of `gaffer serve`
}

func startRemediation(t *testing.T, extra ...string) *remediationServer {
	bin := platformtest.BuildGaffer(t)
	s := &remediationServer{bin: bin, dir: t.TempDir(), nats: platformtest.FreeAddr(t), extra: extra}
	s.start(t)
	return s
}

func (s *remediationServer) start(t *testing.T) {
	t.Helper()
	args := []string{"--nats-listen", s.nats, "--job-poll-interval", "50ms",
		"--remediation-lease", "2s", "--remediation-agent-heartbeat", "500ms",
		"--egress-allow", "127.0.0.0/8"} // http steps call test servers on loopback
	s.proc = platformtest.StartServe(t, s.bin, s.dir, append(args, s.extra...)...)
	b, err := os.ReadFile(filepath.Join(s.dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	s.admin = strings.TrimSpace(string(b))
}

func (s *remediationServer) url(path string) string { return s.proc.URL + path }

// agent starts a `gaffer agent` process named name.
func (s *remediationServer) agent(t *testing.T, name, actions string, tags string) *platformtest.Process {
	t.Helper()
	var tok remediation.AgentToken
	if code := call(t, "POST", s.url("/api/v1/remediation/agents/"+name+"/token"), s.admin, nil, &tok); code != 201 {
		t.Fatalf("agent token: %d", code)
	}
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte(tok.Secret+"\n"), 0o600)
	return s.startAgent(t, name, tokFile, actions, tags)
}

func (s *remediationServer) startAgent(t *testing.T, name, tokFile, actions, tags string) *platformtest.Process {
	t.Helper()
	p := platformtest.StartProcess(t, s.bin, "agent", "--server", s.proc.URL, "--token-file", tokFile, "--actions-dir", actions,
		"--tags", tags, "--hostname", name+".test")
	s.waitAgent(t, name, p)
	return p
}

func (s *remediationServer) waitAgent(t *testing.T, name string, p *platformtest.Process) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var page struct{ Items []remediation.AgentInfo }
		call(t, "GET", s.url("/api/v1/remediation/agents"), s.admin, nil, &page)
		for _, a := range page.Items {
			if a.Name == name && a.State == "online" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent %s not online; its log:\n%s", name, p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *remediationServer) execution(t *testing.T, id string) remediation.Execution {
	t.Helper()
	var ex remediation.Execution
	call(t, "GET", s.url("/api/v1/remediation/executions/"+id), s.admin, nil, &ex)
	return ex
}

func (s *remediationServer) waitExec(t *testing.T, id string, done func(remediation.Execution) bool) remediation.Execution {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ex := s.execution(t, id)
		if done(ex) {
			return ex
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(ex, "", "  ")
			t.Fatalf("execution %s: timed out in state:\n%s\nserver log:\n%s", id, b, s.proc.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func stepNamed(ex remediation.Execution, key string) remediation.StepState {
	for _, s := range ex.Steps {
		if s.Key == key {
			return s
		}
	}
	return remediation.StepState{}
}

// TestAcceptanceEventRunsActionOnRealAgent is the acceptance: a
// published alert event triggers a runbook through an events rule; the
// runbook runs a declared action on a real `gaffer agent` process, and the
// result is recorded.
func TestAcceptanceEventRunsActionOnRealAgent(t *testing.T) {
	s := startRemediation(t)
	s.agent(t, "web-1", copyActions(t), "role=web,az=a")
	src, _ := os.ReadFile("../../examples/runbooks/collect-diagnostics.yaml")
	if code := call(t, "POST", s.url("/api/v1/remediation/runbooks"), s.admin, string(src), nil); code != 201 {
		t.Fatalf("apply: %d", code)
	}
	rule := map[string]any{"name": "diagnose firing alerts", "condition": `type == "gaffer.alerting.firing"`,
		"actions": []map[string]any{{"type": "runbook", "runbook": "collect-diagnostics", "params": `{"role": data.labels.role}`}}}
	if code := call(t, "POST", s.url("/api/v1/events/rules"), s.admin, rule, nil); code != 201 {
		t.Fatalf("rule: %d", code)
	}
	ev := map[string]any{"specversion": "1.0", "id": "alert-42", "source": "/alerting/high-load", "type": "gaffer.alerting.firing",
		"data": map[string]any{"alert": "HighLoad", "labels": map[string]string{"role": "web"}}}
	if code := call(t, "POST", s.url("/api/v1/events"), s.admin, ev, nil); code >= 300 {
		t.Fatalf("publish: %d", code)
	}
	var list struct{ Items []remediation.Execution }
	platformtest.Eventually(t, "an execution started by the alert", func() bool {
		call(t, "GET", s.url("/api/v1/remediation/executions"), s.admin, nil, &list)
		return len(list.Items) == 1
	})
	ex := s.waitExec(t, list.Items[0].ID, func(e remediation.Execution) bool { return e.FinishedAt != nil })
	if ex.Status != "succeeded" {
		t.Fatalf("execution %s: %s", ex.Status, ex.Error)
	}
	item := stepNamed(ex, "collect[0]")
	var res struct {
		Agent    string `json:"agent"`
		ExitCode int    `json:"exit_code"`
		Output   struct {
			Hostname string `json:"hostname"`
			Top      []any  `json:"top"`
		} `json:"output"`
	}
	json.Unmarshal(item.Output, &res)
	if item.Agent != "web-1" || res.ExitCode != 0 || res.Output.Hostname == "" {
		t.Fatalf("recorded result: %s", item.Output)
	}
	if ex.Trigger.Kind != "event" || !strings.Contains(string(ex.Trigger.Event), "alert-42") {
		t.Fatalf("trigger: %+v", ex.Trigger)
	}

	// The CLI follows an execution's output live and exits by its result.
	s2 := s
	s2.agent(t, "h1", copyActions(t), "")
	applyRunbook(t, s2, fmt.Sprintf(sleeperRunbook, false))
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"runbook", "run", "sleeper", "-p", "seconds=2", "--wait", "--server", s.proc.URL, "--token", s.admin})
	if err := root.Execute(); err != nil {
		t.Fatalf("run --wait: %v\n%s", err, out.String())
	}
	if got := out.String(); !strings.Contains(got, "[nap[0]] slept 1") || !strings.Contains(got, "[nap[0]] done") ||
		!strings.Contains(got, "succeeded") {
		t.Fatalf("run --wait printed:\n%s", got)
	}
}

const sleeperRunbook = `name: sleeper
params:
  type: object
  properties: {seconds: {type: integer}, idempotent: {type: boolean}}
steps:
  - name: nap
    type: agent
    action: sleep
    params: {seconds: "${{ params.seconds }}"}
    targets: {agent: h1}
    retry: {attempts: 3, backoff: 100ms}
    idempotent: %v
  - name: after
    type: noop
    output: done
`

func applyRunbook(t *testing.T, s *remediationServer, src string) {
	t.Helper()
	if code := call(t, "POST", s.url("/api/v1/remediation/runbooks"), s.admin, src, nil); code >= 300 {
		t.Fatalf("apply: %d", code)
	}
}

func runRunbook(t *testing.T, s *remediationServer, name string, params any) string {
	t.Helper()
	var ex remediation.Execution
	if code := call(t, "POST", s.url("/api/v1/remediation/runbooks/"+name+"/run"), s.admin, map[string]any{"params": params}, &ex); code != 201 {
		t.Fatalf("run: %d", code)
	}
	return ex.ID
}

// TestServerSIGKILLMidExecution kills the server while an agent runs an
// action, and restarts it: the execution resumes where it stopped (the
// agent delivers its result to the new server process, and the run goes
// on). A non-idempotent step the server itself was running when it died
// waits for an operator, who sees why, and can settle it.
func TestServerSIGKILLMidExecution(t *testing.T) {
	s := startRemediation(t)
	s.agent(t, "h1", copyActions(t), "")
	applyRunbook(t, s, fmt.Sprintf(sleeperRunbook, false))
	slow := make(chan struct{}, 1)
	web := newSlowServer(t, slow)
	applyRunbook(t, s, `name: slow-http
steps:
  - name: call
    type: http
    method: POST
    url: "`+web+`"
    timeout: 1m
  - name: after
    type: noop
`)
	id := runRunbook(t, s, "sleeper", map[string]any{"seconds": 3})
	httpID := runRunbook(t, s, "slow-http", nil)
	s.waitExec(t, id, func(e remediation.Execution) bool { return stepNamed(e, "nap[0]").RunID != "" })
	select { // the HTTP step is in flight
	case <-slow:
	case <-time.After(30 * time.Second):
		t.Fatalf("the HTTP step never arrived; server log:\n%s", s.proc.Log())
	}
	if err := s.proc.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.proc.Cmd.Wait()
	s.start(t)

	ex := s.waitExec(t, id, func(e remediation.Execution) bool { return e.FinishedAt != nil })
	if ex.Status != "succeeded" || stepNamed(ex, "nap[0]").Attempt != 1 {
		t.Fatalf("after the server's SIGKILL: %s (%s), nap attempts %d", ex.Status, ex.Error, stepNamed(ex, "nap[0]").Attempt)
	}
	hx := s.waitExec(t, httpID, func(e remediation.Execution) bool { return e.Status == "waiting" })
	if st := stepNamed(hx, "call"); st.Status != "unknown" || !strings.Contains(hx.Attention, "server stopped while the step ran") {
		t.Fatalf("non-idempotent step in flight: %s; attention %q", st.Status, hx.Attention)
	}
	if code := call(t, "POST", s.url("/api/v1/remediation/executions/"+httpID+"/steps/call/resolve"), s.admin,
		map[string]string{"as": "succeeded", "note": "checked by hand"}, nil); code != 200 {
		t.Fatalf("resolve: %d", code)
	}
	if hx = s.waitExec(t, httpID, func(e remediation.Execution) bool { return e.FinishedAt != nil }); hx.Status != "succeeded" {
		t.Fatalf("after resolving: %s %s", hx.Status, hx.Error)
	}
}

// newSlowServer answers POSTs only after a minute, signalling each
// arrival.
func newSlowServer(t *testing.T, arrived chan struct{}) string {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	})}
	addr := platformtest.FreeAddr(t)
	l, err := netListen(addr)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + addr + "/slow"
}

func netListen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
