package genie_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// gafferCLI runs the gaffer binary's client against url and returns its
// standard output, failing the test on an error.
func gafferCLI(t *testing.T, bin, url, tokenFile string, args ...string) string {
	t.Helper()
	flags := []string{"--server", url, "--token-file", tokenFile}
	at := len(args)
	for i, a := range args {
		if a == "--" {
			at = i
			break
		}
	}
	argv := append(append(append([]string{}, args[:at]...), flags...), args[at:]...)
	cmd := exec.Command(bin, argv...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gaffer %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// getJSON reads an API path of a real process.
func getJSON(t *testing.T, url, token, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// TestJobsOnRealProcesses runs `gaffer serve` as a process and drives it
// with the gaffer CLI: resources applied, a job submitted by tags, its
// status and output read; then the server is SIGKILLed while a job runs,
// started again on the same data directory, and the job, which no
// process renews any more, ends FAILED as lost.
func TestJobsOnRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs whole gaffer processes")
	}
	bin := platformtest.BuildGaffer(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	srv := platformtest.StartServe(t, bin, dir, "--genie-lost-after", "3s")
	tokenFile := filepath.Join(dir, "admin.token")
	tok, _ := os.ReadFile(tokenFile)
	token := strings.TrimSpace(string(tok))
	file := filepath.Join(t.TempDir(), "genie.json")
	os.WriteFile(file, []byte(`{"clusters": [{"id": "here", "name": "here", "user": "ops", "version": "1", "tags": ["sched:test"]}],
		"commands": [{"id": "sh", "name": "sh", "user": "ops", "version": "1", "tags": ["type:sh"],
			"executable": "/bin/sh -c 'echo \"$0 says $1\"; sleep \"$1\"'", "clusterCriteria": [{"tags": ["sched:test"]}]},
			{"id": "cat", "name": "cat", "user": "ops", "version": "1", "tags": ["type:cat"], "executable": "cat",
			"clusterCriteria": [{"tags": ["sched:test"]}]}]}`), 0o600)
	if out := gafferCLI(t, bin, srv.URL, tokenFile, "genie", "apply", "-f", file); out != "applied 0 applications, 2 commands, 1 cluster\n" {
		t.Fatalf("apply: %q", out)
	}
	submit := func(cluster, seconds string) string {
		out := gafferCLI(t, bin, srv.URL, tokenFile, "genie", "job", "submit", "--command-tags", "type:sh", "--cluster-tags", cluster,
			"--", "genie", seconds)
		m := regexp.MustCompile(`^submitted job (\S+): command sh on cluster here\n$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("submit: %q", out)
		}
		return m[1]
	}
	status := func(url, id string) (string, string) {
		var j struct{ Status, StatusMsg string }
		getJSON(t, url, token, "/api/v3/jobs/"+id, &j)
		return j.Status, j.StatusMsg
	}

	quick := submit("NAME=here/TAGS=sched:test", "0") // Genie's agent syntax
	if !platformtest.WaitFor(20*time.Second, func() bool { s, _ := status(srv.URL, quick); return ended(s) }) || func() bool { s, _ := status(srv.URL, quick); return s != "SUCCEEDED" }() {
		s, msg := status(srv.URL, quick)
		t.Fatalf("quick job: %s %q; log:\n%s", s, msg, srv.Log())
	}
	if out := gafferCLI(t, bin, srv.URL, tokenFile, "genie", "job", "output", quick); out != "genie says 0\n" {
		t.Errorf("output: %q", out)
	}
	if out := gafferCLI(t, bin, srv.URL, tokenFile, "genie", "job", "status", quick); !strings.Contains(out, "SUCCEEDED") {
		t.Errorf("status: %q", out)
	}
	if out := gafferCLI(t, bin, srv.URL, tokenFile, "genie", "job", "submit", "--wait", "--command-tags", "type:sh",
		"--cluster-tags", "sched:test", "--", "waited", "0"); out != "waited says 0\n" {
		t.Errorf("submit --wait: %q", out)
	}
	// An attachment lands in the job's directory, where cat reads it.
	query := filepath.Join(t.TempDir(), "query.sql")
	os.WriteFile(query, []byte("select 42\n"), 0o600)
	if out := gafferCLI(t, bin, srv.URL, tokenFile, "genie", "job", "submit", "--wait", "--attach", query, "--command-tags", "type:cat",
		"--cluster-tags", "sched:test", "--", "query.sql"); out != "select 42\n" {
		t.Errorf("submit --attach: %q", out)
	}

	slow := submit("sched:test", "30")
	platformtest.Eventually(t, "the slow job to run", func() bool { s, _ := status(srv.URL, slow); return s == "RUNNING" })
	var ex struct {
		ProcessID int `json:"processId"`
	}
	getJSON(t, srv.URL, token, "/api/v3/jobs/"+slow+"/execution", &ex)
	if ex.ProcessID > 0 {
		// The job's process group outlives the killed server.
		defer syscall.Kill(-ex.ProcessID, syscall.SIGKILL)
	}
	srv.Signal(t, syscall.SIGKILL, 10*time.Second)
	again := platformtest.StartServe(t, bin, dir, "--genie-lost-after", "3s")
	platformtest.Eventually(t, "the orphaned job to be failed as lost", func() bool {
		s, msg := status(again.URL, slow)
		return s == "FAILED" && strings.HasPrefix(msg, "Job lost")
	})
	if out := gafferCLI(t, bin, again.URL, tokenFile, "genie", "job", "output", slow); out != "genie says 30\n" {
		t.Errorf("output of the lost job after the restart: %q", out)
	}
}
