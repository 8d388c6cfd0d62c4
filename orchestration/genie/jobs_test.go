package genie_test

import (
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// sleepSetup registers a cluster and a command that sleeps for its
// argument's seconds.
func sleepSetup(t *testing.T, srv *platformtest.Server, tok string) {
	t.Helper()
	for path, body := range map[string]string{
		"/api/v3/clusters": `{"id": "local", "name": "local", "user": "ops", "version": "1", "status": "UP", "tags": ["type:local"]}`,
		"/api/v3/commands": `{"id": "sleep", "name": "sleep", "user": "ops", "version": "1", "status": "ACTIVE", "tags": ["type:sleep"],
			"executable": "/bin/sh -c 'echo started; exec sleep \"$1\"' sleep", "clusterCriteria": [{"tags": ["type:local"]}]}`,
	} {
		if r := srv.DoWith("POST", path, tok, "application/json", body); r.Status != 201 {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
		}
	}
}

func sleepJob(id, user, seconds string, timeout int) map[string]any {
	req := map[string]any{"id": id, "name": "nap", "user": user, "version": "1", "commandArgs": seconds,
		"commandCriteria": []string{"type:sleep"}, "clusterCriterias": []map[string]any{{"tags": []string{"type:local"}}}}
	if timeout > 0 {
		req["timeout"] = timeout
	}
	return req
}

// TestJobKillTimeoutAndUserLimit: a running job is killed through the
// API; a job over its timeout is killed; a user at the active-job limit
// is refused with 429 until a job of theirs ends.
func TestJobKillTimeoutAndUserLimit(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) { testJobKillTimeoutAndUserLimit(t, b) })
}

func testJobKillTimeoutAndUserLimit(t *testing.T, b platformtest.Backend) {
	srv := platformtest.Start(t, platformtest.Options{Backend: b, Now: platformtest.Anchored(testNow),
		Args: []string{"--genie-user-active-limit", "1"}})
	tok := srv.Token("genie:write")
	sleepSetup(t, srv, tok)

	if r := srv.Do("POST", "/api/v3/jobs", tok, sleepJob("long", "ana", "300", 0)); r.Status != 202 {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	waitJob(t, srv, tok, "long", func(s string) bool { return s == "RUNNING" })
	platformtest.Eventually(t, "the job's first output", func() bool {
		return string(srv.Do("GET", "/api/v3/jobs/long/output/stdout", tok, nil).Body) == "started\n"
	})
	r := srv.Do("POST", "/api/v3/jobs", tok, sleepJob("second", "ana", "1", 0))
	if r.Status != 429 || !strings.Contains(string(r.Body), "user ana has 1 unfinished jobs, the limit is 1") {
		t.Errorf("over the limit: %d %s", r.Status, r.Body)
	}
	if r := srv.Do("POST", "/api/v3/jobs", tok, sleepJob("other", "bo", "0", 0)); r.Status != 202 {
		t.Errorf("another user: %d %s", r.Status, r.Body)
	}
	if r := srv.Do("DELETE", "/api/v3/jobs/long", tok, nil); r.Status != 202 {
		t.Fatalf("kill: %d %s", r.Status, r.Body)
	}
	j := waitJob(t, srv, tok, "long", ended)
	if j.Status != "KILLED" || j.StatusMsg != "Job was killed." {
		t.Errorf("killed job: %s %q", j.Status, j.StatusMsg)
	}
	if r := srv.Do("POST", "/api/v3/jobs", tok, sleepJob("short", "ana", "300", 1)); r.Status != 202 {
		t.Fatalf("submit after the kill: %d %s", r.Status, r.Body)
	}
	j = waitJob(t, srv, tok, "short", ended)
	if j.Status != "KILLED" || !strings.Contains(j.StatusMsg, "timeout") {
		t.Errorf("timed-out job: %s %q", j.Status, j.StatusMsg)
	}
	if j := waitJob(t, srv, tok, "other", ended); j.Status != "SUCCEEDED" {
		t.Errorf("bo's job: %s %q", j.Status, j.StatusMsg)
	}
	// The overview counts the killed jobs and lists them.
	body := string(srv.Do("GET", "/api/v1/overview", srv.AdminToken, nil).Body)
	for _, want := range []string{`"title":"Genie jobs"`, `"label":"failed or killed in the last hour","value":"2"`, `"link":"/genie/jobs/long"`} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %s: %s", want, body)
		}
	}
}
