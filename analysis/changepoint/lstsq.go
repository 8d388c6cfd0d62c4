package changepoint

import "gonum.org/v1/gonum/mat"

// lstsqResidual returns the residual sum of squares of the least-squares
// fit of y (m values) on the m x p row-major design x, as ruptures reads it
// from numpy.linalg.lstsq: zero when the design is rank deficient (singular
// values below eps*max(m,p) times the largest) or has m <= p rows.
func lstsqResidual(x []float64, y []float64, m, p int) float64 {
	if m <= p {
		return 0
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(m, p, x), mat.SVDThin) {
		return 0
	}
	sv := svd.Values(nil)
	cut := 2.220446049250313e-16 * float64(max(m, p)) * sv[0]
	for _, s := range sv {
		if s <= cut {
			return 0
		}
	}
	var u mat.Dense
	svd.UTo(&u)
	// residual = |y|^2 - |U^T y|^2 computed as |y - U U^T y|^2.
	proj := make([]float64, m)
	for q := 0; q < p; q++ {
		c := 0.0
		for i := 0; i < m; i++ {
			c += u.At(i, q) * y[i]
		}
		for i := 0; i < m; i++ {
			proj[i] += c * u.At(i, q)
		}
	}
	r := 0.0
	for i := 0; i < m; i++ {
		e := y[i] - proj[i]
		r += e * e
	}
	return r
}
