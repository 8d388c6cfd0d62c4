package rank

import (
	"fmt"
	"math"
)

// The shared resources of a fleet incident (DB pools, caches, external
// upstreams, queues, nodes), its decoys, and the analysis's view of it.

// emitResources writes the DB pools, caches, external upstreams and
// consumer groups of the services.
func (g *fleetGen) emitResources(root int) {
	rng := g.rng
	n := g.n
	for si, s := range g.services {
		lbl := func(metric string, extra ...string) string {
			l := fmt.Sprintf(`%s{service=%q`, metric, s.name)
			for i := 0; i+1 < len(extra); i += 2 {
				l += fmt.Sprintf(`,%s=%q`, extra[i], extra[i+1])
			}
			return l + "}"
		}
		isRoot := si == root
		if s.db {
			exhaust := isRoot && g.kind == "db-pool"
			size := 20.0
			qtime := 0.005 + 0.015*rng.Float64()
			active, pending, wait := make([]float64, n), make([]float64, n), make([]float64, n)
			for i := range n {
				lvl := 0.0
				if exhaust {
					lvl = g.rootLevel(i)
				}
				a := poisson(rng, s.rate*g.traffic[i]*qtime*(1+6*lvl))
				active[i] = min(size, a)
				pending[i] = poisson(rng, 0.05+max(0, a-size)+25*lvl)
				wait[i] = 2 * math.Exp(0.2*rng.NormFloat64()) * (1 + 20*lvl)
			}
			a := g.add(lbl("db_pool_active"), active, false)
			p := g.add(lbl("db_pool_pending"), pending, false)
			w := g.add(lbl("db_pool_wait_p99_ms"), wait, false)
			g.dbActive = append(g.dbActive, a)
			if exhaust {
				g.root[a], g.root[p], g.root[w] = true, true, true
				g.moved[a], g.moved[p], g.moved[w] = true, true, true
			}
		}
		if s.cache {
			h0 := 0.85 + 0.13*rng.Float64()
			hit, ev, size := make([]float64, n), make([]float64, n), make([]float64, n)
			w := 0.0
			for i := range n {
				w = 0.95*w + 0.05*rng.NormFloat64()
				hit[i] = min(1, h0+0.01*rng.NormFloat64())
				ev[i] = poisson(rng, 20*g.traffic[i])
				size[i] = 1e5 * (1 + 0.1*w)
			}
			g.add(lbl("cache_hit_ratio"), hit, false)
			g.add(lbl("cache_evictions_total"), counter(ev, 0, -1), true)
			g.add(lbl("cache_entries"), size, false)
		}
		if s.upstream != "" {
			slow := isRoot && g.kind == "slow-upstream"
			base := 30 + 170*rng.Float64()
			lat := g.latency(base, 0.15, 0, s.excess, true)
			reqs, errs := make([]float64, n), make([]float64, n)
			factor := 1 + 3*rng.Float64()
			for i := range n {
				if slow {
					lat[i] += base * factor * g.rootLevel(i)
				}
				reqs[i] = poisson(rng, 0.3*s.rate*g.traffic[i]*60)
				errs[i] = poisson(rng, 0.3*s.rate*g.traffic[i]*60*0.002)
			}
			l := g.add(lbl("upstream_latency_p99_ms", "upstream", s.upstream), lat, false)
			g.add(lbl("upstream_requests_total", "upstream", s.upstream), counter(reqs, 0, -1), true)
			g.add(lbl("upstream_errors_total", "upstream", s.upstream), counter(errs, 0, -1), true)
			if slow {
				g.root[l], g.moved[l] = true, true
			}
		}
		if s.consumer {
			consumed := make([]float64, n)
			for i := range n {
				consumed[i] = poisson(rng, 200*g.traffic[i])
			}
			g.add(lbl("consumer_records_total", "group", s.name), counter(consumed, 0, -1), true)
			for p := range 4 {
				lag := make([]float64, n)
				l := 0.0
				for i := range n {
					l = max(0, 0.8*l+poisson(rng, 4)-3)
					lag[i] = math.Round(l + 10)
				}
				g.consumerLag = append(g.consumerLag, g.add(lbl("consumer_lag", "group", s.name, "partition", fmt.Sprint(p)), lag, false))
			}
		}
	}
}

// emitNodes writes the nodes' series: CPU from the pods on them, memory,
// load and network and disk counters.
func (g *fleetGen) emitNodes(root int) {
	rng := g.rng
	n := g.n
	cores := 16.0
	for node := range g.nodes {
		cpu := make([]float64, n)
		rootHere := false
		for _, s := range g.services {
			for _, in := range s.instances {
				if in.node != node {
					continue
				}
				rootHere = rootHere || s == g.services[root] && g.kind == "cpu-saturation"
				for i := max(0, in.start); i < in.end; i++ {
					cpu[i] += in.cpu[i]
				}
			}
		}
		load, mem, net, disk := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		w := 0.0
		for i := range n {
			w = 0.99*w + 0.01*rng.NormFloat64()
			load[i] = max(0, cpu[i]*(1+0.2*rng.NormFloat64())+0.3*rng.Float64())
			cpu[i] = min(1, cpu[i]/cores+0.03+0.01*rng.NormFloat64())
			mem[i] = 32e9 * (0.5 + w)
			net[i] = poisson(rng, 1e4*g.traffic[i]) * 1000
			disk[i] = poisson(rng, 500)
		}
		lbl := func(metric string) string { return fmt.Sprintf(`%s{node="node-%02d"}`, metric, node) }
		c := g.add(lbl("node_cpu_utilisation"), cpu, false)
		g.nodeCPU = append(g.nodeCPU, c)
		l := g.add(lbl("node_load1"), load, false)
		if rootHere {
			// A saturated pod's node shows the same cause at the same time.
			g.root[c], g.root[l] = true, true
			g.moved[c], g.moved[l] = true, true
		}
		g.add(lbl("node_memory_used_bytes"), mem, false)
		g.add(lbl("node_network_receive_bytes_total"), counter(net, 0, -1), true)
		g.add(lbl("node_disk_io_total"), counter(disk, 0, -1), true)
	}
}

// batchJob is an hourly batch job of 8–15 minutes: it loads two nodes, a
// DB pool and a consumer group. In half the incidents a run ends 5–12
// minutes before t0.
func (g *fleetGen) batchJob() {
	rng := g.rng
	n := g.n
	length := 8 + rng.IntN(8)
	end := g.t0 - 5 - rng.IntN(8)
	if rng.IntN(2) == 0 {
		end = rng.IntN(60)
	}
	phase := ((end-length)%60 + 60) % 60
	running := func(i int) bool { return ((i-phase)%60+60)%60 < length }
	rows, on := make([]float64, n), make([]float64, n)
	for i := range n {
		if running(i) {
			rows[i], on[i] = poisson(rng, 5e4), 1
		}
	}
	g.add(`batch_rows_total{job="reconcile"}`, counter(rows, 0, -1), true)
	g.add(`batch_running{job="reconcile"}`, on, false)
	hit := []int{g.nodeCPU[rng.IntN(len(g.nodeCPU))], g.nodeCPU[rng.IntN(len(g.nodeCPU))]}
	if len(g.dbActive) > 0 {
		hit = append(hit, g.dbActive[rng.IntN(len(g.dbActive))])
	}
	for _, idx := range hit {
		v := g.series[idx]
		bump := 0.4
		if idx != hit[0] && idx != hit[1] {
			bump = float64(5 + rng.IntN(10))
		}
		for i := range n {
			if running(i) {
				v[i] += bump * (0.8 + 0.4*rng.Float64())
				if bump < 1 {
					v[i] = min(1, v[i])
				}
			}
		}
	}
	if len(g.consumerLag) > 0 {
		v := g.series[g.consumerLag[rng.IntN(len(g.consumerLag))]]
		backlog := 0.0
		for i := range n {
			if running(i) {
				backlog += 300
			}
			backlog *= 0.85
			v[i] += math.Round(backlog)
		}
	}
}

// oneOffs puts decoy steps and variance changes on series the incident
// did not move: 16 level steps of 20–60% (five inside the window, none
// within 2 minutes before t0 to 4 minutes after the target rose) and 8
// variance changes.
func (g *fleetGen) oneOffs() {
	rng := g.rng
	pick := func() []float64 {
		for {
			i := rng.IntN(len(g.series))
			if !g.moved[i] && !g.counter[i] {
				return g.series[i]
			}
		}
	}
	lo := g.t0 - fleetBefore
	for k := range 16 {
		at := lo - fleetLookback + rng.IntN(fleetLookback)
		if k < 5 {
			for at = lo + rng.IntN(fleetBefore+fleetAfter); at >= g.t0-2 && at <= g.t0+g.lagF+4; {
				at = lo + rng.IntN(fleetBefore+fleetAfter)
			}
		}
		f := 1 + (0.2+0.4*rng.Float64())*float64(1-2*rng.IntN(2))
		v := pick()
		for i := at; i < g.n; i++ {
			v[i] *= f
		}
	}
	for range 8 {
		at := lo - fleetLookback + rng.IntN(fleetLookback+fleetAfter)
		v := pick()
		sd := 0.1 * math.Abs(v[min(at, g.n-1)])
		for i := at; i < g.n; i++ {
			v[i] += sd * rng.NormFloat64()
		}
	}
}

// gaps drops 1–3 spans of 1–5 minutes from 3% of the series (failed
// scrapes).
func (g *fleetGen) gaps() {
	rng := g.rng
	for _, v := range g.series {
		if rng.IntN(33) != 0 {
			continue
		}
		for range 1 + rng.IntN(3) {
			at := rng.IntN(g.n - 5)
			for i := at; i < at+1+rng.IntN(5); i++ {
				v[i] = math.NaN()
			}
		}
	}
}

// incident cuts what the analysis reads: 6 h before --from = t0 - 10m up
// to --to = t0 + 30m, counters through rate(x[5m]), series without data
// there dropped.
func (g *fleetGen) incident(target []float64) *FleetIncident {
	from := g.t0 - fleetBefore - fleetLookback
	to := g.t0 + fleetAfter + 1
	fi := &FleetIncident{Kind: g.kind, Target: target[from:to], T0: fleetLookback + fleetBefore, TargetLag: g.lagF,
		Window: Window{Start: fleetLookback, End: to - from}, Root: map[int]bool{}, Moved: map[int]bool{}}
	for i, v := range g.series {
		if g.counter[i] {
			v = promRate(v, rateWindow)
		}
		v = v[from:to]
		if allMissing(v) {
			continue
		}
		j := len(fi.Candidates)
		fi.Candidates = append(fi.Candidates, v)
		fi.Names = append(fi.Names, g.names[i])
		if g.root[i] {
			fi.Root[j] = true
		}
		if g.moved[i] || g.root[i] {
			fi.Moved[j] = true
		}
	}
	return fi
}

func allMissing(v []float64) bool {
	for _, x := range v {
		if !math.IsNaN(x) {
			return false
		}
	}
	return true
}

// promRate is PromQL's rate(c[w]) at every step: the increase over the
// samples of the last w steps, counter resets included, per second (the
// step is a minute), without extrapolation; NaN with fewer than two
// samples.
func promRate(c []float64, w int) []float64 {
	out := make([]float64, len(c))
	for t := range c {
		first, last, inc := -1, -1, 0.0
		for i := max(0, t-w+1); i <= t; i++ {
			if math.IsNaN(c[i]) {
				continue
			}
			if last >= 0 {
				if d := c[i] - c[last]; d >= 0 {
					inc += d
				} else {
					inc += c[i] // a reset: the counter started again from 0
				}
			} else {
				first = i
			}
			last = i
		}
		out[t] = math.NaN()
		if first >= 0 && last > first {
			out[t] = inc / (float64(last-first) * 60)
		}
	}
	return out
}
