package detect

import "fmt"

// CostAR is the least-squares cost of an autoregressive model of order
// Order (default 4) with intercept, fitted per segment on a 1-D signal. As
// in ruptures, the first Order samples are padded with the first lag.
type CostAR struct {
	// Order is the autoregressive order; 0 selects 4.
	Order int

	order int
	reg   regression
}

// Name returns "ar".
func (c *CostAR) Name() string { return "ar" }

func (c *CostAR) ord() int {
	if c.Order > 0 {
		return c.Order
	}
	return 4
}

// MinSize returns max(5, order+1).
func (c *CostAR) MinSize() int { return max(5, c.ord()+1) }

// Fit builds the lagged design matrix.
func (c *CostAR) Fit(s *Signal) error {
	if s.d != 1 {
		return fmt.Errorf("ar cost: the signal must be one-dimensional, it has %d dimensions", s.d)
	}
	o := c.ord()
	n := s.n
	if n <= o {
		return fmt.Errorf("ar cost: order %d needs more than %d samples, signal has %d", o, o, n)
	}
	c.order = o
	x := s.data
	p := o + 1
	covar := make([]float64, n*p)
	y := make([]float64, n)
	for t := 0; t < n; t++ {
		first := t - o
		if first < 0 {
			first = 0
		}
		for k := 0; k < o; k++ {
			covar[t*p+k] = x[first+k]
		}
		covar[t*p+o] = 1
		y[t] = x[t]
		if t < o {
			y[t] = x[o]
		}
	}
	c.reg.init(covar, y, n, p, c.distinctRows)
	return nil
}

// distinctRows counts the distinct design rows in [start, end): rows 0 to
// order are all the first lag vector.
func (c *CostAR) distinctRows(start, end int) int {
	dup := min(end, c.order+1) - start
	if dup > 1 {
		return end - start - dup + 1
	}
	return end - start
}

// Error returns the residual sum of squares of the AR fit on [start, end).
func (c *CostAR) Error(start, end int) float64 {
	return c.reg.residual(start, end)
}
