package sim

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sort"

	"github.com/gaffer-sre/gaffer/demand/failover/provider"
)

// Scale implements provider.Scaler: it launches instances up to each
// target, or takes them out of service (cold ones first; admitted dark
// instances go back to the dark pool).
func (s *Simulator) Scale(ctx context.Context, c provider.Call, targets []provider.ScaleTarget) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, err := s.begin("scale", c, true)
	if err != nil {
		return err
	}
	l := &launcher{s: s, at: at, used: map[string]int{}}
	for _, t := range targets {
		cl, err := s.cluster(t.Cluster)
		if err != nil {
			return err
		}
		current := cl.Base + count(cl.Admitted) + count(cl.Launched)
		switch {
		case t.Desired > current:
			cl.Desired = current + l.launch(t.Cluster, cl, t.Desired-current, &cl.Launched)
		case t.Desired < current:
			drop := current - t.Desired
			var removed []Batch
			cl.Launched, removed = take(cl.Launched, drop)
			drop -= count(removed)
			cl.Admitted, removed = take(cl.Admitted, drop)
			if n := count(removed); n > 0 {
				cl.Dark = append(cl.Dark, Batch{At: at, N: n, First: -1})
				drop -= n
			}
			cl.Base -= min(drop, cl.Base)
			cl.Desired = t.Desired
		default:
			cl.Desired = t.Desired
		}
	}
	return l.done(ctx, "launched")
}

// launcher starts instances up to their regions' limits and remembers
// what fell short.
type launcher struct {
	s     *Simulator
	at    int64
	used  map[string]int
	short []string
}

// launch starts n instances of cl into batches and returns how many fit.
func (l *launcher) launch(name string, cl *Cluster, n int, into *[]Batch) int {
	k := l.s.room(cl.Region, n, l.used)
	if k < n {
		l.short = append(l.short, fmt.Sprintf("%s: %d of %d", name, k, n))
	}
	if k > 0 {
		*into = append(*into, Batch{At: l.at, N: k, First: cl.Next})
		cl.Next += k
	}
	return k
}

// done saves the world and reports launches that did not fit.
func (l *launcher) done(ctx context.Context, what string) error {
	if err := l.s.save(ctx); err != nil {
		return err
	}
	if len(l.short) == 0 {
		return nil
	}
	sort.Strings(l.short)
	return fmt.Errorf("simulator: region instance limit %d reached, %s %v: %w", l.s.w.Params.RegionInstanceLimit, what, l.short,
		provider.ErrCapacity)
}

// Ungate implements provider.Gate: dark instances over each target are
// admitted, ready ones first; each batch serves after the ungate delay.
func (s *Simulator) Ungate(ctx context.Context, c provider.Call, targets []provider.GateTarget) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, err := s.begin("ungate", c, true)
	if err != nil {
		return err
	}
	for _, t := range targets {
		cl, err := s.cluster(t.Cluster)
		if err != nil {
			return err
		}
		n := count(cl.Dark) - max(t.Dark, 0)
		if n <= 0 {
			continue
		}
		// Oldest (ready) dark batches go first.
		sort.SliceStable(cl.Dark, func(i, j int) bool { return cl.Dark[i].At < cl.Dark[j].At })
		ready := at
		for n > 0 {
			b := &cl.Dark[0]
			k := min(n, b.N)
			for i := 0; i < k; i++ {
				ready = max(ready, s.w.darkReady(t.Cluster, cl, *b, i))
			}
			b.N -= k
			if b.First >= 0 {
				b.First += k
			}
			n -= k
			if b.N == 0 {
				cl.Dark = cl.Dark[1:]
			}
			cl.Desired += k
			cl.Admitted = append(cl.Admitted, Batch{At: ready + s.w.ungateDelay(t.Cluster, len(cl.Admitted)), N: k, First: -1})
		}
	}
	return s.save(ctx)
}

// SizeDark implements provider.Gate: dark instances are launched (cold
// start, then kept warm behind the gate) or removed to reach each target.
func (s *Simulator) SizeDark(ctx context.Context, c provider.Call, targets []provider.GateTarget) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, err := s.begin("size_dark", c, true)
	if err != nil {
		return err
	}
	l := &launcher{s: s, at: at, used: map[string]int{}}
	for _, t := range targets {
		cl, err := s.cluster(t.Cluster)
		if err != nil {
			return err
		}
		cur := count(cl.Dark)
		switch {
		case t.Dark > cur:
			l.launch(t.Cluster, cl, t.Dark-cur, &cl.Dark)
		case t.Dark < cur:
			cl.Dark, _ = take(cl.Dark, cur-t.Dark)
		}
	}
	return l.done(ctx, "dark instances launched")
}

// Steer implements provider.Steerer. Repeating the last change of a layer
// changes nothing.
func (s *Simulator) Steer(ctx context.Context, c provider.Call, st provider.Steering) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var changes *[]Change
	prop := s.w.Params.EdgePropagation.D()
	switch st.Layer {
	case provider.LayerEdge:
		changes = &s.w.Edge
	case provider.LayerDNS:
		changes, prop = &s.w.DNS, s.w.Params.DNSPropagation.D()
	default:
		return provider.Permanent(fmt.Errorf("simulator: steering layer %q: want edge or dns", st.Layer))
	}
	to := normalise(st.Weights)
	if n := len(*changes); n > 0 && reflect.DeepEqual((*changes)[n-1].To, to) {
		return nil
	}
	at, err := s.begin("steer_"+st.Layer, c, true)
	if err != nil {
		return err
	}
	if n := len(*changes); n > 0 {
		at = max(at, (*changes)[n-1].At)
	}
	from := s.w.weights(*changes, prop, at)
	*changes = append(*changes, Change{At: at, From: from, To: to})
	if st.Layer == provider.LayerEdge {
		before, after := regionShares(from), regionShares(to)
		for r, v := range after {
			if _, seen := s.w.Grow[r]; !seen && v > before[r]+1e-9 {
				s.w.Grow[r] = at
			}
		}
	}
	return s.save(ctx)
}

func normalise(ws provider.Weights) provider.Weights {
	out := provider.Weights{}
	for g, m := range ws {
		sum := 0.0
		for _, v := range m {
			if v > 0 {
				sum += v
			}
		}
		n := map[string]float64{}
		for r, v := range m {
			if v > 0 && sum > 0 {
				n[r] = v / sum
			}
		}
		out[g] = n
	}
	return out
}

// SteeringStatus implements provider.Steerer.
func (s *Simulator) SteeringStatus(ctx context.Context, c provider.Call) (provider.SteeringStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.begin("steering_status", c, false); err != nil {
		return provider.SteeringStatus{}, err
	}
	t := c.At.UnixMilli()
	p := s.w.Params
	st := provider.SteeringStatus{EdgePropagated: propagated(s.w.Edge, p.EdgePropagation.D().Milliseconds(), t),
		DNSPropagated: propagated(s.w.DNS, p.DNSPropagation.D().Milliseconds(), t), Served: map[string]float64{}}
	served := s.w.served(s.demand, t)
	total := 0.0
	for _, v := range served {
		total += v
	}
	for r, v := range served {
		if total > 0 {
			st.Served[r] = v / total
		}
	}
	return st, nil
}

func propagated(changes []Change, prop, t int64) bool {
	return len(changes) == 0 || t >= changes[len(changes)-1].At+prop
}

// Status implements provider.Scaler: instances by state, the load each
// cluster gets from the traffic its region serves (split over the
// service's clusters there by capacity), and whether it copes.
func (s *Simulator) Status(ctx context.Context, c provider.Call, clusters []string) ([]provider.ClusterStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.begin("status", c, false); err != nil {
		return nil, err
	}
	t := c.At.UnixMilli()
	served := s.w.served(s.demand, t)
	states := map[string]state{}
	stateOf := func(name string) state {
		st, ok := states[name]
		if !ok {
			st = s.w.stateAt(name, s.w.Clusters[name], t)
			states[name] = st
		}
		return st
	}
	out := make([]provider.ClusterStatus, 0, len(clusters))
	for _, name := range clusters {
		cl, err := s.cluster(name)
		if err != nil {
			return nil, err
		}
		st := stateOf(name)
		capacity := st.warmEquivalent * cl.Cap
		groupCap, n := 0.0, 0
		for _, other := range s.groups[cl.Service+"\x00"+cl.Region] {
			groupCap += stateOf(other).warmEquivalent * s.w.Clusters[other].Cap
			n++
		}
		share := 1 / float64(max(n, 1))
		if groupCap > 0 {
			share = capacity / groupCap
		}
		load := served[cl.Region] * cl.Factor * share
		cs := provider.ClusterStatus{Cluster: name, Desired: cl.Desired, InService: st.inService, Pending: st.pending,
			Dark: st.dark, Load: load, Capacity: capacity, Healthy: load <= capacity*(1+1e-9)}
		if !cs.Healthy {
			cs.Message = fmt.Sprintf("overloaded: %.0f%% of capacity", 100*load/math.Max(capacity, 1e-12))
		}
		out = append(out, cs)
	}
	return out, nil
}
