package genie

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/remediation/remediationapi"
)

func TestClusterAgentIsNamedByTag(t *testing.T) {
	if got := clusterAgent([]string{"sched:sla", "gaffer.agent:etl-1"}); got != "etl-1" {
		t.Errorf("agent = %q", got)
	}
	if got := clusterAgent([]string{"sched:sla"}); got != "" {
		t.Errorf("agent of an untagged cluster = %q", got)
	}
}

func newTestProcess(t *testing.T) (*agentProcess, string) {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	errf, _ := os.Create(filepath.Join(dir, "stderr"))
	t.Cleanup(func() { out.Close(); errf.Close() })
	e := NewAgentExecutor(nil)
	p := &agentProcess{e: e, id: "j1", agent: "a1", stdout: out, stderr: errf, next: 1,
		pending: map[int]remediationapi.AgentRunOutput{}, done: make(chan struct{})}
	e.procs["j1"] = p
	return p, dir
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAgentOutputIsWrittenInOrder(t *testing.T) {
	p, dir := newTestProcess(t)
	p.output(remediationapi.AgentRunOutput{Stream: "stdout", Seq: 2, Data: []byte("two\n")})
	if got := read(t, filepath.Join(dir, "stdout")); got != "" {
		t.Fatalf("chunk 2 written before chunk 1: %q", got)
	}
	p.output(remediationapi.AgentRunOutput{Stream: "stderr", Seq: 3, Data: []byte("err\n")})
	p.output(remediationapi.AgentRunOutput{Stream: "stdout", Seq: 1, Data: []byte("one\n")})
	p.output(remediationapi.AgentRunOutput{Stream: "stdout", Seq: 1, Data: []byte("again\n")}) // a repeat
	if got := read(t, filepath.Join(dir, "stdout")); got != "one\ntwo\n" {
		t.Errorf("stdout = %q", got)
	}
	if got := read(t, filepath.Join(dir, "stderr")); got != "err\n" {
		t.Errorf("stderr = %q", got)
	}
}

func TestAgentOutputSkipsALostChunk(t *testing.T) {
	p, dir := newTestProcess(t)
	for seq := 2; seq <= maxPending+2; seq++ {
		p.output(remediationapi.AgentRunOutput{Stream: "stdout", Seq: seq, Data: []byte("x")})
	}
	if got := read(t, filepath.Join(dir, "stdout")); got != strings.Repeat("x", maxPending+1) {
		t.Errorf("stdout after chunk 1 was lost = %q", got)
	}
}

func TestAgentResultRewritesOutputAndEnds(t *testing.T) {
	for _, c := range []struct {
		res     remediationapi.AgentRunResult
		code    int
		wantErr string
	}{
		{remediationapi.AgentRunResult{Status: "succeeded", Stdout: "all of it\n", Stderr: "warn\n"}, 0, ""},
		{remediationapi.AgentRunResult{Status: "failed", ExitCode: 3, Stdout: "all of it\n", Stderr: "warn\n"}, 3, ""},
		{remediationapi.AgentRunResult{Status: "rejected", ExitCode: -1, Error: "not in this host's allow-list"}, -1, "allow-list"},
		{remediationapi.AgentRunResult{Status: "lost", ExitCode: -1, Error: "agent a1 restarted"}, -1, "restarted"},
	} {
		p, dir := newTestProcess(t)
		p.output(remediationapi.AgentRunOutput{Stream: "stdout", Seq: 2, Data: []byte("partial")})
		p.result(c.res)
		code, err := p.Wait()
		if code != c.code || (err == nil) != (c.wantErr == "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("%s: Wait = %d, %v; want %d and an error holding %q", c.res.Status, code, err, c.code, c.wantErr)
		}
		if got := read(t, filepath.Join(dir, "stdout")); got != c.res.Stdout {
			t.Errorf("%s: stdout = %q, want %q", c.res.Status, got, c.res.Stdout)
		}
		if p.e.process("j1") != nil {
			t.Errorf("%s: the process is still registered after Wait", c.res.Status)
		}
	}
}

func TestShippedFilesLeaveOutOutputAndLogs(t *testing.T) {
	dir := t.TempDir()
	for p, data := range map[string]string{"stdout": "o", "stderr": "e", "genie/logs/genie.log": "l", "genie/command/c/config/x": "x", "q.sql": "q"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644)
	}
	files, err := shippedFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || string(files["genie/command/c/config/x"]) != "x" || string(files["q.sql"]) != "q" {
		t.Errorf("shipped %v", files)
	}
	os.WriteFile(filepath.Join(dir, "big"), make([]byte, maxShipped), 0o644)
	if _, err := shippedFiles(dir); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("over the limit: %v", err)
	}
}
