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
	// For exactError (see refinedCost): the samples, SciPy's row norms
	// (the square root of the dot product) and a row of the Gram block.
	x, norms, row []float64
	bound         float64
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
	c.x, c.norms, c.row = s.data, make([]float64, n), make([]float64, n)
	for i := 0; i < n; i++ {
		r := s.Row(i)
		norm := math.Sqrt(dot(r, r))
		c.norms[i] = norm
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
	c.bound = cosineErrorBound(n, d)
	return nil
}

// Error returns the kernel cost on [start, end): the Gram trace (zero)
// minus the Gram sum over the segment length, from the prefix sums of the
// unit samples in O(d); within errorBound of exactError.
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

// exactError returns ruptures' CostCosine.error on [start, end), rounded
// as NumPy and SciPy round it: the Gram entries 1 - (1 - cos) with SciPy's
// cosine (the dot product over the product of the row norms, clipped to
// [-1, 1]), each row of the block summed pairwise, the rows in order, and
// 0 - sum/len. O(len^2 d).
func (c *CostCosine) exactError(start, end int) float64 {
	d, x := c.d, c.x
	l := end - start
	sum := 0.0
	row := c.row[:l]
	for i := start; i < end; i++ {
		for j := start; j < end; j++ {
			if i == j {
				row[j-start] = 0
				continue
			}
			lo, hi := min(i, j), max(i, j)
			den := c.norms[lo] * c.norms[hi]
			if den == 0 {
				row[j-start] = 0 // a zero sample (SciPy: NaN)
				continue
			}
			cos := dot(x[lo*d:(lo+1)*d], x[hi*d:(hi+1)*d]) / den
			if math.Abs(cos) > 1 {
				cos = math.Copysign(1, cos)
			}
			row[j-start] = 1 - (1 - cos)
		}
		sum += pairwiseSum(row)
	}
	return 0 - sum/float64(l)
}

// errorBound bounds |Error - exactError| after Fit.
func (c *CostCosine) errorBound() float64 { return c.bound }

// cosineErrorBound bounds |Error - exactError| on n samples of d
// dimensions. The prefix sums of the unit samples err by at most about
// n (n+d+3) eps, so the segment's |sum u|^2 - sum |u|^2 by 6 (d+1) l n
// (n+d+3) eps; each of SciPy's Gram entries by (3d+10) eps and their sum
// by l^2 (l+3d+12) eps. Divided by the length l <= n, 8 (d+1) (n+3d+12)^2
// eps covers both: about 5e-9 at n = 1,000, d = 2.
func cosineErrorBound(n, d int) float64 {
	m := float64(n + 3*d + 12)
	return 8 * float64(d+1) * m * m * epsilon
}
