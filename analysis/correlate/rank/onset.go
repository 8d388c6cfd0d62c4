package rank

import (
	"math"
	"slices"
)

// knee fits "a constant, then a line" to a series: the index c where the
// values stop being level and start to move, by a step, a ramp or both.
// It keeps its buffers between calls.
type knee struct {
	pr, prr, pir []float64 // prefix sums of r, r² and i·r
}

// fit returns the c in [lo, hi] (indices into y, lo ≥ 1, hi < len(y))
// that minimises the squared error of a constant over y[:c] and a line
// over y[c:], y first detrended by the line a + b·i and smoothed by a
// running median of three.
func (k *knee) fit(y []float64, a, b float64, lo, hi int) int {
	m := len(y)
	k.pr = slices.Grow(k.pr[:0], m+1)[:m+1]
	k.prr = slices.Grow(k.prr[:0], m+1)[:m+1]
	k.pir = slices.Grow(k.pir[:0], m+1)[:m+1]
	pr, prr, pir := k.pr, k.prr, k.pir
	pr[0], prr[0], pir[0] = 0, 0, 0
	// The median of every three values: a lone spike (a p99's tail)
	// must not pass for the start of a change.
	at := func(i int) float64 { return y[min(max(i, 0), m-1)] - a - b*float64(min(max(i, 0), m-1)) }
	for i := range m {
		r := median3(at(i-1), at(i), at(i+1))
		pr[i+1], prr[i+1], pir[i+1] = pr[i]+r, prr[i]+r*r, pir[i]+float64(i)*r
	}
	sumI := func(k int) float64 { return float64(k*(k-1)) / 2 }          // Σ i over [0, k)
	sumII := func(k int) float64 { return float64((k-1)*k*(2*k-1)) / 6 } // Σ i² over [0, k)
	best, bestSSE := lo, 0.0
	for c := lo; c <= hi; c++ {
		nb, na := float64(c), float64(m-c)
		sse := prr[c] - pr[c]*pr[c]/nb // a constant before c
		sy, syy, sxy := pr[m]-pr[c], prr[m]-prr[c], pir[m]-pir[c]
		si, sii := sumI(m)-sumI(c), sumII(m)-sumII(c)
		vxx := sii - si*si/na
		vxy := sxy - si*sy/na
		sse += syy - sy*sy/na // a line after it
		if vxx > 0 {
			sse -= vxy * vxy / vxx
		}
		if c == lo || sse < bestSSE {
			best, bestSSE = c, sse
		}
	}
	return best
}

// onset returns the index in [lo, hi] where y[from:end], detrended by
// the line of y[from:lo] (the baseline's trend), started to move: the
// knee of a constant then a line. It finds the start of a step (the line
// after it is flat) and the foot of a ramp alike, anywhere in the window
// rather than at the time the window was said to start: an alert fires,
// and a window is drawn, minutes after the start of what it is about.
func onset(y []float64, from, lo, hi, end int) int {
	a, b := linearFit(y[from:lo])
	var k knee
	return from + k.fit(y[from:end], a, b, lo-from, hi-from)
}

func median3(a, b, c float64) float64 {
	return max(min(a, b), min(max(a, b), c))
}

// departure returns the first index c in [lo, hi] (indices into y) from
// which y stays beyond k robust spreads of its baseline y[:lo] in the
// direction dir (+1 up, -1 down) for persist values, or -1. The
// baseline's centre is its median and its spread the MAD (or the mean
// absolute deviation when larger). Where a change first shows, rather
// than where it is largest: a change smoothed by a rate() window or
// growing as a ramp is visible in its first minutes when it is large.
func (k *knee) departure(y []float64, lo, hi int, dir float64) int {
	const (
		spreads = 4.0
		persist = 3
	)
	base := append(k.pr[:0], y[:lo]...)
	k.pr = base
	med := median(base)
	meanAD := 0.0
	for i, v := range base {
		base[i] = math.Abs(v - med)
		meanAD += base[i]
	}
	scale := max(1.4826*median(base), 1.2533*meanAD/float64(len(base)))
	if scale == 0 {
		return -1
	}
	run := 0
	for i := lo; i < len(y); i++ {
		if dir*(y[i]-med) > spreads*scale {
			run++
			if run == persist {
				if c := i - persist + 1; c <= hi {
					return c
				}
				return -1
			}
			continue
		}
		if i-run > hi {
			return -1
		}
		run = 0
	}
	return -1
}

// median sorts x and returns its median.
func median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	slices.Sort(x)
	if n := len(x); n%2 == 1 {
		return x[n/2]
	}
	return (x[len(x)/2-1] + x[len(x)/2]) / 2
}
