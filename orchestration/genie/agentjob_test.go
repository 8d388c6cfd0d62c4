package genie

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseAgentJobRefusesBadFields(t *testing.T) {
	for _, c := range []struct{ job, field string }{
		{`{"argv":["echo"]}`, "job_id: required"},
		{`{"job_id":"../x","argv":["echo"]}`, "job_id"},
		{`{"job_id":"j1","argv":[]}`, "argv"},
		{`{"job_id":"j1","argv":["echo","a\u0000b"]}`, "argv[1]"},
		{`{"job_id":"j1","argv":["echo"],"env":["NOEQUALS"]}`, "env[0]"},
		{`{"job_id":"j1","argv":["echo"],"env":["1X=y"]}`, "env[0]"},
		{`{"job_id":"j1","argv":["echo"],"files":{"../escape":"eA=="}}`, "files"},
		{`{"job_id":"j1","argv":["echo"],"files":{"/etc/passwd":"eA=="}}`, "files"},
		{`{"job_id":"j1","argv":["echo"],"files":{"stdout":"eA=="}}`, "files"},
		{`{"job_id":"j1","argv":["echo"],"shell":true}`, "unknown field"},
	} {
		_, err := parseAgentJob([]byte(c.job))
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %v, want one naming %q", c.job, err, c.field)
		}
	}
	j, err := parseAgentJob([]byte(`{"job_id":"j1","argv":["echo","hi"],"env":["A=b=c"],"files":{"conf/x.yaml":"eDogMQ=="}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(j.Files["conf/x.yaml"]) != "x: 1" || j.Env[0] != "A=b=c" {
		t.Errorf("parsed %+v", j)
	}
}

func TestAllowListDecidesTheProgram(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "tool")
	os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755)
	link := filepath.Join(dir, "tool-link")
	os.Symlink(prog, link)
	other := filepath.Join(dir, "other")
	os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755)
	allowed, err := parseAllowed(strings.NewReader("# programs\n\n" + prog + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + dir}
	for _, c := range []struct {
		argv0 string
		ok    bool
	}{{prog, true}, {"tool", true}, {link, true}, {"tool-link", true}, {other, false}, {"other", false},
		{"./tool", false}, {"missing", false}} {
		_, err := programFor(&agentJob{Argv: []string{c.argv0}, Env: env}, allowed)
		if (err == nil) != c.ok {
			t.Errorf("%s: error %v, want allowed=%v", c.argv0, err, c.ok)
		}
	}
	for _, bad := range []string{"relative/path", "/usr/../bin/sh"} {
		if _, err := parseAllowed(strings.NewReader(bad + "\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("allow-list %q: error %v, want one naming line 1", bad, err)
		}
	}
}

func TestStageAgentJobWritesFilesInsideItsDirectory(t *testing.T) {
	jobs := t.TempDir()
	j, err := parseAgentJob([]byte(`{"job_id":"j7","argv":["true"],"files":{"genie/command/c1/config/a.conf":"YQ==","run.sh":"ZWNobw=="}}`))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := stageAgentJob(j, jobs)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(jobs, "j7") {
		t.Errorf("dir = %s", dir)
	}
	for p, want := range map[string]string{"genie/command/c1/config/a.conf": "a", "run.sh": "echo"} {
		if b, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", p, b, err, want)
		}
	}
}

func FuzzParseAgentJob(f *testing.F) {
	f.Add([]byte(`{"job_id":"j1","argv":["echo","hi"],"env":["A=b"],"files":{"x/y":"eA=="}}`))
	f.Add([]byte(`{"job_id":"..","argv":[""]}`))
	f.Add([]byte(`{"job_id":"j","argv":["a"],"files":{"../../x":""}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := parseAgentJob(data)
		if err != nil {
			return
		}
		if validID(j.JobID) != nil || len(j.Argv) == 0 {
			t.Fatalf("accepted %s", data)
		}
		for p := range j.Files {
			if !filepath.IsLocal(p) {
				t.Fatalf("accepted the path %q", p)
			}
		}
		if _, err := json.Marshal(j); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseAllowed(f *testing.F) {
	f.Add("/bin/echo\n# c\n\n/usr/bin/sleep\n")
	f.Add("bin/echo")
	f.Fuzz(func(t *testing.T, s string) {
		allowed, err := parseAllowed(strings.NewReader(s))
		if err != nil {
			return
		}
		for p := range allowed {
			if !filepath.IsAbs(p) {
				t.Fatalf("allowed the relative path %q", p)
			}
		}
	})
}

func TestPruneJobDirsRemovesOnlyOldDirectories(t *testing.T) {
	jobs := t.TempDir()
	now := time.Date(2026, 12, 7, 8, 20, 0, 0, time.UTC)
	for name, age := range map[string]time.Duration{"old": 8 * 24 * time.Hour, "new": time.Hour} {
		p := filepath.Join(jobs, name)
		os.MkdirAll(p, 0o755)
		os.WriteFile(filepath.Join(p, "stdout"), []byte("x"), 0o644)
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	old := filepath.Join(jobs, "old-file")
	os.WriteFile(old, nil, 0o644)
	os.Chtimes(old, now.Add(-30*24*time.Hour), now.Add(-30*24*time.Hour))
	if err := pruneJobDirs(jobs, now.Add(-7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(jobs)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if strings.Join(left, " ") != "new old-file" {
		t.Errorf("left %v, want the recent directory and the file", left)
	}
	if err := pruneJobDirs(filepath.Join(jobs, "missing"), now); err != nil {
		t.Errorf("a jobs directory not made yet: %v", err)
	}
}
