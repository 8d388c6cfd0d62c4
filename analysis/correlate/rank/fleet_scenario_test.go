package rank

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// A fleet incident: about 24 services behind a frontend and a gateway,
// with the metrics a fleet exports (request and error counters per
// instance and per service, p50/p99 summaries, CPU, memory with its
// garbage collections, GC pauses, busy threads, queue depths, DB pools,
// caches, external upstreams, consumer lag, node metrics), all following
// one diurnal traffic curve with Poisson counts. An incident starts at a
// root cause at t0 and travels up the call graph to the callers, each a
// little later, until the frontend's p99 (the target) rises 2–4 minutes
// after t0. Decoys move other series: an hourly batch job, rolling
// deploys (pods that stop and start), an earlier small incident, one-off
// steps and variance changes, process restarts (counter resets) and
// scrape gaps.

// Sizes of a fleet incident.
const (
	fleetPoints   = 480 // 8 h at 1 min
	fleetLookback = 360 // the analysis reads 6 h before --from
	fleetBefore   = 10  // --from is t0 - 10m
	fleetAfter    = 30  // --to is t0 + 30m
	rateWindow    = 5   // counters are read through rate(x[5m])
)

// Root-cause kinds.
var fleetKinds = []string{"memory-leak", "slow-upstream", "db-pool", "bad-deploy", "cpu-saturation", "queue-backlog"}

// FleetIncident is one generated incident as the analysis sees it: the
// candidates (counters already through rate()), the target (the
// frontend's p99) and the window, with the ground truth.
type FleetIncident struct {
	Kind       string
	Names      []string
	Candidates [][]float64
	Target     []float64
	Window     Window
	// T0 is where the root cause started, TargetLag how many steps later
	// the target rose.
	T0, TargetLag int
	// Root holds the root-cause series, Moved every series that moved
	// because of the incident (the root cause included).
	Root, Moved map[int]bool
}

// fleetService is one service of the graph.
type fleetService struct {
	name      string
	tier      int
	callers   []int   // services that call it; callers[0] is on the way to the frontend
	rate      float64 // requests per second at traffic 1
	p50, p99  float64 // milliseconds
	errRatio  float64
	instances []*fleetInstance
	db        bool
	cache     bool
	upstream  string // an external dependency, or ""
	consumer  bool   // consumes a queue
	// The incident's extra latency (ms), extra error ratio and which
	// series show it, per minute.
	excess, errExcess []float64
	lag               int // steps after t0 its latency rises
	affected          bool
}

// fleetInstance is one pod of a service, alive over [start, end).
type fleetInstance struct {
	name       string
	node       int
	start, end int
	share      float64 // of the service's traffic
	cpu        []float64
	leak       bool
}

// fleetGen holds the state of one generated incident.
type fleetGen struct {
	rng      *rand.Rand
	n        int
	traffic  []float64 // shared diurnal traffic, 1 on average
	services []*fleetService
	nodes    int
	names    []string
	series   [][]float64
	counter  []bool
	root     map[int]bool
	moved    map[int]bool
	kind     string
	t0, lagF int
	shape    []float64 // the root cause over time, see rootShape
	// Series the batch job loads.
	dbActive, consumerLag, nodeCPU []int
}

// NewFleetIncident generates the fleet incident of seed.
func NewFleetIncident(seed uint64) *FleetIncident {
	g := &fleetGen{rng: rand.New(rand.NewPCG(seed, 0xf1ee7)), n: fleetPoints, nodes: 20,
		root: map[int]bool{}, moved: map[int]bool{}}
	rng := g.rng
	g.t0 = fleetLookback + fleetBefore + 10 + rng.IntN(fleetPoints-fleetAfter-fleetLookback-fleetBefore-11)
	g.lagF = 2 + rng.IntN(3)
	g.traffic = g.dailyTraffic()
	g.buildGraph()
	g.kind = fleetKinds[rng.IntN(len(fleetKinds))]
	root := g.pickRoot()
	g.shape = g.rootShape()
	g.propagate(root, g.t0, g.lagF, 1+rng.Float64()*1.5, g.shape, true)
	g.earlierIncident(root)
	g.deploys(root)
	frontendP99 := g.emitServices(root)
	g.emitResources(root)
	g.emitNodes(root)
	g.batchJob()
	g.oneOffs()
	g.gaps()
	return g.incident(frontendP99)
}

// dailyTraffic is the fleet's traffic: a daily cycle (the 8 hours start
// at a random hour) with slow wander.
func (g *fleetGen) dailyTraffic() []float64 {
	start := g.rng.Float64() * 1440
	out := make([]float64, g.n)
	w := 0.0
	for i := range out {
		w = 0.98*w + 0.01*g.rng.NormFloat64()
		out[i] = (1 + 0.45*math.Sin(2*math.Pi*(start+float64(i))/1440)) * (1 + w)
	}
	return out
}

// buildGraph makes the frontend (0), the gateway (1) and three tiers of
// services below them, with their instances, resources and dependencies.
func (g *fleetGen) buildGraph() {
	rng := g.rng
	add := func(name string, tier, instances int) *fleetService {
		s := &fleetService{name: name, tier: tier, rate: 50 + 400*rng.Float64(),
			p99: 20 + 60*rng.Float64(), errRatio: 0.001 + 0.01*rng.Float64()}
		for i := range instances {
			s.instances = append(s.instances, &fleetInstance{name: fmt.Sprintf("%s-%d", name, i), node: rng.IntN(g.nodes), end: g.n})
		}
		s.p50 = s.p99 * (0.2 + 0.2*rng.Float64())
		g.services = append(g.services, s)
		return s
	}
	add("frontend", 0, 6)
	add("gateway", 1, 5).callers = []int{0}
	byTier := [][]int{{1}}
	names := []string{"users", "catalog", "cart", "checkout", "search", "recs", "pricing", "inventory", "orders",
		"payments", "shipping", "reviews", "media", "auth", "profile", "ledger", "fraud", "notify", "geo", "tax", "promo", "session"}
	for i, name := range names {
		tier := 2
		switch {
		case i >= 14:
			tier = 4
		case i >= 6:
			tier = 3
		}
		s := add(name, tier, 2+rng.IntN(3))
		for len(byTier) < tier {
			byTier = append(byTier, nil)
		}
		up := byTier[tier-2]
		s.callers = []int{up[rng.IntN(len(up))]}
		if tier > 2 && rng.IntN(3) == 0 {
			if c := up[rng.IntN(len(up))]; c != s.callers[0] {
				s.callers = append(s.callers, c)
			}
		}
		byTier[tier-1] = append(byTier[tier-1], len(g.services)-1)
		s.db = rng.IntN(3) == 0
		s.cache = rng.IntN(4) == 0
		if rng.IntN(5) == 0 {
			s.upstream = "ext-" + name
		}
		s.consumer = rng.IntN(6) == 0
	}
	// The latencies add up: a caller's p99 includes its callees'.
	for i := len(g.services) - 1; i > 0; i-- {
		s := g.services[i]
		for _, c := range s.callers {
			g.services[c].p99 += 0.5 * s.p99
			g.services[c].p50 += 0.3 * s.p50
		}
	}
	for _, s := range g.services {
		s.excess, s.errExcess = make([]float64, g.n), make([]float64, g.n)
		total := 0.0
		for _, in := range s.instances {
			in.share = 0.8 + 0.4*rng.Float64()
			total += in.share
		}
		for _, in := range s.instances {
			in.share /= total
		}
	}
}

// pickRoot picks the service where the incident starts, one that has
// what the incident's kind needs.
func (g *fleetGen) pickRoot() int {
	for {
		i := 2 + g.rng.IntN(len(g.services)-2)
		s := g.services[i]
		switch {
		case g.kind == "slow-upstream" && s.upstream == "":
		case g.kind == "db-pool" && !s.db:
		default:
			return i
		}
	}
}

// rootShape is the shape of the root cause over time from t0 (0 before
// it): a step for most kinds, a ramp for a leak or a backlog, riding on
// the incident's minute-to-minute intensity.
func (g *fleetGen) rootShape() []float64 {
	rng := g.rng
	out := make([]float64, g.n)
	e := 0.0
	rise := 1 + rng.IntN(3)
	for i := range out {
		e = 0.6*e + 0.25*rng.NormFloat64()
		d := float64(i - g.t0)
		if d < 0 {
			continue
		}
		v := 1.0
		switch g.kind {
		case "memory-leak", "queue-backlog":
			v = min(1, (d+1)/20)
		default:
			v = min(1, (d+1)/float64(rise))
		}
		out[i] = v * max(0.2, 1+e)
	}
	return out
}

// propagate spreads an incident from service root, whose latency rises
// at t0+lagRoot with the given shape, up the callers: along the way to
// the frontend every service rises a little later, until the frontend at
// t0+lagF; the other callers of an affected service rise less and do
// not pass it on. size is the frontend's extra latency in its p99s.
func (g *fleetGen) propagate(root, t0, lagF int, size float64, shape []float64, main bool) {
	rng := g.rng
	var path []int
	for s := root; ; s = g.services[s].callers[0] {
		path = append(path, s)
		if s == 0 {
			break
		}
	}
	// Lags along the path: from 1–2 steps at the root to lagF at the frontend.
	lags := make([]int, len(path))
	lags[0] = min(lagF, 1+rng.IntN(2))
	lags[len(lags)-1] = lagF
	for i := 1; i < len(lags)-1; i++ {
		lags[i] = min(lagF, lags[i-1]+rng.IntN(2))
	}
	weight := 1.0
	amp := size * g.services[0].p99
	for i := len(path) - 1; i >= 0; i-- {
		s := g.services[path[i]]
		w := weight
		addExcess(s.excess, shape, lags[i], amp*w)
		if main {
			s.affected, s.lag = true, lags[i]
		}
		weight *= 0.8 + 0.2*rng.Float64()
		if i == 0 || !main {
			continue
		}
		// Other callers of the next service down the path move less.
		for _, c := range g.services[path[i-1]].callers[1:] {
			cs := g.services[c]
			if cs.affected {
				continue
			}
			addExcess(cs.excess, shape, lags[i-1]+rng.IntN(2), amp*w*(0.3+0.3*rng.Float64()))
			cs.affected, cs.lag = true, lags[i-1]
		}
	}
	if main && (g.kind == "bad-deploy" || g.kind == "db-pool") {
		rs := g.services[root]
		addExcess(rs.errExcess, shape, 0, 0.05+0.1*rng.Float64())
	}
}

// addExcess adds shape, delayed by lag steps, times amp to dst.
func addExcess(dst, shape []float64, lag int, amp float64) {
	for i := range dst {
		if j := i - lag; j >= 0 {
			dst[i] += amp * shape[j]
		}
	}
}

// earlierIncident is a small incident one to three hours before t0, in
// another service, that faded after 10–30 minutes.
func (g *fleetGen) earlierIncident(root int) {
	rng := g.rng
	other := root
	for other == root {
		other = 2 + rng.IntN(len(g.services)-2)
	}
	at := g.t0 - 60 - rng.IntN(120)
	dur := 10 + rng.IntN(21)
	shape := make([]float64, g.n)
	for i := at; i < at+dur; i++ {
		shape[i] = 1 + 0.2*rng.NormFloat64()
	}
	g.propagate(other, at, 1+rng.IntN(4), 0.2+0.3*rng.Float64(), shape, false)
}

// deploys rolls one or two services (the root's excluded): each pod is
// replaced by a new one a few minutes after the previous, so series stop
// and start; in four incidents of ten one deploy runs inside the
// window.
func (g *fleetGen) deploys(root int) {
	rng := g.rng
	for k := range 1 + rng.IntN(2) {
		s := g.services[1+rng.IntN(len(g.services)-1)]
		if s == g.services[root] {
			continue
		}
		at := 60 + rng.IntN(g.t0-120)
		if k == 0 && rng.IntN(10) < 4 {
			at = g.t0 + 6 + rng.IntN(18)
		}
		g.rollout(s, at)
	}
	if g.kind == "bad-deploy" {
		// The bad version goes out at t0: the pods are replaced one by
		// one from t0 on, and the new ones fail.
		g.rollout(g.services[root], g.t0)
	}
}

// rollout replaces every pod of s, one every 1–3 minutes from at on.
func (g *fleetGen) rollout(s *fleetService, at int) {
	old := s.instances
	for i, in := range old {
		stop := min(g.n, at+i*(1+g.rng.IntN(3)))
		if stop <= in.start || stop >= g.n || in.end < g.n {
			continue
		}
		in.end = stop
		s.instances = append(s.instances, &fleetInstance{name: fmt.Sprintf("%s-r%d", in.name, stop), node: g.rng.IntN(g.nodes),
			start: stop, end: g.n, share: in.share})
	}
}

// add records a series and returns its index.
func (g *fleetGen) add(name string, v []float64, counter bool) int {
	g.names = append(g.names, name)
	g.series = append(g.series, v)
	g.counter = append(g.counter, counter)
	return len(g.series) - 1
}

// poisson draws a Poisson count of mean m.
func poisson(rng *rand.Rand, m float64) float64 {
	if m <= 0 {
		return 0
	}
	if m > 30 {
		return max(0, math.Round(m+math.Sqrt(m)*rng.NormFloat64()))
	}
	l, k, p := math.Exp(-m), 0.0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// TestFleetIncidentShape checks the generator's promises: about a
// thousand candidates, a root cause among the moved series, at least ten
// moved, and a target that rose after t0.
func TestFleetIncidentShape(t *testing.T) {
	kinds := map[string]int{}
	for seed := uint64(1); seed <= 30; seed++ {
		fi := NewFleetIncident(seed)
		kinds[fi.Kind]++
		if n := len(fi.Candidates); n < 800 || n > 1200 {
			t.Errorf("seed %d: %d candidates, want about 1,000", seed, n)
		}
		if len(fi.Root) == 0 || len(fi.Moved) < 10 {
			t.Errorf("seed %d (%s): %d root series, %d moved", seed, fi.Kind, len(fi.Root), len(fi.Moved))
		}
		for i := range fi.Root {
			if !fi.Moved[i] {
				t.Errorf("seed %d: root %s not among the moved", seed, fi.Names[i])
			}
		}
		before := medianOf(fi.Target[fi.T0-30 : fi.T0])
		after := medianOf(fi.Target[fi.T0+fi.TargetLag+5 : fi.Window.End])
		if after < 1.5*before {
			t.Errorf("seed %d (%s): target median %.0f before, %.0f after: did not rise", seed, fi.Kind, before, after)
		}
	}
	if len(kinds) != len(fleetKinds) {
		t.Errorf("kinds generated %v, want all of %v", kinds, fleetKinds)
	}
}

func medianOf(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return s[len(s)/2]
}
