package changepoint

import (
	"context"
	"math"
)

// CostCosine is the kernel mean-shift cost with the cosine similarity
// kernel. Like ruptures, whose Gram matrix comes from squareform, the
// diagonal of the Gram matrix is zero. A zero sample has similarity 0 with
// every other sample.
type CostCosine struct {
	// Direct disables the Gram prefix sums (see CostRBF.Direct).
	Direct bool

	s     *Signal
	norms []float64
	sums  kernelSums
}

// Name returns "cosine".
func (c *CostCosine) Name() string { return "cosine" }

// MinSize returns 1.
func (c *CostCosine) MinSize() int { return 1 }

// Fit computes the sample norms and prepares the Gram sums.
func (c *CostCosine) Fit(s *Signal) error {
	c.s = s
	c.norms = make([]float64, s.n)
	for i := range c.norms {
		r := s.Row(i)
		c.norms[i] = math.Sqrt(dot(r, r))
	}
	c.sums.init(s.n, 0, c.kernel, c.Direct)
	return nil
}

func (c *CostCosine) kernel(i, j int) float64 {
	den := c.norms[i] * c.norms[j]
	if den == 0 {
		return 0
	}
	cos := dot(c.s.Row(i), c.s.Row(j)) / den
	if math.Abs(cos) > 1 {
		cos = math.Copysign(1, cos)
	}
	return 1 - (1 - cos)
}

// watch makes on-the-fly kernel sums stop once ctx is done.
func (c *CostCosine) watch(ctx context.Context) { c.sums.ctx = ctx }

// Error returns the kernel cost on [start, end).
func (c *CostCosine) Error(start, end int) float64 { return c.sums.cost(start, end) }

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
