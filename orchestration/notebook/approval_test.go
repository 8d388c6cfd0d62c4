package notebook_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/orchestration/notebook"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/nbformat"
)

func waitStatus(t *testing.T, srv *platformtest.Server, tok string, id int64, status string) notebook.Run {
	t.Helper()
	var r notebook.Run
	platformtest.Eventually(t, fmt.Sprintf("run %d to be %s", id, status), func() bool {
		srv.Do("GET", fmt.Sprintf("/api/v1/notebook-runs/%d", id), tok, nil).JSON(t, &r)
		return r.Status == status
	})
	return r
}

// TestRunbookApproval: a run stops before a cell tagged approval until a
// person other than its starter approves (the rest runs) or refuses
// (the run fails there, the cell not run).
func TestRunbookApproval(t *testing.T) {
	needKernel(t)
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		srv := platformtest.Start(t, platformtest.Options{Backend: b})
		admin, bob := srv.AdminToken, srv.Token(notebook.ScopeWrite)
		nb := nbformat.New()
		nb.Metadata["kernelspec"] = map[string]any{"name": "python3", "display_name": "Python 3", "language": "python"}
		nb.Cells = []*nbformat.Cell{
			{ID: "check", CellType: "code", Source: "print('queue depth 12')", Metadata: map[string]any{}, Outputs: []*nbformat.Output{}},
			{ID: "restart", CellType: "code", Source: "print('restarting')", Metadata: map[string]any{"tags": []any{"approval"}}, Outputs: []*nbformat.Output{}},
			{ID: "verify", CellType: "code", Source: "print('verified')", Metadata: map[string]any{}, Outputs: []*nbformat.Output{}},
		}
		data, _ := nb.Marshal()
		upload(t, srv, admin, "restart-queue", string(data))

		var run notebook.Run
		srv.Do("POST", "/api/v1/notebooks/restart-queue/runs", admin, nil).JSON(t, &run)
		run = waitStatus(t, srv, admin, run.ID, notebook.RunWaiting)
		if run.Approval == nil || run.Approval.Cell != 1 || run.CellsDone != 1 {
			t.Fatalf("waiting run %+v", run)
		}
		if page := string(srv.Do("GET", fmt.Sprintf("/notebook-runs/%d", run.ID), bob, nil).Body); !strings.Contains(page, "Waiting for approval") || !strings.Contains(page, "queue depth 12") {
			t.Errorf("run page does not show the wait and the cells before it")
		}
		if r := srv.Do("POST", fmt.Sprintf("/api/v1/notebook-runs/%d/approve", run.ID), admin, nil); r.Status != http.StatusForbidden {
			t.Fatalf("the starter approved their own run: %d %s", r.Status, r.Body)
		}
		if r := srv.Do("POST", fmt.Sprintf("/api/v1/notebook-runs/%d/approve", run.ID), bob, map[string]any{"comment": "go"}); r.Status != http.StatusOK {
			t.Fatalf("approve: %d %s", r.Status, r.Body)
		}
		run = waitRun(t, srv, admin, run.ID)
		if got := printed(t, srv, admin, run.ID); run.Status != notebook.RunCompleted || run.Approval.Decision != "approved" || got != "queue depth 12\nrestarting\nverified\n" {
			t.Fatalf("approved run %+v printed %q", run, got)
		}
		if r := srv.Do("POST", fmt.Sprintf("/api/v1/notebook-runs/%d/approve", run.ID), bob, nil); r.Status != http.StatusConflict {
			t.Fatalf("approve an ended run: %d", r.Status)
		}

		srv.Do("POST", "/api/v1/notebooks/restart-queue/runs", admin, nil).JSON(t, &run)
		waitStatus(t, srv, admin, run.ID, notebook.RunWaiting)
		if r := srv.Do("POST", fmt.Sprintf("/api/v1/notebook-runs/%d/refuse", run.ID), bob, map[string]any{"comment": "not during peak"}); r.Status != http.StatusOK {
			t.Fatalf("refuse: %d %s", r.Status, r.Body)
		}
		run = waitRun(t, srv, admin, run.ID)
		if run.Status != notebook.RunFailed || !strings.Contains(run.Error, "not during peak") || printed(t, srv, admin, run.ID) != "queue depth 12\n" {
			t.Fatalf("refused run %+v printed %q", run, printed(t, srv, admin, run.ID))
		}
	})
}

// printed is the stream text of a run's output notebook.
func printed(t *testing.T, srv *platformtest.Server, tok string, id int64) string {
	t.Helper()
	nb, err := nbformat.Parse(srv.Do("GET", fmt.Sprintf("/api/v1/notebook-runs/%d/output", id), tok, nil).Body)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			b.WriteString(o.Text)
		}
	}
	return b.String()
}
