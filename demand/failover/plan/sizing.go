package plan

import (
	"fmt"
	"math"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
)

// size sets each cluster's target for the load after the shift: the
// service's load in the region (demand times the service's factor) is
// split over its clusters there by their current capacity, overflowing
// into clusters with room when one reaches its maximum; a cluster serves
// its share plus headroom at the target utilisation. Clusters never shrink
// during a shift, and dark instances are used before cold launches.
func (m *model) size() {
	p := m.p
	before, after := m.load(p.Before), m.load(p.After)
	util, head := p.Settings.TargetUtilization, p.Settings.Headroom
	for _, s := range m.f.Services {
		byRegion := map[string][]int{}
		var order []string
		for i, c := range s.Clusters {
			if byRegion[c.Region] == nil {
				order = append(order, c.Region)
			}
			byRegion[c.Region] = append(byRegion[c.Region], i)
		}
		for _, r := range order {
			idx := byRegion[r]
			clusters := make([]fleet.Cluster, len(idx))
			for k, i := range idx {
				clusters[k] = s.Clusters[i]
			}
			loadBefore := split(clusters, s.FactorOf()*before[r], 0, 0)
			loadAfter := split(clusters, s.FactorOf()*after[r], util, head)
			grows := after[r] > before[r]*(1+1e-9)
			for k, c := range clusters {
				ch := ClusterChange{Cluster: c.Name, Service: s.Name, Region: r, Size: c.Size, Target: c.Size, Max: c.Max,
					Dark: c.Dark, DarkAfter: c.Dark, Load: loadBefore[k], LoadAfter: loadAfter[k],
					Capacity: c.CapacityPerInstance, Startup: fleet.Duration(s.StartupOf(c))}
				if grows {
					ch.Target = max(c.Size, c.Min, need(loadAfter[k], c.CapacityPerInstance, util, head))
					if c.Max > 0 && ch.Target > c.Max {
						p.Warnings = append(p.Warnings, fmt.Sprintf("cluster %s needs %d instances, over its max %d", c.Name, ch.Target, c.Max))
						ch.Target = c.Max
					}
					extra := ch.Target - c.Size
					ch.Ungate = min(extra, c.Dark)
					ch.Launch = extra - ch.Ungate
					ch.DarkAfter = c.Dark - ch.Ungate
				}
				p.Clusters = append(p.Clusters, ch)
				if ch.Changed() {
					p.Totals.Clusters++
				}
				p.Totals.Ungate += ch.Ungate
				p.Totals.Launch += ch.Launch
			}
		}
	}
}

// need is the instances that serve load with headroom at utilisation util.
func need(load, perInstance, util, head float64) int {
	if load <= 0 {
		return 0
	}
	return int(math.Ceil(load*(1+head)/(perInstance*util) - 1e-9))
}

// split divides load over clusters by their current capacity. With util
// set, a cluster's share is capped at what its maximum size serves and the
// excess goes to the others in proportion to their remaining room.
func split(cs []fleet.Cluster, load, util, head float64) []float64 {
	out := make([]float64, len(cs))
	weight := make([]float64, len(cs))
	total := 0.0
	for i, c := range cs {
		weight[i] = float64(max(c.Size, 1)) * c.CapacityPerInstance
		total += weight[i]
	}
	for i := range cs {
		out[i] = load * weight[i] / total
	}
	if util == 0 || len(cs) == 1 {
		return out
	}
	// Cap at maximum sizes and pour the excess into clusters with room:
	// unbounded ones first, evenly, else by remaining room.
	unbounded := countUnbounded(cs)
	top := func(c fleet.Cluster) float64 { return float64(c.Max) * c.CapacityPerInstance * util / (1 + head) }
	for range cs {
		excess, room := 0.0, 0.0
		for i, c := range cs {
			if c.Max == 0 {
				continue
			}
			if t := top(c); out[i] > t {
				excess += out[i] - t
				out[i] = t
			} else {
				room += t - out[i]
			}
		}
		if excess <= 1e-12 || (unbounded == 0 && room <= 0) {
			return out
		}
		for i, c := range cs {
			switch {
			case unbounded > 0 && c.Max == 0:
				out[i] += excess / float64(unbounded)
			case unbounded == 0:
				if r := top(c) - out[i]; r > 0 {
					out[i] += excess * r / room
				}
			}
		}
	}
	return out
}

func countUnbounded(cs []fleet.Cluster) int {
	n := 0
	for _, c := range cs {
		if c.Max == 0 {
			n++
		}
	}
	return n
}
