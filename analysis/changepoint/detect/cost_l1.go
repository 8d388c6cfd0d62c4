package detect

import "math"

// CostL1 is the least absolute deviation cost: the sum over the segment of
// |x - median|, the median taken per dimension.
//
// Error rounds exactly as ruptures' NumPy code does (np.median per column,
// the mean of the two middle values for an even length, then the
// pairwise sum of |x - median| over the segment's rows in memory order):
// the l1 cost is piecewise linear, so exact ties between segmentations are
// common and only identical rounding breaks them the same way. The median
// comes from order statistics in O(d log n), the sum takes O(len * d).
//
// Searches that evaluate many long segments (Pelt) first use an estimate
// in O(d log n): with v the sorted values of a segment of length m, the
// cost is sum(v) - 2 sum(v[:m/2]) - v[m/2] (the last term for odd m), from
// prefix sums; they compute Error only where the estimate's error bound
// could change a decision (see boundedCost).
type CostL1 struct {
	stats []*orderStats // one per dimension: ranks of x, sums of x - mean
	x     []float64     // the signal, row-major
	d     int
	bound float64   // |approxError - Error| <= bound
	med   []float64 // one segment's medians
	dev   []float64 // one segment's |x - median|, row-major
}

// Name returns "l1".
func (c *CostL1) Name() string { return "l1" }

// MinSize returns 2.
func (c *CostL1) MinSize() int { return 2 }

// Fit builds the order statistics of each dimension; the sums are of the
// values centred on the dimension's mean (which leaves the estimate
// unchanged and keeps the prefix sums small).
func (c *CostL1) Fit(s *Signal) error {
	c.stats = make([]*orderStats, s.d)
	c.x, c.d = s.data, s.d
	c.med = make([]float64, s.d)
	c.dev = c.dev[:0]
	maxAbs, maxDev := 0.0, 0.0
	levels := 0
	for j := range c.stats {
		keys := s.Column(j)
		mu := columnMean(s.data, s.d, j, 0, s.n)
		vals := make([]float64, len(keys))
		for i, v := range keys {
			vals[i] = v - mu
			maxAbs = math.Max(maxAbs, math.Abs(v))
			maxDev = math.Max(maxDev, math.Abs(vals[i]))
		}
		c.stats[j] = newOrderStatsKeyed(keys, vals)
		levels = c.stats[j].levels
	}
	c.bound = l1ErrorBound(s.n, s.d, levels, maxAbs, maxDev)
	return nil
}

// l1ErrorBound bounds |approxError - Error| on a signal of n samples and d
// dimensions: each prefix sum of the estimate carries at most n*eps*n*maxDev
// of rounding and the estimate combines at most levels+3 of them per
// dimension; the exact sum errs by at most (log2(n d)+2)*eps*n*d*(maxAbs +
// maxDev) from the real value, the median's rounding included. The result
// is doubled twice for safety; it is about 1e-7 at n = 2,000 on values of
// order 10, far below the gaps between the costs a search compares, so the
// exact sum is rarely needed.
func l1ErrorBound(n, d, levels int, maxAbs, maxDev float64) float64 {
	const eps = 0x1p-52
	fn, fd := float64(n), float64(d)
	est := fd * float64(levels+3) * fn * eps * fn * maxDev
	exact := (math.Log2(fn*fd) + 2) * eps * fn * fd * (maxAbs + maxDev)
	return 4 * (est + exact)
}

// Error returns sum |x - median(x)| over [start, end), rounded as
// ruptures' CostL1.error rounds it.
func (c *CostL1) Error(start, end int) float64 {
	m, d := end-start, c.d
	for j, st := range c.stats {
		if m%2 == 1 {
			c.med[j] = st.kthKey(start, end, m/2)
			continue
		}
		// np.median: mean of the two middle values, (a + b) / 2.
		c.med[j] = (st.kthKey(start, end, m/2-1) + st.kthKey(start, end, m/2)) / 2
	}
	if cap(c.dev) < m*d {
		c.dev = make([]float64, m*d, max(m*d, 2*cap(c.dev)))
	}
	dev := c.dev[:m*d]
	seg := c.x[start*d : end*d]
	if d == 1 {
		med := c.med[0]
		for i, v := range seg {
			dev[i] = math.Abs(v - med)
		}
	} else {
		for i := 0; i < m; i++ {
			for j, v := range seg[i*d : (i+1)*d] {
				dev[i*d+j] = math.Abs(v - c.med[j])
			}
		}
	}
	return numpySum(dev)
}

// approxError estimates Error in O(d log n), within errorBound of it.
func (c *CostL1) approxError(start, end int) float64 {
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

// errorBound bounds |approxError - Error| after Fit.
func (c *CostL1) errorBound() float64 { return c.bound }
