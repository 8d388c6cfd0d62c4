package step_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/exercise"
	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
	"github.com/gaffer-sre/gaffer/demand/failover/sim"
	"github.com/gaffer-sre/gaffer/demand/failover/step"
)

var start = time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)

// setup plans the evacuation of us-east-1 from a small generated fleet
// and opens its simulator with the given faults.
func setup(t *testing.T, dark bool, faults fleet.Simulator) (*plan.Plan, *sim.Simulator) {
	t.Helper()
	f, syn, err := exercise.Generate(exercise.Params{Regions: 3, Clusters: 10, Dark: dark, Start: start, Simulator: faults})
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Make(plan.Input{Fleet: f, Now: start, Demand: syn.Forecasts(start, 5*time.Minute)}, plan.Request{Evacuate: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.Open(context.Background(), &sim.MemStore{}, "t", f, syn.Demand)
	if err != nil {
		t.Fatal(err)
	}
	return p, s
}

// runAll runs the steps in simulated time and returns the end time or
// the first error.
func runAll(p *plan.Plan, prov *sim.Simulator, steps []plan.Step) (time.Duration, error) {
	now := start
	for _, st := range steps {
		pr := &step.Progress{}
		for {
			o := step.Run(context.Background(), &step.Env{Plan: p, Provider: prov, Key: st.Kind, Now: now}, st, pr)
			if o.Err != nil {
				return now.Sub(start), o.Err
			}
			if o.Done {
				break
			}
			now = now.Add(o.Wait)
		}
	}
	return now.Sub(start), nil
}

func TestTransientErrorsAreRetried(t *testing.T) {
	p, prov := setup(t, true, fleet.Simulator{CallErrorRate: 0.3})
	if _, err := runAll(p, prov, p.Steps); err != nil {
		t.Fatalf("with 30%% of calls failing: %v", err)
	}
	ss, _ := prov.SteeringStatus(context.Background(), providerCall(time.Hour))
	if ss.Served["us-east-1"] != 0 {
		t.Errorf("us-east-1 still serves %v", ss.Served)
	}
}

func TestPersistentErrorsFailTheStep(t *testing.T) {
	p, prov := setup(t, true, fleet.Simulator{CallErrorRate: 1})
	_, err := runAll(p, prov, p.Steps)
	if err == nil || !strings.Contains(err.Error(), "errors in a row") {
		t.Fatalf("err = %v", err)
	}
}

// TestCapacityLimitFailsAndRollbackRestores: a region limit leaves new
// capacity short, the scale-out fails, and the rollback restores
// the steering and the sizes.
func TestCapacityLimitFailsAndRollbackRestores(t *testing.T) {
	p, prov := setup(t, false, fleet.Simulator{RegionInstanceLimit: 100})
	_, err := runAll(p, prov, p.Steps)
	if err == nil || !strings.Contains(err.Error(), "insufficient capacity") {
		t.Fatalf("err = %v", err)
	}
	if _, err := runAll(p, prov, p.Rollback); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	var names []string
	for _, c := range p.Clusters {
		names = append(names, c.Cluster)
	}
	st, err := prov.Status(context.Background(), providerCall(2*time.Hour), names)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range st {
		if s.InService != p.Clusters[i].Size || s.Pending != 0 {
			t.Errorf("%s after rollback: %+v, want %d", s.Cluster, s, p.Clusters[i].Size)
		}
	}
}

func TestReadinessTimeout(t *testing.T) {
	p, prov := setup(t, false, fleet.Simulator{})
	p.Settings.ReadyTimeout = fleet.Duration(5 * time.Minute)
	for i := range p.Steps {
		if p.Steps[i].Kind == plan.StepVerify {
			p.Steps[i].Timeout = p.Settings.ReadyTimeout
		}
	}
	took, err := runAll(p, prov, p.Steps)
	if err == nil || !strings.Contains(err.Error(), "timed out after 5m") {
		t.Fatalf("err = %v", err)
	}
	if took < 5*time.Minute || took > 5*time.Minute+p.Settings.PollInterval.D() {
		t.Errorf("gave up after %v", took)
	}
}

func providerCall(d time.Duration) provider.Call {
	return provider.Call{At: start.Add(d), Key: "check"}
}
