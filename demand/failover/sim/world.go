package sim

import (
	"math"
	"sort"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
)

// World is the simulated state of one fleet's infrastructure. Times are
// Unix milliseconds of the simulated clock. It is plain data so that it
// can be saved and loaded; every random quantity is drawn from Params.Seed
// and the identity of the thing drawn for, never from call order.
type World struct {
	Params   fleet.Simulator     `json:"params"`
	Clusters map[string]*Cluster `json:"clusters"`
	// Initial is the steering before any change.
	Initial provider.Weights `json:"initial"`
	Edge    []Change         `json:"edge,omitempty"`
	DNS     []Change         `json:"dns,omitempty"`
	// Grow is, per region, when an edge change first raised its share:
	// new instances warm up under load from then on.
	Grow map[string]int64 `json:"grow,omitempty"`
	// Calls counts calls by kind, for the report.
	Calls map[string]int `json:"calls,omitempty"`
}

// Cluster is one cluster's instances.
type Cluster struct {
	Service string  `json:"service"`
	Region  string  `json:"region"`
	Cap     float64 `json:"cap"`
	Factor  float64 `json:"factor"`
	// Startup is the cluster's start-up time in milliseconds.
	Startup int64 `json:"startup"`
	// Base instances served before the simulation started (warm).
	Base    int `json:"base"`
	Desired int `json:"desired"`
	// Dark holds gated instances; Admitted, dark instances let in;
	// Launched, instances started cold.
	Dark     []Batch `json:"dark,omitempty"`
	Admitted []Batch `json:"admitted,omitempty"`
	Launched []Batch `json:"launched,omitempty"`
	// Next numbers instances for their draws.
	Next int `json:"next"`
}

// Batch is N instances started (or admitted) at At; instance i of the
// batch is number First+i of its cluster. Dark batches made from base
// capacity are ready at once (First < 0).
type Batch struct {
	At    int64 `json:"at"`
	N     int   `json:"n"`
	First int   `json:"first"`
}

// Change is a steering change: weights From (effective when it was made)
// move to To over the layer's propagation time.
type Change struct {
	At   int64            `json:"at"`
	From provider.Weights `json:"from"`
	To   provider.Weights `json:"to"`
}

// NewWorld builds the world of fleet f at its current state.
func NewWorld(f *fleet.Fleet) *World {
	g := f.Clone()
	g.Normalize()
	params := fleet.Simulator{}
	if g.Provider.Simulator != nil {
		params = *g.Provider.Simulator
	}
	w := &World{Params: params.WithDefaults(), Clusters: map[string]*Cluster{}, Initial: provider.Weights{},
		Grow: map[string]int64{}, Calls: map[string]int{}}
	for _, s := range g.Services {
		for _, c := range s.Clusters {
			cl := &Cluster{Service: s.Name, Region: c.Region, Cap: c.CapacityPerInstance, Factor: s.FactorOf(),
				Startup: s.StartupOf(c).Milliseconds(), Base: c.Size, Desired: c.Size}
			if c.Dark > 0 {
				cl.Dark = []Batch{{At: math.MinInt64 / 2, N: c.Dark, First: -1}}
			}
			w.Clusters[c.Name] = cl
		}
	}
	for _, geo := range g.Geographies {
		sum := 0.0
		for _, v := range geo.Steering {
			sum += v
		}
		m := map[string]float64{}
		for r, v := range geo.Steering {
			if v > 0 {
				m[r] = v / sum
			}
		}
		w.Initial[geo.Name] = m
	}
	return w
}

// weights returns the effective weights of a layer at t.
func (w *World) weights(changes []Change, prop time.Duration, t int64) provider.Weights {
	i := sort.Search(len(changes), func(i int) bool { return changes[i].At > t }) - 1
	if i < 0 {
		return w.Initial
	}
	c := changes[i]
	x := 1.0
	if p := prop.Milliseconds(); p > 0 {
		x = math.Min(1, float64(t-c.At)/float64(p))
	}
	return blend(c.From, c.To, x)
}

func blend(a, b provider.Weights, x float64) provider.Weights {
	if x >= 1 {
		return b
	}
	out := provider.Weights{}
	for g := range union(a, b) {
		m := map[string]float64{}
		for r, v := range a[g] {
			m[r] += v * (1 - x)
		}
		for r, v := range b[g] {
			m[r] += v * x
		}
		out[g] = m
	}
	return out
}

func union(a, b provider.Weights) map[string]bool {
	out := map[string]bool{}
	for g := range a {
		out[g] = true
	}
	for g := range b {
		out[g] = true
	}
	return out
}

// served returns each region's demand (units/s) served at t: the edge
// proxies decide where requests are served, whatever DNS says.
func (w *World) served(demand DemandFunc, t int64) map[string]float64 {
	out := map[string]float64{}
	at := time.UnixMilli(t)
	for g, m := range w.weights(w.Edge, w.Params.EdgePropagation.D(), t) {
		d := demand(g, at)
		for r, v := range m {
			out[r] += d * v
		}
	}
	return out
}

// regionShares returns each region's share of edge weight per geography,
// summed: used to see which regions a change makes grow.
func regionShares(ws provider.Weights) map[string]float64 {
	out := map[string]float64{}
	for _, m := range ws {
		for r, v := range m {
			out[r] += v
		}
	}
	return out
}
