package detect

import "math"

// CostL2 is the least squared deviation cost: n times the summed per
// dimension variance of the segment. Error rounds as ruptures' NumPy code
// does (a two-pass variance, O(d (end-start))); the searches that can
// decide on an estimate use approxError, O(d) from prefix sums of the
// globally centred signal, and Error only where the estimate's bound
// leaves a decision open (see boundedCost).
type CostL2 struct {
	d       int
	s1, s2  []float64 // (n+1) x d prefix sums of x and x^2 (centred)
	x       []float64
	scratch []float64
	bound   float64 // |approxError - Error| <= bound
}

// Name returns "l2".
func (c *CostL2) Name() string { return "l2" }

// MinSize returns 1.
func (c *CostL2) MinSize() int { return 1 }

// Fit computes the prefix sums.
func (c *CostL2) Fit(s *Signal) error {
	n, d := s.n, s.d
	c.d = d
	c.x = s.data
	c.scratch = make([]float64, n)
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
	c.bound = l2ErrorBound(s)
	return nil
}

// Error returns the summed squared deviation from the mean on [start,
// end), rounded as ruptures' CostL2.error rounds it.
func (c *CostL2) Error(start, end int) float64 { return c.exactError(start, end) }

// approxError estimates Error in O(d) from the prefix sums, within
// errorBound of it.
func (c *CostL2) approxError(start, end int) float64 {
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

// exactError returns ruptures' CostL2.error rounded as NumPy rounds it:
// signal[start:end].var(axis=0).sum() * (end - start).
func (c *CostL2) exactError(start, end int) float64 {
	d, x := c.d, c.x
	l := end - start
	fl := float64(l)
	var vars [8]float64
	vs := vars[:0]
	if d > len(vars) {
		vs = make([]float64, 0, d)
	}
	for j := 0; j < d; j++ {
		mean := columnMean(x, d, j, start, end)
		var ss float64
		if d == 1 {
			dev := c.scratch[:l]
			for i := range dev {
				e := x[start+i] - mean
				dev[i] = e * e
			}
			ss = pairwiseSum(dev)
		} else {
			for i := start; i < end; i++ {
				e := x[i*d+j] - mean
				ss += e * e
			}
		}
		vs = append(vs, ss/fl)
	}
	return pairwiseSum(vs) * fl
}

// l2ErrorBound bounds |approxError - Error| on s. Per dimension, with A
// the largest |x| and V the largest |x - mu| (mu the centring mean): the
// prefix sums' estimate is within about 8 n^2 eps V^2 of the real cost of
// the centred values, which is within 8 n eps V^2 of the real cost of x
// (the centring's rounding); NumPy's two-pass variance is within about
// 6 n^2 eps A^2 of it (the mean's error, the deviations' and the sums'
// rounding). The sum over dimensions and the final product add relative
// errors of (d+2) eps. 16 (n+d+2)^2 eps (A^2 + V^2), summed over the
// dimensions, covers all of it with room to spare: about 1e-5 at n =
// 2,000 on values of order 10.
func l2ErrorBound(s *Signal) float64 {
	n, d := s.n, s.d
	sum := 0.0
	for j := 0; j < d; j++ {
		mu := columnMean(s.data, d, j, 0, n)
		a, v := 0.0, 0.0
		for i := 0; i < n; i++ {
			x := s.data[i*d+j]
			a, v = max(a, math.Abs(x)), max(v, math.Abs(x-mu))
		}
		sum += a*a + v*v
	}
	m := float64(n + d + 2)
	return 16 * m * m * epsilon * sum
}

// errorBound bounds |approxError - Error| after Fit.
func (c *CostL2) errorBound() float64 { return c.bound }
