package changepoint

import "fmt"

// CostAR is the least-squares cost of an autoregressive model of order
// Order (default 4) with intercept, fitted per segment on a 1-D signal. As
// in ruptures, the first Order samples are padded with the first lag.
type CostAR struct {
	// Order is the autoregressive order; 0 selects 4.
	Order int

	order int
	covar []float64 // n x (order+1)
	y     []float64
	x     []float64
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
	c.covar = make([]float64, n*p)
	c.y = make([]float64, n)
	for t := 0; t < n; t++ {
		first := t - o
		if first < 0 {
			first = 0
		}
		for k := 0; k < o; k++ {
			c.covar[t*p+k] = x[first+k]
		}
		c.covar[t*p+o] = 1
		c.y[t] = x[t]
		if t < o {
			c.y[t] = x[o]
		}
	}
	c.x = make([]float64, n*p)
	return nil
}

// Error returns the residual sum of squares of the AR fit on [start, end).
func (c *CostAR) Error(start, end int) float64 {
	p := c.order + 1
	m := end - start
	x := c.x[:m*p]
	copy(x, c.covar[start*p:end*p])
	return lstsqResidual(x, c.y[start:end], m, p)
}
