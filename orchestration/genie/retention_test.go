package genie_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/genie"
)

// TestRetentionRemovesOldDirectories: once a job has ended longer ago
// than --genie-retention, its directory and archive go and its output
// answers 404 saying why; its record stays, and a running job is left
// alone.
func TestRetentionRemovesOldDirectories(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Now: platformtest.Anchored(testNow), Args: []string{"--genie-retention", "1ms"}})
	tok := srv.Token("genie:write")
	sleepSetup(t, srv, tok)
	srv.Do("POST", "/api/v3/jobs", tok, sleepJob("done", "ana", "0", 0))
	srv.Do("POST", "/api/v3/jobs", tok, sleepJob("running", "bo", "300", 0))
	waitJob(t, srv, tok, "done", ended)
	waitJob(t, srv, tok, "running", func(s string) bool { return s == "RUNNING" })
	dir := filepath.Join(srv.DataDir, "genie", "jobs")
	archive := filepath.Join(srv.DataDir, "genie", "archives", "done.tar.gz")
	if _, err := os.Stat(archive); err != nil {
		t.Fatalf("no archive before the cleanup: %v", err)
	}
	svc, ok := srv.Deps().Lookup(genie.Name)
	if !ok {
		t.Fatal("no genie system")
	}
	platformtest.Eventually(t, "the ended job's directory to go", func() bool {
		if err := svc.(*genie.Service).Cleanup(t.Context()); err != nil {
			t.Fatal(err)
		}
		_, err := os.Stat(filepath.Join(dir, "done"))
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(archive); !os.IsNotExist(err) {
		t.Errorf("archive still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "running", "stdout")); err != nil {
		t.Errorf("the running job's directory went: %v", err)
	}
	r := srv.Do("GET", "/api/v3/jobs/done/output/stdout", tok, nil)
	if r.Status != 404 || !strings.Contains(string(r.Body), "removed after --genie-retention") {
		t.Errorf("output of a cleaned job: %d %s", r.Status, r.Body)
	}
	if j := waitJob(t, srv, tok, "done", ended); j.Status != "SUCCEEDED" || j.ArchiveLocation != "" {
		t.Errorf("the job's record: %+v", j)
	}
	srv.Do("DELETE", "/api/v3/jobs/running", tok, nil)
	waitJob(t, srv, tok, "running", ended)
}
