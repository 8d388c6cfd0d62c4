package plan

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
)

// model is the fleet indexed for planning.
type model struct {
	f       *fleet.Fleet
	p       *Plan
	regions []string
	total   float64 // all demand
	// capacity[r] is the most demand region r serves at max sizes.
	capacity map[string]float64
}

func newModel(f *fleet.Fleet, p *Plan) *model {
	m := &model{f: f, p: p, capacity: map[string]float64{}}
	for _, r := range f.Regions {
		m.regions = append(m.regions, r.Name)
		m.capacity[r.Name] = math.Inf(1)
	}
	for _, d := range p.Demand {
		m.total += d
	}
	util, head := p.Settings.TargetUtilization, p.Settings.Headroom
	for _, s := range f.Services {
		perRegion := map[string]float64{}
		for _, c := range s.Clusters {
			perRegion[c.Region] += maxCapacity(c)
		}
		for r, c := range perRegion {
			m.capacity[r] = math.Min(m.capacity[r], c*util/(s.FactorOf()*(1+head)))
		}
	}
	return m
}

func maxCapacity(c fleet.Cluster) float64 {
	if c.Max == 0 {
		return math.Inf(1)
	}
	return float64(c.Max) * c.CapacityPerInstance
}

// load returns each region's demand under weights w.
func (m *model) load(w provider.Weights) map[string]float64 {
	out := map[string]float64{}
	for g, d := range m.p.Demand {
		for r, v := range w[g] {
			out[r] += d * v
		}
	}
	return out
}

// preference returns the regions other than skip in g's order of
// preference: listed ones first, then the others in declaration order.
func (m *model) preference(g fleet.Geography, skip string) []string {
	var out []string
	seen := map[string]bool{skip: true}
	for _, r := range append(append([]string(nil), g.Preference...), m.regions...) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// distribute finds After: first proportionally, then by LP if the
// proportional shift breaks a constraint.
func (m *model) distribute() {
	p, e := m.p, m.p.Region
	before := m.load(p.Before)
	limit := map[string]float64{}
	for _, r := range m.f.Regions {
		limit[r.Name] = math.Min(m.capacity[r.Name], r.MaxShareOf()*m.total)
		if r.Name != e && before[r.Name] > limit[r.Name]*(1+1e-9) {
			p.Warnings = append(p.Warnings, fmt.Sprintf("region %s already serves %.4g, over its limit of %.4g", r.Name, before[r.Name], limit[r.Name]))
		}
	}
	after := m.proportional()
	if m.fits(after, before, limit) {
		p.After, p.Method = after, "proportional"
		return
	}
	after, err := m.solve(before, limit)
	if err != nil {
		p.Status = Infeasible
		p.Shortfalls = m.shortfalls(before, limit)
		return
	}
	p.After, p.Method = after, "lp"
}

// proportional moves each geography's share of e to its other regions in
// proportion to their weights, or to its nearest region if it has none.
func (m *model) proportional() provider.Weights {
	out := provider.Weights{}
	e, x := m.p.Region, m.p.Fraction
	for _, g := range m.f.Geographies {
		w := m.p.Before[g.Name]
		next := map[string]float64{}
		moved, rest := w[e]*x, 0.0
		for r, v := range w {
			if r != e {
				next[r] = v
				rest += v
			}
		}
		if left := w[e] - moved; left > 1e-12 {
			next[e] = left
		}
		if moved > 0 {
			if rest > 0 {
				for r, v := range next {
					if r != e {
						next[r] = v + moved*v/rest
					}
				}
			} else {
				next[m.preference(g, e)[0]] += moved
			}
		}
		out[g.Name] = next
	}
	return out
}

func (m *model) fits(w provider.Weights, before, limit map[string]float64) bool {
	load := m.load(w)
	for r, l := range load {
		if r != m.p.Region && l > before[r] && l > limit[r]*(1+1e-9)+1e-9 {
			return false
		}
	}
	return true
}

// solve places each geography's moved demand by LP: minimise the demand
// served away from each geography's nearest regions (cost = preference
// rank), subject to every remaining region's limit.
func (m *model) solve(before, limit map[string]float64) (provider.Weights, error) {
	e, x := m.p.Region, m.p.Fraction
	type geo struct {
		g     fleet.Geography
		moved float64 // fraction of all demand
	}
	var geos []geo
	for _, g := range m.f.Geographies {
		if mv := m.p.Demand[g.Name] * m.p.Before[g.Name][e] * x; mv > 0 {
			geos = append(geos, geo{g, mv / m.total})
		}
	}
	var targets []string
	for _, r := range m.regions {
		if r != e {
			targets = append(targets, r)
		}
	}
	nv := len(geos) * len(targets)
	c := make([]float64, nv)
	for i, g := range geos {
		rank := map[string]int{}
		for k, r := range m.preference(g.g, e) {
			rank[r] = k
		}
		for j, r := range targets {
			c[i*len(targets)+j] = float64(1 + rank[r])
		}
	}
	// Equalities: each geography's moved demand is placed.
	a := mat.NewDense(len(geos), nv, nil)
	b := make([]float64, len(geos))
	for i, g := range geos {
		for j := range targets {
			a.Set(i, i*len(targets)+j, 1)
		}
		b[i] = g.moved
	}
	// Inequalities: a region takes no more than its spare room.
	gm := mat.NewDense(len(targets), nv, nil)
	h := make([]float64, len(targets))
	for j, r := range targets {
		for i := range geos {
			gm.Set(j, i*len(targets)+j, 1)
		}
		h[j] = math.Max(0, finite(limit[r])-before[r]) / m.total
		if math.IsInf(limit[r], 1) {
			h[j] = 2 // more than all demand
		}
	}
	cNew, aNew, bNew := lp.Convert(c, gm, h, a, b)
	_, sol, err := lp.Simplex(cNew, aNew, bNew, 1e-10, nil)
	if err != nil {
		if errors.Is(err, lp.ErrInfeasible) {
			return nil, err
		}
		return nil, fmt.Errorf("plan: linear program: %w", err)
	}
	out := m.proportional() // geographies without moved demand keep theirs
	for i, g := range geos {
		d := m.p.Demand[g.g.Name] / m.total
		w := map[string]float64{}
		for r, v := range m.p.Before[g.g.Name] {
			if r != e {
				w[r] = v
			}
		}
		if left := m.p.Before[g.g.Name][e] * (1 - x); left > 1e-12 {
			w[e] = left
		}
		for j, r := range targets {
			if y := sol[i*len(targets)+j]; y > 1e-12 {
				w[r] += y / d
			}
		}
		out[g.g.Name] = normalised(w)
	}
	return out, nil
}

// shortfalls explain an infeasible shift: per service, the load the
// remaining regions must carry against their clusters' maximum capacity;
// when no single service is short, the regions' limits as a whole.
func (m *model) shortfalls(before, limit map[string]float64) []Shortfall {
	e, x := m.p.Region, m.p.Fraction
	stay := 0.0
	for g, d := range m.p.Demand {
		stay += d * m.p.Before[g][e] * (1 - x)
	}
	away := m.total - stay
	util, head := m.p.Settings.TargetUtilization, m.p.Settings.Headroom
	var out []Shortfall
	for _, s := range m.f.Services {
		avail := 0.0
		for _, c := range s.Clusters {
			if c.Region != e {
				avail += maxCapacity(c)
			}
		}
		need := s.FactorOf() * away * (1 + head) / util
		if need > avail*(1+1e-9) {
			out = append(out, Shortfall{Service: s.Name, Unit: s.UnitOf(), Needed: need, Available: avail,
				Shortfall: need - avail, Reason: "capacity at maximum cluster sizes"})
		}
	}
	if len(out) == 0 {
		room := 0.0
		for _, r := range m.regions {
			if r != e {
				room += math.Min(finite(limit[r]), m.total)
			}
		}
		out = append(out, Shortfall{Unit: "demand/s", Needed: away, Available: room, Shortfall: math.Max(0, away-room),
			Reason: "regions' max_share and capacity limits"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Shortfall > out[j].Shortfall })
	return out
}

func (m *model) regionChanges(after provider.Weights) []RegionChange {
	before := m.load(m.p.Before)
	var la map[string]float64
	if after != nil {
		la = m.load(after)
	}
	var out []RegionChange
	for _, r := range m.f.Regions {
		rc := RegionChange{Region: r.Name, Load: before[r.Name], Capacity: finite(m.capacity[r.Name]), MaxShare: r.MaxShareOf()}
		if la != nil {
			rc.LoadAfter = la[r.Name]
		} else {
			rc.LoadAfter = rc.Load
		}
		if m.total > 0 {
			rc.Share, rc.ShareAfter = rc.Load/m.total, rc.LoadAfter/m.total
		}
		out = append(out, rc)
	}
	return out
}
