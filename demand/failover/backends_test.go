package failover_test

import (
	"net/http"
	"testing"

	"github.com/gaffer-sre/gaffer/demand/failover"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/internal/platform/bus/bustest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestOnEachBackend runs an exercise, dark pool sizing, and a plan
// executed and rolled back on SQLite and on PostgreSQL, the latter over
// an external NATS when one is available (as a multi-process
// installation runs).
func TestOnEachBackend(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		srv, _ := start(t, platformtest.Options{Backend: b, ExternalNATS: b.Postgres() && bustest.ExternalAvailable()})
		var x failover.Exercise
		call(t, srv, "POST", "/api/v1/failover/exercises", map[string]any{"regions": 3, "clusters": 20}, http.StatusCreated, &x)
		if r := waitExercise(t, srv, x.ID).Report; !r.Evacuated || !r.Goal.Met {
			t.Fatalf("exercise: %+v", r)
		}
		f := testFleet(t)
		f.Planning.ManageDark = true
		putFleet(t, srv, f)
		var dp failover.DarkPoolResult
		call(t, srv, "POST", "/api/v1/failover/fleets/streaming/darkpools", nil, 200, &dp)
		if dp.Changed == 0 || dp.Version != 2 {
			t.Fatalf("dark pools: %+v", dp)
		}
		rec := planOf(t, srv, failover.PlanRequest{Fleet: "streaming", Request: plan.Request{Evacuate: "eu-west-1"}})
		if rec.Totals.Launch != 0 || rec.Totals.Ungate == 0 {
			t.Errorf("with sized dark pools the plan still launches: %+v", rec.Totals)
		}
		ex := execute(t, srv, rec.ID)
		ex = waitExecution(t, srv, ex.ID, "the end", statusIs(failover.ExecSucceeded, failover.ExecFailed, failover.ExecRolledBack))
		if ex.Status != failover.ExecSucceeded {
			t.Fatalf("%s", describe(ex))
		}
		call(t, srv, "POST", "/api/v1/failover/executions/"+ex.ID+"/rollback", nil, 200, nil)
		if ex = waitExecution(t, srv, ex.ID, "rolled back", statusIs(failover.ExecRolledBack, failover.ExecFailed)); ex.Status != failover.ExecRolledBack {
			t.Fatalf("%s", describe(ex))
		}
	})
}
