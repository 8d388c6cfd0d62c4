package detect

import "fmt"

// CostLinear is the least-squares cost of a linear regression per segment:
// the first dimension is the response, the others are covariates (no
// intercept is added; include a constant column for one). Segment costs
// are O(d^3) from prefix sums of the normal equations.
type CostLinear struct {
	reg regression
}

// Name returns "linear".
func (c *CostLinear) Name() string { return "linear" }

// MinSize returns 2.
func (c *CostLinear) MinSize() int { return 2 }

// Fit checks that the signal has covariates and builds the prefix sums.
func (c *CostLinear) Fit(s *Signal) error {
	if s.d < 2 {
		return fmt.Errorf("linear cost: need a response and at least one covariate column, signal has %d dimension", s.d)
	}
	p := s.d - 1
	x := make([]float64, s.n*p)
	y := make([]float64, s.n)
	for i := 0; i < s.n; i++ {
		row := s.Row(i)
		y[i] = row[0]
		copy(x[i*p:(i+1)*p], row[1:])
	}
	c.reg.init(x, y, s.n, p, nil)
	return nil
}

// Error returns the residual sum of squares of the regression on [start, end).
func (c *CostLinear) Error(start, end int) float64 { return c.reg.residual(start, end) }
