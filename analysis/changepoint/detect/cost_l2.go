package detect

// CostL2 is the least squared deviation cost: n times the summed per
// dimension variance of the segment. Segment costs are O(d) from prefix
// sums of the globally centred signal.
type CostL2 struct {
	d      int
	s1, s2 []float64 // (n+1) x d prefix sums of x and x^2 (centred)
}

// Name returns "l2".
func (c *CostL2) Name() string { return "l2" }

// MinSize returns 1.
func (c *CostL2) MinSize() int { return 1 }

// Fit computes the prefix sums.
func (c *CostL2) Fit(s *Signal) error {
	n, d := s.n, s.d
	c.d = d
	all := make([]float64, 2*(n+1)*d)
	c.s1, c.s2 = all[:(n+1)*d], all[(n+1)*d:]
	for j := 0; j < d; j++ {
		mu := columnMean(s.data, d, j, 0, n)
		s1, s2 := 0.0, 0.0 // c.s1[i*d+j] and c.s2[i*d+j], kept in registers
		for i := 0; i < n; i++ {
			v := s.data[i*d+j] - mu
			s1, s2 = s1+v, s2+v*v
			c.s1[(i+1)*d+j], c.s2[(i+1)*d+j] = s1, s2
		}
	}
	return nil
}

// Error returns the summed squared deviation from the mean on [start, end).
func (c *CostL2) Error(start, end int) float64 {
	d := c.d
	l := float64(end - start)
	v := 0.0
	for j := 0; j < d; j++ {
		a := c.s1[end*d+j] - c.s1[start*d+j]
		b := c.s2[end*d+j] - c.s2[start*d+j]
		v += b - a*a/l
	}
	return v
}
