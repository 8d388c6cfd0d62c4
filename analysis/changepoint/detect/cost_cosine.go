package detect

import "math"

// CostCosine is the kernel mean-shift cost with the cosine similarity
// kernel. Like ruptures, whose Gram matrix comes from squareform, the
// diagonal of the Gram matrix is zero; a zero sample has similarity 0 with
// every other sample.
//
// The cosine kernel is the linear kernel of the samples scaled to unit
// length u_i, so the Gram sum of a segment is |sum u_i|^2 - sum |u_i|^2 (the
// diagonal left out): segment costs are O(d) from prefix sums, and no
// n x n matrix is built whatever the method.
type CostCosine struct {
	d      int
	pu, pq []float64 // prefix sums of u ((n+1) x d) and of |u|^2 (n+1)
}

// Name returns "cosine".
func (c *CostCosine) Name() string { return "cosine" }

// MinSize returns 1.
func (c *CostCosine) MinSize() int { return 1 }

// Fit computes the prefix sums of the unit samples.
func (c *CostCosine) Fit(s *Signal) error {
	n, d := s.n, s.d
	c.d = d
	all := make([]float64, (n+1)*d+n+1)
	c.pu, c.pq = all[:(n+1)*d], all[(n+1)*d:]
	pq := 0.0 // c.pq[i], kept in a register
	for i := 0; i < n; i++ {
		r := s.Row(i)
		norm := math.Sqrt(dot(r, r))
		prev, cur := c.pu[i*d:(i+1)*d], c.pu[(i+1)*d:(i+2)*d]
		q := 0.0
		for j, v := range r {
			u := 0.0
			if norm != 0 {
				u = v / norm
			}
			cur[j] = prev[j] + u
			q += u * u
		}
		pq = pq + q
		c.pq[i+1] = pq
	}
	return nil
}

// Error returns the kernel cost on [start, end): the Gram trace (zero)
// minus the Gram sum over the segment length.
func (c *CostCosine) Error(start, end int) float64 {
	d := c.d
	sum := -(c.pq[end] - c.pq[start])
	for j := 0; j < d; j++ {
		v := c.pu[end*d+j] - c.pu[start*d+j]
		sum += v * v
	}
	return -sum / float64(end-start)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
