package detect

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// CostRank is the rank-based cost of Lung-Yut-Fong et al.: each dimension
// is replaced by its (tie-averaged) ranks, centred, and a segment costs
// -len * mean^T pinv(Sigma) mean, Sigma the rank covariance.
type CostRank struct {
	d   int
	inv []float64
	s1  []float64 // prefix sums of centred ranks
	buf []float64
}

// Name returns "rank".
func (c *CostRank) Name() string { return "rank" }

// MinSize returns 2.
func (c *CostRank) MinSize() int { return 2 }

// Fit ranks the signal and inverts the rank covariance.
func (c *CostRank) Fit(s *Signal) error {
	n, d := s.n, s.d
	c.d = d
	ranks := make([]float64, n*d)
	half := float64(n+1) / 2
	col, r := make([]float64, 2*n), make([]int32, 2*n)
	col, r2 := col[:n], col[n:]
	for j := 0; j < d; j++ {
		for i := range col {
			col[i] = s.data[i*d+j]
		}
		averageRanksInto(r2, col, r[:n], r[n:])
		for i, v := range r2 {
			ranks[i*d+j] = v - half
		}
	}
	inv, err := pinv(covariance(ranks, n, d, true), d)
	if err != nil {
		return fmt.Errorf("rank cost: %w", err)
	}
	c.inv = inv
	c.s1 = make([]float64, (n+1)*d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			c.s1[(i+1)*d+j] = c.s1[i*d+j] + ranks[i*d+j]
		}
	}
	c.buf = make([]float64, d)
	return nil
}

// Error returns -len * mean^T pinv(Sigma) mean on [start, end).
func (c *CostRank) Error(start, end int) float64 {
	d := c.d
	l := float64(end - start)
	for j := 0; j < d; j++ {
		c.buf[j] = -l * ((c.s1[end*d+j] - c.s1[start*d+j]) / l)
	}
	v := 0.0
	for b := 0; b < d; b++ {
		t := 0.0
		for a := 0; a < d; a++ {
			t += c.buf[a] * c.inv[a*d+b]
		}
		v += t * ((c.s1[end*d+b] - c.s1[start*d+b]) / l)
	}
	return v
}

// averageRanksInto sets r to the 1-based ranks of x, ties sharing their
// mean rank; idx and tmp are scratch space of len(x).
func averageRanksInto(r, x []float64, idx, tmp []int32) {
	n := len(x)
	sortOrder(x, idx, tmp)
	for i := 0; i < n; {
		j := i
		for j+1 < n && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
}

// pinv returns the Moore-Penrose pseudo-inverse of the k x k matrix a, with
// NumPy's cut-off of 1e-15 times the largest singular value.
func pinv(a []float64, k int) ([]float64, error) {
	if k == 1 {
		if a[0] == 0 {
			return []float64{0}, nil
		}
		return []float64{1 / a[0]}, nil
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(k, k, append([]float64(nil), a...)), mat.SVDThin) {
		return nil, errors.New("the pseudo-inverse of the covariance did not converge")
	}
	sv := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	cut := 1e-15 * sv[0]
	out := make([]float64, k*k)
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			s := 0.0
			for q, sq := range sv {
				if sq > cut {
					s += v.At(i, q) / sq * u.At(j, q)
				}
			}
			out[i*k+j] = s
		}
	}
	return out, nil
}
