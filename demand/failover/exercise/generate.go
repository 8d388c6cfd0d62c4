// Package exercise generates the fleets of failover exercises ("Chaos
// Kong" drills): N regions, M services each with a cluster in every
// region, a client geography per region with a daily cycle in its own time
// zone, noise and a trend, and clusters sized for that demand. The same
// synthetic demand gives the forecast its two weeks of history and the
// simulator the traffic it serves, so a plan is made and then tried
// against the world it predicted. Everything is drawn from the seed.
package exercise

import (
	"fmt"
	"math"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
)

// Limits of generated fleets.
const (
	MaxRegions  = 16
	MaxClusters = 5000
)

// Params describe an exercise.
type Params struct {
	Regions int `json:"regions"`
	// Clusters is the number of clusters per region (one per service).
	Clusters int `json:"clusters"`
	// Evacuate is the region to evacuate (default the first).
	Evacuate string `json:"evacuate,omitempty"`
	// Dark keeps dark capacity sized by the planner's dark pool sizing.
	Dark bool   `json:"dark"`
	Seed uint64 `json:"seed,omitempty"`
	// Start is the simulated time the exercise starts at.
	Start time.Time `json:"start"`
	// Simulator overrides the simulator's parameters.
	Simulator fleet.Simulator `json:"simulator,omitzero"`
	// Increments overrides the number of traffic shift increments.
	Increments int `json:"increments,omitempty"`
}

var regionNames = []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1", "sa-east-1", "ap-northeast-1",
	"eu-central-1", "ap-south-1", "us-east-2", "ca-central-1", "eu-north-1", "af-south-1", "me-south-1",
	"ap-southeast-2", "eu-west-2", "us-west-1"}

var geoNames = []string{"na-east", "na-west", "europe", "southeast-asia", "latam", "japan", "central-europe",
	"india", "na-central", "canada", "nordics", "africa", "middle-east", "oceania", "uk", "california"}

// utcOffsets are the geographies' hours from UTC.
var utcOffsets = []float64{-5, -8, 0, 8, -3, 9, 1, 5.5, -6, -5, 1, 2, 3, 10, 0, -8}

// Check validates p and fills in defaults.
func (p *Params) Check() error {
	if p.Regions < 2 || p.Regions > MaxRegions {
		return fmt.Errorf("regions: %d: want 2 to %d", p.Regions, MaxRegions)
	}
	if p.Clusters < 1 || p.Clusters > MaxClusters {
		return fmt.Errorf("clusters: %d: want 1 to %d per region", p.Clusters, MaxClusters)
	}
	if p.Increments < 0 || p.Increments > 100 {
		return fmt.Errorf("increments: %d: want 1 to 100", p.Increments)
	}
	if p.Seed == 0 {
		p.Seed = 1
	}
	if p.Evacuate == "" {
		p.Evacuate = regionNames[0]
	}
	found := false
	for _, r := range regionNames[:p.Regions] {
		found = found || r == p.Evacuate
	}
	if !found {
		return fmt.Errorf("evacuate: %q is not one of the %d generated regions %v", p.Evacuate, p.Regions, regionNames[:p.Regions])
	}
	if p.Start.IsZero() {
		return fmt.Errorf("start: required")
	}
	return p.Simulator.Validate()
}

// Generate builds the exercise's fleet and its synthetic demand.
func Generate(p Params) (*fleet.Fleet, *Synthetic, error) {
	if err := p.Check(); err != nil {
		return nil, nil, err
	}
	syn, _ := Demand(p)
	r := rng{seed: p.Seed}
	f := &fleet.Fleet{Name: "exercise", Planning: fleet.Planning{Increments: p.Increments},
		Provider: fleet.Provider{Type: "simulator", Simulator: &p.Simulator}}
	n := p.Regions
	for i := 0; i < n; i++ {
		// No region may take more than 1.8/N of all demand (60% of three).
		f.Regions = append(f.Regions, fleet.Region{Name: regionNames[i], MaxShare: math.Min(1, math.Round(180/float64(n))/100)})
	}
	for i := 0; i < n; i++ {
		f.Geographies = append(f.Geographies, fleet.Geography{Name: geoNames[i], Demand: math.Round(syn.Demand(geoNames[i], p.Start)),
			Steering: map[string]float64{regionNames[i]: 1}, Preference: preference(i, n)})
	}
	settings := f.Planning.WithDefaults()
	fc := syn.Forecasts(p.Start, 5*time.Minute)
	for j := 0; j < p.Clusters; j++ {
		f.Services = append(f.Services, service(j, f, fc, p, settings, r))
	}
	if p.Dark {
		dark, _, err := plan.DarkTargets(plan.Input{Fleet: f, Now: p.Start, Demand: fc})
		if err != nil {
			return nil, nil, err
		}
		for i := range f.Services {
			for k := range f.Services[i].Clusters {
				c := &f.Services[i].Clusters[k]
				c.Dark = dark[fleet.ClusterName(f.Services[i].Name, *c)]
			}
		}
	}
	if err := f.Validate(); err != nil {
		return nil, nil, fmt.Errorf("generated fleet: %w", err)
	}
	return f, syn, nil
}

// Demand returns the synthetic demand of the exercise p describes.
func Demand(p Params) (*Synthetic, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	r := rng{seed: p.Seed}
	syn := &Synthetic{Seed: p.Seed, Geos: map[string]Geo{}}
	for i := 0; i < p.Regions; i++ {
		syn.Geos[geoNames[i]] = Geo{Base: 1000 * r.uniform(0.6, 1.4, "base", i), Peak: math.Mod(20-utcOffsets[i]+24, 24),
			Amplitude: r.uniform(0.25, 0.45, "amp", i), Trend: r.uniform(-0.002, 0.01, "trend", i), Noise: 0.03}
	}
	return syn, nil
}

// service generates service j: a demand factor, an instance capacity
// giving 4 to 80 instances per region, a start-up time of 1 to 25
// minutes, and clusters sized for the forecast peak.
func service(j int, f *fleet.Fleet, fc map[string]*plan.Forecast, p Params, s fleet.Planning, r rng) fleet.Service {
	factor := r.logUniform(0.2, 20, "factor", j)
	startup := time.Duration(r.logUniform(60, 1500, "startup", j)) * time.Second
	mean := 0.0
	for _, g := range f.Geographies {
		mean += g.Demand
	}
	mean /= float64(len(f.Geographies))
	perInstance := factor * mean * (1 + s.Headroom) / (s.TargetUtilization * r.logUniform(4, 80, "size", j))
	perInstance = math.Round(perInstance*100) / 100
	svc := fleet.Service{Name: fmt.Sprintf("svc-%04d", j), DemandFactor: math.Round(factor*1000) / 1000,
		Startup: fleet.Duration(startup.Truncate(time.Second))}
	// Any cluster may grow to serve all demand at the day's peak, as
	// auto-scaling groups are bounded for a region's failover.
	all := 0.0
	for _, g := range f.Geographies {
		all += fc[g.Name].Peak(p.Start, p.Start.Add(24*time.Hour))
	}
	top := int(math.Ceil(svc.DemandFactor * all * (1 + s.Headroom) / (perInstance * s.TargetUtilization)))
	for i, g := range f.Geographies {
		peak := fc[g.Name].Peak(p.Start, p.Start.Add(s.Horizon.D()))
		size := int(math.Ceil(svc.DemandFactor * peak * (1 + s.Headroom) / (perInstance * s.TargetUtilization)))
		size = max(size, 2)
		svc.Clusters = append(svc.Clusters, fleet.Cluster{Region: f.Regions[i].Name, CapacityPerInstance: perInstance,
			Size: size, Min: max(1, size/2), Max: max(size*3, top)})
	}
	return svc
}

// preference orders regions by distance on a ring, home first.
func preference(home, n int) []string {
	out := []string{regionNames[home]}
	for d := 1; len(out) < n; d++ {
		for _, k := range []int{home + d, home - d} {
			k = (k%n + n) % n
			if len(out) < n && !contains(out, regionNames[k]) {
				out = append(out, regionNames[k])
			}
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
