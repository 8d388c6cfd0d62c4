package detect

import "math"

// CostNormal detects changes in the mean and covariance of a Gaussian
// signal: the segment length times log det of the segment covariance, to
// which ruptures adds 1e-6 on the diagonal (set NoSmallDiag to remove it).
type CostNormal struct {
	// NoSmallDiag disables the 1e-6 diagonal regularisation.
	NoSmallDiag bool

	d      int
	s1, s2 []float64 // prefix sums of centred x (d) and x x^T (d*d)
	mat    []float64
}

// Name returns "normal".
func (c *CostNormal) Name() string { return "normal" }

// MinSize returns 2.
func (c *CostNormal) MinSize() int { return 2 }

// Fit computes prefix sums of the centred signal and its cross-products.
func (c *CostNormal) Fit(s *Signal) error {
	n, d := s.n, s.d
	c.d = d
	mu := make([]float64, d)
	for j := range mu {
		mu[j] = columnMean(s.data, d, j, 0, n)
	}
	c.s1 = make([]float64, (n+1)*d)
	c.s2 = make([]float64, (n+1)*d*d)
	c.mat = make([]float64, d*d)
	v := make([]float64, d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			v[j] = s.data[i*d+j] - mu[j]
			c.s1[(i+1)*d+j] = c.s1[i*d+j] + v[j]
		}
		base, prev := (i+1)*d*d, i*d*d
		for a := 0; a < d; a++ {
			for b := 0; b < d; b++ {
				c.s2[base+a*d+b] = c.s2[prev+a*d+b] + v[a]*v[b]
			}
		}
	}
	return nil
}

// Error returns (end-start) * log det(cov + 1e-6 I) on [start, end).
func (c *CostNormal) Error(start, end int) float64 {
	d := c.d
	l := float64(end - start)
	diag := 1e-6
	if c.NoSmallDiag {
		diag = 0
	}
	if d == 1 {
		a := c.s1[end] - c.s1[start]
		b := c.s2[end] - c.s2[start]
		v := (b - a*a/l) / l
		return math.Log(math.Abs(v+diag)) * l
	}
	f := 1 / (l - 1)
	m := c.mat
	for a := 0; a < d; a++ {
		sa := c.s1[end*d+a] - c.s1[start*d+a]
		for b := 0; b < d; b++ {
			sb := c.s1[end*d+b] - c.s1[start*d+b]
			sab := c.s2[end*d*d+a*d+b] - c.s2[start*d*d+a*d+b]
			m[a*d+b] = (sab - sa*sb/l) * f
		}
		m[a*d+a] += diag
	}
	return logAbsDet(m, d) * l
}
