package changepoint

import "fmt"

// CostLinear is the least-squares cost of a linear regression per segment:
// the first dimension is the response, the others are covariates (no
// intercept is added; include a constant column for one).
type CostLinear struct {
	s    *Signal
	x, y []float64
}

// Name returns "linear".
func (c *CostLinear) Name() string { return "linear" }

// MinSize returns 2.
func (c *CostLinear) MinSize() int { return 2 }

// Fit checks that the signal has covariates.
func (c *CostLinear) Fit(s *Signal) error {
	if s.d < 2 {
		return fmt.Errorf("linear cost: need a response and at least one covariate column, signal has %d dimension", s.d)
	}
	c.s = s
	c.x = make([]float64, s.n*(s.d-1))
	c.y = make([]float64, s.n)
	return nil
}

// Error returns the residual sum of squares of the regression on [start, end).
func (c *CostLinear) Error(start, end int) float64 {
	d, p := c.s.d, c.s.d-1
	m := end - start
	x, y := c.x[:m*p], c.y[:m]
	for i := 0; i < m; i++ {
		row := c.s.Row(start + i)
		y[i] = row[0]
		copy(x[i*p:(i+1)*p], row[1:d])
	}
	return lstsqResidual(x, y, m, p)
}
