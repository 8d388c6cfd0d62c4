package rank

import (
	"fmt"
	"math"
)

// The series of a fleet incident: what every service, resource and node
// exports, minute by minute.

// latency is one summary quantile over time: base scaled by load, with
// lognormal noise of sigma and tail spikes (1 minute in 100, 1.5–4×),
// plus the incident's excess times share.
func (g *fleetGen) latency(base, sigma, share float64, excess []float64, spikes bool) []float64 {
	rng := g.rng
	out := make([]float64, g.n)
	for i := range out {
		v := base * (1 + 0.2*(g.traffic[i]-1)) * math.Exp(sigma*rng.NormFloat64())
		if spikes && rng.IntN(100) == 0 {
			v *= 1.5 + 2.5*rng.Float64()
		}
		out[i] = v + share*excess[i]
	}
	return out
}

// alive blanks v outside the instance's life.
func alive(in *fleetInstance, v []float64) []float64 {
	for i := range v {
		if i < in.start || i >= in.end {
			v[i] = math.NaN()
		}
	}
	return v
}

// counter accumulates per-minute counts into a counter that starts at
// the instance's start and resets when the process restarts.
func counter(counts []float64, start, restart int) []float64 {
	out := make([]float64, len(counts))
	c := 0.0
	for i, v := range counts {
		if i == restart {
			c = 0
		}
		if i >= start {
			c += v
		}
		out[i] = c
	}
	return out
}

// emitServices writes every service's series and returns the frontend's
// p99, the target.
func (g *fleetGen) emitServices(root int) []float64 {
	rng := g.rng
	var target []float64
	for si, s := range g.services {
		isRoot := si == root
		lbl := func(metric string) string { return fmt.Sprintf(`%s{service=%q}`, metric, s.name) }
		p99 := g.latency(s.p99, 0.12, 1, s.excess, true)
		if si == 0 {
			target = p99
		} else {
			g.mark(g.add(lbl("latency_p99_ms"), p99, false), s.affected)
		}
		g.mark(g.add(lbl("latency_p50_ms"), g.latency(s.p50, 0.05, 0.3, s.excess, false), false), s.affected)
		// The mesh's counters of the service (from its callers' side).
		reqs, errs := make([]float64, g.n), make([]float64, g.n)
		for i := range reqs {
			m := s.rate * g.traffic[i] * 60
			reqs[i] = poisson(rng, m)
			errs[i] = poisson(rng, m*(s.errRatio+s.errExcess[i]))
		}
		g.add(lbl("mesh_requests_total"), counter(reqs, 0, -1), true)
		e := g.add(lbl("mesh_errors_total"), counter(errs, 0, -1), true)
		hasErr := s.errExcess[len(s.errExcess)-1] > 0
		g.mark(e, hasErr)
		if isRoot && g.kind == "bad-deploy" {
			g.root[e] = true
		}
		for ii, in := range s.instances {
			in.leak = isRoot && g.kind == "memory-leak" && in.start == 0 && (ii == 0 || rng.IntN(2) == 0)
			g.emitInstance(s, in, isRoot)
		}
	}
	return target
}

// mark records that series i moved because of the incident.
func (g *fleetGen) mark(i int, moved bool) {
	if moved {
		g.moved[i] = true
	}
}

// emitInstance writes one pod's series.
func (g *fleetGen) emitInstance(s *fleetService, in *fleetInstance, isRoot bool) {
	rng := g.rng
	n := g.n
	lbl := func(metric string) string {
		return fmt.Sprintf(`%s{service=%q,instance=%q}`, metric, s.name, in.name)
	}
	restart := -1
	if in.start == 0 && rng.IntN(12) == 0 {
		restart = 30 + rng.IntN(n-60)
	}
	// Per-instance latency: the leaking pods carry most of a leak.
	share := 0.8 + 0.4*rng.Float64()
	if g.kind == "memory-leak" && isRoot {
		share = 0.3
		if in.leak {
			share = 1.5
		}
	}
	badPod := isRoot && g.kind == "bad-deploy" && in.start >= g.t0
	excess := s.excess
	if badPod {
		share = 2
	}
	p99 := alive(in, g.latency(s.p99*0.9, 0.15, share, excess, true))
	g.mark(g.add(lbl("instance_latency_p99_ms"), p99, false), s.affected)
	reqs, errs, threads, queue := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	in.cpu = make([]float64, n)
	cpuPerReq := 0.002 + 0.004*rng.Float64() // cores per request/s
	limit := 2.0 + float64(rng.IntN(3))
	pool := 50 + 50*float64(rng.IntN(3))
	backlog := isRoot && g.kind == "queue-backlog"
	saturate := isRoot && g.kind == "cpu-saturation"
	q := 0.0
	for i := range n {
		lam := s.rate * in.share * g.traffic[i]
		reqs[i] = poisson(rng, lam*60)
		er := s.errRatio
		if badPod {
			er += 2 * s.errExcess[i]
		}
		errs[i] = poisson(rng, lam*60*er)
		meanLat := (s.p50 + 0.5*share*excess[i]) / 1000
		threads[i] = min(pool, poisson(rng, lam*meanLat*1.3))
		q = 0.7*q + poisson(rng, 0.3)
		if backlog {
			q += 10 * g.rootLevel(i)
		}
		queue[i] = math.Round(q)
		c := cpuPerReq * lam * (1 + 0.08*rng.NormFloat64())
		if saturate {
			c += (limit - c) * 0.95 * min(1, g.rootLevel(i))
		}
		in.cpu[i] = min(limit, max(0.01, c))
	}
	g.add(lbl("requests_total"), alive(in, counter(reqs, in.start, restart)), true)
	g.mark(g.add(lbl("errors_total"), alive(in, counter(errs, in.start, restart)), true), badPod)
	g.mark(g.add(lbl("busy_threads"), alive(in, threads), false), s.affected)
	qi := g.add(lbl("queue_depth"), alive(in, queue), false)
	g.mark(qi, backlog)
	if backlog {
		g.root[qi] = true
	}
	ci := g.add(lbl("cpu_cores"), alive(in, append([]float64(nil), in.cpu...)), false)
	g.mark(ci, saturate)
	if saturate {
		g.root[ci] = true
	}
	mem, pause := g.memory(s, in, restart)
	mi := g.add(lbl("memory_bytes"), alive(in, mem), false)
	g.add(lbl("gc_pause_max_ms"), alive(in, pause), false)
	if in.leak {
		// The leak, and the longer collections it causes.
		g.root[mi], g.root[mi+1] = true, true
		g.moved[mi], g.moved[mi+1] = true, true
	}
}

// rootLevel is the root cause's level at i: 0 before t0, about 1 once
// it has set in, with the minute-to-minute ups and downs that its
// effects up the call graph follow.
func (g *fleetGen) rootLevel(i int) float64 { return g.shape[i] }

// memory is a pod's heap and its longest GC pause per minute: a
// sawtooth (allocation at the request rate, a collection down to the
// live set when the heap reaches its threshold) in two services of
// three, a slow wander in the others; a leak raises the live set from
// t0 on. A restart starts the heap afresh.
func (g *fleetGen) memory(s *fleetService, in *fleetInstance, restart int) (mem, pause []float64) {
	rng := g.rng
	n := g.n
	mem, pause = make([]float64, n), make([]float64, n)
	live := (200 + 800*rng.Float64()) * 1e6
	budget := live * (0.4 + 0.6*rng.Float64())     // garbage collected at
	alloc := budget / (5 + 25*rng.Float64())       // per minute at traffic 1
	leakRate := live * (0.02 + 0.02*rng.Float64()) // per minute
	sawtooth := len(s.name)%3 != 0
	garbage := rng.Float64() * budget
	w := 0.0
	basePause := 5 + 20*rng.Float64()
	for i := range n {
		l := live
		if in.leak && i >= g.t0 {
			l += leakRate * float64(i-g.t0+1)
		}
		if i == restart || i == in.start {
			garbage = 0
		}
		pause[i] = basePause * 0.2 * math.Exp(0.2*rng.NormFloat64())
		if sawtooth {
			garbage += alloc * g.traffic[i] * (1 + 0.1*rng.NormFloat64())
			if garbage >= budget {
				garbage = 0.02 * budget * rng.Float64()
				pause[i] = basePause * l / live * math.Exp(0.2*rng.NormFloat64())
			}
			mem[i] = l + garbage
		} else {
			w = 0.97*w + 0.02*rng.NormFloat64()
			mem[i] = l * (1.3 + w)
			if in.leak {
				pause[i] *= l / live
			}
		}
	}
	return mem, pause
}
