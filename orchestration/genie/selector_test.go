package genie_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/genie"
)

// TestClusterSelectorFlag: --genie-cluster-selector's CEL expression
// chooses among the candidates (here: the cluster whose metadata says it
// is least loaded), and explain says so.
func TestClusterSelectorFlag(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Now: platformtest.Anchored(testNow),
		Args: []string{"--genie-cluster-selector", `clusters.exists(c, c.metadata.load < 0.5) ? clusters.filter(c, c.metadata.load < 0.5)[0].id : null`}})
	tok := srv.Token("genie:write")
	for _, body := range []string{
		`{"id": "busy", "name": "busy", "user": "ops", "version": "1", "tags": ["pool:x"], "metadata": {"load": 0.9}}`,
		`{"id": "idle", "name": "idle", "user": "ops", "version": "1", "tags": ["pool:x"], "metadata": {"load": 0.1}}`,
		`{"id": "full", "name": "full", "user": "ops", "version": "1", "tags": ["pool:x"], "metadata": {"load": 1.0}}`,
	} {
		if r := srv.DoWith("POST", "/api/v3/clusters", tok, "application/json", body); r.Status != 201 {
			t.Fatalf("cluster: %d %s", r.Status, r.Body)
		}
	}
	if r := srv.DoWith("POST", "/api/v3/commands", tok, "application/json", `{"id": "t", "name": "true", "user": "ops", "version": "1",
		"tags": ["type:true"], "executable": "true", "clusterCriteria": [{"tags": ["pool:x"]}]}`); r.Status != 201 {
		t.Fatalf("command: %d %s", r.Status, r.Body)
	}
	req := map[string]any{"name": "n", "user": "u", "version": "1", "commandCriteria": []string{"type:true"},
		"clusterCriterias": []map[string]any{{"tags": []string{"pool:x"}}}}
	for i := 0; i < 5; i++ {
		r := srv.Do("POST", "/api/v3/jobs", tok, req)
		if r.Status != 202 {
			t.Fatalf("submit: %d %s", r.Status, r.Body)
		}
		j := waitJob(t, srv, tok, strings.TrimPrefix(r.Header.Get("Location"), "/api/v3/jobs/"), ended)
		if j.ClusterName != "idle" || j.Status != "SUCCEEDED" {
			t.Fatalf("job %d ran on %s (%s), want idle", i, j.ClusterName, j.Status)
		}
	}
	var exp struct {
		Cluster, Rationale string
		Candidates         int
	}
	srv.Do("POST", "/api/v3/jobs/explain", tok, req).JSON(t, &exp)
	if exp.Cluster != "idle" || exp.Rationale != "chosen by the CEL selector" || exp.Candidates != 3 {
		t.Errorf("explain: %+v", exp)
	}
}

// TestSettingsAreChecked: bad settings stop the system from starting,
// naming the flag.
func TestSettingsAreChecked(t *testing.T) {
	for want, change := range map[string]func(*genie.Settings){
		"--genie-cluster-selector":  func(s *genie.Settings) { s.Selector = "clusters[" },
		"--genie-user-active-limit": func(s *genie.Settings) { s.UserActiveLimit = -1 },
		"--genie-default-timeout":   func(s *genie.Settings) { s.DefaultTimeout = 0 },
		"--genie-lost-after":        func(s *genie.Settings) { s.LostAfter = time.Second },
		"--genie-cel-cost-limit":    func(s *genie.Settings) { s.CEL.Cost = 0 },
		"--genie-retention":         func(s *genie.Settings) { s.Retention = -time.Hour },
	} {
		set := genie.DefaultSettings()
		change(set)
		_, err := genie.New(t.Context(), &platform.Deps{Settings: map[string]any{genie.Name: set}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}
