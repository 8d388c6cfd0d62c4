package detect

import "math"

// logAbsDet returns log|det(a)| of the k x k row-major matrix a (which it
// overwrites) by LU factorisation with partial pivoting, as LAPACK's getrf
// followed by NumPy's slogdet. It returns -Inf for a singular matrix.
func logAbsDet(a []float64, k int) float64 {
	for col := 0; col < k; col++ {
		p := col
		for r := col + 1; r < k; r++ {
			if math.Abs(a[r*k+col]) > math.Abs(a[p*k+col]) {
				p = r
			}
		}
		if p != col {
			for j := 0; j < k; j++ {
				a[p*k+j], a[col*k+j] = a[col*k+j], a[p*k+j]
			}
		}
		piv := a[col*k+col]
		if piv == 0 {
			return math.Inf(-1)
		}
		for r := col + 1; r < k; r++ {
			f := a[r*k+col] / piv
			for j := col + 1; j < k; j++ {
				a[r*k+j] -= f * a[col*k+j]
			}
		}
	}
	acc := 0.0
	for i := 0; i < k; i++ {
		acc += math.Log(math.Abs(a[i*k+i]))
	}
	return acc
}

// invert returns the inverse of the k x k row-major matrix a by Gauss-Jordan
// elimination with partial pivoting, or false if a is singular.
func invert(a []float64, k int) ([]float64, bool) {
	m := append([]float64(nil), a...)
	inv := make([]float64, k*k)
	for i := 0; i < k; i++ {
		inv[i*k+i] = 1
	}
	for col := 0; col < k; col++ {
		p := col
		for r := col + 1; r < k; r++ {
			if math.Abs(m[r*k+col]) > math.Abs(m[p*k+col]) {
				p = r
			}
		}
		if m[p*k+col] == 0 {
			return nil, false
		}
		for j := 0; j < k; j++ {
			m[p*k+j], m[col*k+j] = m[col*k+j], m[p*k+j]
			inv[p*k+j], inv[col*k+j] = inv[col*k+j], inv[p*k+j]
		}
		piv := m[col*k+col]
		for j := 0; j < k; j++ {
			m[col*k+j] /= piv
			inv[col*k+j] /= piv
		}
		for r := 0; r < k; r++ {
			if r == col {
				continue
			}
			f := m[r*k+col]
			if f == 0 {
				continue
			}
			for j := 0; j < k; j++ {
				m[r*k+j] -= f * m[col*k+j]
				inv[r*k+j] -= f * inv[col*k+j]
			}
		}
	}
	return inv, true
}

// covariance returns the d x d sample covariance of rows [0, n) of the
// row-major data (ddof=1 unless bias, which divides by n), as np.cov.
func covariance(data []float64, n, d int, bias bool) []float64 {
	mu := make([]float64, d)
	for j := 0; j < d; j++ {
		mu[j] = columnMean(data, d, j, 0, n)
	}
	c := make([]float64, d*d)
	if d == 1 {
		// The same sums, kept in a register.
		s, m := 0.0, mu[0]
		for _, x := range data[:n] {
			va := x - m
			s += va * (x - m)
		}
		c[0] = s
	} else {
		for i := 0; i < n; i++ {
			row := data[i*d : (i+1)*d]
			for a := 0; a < d; a++ {
				va := row[a] - mu[a]
				ca := c[a*d : (a+1)*d]
				for b := a; b < d; b++ {
					ca[b] += va * (row[b] - mu[b])
				}
			}
		}
	}
	den := float64(n - 1)
	if bias {
		den = float64(n)
	}
	f := 1 / den
	for a := 0; a < d; a++ {
		for b := a; b < d; b++ {
			c[a*d+b] *= f
			c[b*d+a] = c[a*d+b]
		}
	}
	return c
}
