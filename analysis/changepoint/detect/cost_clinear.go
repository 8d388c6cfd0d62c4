package detect

// CostCLinear is the continuous piecewise-linear cost: each segment is
// approximated by the line joining the sample before it to its last sample
// (ruptures' clinear).
type CostCLinear struct {
	s   *Signal
	dev []float64
}

// Name returns "clinear".
func (c *CostCLinear) Name() string { return "clinear" }

// MinSize returns 3.
func (c *CostCLinear) MinSize() int { return 3 }

// Fit keeps a reference to s.
func (c *CostCLinear) Fit(s *Signal) error {
	c.s = s
	c.dev = make([]float64, s.n*s.d)
	return nil
}

// Error returns the squared deviation from the joining line on [start, end).
func (c *CostCLinear) Error(start, end int) float64 {
	if start == 0 {
		start = 1
	}
	d := c.s.d
	l := end - start
	dev := c.dev[:l*d]
	for j := 0; j < d; j++ {
		x0 := c.s.At(start-1, j)
		slope := (c.s.At(end-1, j) - x0) / float64(l)
		for i := 0; i < l; i++ {
			e := c.s.At(start+i, j) - (slope*float64(i+1) + x0)
			dev[i*d+j] = e * e
		}
	}
	return pairwiseSum(dev)
}
