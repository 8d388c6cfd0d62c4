package failover

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/plan"
)

// UpdateCluster changes one cluster of a fleet, as a new version.
func (s *Service) UpdateCluster(ctx context.Context, name, cluster string, p ClusterPatch, by string) (FleetInfo, bool, error) {
	sf, err := s.Fleet(ctx, name)
	if err != nil {
		return FleetInfo{}, false, err
	}
	f := sf.Spec
	f.Normalize()
	for i := range f.Services {
		for j := range f.Services[i].Clusters {
			c := &f.Services[i].Clusters[j]
			if c.Name != cluster {
				continue
			}
			if p.CapacityPerInstance != nil {
				c.CapacityPerInstance = *p.CapacityPerInstance
			}
			for _, kv := range []struct {
				dst *int
				src *int
			}{{&c.Size, p.Size}, {&c.Min, p.Min}, {&c.Max, p.Max}, {&c.Dark, p.Dark}} {
				if kv.src != nil {
					*kv.dst = *kv.src
				}
			}
			if p.Startup != nil {
				c.Startup = *p.Startup
			}
			return s.PutFleet(ctx, f, sf.Kind, by, "cluster "+cluster+" changed", sf.Version)
		}
	}
	return FleetInfo{}, false, fmt.Errorf("fleet %s has no cluster %q: %w", name, cluster, ErrNotFound)
}

// UpdateGeography changes one geography of a fleet, as a new version.
func (s *Service) UpdateGeography(ctx context.Context, name, geo string, p GeographyPatch, by string) (FleetInfo, bool, error) {
	sf, err := s.Fleet(ctx, name)
	if err != nil {
		return FleetInfo{}, false, err
	}
	f := sf.Spec
	for i := range f.Geographies {
		g := &f.Geographies[i]
		if g.Name != geo {
			continue
		}
		if p.Demand != nil {
			g.Demand = *p.Demand
		}
		if p.Steering != nil {
			g.Steering = p.Steering
		}
		if p.Preference != nil {
			g.Preference = p.Preference
		}
		return s.PutFleet(ctx, f, sf.Kind, by, "geography "+geo+" changed", sf.Version)
	}
	return FleetInfo{}, false, fmt.Errorf("fleet %s has no geography %q: %w", name, geo, ErrNotFound)
}

// FleetStatus is each region's state now.
type FleetStatus struct {
	Fleet    string         `json:"fleet"`
	Version  int            `json:"version"`
	At       time.Time      `json:"at"`
	Regions  []RegionStatus `json:"regions"`
	Demand   float64        `json:"demand"`
	Warnings []string       `json:"warnings,omitempty"`
}

// RegionStatus is one region now: the demand its steering sends it (from
// the forecast, or static demand), and the demand its clusters serve at
// their sizes and target utilisation (the tightest service decides).
type RegionStatus struct {
	Region    string  `json:"region"`
	Demand    float64 `json:"demand"`
	Share     float64 `json:"share"`
	MaxShare  float64 `json:"max_share"`
	Capacity  float64 `json:"capacity"`
	Clusters  int     `json:"clusters"`
	Instances int     `json:"instances"`
	Dark      int     `json:"dark"`
}

// FleetStatus returns a fleet's regions now.
func (s *Service) FleetStatus(ctx context.Context, name string) (*FleetStatus, error) {
	sf, err := s.Fleet(ctx, name)
	if err != nil {
		return nil, err
	}
	f := sf.Spec
	now := s.now()
	fc, warnings := s.forecasts(ctx, f, now)
	st := &FleetStatus{Fleet: name, Version: sf.Version, At: now.UTC(), Warnings: warnings}
	demand := map[string]float64{}
	for _, g := range f.Geographies {
		d := g.Demand
		if fc[g.Name] != nil {
			d = fc[g.Name].At(now)
		} else {
			d = plan.Static(g.Demand, g.Profile).At(now)
		}
		sum := 0.0
		for _, w := range g.Steering {
			sum += w
		}
		for r, w := range g.Steering {
			demand[r] += d * w / sum
		}
		st.Demand += d
	}
	util := f.Planning.WithDefaults().TargetUtilization
	for _, r := range f.Regions {
		rs := RegionStatus{Region: r.Name, Demand: demand[r.Name], MaxShare: r.MaxShareOf(), Capacity: math.Inf(1)}
		for _, sv := range f.Services {
			capa := 0.0
			found := false
			for _, c := range sv.Clusters {
				if c.Region == r.Name {
					found = true
					capa += float64(c.Size) * c.CapacityPerInstance * util
					rs.Clusters++
					rs.Instances += c.Size
					rs.Dark += c.Dark
				}
			}
			if found {
				rs.Capacity = math.Min(rs.Capacity, capa/sv.FactorOf())
			}
		}
		if math.IsInf(rs.Capacity, 1) {
			rs.Capacity = 0
		}
		if st.Demand > 0 {
			rs.Share = rs.Demand / st.Demand
		}
		st.Regions = append(st.Regions, rs)
	}
	return st, nil
}
