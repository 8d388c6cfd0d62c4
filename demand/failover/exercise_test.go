package failover_test

import (
	"net/http"
	"testing"

	"github.com/gaffer-sre/gaffer/demand/failover"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestExerciseThroughTheAPI runs small exercises end to end: the fleet is
// generated, the plan made, the execution run as a job chain on the
// simulator, and the report tells the timeline in simulated time.
func TestExerciseThroughTheAPI(t *testing.T) {
	srv, _ := start(t, platformtest.Options{})
	for _, dark := range []bool{true, false} {
		var x failover.Exercise
		call(t, srv, "POST", "/api/v1/failover/exercises", map[string]any{"regions": 3, "clusters": 30, "evacuate": "us-west-2",
			"dark": dark, "provider": "simulator"}, http.StatusCreated, &x)
		x = waitExercise(t, srv, x.ID)
		r := x.Report
		t.Logf("dark=%v evacuated=%v simulated=%.0fs plan=%.3fs control=%.2fs goal=%v", dark, r.Evacuated, r.SimulatedSeconds,
			r.PlanSeconds, r.ControlPlaneSeconds, r.Goal.Met)
		if !r.Evacuated || r.Status != failover.ExecSucceeded {
			t.Fatalf("dark=%v: not evacuated: %+v", dark, r)
		}
		// The baseline's 45–50 minutes need hundreds of services (the
		// slowest start-up decides); 30 clusters fall a little short.
		if dark && !r.Goal.Met {
			t.Errorf("goal not met: %+v", r.Goal)
		}
		if !dark && r.SimulatedSeconds < 30*60 {
			t.Errorf("without dark capacity the evacuation took %.0fs, want more than 30 minutes", r.SimulatedSeconds)
		}
		last := 0.0
		for _, ph := range r.Timeline {
			if ph.Start < last-1e-9 || ph.End < ph.Start {
				t.Errorf("phase %s out of order: %+v", ph.Phase, ph)
			}
			last = ph.End
		}
		if last != r.SimulatedSeconds {
			t.Errorf("timeline ends at %v, simulated_seconds %v", last, r.SimulatedSeconds)
		}
	}
}
