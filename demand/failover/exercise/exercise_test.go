package exercise_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/exercise"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/demand/failover/sim"
	"github.com/gaffer-sre/gaffer/demand/failover/step"
)

type span struct {
	kind       string
	start, end time.Duration
}

// simulate runs every step of p in simulated time.
func simulate(t *testing.T, p *plan.Plan, prov *sim.Simulator, start time.Time) ([]span, error) {
	now := start
	var out []span
	for _, st := range p.Steps {
		pr := &step.Progress{}
		begin := now
		for {
			o := step.Run(context.Background(), &step.Env{Plan: p, Provider: prov, Key: "t/" + st.Kind, Now: now}, st, pr)
			if o.Err != nil {
				return out, o.Err
			}
			if o.Done {
				break
			}
			now = now.Add(o.Wait)
		}
		out = append(out, span{st.Kind, begin.Sub(start), now.Sub(start)})
	}
	return out, nil
}

// TestEvacuationTimes is the goal in simulated time: a 3-region,
// 500-cluster evacuation takes at most 8 minutes with dark capacity and
// shows the 45–50 minute baseline without; the same seed gives the same
// timeline.
func TestEvacuationTimes(t *testing.T) {
	start := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		dark     bool
		min, max time.Duration
	}{{true, 0, 8 * time.Minute}, {false, 45 * time.Minute, 50 * time.Minute}} {
		var first []span
		for run := 0; run < 2; run++ {
			params := exercise.Params{Regions: 3, Clusters: 500, Evacuate: "us-east-1", Dark: c.dark, Start: start}
			f, syn, err := exercise.Generate(params)
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.Make(plan.Input{Fleet: f, Now: start, Demand: syn.Forecasts(start, 5*time.Minute)}, plan.Request{Evacuate: "us-east-1"})
			if err != nil || p.Status != plan.Feasible {
				t.Fatal(err, p.Err())
			}
			prov, err := sim.Open(context.Background(), &sim.MemStore{}, "x", f, syn.Demand)
			if err != nil {
				t.Fatal(err)
			}
			spans, err := simulate(t, p, prov, start)
			if err != nil {
				t.Fatal(err)
			}
			total := spans[len(spans)-1].end
			if total < c.min || total > c.max {
				t.Errorf("dark=%v: evacuation took %v, want %v to %v", c.dark, total, c.min, c.max)
			}
			if run == 0 {
				first = spans
				t.Logf("dark=%v: %v", c.dark, total)
			} else if !reflect.DeepEqual(first, spans) {
				t.Errorf("dark=%v: the same seed gave another timeline:\n%v\n%v", c.dark, first, spans)
			}
		}
	}
}

// TestGenerateIsReproducible checks the generator draws only from its seed.
func TestGenerateIsReproducible(t *testing.T) {
	start := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	a, _, err := exercise.Generate(exercise.Params{Regions: 4, Clusters: 20, Dark: true, Seed: 9, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := exercise.Generate(exercise.Params{Regions: 4, Clusters: 20, Dark: true, Seed: 9, Start: start})
	c, _, _ := exercise.Generate(exercise.Params{Regions: 4, Clusters: 20, Dark: true, Seed: 10, Start: start})
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different fleets")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds, same fleet")
	}
	for _, p := range []exercise.Params{{Regions: 1, Clusters: 5, Start: start}, {Regions: 3, Clusters: 0, Start: start},
		{Regions: 3, Clusters: 5, Evacuate: "mars-1", Start: start}, {Regions: 3, Clusters: 5}} {
		if _, _, err := exercise.Generate(p); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}
