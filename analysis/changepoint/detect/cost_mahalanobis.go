package detect

import (
	"errors"
	"fmt"
)

// CostMahalanobis is the mean-shift cost under a Mahalanobis-type metric M:
// the sum over the segment of (x - mean)^T M (x - mean). With a nil Metric,
// M is the inverse covariance of the whole signal, as in ruptures.
type CostMahalanobis struct {
	// Metric is a d x d PSD matrix; nil selects the inverse covariance.
	Metric [][]float64

	d     int
	m     []float64
	s1, q []float64 // prefix sums of centred x and of x^T M x
	buf   []float64
}

// Name returns "mahalanobis".
func (c *CostMahalanobis) Name() string { return "mahalanobis" }

// MinSize returns 2.
func (c *CostMahalanobis) MinSize() int { return 2 }

// Fit computes the metric (if not given) and the prefix sums.
func (c *CostMahalanobis) Fit(s *Signal) error {
	n, d := s.n, s.d
	c.d = d
	if c.Metric != nil {
		if len(c.Metric) != d {
			return fmt.Errorf("mahalanobis cost: metric has %d rows, signal has %d dimensions", len(c.Metric), d)
		}
		c.m = make([]float64, 0, d*d)
		for i, r := range c.Metric {
			if len(r) != d {
				return fmt.Errorf("mahalanobis cost: metric row %d has %d values, want %d", i, len(r), d)
			}
			c.m = append(c.m, r...)
		}
	} else {
		if n < 2 {
			return errors.New("mahalanobis cost: need at least 2 samples to estimate the covariance")
		}
		inv, ok := invert(covariance(s.data, n, d, false), d)
		if !ok {
			return errors.New("mahalanobis cost: the signal's covariance matrix is singular (a constant or collinear dimension?)")
		}
		c.m = inv
	}
	mu := make([]float64, d)
	for j := range mu {
		mu[j] = columnMean(s.data, d, j, 0, n)
	}
	// One allocation: the prefix sums, then two vectors of d.
	all := make([]float64, (n+1)*d+(n+1)+2*d)
	c.s1, all = all[:(n+1)*d], all[(n+1)*d:]
	c.q, all = all[:n+1], all[n+1:]
	c.buf = all[:d]
	v := all[d:]
	q := 0.0 // c.q[i], kept in a register
	for i := 0; i < n; i++ {
		row, prev, cur := s.data[i*d:(i+1)*d], c.s1[i*d:(i+1)*d], c.s1[(i+1)*d:(i+2)*d]
		for j := range v {
			v[j] = row[j] - mu[j]
			cur[j] = prev[j] + v[j]
		}
		q = q + c.quad(v)
		c.q[i+1] = q
	}
	return nil
}

// quad returns v^T M v, summed row by row of M.
func (c *CostMahalanobis) quad(v []float64) float64 {
	d := len(v)
	m := c.m[:d*d]
	s := 0.0
	for a := range v {
		t := 0.0
		for b, mb := range m[a*d : (a+1)*d] {
			t += mb * v[b]
		}
		s += v[a] * t
	}
	return s
}

// Error returns the Mahalanobis scatter of [start, end).
func (c *CostMahalanobis) Error(start, end int) float64 {
	d := c.d
	a, b := c.s1[start*d:(start+1)*d], c.s1[end*d:(end+1)*d]
	for j := range c.buf {
		c.buf[j] = b[j] - a[j]
	}
	return (c.q[end] - c.q[start]) - c.quad(c.buf)/float64(end-start)
}
