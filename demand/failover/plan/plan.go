// Package plan computes regional failover plans: given a fleet, a
// forecast of each client geography's demand and a region to evacuate (or
// a share of its traffic to move), it finds the new traffic distribution
// under the regions' capacity, maximum share and each geography's latency
// preference (a linear program, solved with gonum, when the proportional
// shift breaks a constraint), sizes every cluster for the forecast peak
// with headroom, and lays out the steps that get there and back: ungate
// dark capacity, scale out, verify readiness, shift traffic in increments
// with health checks between them, flip DNS; and the rollback.
//
// An evacuation that cannot fit is reported with the shortfall of each
// service and has no steps: it can never run partially.
package plan

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
)

// Plan statuses.
const (
	Feasible   = "feasible"
	Infeasible = "infeasible"
)

// Request asks for an evacuation of a region, or to move a fraction of a
// region's traffic elsewhere.
type Request struct {
	// Evacuate moves all of a region's traffic away.
	Evacuate string `json:"evacuate,omitempty"`
	// From and Fraction move part of a region's traffic (0 < Fraction <= 1).
	From     string  `json:"from,omitempty"`
	Fraction float64 `json:"fraction,omitempty"`
}

// Input is what a plan is made from.
type Input struct {
	// Fleet is the model; it is not modified.
	Fleet *fleet.Fleet
	// Now is when the plan starts; the forecast peak is taken over
	// [Now, Now+Horizon].
	Now time.Time
	// Demand holds a forecast per geography; a geography without one
	// uses its static demand and profile.
	Demand map[string]*Forecast
	// Horizon overrides the fleet's planning horizon when set.
	Horizon time.Duration
}

// Plan is a computed plan.
type Plan struct {
	Request
	// Region is the region traffic moves away from, Fraction how much of
	// its traffic moves.
	Region   string  `json:"region"`
	Fraction float64 `json:"fraction"`
	Status   string  `json:"status"`
	// Method is how the distribution was found: "proportional" (each
	// geography's moved traffic follows its other weights or its nearest
	// region) or "lp".
	Method   string         `json:"method,omitempty"`
	At       time.Time      `json:"at"`
	Horizon  fleet.Duration `json:"horizon"`
	Settings fleet.Planning `json:"settings"`
	// Demand is each geography's forecast peak, in demand units/s.
	Demand map[string]float64 `json:"demand"`
	// Forecast says where each geography's demand came from: "history"
	// (a fitted forecast) or "static".
	Forecast map[string]string `json:"forecast"`
	Before   provider.Weights  `json:"before"`
	After    provider.Weights  `json:"after,omitempty"`
	Regions  []RegionChange    `json:"regions"`
	Clusters []ClusterChange   `json:"clusters,omitempty"`
	// Shortfalls explain an infeasible plan.
	Shortfalls []Shortfall `json:"shortfalls,omitempty"`
	Steps      []Step      `json:"steps,omitempty"`
	Rollback   []Step      `json:"rollback,omitempty"`
	// Estimate is the expected duration with the simulator's timings.
	Estimate fleet.Duration `json:"estimate,omitempty"`
	Totals   Totals         `json:"totals"`
	Warnings []string       `json:"warnings,omitempty"`
}

// RegionChange is a region's load before and after, in demand units/s.
type RegionChange struct {
	Region     string  `json:"region"`
	Load       float64 `json:"load"`
	LoadAfter  float64 `json:"load_after"`
	Share      float64 `json:"share"`
	ShareAfter float64 `json:"share_after"`
	// Capacity is the most demand the region can serve at its clusters'
	// maximum sizes (+Inf without bounds: reported as 0).
	Capacity float64 `json:"capacity"`
	MaxShare float64 `json:"max_share"`
}

// ClusterChange is what the plan does to one cluster.
type ClusterChange struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	Region  string `json:"region"`
	// Size and Target are the instances in service before and after.
	Size   int `json:"size"`
	Target int `json:"target"`
	Max    int `json:"max,omitempty"`
	// Dark and DarkAfter are the gated instances before and after;
	// Ungate are admitted from the dark pool and Launch started cold.
	Dark      int `json:"dark"`
	DarkAfter int `json:"dark_after"`
	Ungate    int `json:"ungate"`
	Launch    int `json:"launch"`
	// Load and LoadAfter are in the service's unit at the forecast peak.
	Load      float64 `json:"load"`
	LoadAfter float64 `json:"load_after"`
	Capacity  float64 `json:"capacity_per_instance"`
	// Startup is the cluster's start-up time (for the estimate).
	Startup fleet.Duration `json:"startup,omitempty"`
}

// Changed reports whether the plan changes the cluster.
func (c ClusterChange) Changed() bool { return c.Target != c.Size || c.DarkAfter != c.Dark }

// Shortfall is capacity missing for an evacuation.
type Shortfall struct {
	// Service is empty for a constraint on demand as a whole.
	Service string `json:"service,omitempty"`
	Unit    string `json:"unit"`
	// Needed and Available are in Unit.
	Needed    float64 `json:"needed"`
	Available float64 `json:"available"`
	Shortfall float64 `json:"shortfall"`
	Reason    string  `json:"reason"`
}

// Totals sum up the cluster changes.
type Totals struct {
	Clusters int `json:"clusters"`
	Ungate   int `json:"ungate"`
	Launch   int `json:"launch"`
}

// ErrBadRequest marks a request that names no region of the fleet or an
// impossible fraction.
var ErrBadRequest = errors.New("bad plan request")

// Make computes the plan for req. Its error is for bad requests only; an
// evacuation that does not fit is a plan with Status Infeasible.
func Make(in Input, req Request) (*Plan, error) {
	f := in.Fleet.Clone()
	f.Normalize()
	region, fraction := req.Evacuate, 1.0
	switch {
	case req.Evacuate != "" && req.From != "":
		return nil, fmt.Errorf("%w: give evacuate or from, not both", ErrBadRequest)
	case req.Evacuate == "" && req.From == "":
		return nil, fmt.Errorf("%w: evacuate or from is required", ErrBadRequest)
	case req.From != "":
		region, fraction = req.From, req.Fraction
		if !(fraction > 0 && fraction <= 1) {
			return nil, fmt.Errorf("%w: fraction: %v: want more than 0 and at most 1", ErrBadRequest, req.Fraction)
		}
	}
	if f.RegionIndex(region) < 0 {
		return nil, fmt.Errorf("%w: fleet %s has no region %q", ErrBadRequest, f.Name, region)
	}
	if len(f.Regions) < 2 {
		return nil, fmt.Errorf("%w: fleet %s has one region: there is nowhere to move traffic", ErrBadRequest, f.Name)
	}
	settings := f.Planning.WithDefaults()
	horizon := settings.Horizon.D()
	if in.Horizon > 0 {
		horizon = in.Horizon
	}
	p := &Plan{Request: req, Region: region, Fraction: fraction, Status: Feasible, At: in.Now.UTC(), Horizon: fleet.Duration(horizon),
		Settings: settings, Demand: map[string]float64{}, Forecast: map[string]string{}, Before: provider.Weights{}}
	for _, g := range f.Geographies {
		fc, src := in.Demand[g.Name], "history"
		if fc == nil {
			fc, src = Static(g.Demand, g.Profile), "static"
		}
		p.Demand[g.Name] = fc.Peak(in.Now, in.Now.Add(horizon))
		p.Forecast[g.Name] = src
		p.Before[g.Name] = normalised(g.Steering)
	}
	m := newModel(f, p)
	m.distribute()
	if p.Status == Infeasible {
		p.Regions = m.regionChanges(nil)
		return p, nil
	}
	m.size()
	p.Regions = m.regionChanges(p.After)
	p.Steps, p.Rollback = steps(p)
	p.Estimate = fleet.Duration(estimate(f, p))
	return p, nil
}

// normalised returns weights scaled to sum to 1, without zero entries.
func normalised(w map[string]float64) map[string]float64 {
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	out := make(map[string]float64, len(w))
	for k, v := range w {
		if v > 0 && sum > 0 {
			out[k] = v / sum
		}
	}
	return out
}

// WeightsAt returns the weights a fraction x of the way from Before to
// After.
func (p *Plan) WeightsAt(x float64) provider.Weights {
	out := provider.Weights{}
	for g, before := range p.Before {
		after := p.After[g]
		w := map[string]float64{}
		for r, v := range before {
			w[r] += v * (1 - x)
		}
		for r, v := range after {
			w[r] += v * x
		}
		for r, v := range w {
			if v < 1e-12 {
				delete(w, r)
			}
		}
		out[g] = w
	}
	return out
}

// Err returns an error describing an infeasible plan, or nil.
func (p *Plan) Err() error {
	if p.Status != Infeasible {
		return nil
	}
	msg := fmt.Sprintf("moving %.0f%% of %s's traffic does not fit", p.Fraction*100, p.Region)
	for i, s := range p.Shortfalls {
		if i == 5 {
			msg += fmt.Sprintf("; and %d more services", len(p.Shortfalls)-i)
			break
		}
		who := s.Service
		if who == "" {
			who = "demand"
		}
		msg += fmt.Sprintf("; %s short by %.4g %s (%s)", who, s.Shortfall, s.Unit, s.Reason)
	}
	return errors.New(msg)
}

// ReceivingClusters returns the clusters of regions whose load grows.
func (p *Plan) ReceivingClusters() []string {
	grow := map[string]bool{}
	for _, r := range p.Regions {
		if r.LoadAfter > r.Load*(1+1e-9) {
			grow[r.Region] = true
		}
	}
	var out []string
	for _, c := range p.Clusters {
		if grow[c.Region] {
			out = append(out, c.Cluster)
		}
	}
	sort.Strings(out)
	return out
}

func finite(x float64) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return 0
	}
	return x
}
