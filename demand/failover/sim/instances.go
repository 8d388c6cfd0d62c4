package sim

import (
	"math"
	"time"
)

// Draw returns a uniform number in [0, 1) fixed by the seed and what it
// is drawn for: a key, a kind and a number.
func Draw(seed uint64, key string, kind byte, n int) float64 {
	h := uint64(14695981039346656037) ^ seed*0x9e3779b97f4a7c15
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	h ^= uint64(kind) << 56
	h ^= uint64(int64(n)) * 0xbf58476d1ce4e5b9
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9
	h = (h ^ (h >> 27)) * 0x94d049bb133111eb
	h ^= h >> 31
	return float64(h>>11) / (1 << 53)
}

const maxStartAttempts = 5

// readyAt returns when instance n of cluster name, launched at t, serves:
// provisioning plus start-up, again for each failed start.
func (w *World) readyAt(name string, c *Cluster, n int, t int64) int64 {
	p := w.Params
	for attempt := 0; attempt < maxStartAttempts; attempt++ {
		k := n*maxStartAttempts + attempt
		prov := p.ProvisionMin.D() + time.Duration(Draw(p.Seed, name, 'p', k)*float64(p.ProvisionMax-p.ProvisionMin))
		jit := 1 + p.StartupJitter*(2*Draw(p.Seed, name, 's', k)-1)
		up := min(time.Duration(float64(c.Startup)*float64(time.Millisecond)*jit), p.StartupMax.D())
		t += (prov + max(up, 0)).Milliseconds()
		if attempt == maxStartAttempts-1 || Draw(p.Seed, name, 'f', k) >= p.LaunchFailureRate {
			return t
		}
	}
	return t
}

// ungateDelay is how long admitted batch n of a cluster takes to serve.
func (w *World) ungateDelay(name string, n int) int64 {
	p := w.Params
	return (p.UngateMin.D() + time.Duration(Draw(p.Seed, name, 'u', n)*float64(p.UngateMax-p.UngateMin))).Milliseconds()
}

// warm is the share of full capacity a cold instance ready at r serves at
// t in a region whose load grew from g on.
func (w *World) warm(r, g, t int64) float64 {
	p := w.Params
	start := max(r, g)
	if t <= start {
		return p.ColdCapacity
	}
	wu := p.Warmup.D().Milliseconds()
	if wu <= 0 {
		return 1
	}
	return p.ColdCapacity + (1-p.ColdCapacity)*math.Min(1, float64(t-start)/float64(wu))
}

// state is a cluster's instances at one time.
type state struct {
	inService, pending, dark, darkPending int
	// warmEquivalent counts serving instances weighted by warmth.
	warmEquivalent float64
}

func (w *World) stateAt(name string, c *Cluster, t int64) state {
	s := state{inService: c.Base, warmEquivalent: float64(c.Base)}
	for _, b := range c.Admitted {
		if b.At <= t {
			s.inService += b.N
			s.warmEquivalent += float64(b.N)
		} else {
			s.pending += b.N
		}
	}
	grow, ok := w.Grow[c.Region]
	if !ok {
		grow = math.MaxInt64
	}
	for _, b := range c.Launched {
		for i := 0; i < b.N; i++ {
			r := w.readyAt(name, c, b.First+i, b.At)
			if r <= t {
				s.inService++
				s.warmEquivalent += w.warm(r, grow, t)
			} else {
				s.pending++
			}
		}
	}
	for _, b := range c.Dark {
		for i := 0; i < b.N; i++ {
			if w.darkReady(name, c, b, i) <= t {
				s.dark++
			} else {
				s.darkPending++
			}
		}
	}
	return s
}

// darkReady is when instance i of dark batch b is started.
func (w *World) darkReady(name string, c *Cluster, b Batch, i int) int64 {
	if b.First < 0 {
		return b.At
	}
	return w.readyAt(name, c, b.First+i, b.At)
}

// total counts a cluster's instances of every kind.
func (c *Cluster) total() int {
	n := c.Base
	for _, bs := range [][]Batch{c.Admitted, c.Launched, c.Dark} {
		for _, b := range bs {
			n += b.N
		}
	}
	return n
}

func count(bs []Batch) int {
	n := 0
	for _, b := range bs {
		n += b.N
	}
	return n
}

// take removes n instances from the end of bs and returns what is left
// and the removed batches (latest first).
func take(bs []Batch, n int) (rest, removed []Batch) {
	rest = append([]Batch(nil), bs...)
	for n > 0 && len(rest) > 0 {
		last := &rest[len(rest)-1]
		k := min(n, last.N)
		removed = append(removed, Batch{At: last.At, N: k, First: last.First + last.N - k})
		if last.First < 0 {
			removed[len(removed)-1].First = -1
		}
		last.N -= k
		n -= k
		if last.N == 0 {
			rest = rest[:len(rest)-1]
		}
	}
	return rest, removed
}
