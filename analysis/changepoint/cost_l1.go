package changepoint

import "math"

// CostL1 is the least absolute deviation cost: the sum over the segment of
// |x - median|, the median taken per dimension.
type CostL1 struct {
	s       *Signal
	scratch []float64
	dev     []float64
}

// Name returns "l1".
func (c *CostL1) Name() string { return "l1" }

// MinSize returns 2.
func (c *CostL1) MinSize() int { return 2 }

// Fit keeps a reference to s.
func (c *CostL1) Fit(s *Signal) error {
	c.s = s
	c.scratch = make([]float64, s.n)
	c.dev = make([]float64, s.n*s.d)
	return nil
}

// Error returns sum |x - median(x)| over [start, end).
func (c *CostL1) Error(start, end int) float64 {
	d, data := c.s.d, c.s.data
	l := end - start
	dev := c.dev[:l*d]
	for j := 0; j < d; j++ {
		col := c.scratch[:l]
		for i := range col {
			col[i] = data[(start+i)*d+j]
		}
		med := medianOf(col)
		for i := 0; i < l; i++ {
			dev[i*d+j] = math.Abs(data[(start+i)*d+j] - med)
		}
	}
	return pairwiseSum(dev)
}
