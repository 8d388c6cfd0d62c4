package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// genieJob is the part of a Genie v3 job the test reads.
type genieJob struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	StatusMsg string `json:"statusMsg"`
}

// exitCode is a job's exit code, from its execution (Genie v3 keeps it
// there).
func (s *remediationServer) exitCode(t *testing.T, id string) *int {
	t.Helper()
	var e struct {
		ExitCode *int `json:"exitCode"`
	}
	call(t, "GET", s.url("/api/v3/jobs/"+id+"/execution"), s.admin, nil, &e)
	return e.ExitCode
}

func (s *remediationServer) genieJob(t *testing.T, id string) genieJob {
	t.Helper()
	var j genieJob
	call(t, "GET", s.url("/api/v3/jobs/"+id), s.admin, nil, &j)
	return j
}

// waitGenie polls a job until ok holds, failing with the server's log
// after a deadline.
func (s *remediationServer) waitGenie(t *testing.T, id string, ok func(genieJob) bool) genieJob {
	t.Helper()
	var j genieJob
	if !platformtest.WaitFor(time.Minute, func() bool { j = s.genieJob(t, id); return ok(j) }) {
		t.Fatalf("genie job %s: timed out as %+v; server log:\n%s", id, j, s.proc.Log())
	}
	return j
}

func genieEnded(j genieJob) bool {
	switch j.Status {
	case "SUCCEEDED", "FAILED", "KILLED", "INVALID":
		return true
	}
	return false
}

func (s *remediationServer) genieOutput(t *testing.T, id, file string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url("/api/v3/jobs/"+id+"/output/"+file), nil)
	req.Header.Set("Authorization", "Bearer "+s.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("output %s of %s: %d %s", file, id, resp.StatusCode, b)
	}
	return string(b)
}

// processesIn lists the pids of processes whose working directory is dir.
func processesIn(dir string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd")); err == nil && cwd == dir {
			out = append(out, e.Name())
		}
	}
	return out
}

// etlCluster registers a cluster whose jobs run on agent etl-1, with
// commands echo-etl, sleep-etl and id-etl, and one whose agent etl-9
// never connects, with command echo-west; it returns a function that
// submits a job of one of the commands.
func etlCluster(t *testing.T, s *remediationServer) (submit func(id, command, args string)) {
	post := func(path string, body any) {
		t.Helper()
		if code := call(t, "POST", s.url(path), s.admin, body, nil); code != 201 && code != 202 {
			t.Fatalf("POST %s: %d", path, code)
		}
	}
	post("/api/v3/clusters", map[string]any{"id": "etl-east", "name": "etl-east", "user": "dataplat", "version": "1", "status": "UP",
		"tags": []string{"sched:etl", "gaffer.agent:etl-1"}})
	post("/api/v3/clusters", map[string]any{"id": "etl-west", "name": "etl-west", "user": "dataplat", "version": "1", "status": "UP",
		"tags": []string{"sched:etl-west", "gaffer.agent:etl-9"}})
	post("/api/v3/commands", map[string]any{"id": "echo-west", "name": "echo-west", "user": "dataplat", "version": "1", "status": "ACTIVE",
		"executable": "echo", "tags": []string{"type:echo-west"}, "clusterCriteria": []any{map[string]any{"tags": []string{"sched:etl-west"}}}})
	for _, c := range []struct{ id, exe string }{{"echo-etl", "echo"}, {"sleep-etl", "sleep"}, {"id-etl", "id"}} {
		post("/api/v3/commands", map[string]any{"id": c.id, "name": c.id, "user": "dataplat", "version": "1", "status": "ACTIVE",
			"executable": c.exe, "tags": []string{"type:" + c.id}, "clusterCriteria": []any{map[string]any{"tags": []string{"sched:etl"}}}})
	}
	return func(id, command, args string) {
		t.Helper()
		sched := "sched:etl"
		if command == "echo-west" {
			sched = "sched:etl-west"
		}
		post("/api/v3/jobs", map[string]any{"id": id, "name": id, "user": "ana", "version": "1", "commandArgs": args,
			"commandCriteria": []string{"type:" + command}, "clusterCriterias": []any{map[string]any{"tags": []string{sched}}}})
	}
}

// waitProcesses waits until some process runs in dir (want true) or none
// does (want false).
func waitProcesses(t *testing.T, s *remediationServer, dir string, want bool) {
	t.Helper()
	if !platformtest.WaitFor(30*time.Second, func() bool { return (len(processesIn(dir)) > 0) == want }) {
		t.Fatalf("processes in %s: %v, want some: %v; server log:\n%s", dir, processesIn(dir), want, s.proc.Log())
	}
}

// TestGenieJobRunsOnRealAgent is issue 24's acceptance of agents: a job
// resolved to a cluster tagged with an agent runs, through remediation's
// agent runs, as the genie-job action on a real `gaffer agent` process,
// in a directory of its own on the agent's side; it ends SUCCEEDED with
// exit code 0 and its stdout is browsable on the server. A killed job's
// process is stopped on the agent.
func TestGenieJobRunsOnRealAgent(t *testing.T) {
	s := startRemediation(t)
	actions := copyActions(t)
	s.agent(t, "etl-1", actions, "role=etl")
	submit := etlCluster(t, s)

	submit("etl-job-1", "echo-etl", "hello from the 'agent side'")
	j := s.waitGenie(t, "etl-job-1", genieEnded)
	if code := s.exitCode(t, "etl-job-1"); j.Status != "SUCCEEDED" || code == nil || *code != 0 {
		t.Fatalf("job ended %+v, exit code %v; server log:\n%s", j, code, s.proc.Log())
	}
	if got := s.genieOutput(t, "etl-job-1", "stdout"); got != "hello from the agent side\n" {
		t.Errorf("stdout = %q", got)
	}
	agentDir := filepath.Join(actions, "genie-job", "jobs", "etl-job-1")
	if _, err := os.Stat(agentDir); err != nil {
		t.Errorf("the job's directory on the agent's side: %v", err)
	}
	if log := s.genieOutput(t, "etl-job-1", "genie/logs/genie.log"); !strings.Contains(log, "agent etl-1 runs the job") {
		t.Errorf("genie.log does not say the agent ran the job:\n%s", log)
	}

	// A program the host does not list is refused on the host.
	submit("etl-job-3", "id-etl", "")
	if j := s.waitGenie(t, "etl-job-3", genieEnded); j.Status != "FAILED" {
		t.Errorf("a job of a program the host does not allow ended %+v", j)
	}
	if got := s.genieOutput(t, "etl-job-3", "stderr"); !strings.Contains(got, "not in this host's allow-list") {
		t.Errorf("stderr of the refused job = %q", got)
	}

	// A cluster whose agent is not connected fails its jobs, saying so.
	submit("west-job-1", "echo-west", "hi")
	if j := s.waitGenie(t, "west-job-1", genieEnded); j.Status != "FAILED" || !strings.Contains(j.StatusMsg, "etl-9 is not connected") {
		t.Errorf("a job for an agent that is not connected ended %+v", j)
	}

	submit("etl-job-2", "sleep-etl", "300")
	sleepDir := filepath.Join(actions, "genie-job", "jobs", "etl-job-2")
	waitProcesses(t, s, sleepDir, true)
	s.waitGenie(t, "etl-job-2", func(j genieJob) bool { return j.Status == "RUNNING" })
	if code := call(t, "DELETE", s.url("/api/v3/jobs/etl-job-2"), s.admin, nil, nil); code >= 300 {
		t.Fatalf("kill: %d", code)
	}
	j = s.waitGenie(t, "etl-job-2", genieEnded)
	if j.Status != "KILLED" {
		t.Fatalf("killed job ended %+v", j)
	}
	waitProcesses(t, s, sleepDir, false)
}

// TestGenieAgentJobOfADeadServerIsStopped: when the Gaffer process that
// ran a job on an agent dies, the job is failed as lost and its process
// on the agent is stopped, since no one would hear its end.
func TestGenieAgentJobOfADeadServerIsStopped(t *testing.T) {
	s := startRemediation(t, "--genie-lost-after", "4s")
	actions := copyActions(t)
	agentProc := s.agent(t, "etl-1", actions, "role=etl")
	submit := etlCluster(t, s)
	submit("etl-orphan", "sleep-etl", "300")
	dir := filepath.Join(actions, "genie-job", "jobs", "etl-orphan")
	waitProcesses(t, s, dir, true)
	s.waitGenie(t, "etl-orphan", func(j genieJob) bool { return j.Status == "RUNNING" })
	if err := s.proc.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.proc.Cmd.Wait()
	s.start(t)
	s.waitAgent(t, "etl-1", agentProc)
	j := s.waitGenie(t, "etl-orphan", genieEnded)
	if j.Status != "FAILED" || !strings.Contains(j.StatusMsg, "lost") {
		t.Fatalf("the orphaned job ended %+v", j)
	}
	waitProcesses(t, s, dir, false)
}
