package detect

import (
	"context"
	"fmt"
	"math"
)

// CostRBF is the kernel mean-shift cost with the Gaussian (rbf) kernel
// exp(-gamma ||x-y||^2), the exponent clipped to [0.01, 100] as in
// ruptures. A zero Gamma is set at Fit by ruptures' median heuristic,
// 1/median of the pairwise squared distances.
type CostRBF struct {
	// Gamma is the kernel bandwidth; 0 selects the median heuristic.
	Gamma float64
	// Direct disables the table of Gram sums (each segment cost is then
	// computed from the kernel in O(len^2)); set it for methods that only
	// look at short segments.
	Direct bool

	s     *Signal
	gamma float64
	sums  gramSums
	ctx   context.Context
	band  int // the next Fit's longest segment, 0 for any (see limitSegments)
}

// Name returns "rbf".
func (c *CostRBF) Name() string { return "rbf" }

// MinSize returns 1.
func (c *CostRBF) MinSize() int { return 1 }

// FittedGamma returns the bandwidth in use after Fit.
func (c *CostRBF) FittedGamma() float64 { return c.gamma }

// watch makes the kernel sums stop once ctx is done.
func (c *CostRBF) watch(ctx context.Context) { c.ctx = ctx }

// limitSegments tells the next Fit that the search asks for no segment
// longer than n samples, so that only their sums are tabled.
func (c *CostRBF) limitSegments(n int) { c.band = n }

// Fit chooses gamma if needed and prepares the Gram sums.
func (c *CostRBF) Fit(s *Signal) error {
	c.s = s
	c.gamma = c.Gamma
	if c.gamma == 0 {
		g, err := MedianHeuristicGamma(s)
		if err != nil {
			return fmt.Errorf("rbf cost: %w", err)
		}
		c.gamma = g
	}
	c.sums.init(c.ctx, s.n, c.column, c.Direct, c.band)
	c.band = 0
	return nil
}

// The kernel's values where its exponent is clipped.
var (
	rbfNear = math.Exp(-1e-2)
	rbfFar  = math.Exp(-1e2)
)

// rbf returns exp(-k) with k clipped to [0.01, 100], without calling exp
// where it is clipped (the same values).
func rbf(k float64) float64 {
	switch {
	case k >= 1e2:
		return rbfFar
	case k <= 1e-2:
		return rbfNear
	}
	return math.Exp(-k)
}

// column fills out[i] = K(lo+i, t) for lo+i in [lo, t].
func (c *CostRBF) column(t, lo int, out []float64) {
	d, x, g := c.s.d, c.s.data, c.gamma
	out = out[:t-lo+1]
	if d == 1 {
		xt := x[t]
		for i, xs := range x[lo : t+1] {
			e := xs - xt
			out[i] = rbf(e * e * g)
		}
		return
	}
	xt := x[t*d : (t+1)*d]
	for i := range out {
		out[i] = rbf(sqDist(x[(lo+i)*d:(lo+i+1)*d], xt) * g)
	}
}

// Error returns the kernel cost on [start, end): the Gram trace (the
// length) minus the Gram sum over the length.
func (c *CostRBF) Error(start, end int) float64 {
	l := float64(end - start)
	return l - (l+2*c.sums.offDiag(start, end))/l
}

// sqDist is the squared Euclidean distance, summed in dimension order.
func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}
