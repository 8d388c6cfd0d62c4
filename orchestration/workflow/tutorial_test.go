package workflow_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	_ "github.com/gaffer-sre/gaffer/orchestration/notebook"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
	"github.com/gaffer-sre/gaffer/orchestration/workflow"
)

// TestTutorial runs docs/workflow-tutorial.md's pipeline from its files
// in examples/workflows/tutorial on an empty server with a real Jupyter
// kernel: the notebook uploaded, the daily workflow applied and three
// days backfilled; each day's notebook run glues its count, and the next
// step announces that day's count.
func TestTutorial(t *testing.T) {
	spec, err := jupyter.FindKernelSpec("python3", jupyter.KernelDirs())
	if err != nil {
		t.Skipf("no python3 kernel spec (install python3-ipykernel): %v", err)
	}
	if err := exec.Command(spec.Argv[0], "-c", "import ipykernel").Run(); err != nil {
		t.Skipf("python3-ipykernel is not importable: %v", err)
	}
	const dir = "../../examples/workflows/tutorial/"
	nb, err := os.ReadFile(dir + "daily-report.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	def, err := os.ReadFile(dir + "daily-report.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := platformtest.Start(t, platformtest.Options{})
	tok := srv.AdminToken
	if r := srv.DoWith("POST", "/api/v1/notebooks?name=daily-report", tok, "application/x-ipynb+json", string(nb)); r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	apply(t, srv, tok, string(def))
	var b workflow.Backfill
	r := srv.Do("POST", "/api/v1/workflows/daily-report/backfills", tok, map[string]any{"from": "2026-12-01T00:00:00Z", "to": "2026-12-04T00:00:00Z"})
	if r.Status != http.StatusCreated {
		t.Fatalf("backfill: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &b)
	platformtest.Eventually(t, "the backfill", func() bool {
		srv.Do("GET", "/api/v1/workflows/daily-report/backfills/"+b.ID, tok, nil).JSON(t, &b)
		return b.Done == 3
	})
	if b.Statuses[workflow.InstanceSucceeded] != 3 {
		t.Fatalf("backfill statuses %v", b.Statuses)
	}
	for no := int64(1); no <= 3; no++ {
		var in workflow.Instance
		srv.Do("GET", fmt.Sprintf("/api/v1/workflows/daily-report/instances/%d", no), tok, nil).JSON(t, &in)
		day := int64(in.Params["TARGET_RUN_DATE"].(float64))
		want := float64(day%97) * 3 // two regions: (day % 97) × (1 + 2)
		for _, st := range in.Steps {
			switch st.ID {
			case "report":
				if st.Output["errors"] != want || st.Ref == "" {
					t.Errorf("day %d: report output %v ref %q, want errors %v", day, st.Output, st.Ref, want)
				}
			case "announce":
				if st.Params["errors"] != want || st.Params["alarming"] != (want > 110) {
					t.Errorf("day %d: announce params %v, want errors %v", day, st.Params, want)
				}
			}
		}
	}
	info, err := srv.Deps().Bus.Stream.Info(t.Context(), jetstream.WithSubjectFilter("gaffer.report.daily"))
	if err != nil || info.State.Subjects["gaffer.report.daily"] != 3 {
		t.Errorf("announcements on the bus: %v %v, want 3", err, info)
	}
}
