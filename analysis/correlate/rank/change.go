package rank

import (
	"fmt"
	"math"
	"slices"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
)

// changes computes the change statistic of a series over the focus
// window: at every index t, the mean of the width values from t on
// minus the mean of the width values before t (the discrepancy of the
// window method of change-point detection, in the series' units; fewer
// values after t near the end of the data). It is standardised by its
// own robust spread over the baseline, so that seasonality, drift and
// autocorrelated noise, which move it at every time, do not pass for a
// change.
type changes struct {
	prefix []float64
	tmp    []float64
}

// FlatZ is the robust z of a change from a baseline that did not vary at
// all (zero spread): finite, so that it scores and encodes as JSON, and
// larger than any real z. It is not a number of spreads, so people are
// shown VariationText instead.
const FlatZ = 1e6

// VariationText says how large a change's robust z is in words: "4.2
// times its usual variation", or, for a change from a flat baseline (see
// FlatZ), that the baseline did not vary at all.
func VariationText(z float64) string {
	if math.Abs(z) >= FlatZ {
		return "from a baseline that did not vary at all"
	}
	return fmt.Sprintf("%.1f times its usual variation", math.Abs(z))
}

// ZText is a robust z as a table shows it: "4.2", or "flat baseline".
func ZText(z float64) string {
	if math.Abs(z) >= FlatZ {
		return "flat baseline"
	}
	return fmt.Sprintf("%.1f", z)
}

// changeResult is the largest standardised change near the onset.
type changeResult struct {
	at int     // absolute index
	z  float64 // robust z, signed
	d  float64 // the discrepancy itself (the size of the change)
}

// scan computes the statistic of x (the whole series) over [from, to)
// with windows of width, and over [longFrom, to) with windows of
// trendWidths·width values, and returns the largest |z| for t in [lo,
// hi] of either. Baseline positions are those whose windows end before
// base. The long windows are for slow
// changes: a ramp (a leak on a GC sawtooth, a backlog) moves the means
// of short windows by little against what a sawtooth or a wander moves
// them by, and the means of long ones by more, while the sawtooth
// averages out over them. (Three widths at once, 6/12/24, found no more
// related signals in the package's own scenarios: the largest of
// several z's is larger for noise too.)
func (c *changes) scan(x []float64, from, longFrom, to, width, lo, hi, base int) changeResult {
	long := trendWidths * width
	start := max(0, min(from, longFrom)-long)
	// No window reaches past the last position's.
	to = min(to, max(hi, base)+long)
	c.prefix = slices.Grow(c.prefix[:0], to-start+1)[:to-start+1]
	c.prefix[0] = 0
	acc, p := 0.0, c.prefix[1:]
	for i, v := range x[start:to] {
		acc += v
		p[i] = acc
	}
	best := c.scanWidth(len(x), start, from, to, width, lo, hi, base, 1)
	// The long windows' longer history is sampled as sparsely as it is
	// longer, for as many positions.
	sparse := max(1, (base-longFrom)/max(1, base-from))
	if l := c.scanWidth(len(x), start, longFrom, to, long, lo, hi, base, sparse); math.Abs(l.z) > math.Abs(best.z) {
		best = l
	}
	return best
}

// trendWidths is how many widths the long windows of scan are.
const trendWidths = 3

// scanWidth is scan with windows of one width, over the prefix sums of
// the n values of x from start on, with its baseline positions sparse
// times as far apart as usual.
func (c *changes) scanWidth(n, start, from, to, width, lo, hi, base, sparse int) changeResult {
	sum := func(a, b int) float64 { return c.prefix[b-start] - c.prefix[a-start] }
	at := func(t int) float64 {
		wl, wr := min(width, t-start), min(width, to-t, n-t)
		if wl < 1 || wr < 1 {
			return math.NaN()
		}
		return sum(t, t+wr)/float64(wr) - sum(t-wl, t)/float64(wl)
	}
	// The baseline: positions whose windows end before base, every
	// stride-th (neighbours share most of their windows).
	stride := max(2, width/4) * sparse
	c.tmp = c.tmp[:0]
	for t := max(from, start+width); t+width <= base; t += stride {
		c.tmp = append(c.tmp, at(t))
	}
	if len(c.tmp) < 8 { // too short a baseline: every position far from the onset
		c.tmp = c.tmp[:0]
		for t := from; t < to; t += stride {
			if v := at(t); (t < lo || t > hi) && !math.IsNaN(v) {
				c.tmp = append(c.tmp, v)
			}
		}
	}
	med := detect.Median(c.tmp)
	meanAD := 0.0
	for i, v := range c.tmp {
		c.tmp[i] = math.Abs(v - med)
		meanAD += c.tmp[i]
	}
	// The MAD, or the mean absolute deviation when it is larger: a
	// series that is mostly still (a queue that is usually empty) has a
	// MAD of 0, but its occasional moves are its usual variation, not
	// a flat baseline's.
	scale := 1.4826 * detect.Median(c.tmp)
	if len(c.tmp) > 0 {
		scale = max(scale, 1.2533*meanAD/float64(len(c.tmp)))
	}
	best := changeResult{at: -1}
	for t := max(lo, from); t <= min(hi, to-1); t++ {
		v := at(t)
		if math.IsNaN(v) {
			continue
		}
		wl, wr := min(width, t-start), min(width, to-t, n-t)
		// A shorter window is noisier: widen the scale accordingly.
		s := scale * math.Sqrt((1/float64(wl)+1/float64(wr))*float64(width)/2)
		z := 0.0
		switch {
		case s > 0:
			z = (v - med) / s
		case v != med:
			z = math.Copysign(FlatZ, v-med)
		}
		if best.at < 0 || math.Abs(z) > math.Abs(best.z) {
			best = changeResult{at: t, z: z, d: v - med}
		}
	}
	return best
}

// linearFit returns the least-squares line a + b·(i) through y (i from
// 0), for detrending by the baseline.
func linearFit(y []float64) (a, b float64) {
	n := float64(len(y))
	if n < 2 {
		if n == 1 {
			return y[0], 0
		}
		return 0, 0
	}
	mi := (n - 1) / 2
	my, sxy, sxx := 0.0, 0.0, 0.0
	for _, v := range y {
		my += v
	}
	my /= n
	for i, v := range y {
		d := float64(i) - mi
		sxy += d * (v - my)
		sxx += d * d
	}
	b = sxy / sxx
	return my - b*mi, b
}
