package changepoint

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
	c.s1 = make([]float64, (n+1)*d)
	c.q = make([]float64, n+1)
	c.buf = make([]float64, d)
	v := make([]float64, d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			v[j] = s.data[i*d+j] - mu[j]
			c.s1[(i+1)*d+j] = c.s1[i*d+j] + v[j]
		}
		c.q[i+1] = c.q[i] + c.quad(v)
	}
	return nil
}

func (c *CostMahalanobis) quad(v []float64) float64 {
	d := c.d
	s := 0.0
	for a := 0; a < d; a++ {
		t := 0.0
		for b := 0; b < d; b++ {
			t += c.m[a*d+b] * v[b]
		}
		s += v[a] * t
	}
	return s
}

// Error returns the Mahalanobis scatter of [start, end).
func (c *CostMahalanobis) Error(start, end int) float64 {
	d := c.d
	for j := 0; j < d; j++ {
		c.buf[j] = c.s1[end*d+j] - c.s1[start*d+j]
	}
	return (c.q[end] - c.q[start]) - c.quad(c.buf)/float64(end-start)
}
