package changepoint

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
	// Direct disables the Gram prefix sums (each segment cost is then
	// computed from the kernel in O(len^2)); set it for methods that only
	// look at short segments, such as Window.
	Direct bool

	s     *Signal
	gamma float64
	sums  kernelSums
}

// Name returns "rbf".
func (c *CostRBF) Name() string { return "rbf" }

// MinSize returns 1.
func (c *CostRBF) MinSize() int { return 1 }

// FittedGamma returns the bandwidth in use after Fit.
func (c *CostRBF) FittedGamma() float64 { return c.gamma }

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
	c.sums.init(s.n, 1, c.kernel, c.Direct)
	return nil
}

func (c *CostRBF) kernel(i, j int) float64 {
	k := sqDist(c.s.Row(i), c.s.Row(j)) * c.gamma
	return math.Exp(-min(max(k, 1e-2), 1e2))
}

// watch makes on-the-fly kernel sums stop once ctx is done.
func (c *CostRBF) watch(ctx context.Context) { c.sums.ctx = ctx }

// Error returns the kernel cost on [start, end).
func (c *CostRBF) Error(start, end int) float64 { return c.sums.cost(start, end) }

// sqDist is the squared Euclidean distance, summed in dimension order.
func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}
