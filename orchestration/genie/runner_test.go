package genie_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

func genieWorkflow(id, seconds string) string {
	return fmt.Sprintf(`{"workflow": {"id": %q, "steps": [
	  {"step": {"id": "nap", "type": "genie", "retry_policy": {"error_retry_limit": 0},
	    "params": {"command_tags": {"value": "type:sleep", "type": "STRING"},
	      "cluster_tags": {"value": ["type:local"], "type": "STRING_ARRAY"},
	      "args": {"value": %q, "type": "STRING"}}}}]}}`, id, seconds)
}

func startInstance(t *testing.T, srv *platformtest.Server, tok, wf string) workflow.Instance {
	t.Helper()
	resp := srv.DoWith("POST", "/api/v1/workflows?file=x.json", tok, "application/json", genieWorkflow(wf, map[string]string{"quick": "0", "slow": "300", "bad": "'open"}[wf]))
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		t.Fatalf("apply: %d %s", resp.Status, resp.Body)
	}
	var in workflow.Instance
	srv.Do("POST", "/api/v1/workflows/"+wf+"/instances", tok, nil).JSON(t, &in)
	return in
}

func instance(t *testing.T, srv *platformtest.Server, tok, wf string, no int64) workflow.Instance {
	var in workflow.Instance
	srv.Do("GET", fmt.Sprintf("/api/v1/workflows/%s/instances/%d", wf, no), tok, nil).JSON(t, &in)
	return in
}

// TestWorkflowGenieStep runs Genie jobs as workflow steps: a job that
// succeeds gives the step its outputs and a link to the job's page;
// stopping the instance kills its running job; params that cannot make
// a job fail the step.
func TestWorkflowGenieStep(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Now: platformtest.Anchored(testNow)})
	tok := srv.AdminToken
	sleepSetup(t, srv, tok)

	in := startInstance(t, srv, tok, "quick")
	platformtest.Eventually(t, "the quick instance to end", func() bool {
		in = instance(t, srv, tok, "quick", in.InstanceID)
		return in.Status == workflow.InstanceSucceeded || in.Status == workflow.InstanceFailed
	})
	if in.Status != workflow.InstanceSucceeded || len(in.Steps) != 1 {
		t.Fatalf("quick: %s %s %+v", in.Status, in.Error, in.Steps)
	}
	st := in.Steps[0]
	id, _ := st.Output["job_id"].(string)
	if st.Output["status"] != "SUCCEEDED" || st.Output["exit_code"] != float64(0) || st.Output["cluster"] != "local" ||
		st.Ref != "/genie/jobs/"+id || !strings.HasPrefix(id, "wf-") {
		t.Errorf("step: output %v, ref %q", st.Output, st.Ref)
	}

	slow := startInstance(t, srv, tok, "slow")
	var jobID string
	platformtest.Eventually(t, "the slow step's job to run", func() bool {
		var found struct {
			Embedded map[string][]struct{ ID, Status string } `json:"_embedded"`
		}
		srv.Do("GET", "/api/v3/jobs?status=RUNNING&user=workflow", tok, nil).JSON(t, &found)
		if l := found.Embedded["jobSearchResultList"]; len(l) == 1 {
			jobID = l[0].ID
			return true
		}
		return false
	})
	if r := srv.Do("POST", fmt.Sprintf("/api/v1/workflows/slow/instances/%d/stop", slow.InstanceID), tok, nil); r.Status != 200 {
		t.Fatalf("stop: %d %s", r.Status, r.Body)
	}
	if j := waitJob(t, srv, tok, jobID, ended); j.Status != "KILLED" {
		t.Errorf("the stopped step's job: %s %q", j.Status, j.StatusMsg)
	}

	bad := startInstance(t, srv, tok, "bad")
	platformtest.Eventually(t, "the bad instance to fail", func() bool {
		bad = instance(t, srv, tok, "bad", bad.InstanceID)
		return bad.Status == workflow.InstanceFailed
	})
	if len(bad.Steps) != 1 || !strings.Contains(bad.Steps[0].Error, "args: command line: quote ' at byte 0 is not closed") {
		t.Errorf("bad params: %+v", bad.Steps)
	}
}
