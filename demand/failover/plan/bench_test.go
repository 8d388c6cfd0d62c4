package plan_test

import (
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/exercise"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
)

// BenchmarkPlan3x1000 plans the evacuation of one region of a generated
// fleet of 3 regions × 1,000 clusters (goal: at most 1 s), forecasts
// included: each geography's forecast is fitted on two weeks of history
// at 5 minutes.
func BenchmarkPlan3x1000(b *testing.B) {
	for _, dark := range []bool{true, false} {
		name := "dark"
		if !dark {
			name = "cold"
		}
		b.Run(name, func(b *testing.B) {
			params := exercise.Params{Regions: 3, Clusters: 1000, Dark: dark, Seed: 1, Start: noon}
			f, syn, err := exercise.Generate(params)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				fc := syn.Forecasts(noon, 5*time.Minute)
				p, err := plan.Make(plan.Input{Fleet: f, Now: noon, Demand: fc}, plan.Request{Evacuate: "us-east-1"})
				if err != nil || p.Status != plan.Feasible {
					b.Fatal(err, p.Err())
				}
			}
		})
	}
}

// BenchmarkPlanLP3x1000 is the same with max shares that force the
// linear program.
func BenchmarkPlanLP3x1000(b *testing.B) {
	f, syn, err := exercise.Generate(exercise.Params{Regions: 3, Clusters: 1000, Dark: true, Seed: 1, Start: noon})
	if err != nil {
		b.Fatal(err)
	}
	for i := range f.Regions {
		f.Regions[i].MaxShare = 0.55
	}
	fc := syn.Forecasts(noon, 5*time.Minute)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := plan.Make(plan.Input{Fleet: f, Now: noon, Demand: fc}, plan.Request{Evacuate: "us-east-1"})
		if err != nil || p.Status != plan.Feasible || p.Method != "lp" {
			b.Fatal(err, p.Status, p.Method)
		}
	}
}

// BenchmarkDarkTargets3x1000 sizes the dark pools of the same fleet (one
// plan per region).
func BenchmarkDarkTargets3x1000(b *testing.B) {
	f, syn, err := exercise.Generate(exercise.Params{Regions: 3, Clusters: 1000, Seed: 1, Start: noon})
	if err != nil {
		b.Fatal(err)
	}
	fc := syn.Forecasts(noon, 5*time.Minute)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := plan.DarkTargets(plan.Input{Fleet: f, Now: noon, Demand: fc}); err != nil {
			b.Fatal(err)
		}
	}
}
