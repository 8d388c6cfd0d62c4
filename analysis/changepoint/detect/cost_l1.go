package detect

// CostL1 is the least absolute deviation cost: the sum over the segment of
// |x - median|, the median taken per dimension. With v the sorted values
// of a segment of length m, that sum is sum(v) - 2 sum(v[:m/2]) - v[m/2]
// (the last term for odd m), which order statistics of the signal
// (orderStats) give in O(d log n) per segment.
type CostL1 struct {
	stats []*orderStats // one per dimension
}

// Name returns "l1".
func (c *CostL1) Name() string { return "l1" }

// MinSize returns 2.
func (c *CostL1) MinSize() int { return 2 }

// Fit builds the order statistics of each dimension, centred on its mean
// (which leaves the cost unchanged and keeps the prefix sums small).
func (c *CostL1) Fit(s *Signal) error {
	c.stats = make([]*orderStats, s.d)
	for j := range c.stats {
		col := s.Column(j)
		mu := columnMean(s.data, s.d, j, 0, s.n)
		for i := range col {
			col[i] -= mu
		}
		c.stats[j] = newOrderStats(col)
	}
	return nil
}

// Error returns sum |x - median(x)| over [start, end).
func (c *CostL1) Error(start, end int) float64 {
	m := end - start
	cost := 0.0
	for _, st := range c.stats {
		med, below := st.kth(start, end, m/2)
		if m%2 == 0 {
			med = 0
		}
		cost += st.total(start, end) - 2*below - med
	}
	return cost
}
