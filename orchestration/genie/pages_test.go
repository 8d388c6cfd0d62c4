package genie_test

import (
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestPages: the job list and its filters, a job's page with its
// output and (while it runs) its live fragment and Kill button, and the
// clusters and commands with their tags.
func TestPages(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Now: platformtest.Anchored(testNow)})
	tok := srv.AdminToken
	register(t, srv, tok)
	srv.DoWith("POST", "/api/v3/jobs", tok, "application/json", readFile(t, "job_request.json"))
	waitJob(t, srv, tok, "job-compat-1", ended)
	sleepSetup(t, srv, tok)
	srv.Do("POST", "/api/v3/jobs", tok, sleepJob("napping", "bo", "300", 0))
	waitJob(t, srv, tok, "napping", func(s string) bool { return s == "RUNNING" })
	for path, wants := range map[string][]string{
		"/genie/jobs":                          {`href="/genie/jobs/job-compat-1"`, "nightly-report", "SUCCEEDED", "yarn-east", `href="/genie/jobs/napping"`},
		"/genie/jobs?status=RUNNING":           {`href="/genie/jobs/napping"`},
		"/genie/jobs?user=ana&tag=team:growth": {"nightly-report"},
		"/genie/jobs/job-compat-1":             {`id="stdout"`, "ran: --date 2026-12-07 two words", `id="stderr"`, "oops", `id="exit-code">0<`, "type:echo"},
		"/genie/jobs/napping":                  {`hx-get="/genie/jobs/napping/live"`, `id="kill"`, "RUNNING"},
		"/genie/jobs/napping/live":             {`id="live"`, "started"},
		"/genie/clusters":                      {"yarn-east", "sched:sla", "region:east", "UP"},
		"/genie/commands":                      {"echo", "[TAGS=sched:sla]", "yarn-east", "type:echo"},
	} {
		resp := srv.Do("GET", path, tok, nil)
		if resp.Status != 200 {
			t.Errorf("%s: %d", path, resp.Status)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(string(resp.Body), w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
	}
	for path, unwanted := range map[string]string{
		"/genie/jobs?status=RUNNING": "job-compat-1",
		"/genie/jobs/job-compat-1":   `hx-get=`,
		"/genie/clusters":            "genie.id:",
	} {
		if resp := srv.Do("GET", path, tok, nil); strings.Contains(string(resp.Body), unwanted) {
			t.Errorf("%s shows %q", path, unwanted)
		}
	}
	if resp := srv.Do("GET", "/genie/jobs/nosuch", tok, nil); resp.Status != 404 {
		t.Errorf("an unknown job's page: %d", resp.Status)
	}
	srv.Do("DELETE", "/api/v3/jobs/napping", tok, nil)
	waitJob(t, srv, tok, "napping", ended)
}
